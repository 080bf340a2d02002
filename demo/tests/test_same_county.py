"""``make demo`` builds the same county every time: a small county built by the demo's own commands has the
fingerprint recorded in ``data/small_county.json`` (``demo/fingerprint.py``: every row without its id, the money
sums, the counts by state).

A deliberate change to the county (a generator, the history, a bulk path's rule) changes the fingerprint: record
it again with ``DEMO_FINGERPRINT_WRITE=1`` and say in the commit what moved and why.
"""

import datetime as dt
import io
import json
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from demo.fingerprint import differences, fingerprint

TODAY = dt.date(2025, 6, 18)
GOLDEN = Path(__file__).with_name("data") / "small_county.json"
TABLES = (
    "accounts.Branch",
    "accounts.User",
    "accounts.User_groups",
    "taxpayers.Taxpayer",
    "taxpayers.VatReturn",
    "taxpayers.ComplianceRecord",
    "credit.CreditRating",
    "refund.RefundApplication",
    "refund.ApplicationTransition",
    "refund.ApplicationRiskHit",
    "refund.CoachingRecord",
    "ledger.TreasuryPayment",
    "ledger.LedgerEntry",
    "ledger.LedgerRun",
)


@pytest.mark.django_db
def test_the_demo_commands_build_the_recorded_county():
    call_command("seed_demo", "--taxpayers=120", f"--today={TODAY}", stdout=io.StringIO())
    call_command("demo_history", f"--today={TODAY}", stdout=io.StringIO())
    # demo_history bounds the history by that midnight; later timestamps are the seeding's own.
    found = fingerprint(seeded_after=dt.datetime.combine(TODAY, dt.time(0), ZoneInfo("Asia/Shanghai")), labels=TABLES)
    if os.environ.get("DEMO_FINGERPRINT_WRITE"):
        GOLDEN.write_text(json.dumps(found, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert found["refund.RefundApplication"]["count"] > 20 and found["taxpayers.VatReturn"]["count"] > 5000
    assert differences(json.loads(GOLDEN.read_text(encoding="utf-8")), found) == []

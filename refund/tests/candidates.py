"""Factory data for the candidate-list tests: taxpayers the real screening finds eligible (or not), and runs.

Application period 2026-03: its push dates are 2026-03-17 (the day after the 16 March deadline) and 2026-03-31.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from credit.tests.factories import TaxpayerFactory
from refund.models import ScreeningRun
from refund.screening.services import screening_run_execute
from taxpayers.models import VatReturn

PERIOD = "2026-03"
FIRST_PUSH = dt.date(2026, 3, 17)
MONTH_END_PUSH = dt.date(2026, 3, 31)
WINDOW = ["2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02"]


def eligible_taxpayer(branch, *, step: int = 1_000_000, with_february: bool = True, **fields):
    """Rated A, credits rising for six months to 2026-02 above the 2019-03 base: eligible for 2026-03."""
    fields.setdefault("credit_level", "A")
    fields.setdefault("industry_code", "E4710")
    fields.setdefault("size", "small")
    taxpayer = TaxpayerFactory(branch=branch, **fields)
    VatReturn.objects.create(taxpayer=taxpayer, period="2019-03", end_credit=Decimal("100000"))
    VatReturn.objects.create(taxpayer=taxpayer, period="2025-01", input_special_invoice=Decimal("500000"))
    for i, month in enumerate(WINDOW):
        if month == "2026-02" and not with_february:
            continue
        VatReturn.objects.create(
            taxpayer=taxpayer,
            period=month,
            end_credit=Decimal(step) * (i + 1),
            input_special_invoice=Decimal("300000"),
        )
    return taxpayer


def ineligible_taxpayer(branch, **fields):
    """Same history, rated C: the screening fails ``credit_a_or_b``."""
    return eligible_taxpayer(branch, credit_level="C", **fields)


def screened(*, period: str = PERIOD, day: dt.date = FIRST_PUSH) -> ScreeningRun:
    """A real screening run of every general taxpayer, executed now."""
    run = ScreeningRun.objects.create(application_period=period, application_date=day)
    done = screening_run_execute(run_id=run.pk)
    assert done is not None and done.status == ScreeningRun.Status.SUCCEEDED, done and done.message
    return done

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.test import override_settings

from notify.signals import audit_requested
from notify.simulator import MasSimulator

GOLDEN = json.loads((Path(__file__).parent / "data" / "golden.json").read_text(encoding="utf-8"))
CREDENTIALS = {"ec_name": "某某市税务局", "ap_id": "swj_notice", "secret_key": "Test#2024", "sign": "AbCdEfG12"}


def simulator_settings(simulator: MasSimulator) -> dict:
    """The settings that point the 云MAS backend at ``simulator`` with the test account (as settings or, turned to
    text, as a worker's environment)."""
    return {
        "SMS_BACKEND": "mas",
        "MAS_BASE_URL": simulator.base_url,
        "MAS_EC_NAME": CREDENTIALS["ec_name"],
        "MAS_AP_ID": CREDENTIALS["ap_id"],
        "MAS_SECRET_KEY": CREDENTIALS["secret_key"],
        "MAS_SIGN": CREDENTIALS["sign"],
    }


@pytest.fixture
def simulator():
    with MasSimulator(**CREDENTIALS) as sim:
        yield sim


@pytest.fixture
def mas_settings(simulator):
    with override_settings(
        **simulator_settings(simulator),
        MAS_ADD_SERIAL="",
        MAS_TIMEOUT_SECONDS=2,
        SMS_QUIET_HOURS="",
    ):
        yield simulator


class AuditEvents(list):
    """The audit events notify asked for, in order; each carries the signal's arguments as attributes."""

    def only(self, verb: str) -> SimpleNamespace:
        """The one event of ``verb`` (fails on none or more)."""
        found = [event for event in self if event.verb == verb]
        assert len(found) == 1, found
        return found[0]


@pytest.fixture
def audit_events():
    """The audit events notify asks for, as it sends them (``notify.signals.audit_requested``): notify's side of the
    audit log. Writing them is the receiver's business, tested with accounts (accounts/tests/test_audit.py)."""
    events = AuditEvents()

    def receive(sender, signal, **fields):
        events.append(SimpleNamespace(**{"object_type": "", "object_id": "", "summary": "", **fields}))

    audit_requested.connect(receive, weak=False, dispatch_uid="notify.tests.audit_events")
    yield events
    audit_requested.disconnect(dispatch_uid="notify.tests.audit_events")

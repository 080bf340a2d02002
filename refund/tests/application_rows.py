"""Refund applications for the page tests, made with the ORM (the services are tested on their own)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from credit.tests.factories import TaxpayerFactory
from refund.models import RefundApplication
from taxpayers.calendar import add_working_days

TODAY = dt.date(2026, 3, 20)
_numbers = itertools.count(1)


def application(taxpayer=None, *, branch=None, **fields) -> RefundApplication:
    """One application in ``state`` (default: received); approved/paid ones get what the constraints require."""
    if taxpayer is None:
        taxpayer = TaxpayerFactory(branch=branch)
    received_on = fields.pop("received_on", dt.date(2026, 3, 2))
    state = fields.get("state", RefundApplication.State.RECEIVED)
    fields.setdefault("application_period", "2026-03")
    fields.setdefault("kind", RefundApplication.Kind.INCREMENTAL)
    fields.setdefault("claimed_amount", Decimal("100000.00"))
    fields.setdefault("computed_amount", fields["claimed_amount"])
    fields.setdefault("document_number", f"SQ2026{next(_numbers):06d}")
    if state in ("approved", "paid"):
        from django.utils import timezone

        fields.setdefault("confirmed_amount", fields["claimed_amount"])
        fields.setdefault("approved_at", timezone.now())
    if state == "paid":
        fields.setdefault("paid_on", received_on + dt.timedelta(days=10))
        fields.setdefault("paid_amount", fields["claimed_amount"])
    return RefundApplication.objects.create(
        taxpayer=taxpayer,
        branch=taxpayer.branch,
        received_on=received_on,
        due_on=fields.pop("due_on", add_working_days(received_on, 10)),
        **fields,
    )

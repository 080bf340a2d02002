"""Figures over refund applications and the ledger that dashboards and reports quote."""

from __future__ import annotations

import statistics
from decimal import Decimal

from refund.models import RefundApplication
from taxpayers.calendar import working_days_between


def median_working_days_to_payment(applications=None) -> Decimal | None:
    """Median working days from receipt (受理) to treasury payment (退库) over the paid applications.

    ``applications`` is a ``RefundApplication`` queryset (already scoped by the caller; all applications
    when omitted). Working days follow ``taxpayers.calendar`` (Chinese holidays and make-up workdays): an
    application received on a Friday and paid the next Monday took one working day. None when nothing
    was paid. The result may end in .5 (the mean of the two middle values).
    """
    queryset = RefundApplication.objects.all() if applications is None else applications
    pairs = queryset.filter(state=RefundApplication.State.PAID, paid_on__isnull=False).values_list(
        "received_on", "paid_on"
    )
    days = [working_days_between(received, paid, estimate=True) for received, paid in pairs]
    if not days:
        return None
    return Decimal(statistics.median(days)).quantize(Decimal("0.1"))


def format_working_days(value: Decimal | None) -> str:
    """``4`` for 4.0, ``4.5`` for 4.5, ``—`` for None."""
    if value is None:
        return "—"
    return str(value.to_integral_value()) if value == value.to_integral_value() else str(value)

"""The median working days from receipt to payment (the dashboards' 办理时长), on known dates."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from credit.tests.factories import TaxpayerFactory
from ledger.statistics import format_working_days, median_working_days_to_payment
from refund.models import RefundApplication
from taxpayers.calendar import add_working_days
from taxpayers.tests.factories import BranchFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
State = RefundApplication.State


def _paid(taxpayer, period: str, received: dt.date, paid: dt.date | None) -> RefundApplication:
    values = {"state": State.RECEIVED}
    if paid is not None:
        values = {
            "state": State.PAID,
            "approved_at": dt.datetime.combine(paid, dt.time(9), SHANGHAI),
            "confirmed_amount": Decimal("10.00"),
            "paid_on": paid,
            "paid_amount": Decimal("10.00"),
        }
    return RefundApplication.objects.create(
        taxpayer=taxpayer,
        branch=taxpayer.branch,
        application_period=period,
        kind=RefundApplication.Kind.INCREMENTAL,
        received_on=received,
        due_on=add_working_days(received, 10),
        claimed_amount=Decimal("10.00"),
        **values,
    )


@pytest.mark.django_db
def test_median_working_days_to_payment_counts_working_days_only():
    branch = BranchFactory()
    taxpayers = [TaxpayerFactory(branch=branch) for _ in range(5)]
    # Friday 2024-09-27 → Tuesday 2024-10-08: National Day week off, Sunday 09-29 a make-up workday → 3
    # (09-29, 09-30, 10-08).
    _paid(taxpayers[0], "2024-09", dt.date(2024, 9, 27), dt.date(2024, 10, 8))
    # Friday → next Monday: 1 working day.
    _paid(taxpayers[1], "2025-03", dt.date(2025, 3, 7), dt.date(2025, 3, 10))
    # Monday → Tuesday a week later: 6.
    _paid(taxpayers[2], "2025-03", dt.date(2025, 3, 3), dt.date(2025, 3, 11))
    _paid(taxpayers[3], "2025-03", dt.date(2025, 3, 3), None)  # not paid: left out
    all_apps = RefundApplication.objects.all()

    assert median_working_days_to_payment(all_apps) == Decimal("3")
    _paid(taxpayers[4], "2025-04", dt.date(2025, 4, 1), dt.date(2025, 4, 15))  # 9 (Qingming 04-04 off)
    assert median_working_days_to_payment(all_apps) == Decimal("4.5")  # 1, 3, 6, 9
    assert median_working_days_to_payment(all_apps.filter(taxpayer=taxpayers[1])) == Decimal("1")
    assert median_working_days_to_payment(all_apps.filter(state=State.RECEIVED)) is None
    assert format_working_days(Decimal("3.5")) == "3.5"
    assert format_working_days(Decimal("2.0")) == "2"
    assert format_working_days(None) == "—"

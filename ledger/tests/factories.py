"""Approved applications made directly with the ORM (the workflow services belong to the applications code), and
their payment through the ledger's own service."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from ledger.services import payment_record
from refund.models import RefundApplication

_counter = iter(range(1, 10**6))


def approved_application(
    taxpayer,
    *,
    kind: str = RefundApplication.Kind.BOTH,
    incremental: str | Decimal = "60000.00",
    stock: str | Decimal = "40000.00",
    period: str = "2026-03",
    document_number: str | None = None,
    approved_on: dt.date = dt.date(2026, 3, 20),
    state: str = RefundApplication.State.APPROVED,
    regime: str = "CN-2025-7-class3",
) -> RefundApplication:
    incremental, stock = Decimal(str(incremental)), Decimal(str(stock))
    if kind == RefundApplication.Kind.INCREMENTAL:
        stock = Decimal("0.00")
    elif kind == RefundApplication.Kind.STOCK:
        incremental = Decimal("0.00")
    total = incremental + stock
    approved_at = timezone.make_aware(dt.datetime.combine(approved_on, dt.time(10, 0)))
    return RefundApplication.objects.create(
        taxpayer=taxpayer,
        branch=taxpayer.branch,
        application_period=period,
        kind=kind,
        document_number=document_number or f"SQ-T{next(_counter):06d}",
        received_on=approved_on - dt.timedelta(days=7),
        due_on=approved_on + dt.timedelta(days=7),
        claimed_amount=total,
        regime=regime,
        size="small",
        industry_code=taxpayer.industry_code,
        computed_amount=total,
        computed_incremental=incremental,
        computed_stock=stock,
        confirmed_amount=total,
        confirmed_incremental=incremental,
        confirmed_stock=stock,
        state=state,
        approved_at=approved_at if state in ("approved", "paid") else None,
    )


def pay(taxpayer, actor, *, voucher: str, day: dt.date = dt.date(2026, 3, 25), **application):
    """An approved application (``approved_application``'s options) paid in full on ``day`` by ``payment_record``."""
    app = approved_application(taxpayer, **application)
    return payment_record(
        actor=actor, application=app, voucher_number=voucher, amount=app.confirmed_amount, paid_on=day
    )

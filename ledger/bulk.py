"""Backfill of past treasury payments and morning registrations (历史退库与台账登记).

Why: refunds paid before they reach this system — a county's ledger moved in, the demo county's past years —
arrive by the hundred with the dates and times they happened at. ``services.payment_record`` and
``services.ledger_register_day`` act one payment, one day at a time, now, and queue SMS bills; this is the bulk
path for history, and it holds each row to the same rules before writing anything:

- a payment as ``payment_record`` checks it: ``services.payment_plan`` against its approved application (voucher,
  an amount within what is unpaid, a date not in the future nor before the approval, the incremental/stock split
  taken from the confirmation or checked against it), a voucher number once; the application records it as
  ``application_mark_paid`` does (``refund.applications.bulk``); the ledger entry copies the taxpayer's and the
  application's figures as ``payment_record`` copies them;
- a registration as ``ledger_register_day`` makes it: one run per day, linking that day's entries not yet
  registered, with their count and total; no bill is sent for history, each entry says why instead.

The credit reduction check (留抵核减) is left to ``services.ledger_check_credit_reduction``: entries start 待核对.
One audit event per backfill, as an import records one per file.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from accounts.audit import record_event
from core.bulk import bulk_create_as_recorded, bulk_set
from core.errors import ApplicationError
from core.money import format_yuan
from refund.applications.bulk import PastPaymentMark, applications_paid_backfill
from refund.models import RefundApplication
from taxpayers.models import Taxpayer

from .models import LedgerEntry, LedgerRun, TreasuryPayment
from .services import payment_plan

BATCH = 500


@dataclass
class PastPayment:
    """A payment of ``application`` (approved, as ``refund.applications.bulk`` wrote it); the split is the
    confirmation's when not given, as ``payment_plan`` takes it."""

    application: RefundApplication
    voucher_number: str
    amount: Decimal
    paid_on: dt.date
    at: dt.datetime  # when it was entered
    entered_by: object  # accounts.User
    source: str
    reason: str  # the application's transition text
    incremental: Decimal | None = None
    stock: Decimal | None = None


@dataclass
class PastRegistration:
    """The morning registration of ``day``'s payments; ``note`` says why no bill was sent."""

    day: dt.date
    started_at: dt.datetime
    finished_at: dt.datetime
    note: str


def payments_backfill(*, payments: list[PastPayment], today: dt.date) -> list[LedgerEntry]:
    """Write past payments with their ledger entries and mark their applications paid; the entries."""
    plans = []
    for payment in payments:
        if payment.source not in TreasuryPayment.Source.values:
            raise ApplicationError(f"退库来源“{payment.source}”无效。")
        plans.append(
            payment_plan(
                application=payment.application,
                voucher_number=payment.voucher_number,
                amount=payment.amount,
                paid_on=payment.paid_on,
                incremental=payment.incremental,
                stock=payment.stock,
                today=today,
            )
        )
    vouchers = [plan.voucher_number for plan in plans]
    if len(set(vouchers)) != len(vouchers) or TreasuryPayment.objects.filter(voucher_number__in=vouchers).exists():
        raise ApplicationError("退库凭证号重复或已经录入，同一凭证不能重复录入。", code="duplicate_voucher")
    taxpayers = Taxpayer.objects.in_bulk({payment.application.taxpayer_id for payment in payments})
    with transaction.atomic():
        rows = bulk_create_as_recorded(
            TreasuryPayment,
            [
                TreasuryPayment(
                    application=payment.application, voucher_number=plan.voucher_number, amount=plan.amount,
                    paid_on=plan.paid_on, source=payment.source, entered_by=payment.entered_by, created_at=payment.at,
                )
                for payment, plan in zip(payments, plans, strict=True)
            ],
            batch_size=BATCH,
        )  # fmt: skip
        applications_paid_backfill(
            payments=[
                PastPaymentMark(
                    payment.application, plan.amount, plan.incremental, plan.stock, plan.paid_on, payment.at,
                    payment.entered_by, payment.reason,
                )
                for payment, plan in zip(payments, plans, strict=True)
            ]
        )  # fmt: skip
        entries = bulk_create_as_recorded(
            LedgerEntry,
            [
                LedgerEntry.of_payment(
                    row, taxpayer=taxpayers[row.application.taxpayer_id], incremental=plan.incremental,
                    stock=plan.stock, created_at=row.created_at,
                )
                for row, plan in zip(rows, plans, strict=True)
            ],
            batch_size=BATCH,
        )  # fmt: skip
        total = sum((row.amount for row in rows), Decimal("0.00"))
        record_event(
            actor=None,
            verb="ledger_payments_backfill",
            object_type="ledger.ledgerentry",
            object_repr="历史退库",
            summary=f"导入历史退库 {len(rows):,} 笔，合计 {format_yuan(total)} 元",
            changes={"created": len(rows)},
        )
    return entries


def ledger_days_backfill(*, registrations: list[PastRegistration]) -> list[LedgerRun]:
    """Register past days: one succeeded run per day with that day's entries not yet registered (no bills)."""
    days = [registration.day for registration in registrations]
    if len(set(days)) != len(days) or LedgerRun.objects.filter(day__in=days).exists():
        raise ApplicationError("同一退库日期只能登记一次。")
    with transaction.atomic():
        by_day: dict[dt.date, list[LedgerEntry]] = defaultdict(list)
        for entry in LedgerEntry.objects.filter(paid_on__in=days, run__isnull=True).order_by("pk"):
            by_day[entry.paid_on].append(entry)
        runs = []
        for registration in registrations:
            entries = by_day[registration.day]
            if not registration.started_at < registration.finished_at:
                raise ApplicationError(f"{registration.day} 台账登记的完成时间应晚于开始时间。")
            runs.append(
                LedgerRun(
                    day=registration.day,
                    status=LedgerRun.Status.SUCCEEDED,
                    started_at=registration.started_at,
                    finished_at=registration.finished_at,
                    entry_count=len(entries),
                    total_amount=sum((entry.amount for entry in entries), Decimal("0.00")),
                    bill_count=0,
                    message=f"登记退税 {len(entries)} 笔（{registration.note}）"[:500],
                )
            )
        runs = bulk_create_as_recorded(LedgerRun, runs, batch_size=BATCH)
        linked = []
        for registration, run in zip(registrations, runs, strict=True):
            for entry in by_day[registration.day]:
                entry.run, entry.bill_error = run, registration.note[:200]
                linked.append(entry)
        bulk_set(LedgerEntry, linked, ["run", "bill_error"])
        record_event(
            actor=None,
            verb="ledger_days_backfill",
            object_type="ledger.ledgerrun",
            object_repr="历史台账登记",
            summary=f"补登历史退税台账 {len(runs):,} 天，共 {len(linked):,} 笔（未发送账单短信）",
            changes={"created": len(runs), "registered": len(linked)},
        )
    return runs

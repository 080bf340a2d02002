"""The backfill of past payments and registrations (ledger/bulk.py): checked as payment_record checks a payment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import AuditEvent
from core.errors import ApplicationError
from ledger.bulk import PastPayment, PastRegistration, ledger_days_backfill, payments_backfill
from ledger.models import LedgerEntry, LedgerRun, TreasuryPayment
from ledger.services import PaymentRefused
from refund.applications.bulk import applications_backfill
from refund.applications.tests.test_bulk import at, history
from refund.models import ApplicationTransition, RefundApplication
from refund.tests.candidates import eligible_taxpayer

TODAY = dt.date(2026, 3, 20)


@pytest.fixture
def approved(org, personas):
    taxpayer = eligible_taxpayer(org["branch_a"])
    [app] = applications_backfill(applications=[history(taxpayer, personas)])
    return app


def payment(app, personas, **changes) -> PastPayment:
    values = {
        "application": app,
        "voucher_number": "历库20260313001",
        "amount": app.confirmed_amount,
        "paid_on": dt.date(2026, 3, 13),
        "at": at(13, 15),
        "entered_by": personas["refund_officer"],
        "source": TreasuryPayment.Source.IMPORT,
        "reason": "退库凭证号 历库20260313001",
    }
    return PastPayment(**{**values, **changes})


@pytest.mark.django_db
def test_a_past_payment_pays_the_application_and_writes_its_entry(approved, personas):
    [entry] = payments_backfill(payments=[payment(approved, personas)], today=TODAY)

    app = RefundApplication.objects.get(pk=approved.pk)
    assert app.state == RefundApplication.State.PAID and app.paid_amount == app.confirmed_amount
    assert (app.paid_incremental, app.paid_stock) == (app.confirmed_incremental, app.confirmed_stock)
    assert (app.paid_on, app.state_changed_at) == (dt.date(2026, 3, 13), at(13, 15))
    last = ApplicationTransition.objects.filter(application=app).latest("created_at")
    assert (last.from_state, last.to_state, last.created_at) == ("approved", "paid", at(13, 15))
    entry = LedgerEntry.objects.select_related("payment").get(pk=entry.pk)
    assert (entry.identifier, entry.branch_id, entry.amount) == (
        app.taxpayer.identifier,
        app.branch_id,
        app.paid_amount,
    )
    assert entry.incremental_amount + entry.stock_amount == entry.amount
    assert entry.created_at == entry.payment.created_at == at(13, 15)
    assert entry.credit_check == LedgerEntry.CreditCheck.PENDING
    assert AuditEvent.objects.filter(verb="ledger_payments_backfill").count() == 1


@pytest.mark.django_db
def test_what_payment_record_refuses_is_refused(approved, personas):
    with pytest.raises(PaymentRefused, match="超过该申请的确认退税额"):
        payments_backfill(payments=[payment(approved, personas, amount=approved.confirmed_amount + 1)], today=TODAY)
    with pytest.raises(PaymentRefused, match="晚于今天"):
        payments_backfill(payments=[payment(approved, personas, paid_on=TODAY + dt.timedelta(days=1))], today=TODAY)
    with pytest.raises(PaymentRefused, match="早于该申请的审批日期"):
        payments_backfill(payments=[payment(approved, personas, paid_on=dt.date(2026, 3, 11))], today=TODAY)
    twice = [payment(approved, personas, amount=Decimal("1.00"), incremental=Decimal("1.00"))] * 2
    with pytest.raises(ApplicationError, match="凭证号重复"):
        payments_backfill(payments=twice, today=TODAY)
    assert not TreasuryPayment.objects.exists() and not LedgerEntry.objects.exists()
    assert RefundApplication.objects.get(pk=approved.pk).state == RefundApplication.State.APPROVED


@pytest.mark.django_db
def test_a_past_morning_registers_the_days_entries_without_bills(approved, personas):
    payments_backfill(payments=[payment(approved, personas)], today=TODAY)
    registration = PastRegistration(dt.date(2026, 3, 13), at(16, 8, 30), at(16, 8, 31), "历史数据，未发送账单短信")
    [run] = ledger_days_backfill(registrations=[registration])

    run = LedgerRun.objects.get(pk=run.pk)
    entry = LedgerEntry.objects.get()
    assert (run.status, run.entry_count, run.total_amount, run.bill_count) == ("succeeded", 1, entry.amount, 0)
    assert (run.started_at, run.finished_at) == (at(16, 8, 30), at(16, 8, 31))
    assert entry.run == run and entry.bill_error == "历史数据，未发送账单短信"
    with pytest.raises(ApplicationError, match="只能登记一次"):
        ledger_days_backfill(registrations=[registration])

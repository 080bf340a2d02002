"""部分退库: the treasury pays an application in parts. Each part is its own payment and ledger entry; the
application is 部分退库 until the parts reach the confirmed amount and stays on 待退库 with what is left."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import AuditEvent
from core.periods import Period
from credit.tests.factories import TaxpayerFactory
from ledger.models import LedgerEntry, TreasuryPayment
from ledger.services import PaymentImportRejected, PaymentRefused, payment_record, payments_import_xlsx
from ledger.tests.factories import approved_application
from ledger.tests.test_import import _xlsx
from refund.models import ApplicationTransition, RefundApplication
from refund.rules.inputs import PreviousRefund
from refund.screening.case_builder import previous_refunds_for, previous_refunds_sql

pytestmark = pytest.mark.django_db
State = RefundApplication.State
FIRST, SECOND = dt.date(2026, 3, 25), dt.date(2026, 3, 27)


def _pay(app, actor, amount, voucher, paid_on=FIRST, **split):
    return payment_record(
        actor=actor, application=app, voucher_number=voucher, amount=Decimal(amount), paid_on=paid_on, **split
    )


def test_a_part_payment_is_recorded_as_partial_and_the_rest_can_still_be_paid(personas, taxpayer_a):
    officer = personas["refund_officer"]
    app = approved_application(taxpayer_a, kind="incremental", incremental="2041610.79")

    first = _pay(app, officer, "1000.00", "V-1")

    app.refresh_from_db()
    assert app.state == State.PARTLY_PAID
    assert (app.paid_amount, app.paid_incremental, app.paid_stock, app.unpaid_amount) == (
        Decimal("1000.00"),
        Decimal("1000.00"),
        Decimal("0.00"),
        Decimal("2040610.79"),
    )
    assert "部分退库，累计已退 1,000.00 元，尚余 2,040,610.79 元待退库" in (
        AuditEvent.objects.get(verb="ledger_payment_record").summary
    )

    second = _pay(app, officer, "2040610.79", "V-2", paid_on=SECOND)

    app.refresh_from_db()
    assert app.state == State.PAID
    assert (app.paid_amount, app.paid_on, app.unpaid_amount) == (Decimal("2041610.79"), SECOND, Decimal("0.00"))
    assert [e.amount for e in LedgerEntry.objects.filter(application=app).order_by("pk")] == [
        Decimal("1000.00"),
        Decimal("2040610.79"),
    ]
    assert {first.payment.voucher_number, second.payment.voucher_number} == {"V-1", "V-2"}
    moves = list(
        ApplicationTransition.objects.filter(application=app).order_by("pk").values_list("from_state", "to_state")
    )
    assert moves == [(State.APPROVED, State.PARTLY_PAID), (State.PARTLY_PAID, State.PAID)]


def test_a_later_part_cannot_exceed_what_is_left(personas, taxpayer_a):
    officer = personas["refund_officer"]
    app = approved_application(taxpayer_a, kind="stock", stock="100000.00")
    _pay(app, officer, "60000.00", "V-1")
    with pytest.raises(PaymentRefused) as exc:
        _pay(app, officer, "40000.01", "V-2")
    assert exc.value.message == (
        "退库金额 40,000.01 元超过该申请尚未退库的 40,000.00 元（确认退税额 100,000.00 元，已退库 60,000.00 元），"
        "请核对国库退库凭证。"
    )
    assert TreasuryPayment.objects.count() == 1


def test_a_both_application_paid_in_parts_keeps_each_kind_within_what_is_left(personas, taxpayer_a):
    officer = personas["refund_officer"]
    app = approved_application(taxpayer_a, incremental="60000.00", stock="40000.00")
    _pay(app, officer, "50000.00", "V-1", incremental=Decimal("50000.00"))
    with pytest.raises(PaymentRefused, match=r"超过尚未退库的增量退税额 10,000\.00 元"):
        _pay(app, officer, "20000.00", "V-2", incremental=Decimal("20000.00"))
    # The rest, without a split, takes what is left of each kind.
    entry = _pay(app, officer, "50000.00", "V-3")
    assert (entry.incremental_amount, entry.stock_amount) == (Decimal("10000.00"), Decimal("40000.00"))
    app.refresh_from_db()
    assert (app.state, app.paid_incremental, app.paid_stock) == (State.PAID, Decimal("60000.00"), Decimal("40000.00"))


def test_a_receipt_file_may_pay_one_application_in_two_rows(personas, org):
    app = approved_application(
        TaxpayerFactory(branch=org["branch_a"]), kind="incremental", incremental="100000.00", document_number="SQ-1"
    )
    outcome = payments_import_xlsx(
        actor=personas["refund_officer"],
        file=_xlsx(
            [
                ["V-1", "SQ-1", None, None, "30000", "2026-03-25"],
                ["V-2", "SQ-1", None, None, "70000", "2026-03-26"],
            ]
        ),
    )
    assert len(outcome.created) == 2
    assert not any("部分退库" in warning for warning in outcome.warnings[1:])
    assert "第 2 行：" in outcome.warnings[0] and "尚余 70,000.00 元待退库" in outcome.warnings[0]
    app.refresh_from_db()
    assert (app.state, app.paid_amount, app.paid_on) == (State.PAID, Decimal("100000.00"), dt.date(2026, 3, 26))


def test_a_receipt_file_that_overpays_in_parts_imports_nothing(personas, org):
    app = approved_application(
        TaxpayerFactory(branch=org["branch_a"]), kind="incremental", incremental="100000.00", document_number="SQ-1"
    )
    with pytest.raises(PaymentImportRejected) as exc:
        payments_import_xlsx(
            actor=personas["refund_officer"],
            file=_xlsx(
                [
                    ["V-1", "SQ-1", None, None, "60000", "2026-03-25"],
                    ["V-2", "SQ-1", None, None, "60000", "2026-03-26"],
                ]
            ),
        )
    assert [(e.row, e.column) for e in exc.value.errors] == [(3, "退库金额")]
    assert "尚未退库的 40,000.00 元" in exc.value.errors[0].reason
    app.refresh_from_db()
    assert (app.state, app.paid_amount) == (State.APPROVED, None)
    assert not TreasuryPayment.objects.exists() and not LedgerEntry.objects.exists()


def test_the_unpaid_list_keeps_a_partly_paid_application_with_what_is_left(client_for, personas, org):
    app = approved_application(
        TaxpayerFactory(branch=org["branch_a"], name="分次退库公司"), kind="incremental", incremental="100000.00"
    )
    client = client_for("refund_officer")
    response = client.post(
        reverse("ledger:payment_create", args=[app.pk]),
        {"voucher_number": "V-1", "amount": "25000.00", "paid_on": "2026-03-25", "next": reverse("ledger:unpaid")},
        follow=True,
    )
    html = response.content.decode()
    assert "该申请为部分退库：累计已退 25,000.00 元，尚余 75,000.00 元待退库，仍在本页。" in html
    assert [a.pk for a in response.context["page_obj"]] == [app.pk]
    assert response.context["totals"] == {"count": 1, "amount": Decimal("75000.00"), "partly": 1}
    row = html[html.index(f'id="pay-{app.pk}"') - 600 : html.index(f'id="pay-{app.pk}"')]
    assert "已退 25,000.00 · 待退 75,000.00" in row
    assert (
        f'id="pay-{app.pk}-amount" type="number" step="0.01" min="0.01" value="75000.00"' in html
    )
    detail = client.get(reverse("refund:application_detail", args=[app.pk])).content.decode()
    assert "已退库（部分）" in detail and "尚余 75,000.00 元待退库" in detail and "部分退库" in detail


def test_a_part_payment_counts_as_a_refund_obtained_for_the_rules(personas, taxpayer_a):
    app = approved_application(taxpayer_a, kind="stock", stock="100000.00")
    _pay(app, personas["refund_officer"], "1000.00", "V-1")
    assert previous_refunds_for([taxpayer_a.pk])[taxpayer_a.pk] == [
        PreviousRefund(Period(2026, 3), app.regime or None, "stock", Decimal("1000.00"))
    ]
    with connection.cursor() as cursor:  # the set-based screening reads the same refunds
        cursor.execute(f"SELECT taxpayer_id, application_period, kind FROM ({previous_refunds_sql()}) r")  # noqa: S608
        assert cursor.fetchall() == [(taxpayer_a.pk, "2026-03", "stock")]

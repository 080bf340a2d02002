"""退库 entry: the payment, the application moved to paid, the ledger entry and its audit, and every refusal."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import AuditEvent
from core.errors import ApplicationError
from core.periods import Period
from ledger.models import LedgerEntry, TreasuryPayment
from ledger.services import PaymentRefused, payment_record
from ledger.tests.factories import approved_application
from refund.models import ApplicationTransition, CandidateItem, RefundApplication

pytestmark = pytest.mark.django_db
PAID_ON = dt.date(2026, 3, 25)


def _pay(app, actor, **kwargs):
    values = {"voucher_number": "V-001", "amount": app.confirmed_amount, "paid_on": PAID_ON} | kwargs
    return payment_record(actor=actor, application=app, **values)


def test_payment_of_the_confirmed_amount_takes_the_confirmed_split(personas, taxpayer_a):
    officer = personas["refund_officer"]
    app = approved_application(taxpayer_a, incremental="60000.00", stock="40000.00")

    entry = _pay(app, officer)

    app.refresh_from_db()
    assert app.state == RefundApplication.State.PAID
    assert (app.paid_on, app.paid_amount, app.paid_incremental, app.paid_stock) == (
        PAID_ON,
        Decimal("100000.00"),
        Decimal("60000.00"),
        Decimal("40000.00"),
    )
    payment = TreasuryPayment.objects.get()
    assert (payment.voucher_number, payment.amount, payment.entered_by, payment.source) == (
        "V-001",
        Decimal("100000.00"),
        officer,
        "manual",
    )
    entry = LedgerEntry.objects.get(pk=entry.pk)
    assert (entry.identifier, entry.name, entry.branch_id) == (
        taxpayer_a.identifier,
        taxpayer_a.name,
        taxpayer_a.branch_id,
    )
    assert (entry.refund_kind, entry.application_period, entry.regime, entry.size, entry.industry_code) == (
        "both",
        Period(2026, 3),
        "CN-2025-7-class3",
        "small",
        taxpayer_a.industry_code,
    )
    assert (entry.amount, entry.incremental_amount, entry.stock_amount, entry.paid_on) == (
        Decimal("100000.00"),
        Decimal("60000.00"),
        Decimal("40000.00"),
        PAID_ON,
    )
    assert entry.run is None and entry.credit_check == "pending"
    assert ApplicationTransition.objects.get(application=app).to_state == "paid"
    event = AuditEvent.objects.get(verb="ledger_payment_record")
    assert event.actor == officer and "V-001" in event.summary and "100,000.00" in event.summary


def test_the_ledger_copies_the_taxpayer_as_it_was_when_paid(personas, taxpayer_a):
    entry = _pay(approved_application(taxpayer_a), personas["refund_officer"])
    taxpayer_a.name = "改名后的公司"
    taxpayer_a.save()
    entry.refresh_from_db()
    assert entry.name == "城东精密机械有限公司"


@pytest.mark.parametrize(("kind", "split"), [("incremental", ("30000.00", "0.00")), ("stock", ("0.00", "30000.00"))])
def test_a_part_payment_of_a_one_kind_application_goes_to_that_kind(personas, taxpayer_a, kind, split):
    app = approved_application(taxpayer_a, kind=kind, incremental="50000.00", stock="50000.00")
    entry = _pay(app, personas["refund_officer"], amount=Decimal("30000.00"))
    assert (entry.incremental_amount, entry.stock_amount) == tuple(Decimal(v) for v in split)


def test_a_part_payment_of_a_both_application_needs_its_split(personas, taxpayer_a):
    app = approved_application(taxpayer_a)
    with pytest.raises(PaymentRefused, match="请分别填写其中增量和存量"):
        _pay(app, personas["refund_officer"], amount=Decimal("50000.00"))
    entry = _pay(app, personas["refund_officer"], amount=Decimal("50000.00"), incremental=Decimal("30000.00"))
    assert (entry.incremental_amount, entry.stock_amount) == (Decimal("30000.00"), Decimal("20000.00"))


def test_a_split_that_does_not_add_up_is_refused(personas, taxpayer_a):
    app = approved_application(taxpayer_a)
    with pytest.raises(PaymentRefused, match="之和不等于退库金额"):
        _pay(app, personas["refund_officer"], incremental=Decimal("60000.00"), stock=Decimal("30000.00"))
    assert not TreasuryPayment.objects.exists() and not LedgerEntry.objects.exists()
    app.refresh_from_db()
    assert app.state == "approved"


def test_a_split_part_above_its_confirmed_part_is_refused(personas, taxpayer_a):
    app = approved_application(taxpayer_a, incremental="60000.00", stock="40000.00")
    with pytest.raises(PaymentRefused, match="超过确认的存量退税额"):
        _pay(app, personas["refund_officer"], incremental=Decimal("10000.00"), stock=Decimal("90000.00"))


def test_more_than_the_confirmed_amount_is_refused(personas, taxpayer_a):
    app = approved_application(taxpayer_a)
    with pytest.raises(PaymentRefused) as exc:
        _pay(app, personas["refund_officer"], amount=Decimal("100000.01"))
    assert exc.value.message == ("退库金额 100,000.01 元超过该申请的确认退税额 100,000.00 元，请核对国库退库凭证。")
    assert not TreasuryPayment.objects.exists()


@pytest.mark.parametrize("state", ["reviewing", "rejected", "paid"])
def test_only_an_approved_application_can_be_paid(personas, taxpayer_a, state):
    app = approved_application(taxpayer_a, state="approved")
    RefundApplication.objects.filter(pk=app.pk).update(
        state=state, paid_on=PAID_ON if state == "paid" else None, paid_amount=Decimal(1) if state == "paid" else None
    )
    app.refresh_from_db()
    expected = (
        "全额退库（累计 1.00 元），不能再次退库" if state == "paid" else "只有“已审批”或“部分退库”的申请可以录入退库"
    )
    with pytest.raises(PaymentRefused, match=expected):
        _pay(app, personas["refund_officer"])
    assert not LedgerEntry.objects.exists()


def test_a_stale_copy_of_an_application_paid_meanwhile_is_refused(personas, taxpayer_a):
    app = approved_application(taxpayer_a)
    stale = RefundApplication.objects.get(pk=app.pk)
    _pay(app, personas["refund_officer"])
    with pytest.raises(ApplicationError, match="已于 2026-03-25 全额退库"):
        _pay(stale, personas["refund_officer"], voucher_number="V-002")
    assert TreasuryPayment.objects.count() == 1


def test_a_voucher_number_pays_once(personas, taxpayer_a, taxpayer_b):
    _pay(approved_application(taxpayer_a), personas["refund_officer"], voucher_number=" V-9 ")
    other = approved_application(taxpayer_b)
    with pytest.raises(PaymentRefused) as exc:
        _pay(other, personas["refund_officer"], voucher_number="V-9")
    assert exc.value.code == "duplicate_voucher"
    assert "退库凭证号“V-9”已经录入（城东精密机械有限公司，2026-03-25）" in exc.value.message
    other.refresh_from_db()
    assert other.state == "approved"


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"voucher_number": "  "}, "请填写退库凭证号"),
        ({"amount": Decimal("0")}, "退库金额必须大于零"),
        ({"amount": Decimal("1.005")}, "最多保留两位小数"),
        ({"paid_on": dt.date(2999, 1, 1)}, "不能是将来的日期"),
        ({"paid_on": dt.date(2026, 3, 19)}, "早于该申请的审批日期 2026-03-20"),
    ],
)
def test_bad_fields_are_refused_in_chinese(personas, taxpayer_a, kwargs, reason):
    with pytest.raises(PaymentRefused, match=reason):
        _pay(approved_application(taxpayer_a), personas["refund_officer"], **kwargs)


def test_after_commit_the_candidate_funnel_counts_the_refund(personas, taxpayer_a, django_capture_on_commit_callbacks):
    from refund.candidates.services import candidate_lists_build
    from refund.models import ScreeningResult, ScreeningRun

    run = ScreeningRun.objects.create(
        application_period="2026-03", application_date=dt.date(2026, 3, 17), status="succeeded"
    )
    ScreeningResult.objects.create(
        run=run, taxpayer=taxpayer_a, regime="CN-2025-7-class3", eligible=True, refundable_total=Decimal("1000.00")
    )
    candidate_lists_build(actor=None, push_date=dt.date(2026, 3, 17), run=run)
    item = CandidateItem.objects.get(taxpayer=taxpayer_a)
    assert item.refunded_at is None
    with django_capture_on_commit_callbacks(execute=True):
        _pay(approved_application(taxpayer_a), personas["refund_officer"])
    item.refresh_from_db()
    assert item.refunded_at is not None and item.stage == CandidateItem.Stage.REFUNDED

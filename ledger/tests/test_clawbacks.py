"""追缴: a clawback of paid refund is a reversing ledger entry with its own notice; every sum is then the net."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditEvent
from ledger.clawbacks import ClawbackNotPermitted, ClawbackRefused, DuplicateClawback, clawback_record
from ledger.models import LedgerEntry, LedgerReversal
from ledger.selectors import clawback_totals, ledger_entries_for_user, ledger_totals, unregistered_days
from ledger.services import PaymentRefused, ledger_register_day, payment_record
from ledger.tests.factories import approved_application, pay
from notify.models import MessageTemplate, SmsMessage
from refund.applications.services import application_stop
from refund.models import RefundApplication

pytestmark = pytest.mark.django_db
State = RefundApplication.State
PAID_ON, DECIDED_ON = dt.date(2026, 3, 25), dt.date(2026, 4, 10)


@pytest.fixture
def risk(personas):
    return personas["risk_officer"]


def _claw(risk, app, amount, reference="税处〔2026〕1号", **kwargs):
    kwargs.setdefault("decided_on", DECIDED_ON)
    kwargs.setdefault("reason", "事后复核：进项发票异常")
    return clawback_record(actor=risk, application=app, amount=Decimal(amount), reference=reference, **kwargs)


def test_a_clawback_is_a_negative_entry_linked_to_what_it_reverses(personas, risk, taxpayer_a):
    paid = pay(taxpayer_a, personas["refund_officer"], voucher="V-1")  # 60,000 + 40,000
    app = paid.application

    entry = _claw(risk, app, "25000.00")

    assert (entry.kind, entry.amount, entry.incremental_amount, entry.stock_amount) == (
        "clawback",
        Decimal("-25000.00"),
        Decimal("-15000.00"),
        Decimal("-10000.00"),
    )
    assert (entry.application, entry.taxpayer, entry.paid_on, entry.payment) == (app, taxpayer_a, DECIDED_ON, None)
    assert (entry.identifier, entry.name, entry.branch_id) == (paid.identifier, paid.name, paid.branch_id)
    assert (entry.decision_reference, entry.recorded_by, entry.credit_check) == ("税处〔2026〕1号", risk, "none")
    reversal = LedgerReversal.objects.get(clawback=entry)
    assert (reversal.reversed_entry, reversal.amount, reversal.incremental_amount, reversal.stock_amount) == (
        paid,
        Decimal("25000.00"),
        Decimal("15000.00"),
        Decimal("10000.00"),
    )
    event = AuditEvent.objects.get(verb="ledger_clawback_record")
    assert event.changes["reversed"] == [paid.pk] and "25,000.00 元" in event.summary
    # The application's own figures do not move: the clawback is the ledger's.
    app.refresh_from_db()
    assert (app.state, app.paid_amount) == (State.PAID, Decimal("100000.00"))


def test_every_ledger_sum_is_the_net_after_a_clawback(personas, risk, taxpayer_a, taxpayer_b):
    officer = personas["refund_officer"]
    first = pay(taxpayer_a, officer, voucher="V-1")
    pay(taxpayer_b, officer, voucher="V-2", incremental="1000.00", stock="0.00", kind="incremental")
    _claw(risk, first.application, "100000.00")

    totals = ledger_totals(ledger_entries_for_user(user=officer))
    assert (totals["count"], totals["amount"], totals["incremental"], totals["stock"], totals["clawback"]) == (
        3,
        Decimal("1000.00"),
        Decimal("1000.00"),
        Decimal("0.00"),
        Decimal("100000.00"),
    )
    assert clawback_totals(LedgerEntry.objects.filter(kind="clawback"))["amount"] == Decimal("100000.00")
    # A branch officer's ledger: its own branch's net.
    assert ledger_totals(ledger_entries_for_user(user=personas["officer_a"]))["amount"] == Decimal("0.00")

    client = __import__("django.test", fromlist=["Client"]).Client()
    client.force_login(officer)
    page = client.get(reverse("ledger:entries"))
    assert "已扣除追缴 10.00 万元" in page.content.decode()
    for name, amount_column in (("ledger:entries_export", 6), ("ledger:refunded_export", 5)):
        response = client.get(reverse(name))
        rows = list(
            load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(
                min_row=2, values_only=True
            )
        )
        assert sum(Decimal(str(row[amount_column])) for row in rows) == Decimal("1000.00"), name
        claw = next(row for row in rows if row[-1] == "追缴")
        assert "税处〔2026〕1号" in claw


def test_the_notice_is_queued_once_and_a_double_submit_is_refused(personas, risk, taxpayer_a):
    app = pay(taxpayer_a, personas["refund_officer"], voucher="V-1").application

    entry = _claw(risk, app, "1000.00")
    with pytest.raises(DuplicateClawback, match=r"已于 .* 登记"):
        _claw(risk, app, "1000.00")
    with pytest.raises(DuplicateClawback):
        _claw(risk, app, "2000.00")  # the same decision, another amount: still that decision

    assert LedgerEntry.objects.filter(kind="clawback").count() == 1
    notice = SmsMessage.objects.get()
    assert notice.idempotency_key == f"ledger-clawback-bill:{entry.pk}"
    assert entry.bill_sms == notice and notice.recipient == "13912345678"
    assert "1,000.00元应予追缴" in notice.text and "税处〔2026〕1号" in notice.text
    # Without a document number the decision is the application, the date and the amount.
    other = pay(taxpayer_a, personas["refund_officer"], voucher="V-2", period="2026-04").application
    clawback_record(actor=risk, application=other, amount=Decimal("5.00"), reason="追缴", decided_on=DECIDED_ON)
    with pytest.raises(DuplicateClawback):
        clawback_record(actor=risk, application=other, amount=Decimal("5.00"), reason="追缴", decided_on=DECIDED_ON)
    assert SmsMessage.objects.count() == 2


def test_never_more_than_the_net_paid(personas, risk, taxpayer_a):
    app = pay(taxpayer_a, personas["refund_officer"], voucher="V-1").application
    with pytest.raises(ClawbackRefused, match=r"超过该申请的净退税额 100,000\.00 元"):
        _claw(risk, app, "100000.01")
    _claw(risk, app, "60000.00", reference="R-1")
    with pytest.raises(ClawbackRefused, match=r"净退税额 40,000\.00 元"):
        _claw(risk, app, "40000.01", reference="R-2")
    last = _claw(risk, app, "40000.00", reference="R-3")
    assert sum(LedgerEntry.objects.filter(application=app).values_list("amount", flat=True)) == Decimal("0.00")
    # The split of the two clawbacks adds up to the payment's own, to the cent.
    entries = LedgerEntry.objects.filter(application=app, kind="clawback")
    assert sum(e.incremental_amount for e in entries) == Decimal("-60000.00")
    assert sum(e.stock_amount for e in entries) == Decimal("-40000.00")
    assert last.amount == Decimal("-40000.00")
    with pytest.raises(ClawbackRefused, match=r"净退税额 0\.00 元"):
        _claw(risk, app, "0.01", reference="R-4")


def test_a_clawback_reverses_the_latest_payment_first(personas, risk, taxpayer_a):
    officer = personas["refund_officer"]
    app = approved_application(taxpayer_a, kind="incremental", incremental="3000.00")
    first = payment_record(actor=officer, application=app, voucher_number="V-1", amount=Decimal("1000.00"),
                           paid_on=PAID_ON)  # fmt: skip
    second = payment_record(actor=officer, application=app, voucher_number="V-2", amount=Decimal("2000.00"),
                            paid_on=dt.date(2026, 3, 27))  # fmt: skip

    entry = _claw(risk, app, "2500.00")

    reversed_ = dict(LedgerReversal.objects.filter(clawback=entry).values_list("reversed_entry", "amount"))
    assert reversed_ == {second.pk: Decimal("2000.00"), first.pk: Decimal("500.00")}
    response = __import__("django.test", fromlist=["Client"]).Client()
    response.force_login(officer)
    html = response.get(reverse("ledger:entry_detail", args=[first.pk])).content.decode()
    assert 'id="reversals"' in html and "税处〔2026〕1号" in html


def test_a_part_payment_is_stopped_before_its_clawback(personas, risk, taxpayer_a):
    officer = personas["refund_officer"]
    app = approved_application(taxpayer_a, kind="incremental", incremental="3000.00")
    payment_record(actor=officer, application=app, voucher_number="V-1", amount=Decimal("1000.00"), paid_on=PAID_ON)
    with pytest.raises(ClawbackRefused, match="请先终止退税"):
        _claw(risk, app, "100.00")

    application_stop(actor=risk, application=app, reason="风险任务：终止")
    with pytest.raises(PaymentRefused, match="已终止退税") as refused:
        payment_record(actor=officer, application=app, voucher_number="V-2", amount=Decimal("2000.00"),
                       paid_on=PAID_ON)  # fmt: skip
    assert refused.value.code == "application_stopped"

    entry = _claw(risk, app, "1000.00")
    assert entry.amount == Decimal("-1000.00")


@pytest.mark.parametrize("state", [State.APPROVED, State.REVIEWING])
def test_an_unpaid_application_has_nothing_to_claw_back(risk, taxpayer_a, state):
    app = approved_application(taxpayer_a, state=state)
    with pytest.raises(ClawbackRefused, match="只有已退库的申请可以追缴"):
        _claw(risk, app, "1.00")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": Decimal("0")}, "必须大于零"),
        ({"reason": " "}, "必须填写原因"),
        ({"decided_on": dt.date(2099, 1, 1)}, "晚于今天"),
        ({"decided_on": dt.date(2026, 3, 24)}, "早于被追缴的退库日期 2026-03-25"),
        ({"reference": "号" * 61}, "文书号过长"),
    ],
)
def test_wrong_requests_are_refused_and_record_nothing(personas, risk, taxpayer_a, changes, message):
    app = pay(taxpayer_a, personas["refund_officer"], voucher="V-1").application
    kwargs = {"amount": Decimal("1.00"), "reason": "追缴", "decided_on": DECIDED_ON, "reference": "R-1", **changes}
    with pytest.raises(ClawbackRefused, match=message):
        clawback_record(actor=risk, application=app, **kwargs)
    assert not LedgerEntry.objects.filter(kind="clawback").exists() and SmsMessage.objects.count() == 0


def test_only_the_risk_officer_records_a_clawback(personas, taxpayer_a):
    app = pay(taxpayer_a, personas["refund_officer"], voucher="V-1").application
    for name in ("refund_officer", "supervisor", "officer_a"):
        with pytest.raises(ClawbackNotPermitted):
            _claw(personas[name], app, "1.00")


def test_the_morning_run_and_the_credit_check_leave_clawbacks_alone(personas, risk, taxpayer_a):
    app = pay(taxpayer_a, personas["refund_officer"], voucher="V-1").application
    entry = _claw(risk, app, "1000.00", decided_on=PAID_ON)
    run = ledger_register_day(day=PAID_ON)
    assert (run.entry_count, run.total_amount, run.bill_count) == (1, Decimal("100000.00"), 1)
    entry.refresh_from_db()
    assert entry.run is None and entry.credit_check == "none"
    assert unregistered_days() == []
    assert SmsMessage.objects.filter(idempotency_key__startswith="ledger-clawback-bill:").count() == 1


def test_a_switched_off_notice_template_keeps_the_clawback_with_the_reason(personas, risk, taxpayer_a):
    MessageTemplate.objects.filter(code="ledger_clawback_bill").update(active=False)
    app = pay(taxpayer_a, personas["refund_officer"], voucher="V-1").application
    entry = _claw(risk, app, "1.00")
    assert entry.bill_sms is None and "留抵退税追缴通知" in entry.bill_error


# --- the pages ---------------------------------------------------------------------------------------------------


def test_the_risk_officer_records_a_clawback_on_its_form(personas, client_for, taxpayer_a):
    app = pay(taxpayer_a, personas["refund_officer"], voucher="V-1").application
    client = client_for("risk_officer")
    detail = client.get(reverse("refund:application_detail", args=[app.pk])).content.decode()
    assert reverse("ledger:clawback_create", args=[app.pk]) in detail
    url = reverse("ledger:clawback_create", args=[app.pk])
    form = client.get(url)
    assert form.status_code == 200 and 'data-figure="net">100,000.00' in form.content.decode()

    refused = client.post(url, {"amount": "100000.01", "decided_on": "2026-04-10", "reference": "R", "reason": "r"})
    assert refused.status_code == 400 and "超过该申请的净退税额" in refused.content.decode()
    data = {"amount": "500.00", "decided_on": "2026-04-10", "reference": "税处〔2026〕9号", "reason": "复核追缴"}
    done = client.post(url, data)
    assert done.status_code == 302
    again = client.post(url, data)
    assert again.status_code == 409 and "不能重复登记" in again.content.decode()
    assert LedgerEntry.objects.filter(kind="clawback").count() == 1


def test_the_clawback_list_filters_and_exports_what_it_shows(personas, risk, client_for, taxpayer_a, taxpayer_b):
    officer = personas["refund_officer"]
    _claw(risk, pay(taxpayer_a, officer, voucher="V-1").application, "100.00", reference="A-1")
    _claw(risk, pay(taxpayer_b, officer, voucher="V-2").application, "200.00", reference="B-1")
    client = client_for("supervisor")

    page = client.get(reverse("ledger:clawbacks"), {"reference": "B-1"})
    html = page.content.decode()
    assert page.status_code == 200 and taxpayer_b.name in html and taxpayer_a.name not in html
    assert page.context["totals"]["amount"] == Decimal("200.00")
    for sort in ("amount", "-amount", "name", "branch", "decided_on"):
        assert client.get(reverse("ledger:clawbacks"), {"sort": sort}).status_code == 200

    response = client.get(reverse("ledger:clawbacks_export"), {"q": taxpayer_a.name})
    assert "追缴记录" in response["Content-Disposition"] or "%E8%BF%BD%E7%BC%B4" in response["Content-Disposition"]
    rows = list(
        load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(min_row=2, values_only=True)
    )
    assert [(row[1], row[3], row[7]) for row in rows] == [("A-1", taxpayer_a.name, 100)]
    assert AuditEvent.objects.filter(verb="export", object_type="ledger.ledgerentry").exists()


def test_the_roles_carry_the_outcome_permissions(personas):
    outcomes = ("refund.stop_refundapplication", "refund.adjust_refundapplication", "ledger.clawback_ledgerentry")
    reading = ("ledger.view_clawbacks", "ledger.export_clawbacks")
    assert all(personas["risk_officer"].has_perm(p) for p in (*outcomes, *reading))
    for name in ("refund_officer", "supervisor"):
        assert all(personas[name].has_perm(p) for p in reading), name
        assert not any(personas[name].has_perm(p) for p in outcomes), name
    for name in ("officer_a", "service_officer", "credit_officer", "admin"):
        assert not any(personas[name].has_perm(p) for p in (*outcomes, *reading)), name


def test_a_clawback_is_scoped_to_the_actors_branches(personas, client_for, taxpayer_a, taxpayer_b):
    from django.contrib.auth.models import Permission

    officer = personas["officer_a"]
    officer.user_permissions.add(Permission.objects.get(codename="clawback_ledgerentry"))
    officer = type(officer).objects.get(pk=officer.pk)
    other = pay(taxpayer_b, personas["refund_officer"], voucher="V-B").application
    with pytest.raises(ClawbackNotPermitted, match="不在您的管辖范围内"):
        _claw(officer, other, "1.00")
    own = pay(taxpayer_a, personas["refund_officer"], voucher="V-A").application
    assert _claw(officer, own, "1.00").amount == Decimal("-1.00")
    client = client_for("officer_a")
    assert client.get(reverse("ledger:clawback_create", args=[other.pk])).status_code == 404

"""终止退税 and 调整退税额: the risk review's outcomes on an application, through refund's own services."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from core.errors import ApplicationError, ConflictError
from refund.applications.outcomes import OutcomeNotPermitted
from refund.applications.services import (
    TransitionRefused,
    application_amount_adjust,
    application_approve,
    application_stop,
)
from refund.models import RefundApplication
from refund.screening.case_builder import previous_refunds_for, previous_refunds_sql
from refund.tests.applications import confirming_officer, eligible_taxpayer, reviewing

pytestmark = pytest.mark.django_db
State = RefundApplication.State
_numbers = iter(range(1, 10**6))


@pytest.fixture
def risk(personas):
    return personas["risk_officer"]


def _application(taxpayer, *, state=State.REVIEWING, kind="both", incremental="60000.00", stock="40000.00", **extra):
    """An application in ``state`` whose rules' and confirmed figures are ``incremental`` + ``stock``."""
    incremental, stock = Decimal(incremental), Decimal(stock)
    total = incremental + stock
    approved = state in (State.APPROVED, State.PARTLY_PAID, State.PAID)
    fields = {
        "taxpayer": taxpayer,
        "branch_id": taxpayer.branch_id,
        "application_period": "2026-03",
        "kind": kind,
        "document_number": f"SQ-O{next(_numbers):05d}",
        "received_on": dt.date(2026, 3, 10),
        "due_on": dt.date(2026, 3, 24),
        "claimed_amount": total,
        "regime": "CN-2025-7-class3",
        "computed_amount": total,
        "computed_incremental": incremental,
        "computed_stock": stock,
        "confirmed_amount": total,
        "confirmed_incremental": incremental,
        "confirmed_stock": stock,
        "state": state,
        "approved_at": timezone.now() if approved else None,
        **extra,
    }
    return RefundApplication.objects.create(**fields)


def _verbs(application):
    return list(
        AuditEvent.objects.filter(object_type="refund.refundapplication", object_id=str(application.pk))
        .order_by("id")
        .values_list("verb", flat=True)
    )


# --- 终止退税 ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state", [State.RECEIVED, State.INVESTIGATING, State.REVIEWING, State.RETURNED, State.APPROVED]
)
def test_stop_moves_an_unpaid_application_to_stopped_with_its_reason(risk, taxpayer_a, state):
    application = _application(taxpayer_a, state=state)

    application_stop(actor=risk, application=application, reason="事后复核认定不符合条件")

    application.refresh_from_db()
    assert application.state == State.STOPPED
    assert application.decision_reason == "事后复核认定不符合条件"
    transition = application.transitions.get()
    assert (transition.from_state, transition.to_state, transition.actor) == (state, State.STOPPED, risk)
    assert transition.reason == "事后复核认定不符合条件"
    assert transition.evidence == {"paid_amount": None, "stopped_amount": "100000.00"}
    assert _verbs(application) == ["refund_application_stop"]
    assert application.get_state_display() == "已终止退税"


def test_stop_of_a_part_payment_stops_the_rest_and_keeps_what_was_paid(risk, taxpayer_a):
    application = _application(
        taxpayer_a,
        state=State.PARTLY_PAID,
        paid_on=dt.date(2026, 3, 25),
        paid_amount=Decimal("30000.00"),
        paid_incremental=Decimal("18000.00"),
        paid_stock=Decimal("12000.00"),
    )

    application_stop(actor=risk, application=application, reason="风险任务：进项异常")

    application.refresh_from_db()
    assert application.state == State.STOPPED
    assert (application.paid_amount, application.paid_incremental, application.paid_stock) == (
        Decimal("30000.00"),
        Decimal("18000.00"),
        Decimal("12000.00"),
    )
    transition = application.transitions.get()
    assert transition.evidence == {"paid_amount": "30000.00", "stopped_amount": "70000.00"}
    assert "已退库 30,000.00 元不变，尚未退库的 70,000.00 元不再退库" in transition.reason
    # The part paid is still a refund obtained for the rules, on both paths.
    refunds = previous_refunds_for([taxpayer_a.pk])[taxpayer_a.pk]
    assert [(r.kind, r.amount) for r in refunds] == [
        ("incremental", Decimal("18000.00")),
        ("stock", Decimal("12000.00")),
    ]
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT kind FROM ({previous_refunds_sql()}) r WHERE taxpayer_id = %s", [taxpayer_a.pk])  # noqa: S608
        assert sorted(row[0] for row in cursor.fetchall()) == ["incremental", "stock"]


def test_a_stopped_application_without_a_payment_is_no_previous_refund(risk, taxpayer_a):
    application = _application(taxpayer_a, state=State.APPROVED)
    application_stop(actor=risk, application=application, reason="终止")
    assert previous_refunds_for([taxpayer_a.pk]) == {}


@pytest.mark.parametrize("state", [State.PAID, State.REJECTED, State.STOPPED])
def test_stop_refuses_a_paid_rejected_or_stopped_application(risk, taxpayer_a, state):
    extra = {"paid_on": dt.date(2026, 3, 25), "paid_amount": Decimal("100000.00")} if state == State.PAID else {}
    application = _application(taxpayer_a, state=state, **extra)
    with pytest.raises(TransitionRefused, match="可以终止退税"):
        application_stop(actor=risk, application=application, reason="终止")
    application.refresh_from_db()
    assert application.state == state and not application.transitions.exists()


def test_stop_needs_a_reason_the_permission_and_a_current_state(risk, personas, taxpayer_a):
    application = _application(taxpayer_a)
    with pytest.raises(ApplicationError, match="终止退税必须填写原因"):
        application_stop(actor=risk, application=application, reason="  ")
    with pytest.raises(OutcomeNotPermitted, match="无权终止退税"):
        application_stop(actor=personas["refund_officer"], application=application, reason="终止")
    stale = RefundApplication.objects.get(pk=application.pk)
    RefundApplication.objects.filter(pk=application.pk).update(state=State.APPROVED, approved_at=timezone.now())
    with pytest.raises(ConflictError, match="已被他人处理"):
        application_stop(actor=risk, application=stale, reason="终止")
    assert not application.transitions.exists()


def test_stop_is_scoped_to_the_actors_branches(personas, taxpayer_a, taxpayer_b):
    officer = personas["officer_a"]
    officer.user_permissions.add(Permission.objects.get(codename="stop_refundapplication"))
    officer = type(officer).objects.get(pk=officer.pk)  # permissions cache
    other = _application(taxpayer_b)
    with pytest.raises(OutcomeNotPermitted, match="不在您的管辖范围内"):
        application_stop(actor=officer, application=other, reason="终止")
    own = _application(taxpayer_a)
    application_stop(actor=officer, application=own, reason="终止")
    assert RefundApplication.objects.get(pk=own.pk).state == State.STOPPED


# --- 调整退税额 -------------------------------------------------------------------------------------------------


def test_adjust_sets_the_confirmed_figures_and_keeps_the_application_under_review(risk, taxpayer_a):
    application = _application(taxpayer_a, state=State.REVIEWING)

    application_amount_adjust(actor=risk, application=application, amount=Decimal("50000.00"), reason="核减异常进项")

    application.refresh_from_db()
    assert application.state == State.REVIEWING
    # Divided as the rules' figures are (60 : 40), to the cent.
    assert (application.confirmed_amount, application.confirmed_incremental, application.confirmed_stock) == (
        Decimal("50000.00"),
        Decimal("30000.00"),
        Decimal("20000.00"),
    )
    assert (application.correction_reason, application.confirmed_by) == ("核减异常进项", risk)
    transition = application.transitions.get()
    assert (transition.from_state, transition.to_state) == (State.REVIEWING, State.REVIEWING)
    assert transition.reason == "调整退税额：100,000.00 元 → 50,000.00 元（核减异常进项）"
    assert transition.evidence["previous_amount"] == "100000.00"
    assert _verbs(application) == ["refund_application_adjust"]


def test_adjust_of_an_approved_application_sends_it_back_for_approval_again(risk, personas, taxpayer_a):
    application = _application(taxpayer_a, state=State.APPROVED, signed_off_at=timezone.now())

    application_amount_adjust(
        actor=risk,
        application=application,
        amount=Decimal("99999.99"),
        incremental=Decimal("59999.99"),
        stock=Decimal("40000.00"),
        reason="复核调减",
    )

    application.refresh_from_db()
    assert application.state == State.REVIEWING
    assert application.approved_at is None and application.approved_by is None
    assert application.signed_off_at is None
    assert (application.confirmed_incremental, application.confirmed_stock) == (
        Decimal("59999.99"),
        Decimal("40000.00"),
    )


def test_an_adjusted_application_is_approved_again_for_the_new_amount(risk, personas, org):
    taxpayer = eligible_taxpayer(org["branch_a"])
    officer = personas["refund_officer"]
    application = reviewing(officer, taxpayer)
    application_approve(actor=officer, application=application)
    adjusted = application.computed_amount - Decimal("0.01")

    application_amount_adjust(actor=risk, application=application, amount=adjusted, reason="调减一分")
    application_approve(actor=officer, application=application)

    application.refresh_from_db()
    assert application.state == State.APPROVED and application.confirmed_amount == adjusted
    assert [t.to_state for t in application.transitions.order_by("id")][-3:] == [
        State.APPROVED,
        State.REVIEWING,
        State.APPROVED,
    ]
    assert confirming_officer(taxpayer) != officer


@pytest.mark.parametrize(
    ("amount", "parts", "message"),
    [
        ("100000.01", {}, r"超过规则计算可退税额 100,000\.00 元"),
        ("0", {}, "必须大于零"),
        ("100000.00", {}, "无需调整"),
        ("90000.00", {"incremental": "60000.01", "stock": "29999.99"}, "超过规则计算的增量可退税额"),
        ("90000.00", {"incremental": "50000.00", "stock": "30000.00"}, "不等于确认退税额"),
        ("90000.001", {}, "两位小数"),
    ],
)
def test_adjust_never_above_what_the_rules_compute(risk, taxpayer_a, amount, parts, message):
    application = _application(taxpayer_a)
    parts = {name: Decimal(value) for name, value in parts.items()}
    with pytest.raises(ApplicationError, match=message):
        application_amount_adjust(actor=risk, application=application, amount=Decimal(amount), reason="调整", **parts)
    application.refresh_from_db()
    assert application.confirmed_amount == Decimal("100000.00") and not application.transitions.exists()


def test_adjust_above_the_claim_is_refused(risk, taxpayer_a):
    application = _application(taxpayer_a, claimed_amount=Decimal("80000.00"))
    with pytest.raises(ApplicationError, match=r"超过申请退税额 80,000\.00 元"):
        application_amount_adjust(actor=risk, application=application, amount=Decimal("90000.00"), reason="调整")


def test_adjust_of_a_one_kind_application_puts_it_all_on_that_kind(risk, taxpayer_a):
    application = _application(taxpayer_a, kind="incremental", incremental="70000.00", stock="0.00")
    application_amount_adjust(actor=risk, application=application, amount=Decimal("12345.67"), reason="调整")
    application.refresh_from_db()
    assert (application.confirmed_incremental, application.confirmed_stock) == (Decimal("12345.67"), Decimal("0"))


def test_a_proportional_split_never_takes_a_part_above_the_rules(risk, taxpayer_a):
    # 0.01 less than the whole: the proportional incremental part would round a cent above its rules' figure.
    application = _application(taxpayer_a, incremental="0.03", stock="0.03", claimed_amount=Decimal("0.06"))
    application_amount_adjust(actor=risk, application=application, amount=Decimal("0.05"), reason="调整")
    application.refresh_from_db()
    assert application.confirmed_incremental <= Decimal("0.03") and application.confirmed_stock <= Decimal("0.03")
    assert application.confirmed_incremental + application.confirmed_stock == Decimal("0.05")


@pytest.mark.parametrize("state", [State.PARTLY_PAID, State.PAID, State.RETURNED, State.REJECTED, State.STOPPED])
def test_adjust_refuses_after_payment_or_once_closed(risk, taxpayer_a, state):
    extra = {"paid_on": dt.date(2026, 3, 25), "paid_amount": Decimal("1.00")} if state in (
        State.PARTLY_PAID, State.PAID) else {}  # fmt: skip
    application = _application(taxpayer_a, state=state, **extra)
    with pytest.raises(TransitionRefused, match="可以调整退税额"):
        application_amount_adjust(actor=risk, application=application, amount=Decimal("1000.00"), reason="调整")


def test_adjust_needs_a_reason_and_the_permission(risk, personas, taxpayer_a):
    application = _application(taxpayer_a)
    with pytest.raises(ApplicationError, match="调整退税额必须填写原因"):
        application_amount_adjust(actor=risk, application=application, amount=Decimal("1000.00"), reason="")
    for name in ("refund_officer", "supervisor"):
        with pytest.raises(OutcomeNotPermitted, match="无权调整退税额"):
            application_amount_adjust(
                actor=personas[name], application=application, amount=Decimal("1000.00"), reason="调整"
            )


# --- the application page ---------------------------------------------------------------------------------------


def test_the_risk_officer_stops_and_adjusts_on_the_application_page(client_for, taxpayer_a):
    client = client_for("risk_officer")
    application = _application(taxpayer_a)
    page = client.get(reverse("refund:application_detail", args=[application.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="action-stop"' in html and 'id="action-adjust"' in html

    response = client.post(
        reverse("refund:application_action", args=[application.pk, "adjust"]),
        {"amount": "50000.00", "reason": "核减"},
    )
    assert response.status_code == 302
    response = client.post(reverse("refund:application_action", args=[application.pk, "adjust"]), {"amount": "1"})
    assert response.status_code == 400 and "请填写调整退税额的原因" in response.content.decode()

    response = client.post(reverse("refund:application_action", args=[application.pk, "stop"]), {"reason": "终止"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == State.STOPPED and application.confirmed_amount == Decimal("50000.00")
    html = client.get(reverse("refund:application_detail", args=[application.pk])).content.decode()
    assert 'id="outcomes"' in html and "调整退税额" in html and "终止退税" in html and "已终止退税" in html


def test_other_posts_see_no_outcome_forms_and_cannot_post_them(client_for, taxpayer_a):
    application = _application(taxpayer_a)
    client = client_for("refund_officer")
    html = client.get(reverse("refund:application_detail", args=[application.pk])).content.decode()
    assert 'id="action-stop"' not in html and 'id="action-adjust"' not in html
    response = client.post(reverse("refund:application_action", args=[application.pk, "stop"]), {"reason": "终止"})
    assert response.status_code == 403
    assert RefundApplication.objects.get(pk=application.pk).state == State.REVIEWING

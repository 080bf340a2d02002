"""集体会商: a 高风险 application waits for a consultation decision before approval; 同意退税 lets another officer
than its confirmer approve it, 退回申请 returns it and 不予退税 rejects it through refund's services, in the
deciding transaction; who may take part and speak; a decided consultation is read-only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from accounts.models import AuditEvent, User
from accounts.roles import RoleCode
from core.errors import ApplicationError, ConflictError
from refund.applications.risk import GradeRefused, consultation_allows
from refund.applications.services import application_approve, application_return
from refund.applications.workflow import ApprovalBlocked
from refund.models import ApplicationTransition, RefundApplication
from refund.tests.applications import confirming_officer, eligible_taxpayer, reviewing
from risk.consultations.services import (
    ConsultationClosed,
    consultation_decide,
    consultation_open,
    consultation_opinion_record,
    consultation_participants_add,
)
from risk.consultations.signals import consultation_decided
from risk.models import Consultation, ConsultationParticipant, RiskGrade

State = RefundApplication.State
Decision = Consultation.Decision
MINUTES = "会议认为：疑点已由分局实地核查，进项真实。"


def user_with(role: RoleCode, username: str, branch) -> User:
    user = User.objects.create_user(username=username, password="test-pass-123", full_name=username, branch=branch)
    user.groups.add(Group.objects.get(name=role.value))
    return user


@pytest.fixture
def legal(personas, org):
    return user_with(RoleCode.LEGAL_OFFICER, "legal_officer", org["section"])


@pytest.fixture
def risk(personas):
    return personas["risk_officer"]


@pytest.fixture
def refund(personas):
    return personas["refund_officer"]


def opened(risk, application, *participants) -> Consultation:
    return consultation_open(actor=risk, application=application, reason="高风险疑点待会商", participants=participants)


def with_opinions(consultation, risk, legal) -> Consultation:
    consultation_opinion_record(actor=risk, consultation=consultation, opinion="agree")
    consultation_opinion_record(actor=legal, consultation=consultation, opinion="supplement", text="留存核查记录")
    return consultation


@pytest.mark.risk_grade
def test_a_high_risk_application_waits_for_the_decision_and_is_then_approved_by_another_than_its_confirmer(
    refund, risk, legal, org, client_for
):
    from django.urls import reverse

    application = reviewing(refund, eligible_taxpayer(org["branch_a"]))  # the default rules: 高风险
    with pytest.raises(GradeRefused, match="目前尚无集体会商决定"):
        application_approve(actor=refund, application=application)
    page = reverse("refund:application_detail", args=[application.pk])
    opening = reverse("risk:consultation_open", args=[application.pk])
    assert opening in client_for("risk_officer").get(page).content.decode()  # the risk panel offers it to the host
    assert opening not in client_for("refund_officer").get(page).content.decode()  # not to who may not open one

    consultation = opened(risk, application, legal)
    assert consultation.grade == RiskGrade.HIGH and consultation.scan_id is not None
    with pytest.raises(GradeRefused):  # opened is not decided
        application_approve(actor=refund, application=application)
    with_opinions(consultation, risk, legal)
    with pytest.raises(GradeRefused):  # the opinions are not the decision either
        application_approve(actor=refund, application=application)

    consultation_decide(actor=risk, consultation=consultation, decision=Decision.APPROVE, minutes=MINUTES)
    application.refresh_from_db()
    assert consultation_allows(application)
    with pytest.raises(ApprovalBlocked, match="岗责分离"):  # separation of duties still holds
        application_approve(actor=confirming_officer(application.taxpayer), application=application)
    application_approve(actor=refund, application=application)
    application.refresh_from_db()
    assert application.state == State.APPROVED and application.approved_by == refund


def test_the_decision_needs_the_legal_and_risk_opinions(refund, risk, legal, org):
    application = reviewing(refund, eligible_taxpayer(org["branch_a"]))
    consultation = opened(risk, application, legal)
    with pytest.raises(ApplicationError, match="尚缺法制、风险部门的会商意见"):
        consultation_decide(actor=risk, consultation=consultation, decision=Decision.APPROVE, minutes=MINUTES)
    consultation_opinion_record(actor=risk, consultation=consultation, opinion="agree")
    with pytest.raises(ApplicationError, match="尚缺法制部门"):
        consultation_decide(actor=risk, consultation=consultation, decision=Decision.APPROVE, minutes=MINUTES)
    consultation_opinion_record(actor=legal, consultation=consultation, opinion="disagree", text="依据不足")
    with pytest.raises(ApplicationError, match="请填写会议纪要"):
        consultation_decide(actor=risk, consultation=consultation, decision=Decision.APPROVE, minutes=" ")
    consultation_decide(actor=risk, consultation=consultation, decision=Decision.APPROVE, minutes=MINUTES)
    consultation.refresh_from_db()
    assert consultation.state == Consultation.State.DECIDED and consultation.decided_by == risk


def test_return_sends_the_application_back_in_the_deciding_transaction_and_the_consultation_is_read_only(
    refund, risk, legal, org
):
    application = reviewing(refund, eligible_taxpayer(org["branch_a"]))
    consultation = with_opinions(opened(risk, application, legal), risk, legal)
    heard = []

    def receiver(sender, consultation, decision, **kwargs):
        from django.db import transaction

        heard.append((consultation.pk, decision, transaction.get_connection().in_atomic_block))

    consultation_decided.connect(receiver)
    try:
        with pytest.raises(ApplicationError, match="请填写决定说明"):
            consultation_decide(actor=risk, consultation=consultation, decision=Decision.RETURN, minutes=MINUTES)
        consultation_decide(
            actor=risk, consultation=consultation, decision=Decision.RETURN, minutes=MINUTES, note="进项发票待核实"
        )
    finally:
        consultation_decided.disconnect(receiver)
    assert heard == [(consultation.pk, Decision.RETURN, True)]
    application.refresh_from_db()
    assert application.state == State.RETURNED
    transition = ApplicationTransition.objects.filter(application=application).latest("id")
    assert transition.reason == "集体会商决定退回申请：进项发票待核实"
    assert transition.evidence == {"consultation_id": consultation.pk, "decision": "return"}
    assert not consultation_allows(application)
    verbs = list(AuditEvent.objects.filter(object_type="risk.consultation").values_list("verb", flat=True))
    assert verbs.count("risk.consultation_decide") == 1

    with pytest.raises(ConsultationClosed):
        consultation_opinion_record(actor=legal, consultation=consultation, opinion="agree")
    with pytest.raises(ConsultationClosed):
        consultation_decide(actor=risk, consultation=consultation, decision=Decision.APPROVE, minutes=MINUTES)
    with pytest.raises(ConsultationClosed):
        consultation_participants_add(actor=risk, consultation=consultation, users=[refund])


def test_reject_refuses_the_refund(refund, risk, legal, org):
    application = reviewing(refund, eligible_taxpayer(org["branch_a"]))
    consultation = with_opinions(opened(risk, application, legal), risk, legal)
    consultation_decide(
        actor=risk, consultation=consultation, decision=Decision.REJECT, minutes=MINUTES, note="虚开发票抵扣"
    )
    application.refresh_from_db()
    assert application.state == State.REJECTED and application.decision_reason == "集体会商决定不予退税：虚开发票抵扣"


def test_a_refused_action_undoes_the_whole_decision(refund, risk, legal, org):
    application = reviewing(refund, eligible_taxpayer(org["branch_a"]))
    consultation = with_opinions(opened(risk, application, legal), risk, legal)
    application_return(actor=refund, application=application, reason="另行回退")  # moved meanwhile
    with pytest.raises(ApplicationError, match="可以回退，该申请当前为“已回退”"):
        consultation_decide(
            actor=risk, consultation=consultation, decision=Decision.RETURN, minutes=MINUTES, note="退回"
        )
    consultation.refresh_from_db()
    assert consultation.state == Consultation.State.OPEN and consultation.decision == ""
    assert not AuditEvent.objects.filter(verb="risk.consultation_decide").exists()


def test_who_may_take_part_and_speak(refund, risk, legal, org, personas):
    application = reviewing(refund, eligible_taxpayer(org["branch_a"]))
    with pytest.raises(ApplicationError, match="不属于税政、法制、风险部门或该户主管分局"):
        opened(risk, application, personas["officer_b"])  # another branch's officer
    with pytest.raises(ApplicationError, match="不能参加本次会商"):
        opened(risk, application, personas["credit_officer"])
    assert not Consultation.objects.exists()  # refused as a whole

    consultation = opened(risk, application, legal, refund, personas["officer_a"])
    sections = dict(ConsultationParticipant.objects.filter(consultation=consultation).values_list("user", "section"))
    assert sections == {risk.pk: "risk", legal.pk: "legal", refund.pk: "policy", personas["officer_a"].pk: "branch"}
    with pytest.raises(ApplicationError, match="您不是本次会商的参会人"):
        consultation_opinion_record(actor=personas["supervisor"], consultation=consultation, opinion="agree")
    with pytest.raises(ApplicationError, match="请填写意见内容"):
        consultation_opinion_record(actor=legal, consultation=consultation, opinion="disagree", text="")
    with pytest.raises(ConflictError, match="已有正在进行的集体会商"):
        opened(risk, application)


# --- the pages -----------------------------------------------------------------------------------------------


def _client(client_for, personas, user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_the_pages_walk_a_consultation_to_a_return(client_for, refund, risk, legal, org, personas):
    from django.urls import reverse

    application = reviewing(refund, eligible_taxpayer(org["branch_a"], name="城东会商有限公司"))
    host = client_for("risk_officer")
    page = host.get(reverse("risk:consultation_open", args=[application.pk]))
    assert page.status_code == 200 and "发起集体会商" in page.content.decode()
    response = host.post(
        reverse("risk:consultation_open", args=[application.pk]),
        {"reason": "多项高风险疑点", "participants": [str(legal.pk), str(personas["officer_a"].pk)]},
    )
    consultation = Consultation.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("risk:consultation", args=[consultation.pk])

    detail = reverse("risk:consultation", args=[consultation.pk])
    html = host.get(detail).content.decode()
    assert "尚缺法制、风险部门的意见" in html and "会商中" in html
    assert reverse("refund:application_detail", args=[application.pk]) in html

    legal_client = _client(client_for, personas, legal)
    bad = legal_client.post(reverse("risk:consultation_opinion", args=[consultation.pk]), {"opinion": "disagree"})
    assert bad.status_code == 400 and "请填写意见内容" in bad.content.decode()
    ok = legal_client.post(reverse("risk:consultation_opinion", args=[consultation.pk]), {"opinion": "agree"})
    assert ok.status_code == 302
    host.post(reverse("risk:consultation_opinion", args=[consultation.pk]), {"opinion": "agree"})
    # a branch officer invited speaks for the branch; the refund officer, not invited, may not
    officer_a = client_for("officer_a")
    assert (
        officer_a.post(
            reverse("risk:consultation_opinion", args=[consultation.pk]),
            {"opinion": "supplement", "text": "已实地核查"},
        ).status_code
        == 302
    )
    refused = client_for("refund_officer").post(
        reverse("risk:consultation_opinion", args=[consultation.pk]), {"opinion": "agree"}
    )
    assert refused.status_code == 400 and "您不是本次会商的参会人" in refused.content.decode()
    # only the host's section decides
    assert legal_client.post(reverse("risk:consultation_decide", args=[consultation.pk]), {}).status_code == 403

    decided = host.post(
        reverse("risk:consultation_decide", args=[consultation.pk]),
        {"minutes": MINUTES, "decision": "return", "note": "进项发票待核实"},
    )
    assert decided.status_code == 302
    application.refresh_from_db()
    assert application.state == State.RETURNED
    html = host.get(detail).content.decode()
    assert 'data-decision="return"' in html and "退回申请" in html and "记录不能再修改" in html
    assert 'id="decision-form"' not in html and 'id="opinion-form"' not in html

    # the application's page links to the consultation (through the risk panel)
    from refund.applications import risk as gate
    from risk.application_scans import SCANNER

    gate.register_application_scanner(SCANNER)
    try:
        page = client_for("refund_officer").get(reverse("refund:application_detail", args=[application.pk]))
    finally:
        gate.unregister_application_scanner()
    assert f'href="{detail}"' in page.content.decode()


def test_a_branch_officer_sees_only_the_consultations_of_their_branch(client_for, refund, risk, org):
    from django.urls import reverse

    ours = opened(risk, reviewing(refund, eligible_taxpayer(org["branch_a"], name="城东甲公司")))
    theirs = opened(risk, reviewing(refund, eligible_taxpayer(org["branch_b"], name="城西乙公司")))
    officer_a = client_for("officer_a")
    listing = officer_a.get(reverse("risk:consultations")).content.decode()
    assert "城东甲公司" in listing and "城西乙公司" not in listing
    assert officer_a.get(reverse("risk:consultation", args=[ours.pk])).status_code == 200
    assert officer_a.get(reverse("risk:consultation", args=[theirs.pk])).status_code == 404
    assert (
        officer_a.post(reverse("risk:consultation_opinion", args=[theirs.pk]), {"opinion": "agree"}).status_code == 404
    )

    everything = client_for("risk_officer").get(reverse("risk:consultations") + "?state=open&q=城西").content.decode()
    assert "城西乙公司" in everything and "城东甲公司" not in everything


def test_the_list_page_runs_a_fixed_number_of_queries(client_for, refund, risk, org, django_assert_max_num_queries):
    from django.urls import reverse

    for k in range(3):
        opened(risk, reviewing(refund, eligible_taxpayer(org["branch_a"], name=f"城东{k}号公司")))
    client = client_for("risk_officer")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("risk:consultations"))
    assert response.content.decode().count("data-consultation=") == 3


def test_only_the_latest_consultation_speaks_for_the_application(refund, risk, legal, org):
    application = reviewing(refund, eligible_taxpayer(org["branch_a"]))
    first = with_opinions(opened(risk, application, legal), risk, legal)
    consultation_decide(actor=risk, consultation=first, decision=Decision.APPROVE, minutes=MINUTES)
    assert consultation_allows(application)
    opened(risk, application, legal)  # taken up again: what it decides counts, and until then nothing allows
    assert not consultation_allows(application)

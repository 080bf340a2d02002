"""留抵退税申请: arrival with the rules' figures, the workflow and its guards, the risk gate on arrival and
before approval, batch approval, assignment, coaching, recomputation, and paid refunds fed back to the rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import AuditEvent
from core.errors import ApplicationError, ConflictError
from core.periods import Period, period_range
from credit.tests.factories import TaxpayerFactory, rate
from notify.models import InboxNotification
from refund.applications import risk as application_risk
from refund.applications.batch import application_assign, applications_approve_batch
from refund.applications.services import (
    DuplicateApplication,
    RiskHitReturned,
    TransitionRefused,
    application_approve,
    application_confirm,
    application_investigate,
    application_recompute,
    application_reject,
    application_return,
    coaching_record_add,
    compute_application,
)
from refund.candidates.services import candidate_lists_build
from refund.models import ApplicationRiskHit, CandidateItem, CoachingRecord, RefundApplication
from refund.rules.inputs import PreviousRefund
from refund.screening.case_builder import previous_refunds_for, taxpayer_case
from refund.screening.decisions import decide
from refund.tests import risk_provider_stub
from refund.tests.applications import (
    RECEIVED_ON,
    confirming_officer,
    eligible_taxpayer,
    paid,
    receive,
    reviewing,
    rules_amount,
)
from refund.tests.candidates import FIRST_PUSH, screened
from taxpayers.calendar import add_working_days
from taxpayers.models import ComplianceRecord, VatReturn

pytestmark = pytest.mark.django_db
State = RefundApplication.State


@pytest.fixture
def officer(personas):
    return personas["refund_officer"]


@pytest.fixture
def taxpayer(org):
    return eligible_taxpayer(org["branch_a"])


def states(application) -> list[tuple[str, str]]:
    return list(application.transitions.order_by("id").values_list("from_state", "to_state"))


def verbs(application) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="refund.refundapplication", object_id=str(application.pk))
        .order_by("id")
        .values_list("verb", flat=True)
    )


# --- arrival -------------------------------------------------------------------------------------------------


def test_arrival_copies_the_branch_starts_the_clock_and_snapshots_the_rules(officer, taxpayer):
    application = receive(officer, taxpayer, document_number="SQ2026030001")
    application.refresh_from_db()
    assert application.branch_id == taxpayer.branch_id
    assert application.due_on == add_working_days(RECEIVED_ON, 10) == dt.date(2026, 3, 24)
    assert application.credit_level_at_submission == "A"
    assert application.regime == "CN-2025-7-class3"
    assert application.computed_eligible is True
    assert application.computed_amount == Decimal("1200000.00")
    assert (application.computed_incremental, application.computed_stock) == (Decimal("1200000.00"), Decimal("0"))
    assert application.size == "small" and application.industry_code == "E4710"
    assert application.inputs_snapshot["application_date"] == "2026-03-10"
    assert {r["period"] for r in application.inputs_snapshot["returns"]} >= {"2026-02", "2019-03"}
    assert application.result_snapshot["refundable_total"] == "1200000.00"
    assert application.result_snapshot["trace"]
    assert application.state == State.RECEIVED and application.risk_status == RefundApplication.Risk.CLEAR
    assert states(application) == [("", State.RECEIVED)]
    assert verbs(application) == ["refund_application_receive"]
    assert not application.risk_hits.exists()


def test_arrival_moves_the_candidate_item_to_applied_after_commit(
    officer, taxpayer, django_capture_on_commit_callbacks
):
    run = screened()
    candidate_lists_build(actor=officer, push_date=FIRST_PUSH, run=run)
    item = CandidateItem.objects.get(taxpayer=taxpayer, push_date=FIRST_PUSH)
    assert item.applied_at is None
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        receive(officer, taxpayer)
    assert callbacks
    item.refresh_from_db()
    assert item.applied_at is not None


def test_a_second_application_for_the_period_or_the_same_document_is_a_clear_error(officer, taxpayer, org):
    first = receive(officer, taxpayer, document_number="SQ1")
    with pytest.raises(DuplicateApplication, match="同一所属期不能重复申请"):
        receive(officer, taxpayer, document_number="SQ2")
    other = eligible_taxpayer(org["branch_a"])
    with pytest.raises(DuplicateApplication, match="申请文书号“SQ1”已受理"):
        receive(officer, other, document_number="SQ1")
    assert RefundApplication.objects.count() == 1
    application_reject(actor=officer, application=first, reason="纳税人撤回申请")
    again = receive(officer, taxpayer, document_number="SQ3")
    assert again.state == State.RECEIVED and RefundApplication.objects.count() == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"claimed": Decimal("0")}, "必须大于 0"),
        ({"claimed": Decimal("1.001")}, "两位小数"),
        ({"kind": "refund"}, "退税类型"),
        ({"period": "2026-13"}, "所属期"),
        ({"received_on": dt.date(2026, 2, 27)}, "早于申请退税所属期"),
        ({"received_on": dt.date(2099, 3, 1), "period": "2099-03"}, "将来"),
    ],
)
def test_arrival_refuses_wrong_input(officer, taxpayer, changes, message):
    kwargs = {"claimed": Decimal("100.00"), **changes}
    with pytest.raises(ApplicationError, match=message):
        receive(officer, taxpayer, **kwargs)
    assert not RefundApplication.objects.exists()


# --- arrival risk gate ---------------------------------------------------------------------------------------


def _hit(application, stage="arrival") -> dict[str, ApplicationRiskHit]:
    return {hit.code: hit for hit in application.risk_hits.filter(stage=stage)}


def test_a_claim_the_rules_do_not_reproduce_is_returned_with_both_figures(officer, taxpayer):
    application = receive(officer, taxpayer, claimed=Decimal("1200000.01"))
    application.refresh_from_db()
    assert application.state == State.RETURNED and application.risk_status == RefundApplication.Risk.HIT
    hits = _hit(application)
    assert set(hits) == {"recomputation_mismatch"}
    evidence = hits["recomputation_mismatch"].evidence
    assert (evidence["rules_amount"], evidence["compared_amount"]) == ("1200000.00", "1200000.01")
    assert evidence["difference"] == "0.01"
    assert hits["recomputation_mismatch"].title == "重算金额不一致"
    assert states(application) == [("", State.RECEIVED), (State.RECEIVED, State.RETURNED)]
    returned = application.transitions.get(to_state=State.RETURNED)
    assert "重算金额不一致" in returned.reason
    assert returned.evidence["hits"][0]["evidence"]["rules_amount"] == "1200000.00"
    assert verbs(application) == ["refund_application_receive", "refund_application_return"]


def test_a_taxpayer_rated_c_at_submission_is_returned(officer, org):
    taxpayer = eligible_taxpayer(org["branch_a"], credit_level="C")
    application = receive(officer, taxpayer, claimed=Decimal("1000.00"))
    hits = _hit(application)
    assert {"credit_level", "computed_ineligible", "recomputation_mismatch"} <= set(hits)
    assert hits["credit_level"].evidence["level_at_submission"] == "C"
    failed = [c["code"] for c in hits["computed_ineligible"].evidence["failed_conditions"]]
    assert "credit_a_or_b" in failed
    assert application.state == State.RETURNED


def test_a_compliance_record_since_the_latest_screening_is_a_finding(officer, taxpayer):
    screened()
    clean = receive(officer, eligible_taxpayer(taxpayer.branch))
    assert clean.state == State.RECEIVED
    ComplianceRecord.objects.create(
        taxpayer=taxpayer,
        kind=ComplianceRecord.Kind.IMMEDIATE_REFUND,
        occurred_on=dt.date(2025, 6, 1),
        document_number="即征即退2025-1",
    )
    application = receive(officer, taxpayer, claimed=Decimal("1200000.00"))
    hits = _hit(application)
    assert "compliance_changed" in hits
    assert hits["compliance_changed"].evidence["records"][0]["document_number"] == "即征即退2025-1"


def test_a_taxpayer_the_rules_cannot_assess_is_returned_with_the_reason(officer, org):
    taxpayer = TaxpayerFactory(branch=org["branch_a"], credit_level="A")  # no returns at all
    application = receive(officer, taxpayer, claimed=Decimal("5000.00"))
    assert application.computed_amount is None and application.result_snapshot["error"] == "missing_return"
    hits = _hit(application)
    assert set(hits) == {"computed_ineligible"}
    assert hits["computed_ineligible"].evidence["error"] == "missing_return"


def test_a_findings_facts_name_the_regime_and_conditions_by_title_and_amounts_with_separators(officer, org):
    """The facts are shown on the application page as they are: no regime or condition code, 1,234.56 amounts."""
    application = receive(officer, eligible_taxpayer(org["branch_a"], credit_level="C"), claimed=Decimal("1234.56"))
    hits = _hit(application)
    ineligible = dict(hits["computed_ineligible"].evidence["facts"])
    assert ineligible["适用政策"] == "其他纳税人留抵退税"
    assert "不符合：纳税信用级别为A级或B级" in ineligible
    assert not any("CN-" in str(v) or "_" in k for k, v in ineligible.items())
    mismatch = dict(hits["recomputation_mismatch"].evidence["facts"])
    assert mismatch["申请退税额（元）"] == "1,234.56"
    assert hits["recomputation_mismatch"].evidence["compared_amount"] == "1234.56"  # the machine key stays plain


@pytest.fixture
def provided_checks():
    """The risk app's checks as it registers them from its ``ready()``: the stand-in, taken out again after."""
    application_risk.register_application_checks(risk_provider_stub.APPLICATION_CHECKS)
    yield risk_provider_stub.APPLICATION_CHECKS
    application_risk.unregister_application_checks(risk_provider_stub.APPLICATION_CHECKS)


GATE_TITLES = {
    "recomputation_mismatch": "重算金额不一致",
    "credit_level": "纳税信用级别不符",
    "compliance_changed": "涉税合规记录变化",
    "computed_ineligible": "规则判定不符合",
}


def test_every_risk_check_code_has_a_chinese_title(provided_checks):
    assert [check.code for check in application_risk.provided_checks()][:4] == list(GATE_TITLES)
    assert all(application_risk.risk_title(code) == title for code, title in GATE_TITLES.items())
    assert application_risk.risk_title("risk_large_refund") == "大额退税"  # a provided check's own title
    assert application_risk.risk_title("gone_check", "存档的疑点") == "存档的疑点"  # the title stored with it
    assert application_risk.risk_title("gone_check") == "风险疑点"  # never the code


# --- the workflow --------------------------------------------------------------------------------------------


def test_the_whole_way_to_approval_writes_a_transition_and_an_audit_event_each_step(officer, taxpayer):
    application = receive(officer, taxpayer)
    application_investigate(actor=officer, application=application, note="电话核实进项")
    application_confirm(actor=confirming_officer(application.taxpayer), application=application)
    application_approve(actor=officer, application=application)
    application.refresh_from_db()
    assert application.state == State.APPROVED
    assert application.approved_by == officer and application.approved_at is not None
    assert application.confirmed_amount == Decimal("1200000.00")
    assert application.confirmed_by == confirming_officer(taxpayer)
    assert application.correction_reason == ""
    assert states(application) == [
        ("", State.RECEIVED),
        (State.RECEIVED, State.INVESTIGATING),
        (State.INVESTIGATING, State.REVIEWING),
        (State.REVIEWING, State.APPROVED),
    ]
    confirmer = confirming_officer(taxpayer).pk  # the branch officer confirms, another officer approves (岗责分离)
    assert [t.actor_id for t in application.transitions.order_by("created_at", "pk")] == [
        officer.pk,
        officer.pk,
        confirmer,
        officer.pk,
    ]
    assert application.transitions.get(to_state=State.INVESTIGATING).reason == "电话核实进项"
    assert verbs(application) == [
        "refund_application_receive",
        "refund_application_investigate",
        "refund_application_submit_for_review",
        "refund_application_approve",
    ]
    assert application.risk_hits.count() == 0


def test_actions_from_the_wrong_state_are_refused(officer, taxpayer):
    application = receive(officer, taxpayer)
    with pytest.raises(TransitionRefused, match="审核中"):
        application_approve(actor=officer, application=application)
    application_confirm(actor=confirming_officer(application.taxpayer), application=application)
    with pytest.raises(TransitionRefused):
        application_investigate(actor=officer, application=application)
    application_approve(actor=officer, application=application)
    with pytest.raises(TransitionRefused):
        application_approve(actor=officer, application=application)
    with pytest.raises(TransitionRefused):
        application_reject(actor=officer, application=application, reason="重复")
    with pytest.raises(TransitionRefused):
        application_return(actor=officer, application=application, reason="重复")
    application.refresh_from_db()
    assert application.state == State.APPROVED
    assert application.transitions.filter(to_state=State.APPROVED).count() == 1


def test_approval_after_rejection_is_refused_also_from_a_stale_page(officer, taxpayer):
    application = reviewing(officer, taxpayer)
    stale = RefundApplication.objects.get(pk=application.pk)
    application_reject(actor=officer, application=application, reason="进项发票异常，不予退税")
    with pytest.raises(TransitionRefused, match="不予退税"):
        application_approve(actor=officer, application=application)
    with pytest.raises(ConflictError, match="已被他人处理"):
        application_approve(actor=officer, application=stale)
    application.refresh_from_db()
    assert application.state == State.REJECTED and application.approved_at is None
    assert application.decision_reason == "进项发票异常，不予退税"


@pytest.mark.parametrize("action", [application_return, application_reject])
def test_return_and_rejection_need_a_reason(officer, taxpayer, action):
    application = receive(officer, taxpayer)
    with pytest.raises(ApplicationError, match="必须填写原因"):
        action(actor=officer, application=application, reason="  ")
    application.refresh_from_db()
    assert application.state == State.RECEIVED and application.transitions.count() == 1


def test_a_returned_application_goes_back_to_investigation_and_its_findings_are_resolved_on_confirmation(
    officer, taxpayer
):
    application = receive(officer, taxpayer, claimed=Decimal("1300000.00"))
    assert application.state == State.RETURNED
    application_investigate(actor=officer, application=application, note="核实申请额")
    application_confirm(actor=confirming_officer(application.taxpayer), application=application)
    hit = application.risk_hits.get()
    assert hit.resolved_by == confirming_officer(taxpayer) and hit.resolution.startswith("经核实")
    application_approve(actor=officer, application=application)
    assert application.state == State.APPROVED


def test_manual_return_keeps_reason_and_evidence(officer, taxpayer):
    application = receive(officer, taxpayer)
    application_return(actor=officer, application=application, reason="补充购销合同", evidence={"files": ["合同"]})
    transition = application.transitions.get(to_state=State.RETURNED)
    assert transition.reason == "补充购销合同" and transition.evidence == {"files": ["合同"]}
    assert transition.actor == officer


# --- 一键确认 ---------------------------------------------------------------------------------------------------


def test_a_correction_needs_a_reason_and_must_add_up(officer, org):
    taxpayer = eligible_taxpayer(org["branch_a"])
    application = receive(officer, taxpayer, kind="both")
    with pytest.raises(ApplicationError, match="必须填写原因"):
        application_confirm(
            actor=confirming_officer(application.taxpayer),
            application=application,
            amount=Decimal("1000000.00"),
            incremental=Decimal("1000000.00"),
            stock=Decimal("0"),
        )
    with pytest.raises(ApplicationError, match="之和"):
        application_confirm(
            actor=confirming_officer(application.taxpayer),
            application=application,
            amount=Decimal("1000000.00"),
            incremental=Decimal("900000.00"),
            stock=Decimal("0"),
            reason="扣除异常发票",
        )
    with pytest.raises(ApplicationError, match="分别填写"):
        application_confirm(
            actor=confirming_officer(application.taxpayer),
            application=application,
            amount=Decimal("1000000.00"),
            reason="扣除",
        )
    with pytest.raises(ApplicationError, match="不能多退"):
        application_confirm(
            actor=confirming_officer(application.taxpayer),
            application=application,
            incremental=Decimal("1300000.00"),
            stock=Decimal("0"),
            reason="多算",
        )
    assert application.transitions.count() == 1
    application_confirm(
        actor=confirming_officer(application.taxpayer),
        application=application,
        incremental=Decimal("1000000.00"),
        stock=Decimal("0"),
        reason="扣除异常发票进项",
    )
    application.refresh_from_db()
    assert application.state == State.REVIEWING
    assert (application.confirmed_amount, application.correction_reason) == (Decimal("1000000.00"), "扣除异常发票进项")
    assert application.transitions.get(to_state=State.REVIEWING).reason == "更正：扣除异常发票进项"
    # A documented correction of figures the rules still give passes the approval gate.
    application_approve(actor=officer, application=application)
    assert application.state == State.APPROVED and application.confirmed_amount == Decimal("1000000.00")


def test_an_incremental_only_application_confirms_no_stock(officer, taxpayer):
    application = receive(officer, taxpayer, kind="incremental")
    with pytest.raises(ApplicationError, match="只申请增量"):
        application_confirm(
            actor=confirming_officer(application.taxpayer),
            application=application,
            incremental=Decimal("1"),
            stock=Decimal("1"),
            reason="x",
        )
    application_confirm(
        actor=confirming_officer(application.taxpayer),
        application=application,
        amount=Decimal("1100000.00"),
        reason="核减",
    )
    assert (application.confirmed_incremental, application.confirmed_stock) == (Decimal("1100000.00"), Decimal("0"))


# --- approval risk gate --------------------------------------------------------------------------------------


def _approve_expecting_return(officer, application, code: str) -> ApplicationRiskHit:
    with pytest.raises(RiskHitReturned) as raised:
        application_approve(actor=officer, application=application)
    assert code in raised.value.extra["hits"]
    application.refresh_from_db()
    assert application.state == State.RETURNED and application.approved_at is None
    assert application.transitions.filter(to_state=State.APPROVED).count() == 0
    assert application.transitions.order_by("-id").first().from_state == State.REVIEWING
    return application.risk_hits.get(stage="approval", code=code)


def test_data_changed_since_confirmation_returns_the_application_before_approval(officer, taxpayer):
    application = reviewing(officer, taxpayer)
    VatReturn.objects.filter(taxpayer=taxpayer, period="2026-02").update(end_credit=Decimal("5000000"))
    hit = _approve_expecting_return(officer, application, "recomputation_mismatch")
    assert hit.evidence["compared_amount"] == "1200000.00"
    assert hit.evidence["rules_amount"] != "1200000.00"
    assert hit.evidence["computed_amount_before"] == "1200000.00"


def test_a_downgrade_after_submission_returns_the_application(officer, taxpayer):
    application = reviewing(officer, taxpayer)
    rate(taxpayer, "D", on=dt.date(2026, 3, 1), year=2025, basis="re_evaluated")
    hit = _approve_expecting_return(officer, application, "credit_level")
    assert (hit.evidence["level_at_submission"], hit.evidence["level_now"]) == ("A", "D")
    assert "computed_ineligible" in set(application.risk_hits.filter(stage="approval").values_list("code", flat=True))


def test_a_compliance_record_since_receipt_returns_the_application(officer, taxpayer):
    application = reviewing(officer, taxpayer)
    ComplianceRecord.objects.create(
        taxpayer=taxpayer,
        kind=ComplianceRecord.Kind.EVASION_PENALTY,
        occurred_on=dt.date(2026, 3, 12),
        document_number="税罚〔2026〕7号",
    )
    hit = _approve_expecting_return(officer, application, "compliance_changed")
    assert hit.evidence["records"][0]["kind"] == "evasion_penalty"
    # Verified and confirmed again, the same record no longer sends it back; a new one does.
    application_investigate(actor=officer, application=application, note="核实处罚情况：未达两次")
    application_confirm(actor=confirming_officer(application.taxpayer), application=application)
    application_approve(actor=officer, application=application)
    assert application.state == State.APPROVED


def test_the_return_message_says_which_checks_hit(officer, taxpayer):
    application = reviewing(officer, taxpayer)
    ComplianceRecord.objects.create(
        taxpayer=taxpayer,
        kind=ComplianceRecord.Kind.REFUND_FRAUD,
        occurred_on=dt.date(2026, 3, 12),
        document_number="税稽〔2026〕1号",
    )
    rate(taxpayer, "C", on=dt.date(2026, 3, 1), year=2025, basis="re_evaluated")
    expected = "审批前复核发现疑点：重算金额不一致、纳税信用级别不符、涉税合规记录变化、规则判定不符合，申请已回退"
    with pytest.raises(RiskHitReturned, match=expected):
        application_approve(actor=officer, application=application)


def test_the_risk_apps_checks_join_the_gate(officer, taxpayer, provided_checks):
    application = receive(officer, taxpayer)
    assert set(_hit(application)) == {"risk_large_refund"}
    assert _hit(application)["risk_large_refund"].title == "大额退税"


# --- batch approval ------------------------------------------------------------------------------------------


def test_batch_approval_approves_each_that_passes_and_says_why_the_others_did_not(officer, org):
    clean = [reviewing(officer, eligible_taxpayer(org["branch_a"])) for _ in range(2)]
    changed = reviewing(officer, eligible_taxpayer(org["branch_a"]))
    VatReturn.objects.filter(taxpayer=changed.taxpayer, period="2026-02").update(end_credit=Decimal("7000000"))
    unconfirmed = receive(officer, eligible_taxpayer(org["branch_b"]))
    summary = applications_approve_batch(actor=officer, applications=[*clean, changed, unconfirmed])
    assert [o.application.pk for o in summary.approved] == [a.pk for a in clean]
    assert summary.approved_amount == Decimal("2400000.00")
    refused = {o.application.pk: o.reason for o in summary.refused}
    assert set(refused) == {changed.pk, unconfirmed.pk}
    assert "重算金额不一致" in refused[changed.pk]
    assert "审核中" in refused[unconfirmed.pk]
    states_now = dict(RefundApplication.objects.values_list("pk", "state"))
    assert [states_now[a.pk] for a in clean] == [State.APPROVED, State.APPROVED]
    assert states_now[changed.pk] == State.RETURNED and states_now[unconfirmed.pk] == State.RECEIVED


def test_batch_approval_refuses_what_the_actor_may_not_see(personas, org):
    application = reviewing(personas["refund_officer"], eligible_taxpayer(org["branch_b"]))
    summary = applications_approve_batch(actor=personas["officer_a"], applications=[application])
    assert summary.approved == [] and summary.refused[0].reason == "不在您的管辖范围内。"
    application.refresh_from_db()
    assert application.state == State.REVIEWING


# --- assignment ----------------------------------------------------------------------------------------------


def test_assignment_to_an_officer_who_sees_the_branch(personas, org, django_capture_on_commit_callbacks):
    officer = personas["refund_officer"]
    mine = [receive(officer, eligible_taxpayer(org["branch_a"])) for _ in range(2)]
    theirs = receive(officer, eligible_taxpayer(org["branch_b"]))
    with django_capture_on_commit_callbacks(execute=True):
        assert application_assign(actor=officer, applications=mine, officer=personas["officer_a"]) == 2
    assert set(RefundApplication.objects.filter(assigned_to=personas["officer_a"])) == set(mine)
    assert InboxNotification.objects.get(user=personas["officer_a"]).title == "分派给您 2 件留抵退税申请"
    assert AuditEvent.objects.filter(verb="refund_application_assign").count() == 1
    with pytest.raises(ApplicationError, match="看不到"):
        application_assign(actor=officer, applications=[*mine, theirs], officer=personas["officer_a"])
    with pytest.raises(ApplicationError, match="不办理"):
        application_assign(actor=officer, applications=[theirs], officer=personas["service_officer"])
    assert application_assign(actor=officer, applications=[theirs], officer=personas["officer_b"]) == 1


# --- coaching ------------------------------------------------------------------------------------------------


def test_coaching_records_per_application_or_taxpayer(officer, taxpayer, org):
    application = receive(officer, taxpayer)
    record = coaching_record_add(
        actor=officer,
        taxpayer=taxpayer,
        topic="input_ratio",
        notes="讲解进项构成比例的计算",
        coached_on=dt.date(2026, 3, 11),
        application=application,
    )
    assert (record.officer, record.application, record.get_topic_display()) == (officer, application, "进项构成比例")
    general = coaching_record_add(
        actor=officer, taxpayer=taxpayer, topic="form", notes="申请表填写", coached_on=dt.date(2026, 3, 2)
    )
    assert general.application is None
    assert AuditEvent.objects.filter(verb="refund_coaching_add").count() == 2
    with pytest.raises(ApplicationError, match="辅导主题"):
        coaching_record_add(
            actor=officer, taxpayer=taxpayer, topic="weather", notes="x", coached_on=dt.date(2026, 3, 2)
        )
    with pytest.raises(ApplicationError, match="将来"):
        coaching_record_add(actor=officer, taxpayer=taxpayer, topic="form", notes="x", coached_on=dt.date(2099, 1, 1))
    with pytest.raises(ApplicationError, match="不属于"):
        coaching_record_add(
            actor=officer,
            taxpayer=eligible_taxpayer(org["branch_a"]),
            topic="form",
            notes="x",
            coached_on=dt.date(2026, 3, 2),
            application=application,
        )
    assert CoachingRecord.objects.count() == 2


# --- recomputation -------------------------------------------------------------------------------------------


def test_recomputation_refreshes_the_figures_and_the_snapshot(officer, taxpayer):
    application = receive(officer, taxpayer)
    VatReturn.objects.filter(taxpayer=taxpayer, period="2026-02").update(end_credit=Decimal("5500000"))
    application_recompute(actor=officer, application=application)
    application.refresh_from_db()
    assert application.computed_amount == rules_amount(taxpayer) != Decimal("1200000.00")
    assert application.result_snapshot["refundable_total"] == str(application.computed_amount)
    assert any(
        r["period"] == "2026-02" and r["end_credit"] == "5500000.00" for r in application.inputs_snapshot["returns"]
    )
    event = AuditEvent.objects.get(verb="refund_application_recompute")
    assert event.changes["computed_amount"][0] == "1200000.00"
    application_confirm(actor=confirming_officer(application.taxpayer), application=application)
    application_approve(actor=officer, application=application)
    with pytest.raises(TransitionRefused):
        application_recompute(actor=officer, application=application)


# --- paid refunds fed back into the rules --------------------------------------------------------------------


@pytest.fixture
def long_history(org):
    """Rated A, small, credits rising every month from 2019-04 to 2022-12 above a 100,000 base."""
    taxpayer = TaxpayerFactory(branch=org["branch_a"], credit_level="A", size="small", industry_code="E4710")
    VatReturn.objects.create(taxpayer=taxpayer, period="2019-03", end_credit=Decimal("100000"))
    for i, month in enumerate(period_range(Period(2019, 4), Period(2022, 12))):
        VatReturn.objects.create(
            taxpayer=taxpayer,
            period=str(month),
            end_credit=Decimal("800000") + 100000 * i,
            input_special_invoice=Decimal("300000"),
        )
    return taxpayer


def _decision(taxpayer, period: str) -> dict:
    return decide(taxpayer_case(taxpayer_id=taxpayer.pk, application_period=Period.parse(period)))


def test_a_paid_stock_refund_moves_the_base_into_the_incremental_credit(long_history):
    before = _decision(long_history, "2022-07")
    assert (before["refundable_incremental"], before["refundable_stock"]) == ("4500000.00", "100000.00")
    paid(
        long_history,
        period="2022-05",
        regime="CN-2022-14-small-micro",
        incremental=Decimal("0"),
        stock=Decimal("100000.00"),
    )
    assert previous_refunds_for([long_history.pk])[long_history.pk] == [
        PreviousRefund(Period(2022, 5), "CN-2022-14-small-micro", "stock", Decimal("100000.00"))
    ]
    after = _decision(long_history, "2022-07")
    assert (after["refundable_incremental"], after["refundable_stock"]) == ("4600000.00", "0.00")
    assert after["stock_credit"] == "0.00"


def test_a_used_six_month_window_is_not_counted_again(long_history):
    assert _decision(long_history, "2020-01")["eligible"] is True
    paid(long_history, period="2019-10", regime="CN-2019-39", incremental=Decimal("50000.00"), stock=Decimal("0"))
    after = _decision(long_history, "2020-01")
    assert after["eligible"] is False
    assert [c["code"] for c in after["conditions"] if not c["passed"]] == ["window_not_reused"]


def test_only_paid_applications_count_and_an_application_is_not_its_own_previous_refund(officer, long_history):
    receive(officer, long_history, period="2019-10", received_on=dt.date(2019, 10, 15))  # received, not paid
    assert previous_refunds_for([long_history.pk]) == {}
    refund = paid(long_history, period="2019-12", regime="CN-2019-39", incremental=Decimal("1.00"), stock=Decimal("0"))
    own = compute_application(
        taxpayer_id=long_history.pk,
        application_period=Period(2019, 12),
        received_on=dt.date(2019, 12, 10),
        kind="both",
        options=None,
    )
    assert own.case.previous_refunds == () and own.figures.eligible is True
    assert refund.pk


def test_no_provided_check_runs_unless_registered(officer, taxpayer):
    # The risk app registered its library's four checks from its ``ready()``; nothing else.
    assert [check.code for check in application_risk.provided_checks()] == list(GATE_TITLES)
    application = receive(officer, taxpayer)
    assert "risk_large_refund" not in _hit(application)

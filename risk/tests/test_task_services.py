"""Risk tasks through the six stages: each move with its history and audit row, the refusals in Chinese, and the
outcomes acting through refund's services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import AuditEvent
from core.errors import ApplicationError
from refund.models import ApplicationTransition, RefundApplication
from risk.models import InspectionTransfer, RiskHit, RiskTask, RiskTaskStage, Scan, TaskSource, TaskStage
from risk.tasks import services
from risk.tasks.outcomes import OutcomeRequest, TransferDetails
from risk.tests.builders import application

pytestmark = pytest.mark.django_db

DUE = timezone.localdate() + dt.timedelta(days=10)


def new_task(personas, taxpayer, **fields) -> RiskTask:
    fields.setdefault("source", TaskSource.MANUAL)
    fields.setdefault("title", "进项税额异常增长")
    return services.risk_task_create(actor=personas["risk_officer"], taxpayer=taxpayer, **fields)


def at_feedback(personas, taxpayer, **fields) -> RiskTask:
    """A task pushed to the taxpayer's branch (A), responded to and submitted by officer_a."""
    task = new_task(personas, taxpayer, **fields)
    services.risk_task_analyse(actor=personas["risk_officer"], task=task)
    services.risk_task_assign(
        actor=personas["risk_officer"], task=task, analysis="须实地核查", due_on=DUE, branch=taxpayer.branch
    )
    services.risk_task_respond(actor=personas["officer_a"], task=task, findings="实地核查：进项来自正常供应商。")
    return services.risk_task_submit(actor=personas["officer_a"], task=task)


def test_a_task_goes_through_the_six_stages_with_who_when_and_note(personas, taxpayer_a):
    risk, branch = personas["risk_officer"], personas["officer_a"]
    task = new_task(personas, taxpayer_a, description="上月进项为前六个月均值的 4 倍")
    assert task.stage == TaskStage.IDENTIFIED

    services.risk_task_analyse(actor=risk, task=task, note="调取发票明细")
    services.risk_task_assign(actor=risk, task=task, analysis="疑似虚开", due_on=DUE, branch=taxpayer_a.branch)
    services.risk_task_respond(actor=branch, task=task, findings="第一次核查")
    services.risk_task_respond(actor=branch, task=task, findings="核查完毕：业务真实")  # edits, no new stage
    services.risk_task_submit(actor=branch, task=task)
    services.risk_task_outcome(actor=risk, task=task, request=OutcomeRequest("cleared", "业务真实，排除疑点"))
    services.risk_task_close(actor=risk, task=task, follow_up="三个月跟踪无异常")

    task.refresh_from_db()
    assert (task.stage, task.outcome, task.outcome_label) == (TaskStage.CLOSED, "cleared", "排除疑点")
    assert (task.findings, task.responded_by, task.outcome_by) == ("核查完毕：业务真实", branch, risk)
    moves = list(RiskTaskStage.objects.filter(task=task).values_list("from_stage", "to_stage", "actor__username"))
    assert moves == [
        ("", "identified", "risk_officer"),
        ("identified", "analysing", "risk_officer"),
        ("analysing", "assigned", "risk_officer"),
        ("assigned", "responding", "officer_a"),
        ("responding", "feedback", "officer_a"),
        ("feedback", "monitoring", "risk_officer"),
        ("monitoring", "closed", "risk_officer"),
    ]
    assert "疑似虚开" in RiskTaskStage.objects.get(task=task, to_stage="assigned").note
    verbs = list(AuditEvent.objects.filter(object_type="risk.risktask").values_list("verb", flat=True))
    assert verbs.count("risk.task_respond") == 2 and "risk.task_close" in verbs and "risk.task_outcome" in verbs


def test_forward_moves_only_by_the_right_person(personas, taxpayer_a, org):
    task = new_task(personas, taxpayer_a)
    with pytest.raises(ApplicationError, match="只有风险管理股的人员可以开始分析"):
        services.risk_task_analyse(actor=personas["officer_a"], task=task)
    with pytest.raises(ApplicationError, match="只有处于“分析”、“任务”阶段的任务可以派发任务"):
        services.risk_task_assign(
            actor=personas["risk_officer"], task=task, analysis="x", due_on=DUE, branch=taxpayer_a.branch
        )
    services.risk_task_analyse(actor=personas["risk_officer"], task=task)
    with pytest.raises(ApplicationError, match="由城东税务分局管理，风险任务只能下发到该分局"):
        services.risk_task_assign(
            actor=personas["risk_officer"], task=task, analysis="x", due_on=DUE, branch=org["branch_b"]
        )
    with pytest.raises(ApplicationError, match="不是风险管理股的人员"):
        services.risk_task_assign(
            actor=personas["risk_officer"], task=task, analysis="x", due_on=DUE, assignee=personas["refund_officer"]
        )
    with pytest.raises(ApplicationError, match="请填写分析意见"):
        services.risk_task_assign(
            actor=personas["risk_officer"], task=task, analysis=" ", due_on=DUE, branch=taxpayer_a.branch
        )
    services.risk_task_assign(
        actor=personas["risk_officer"], task=task, analysis="核查", due_on=DUE, branch=taxpayer_a.branch
    )
    with pytest.raises(ApplicationError, match="已下发城东税务分局，只有该分局的人员可以登记应对情况"):
        services.risk_task_respond(actor=personas["officer_b"], task=task, findings="越权")
    with pytest.raises(ApplicationError, match="只有该分局的人员"):
        services.risk_task_respond(actor=personas["risk_officer"], task=task, findings="替分局应对")
    with pytest.raises(ApplicationError, match="只有处于“应对”阶段的任务可以提交反馈"):
        services.risk_task_submit(actor=personas["officer_a"], task=task)
    services.risk_task_respond(actor=personas["officer_a"], task=task, findings="已核查")
    services.risk_task_submit(actor=personas["officer_a"], task=task)
    with pytest.raises(ApplicationError, match="只有风险管理股的人员可以作出处理"):
        services.risk_task_outcome(actor=personas["officer_a"], task=task, request=OutcomeRequest("cleared", "x"))
    task.refresh_from_db()
    assert task.stage == TaskStage.FEEDBACK


def test_a_task_assigned_to_a_risk_officer_is_answered_by_that_officer_only(personas, taxpayer_a, django_user_model):
    task = new_task(personas, taxpayer_a, assignee=personas["risk_officer"], due_on=DUE)
    assert task.stage == TaskStage.ASSIGNED  # created assigned: 识别, then 任务 at once
    with pytest.raises(ApplicationError, match="只有承办人可以登记应对情况"):
        services.risk_task_respond(actor=personas["officer_a"], task=task, findings="x")
    services.risk_task_respond(actor=personas["risk_officer"], task=task, findings="电话核实")
    assert RiskTask.objects.get(pk=task.pk).stage == TaskStage.RESPONDING


def test_send_back_asks_the_branch_for_more(personas, taxpayer_a):
    task = at_feedback(personas, taxpayer_a)
    with pytest.raises(ApplicationError, match="请填写退回补充的原因"):
        services.risk_task_send_back(actor=personas["risk_officer"], task=task, reason="")
    services.risk_task_send_back(actor=personas["risk_officer"], task=task, reason="请补充供应商的核查")
    task.refresh_from_db()
    assert task.stage == TaskStage.RESPONDING and task.responded_at is None


def test_returned_goes_through_refunds_application_return(personas, taxpayer_a):
    app = application(taxpayer_a, received_on=timezone.localdate())
    task = at_feedback(personas, taxpayer_a, application=app)
    services.risk_task_outcome(
        actor=personas["risk_officer"], task=task, request=OutcomeRequest("returned", "进项来源须补充核实")
    )
    app.refresh_from_db()
    assert app.state == RefundApplication.State.RETURNED
    move = ApplicationTransition.objects.get(application=app, to_state="returned")
    assert f"风险任务{task.pk}" in move.reason and move.actor == personas["risk_officer"]
    assert ("核查情况", "实地核查：进项来自正常供应商。") in [tuple(f) for f in move.evidence["facts"]]
    task.refresh_from_db()
    assert (task.stage, task.outcome) == (TaskStage.MONITORING, "returned")


def test_rejected_goes_through_refunds_application_reject(personas, taxpayer_a):
    app = application(taxpayer_a, received_on=timezone.localdate())
    task = at_feedback(personas, taxpayer_a, application=app)
    services.risk_task_outcome(actor=personas["risk_officer"], task=task, request=OutcomeRequest("rejected", "骗税"))
    app.refresh_from_db()
    assert app.state == RefundApplication.State.REJECTED and "骗税" in app.decision_reason


def test_refunds_refusal_rolls_the_whole_outcome_back(personas, taxpayer_a):
    app = application(taxpayer_a, received_on=timezone.localdate(), state="rejected")
    task = at_feedback(personas, taxpayer_a, application=app)
    with pytest.raises(ApplicationError, match="可以回退"):
        services.risk_task_outcome(actor=personas["risk_officer"], task=task, request=OutcomeRequest("returned", "x"))
    task.refresh_from_db()
    assert (task.stage, task.outcome) == (TaskStage.FEEDBACK, "")
    assert not RiskTaskStage.objects.filter(task=task, to_stage="monitoring").exists()


def test_an_application_outcome_needs_an_application(personas, taxpayer_a):
    task = at_feedback(personas, taxpayer_a)
    with pytest.raises(ApplicationError, match="未关联退税申请，不能“退回申请”"):
        services.risk_task_outcome(actor=personas["risk_officer"], task=task, request=OutcomeRequest("returned", "x"))


def test_transfer_to_inspection_keeps_its_record(personas, taxpayer_a, taxpayer_b):
    details = TransferDetails(
        "县税稽移〔2026〕3号", timezone.localdate(), "市税务局第一稽查局", "涉嫌虚开，进项 500 万元"
    )
    task = at_feedback(personas, taxpayer_a)
    services.risk_task_outcome(
        actor=personas["risk_officer"], task=task, request=OutcomeRequest("transferred", "移送稽查", details)
    )
    transfer = InspectionTransfer.objects.get(task=task)
    assert (transfer.receiving_unit, transfer.created_by) == ("市税务局第一稽查局", personas["risk_officer"])
    other = at_feedback(personas, taxpayer_a)
    with pytest.raises(ApplicationError, match="已被其他移送记录使用"):
        services.risk_task_outcome(
            actor=personas["risk_officer"], task=other, request=OutcomeRequest("transferred", "再移送", details)
        )
    with pytest.raises(ApplicationError, match="须填写移送文号"):
        services.risk_task_outcome(
            actor=personas["risk_officer"], task=other, request=OutcomeRequest("transferred", "无记录")
        )


def test_a_task_from_a_scan_hit_carries_its_figures_once(personas, taxpayer_a):
    scan = Scan.objects.create(kind=Scan.Kind.ALL, as_of=timezone.localdate(), status=Scan.Status.SUCCEEDED)
    hit = RiskHit.objects.create(
        scan=scan,
        taxpayer=taxpayer_a,
        indicator_code="OPS_INPUT_SURGE",
        severity="high",
        evidence={"ratio": "4.2"},
    )
    task = services.risk_task_create_from_hit(actor=personas["risk_officer"], hit=hit)
    assert (task.source, task.severity, task.hit, task.title) == ("scan_hit", "high", hit, "申请前进项税额激增")
    assert task.evidence["figures"] == {"ratio": "4.2"} and task.evidence["lines"]
    with pytest.raises(ApplicationError, match="该疑点已有办理中的风险任务"):
        services.risk_task_create_from_hit(actor=personas["risk_officer"], hit=hit)
    with pytest.raises(ApplicationError, match="只有风险管理股的人员可以建立任务"):
        services.risk_task_create_from_hit(actor=personas["officer_a"], hit=hit)


def test_the_sampling_job_creates_tasks_without_an_officer(personas, taxpayer_b, org):
    task = services.risk_task_create(
        actor=None,
        taxpayer=taxpayer_b,
        source=TaskSource.SAMPLING,
        title="事后复核",
        branch=org["branch_b"],
        due_on=DUE,
    )
    assert (task.stage, task.branch, task.created_by) == (TaskStage.ASSIGNED, org["branch_b"], None)
    with pytest.raises(ApplicationError, match="任务来源不正确"):
        services.risk_task_create(actor=None, taxpayer=taxpayer_b, source="nope", title="x")


def test_push_down_sends_each_task_to_its_taxpayers_branch(personas, taxpayer_a, taxpayer_b):
    a = new_task(personas, taxpayer_a, source=TaskSource.UPPER, due_on=DUE)
    b = new_task(personas, taxpayer_b, source=TaskSource.UPPER)
    done = at_feedback(personas, taxpayer_a)
    moved, refused = services.risk_tasks_push_down(actor=personas["risk_officer"], tasks=[a, b, done])
    assert moved == 1 and len(refused) == 2
    assert "没有应对期限" in refused[0] and "当前处于“反馈”阶段" in refused[1]
    a.refresh_from_db()
    assert (a.stage, a.branch, a.due_on) == (TaskStage.ASSIGNED, taxpayer_a.branch, DUE)
    moved, _ = services.risk_tasks_push_down(actor=personas["risk_officer"], tasks=[b], due_on=DUE)
    b.refresh_from_db()
    assert moved == 1 and b.branch == taxpayer_b.branch


PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"


def test_evidence_files_are_checked_and_stored_under_our_own_name(personas, taxpayer_a, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    task = new_task(personas, taxpayer_a, assignee=personas["risk_officer"], due_on=DUE)
    officer = personas["risk_officer"]
    with pytest.raises(ApplicationError, match="只能上传以下类型的文件"):
        services.risk_task_file_add(actor=officer, task=task, uploaded_file=SimpleUploadedFile("a.exe", b"MZ"))
    with pytest.raises(ApplicationError, match=r"文件内容与扩展名“\.pdf”不符"):
        services.risk_task_file_add(actor=officer, task=task, uploaded_file=SimpleUploadedFile("a.pdf", b"MZ\x90"))
    with pytest.raises(ApplicationError, match="文件超过 20 MB"):
        big = SimpleUploadedFile("a.pdf", PDF + b"0" * services.MAX_FILE_BYTES)
        services.risk_task_file_add(actor=officer, task=task, uploaded_file=big)
    stored = services.risk_task_file_add(
        actor=officer, task=task, uploaded_file=SimpleUploadedFile("../../核查报告.pdf", PDF)
    )
    assert stored.original_name == "核查报告.pdf"
    assert stored.file.name.startswith("risk/tasks/") and f"task-{task.pk}-" in stored.file.name
    assert ".." not in stored.file.name
    with pytest.raises(ApplicationError, match="只有承办人可以登记应对情况"):
        services.risk_task_file_add(
            actor=personas["officer_a"], task=task, uploaded_file=SimpleUploadedFile("b.pdf", PDF)
        )


def test_adjust_stop_and_clawback_go_through_refund_and_the_ledger(personas, taxpayer_a):
    """调整退税额 and 终止退税 before payment are refund's services; 追缴 after payment is the ledger's reversing
    entry; the page offers each only where it applies."""
    from decimal import Decimal

    from ledger.models import LedgerEntry
    from ledger.tests.factories import approved_application, pay
    from risk.tasks.outcomes import outcome_choices

    risk = personas["risk_officer"]
    adjusted = approved_application(taxpayer_a)
    task = at_feedback(personas, taxpayer_a, application=adjusted)
    offered = {code for code, _ in outcome_choices(task)}
    assert {"amount_adjusted", "stopped", "returned"} <= offered and "clawback" not in offered
    with pytest.raises(ApplicationError, match="须填写金额"):
        services.risk_task_outcome(actor=risk, task=task, request=OutcomeRequest("amount_adjusted", "进项转出"))
    services.risk_task_outcome(
        actor=risk, task=task, request=OutcomeRequest("amount_adjusted", "进项转出", amount=Decimal("80000.00"))
    )
    adjusted.refresh_from_db()
    assert (adjusted.state, adjusted.confirmed_amount) == (RefundApplication.State.REVIEWING, Decimal("80000.00"))

    stopped = approved_application(taxpayer_a, period="2026-04")
    task = at_feedback(personas, taxpayer_a, application=stopped)
    services.risk_task_outcome(actor=risk, task=task, request=OutcomeRequest("stopped", "虚开发票"))
    stopped.refresh_from_db()
    assert stopped.state == RefundApplication.State.STOPPED

    paid = pay(taxpayer_a, personas["refund_officer"], voucher="V-9", period="2026-02").application
    task = at_feedback(personas, taxpayer_a, application=paid)
    offered = {code for code, _ in outcome_choices(task)}
    assert "clawback" in offered and not {"amount_adjusted", "returned", "rejected"} & offered
    services.risk_task_outcome(
        actor=risk, task=task, request=OutcomeRequest("clawback", "骗取退税", amount=Decimal("25000.00"))
    )
    entry = LedgerEntry.objects.get(application=paid, kind="clawback")
    assert entry.amount == Decimal("-25000.00") and entry.decision_reference == f"风险任务{task.pk}追缴"
    task.refresh_from_db()
    assert (task.stage, task.outcome) == (TaskStage.MONITORING, "clawback")

"""A risk task on a 高风险 application is decided by collective consultation: no officer's own outcome, the task
opens the consultation, and the consultation's decision (which acts on the application) becomes the task's
outcome."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.roles import RoleCode
from refund.models import RefundApplication
from refund.tests.applications import eligible_taxpayer, reviewing
from risk.consultations.services import (
    consultation_decide,
    consultation_opinion_record,
    consultation_participants_add,
)
from risk.models import Consultation, TaskSource, TaskStage
from risk.tasks import services
from risk.tasks.outcomes import OutcomeRequest
from risk.tests.test_consultations import user_with

pytestmark = [pytest.mark.django_db, pytest.mark.risk_grade]
DUE = dt.date.today() + dt.timedelta(days=10)


def test_a_high_risk_task_takes_its_outcome_from_the_consultation(personas, org):
    risk, refund, officer = personas["risk_officer"], personas["refund_officer"], personas["officer_a"]
    legal = user_with(RoleCode.LEGAL_OFFICER, "legal_officer", org["section"])
    application = reviewing(refund, eligible_taxpayer(org["branch_a"]))  # the default rules: 高风险
    taxpayer = application.taxpayer
    task = services.risk_task_create(
        actor=risk, taxpayer=taxpayer, source=TaskSource.MANUAL, title="进项异常", application=application
    )
    services.risk_task_analyse(actor=risk, task=task)
    services.risk_task_assign(actor=risk, task=task, analysis="实地核查", due_on=DUE, branch=taxpayer.branch)
    services.risk_task_respond(actor=officer, task=task, findings="供应商已走逃，进项存疑。")
    task = services.risk_task_submit(actor=officer, task=task)

    assert services.awaits_consultation(task)
    with pytest.raises(services.TaskRefused, match="须提请集体会商"):
        services.risk_task_outcome(actor=risk, task=task, request=OutcomeRequest("cleared", "已核实"))

    consultation = services.risk_task_consult(actor=risk, task=task)
    task.refresh_from_db()
    assert task.consultation == consultation and "供应商已走逃" in consultation.reason
    with pytest.raises(services.TaskRefused, match="请等待会商决定"):
        services.risk_task_consult(actor=risk, task=task)

    consultation_participants_add(actor=risk, consultation=consultation, users=[legal])
    consultation_opinion_record(actor=risk, consultation=consultation, opinion="disagree", text="进项存疑")
    consultation_opinion_record(actor=legal, consultation=consultation, opinion="disagree", text="证据不足以退税")
    consultation_decide(
        actor=risk,
        consultation=consultation,
        decision=Consultation.Decision.RETURN,
        minutes="会议认为进项来源存疑，退回申请。",
        note="进项来源须补正",
    )
    application.refresh_from_db()
    task.refresh_from_db()
    assert application.state == RefundApplication.State.RETURNED
    assert (task.stage, task.outcome, task.outcome_note) == (TaskStage.MONITORING, "returned", "进项来源须补正")
    assert f"集体会商第 {consultation.pk} 号决定“退回申请”" in task.stages.latest("id").note

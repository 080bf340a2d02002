"""The outcomes of a risk task at 反馈 (处理结果), in one table: each with its Chinese name, whether it needs the
task's refund application, and what it does — through the owning app's service, never by writing another app's
rows (退回申请, 不予退税, 调整退税额 and 终止退税 are refund's ``application_return``, ``application_reject``,
``application_amount_adjust`` and ``application_stop``; 追缴 is the ledger's ``clawback_record``, a reversing entry
with its own notice; 移送稽查 is this app's transfer record).

Each ``act`` runs inside the outcome's transaction (``services.risk_task_outcome``): when the owning app refuses
(the application has moved on, say), the whole outcome is rolled back and its refusal shown. An outcome added to
``OUTCOMES`` is offered on the task page at once; the model stores the key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from accounts.models import signed_in
from core.errors import ApplicationError
from ledger.clawbacks import clawback_record
from refund.applications.services import (
    application_amount_adjust,
    application_reject,
    application_return,
    application_stop,
)
from refund.models import RefundApplication

from ..models import InspectionTransfer, RiskTask


@dataclass(frozen=True)
class TransferDetails:
    """移送稽查's record as the officer fills it in."""

    transfer_number: str
    transferred_on: dt.date
    receiving_unit: str
    case_summary: str


@dataclass(frozen=True)
class OutcomeRequest:
    """What the officer decided: the outcome's key, the reason (处理说明), for 移送稽查 the transfer, and for
    调整退税额 the new amount or for 追缴 the amount recovered (元)."""

    code: str
    note: str
    transfer: TransferDetails | None = None
    amount: Decimal | None = None


@dataclass(frozen=True)
class Outcome:
    code: str
    label: str
    needs_application: bool
    act: Callable[..., str]  # (actor, task, request) -> the sentence the stage history and the audit keep


def _facts(task: RiskTask, note: str) -> dict:
    """The evidence refund keeps with its transition: the task and its findings, in words."""
    return {
        "facts": [
            ("风险任务", f"{task.pk}：{task.title}"),
            ("核查情况", (task.findings or "—")[:300]),
            ("处理说明", note[:300]),
        ]
    }


def _cleared(*, actor, task: RiskTask, request: OutcomeRequest) -> str:
    return "排除疑点"


def _returned(*, actor, task: RiskTask, request: OutcomeRequest) -> str:
    application_return(
        actor=actor,
        application=task.application,
        reason=f"风险任务{task.pk}：{request.note}",
        evidence=_facts(task, request.note),
    )
    return f"退回申请（{task.application.application_period} 所属期）"


def _rejected(*, actor, task: RiskTask, request: OutcomeRequest) -> str:
    application_reject(actor=actor, application=task.application, reason=f"风险任务{task.pk}：{request.note}")
    return f"不予退税（{task.application.application_period} 所属期）"


def _amount(request: OutcomeRequest, what: str) -> Decimal:
    if request.amount is None or request.amount <= 0:
        raise ApplicationError(f"{what}须填写金额（元），且大于零。")
    return request.amount


def _adjusted(*, actor, task: RiskTask, request: OutcomeRequest) -> str:
    amount = _amount(request, "调整退税额")
    application_amount_adjust(
        actor=actor, application=task.application, amount=amount, reason=f"风险任务{task.pk}：{request.note}"
    )
    return f"调整退税额为 {amount:,.2f} 元（{task.application.application_period} 所属期），重新审核"


def _stopped(*, actor, task: RiskTask, request: OutcomeRequest) -> str:
    application_stop(actor=actor, application=task.application, reason=f"风险任务{task.pk}：{request.note}")
    return f"终止退税（{task.application.application_period} 所属期）"


def _clawed_back(*, actor, task: RiskTask, request: OutcomeRequest) -> str:
    amount = _amount(request, "追缴")
    clawback_record(
        actor=actor,
        application=task.application,
        amount=amount,
        reason=f"风险任务{task.pk}：{request.note}",
        decided_on=timezone.localdate(),
        reference=f"风险任务{task.pk}追缴",
    )
    return f"追缴已退税款 {amount:,.2f} 元（{task.application.application_period} 所属期）"


def _transferred(*, actor, task: RiskTask, request: OutcomeRequest) -> str:
    details = request.transfer
    if details is None or not all(
        (details.transfer_number.strip(), details.receiving_unit.strip(), details.case_summary.strip())
    ):
        raise ApplicationError("移送稽查须填写移送文号、移送日期、接收单位和案情摘要。")
    number = details.transfer_number.strip()
    if InspectionTransfer.objects.filter(transfer_number=number).exists():
        raise ApplicationError(f"移送文号“{number}”已被其他移送记录使用，请核对。")
    InspectionTransfer.objects.create(
        task=task,
        transfer_number=number,
        transferred_on=details.transferred_on,
        receiving_unit=details.receiving_unit.strip(),
        case_summary=details.case_summary.strip(),
        created_by=signed_in(actor),
    )
    return f"移送稽查（{details.receiving_unit.strip()}，文号 {number}）"


OUTCOMES: dict[str, Outcome] = {
    outcome.code: outcome
    for outcome in (
        Outcome("cleared", "排除疑点", False, _cleared),
        Outcome("returned", "退回申请", True, _returned),
        Outcome("rejected", "不予退税", True, _rejected),
        Outcome("amount_adjusted", "调整退税额", True, _adjusted),
        Outcome("stopped", "终止退税", True, _stopped),
        Outcome("clawback", "追缴", True, _clawed_back),
        Outcome("transferred", "移送稽查", False, _transferred),
    )
}


def outcome_label(code: str) -> str:
    outcome = OUTCOMES.get(code)
    return outcome.label if outcome else ("—" if not code else "其他处理结果")


PAID_STATES = (RefundApplication.State.PAID, RefundApplication.State.PARTLY_PAID, RefundApplication.State.STOPPED)
BEFORE_PAYMENT = ("returned", "rejected", "amount_adjusted")


def outcome_choices(task: RiskTask) -> list[tuple[str, str]]:
    """The outcomes the task page offers: those needing an application only when the task names one; 追缴 only
    once money was paid, and return, rejection and adjustment only before."""
    state = task.application.state if task.application_id else None
    offered = []
    for o in OUTCOMES.values():
        if o.needs_application and state is None:
            continue
        if o.code == "clawback" and state not in PAID_STATES:
            continue
        if o.code in BEFORE_PAYMENT and state in PAID_STATES:
            continue
        offered.append((o.code, o.label))
    return offered

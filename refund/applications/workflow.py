"""The workflow of a 留抵退税申请 as data: which states each action starts from and leads to, its Chinese name,
and the preconditions of approval (审批) and assignment (分派) that the pages count with and the services enforce.
Reads only; the moves themselves are ``transitions.transition``'s.

    received ─┬─> investigating ──> reviewing ──> approved ──> paid
              │        ^   │            │  ^         │
              │        │   │            │  └─────────┘ 调整退税额 (adjust, reason): back to review
              └────────┼───┴────────────┴──> returned (回退, reason + evidence) ──> investigating
                       └──────────────────────> rejected (不予退税, reason; final)
    any state not paid in full ──> stopped (终止退税, reason; final — a part already paid stays paid)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from accounts.scoping import visible_branch_ids
from core.errors import ApplicationError
from core.money import format_yuan

from ..models import OPEN_APPLICATION_STATES, ApplicationRiskHit, RefundApplication, SignOffThreshold

State = RefundApplication.State


# Which states each action may start from. A rejected, stopped or paid application moves no more; an approved one
# to paid, in one payment or in parts (部分退库 until the parts add up to the confirmed amount), or back to review
# when its amount is adjusted before payment (调整退税额: approved again, for the new amount). 终止退税 stops any
# application the treasury has not paid in full; of a part payment the rest is stopped, what was paid stays.
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "investigate": (State.RECEIVED, State.RETURNED),
    "submit_for_review": (State.RECEIVED, State.INVESTIGATING),
    "approve": (State.REVIEWING,),
    "return": (State.RECEIVED, State.INVESTIGATING, State.REVIEWING),
    "reject": (State.RECEIVED, State.INVESTIGATING, State.REVIEWING, State.RETURNED),
    "mark_partly_paid": (State.APPROVED, State.PARTLY_PAID),
    "mark_paid": (State.APPROVED, State.PARTLY_PAID),
    "adjust": (State.RECEIVED, State.INVESTIGATING, State.REVIEWING, State.APPROVED),
    "stop": (
        State.RECEIVED,
        State.INVESTIGATING,
        State.REVIEWING,
        State.RETURNED,
        State.APPROVED,
        State.PARTLY_PAID,
    ),
}


TARGET: dict[str, str] = {
    "investigate": State.INVESTIGATING,
    "submit_for_review": State.REVIEWING,
    "approve": State.APPROVED,
    "return": State.RETURNED,
    "reject": State.REJECTED,
    "mark_partly_paid": State.PARTLY_PAID,
    "mark_paid": State.PAID,
    "adjust": State.REVIEWING,
    "stop": State.STOPPED,
}


ACTION_LABELS: dict[str, str] = {
    "investigate": "开始调查核实",
    "submit_for_review": "确认并提交审核",
    "approve": "审批通过",
    "return": "回退",
    "reject": "不予退税",
    "mark_partly_paid": "部分退库",
    "mark_paid": "退库",
    "adjust": "调整退税额",
    "stop": "终止退税",
}


class TransitionRefused(ApplicationError):
    """The application is not in a state the action may start from."""

    code = "transition_refused"


def state_label(state: str) -> str:
    return State(state).label


@dataclass(frozen=True)
class ApprovalBlock:
    """Why an application cannot be approved now. ``reason`` is the same sentence for every application blocked
    the same way, so that a batch confirmation can group them ("2 件：…")."""

    code: str  # "out_of_scope" | "state" | "open_risk_hit" | "own_confirmation" | "sign_off_required"
    reason: str


class ApprovalBlocked(ApplicationError):
    code = "approval_blocked"


def sign_off_threshold_on(day: dt.date) -> Decimal | None:
    """The 大额退税签批标准 in force on ``day`` (None before the first one)."""
    return (
        SignOffThreshold.objects.filter(effective_from__lte=day)
        .order_by("-effective_from")
        .values_list("amount", flat=True)
        .first()
    )


def needs_sign_off(application: RefundApplication, threshold: Decimal | None) -> bool:
    """Whether the approval of ``application`` waits for a 局领导签批 that it does not have yet."""
    amount = application.confirmed_amount
    return (
        threshold is not None and amount is not None and amount > threshold and application.signed_off_at is None
    )


def approval_blocks(*, actor, applications: Iterable[RefundApplication]) -> dict[int, ApprovalBlock]:
    """审批's precondition, the one check both the batch confirmation's count and every approval use: for each of
    ``applications`` that cannot be approved now, why — outside the actor's branches, not under review
    (``ALLOWED_FROM["approve"]``), a risk finding not yet verified, or separation of duties (岗责分离): the
    officer who confirmed the application may not approve it, and above the bureau's threshold a supervisor
    signs off first. An application absent from the result can be approved (the approval then re-runs the risk
    gate on the data as it stands). Two queries."""
    applications = list(applications)
    visible = visible_branch_ids(actor)
    threshold = sign_off_threshold_on(timezone.localdate())
    open_hits = set(
        ApplicationRiskHit.objects.filter(application__in=applications, resolved_at__isnull=True).values_list(
            "application_id", flat=True
        )
    )
    reviewing = "、".join(state_label(s) for s in ALLOWED_FROM["approve"])
    blocks = {}
    for application in applications:
        if visible is not None and application.branch_id not in visible:
            blocks[application.pk] = ApprovalBlock("out_of_scope", "不在您的管辖范围内")
        elif application.state not in ALLOWED_FROM["approve"]:
            blocks[application.pk] = ApprovalBlock(
                "state", f"当前为“{state_label(application.state)}”，只有“{reviewing}”的申请可以审批"
            )
        elif application.pk in open_hits:
            blocks[application.pk] = ApprovalBlock("open_risk_hit", "有尚未核实的风险疑点，须核实后再审批")
        elif application.confirmed_by_id is not None and application.confirmed_by_id == actor.pk:
            blocks[application.pk] = ApprovalBlock(
                "own_confirmation", "您是该申请的确认人，按岗责分离须由其他审批人审批"
            )
        elif needs_sign_off(application, threshold):
            blocks[application.pk] = ApprovalBlock(
                "sign_off_required", f"确认退税额超过{format_yuan(threshold)}元，须经局领导签批后再审批"
            )
    return blocks


@dataclass(frozen=True)
class AssignmentBlock:
    """Why an application is not assigned to the officer (the same sentence for every one blocked the same way)."""

    code: str  # "outside" | "closed" | "already"
    reason: str


def assignment_blocks(*, applications: Iterable[RefundApplication], officer) -> dict[int, AssignmentBlock]:
    """分派's precondition, the one check both the batch confirmation's count and the assignment use: the officer
    must see the application's branch (a direct assignment of such an application is refused as a whole), a
    settled application is not reassigned, and one already with the officer stays as it is."""
    visible = visible_branch_ids(officer)
    name = officer.full_name or officer.username
    blocks = {}
    for application in applications:
        if visible is not None and application.branch_id not in visible:
            blocks[application.pk] = AssignmentBlock("outside", f"{name}看不到其所属的分局，不能分派")
        elif application.state not in OPEN_APPLICATION_STATES:
            label = state_label(application.state)
            blocks[application.pk] = AssignmentBlock("closed", f"当前为“{label}”，已办结的申请不再分派")
        elif application.assigned_to_id == officer.pk:
            blocks[application.pk] = AssignmentBlock("already", f"已分派给{name}")
    return blocks


def open_actions(application: RefundApplication) -> list[str]:
    """The actions the application's current state allows (the page shows the others disabled, with why)."""
    return [action for action, states in ALLOWED_FROM.items() if application.state in states]


def actions_refused_reason(action: str) -> str:
    allowed: Iterable[str] = ALLOWED_FROM[action]
    return "仅限“" + "、".join(state_label(s) for s in allowed) + "”的申请"

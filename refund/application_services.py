"""Every write to a 留抵退税申请: arrival, the workflow, coaching — one service per business action.

The state moves only through ``_transition``: a conditional ``UPDATE … WHERE state IN (expected)``, so when
two officers act on the same application at once exactly one update matches and the other gets a
``ConflictError`` ("已被他人处理"). The transition row, the audit event and the model fields change in the
same transaction; side effects (notifications, funnel moves) run after commit.

Workflow (DESIGN.md step 4)::

    received ─┬─> investigating ──> reviewing ──> approved ──> paid
              │        ^   │            │
              └────────┼───┴────────────┴──> returned (回退, reason + evidence) ──> investigating
                       └──────────────────────> rejected (不予退税, reason; final)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.audit import record_event
from accounts.errors import ApplicationError, ConflictError

from .models import ApplicationTransition, RefundApplication

State = RefundApplication.State

# Which states each action may start from. A rejected or paid application moves no more; an approved one
# only to paid. Nothing leads back to approved, so an application can never be approved twice.
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "investigate": (State.RECEIVED, State.RETURNED),
    "submit_for_review": (State.RECEIVED, State.INVESTIGATING),
    "approve": (State.REVIEWING,),
    "return": (State.RECEIVED, State.INVESTIGATING, State.REVIEWING),
    "reject": (State.RECEIVED, State.INVESTIGATING, State.REVIEWING, State.RETURNED),
    "mark_paid": (State.APPROVED,),
}
TARGET: dict[str, str] = {
    "investigate": State.INVESTIGATING,
    "submit_for_review": State.REVIEWING,
    "approve": State.APPROVED,
    "return": State.RETURNED,
    "reject": State.REJECTED,
    "mark_paid": State.PAID,
}
ACTION_LABELS: dict[str, str] = {
    "investigate": "开始调查核实",
    "submit_for_review": "确认并提交审核",
    "approve": "审批通过",
    "return": "回退",
    "reject": "不予退税",
    "mark_paid": "退库",
}


class TransitionRefused(ApplicationError):
    """The application is not in a state the action may start from."""

    code = "transition_refused"


def _state_label(state: str) -> str:
    return State(state).label


def _transition(
    *,
    application: RefundApplication,
    action: str,
    actor,
    reason: str = "",
    evidence: dict | None = None,
    fields: dict | None = None,
) -> RefundApplication:
    """Move ``application`` by ``action`` if, in the database, it is still in a state the action allows.

    Must run inside the caller's transaction. Other officers (and the batch approval of another officer)
    may be acting on the same row: the conditional UPDATE is the only guard, and it holds under
    concurrency because PostgreSQL re-checks the WHERE clause after waiting for the other writer's lock.
    """
    allowed = ALLOWED_FROM[action]
    target = TARGET[action]
    now = timezone.now()
    values = {**(fields or {}), "state": target, "state_changed_at": now, "updated_at": now}
    matched = RefundApplication.objects.filter(pk=application.pk, state__in=allowed).update(**values)
    if not matched:
        current = RefundApplication.objects.filter(pk=application.pk).values_list("state", flat=True).first()
        label = ACTION_LABELS[action]
        if current is None:
            raise ApplicationError("该申请不存在或已被删除。", code="not_found")
        if current != application.state:
            raise ConflictError(
                f"该申请已被他人处理（当前状态：{_state_label(current)}），不能{label}。请刷新页面后查看。",
                code="state_changed",
            )
        allowed_text = "、".join(_state_label(s) for s in allowed)
        raise TransitionRefused(f"只有“{allowed_text}”的申请可以{label}，该申请当前为“{_state_label(current)}”。")
    before = application.state
    for name, value in values.items():
        setattr(application, name, value)
    ApplicationTransition.objects.create(
        application=application,
        from_state=before,
        to_state=target,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        reason=reason[:500],
        evidence=evidence or {},
    )
    record_event(
        actor=actor,
        verb=f"refund_application_{action}",
        target=application,
        summary=f"{ACTION_LABELS[action]}：{_state_label(before)} → {_state_label(target)}"
        + (f"（{reason[:200]}）" if reason else ""),
        changes={"state": [before, target], **({"reason": reason} if reason else {})},
    )
    return application


def application_mark_paid(
    *,
    application: RefundApplication,
    actor,
    paid_on: dt.date,
    amount: Decimal,
    incremental: Decimal,
    stock: Decimal,
    voucher_number: str,
) -> RefundApplication:
    """退库: the treasury paid an approved application (called by ``ledger.services`` in its transaction)."""
    if incremental + stock != amount:
        raise ApplicationError(f"增量 {incremental} 与存量 {stock} 之和不等于退库金额 {amount}。")
    with transaction.atomic():
        return _transition(
            application=application,
            action="mark_paid",
            actor=actor,
            reason=f"退库凭证号 {voucher_number}",
            fields={"paid_on": paid_on, "paid_amount": amount, "paid_incremental": incremental, "paid_stock": stock},
        )


def open_actions(application: RefundApplication) -> list[str]:
    """The actions the application's current state allows (the page shows the others disabled, with why)."""
    return [action for action, states in ALLOWED_FROM.items() if application.state in states]


def actions_refused_reason(action: str) -> str:
    allowed: Iterable[str] = ALLOWED_FROM[action]
    return "仅限“" + "、".join(_state_label(s) for s in allowed) + "”的申请"

"""How an application's state moves: the one conditional ``UPDATE … WHERE state IN (expected)`` that every
workflow service goes through, with its transition row (流转记录) and audit event, and the reason an officer must
give for the moves that need one.

When two officers act on the same application at once exactly one update matches and the other gets a
``ConflictError`` ("已被他人处理").
"""

from __future__ import annotations

from django.utils import timezone

from accounts.audit import record_event
from accounts.models import signed_in
from core.errors import ApplicationError, ConflictError

from ..models import ApplicationTransition, RefundApplication
from .workflow import ACTION_LABELS, ALLOWED_FROM, TARGET, TransitionRefused, state_label


def transition(
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
                f"该申请已被他人处理（当前状态：{state_label(current)}），不能{label}。请刷新页面后查看。",
                code="state_changed",
            )
        allowed_text = "、".join(state_label(s) for s in allowed)
        raise TransitionRefused(f"只有“{allowed_text}”的申请可以{label}，该申请当前为“{state_label(current)}”。")
    before = application.state
    for name, value in values.items():
        setattr(application, name, value)
    ApplicationTransition.objects.create(
        application=application,
        from_state=before,
        to_state=target,
        actor=signed_in(actor),
        reason=reason[:500],
        evidence=evidence or {},
    )
    record_event(
        actor=actor,
        verb=f"refund_application_{action}",
        target=application,
        summary=f"{ACTION_LABELS[action]}：{state_label(before)} → {state_label(target)}"
        + (f"（{reason[:200]}）" if reason else ""),
        changes={"state": [before, target], **({"reason": reason} if reason else {})},
    )
    return application


def required_reason(reason: str, what: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ApplicationError(f"{what}必须填写原因。")
    if len(text) > 500:
        raise ApplicationError(f"{what}原因过长：最多 500 个字符，实际 {len(text)} 个。")
    return text

"""局领导签批 (separation of duties on large refunds): the supervisor's sign-off on one application, and the
bureau's threshold above which approval waits for it. The approval's precondition lives in
``workflow.approval_blocks``; these are the writes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.audit import record_event
from accounts.models import signed_in
from core.errors import ApplicationError, ConflictError
from core.money import format_yuan

from ..models import RefundApplication, SignOffThreshold
from .workflow import needs_sign_off, sign_off_threshold_on, state_label

State = RefundApplication.State


def application_sign_off(*, actor, application: RefundApplication, opinion: str = "") -> RefundApplication:
    """签批: the supervisor agrees that the officers may approve ``application`` (under review, its confirmed amount
    above the threshold in force today). Not a state move: the approval still follows, by a refund officer."""
    opinion = (opinion or "").strip()
    threshold = sign_off_threshold_on(timezone.localdate())
    if application.state != State.REVIEWING:
        raise ApplicationError(
            f"只有“{state_label(State.REVIEWING)}”的申请需要签批，该申请当前为“{state_label(application.state)}”。",
            code="sign_off_refused",
        )
    if not needs_sign_off(application, threshold):
        why = "已签批" if application.signed_off_at else f"确认退税额未超过签批标准{format_yuan(threshold)}元"
        raise ApplicationError(f"该申请{why}，无需签批。", code="sign_off_refused")
    now = timezone.now()
    with transaction.atomic():
        matched = RefundApplication.objects.filter(
            pk=application.pk,
            state=State.REVIEWING,
            signed_off_at__isnull=True,
            confirmed_amount=application.confirmed_amount,
        ).update(signed_off_by=signed_in(actor), signed_off_at=now, sign_off_opinion=opinion[:500], updated_at=now)
        if not matched:
            raise ConflictError("该申请已被他人处理，请刷新页面后查看。", code="state_changed")
        application.signed_off_by, application.signed_off_at, application.sign_off_opinion = actor, now, opinion[:500]
        record_event(
            actor=actor,
            verb="refund_application_sign_off",
            target=application,
            summary=f"局领导签批，确认退税额 {format_yuan(application.confirmed_amount)} 元"
            + (f"（{opinion[:200]}）" if opinion else ""),
            changes={
                "confirmed_amount": str(application.confirmed_amount),
                **({"opinion": opinion} if opinion else {}),
            },
        )
    return application


def sign_off_threshold_set(*, actor, amount: Decimal, effective_from: dt.date, reason: str) -> SignOffThreshold:
    """A new 大额退税签批标准 from ``effective_from`` (today or later: what applied in the past stays as it was)."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("请填写调整原因。", code="reason_required")
    if amount is None or amount <= 0:
        raise ApplicationError("签批金额标准须大于0元。", code="amount_invalid")
    if effective_from < timezone.localdate():
        raise ApplicationError("生效日期不能早于今天：已经适用的标准不能更改。", code="effective_in_past")
    try:
        with transaction.atomic():
            row = SignOffThreshold.objects.create(
                amount=amount, effective_from=effective_from, reason=reason[:200], set_by=signed_in(actor)
            )
            record_event(
                actor=actor,
                verb="refund_sign_off_threshold_set",
                target=row,
                summary=f"大额退税签批标准自{effective_from:%Y-%m-%d}起为 {format_yuan(amount)} 元（{reason[:100]}）",
                changes={"amount": str(amount), "effective_from": effective_from.isoformat(), "reason": reason},
            )
    except IntegrityError as exc:
        raise ApplicationError(
            f"{effective_from:%Y-%m-%d}已有一条签批标准，请选择其他生效日期。", code="effective_taken"
        ) from exc
    return row

"""The risk review's outcomes on an application that refund owns: 终止退税 (stop) and 调整退税额 (adjust the
confirmed amount before payment). Risk sits above refund and acts through these two services (a risk officer on
the application page, later a risk task's outcome); refund never asks risk.

* ``application_stop`` — any application the treasury has not paid in full moves to 已终止退税, final, with its
  reason. Of a part payment (部分退库) the rest is stopped and what was paid stays paid: the ledger then refuses
  any further payment, and the rules still count the part paid as a refund obtained.
* ``application_amount_adjust`` — before payment, the confirmed amount and its incremental/stock split are set as
  a correction of the confirmation (一键确认) sets them, never above what the rules compute nor above the claim;
  the application goes (back) to review, so an approved one is approved again for the new amount.

Both lock the application row first (a treasury payment may be recorded at the same moment: the ledger locks the
same row), move it through ``transitions.transition`` and record the audit event in the same transaction.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import signed_in
from accounts.scoping import visible_branch_ids
from core.errors import ApplicationError, ConflictError
from core.money import format_yuan, parse_yuan

from ..models import RefundApplication
from ..rules.split import BOTH, proportional_split
from .computation import confirmed_figures
from .transitions import required_reason, transition
from .workflow import state_label

STOP_PERMISSION = "refund.stop_refundapplication"
ADJUST_PERMISSION = "refund.adjust_refundapplication"
ZERO = Decimal("0.00")


class OutcomeNotPermitted(ApplicationError):
    """The actor's post may not act on this application (no permission, or outside its branches)."""

    status_code = 403
    code = "outcome_not_permitted"


def _check_actor(actor, permission: str, application: RefundApplication, what: str) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm(permission):
        raise OutcomeNotPermitted(f"您的岗位无权{what}。")
    visible = visible_branch_ids(actor)
    if visible is not None and application.branch_id not in visible:
        raise OutcomeNotPermitted("该申请不在您的管辖范围内。")


def _locked(application: RefundApplication) -> RefundApplication:
    """The application's row, locked for this transaction (the treasury's payment locks it too), as it stands; an
    application changed since the caller read it is a conflict (the officer decided on what it was)."""
    locked = RefundApplication.objects.select_for_update().filter(pk=application.pk).first()
    if locked is None:
        raise ApplicationError("该申请不存在或已被删除。", code="not_found")
    if locked.state != application.state or locked.paid_amount != application.paid_amount:
        raise ConflictError(
            f"该申请已被他人处理（当前状态：{state_label(locked.state)}）。请刷新页面后查看。", code="state_changed"
        )
    return locked


def application_stop(*, actor, application: RefundApplication, reason: str) -> RefundApplication:
    """终止退税: stop ``application`` for good, with the reason (a risk outcome). Refused once it is paid in full
    (a paid refund is recovered by 追缴 in the ledger), rejected or already stopped."""
    reason = required_reason(reason, "终止退税")
    _check_actor(actor, STOP_PERMISSION, application, "终止退税")
    with transaction.atomic():
        locked = _locked(application)
        paid = locked.paid_amount or ZERO
        stopped = locked.unpaid_amount if paid else locked.confirmed_amount
        summary = reason
        if paid:
            summary += f"（已退库 {format_yuan(paid)} 元不变，尚未退库的 {format_yuan(stopped)} 元不再退库）"
        transition(
            application=application,
            action="stop",
            actor=actor,
            reason=summary,
            evidence={
                "paid_amount": str(paid) if paid else None,
                "stopped_amount": None if stopped is None else str(stopped),
            },
            fields={"decision_reason": reason},
        )
    return application


def _adjusted_parts(
    application: RefundApplication, amount: Decimal, incremental: Decimal | None, stock: Decimal | None
) -> tuple[Decimal | None, Decimal | None]:
    """The parts of the adjusted amount: as given, or — a "both" application given only the amount — divided in the
    proportion of the rules' figures, neither part above the rules' own (a cent of rounding goes to the other)."""
    if application.kind != BOTH or incremental is not None or stock is not None:
        return incremental, stock
    computed_incremental = application.computed_incremental or ZERO
    split = proportional_split(amount, incremental=computed_incremental, stock=application.computed_stock or ZERO)
    if split.incremental > computed_incremental:
        return computed_incremental, amount - computed_incremental
    return split.incremental, split.stock


def _adjusted_figures(application: RefundApplication, amount, incremental, stock) -> tuple[Decimal, Decimal, Decimal]:
    """(amount, incremental, stock) of an adjustment, or ``ApplicationError`` saying why not."""
    amount = parse_yuan(amount, "调整后的退税额")
    if amount <= 0:
        raise ApplicationError("调整后的退税额必须大于零；不应退税的，请终止退税。")
    if application.computed_amount is None:
        raise ApplicationError("规则未能计算该申请的可退税额，不能调整；请先重新计算，核实后再调整。")
    if amount > application.computed_amount:
        raise ApplicationError(
            f"调整后的退税额 {format_yuan(amount)} 元超过规则计算可退税额 "
            f"{format_yuan(application.computed_amount)} 元，不能多退。"
        )
    if amount > application.claimed_amount:
        raise ApplicationError(
            f"调整后的退税额 {format_yuan(amount)} 元超过申请退税额 {format_yuan(application.claimed_amount)} 元。"
        )
    incremental, stock = _adjusted_parts(application, amount, incremental, stock)
    confirmed, inc, stk, _ = confirmed_figures(application, amount, incremental, stock)
    for part, label, limit in (
        (inc, "增量", application.computed_incremental or ZERO),
        (stk, "存量", application.computed_stock or ZERO),
    ):
        if part > limit:
            raise ApplicationError(
                f"调整后的{label}退税额 {format_yuan(part)} 元超过规则计算的{label}可退税额 {format_yuan(limit)} 元。"
            )
    if (confirmed, inc, stk) == (application.confirmed_amount, application.confirmed_incremental,
                                 application.confirmed_stock):  # fmt: skip
        raise ApplicationError(f"确认退税额已是 {format_yuan(confirmed)} 元，无需调整。")
    return confirmed, inc, stk


def application_amount_adjust(
    *,
    actor,
    application: RefundApplication,
    amount: Decimal,
    reason: str,
    incremental: Decimal | None = None,
    stock: Decimal | None = None,
) -> RefundApplication:
    """调整退税额: before payment, set the confirmed amount (and its split; a "both" application given only the
    amount is divided as the rules' figures are) with the reason. The application goes to review: an approved one
    is approved again, a sign-off given for the old amount is asked again when still needed."""
    reason = required_reason(reason, "调整退税额")
    _check_actor(actor, ADJUST_PERMISSION, application, "调整退税额")
    with transaction.atomic():
        locked = _locked(application)
        confirmed, inc, stk = _adjusted_figures(locked, amount, incremental, stock)
        before = locked.confirmed_amount
        transition(
            application=application,
            action="adjust",
            actor=actor,
            reason=(
                f"调整退税额：{'未确认' if before is None else format_yuan(before) + ' 元'} → "
                f"{format_yuan(confirmed)} 元（{reason}）"
            ),
            evidence={
                "previous_amount": None if before is None else str(before),
                "confirmed_amount": str(confirmed),
                "confirmed_incremental": str(inc),
                "confirmed_stock": str(stk),
                "computed_amount": str(locked.computed_amount),
            },
            fields={
                "confirmed_amount": confirmed,
                "confirmed_incremental": inc,
                "confirmed_stock": stk,
                "correction_reason": reason,
                "confirmed_by": signed_in(actor),
                "confirmed_at": timezone.now(),
                "approved_by": None,
                "approved_at": None,
                "signed_off_by": None,
                "signed_off_at": None,
                "sign_off_opinion": "",
            },
        )
    return application

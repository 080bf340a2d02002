"""追缴: a clawback of refund already paid, recorded in the refund ledger as a reversing entry.

A risk review after payment (事后复核), or any decision that a refund was paid wrongly (财政部 税务总局公告2022年第
14号 第十二条: a refund obtained by a wrongly applied policy is returned; one obtained by fraud is recovered under
the 税收征收管理法), recovers part or all of what the treasury paid. The ledger records it as its own entry with
negative figures, linked to the application and — through ``LedgerReversal`` — to the payment entries it reverses
(the latest first, each never beyond what it paid), so that every sum over the ledger (the ledger page's totals,
its exports, the finance bureau's list) is the net refunded. The taxpayer's finance contact gets a clawback
notice through the SMS outbox, as a payment's bill goes.

The application's own figures (what was confirmed and paid) do not move: a clawback is the ledger's. Only a paid
application, or one stopped after a part payment (终止退税), is clawed back — one still paid in parts is stopped
first. The decision's reference (追缴决定文书号) is unique: the same decision submitted twice records it once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.audit import record_event
from accounts.scoping import visible_branch_ids
from core.errors import ApplicationError, ConflictError
from core.masking import mask_identifier
from core.money import format_yuan, parse_yuan
from notify.selectors import sendable_template
from refund.models import RefundApplication
from refund.rules.split import proportional_split

from .models import LedgerEntry, LedgerReversal
from .services import _locked_application, _queue_bill

ZERO = Decimal("0.00")
PERMISSION = "ledger.clawback_ledgerentry"
BILL_TEMPLATE_CODE = "ledger_clawback_bill"
REFERENCE_MAX = 60
State = RefundApplication.State


class ClawbackRefused(ApplicationError):
    """A clawback that cannot be recorded as asked; the message says why."""

    code = "clawback_refused"


class ClawbackNotPermitted(ClawbackRefused):
    status_code = 403
    code = "clawback_not_permitted"


class DuplicateClawback(ConflictError):
    """The same decision (追缴决定文书号) was recorded already: a double submission records nothing more."""

    code = "duplicate_clawback"


@dataclass(frozen=True)
class Allocation:
    """What the clawback takes back of one payment entry."""

    entry: LedgerEntry
    amount: Decimal
    incremental: Decimal
    stock: Decimal


def clawback_bill_template():
    return sendable_template(BILL_TEMPLATE_CODE, name="留抵退税追缴通知", to_do="发送追缴通知", then="补发")


def clawback_bill_key(entry: LedgerEntry) -> str:
    return f"ledger-clawback-bill:{entry.pk}"


def clawback_bill_variables(entry: LedgerEntry) -> dict:
    day = entry.paid_on
    return {
        "taxpayer_name": entry.name,
        "refund_kind": entry.get_refund_kind_display(),
        "amount": format_yuan(-entry.amount),
        "decided_on": f"{day.year}年{day.month}月{day.day}日",
        "reference": entry.decision_reference or "",
        "branch_name": entry.branch.name,
    }


def default_reference(application: RefundApplication, decided_on: dt.date, amount: Decimal) -> str:
    """The reference of a decision recorded without its document number: the application, the date and the amount
    (the same decision submitted twice has the same one)."""
    return f"追缴-{application.pk}-{decided_on.isoformat()}-{amount}"


def _checked(*, actor, application, amount, reason: str, decided_on, reference: str) -> tuple[Decimal, str, str]:
    """(amount, reason, reference) of the request, or ``ClawbackRefused``: who, how much, why and when."""
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm(PERMISSION):
        raise ClawbackNotPermitted("您的岗位无权登记追缴。")
    visible = visible_branch_ids(actor)
    if visible is not None and application.branch_id not in visible:
        raise ClawbackNotPermitted("该申请不在您的管辖范围内。")
    try:
        amount = parse_yuan(amount, "追缴金额")
    except ApplicationError as exc:
        raise ClawbackRefused(exc.message) from None
    if amount <= 0:
        raise ClawbackRefused("追缴金额必须大于零。")
    reason = (reason or "").strip()
    if not reason:
        raise ClawbackRefused("登记追缴必须填写原因。")
    if len(reason) > 500:
        raise ClawbackRefused(f"追缴原因过长：最多 500 个字符，实际 {len(reason)} 个。")
    if not isinstance(decided_on, dt.date):
        raise ClawbackRefused("请填写追缴决定日期。")
    if decided_on > timezone.localdate():
        raise ClawbackRefused(f"追缴决定日期 {decided_on.isoformat()} 晚于今天，不能是将来的日期。")
    reference = (reference or "").strip() or default_reference(application, decided_on, amount)
    if len(reference) > REFERENCE_MAX:
        raise ClawbackRefused(f"追缴决定文书号过长：最多 {REFERENCE_MAX} 个字符。")
    return amount, reason, reference


def _duplicate(reference: str) -> DuplicateClawback | None:
    existing = LedgerEntry.objects.filter(decision_reference=reference).first()
    if existing is None:
        return None
    return DuplicateClawback(
        f"追缴决定“{reference}”已于 {timezone.localdate(existing.created_at).isoformat()} 登记"
        f"（{existing.name}，追缴 {format_yuan(-existing.amount)} 元），不能重复登记。",
        extra={"entry": existing.pk},
    )


def _check_state(application: RefundApplication) -> None:
    if application.state == State.PARTLY_PAID:
        raise ClawbackRefused(
            "该申请为部分退库，尚有未退库金额：请先终止退税（尚未退库的部分不再退库），再追缴已退库的金额。"
        )
    if application.state not in (State.PAID, State.STOPPED) or not application.paid_amount:
        raise ClawbackRefused(
            f"只有已退库的申请可以追缴，该申请当前为“{application.get_state_display()}”，没有已退库的金额。"
        )


def clawback_allocations(application: RefundApplication, amount: Decimal) -> list[Allocation]:
    """What ``amount`` takes back of each payment entry of ``application``: the latest payment first, each up to what
    is left of it after earlier clawbacks, its parts in the proportion of what is left of its own (a cent of rounding
    never takes a part beyond what is left of it). Refused beyond the net paid."""
    payments = list(
        LedgerEntry.objects.select_for_update()
        .filter(application=application, kind=LedgerEntry.Kind.PAYMENT)
        .order_by("-paid_on", "-pk")
    )
    reversed_ = {
        row["reversed_entry"]: row
        for row in LedgerReversal.objects.filter(reversed_entry__in=payments)
        .values("reversed_entry")
        .annotate(amount=Sum("amount"), incremental=Sum("incremental_amount"), stock=Sum("stock_amount"))
    }
    left = []
    for entry in payments:
        done = reversed_.get(entry.pk, {})
        left.append(
            (
                entry,
                entry.incremental_amount - (done.get("incremental") or ZERO),
                entry.stock_amount - (done.get("stock") or ZERO),
            )
        )
    net = sum((incremental + stock for _, incremental, stock in left), ZERO)
    if amount > net:
        raise ClawbackRefused(
            f"追缴金额 {format_yuan(amount)} 元超过该申请的净退税额 {format_yuan(net)} 元"
            f"（已退库 {format_yuan(sum((e.amount for e in payments), ZERO))} 元，此前已追缴 "
            f"{format_yuan(sum((e.amount for e in payments), ZERO) - net)} 元）。"
        )
    allocations, rest = [], amount
    for entry, incremental, stock in left:
        take = min(rest, incremental + stock)
        if take <= 0:
            continue
        split = proportional_split(take, incremental=incremental, stock=stock)
        part_incremental, part_stock = split.incremental, split.stock
        if part_incremental > incremental:
            part_incremental, part_stock = incremental, take - incremental
        allocations.append(Allocation(entry, take, part_incremental, part_stock))
        rest -= take
        if rest == 0:
            break
    return allocations


def _queue_clawback_bill(entry: LedgerEntry, *, actor) -> None:
    """The clawback notice to the finance contact, once (its outbox key is the entry's); a template switched off or
    a missing number is kept as ``bill_error`` and the clawback stands."""
    try:
        template = clawback_bill_template()
    except ApplicationError as exc:
        entry.bill_error = exc.message[:200]
        return
    _queue_bill(
        entry=entry,
        taxpayer=entry.taxpayer,
        template=template,
        actor=actor,
        key=clawback_bill_key(entry),
        variables=clawback_bill_variables(entry),
        title="追缴通知",
    )


def clawback_record(
    *,
    actor,
    application: RefundApplication,
    amount: Decimal,
    reason: str,
    decided_on: dt.date,
    reference: str = "",
) -> LedgerEntry:
    """追缴: record the clawback of ``amount`` of what the treasury paid for ``application`` (decided on
    ``decided_on``, for ``reason``; ``reference`` the decision's document number, else one made of the application,
    date and amount) as a reversing ledger entry, and queue the clawback notice. Never more than the net paid; the
    same decision twice raises ``DuplicateClawback``."""
    amount, reason, reference = _checked(
        actor=actor, application=application, amount=amount, reason=reason, decided_on=decided_on, reference=reference
    )
    with transaction.atomic():
        # Payments and other clawbacks of the same application lock the same row: they wait for each other.
        locked = _locked_application(application)
        duplicate = _duplicate(reference)
        if duplicate is not None:
            raise duplicate
        _check_state(locked)
        allocations = clawback_allocations(locked, amount)
        first_paid = min(a.entry.paid_on for a in allocations)
        if decided_on < first_paid:
            raise ClawbackRefused(
                f"追缴决定日期 {decided_on.isoformat()} 早于被追缴的退库日期 {first_paid.isoformat()}，请核对。"
            )
        entry = _write(actor=actor, application=locked, allocations=allocations, fields={
            "decision_reference": reference, "reason": reason, "paid_on": decided_on,
        })  # fmt: skip
        _queue_clawback_bill(entry, actor=actor)
        entry.save(update_fields=["bill_sms", "bill_error"])
        _audit(actor=actor, entry=entry, allocations=allocations)
    return entry


def _write(*, actor, application: RefundApplication, allocations: list[Allocation], fields: dict) -> LedgerEntry:
    """The clawback entry (the taxpayer's figures as the latest reversed payment copied them) and its reversals."""
    latest = allocations[0].entry
    incremental = sum((a.incremental for a in allocations), ZERO)
    stock = sum((a.stock for a in allocations), ZERO)
    entry = LedgerEntry(
        kind=LedgerEntry.Kind.CLAWBACK,
        application=application,
        taxpayer_id=latest.taxpayer_id,
        identifier=latest.identifier,
        name=latest.name,
        branch_id=latest.branch_id,
        refund_kind=latest.refund_kind,
        application_period=latest.application_period,
        amount=-(incremental + stock),
        incremental_amount=-incremental,
        stock_amount=-stock,
        regime=latest.regime,
        size=latest.size,
        industry_code=latest.industry_code,
        credit_check=LedgerEntry.CreditCheck.NOT_APPLICABLE,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
        **fields,
    )
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:  # the same decision recorded a moment ago by another request
        raise DuplicateClawback(f"追缴决定“{fields['decision_reference']}”刚刚已登记，不能重复登记。") from None
    LedgerReversal.objects.bulk_create(
        LedgerReversal(
            clawback=entry,
            reversed_entry=a.entry,
            amount=a.amount,
            incremental_amount=a.incremental,
            stock_amount=a.stock,
        )
        for a in allocations
    )
    return entry


def _audit(*, actor, entry: LedgerEntry, allocations: list[Allocation]) -> None:
    record_event(
        actor=actor,
        verb="ledger_clawback_record",
        target=entry,
        summary=(
            f"登记追缴：{entry.name}（{mask_identifier(entry.identifier)}）{format_yuan(-entry.amount)} 元，"
            f"决定日期 {entry.paid_on.isoformat()}，文书号 {entry.decision_reference}（{entry.reason[:200]}）"
        ),
        changes={
            "application": entry.application_id,
            "decision_reference": entry.decision_reference,
            "amount": str(entry.amount),
            "incremental": str(entry.incremental_amount),
            "stock": str(entry.stock_amount),
            "paid_on": entry.paid_on.isoformat(),
            "reason": entry.reason,
            "reversed": [a.entry.pk for a in allocations],
        },
    )

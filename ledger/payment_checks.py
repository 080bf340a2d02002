"""The checks of a treasury payment (退库) before anything is written: what ``services.payment_record`` and the
receipt import (``services.payments_import_xlsx``) will write, or why not (``PaymentRefused``). Reads only.

The checks, in the order an officer is told of them: the voucher number, the amount, the application's state,
the amount against what is still unpaid, the date, then the split into incremental (增量) and stock (存量).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from core.errors import ApplicationError
from core.money import format_yuan, parse_yuan
from refund.models import UNPAID_STATES, RefundApplication
from refund.rules.split import SplitError, split_refund

Kind = RefundApplication.Kind
VOUCHER_MAX = 40


class PaymentRefused(ApplicationError):
    """A payment that cannot be recorded as entered; the message says why and ``field`` which input is wrong
    (``voucher``, ``application``, ``paid_on``, or ``amount`` for the amount and its split)."""

    code = "payment_refused"

    def __init__(self, message: str, *, field: str = "amount", code: str | None = None):
        super().__init__(message, code=code, extra={"field": field})
        self.field = field


def _money(value, label: str) -> Decimal | None:
    """An optional amount of the payment form or the receipt file (blank is ``None``)."""
    if value is None or value == "":
        return None
    try:
        return parse_yuan(value, label)
    except ApplicationError as exc:
        raise PaymentRefused(exc.message) from None


@dataclass(frozen=True)
class PaymentPlan:
    """What a payment will write, once every check passed (also what the import checks row by row)."""

    voucher_number: str
    amount: Decimal
    incremental: Decimal
    stock: Decimal
    paid_on: dt.date


def payment_plan(
    *,
    application: RefundApplication,
    voucher_number: str,
    amount,
    paid_on: dt.date,
    incremental=None,
    stock=None,
    today: dt.date | None = None,
) -> PaymentPlan:
    """Check a payment against the application (no writes); raises ``PaymentRefused`` with the reason.

    The treasury may pay an application in parts (部分退库): each payment is checked against what is still
    unpaid (the confirmed amount less the payments so far), in total and per kind.
    """
    voucher = _checked_voucher(voucher_number)
    amount = _checked_amount(amount)
    _check_state(application)
    _check_within_unpaid(application, amount)
    _check_date(application, paid_on, today=today or timezone.localdate())
    incremental, stock = _payment_split(
        application, amount, incremental=_money(incremental, "增量退税额"), stock=_money(stock, "存量退税额")
    )
    _check_split(application, incremental=incremental, stock=stock)
    return PaymentPlan(voucher, amount, incremental, stock, paid_on)


def _checked_voucher(voucher_number: str) -> str:
    voucher = (voucher_number or "").strip()
    if not voucher:
        raise PaymentRefused("请填写退库凭证号。", field="voucher")
    if len(voucher) > VOUCHER_MAX:
        raise PaymentRefused(f"退库凭证号过长：最多 {VOUCHER_MAX} 个字符。", field="voucher")
    return voucher


def _checked_amount(value) -> Decimal:
    amount = _money(value, "退库金额")
    if amount is None:
        raise PaymentRefused("请填写退库金额。")
    if amount <= 0:
        raise PaymentRefused("退库金额必须大于零。")
    return amount


def _check_state(application: RefundApplication) -> None:
    """Only an approved or partly paid application with a confirmed amount is paid: never a stopped one (终止退税),
    whatever was paid of it before the stop."""
    if application.state == RefundApplication.State.PAID:
        raise PaymentRefused(
            f"该申请已于 {application.paid_on.isoformat()} 全额退库（累计 {format_yuan(application.paid_amount)} 元），"
            "不能再次退库。",
            field="application",
        )
    if application.state == RefundApplication.State.STOPPED:
        paid = f"，此前已退库的 {format_yuan(application.paid_amount)} 元不变" if application.paid_amount else ""
        raise PaymentRefused(
            f"该申请已终止退税（{application.decision_reason or '见流转记录'}），不能再录入退库{paid}。",
            field="application",
            code="application_stopped",
        )
    if application.state not in UNPAID_STATES:
        raise PaymentRefused(
            f"只有“已审批”或“部分退库”的申请可以录入退库，该申请当前为“{application.get_state_display()}”。",
            field="application",
        )
    if application.confirmed_amount is None:
        raise PaymentRefused("该申请没有确认退税额，不能录入退库。", field="application")


def _check_within_unpaid(application: RefundApplication, amount: Decimal) -> None:
    unpaid, confirmed = application.unpaid_amount, application.confirmed_amount
    if amount <= unpaid:
        return
    if application.paid_amount:
        raise PaymentRefused(
            f"退库金额 {format_yuan(amount)} 元超过该申请尚未退库的 {format_yuan(unpaid)} 元"
            f"（确认退税额 {format_yuan(confirmed)} 元，已退库 {format_yuan(application.paid_amount)} 元），"
            "请核对国库退库凭证。"
        )
    raise PaymentRefused(
        f"退库金额 {format_yuan(amount)} 元超过该申请的确认退税额 {format_yuan(confirmed)} 元，请核对国库退库凭证。"
    )


def _check_date(application: RefundApplication, paid_on: dt.date | None, *, today: dt.date) -> None:
    """Paid today or before, and not before the approval."""
    if paid_on is None:
        raise PaymentRefused("请填写退库日期。", field="paid_on")
    if paid_on > today:
        raise PaymentRefused(f"退库日期 {paid_on.isoformat()} 晚于今天，不能是将来的日期。", field="paid_on")
    if application.approved_at and paid_on < timezone.localdate(application.approved_at):
        raise PaymentRefused(
            f"退库日期 {paid_on.isoformat()} 早于该申请的审批日期 "
            f"{timezone.localdate(application.approved_at).isoformat()}，请核对。",
            field="paid_on",
        )


def _payment_split(
    application: RefundApplication, amount: Decimal, *, incremental: Decimal | None, stock: Decimal | None
) -> tuple[Decimal, Decimal]:
    """The payment's (incremental, stock) split by the one split rule (``refund.rules.split``): given parts must
    add up to the amount (one given part leaves the rest to the other); none given takes the unpaid split when all
    that is unpaid is paid, and all of it to the one kind for an incremental-only or stock-only application; a
    part payment of a "both" application must say its split."""
    if (
        incremental is None
        and stock is None
        and application.kind == Kind.BOTH
        and amount == application.unpaid_amount
        and application.unpaid_incremental is not None
    ):
        incremental = application.unpaid_incremental
    try:
        split = split_refund(
            kind=application.kind, amount=amount, incremental=incremental, stock=stock, fill_missing=True
        )
    except SplitError as exc:
        raise PaymentRefused(_split_refusal(exc)) from None
    return split.incremental, split.stock


def _split_refusal(exc: SplitError) -> str:
    if exc.code == "sum_mismatch":
        return (
            f"增量 {format_yuan(exc.incremental)} 元与存量 {format_yuan(exc.stock)} 元之和不等于退库金额 "
            f"{format_yuan(exc.amount)} 元。"
        )
    return SPLIT_REFUSALS[exc.code]


SPLIT_REFUSALS = {
    "parts_missing": "该申请为增量和存量留抵退税，本次为部分退库，请分别填写其中增量和存量的金额。",
    "part_exceeds_amount": "增量、存量退税额均不能大于退库金额。",
    "stock_not_applied": "该申请为增量留抵退税，不能有存量退税额。",
    "incremental_not_applied": "该申请为存量留抵退税，不能有增量退税额。",
}


def _check_split(application: RefundApplication, *, incremental: Decimal, stock: Decimal) -> None:
    """Neither part exceeds what is unpaid of it (the split itself is checked by ``_payment_split``)."""
    for part, label, limit in (
        (incremental, "增量", application.unpaid_incremental),
        (stock, "存量", application.unpaid_stock),
    ):
        if limit is not None and part > limit:
            what = f"尚未退库的{label}退税额" if application.paid_amount else f"确认的{label}退税额"
            raise PaymentRefused(f"{label}退税额 {format_yuan(part)} 元超过{what} {format_yuan(limit)} 元。")

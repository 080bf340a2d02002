"""Writes of 银税互动: recording that a taxpayer was told about credit loans, and a loan it obtained.

Each write is one transaction with its audit event. A taxpayer is told only while its rating in force is A, B or
M (the levels a bank lends to on credit); a loan is recorded whatever the rating now, since it was granted on the
rating of its day.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.audit import record_event
from accounts.models import signed_in
from core.errors import ApplicationError, ConflictError
from core.masking import mask_identifier
from core.money import format_yuan
from taxpayers.models import Taxpayer

from ..models import BankTaxLoan, BankTaxOutreach
from ..selectors import rating_in_force
from .selectors import PROMOTED_LEVELS

CENT = Decimal("0.01")
MAX_LOAN = Decimal("1000000000")  # 10 亿元: far above any 纳税信用贷; a typing error, not a loan
MAX_TERM_MONTHS = 360


def _check_date(day: dt.date, today: dt.date, what: str) -> None:
    if day > today:
        raise ApplicationError(f"{what}不能晚于今天。", code="banktax_future_date")
    if day.year < 2015:
        raise ApplicationError(f"{what}应在 2015 年之后。", code="banktax_old_date")


def banktax_outreach_record(
    *,
    actor,
    taxpayer: Taxpayer,
    told_on: dt.date,
    channel: str,
    outcome: str,
    note: str = "",
    today: dt.date | None = None,
) -> BankTaxOutreach:
    """登记银税互动宣传: the taxpayer was told about credit loans on ``told_on`` by ``channel``, with ``outcome``."""
    today = today or timezone.localdate()
    _check_date(told_on, today, "告知日期")
    if channel not in BankTaxOutreach.Channel.values:
        raise ApplicationError("请选择告知方式。", code="banktax_channel")
    if outcome not in BankTaxOutreach.Outcome.values:
        raise ApplicationError("请选择告知结果。", code="banktax_outcome")
    rating = rating_in_force(taxpayer, told_on)
    level = rating.level if rating else ""
    if level not in PROMOTED_LEVELS:
        raise ApplicationError(
            f"该纳税人{told_on:%Y-%m-%d}的纳税信用级别为{level or '未评价'}，不在银税互动范围（A、B、M 级）内。",
            code="banktax_level",
        )
    with transaction.atomic():
        outreach = BankTaxOutreach.objects.create(
            taxpayer=taxpayer,
            told_on=told_on,
            channel=channel,
            outcome=outcome,
            level=level,
            note=note.strip()[:300],
            officer=signed_in(actor),
        )
        record_event(
            actor=actor,
            verb="banktax_outreach",
            target=outreach,
            summary=f"登记银税互动宣传：{mask_identifier(taxpayer.identifier)}，{told_on:%Y-%m-%d}"
            f"{outreach.get_channel_display()}告知，{outreach.get_outcome_display()}（{level} 级）",
            changes={"taxpayer": taxpayer.pk, "told_on": told_on.isoformat(), "channel": channel, "outcome": outcome},
        )
    return outreach


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        raise ApplicationError("贷款金额不是有效的金额。", code="banktax_amount") from None
    if not Decimal(0) < amount <= MAX_LOAN:
        raise ApplicationError("贷款金额应大于 0 元且不超过 10 亿元。", code="banktax_amount")
    return amount


def banktax_loan_record(
    *,
    actor,
    taxpayer: Taxpayer,
    bank: str,
    amount: Decimal,
    granted_on: dt.date,
    term_months: int,
    product: str = "",
    note: str = "",
    today: dt.date | None = None,
) -> BankTaxLoan:
    """登记银税互动贷款: a loan the taxpayer obtained (bank, amount in yuan, date granted, term in months)."""
    today = today or timezone.localdate()
    _check_date(granted_on, today, "放款日期")
    bank = bank.strip()
    if not bank:
        raise ApplicationError("请填写贷款银行。", code="banktax_bank")
    amount = _amount(amount)
    if not 1 <= int(term_months) <= MAX_TERM_MONTHS:
        raise ApplicationError(f"贷款期限应在 1 至 {MAX_TERM_MONTHS} 个月之间。", code="banktax_term")
    try:
        with transaction.atomic():
            loan = BankTaxLoan.objects.create(
                taxpayer=taxpayer,
                bank=bank[:60],
                product=product.strip()[:60],
                amount=amount,
                granted_on=granted_on,
                term_months=int(term_months),
                note=note.strip()[:300],
                entered_by=signed_in(actor),
            )
            record_event(
                actor=actor,
                verb="banktax_loan",
                target=loan,
                summary=f"登记银税互动贷款：{mask_identifier(taxpayer.identifier)}，{loan.bank}"
                f" {format_yuan(amount)} 元，{granted_on:%Y-%m-%d} 放款，期限 {loan.term_months} 个月",
                changes={
                    "taxpayer": taxpayer.pk,
                    "bank": loan.bank,
                    "amount": str(amount),
                    "granted_on": granted_on.isoformat(),
                    "term_months": loan.term_months,
                },
            )
    except IntegrityError:
        raise ConflictError("该笔贷款已登记（同一银行、同一放款日期、同一金额）。") from None
    return loan

"""What an arriving application must be before it is received (受理): a valid period, kind, source, claim and
date, and not a repeat of one already received. Checks and reads only; ``services._receive`` writes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from core.errors import ApplicationError
from core.money import parse_yuan
from core.periods import Period
from taxpayers.models import Taxpayer

from ..models import RefundApplication
from ..screening.decisions import period_input
from .claims import claim_refusal

State = RefundApplication.State


def duplicate_of(*, taxpayer: Taxpayer, application_period: Period, document_number: str | None) -> str | None:
    """The Chinese reason this arrival repeats an application already received, or None."""
    if document_number:
        other = RefundApplication.objects.filter(document_number=document_number).select_related("taxpayer").first()
        if other is not None:
            return (
                f"申请文书号“{document_number}”已受理（{other.taxpayer.name} {other.application_period}，"
                f"状态：{other.get_state_display()}），不能重复受理。"
            )
    live = (
        RefundApplication.objects.filter(taxpayer=taxpayer, application_period=application_period)
        .exclude(state=State.REJECTED)
        .first()
    )
    if live is not None:
        number = f"文书号 {live.document_number}，" if live.document_number else ""
        return (
            f"{taxpayer.name} {application_period} 所属期已有一份留抵退税申请（{number}受理日期 "
            f"{live.received_on.isoformat()}，状态：{live.get_state_display()}），同一所属期不能重复申请。"
        )
    return None


def validate_arrival(
    *,
    taxpayer: Taxpayer,
    application_period: Period | str,
    kind: str,
    claimed_amount,
    received_on: dt.date,
    source: str,
    document_number: str | None,
) -> tuple[Period, str, Decimal, str, str | None]:
    period = period_input(application_period)
    if kind not in RefundApplication.Kind.values:
        labels = "、".join(f"{value}（{label}）" for value, label in RefundApplication.Kind.choices)
        raise ApplicationError(f"退税类型“{kind}”无效，应为：{labels}。")
    if source not in RefundApplication.Source.values:
        raise ApplicationError(f"来源“{source}”无效。")
    try:
        amount = parse_yuan(claimed_amount, "申请退税额")
    except ApplicationError as exc:
        raise ClaimRefused(exc.message) from None
    refusal = claim_refusal(amount)  # the bound of the tax period's credit once the rules have read the returns
    if refusal:
        raise ClaimRefused(refusal)
    if not isinstance(received_on, dt.date):
        raise ApplicationError("受理日期无效。")
    if received_on > timezone.localdate():
        raise ApplicationError(f"受理日期 {received_on.isoformat()} 晚于今天，不能是将来的日期。")
    if received_on < period.first_day:
        raise ApplicationError(f"受理日期 {received_on.isoformat()} 早于申请退税所属期 {period}，请核对。")
    number = (document_number or "").strip() or None
    if number is not None and len(number) > 40:
        raise ApplicationError("申请文书号过长：最多 40 个字符。")
    return period, kind, amount, source, number


class DuplicateApplication(ApplicationError):
    """The same application arrived twice (same document number, or a live one for the taxpayer and period)."""

    status_code = 409
    code = "duplicate_application"


class ClaimRefused(ApplicationError):
    """The claimed amount cannot be a refund (``claims.claim_refusal``: ≤ 0, above what a money field
    holds, or above the taxpayer's 期末留抵税额 of the tax period); the message goes beside the claim."""

    code = "claim_refused"

    def __init__(self, message: str):
        super().__init__(message, extra={"field": "claimed_amount"})

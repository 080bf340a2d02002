"""What a claimed refund (申请退税额) may be, against the taxpayer's figures — one rule for every way an application
arrives (an officer's entry, the core system's xlsx, the API).

- A claim that is not an amount a refund can be is refused, beside the claim: ≤ 0, above what a money field holds,
  or above the taxpayer's 期末留抵税额 of the tax period the application rests on (a refund is paid out of the
  credit left at the end of that period and can never exceed it).
- A claim that differs from the rules' refundable amount is received, with a warning that says the difference in
  words: "申请退税额比测算可退税额多 86,579,853.80 元（+645.1%）". The officer verifies it before 一键确认 (the
  arrival risk gate returns such an application for verification as well).

Pure: plain Decimals and strings in, Chinese sentences out; the services read the figures and raise.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from core.money import format_yuan
from core.periods import Period, format_period_cn

CLAIM_MINIMUM_EXCLUSIVE = Decimal("0.00")
"""A claim must be more than this: an application for a refund of nothing (or less) is not an application."""

CLAIM_LIMIT = Decimal("99999999999999.99")
"""The largest amount a money column holds (``taxpayers.fields.MoneyField``: 16 digits, 2 of them decimals). A claim
above it cannot be stored; in practice it is an amount typed in 分 or with extra digits, so the officer is told to
check the unit."""

CLAIM_INPUT_DIGITS = 24
"""How many digits a claim may be typed with before it is no amount at all (a form's or the API's field error):
well past ``CLAIM_LIMIT``'s 16, so that an absurd claim reaches ``claim_refusal`` and is refused with its amount
and the limit in words, and short of the 28 a Decimal computes with."""

CLAIM_DIFFERENCE_TOLERANCE = Decimal("0.00")
"""A claim differing from the rules' refundable amount by more than this gets the difference warning. None: the
arrival risk gate's recomputation check tolerates no difference either unless risk officers set a tolerance, so any
difference is one the officer must verify, and the warning says so at entry rather than after the gate."""

_PERCENT = Decimal("0.1")


def claim_refusal(claimed: Decimal, *, end_credit: Decimal | None = None, tax_period: Period | None = None) -> str:
    """Why ``claimed`` cannot be received (a Chinese sentence), or "" when it can.

    ``end_credit`` is the taxpayer's 期末留抵税额 of ``tax_period`` (the return the application rests on); None when
    that return is not in the system yet — the rules then cannot assess the application and the arrival gate
    returns it, so the claim is not refused for that."""
    if claimed <= CLAIM_MINIMUM_EXCLUSIVE:
        return "申请退税额必须大于 0 元。"
    if claimed > CLAIM_LIMIT:
        return (
            f"申请退税额 {format_yuan(claimed)} 元超过金额上限 {format_yuan(CLAIM_LIMIT)} 元，请确认金额的单位是“元”。"
        )
    if end_credit is not None and claimed > end_credit:
        period = format_period_cn(tax_period) if tax_period else "所属期"
        return (
            f"申请退税额 {format_yuan(claimed)} 元超过该纳税人{period}的期末留抵税额 {format_yuan(end_credit)} 元；"
            "退税额不能超过期末留抵税额，请核对金额和单位。"
        )
    return ""


def claim_difference(claimed: Decimal, computed: Decimal | None) -> str:
    """The claim against the rules' refundable amount in words ("申请退税额比测算可退税额多 86,579,853.80 元
    （+645.1%）"), or "" when they agree (within ``CLAIM_DIFFERENCE_TOLERANCE``) or the rules gave no amount."""
    if computed is None or claimed is None:
        return ""
    difference = claimed - computed
    if abs(difference) <= CLAIM_DIFFERENCE_TOLERANCE:
        return ""
    word = "多" if difference > 0 else "少"
    if computed > 0:
        percent = (difference / computed * 100).quantize(_PERCENT, rounding=ROUND_HALF_UP)
        share = f"（{'+' if percent > 0 else ''}{percent:,}%）"
    else:
        share = "（测算可退税额为 0 元）"
    return f"申请退税额比测算可退税额{word} {format_yuan(abs(difference))} 元{share}"

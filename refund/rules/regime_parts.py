"""The building blocks every regime is made of: the result record, rounding, the ratio, the six-month test,
the common conditions' helpers and the trace lines (``regimes`` puts them together per regime)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from core.periods import Period

from .conditions import Condition, in_contract_order
from .facts import Base, Facts, Ratio
from .industry import describe_share
from .inputs import ZERO
from .options import WINDOW_REUSE_2025
from .parameters import (
    INDUSTRY_SHARE_ABOVE,
    RATIO_FIRST_MONTH,
    RATIO_NUMERATOR_KINDS,
    REGIME_PERIODS,
    SIX_MONTH_MINIMUM,
    IndustryItem,
    Parameter,
)
from .text import whole_yuan, yuan

CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.000001")


def cents(amount: Decimal) -> Decimal:
    """Round half up to 0.01 yuan; amounts below zero become 0.00."""
    return max(amount, ZERO).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RegimeResult:
    regime: str
    eligible: bool
    member: bool  # the taxpayer is in the group the regime is written for
    order: int  # position in the contract's table (REGIMES)
    conditions: tuple[Condition, ...]
    current_credit: Decimal
    base_credit: Decimal | None
    incremental_credit: Decimal | None
    stock_credit: Decimal | None
    input_ratio: Decimal | None
    refund_rate: str
    refundable_incremental: Decimal
    refundable_stock: Decimal
    trace: tuple[str, ...]

    @property
    def refundable_total(self) -> Decimal:
        return self.refundable_incremental + self.refundable_stock

    @property
    def failed_conditions(self) -> list[str]:
        return [c.code for c in self.conditions if not c.passed]


@dataclass(frozen=True)
class Regime:
    code: str
    title: str
    specificity: int  # 0 = open to every general taxpayer, 1 = a size or industry group
    evaluate: Callable[[Facts, int], RegimeResult | None]  # None: not open to this taxpayer

    def open_in(self, period: Period) -> bool:
        return REGIME_PERIODS[self.code].covers(period)


# --- building blocks (the regime modules call them as ``parts.<name>``) ----------------------------------------


def rate_text(rate: Decimal) -> str:
    return f"{rate.quantize(CENT)}"


def percent(rate: Decimal) -> str:
    """``Decimal("0.60")`` -> ``"60%"`` for the trace's formulas."""
    return f"{(rate * 100).normalize():f}%"


def industry_condition(facts: Facts, parameter: Parameter[tuple[IndustryItem, ...]]) -> tuple[Condition, bool]:
    period = facts.period
    items = parameter.at(period)
    threshold = INDUSTRY_SHARE_ABOVE.at(period)
    share = facts.sales.share(items)
    passed = share > threshold
    detail = describe_share(facts.sales, items, share) + ("，超过50%" if passed else "，未超过50%")
    citation = f"{parameter.citation_at(period)}；{INDUSTRY_SHARE_ABOVE.citation_at(period)}"
    return Condition("industry_share", passed, detail, citation), passed


def input_ratio(facts: Facts, first: Period | None = None, first_citation: str | None = None) -> tuple[Ratio, str]:
    """The ratio from ``first`` (default: 2019-04) to the tax period, with the vouchers of the application period."""
    period = facts.period
    if first is None:
        first, first_citation = RATIO_FIRST_MONTH.at(period), RATIO_FIRST_MONTH.citation_at(period)
    ratio = facts.ratio(first, RATIO_NUMERATOR_KINDS.at(period))
    return ratio, f"{RATIO_NUMERATOR_KINDS.citation_at(period)}；计算期间：{first_citation}"


def input_deducted(ratio: Ratio, citation: str) -> Condition:
    value = ratio.value
    if value is None:
        detail = f"{ratio.first}至{ratio.last}没有已抵扣的进项税额，进项构成比例无法计算"
        return Condition("input_deducted", False, detail, citation)
    detail = f"{ratio.describe()}，进项构成比例为{value.quantize(RATE_PLACES, rounding=ROUND_HALF_UP)}"
    return Condition("input_deducted", True, detail, citation)


def six_month(
    facts: Facts,
    figure: Callable[[Period], Decimal | None],
    *,
    what: str,
    sixth_what: str,
    sixth_figure: Decimal,
    citation_positive: str,
    citation_minimum: str,
    first_month: Period | None = None,
) -> tuple[Condition, Condition]:
    """Each month (quarter) of the window > 0, and the sixth month's figure ≥ 500,000."""
    unit = "个季度" if facts.quarterly else "个月"
    span = f"{facts.window[0]}至{facts.window[-1]}"
    figures, problems = [], []
    for month in facts.window:
        starts = month.minus(2) if facts.quarterly else month
        value = figure(month)
        if first_month is not None and starts < first_month:
            problems.append(f"{month}早于{first_month}，不能计入")
        if value is None:
            problems.append(f"缺少{month}申报表")
            figures.append(f"{month}无申报")
            continue
        figures.append(f"{month}为 {yuan(value)}")
        if value <= 0:
            problems.append(f"{month}不大于零")
    count = len(facts.window)
    positive = Condition(
        "six_month_positive",
        not problems,
        f"{span}连续{count}{unit}{what}："
        + "；".join(figures)
        + ("" if not problems else "（" + "；".join(problems) + "）"),
        citation_positive,
    )
    minimum = SIX_MONTH_MINIMUM.at(facts.period)
    passed = sixth_figure >= minimum
    sixth = "第二季度" if facts.quarterly else "第六个月"
    reached = "不低于" if passed else "低于"
    detail = f"{sixth}（{facts.tax_period}）{sixth_what} {yuan(sixth_figure)}，{reached} {whole_yuan(minimum)}"
    return positive, Condition("sixth_month_500k", passed, detail, citation_minimum)


def window_not_reused(facts: Facts, citation: str, *, enforced: bool = True) -> Condition:
    if not enforced:
        return Condition(
            "window_not_reused",
            True,
            f"规则选项“{WINDOW_REUSE_2025.title}”取“{WINDOW_REUSE_2025.choices['reuse_allowed']}”，"
            "已用于以前留抵退税的月份可以再次计算",
            citation,
        )
    overlap = [month for month in facts.window if month in facts.used_months]
    if overlap:
        used_by = sorted({str(facts.used_months[m].application_period) for m in overlap})
        detail = f"{'、'.join(str(m) for m in overlap)}已在{'、'.join(used_by)}纳税申报期的留抵退税中计算，不得重复计算"
        return Condition("window_not_reused", False, detail, citation)
    return Condition(
        "window_not_reused", True, f"{facts.window[0]}至{facts.window[-1]}未在以前的留抵退税中计算过", citation
    )


def credit_positive(facts: Facts, citation: str) -> Condition:
    credit = facts.current_credit
    passed = credit > 0
    detail = f"当期（{facts.tax_period}）期末留抵税额 {yuan(credit)}，" + ("大于零" if passed else "不大于零")
    return Condition("credit_positive", passed, detail, citation)


def increment_positive(facts: Facts, increment: Decimal, base: Decimal, citation: str) -> Condition:
    passed = increment > 0
    detail = (
        f"当期（{facts.tax_period}）期末留抵税额 {yuan(facts.current_credit)}，比较基数 {yuan(base)}，"
        f"增量留抵税额 {yuan(increment)}，" + ("大于零" if passed else "不大于零")
    )
    return Condition("increment_positive", passed, detail, citation)


def result(
    facts: Facts,
    code: str,
    order: int,
    *,
    member: bool,
    conditions: list[Condition],
    base: Decimal | None,
    incremental: Decimal | None,
    stock: Decimal | None,
    ratio: Ratio,
    rate: str,
    refundable_incremental: Decimal,
    refundable_stock: Decimal,
    trace: list[str],
) -> RegimeResult:
    ordered = in_contract_order(conditions)
    eligible = all(c.passed for c in ordered)
    if not eligible:
        refundable_incremental = refundable_stock = ZERO
    return RegimeResult(
        regime=code,
        eligible=eligible,
        member=member,
        order=order,
        conditions=ordered,
        current_credit=facts.current_credit,
        base_credit=base,
        incremental_credit=incremental,
        stock_credit=stock,
        input_ratio=ratio.value,
        refund_rate=rate,
        refundable_incremental=cents(refundable_incremental),
        refundable_stock=cents(refundable_stock),
        trace=tuple(trace),
    )


def incremental_result(
    facts: Facts,
    code: str,
    order: int,
    *,
    member: bool,
    conditions: list[Condition],
    base: Decimal | None,
    incremental: Decimal,
    ratio: Ratio,
    rate: Decimal,
    trace: list[str],
) -> RegimeResult:
    """A regime that refunds one figure at one rate and has no stock part: refundable = figure × ratio × rate."""
    return result(
        facts,
        code,
        order,
        member=member,
        conditions=conditions,
        base=base,
        incremental=incremental,
        stock=None,
        ratio=ratio,
        rate=rate_text(rate),
        refundable_incremental=exact_refund(incremental, ratio, rate),
        refundable_stock=ZERO,
        trace=trace,
    )


def exact_refund(amount: Decimal, ratio: Ratio, rate: Decimal) -> Decimal:
    """The refundable amount before rounding: amount × rate × ratio (0 when there is no ratio)."""
    return ZERO if ratio.value is None else ratio.applied_to(max(amount, ZERO) * rate)


def base_trace(base: Base) -> str:
    return base.detail

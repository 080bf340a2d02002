"""CN-2025-7-*: 财政部 税务总局公告2025年第7号 — class 1 (制造业等4个行业, 期末留抵 × 比例 × 100%), class 2
(房地产开发经营业, 期末 − 2019-03-31 base, 60%) and class 3 (everyone else, the increase over the prior year end,
60% / 30% above 1亿). Part of ``regimes``' table."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from core.periods import Period

from . import regime_parts as parts
from .conditions import CommonArticles, Condition, common_conditions
from .errors import CaseError
from .facts import EXACT, Base, Facts
from .inputs import ZERO
from .options import CLASS3_RATIO_START, WINDOW_REUSE_2025
from .parameters import (
    CLASS3_TIERS,
    DOC_7,
    DOC_39,
    INDUSTRIES_CLASS1,
    INDUSTRIES_REAL_ESTATE,
    RATE_FULL,
    RATE_REAL_ESTATE,
    RATIO_FIRST_MONTH,
)
from .regime_parts import RATE_PLACES, RegimeResult
from .text import yuan

# --- CN-2025-7-*: 财政部 税务总局公告2025年第7号 ------------------------------------------------------------

ARTICLES_7 = CommonArticles(
    credit=f"{DOC_7} 第二条第（一）项",
    fraud=f"{DOC_7} 第二条第（二）项",
    evasion=f"{DOC_7} 第二条第（三）项",
    immediate=f"{DOC_7} 第二条第（四）项",
)

_REUSE_CITATION = f"参照{DOC_39} 第八条第（六）项（规则选项“{WINDOW_REUSE_2025.title}”）"


def class1_member(facts: Facts) -> tuple[Condition, bool]:
    return parts.industry_condition(facts, INDUSTRIES_CLASS1)


def evaluate_class1(facts: Facts, order: int) -> RegimeResult:
    """制造业等4个行业: the whole period-end credit × ratio × 100%, monthly, no window."""
    period = facts.period
    gate, member = class1_member(facts)
    ratio, ratio_citation = parts.input_ratio(facts)
    rate = RATE_FULL.at(period)
    credit = facts.current_credit
    conditions = [
        *common_conditions(facts.case, ARTICLES_7),
        gate,
        parts.credit_positive(facts, f"{DOC_7} 第一条第（一）项"),
        parts.input_deducted(ratio, ratio_citation),
    ]
    trace = [
        f"允许退还的留抵税额 = 当期期末留抵税额 {yuan(max(credit, ZERO))} × 进项构成比例 × {parts.percent(rate)}"
        f"（{DOC_7} 第四条）"
    ]
    return parts.incremental_result(
        facts,
        "CN-2025-7-class1",
        order,
        member=member,
        conditions=conditions,
        base=None,
        incremental=credit,
        ratio=ratio,
        rate=rate,
        trace=trace,
    )


def evaluate_class2(facts: Facts, order: int) -> RegimeResult:
    """房地产开发经营业: six months of increase over 2019-03-31 > 0, the sixth ≥ 500,000; 60% of it × ratio."""
    period = facts.period
    gate, member = parts.industry_condition(facts, INDUSTRIES_REAL_ESTATE)
    try:
        base = facts.base_2019
    except CaseError:
        if member:
            raise
        base = Base(ZERO, "缺少2019年3月申报表（非房地产开发经营业纳税人，不影响结论）")
    base_now = ZERO if facts.base_reset_at(facts.tax_period) else base.amount

    def increase(month: Period) -> Decimal | None:
        credit = facts.credit_at(month)
        return None if credit is None else credit - (ZERO if facts.base_reset_at(month) else base.amount)

    increase_now = facts.current_credit - base_now
    citation = f"{DOC_7} 第一条第（二）项"
    positive, minimum = parts.six_month(
        facts,
        increase,
        what="期末新增加留抵税额（与2019年3月31日相比）",
        sixth_what="期末新增加留抵税额",
        sixth_figure=increase_now,
        citation_positive=citation,
        citation_minimum=citation,
    )
    ratio, ratio_citation = parts.input_ratio(facts)
    rate = RATE_REAL_ESTATE.at(period)
    reuse_enforced = facts.case.options.window_reuse_2025 == "not_reused"
    conditions = [
        *common_conditions(facts.case, ARTICLES_7),
        gate,
        positive,
        minimum,
        parts.window_not_reused(facts, _REUSE_CITATION, enforced=reuse_enforced),
        parts.input_deducted(ratio, ratio_citation),
    ]
    trace = [
        base.detail,
        f"允许退还的留抵税额 = 期末新增加留抵税额 {yuan(max(increase_now, ZERO))} × 进项构成比例 × "
        f"{parts.percent(rate)}（{RATE_REAL_ESTATE.citation_at(period)}）",
    ]
    return parts.incremental_result(
        facts,
        "CN-2025-7-class2",
        order,
        member=member,
        conditions=conditions,
        base=base_now,
        incremental=increase_now,
        ratio=ratio,
        rate=rate,
        trace=trace,
    )


def class3_refund(increase: Decimal, tiers) -> tuple[Decimal, Decimal]:
    """(refund before the ratio, blended rate): 60% of the increase up to 1亿 (inclusive), 30% above
    (7号 第一条第（三）项). The blended rate is exact; the caller rounds it for display."""
    if increase <= 0:
        return ZERO, tiers[0][1]
    gross, lower = ZERO, ZERO
    for cap, rate in tiers:
        upper = increase if cap is None else min(increase, cap)
        if upper > lower:
            gross += (upper - lower) * rate
        if cap is None or increase <= cap:
            break
        lower = cap
    return gross, EXACT.divide(gross, increase)


def evaluate_class3(facts: Facts, order: int) -> RegimeResult | None:
    """Other taxpayers: six months of credit > 0, the sixth ≥ 500,000 above the prior year-end; 60% / 30%."""
    period = facts.period
    _, in_class1 = class1_member(facts)
    if in_class1:
        return None  # 制造业等4个行业 may not choose class 3 (7号 第一条; 即问即答 2025-09 问题3)
    try:
        base: Base | None = facts.prior_year_end
    except CaseError:
        # A real-estate developer is first assessed under class 2; without last year's return class 3
        # cannot be computed for it, which is a failed test here rather than unusable input.
        _, real_estate = parts.industry_condition(facts, INDUSTRIES_REAL_ESTATE)
        if not real_estate:
            raise
        base = None
    increase = facts.current_credit - (base.amount if base else ZERO)
    citation = f"{DOC_7} 第一条第（三）项"
    positive, minimum = parts.six_month(
        facts,
        facts.credit_at,
        what="期末留抵税额",
        sixth_what=f"期末留抵税额与{facts.tax_period.year - 1}年12月31日相比新增加留抵税额",
        sixth_figure=increase,
        citation_positive=citation,
        citation_minimum=citation,
    )
    if base is None:
        year_end = Period(facts.tax_period.year - 1, 12)
        detail = f"缺少{year_end}申报表，无法计算与上一年度12月31日相比新增加的留抵税额"
        minimum = Condition("sixth_month_500k", False, detail, minimum.citation)
    option = facts.case.options.class3_ratio_start
    first = Period(facts.tax_period.year - 1, 1) if option == "prior_year_january" else RATIO_FIRST_MONTH.at(period)
    ratio, ratio_citation = parts.input_ratio(
        facts, first, f"{CLASS3_RATIO_START.choices[option]}（规则选项“{CLASS3_RATIO_START.title}”）"
    )
    tiers = CLASS3_TIERS.at(period)
    gross, blended = class3_refund(increase, tiers)
    exact = ZERO if ratio.value is None else ratio.applied_to(gross)
    first_cap, first_rate = tiers[0]
    rate_text = (
        parts.rate_text(first_rate)
        if increase <= first_cap
        else f"{blended.quantize(RATE_PLACES, rounding=ROUND_HALF_UP)}"
    )
    reuse_enforced = facts.case.options.window_reuse_2025 == "not_reused"
    conditions = [
        *common_conditions(facts.case, ARTICLES_7),
        positive,
        minimum,
        parts.window_not_reused(facts, _REUSE_CITATION, enforced=reuse_enforced),
        parts.input_deducted(ratio, ratio_citation),
    ]
    trace = [
        base.detail if base else minimum.detail,
        f"新增加留抵税额 = 期末留抵税额 {yuan(facts.current_credit)} − 上一年度12月31日期末留抵税额 "
        f"{yuan(base.amount if base else ZERO)} = {yuan(increase)}",
        f"允许退还的留抵税额 = [新增加留抵税额中不超过1亿元（含）的部分 × 60% + 超过1亿元的部分 × 30%] × 进项构成比例"
        f"（{CLASS3_TIERS.citation_at(period)}）",
    ]
    return parts.result(
        facts,
        "CN-2025-7-class3",
        order,
        member=True,
        conditions=conditions,
        base=base.amount if base else None,
        incremental=increase if base else None,
        stock=None,
        ratio=ratio,
        rate=rate_text,
        refundable_incremental=exact,
        refundable_stock=ZERO,
        trace=trace,
    )

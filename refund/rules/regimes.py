"""One definition per regime of the contract's table: its application periods, its conditions
in a stable order, and its computation.

| code                     | document                        | refund                                            |
| ------------------------ | ------------------------------- | ------------------------------------------------- |
| CN-2019-39               | 39号 第八条                      | 增量 × 比例 × 60%, six-month / 500,000 test        |
| CN-2019-84               | 84号                             | 增量 × 比例 × 100%, 4 advanced-manufacturing lines |
| CN-2021-15               | 15号                             | 增量 × 比例 × 100%, 9 advanced-manufacturing lines |
| CN-2022-14-small-micro   | 14号 第一条                      | 增量 and 存量 × 比例 × 100%, small and micro       |
| CN-2022-14-industry      | 14号 第二条, 21号                | 增量 and 存量 × 比例 × 100%, 6 then 13 industries  |
| CN-2025-7-class1         | 7号 第一条第（一）项             | 期末留抵 × 比例 × 100%, 制造业等4个行业            |
| CN-2025-7-class2         | 7号 第一条第（二）项             | (期末 − 2019-03-31) × 比例 × 60%, real estate     |
| CN-2025-7-class3         | 7号 第一条第（三）项             | (期末 − 上年末) × 比例 × 60% / 30% above 1亿       |

Amounts are exact until the end, where each refundable part is rounded half up to
0.01 yuan (the application form is "至角分"; no announcement rounds the ratio).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from core.periods import Period

from .conditions import CommonArticles, Condition, common_conditions, in_contract_order
from .errors import CaseError
from .facts import EXACT, Base, Facts, Ratio
from .industry import describe_share
from .inputs import ZERO
from .options import CLASS3_RATIO_START, SMALL_MICRO_AFTER_2022, WINDOW_REUSE_2025
from .parameters import (
    ADVANCED_MANUFACTURING,
    CLASS3_TIERS,
    DOC_7,
    DOC_14,
    DOC_15,
    DOC_39,
    DOC_84,
    INDUSTRIES_2022,
    INDUSTRIES_CLASS1,
    INDUSTRIES_REAL_ESTATE,
    INDUSTRY_SHARE_ABOVE,
    RATE_FULL,
    RATE_GENERAL_39,
    RATE_REAL_ESTATE,
    RATIO_FIRST_MONTH,
    RATIO_NUMERATOR_KINDS,
    REGIME_PERIODS,
    SIX_MONTH_FIRST_MONTH,
    SIX_MONTH_MINIMUM,
    SMALL_MICRO_ART3_ONLY_UNTIL,
    STOCK_REFUND_OPENS,
    IndustryItem,
    Parameter,
)
from .size import SIZE_NAMES
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


# --- building blocks -----------------------------------------------------------------------------


def _rate_text(rate: Decimal) -> str:
    return f"{rate.quantize(CENT)}"


def _percent(rate: Decimal) -> str:
    """``Decimal("0.60")`` -> ``"60%"`` for the trace's formulas."""
    return f"{(rate * 100).normalize():f}%"


def _industry_condition(facts: Facts, parameter: Parameter[tuple[IndustryItem, ...]]) -> tuple[Condition, bool]:
    period = facts.period
    items = parameter.at(period)
    threshold = INDUSTRY_SHARE_ABOVE.at(period)
    share = facts.sales.share(items)
    passed = share > threshold
    detail = describe_share(facts.sales, items, share) + ("，超过50%" if passed else "，未超过50%")
    citation = f"{parameter.citation_at(period)}；{INDUSTRY_SHARE_ABOVE.citation_at(period)}"
    return Condition("industry_share", passed, detail, citation), passed


def _ratio(facts: Facts, first: Period | None = None, first_citation: str | None = None) -> tuple[Ratio, str]:
    """The ratio from ``first`` (default: 2019-04) to the tax period, with the vouchers of the application period."""
    period = facts.period
    if first is None:
        first, first_citation = RATIO_FIRST_MONTH.at(period), RATIO_FIRST_MONTH.citation_at(period)
    ratio = facts.ratio(first, RATIO_NUMERATOR_KINDS.at(period))
    return ratio, f"{RATIO_NUMERATOR_KINDS.citation_at(period)}；计算期间：{first_citation}"


def _input_deducted(ratio: Ratio, citation: str) -> Condition:
    value = ratio.value
    if value is None:
        detail = f"{ratio.first}至{ratio.last}没有已抵扣的进项税额，进项构成比例无法计算"
        return Condition("input_deducted", False, detail, citation)
    detail = f"{ratio.describe()}，进项构成比例为{value.quantize(RATE_PLACES, rounding=ROUND_HALF_UP)}"
    return Condition("input_deducted", True, detail, citation)


def _six_month(
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


def _window_not_reused(facts: Facts, citation: str, *, enforced: bool = True) -> Condition:
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


def _credit_positive(facts: Facts, citation: str) -> Condition:
    credit = facts.current_credit
    passed = credit > 0
    detail = f"当期（{facts.tax_period}）期末留抵税额 {yuan(credit)}，" + ("大于零" if passed else "不大于零")
    return Condition("credit_positive", passed, detail, citation)


def _increment_positive(facts: Facts, increment: Decimal, base: Decimal, citation: str) -> Condition:
    passed = increment > 0
    detail = (
        f"当期（{facts.tax_period}）期末留抵税额 {yuan(facts.current_credit)}，比较基数 {yuan(base)}，"
        f"增量留抵税额 {yuan(increment)}，" + ("大于零" if passed else "不大于零")
    )
    return Condition("increment_positive", passed, detail, citation)


def _result(
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


def _exact(amount: Decimal, ratio: Ratio, rate: Decimal) -> Decimal:
    """The refundable amount before rounding: amount × rate × ratio (0 when there is no ratio)."""
    return ZERO if ratio.value is None else ratio.applied_to(max(amount, ZERO) * rate)


def _base_trace(base: Base) -> str:
    return base.detail


# --- CN-2019-39: 财政部 税务总局 海关总署公告2019年第39号 第八条 ------------------------------------------

ARTICLES_39 = CommonArticles(
    credit=f"{DOC_39} 第八条第（一）项第2目",
    fraud=f"{DOC_39} 第八条第（一）项第3目",
    evasion=f"{DOC_39} 第八条第（一）项第4目",
    immediate=f"{DOC_39} 第八条第（一）项第5目",
)


def evaluate_39(facts: Facts, order: int) -> RegimeResult:
    """增量留抵税额 × 进项构成比例 × 60%, after six months of increment > 0 ending with ≥ 500,000."""
    period = facts.period
    base = facts.base_2019
    base_now = facts.base_2019_at(facts.tax_period)

    def increment(month: Period) -> Decimal | None:
        credit = facts.credit_at(month)
        return None if credit is None else credit - facts.base_2019_at(month)

    increment_now = facts.current_credit - base_now
    positive, minimum = _six_month(
        facts,
        increment,
        what="增量留抵税额（与2019年3月31日相比）",
        sixth_what="增量留抵税额",
        sixth_figure=increment_now,
        citation_positive=f"{DOC_39} 第八条第（一）项第1目",
        citation_minimum=f"{DOC_39} 第八条第（一）项第1目",
        first_month=SIX_MONTH_FIRST_MONTH.at(period),
    )
    ratio, ratio_citation = _ratio(facts)
    rate = RATE_GENERAL_39.at(period)
    conditions = [
        *common_conditions(facts.case, ARTICLES_39),
        positive,
        minimum,
        _window_not_reused(facts, f"{DOC_39} 第八条第（六）项"),
        _input_deducted(ratio, ratio_citation),
    ]
    trace = [_base_trace(base)]
    if base_now != base.amount:
        trace.append(
            f"已于{facts.stock_refund.application_period}获得一次性存量留抵退税，比较基数按0计（{DOC_14} 第四条）"
        )
    trace.append(
        f"允许退还的增量留抵税额 = 增量留抵税额 {yuan(max(increment_now, ZERO))} × 进项构成比例 × {_percent(rate)}"
        f"（{RATE_GENERAL_39.citation_at(period)}）"
    )
    return _result(
        facts,
        "CN-2019-39",
        order,
        member=True,
        conditions=conditions,
        base=base_now,
        incremental=increment_now,
        stock=None,
        ratio=ratio,
        rate=_rate_text(rate),
        refundable_incremental=_exact(increment_now, ratio, rate),
        refundable_stock=ZERO,
        trace=trace,
    )


# --- CN-2019-84 and CN-2021-15: advanced manufacturing, increment > 0, 100% ----------------------------------


def _advanced_manufacturing(facts: Facts, order: int, code: str, doc: str) -> RegimeResult:
    period = facts.period
    articles = CommonArticles(
        credit=f"{doc} 第一条第（二）项",
        fraud=f"{doc} 第一条第（三）项",
        evasion=f"{doc} 第一条第（四）项",
        immediate=f"{doc} 第一条第（五）项",
    )
    industry, member = _industry_condition(facts, ADVANCED_MANUFACTURING)
    base = facts.base_2019
    increment = facts.current_credit - base.amount
    ratio, ratio_citation = _ratio(facts)
    rate = RATE_FULL.at(period)
    conditions = [
        *common_conditions(facts.case, articles),
        industry,
        _increment_positive(facts, increment, base.amount, f"{doc} 第一条第（一）项、第三条"),
        _input_deducted(ratio, f"{doc} 第四条；{ratio_citation}"),
    ]
    trace = [
        _base_trace(base),
        f"允许退还的增量留抵税额 = 增量留抵税额 {yuan(max(increment, ZERO))} × 进项构成比例 × {_percent(rate)}"
        f"（{RATE_FULL.citation_at(period)}）",
    ]
    return _result(
        facts,
        code,
        order,
        member=member,
        conditions=conditions,
        base=base.amount,
        incremental=increment,
        stock=None,
        ratio=ratio,
        rate=_rate_text(rate),
        refundable_incremental=_exact(increment, ratio, rate),
        refundable_stock=ZERO,
        trace=trace,
    )


def evaluate_84(facts: Facts, order: int) -> RegimeResult:
    """部分先进制造业 (非金属矿物制品、通用设备、专用设备、计算机通信和其他电子设备), 2019-07 … 2021-04."""
    return _advanced_manufacturing(facts, order, "CN-2019-84", DOC_84)


def evaluate_15(facts: Facts, order: int) -> RegimeResult:
    """先进制造业 (nine lines), 2021-05 … 2022-03."""
    return _advanced_manufacturing(facts, order, "CN-2021-15", DOC_15)


# --- CN-2022-14-*: 财政部 税务总局公告2022年第14号 (+17号, 19号, 21号) ---------------------------------------

ARTICLES_14 = CommonArticles(
    credit=f"{DOC_14} 第三条第（一）项",
    fraud=f"{DOC_14} 第三条第（二）项",
    evasion=f"{DOC_14} 第三条第（三）项",
    immediate=f"{DOC_14} 第三条第（四）项",
)


def small_micro_open(period: Period, option: str) -> bool:
    """Open in 2022-04 … 2025-08; after 2022-12 only if the option keeps the 14号 policy for them."""
    if not REGIME_PERIODS["CN-2022-14-small-micro"].covers(period):
        return False
    return period <= SMALL_MICRO_ART3_ONLY_UNTIL.at(period) or option == "six_month_test"


def _stock_split(facts: Facts) -> tuple[Decimal, Decimal, list[str]]:
    """(incremental, stock) under 14号 art. 4 and 5, before any window or size check."""
    credit = facts.current_credit
    base = facts.base_2019
    trace = [_base_trace(base)]
    if facts.stock_refund is not None:
        trace.append(
            f"已于{facts.stock_refund.application_period}获得一次性存量留抵退税：存量留抵税额为0，"
            f"增量留抵税额为当期期末留抵税额（{DOC_14} 第四条第（二）项、第五条第（二）项）"
        )
        stock = ZERO
    else:
        stock = max(min(credit, base.amount), ZERO)
        trace.append(
            f"存量留抵税额 = 当期期末留抵税额 {yuan(credit)}与2019年3月31日期末留抵税额 {yuan(base.amount)}孰小"
            f" = {yuan(stock)}（{DOC_14} 第五条第（一）项）"
        )
    incremental = credit - facts.base_2019_at(facts.tax_period)
    return incremental, stock, trace


def _stock_open(facts: Facts, route: str) -> tuple[bool, str]:
    openings = STOCK_REFUND_OPENS.at(facts.period)[route]
    size = facts.size.size
    if size is not None:
        opening = openings.get(size)
        if opening is None:
            return False, f"{SIZE_NAMES[size]}不适用此途径的一次性存量留抵退税"
        if opening.period <= facts.period:
            return (
                True,
                f"{SIZE_NAMES[size]}自{opening.period}纳税申报期起可申请一次性存量留抵退税（{opening.citation}）",
            )
        return (
            False,
            f"{SIZE_NAMES[size]}自{opening.period}纳税申报期起方可申请一次性存量留抵退税（{opening.citation}）",
        )
    latest = max(o.period for o in openings.values())
    if latest <= facts.period:
        return True, f"各类规模企业自{latest}纳税申报期起均可申请一次性存量留抵退税"
    return False, "企业规模未知，无法确定一次性存量留抵退税是否已开放"


def _fourteen(
    facts: Facts,
    order: int,
    code: str,
    *,
    member: bool,
    gate: Condition,
    route: str,
    windowed: bool,
) -> RegimeResult:
    period = facts.period
    incremental, stock, trace = _stock_split(facts)
    ratio, ratio_citation = _ratio(facts)
    rate = RATE_FULL.at(period)
    conditions = [*common_conditions(facts.case, ARTICLES_14), gate]
    if windowed:
        # After 2022-12-31 the small-micro conditions are no longer "only art. 3" (14号 第一条第（一）项);
        # option small_micro_after_2022=six_month_test applies 39号's six-month test to the 14号 increment.
        def increment(month: Period) -> Decimal | None:
            credit = facts.credit_at(month)
            return None if credit is None else credit - facts.base_2019_at(month)

        citation = f"{DOC_14} 第一条第（一）项（2022年12月31日后）；{DOC_39} 第八条第（一）项第1目"
        positive, minimum = _six_month(
            facts,
            increment,
            what="增量留抵税额",
            sixth_what="增量留抵税额",
            sixth_figure=incremental,
            citation_positive=citation,
            citation_minimum=f"{citation}；规则选项“{SMALL_MICRO_AFTER_2022.title}”",
            first_month=SIX_MONTH_FIRST_MONTH.at(period),
        )
        conditions += [positive, minimum, _window_not_reused(facts, f"{DOC_39} 第八条第（六）项")]
    else:
        conditions.append(_credit_positive(facts, f"{DOC_14} 第四条、第五条"))
    conditions.append(_input_deducted(ratio, ratio_citation))
    stock_open, stock_note = _stock_open(facts, route)
    trace.append(stock_note)
    if facts.stock_refund is not None:
        stock_open = False
    trace.append(
        f"允许退还的增量留抵税额 = 增量留抵税额 {yuan(max(incremental, ZERO))} × 进项构成比例 × {_percent(rate)}；"
        f"允许退还的存量留抵税额 = 存量留抵税额 {yuan(stock)} × 进项构成比例 × {_percent(rate)}（{DOC_14} 第八条）"
    )
    return _result(
        facts,
        code,
        order,
        member=member,
        conditions=conditions,
        base=facts.base_2019_at(facts.tax_period),
        incremental=incremental,
        stock=stock,
        ratio=ratio,
        rate=_rate_text(rate),
        refundable_incremental=_exact(incremental, ratio, rate),
        refundable_stock=_exact(stock, ratio, rate) if stock_open else ZERO,
        trace=trace,
    )


def evaluate_small_micro(facts: Facts, order: int) -> RegimeResult | None:
    """14号 第一条: small and micro enterprises of every industry (size by 第六条)."""
    option = facts.case.options.small_micro_after_2022
    if not small_micro_open(facts.period, option):
        return None
    size = facts.size
    member = size.size in ("micro", "small")
    if size.size is None:
        detail = f"企业规模未知（{size.detail}）"
    else:
        detail = size.detail + ("，属于小微企业" if member else "，不属于小微企业")
    citation = f"{DOC_14} 第一条" + ("、第六条" if size.citation == f"{DOC_14} 第六条" else f"；{size.citation}")
    gate = Condition("size_small_micro", member, detail, citation)
    windowed = facts.period > SMALL_MICRO_ART3_ONLY_UNTIL.at(facts.period)
    return _fourteen(
        facts, order, "CN-2022-14-small-micro", member=member, gate=gate, route="small_micro", windowed=windowed
    )


def industry_2022_member(facts: Facts) -> tuple[Condition, bool]:
    return _industry_condition(facts, INDUSTRIES_2022)


def industry_2022_route(facts: Facts) -> str:
    """Stock-refund timing: the six industries of 14号 art. 2 by size, or 21号's seven from 2022-07."""
    six = INDUSTRIES_2022.at(Period(2022, 4))
    return "industry" if facts.sales.share(six) > INDUSTRY_SHARE_ABOVE.at(facts.period) else "industry_21"


def evaluate_industry_2022(facts: Facts, order: int) -> RegimeResult:
    """14号 第二条 制造业等行业 (6, and 13 from the 2022-07 filing period by 21号), any size."""
    gate, member = industry_2022_member(facts)
    return _fourteen(
        facts, order, "CN-2022-14-industry", member=member, gate=gate, route=industry_2022_route(facts), windowed=False
    )


# --- CN-2025-7-*: 财政部 税务总局公告2025年第7号 ------------------------------------------------------------

ARTICLES_7 = CommonArticles(
    credit=f"{DOC_7} 第二条第（一）项",
    fraud=f"{DOC_7} 第二条第（二）项",
    evasion=f"{DOC_7} 第二条第（三）项",
    immediate=f"{DOC_7} 第二条第（四）项",
)

_REUSE_CITATION = f"参照{DOC_39} 第八条第（六）项（规则选项“{WINDOW_REUSE_2025.title}”）"


def class1_member(facts: Facts) -> tuple[Condition, bool]:
    return _industry_condition(facts, INDUSTRIES_CLASS1)


def evaluate_class1(facts: Facts, order: int) -> RegimeResult:
    """制造业等4个行业: the whole period-end credit × ratio × 100%, monthly, no window."""
    period = facts.period
    gate, member = class1_member(facts)
    ratio, ratio_citation = _ratio(facts)
    rate = RATE_FULL.at(period)
    credit = facts.current_credit
    conditions = [
        *common_conditions(facts.case, ARTICLES_7),
        gate,
        _credit_positive(facts, f"{DOC_7} 第一条第（一）项"),
        _input_deducted(ratio, ratio_citation),
    ]
    trace = [
        f"允许退还的留抵税额 = 当期期末留抵税额 {yuan(max(credit, ZERO))} × 进项构成比例 × {_percent(rate)}"
        f"（{DOC_7} 第四条）"
    ]
    return _result(
        facts,
        "CN-2025-7-class1",
        order,
        member=member,
        conditions=conditions,
        base=None,
        incremental=credit,
        stock=None,
        ratio=ratio,
        rate=_rate_text(rate),
        refundable_incremental=_exact(credit, ratio, rate),
        refundable_stock=ZERO,
        trace=trace,
    )


def evaluate_class2(facts: Facts, order: int) -> RegimeResult:
    """房地产开发经营业: six months of increase over 2019-03-31 > 0, the sixth ≥ 500,000; 60% of it × ratio."""
    period = facts.period
    gate, member = _industry_condition(facts, INDUSTRIES_REAL_ESTATE)
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
    positive, minimum = _six_month(
        facts,
        increase,
        what="期末新增加留抵税额（与2019年3月31日相比）",
        sixth_what="期末新增加留抵税额",
        sixth_figure=increase_now,
        citation_positive=citation,
        citation_minimum=citation,
    )
    ratio, ratio_citation = _ratio(facts)
    rate = RATE_REAL_ESTATE.at(period)
    reuse_enforced = facts.case.options.window_reuse_2025 == "not_reused"
    conditions = [
        *common_conditions(facts.case, ARTICLES_7),
        gate,
        positive,
        minimum,
        _window_not_reused(facts, _REUSE_CITATION, enforced=reuse_enforced),
        _input_deducted(ratio, ratio_citation),
    ]
    trace = [
        base.detail,
        f"允许退还的留抵税额 = 期末新增加留抵税额 {yuan(max(increase_now, ZERO))} × 进项构成比例 × {_percent(rate)}"
        f"（{RATE_REAL_ESTATE.citation_at(period)}）",
    ]
    return _result(
        facts,
        "CN-2025-7-class2",
        order,
        member=member,
        conditions=conditions,
        base=base_now,
        incremental=increase_now,
        stock=None,
        ratio=ratio,
        rate=_rate_text(rate),
        refundable_incremental=_exact(increase_now, ratio, rate),
        refundable_stock=ZERO,
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
        _, real_estate = _industry_condition(facts, INDUSTRIES_REAL_ESTATE)
        if not real_estate:
            raise
        base = None
    increase = facts.current_credit - (base.amount if base else ZERO)
    citation = f"{DOC_7} 第一条第（三）项"
    positive, minimum = _six_month(
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
    ratio, ratio_citation = _ratio(
        facts, first, f"{CLASS3_RATIO_START.choices[option]}（规则选项“{CLASS3_RATIO_START.title}”）"
    )
    tiers = CLASS3_TIERS.at(period)
    gross, blended = class3_refund(increase, tiers)
    exact = ZERO if ratio.value is None else ratio.applied_to(gross)
    first_cap, first_rate = tiers[0]
    rate_text = (
        _rate_text(first_rate) if increase <= first_cap else f"{blended.quantize(RATE_PLACES, rounding=ROUND_HALF_UP)}"
    )
    reuse_enforced = facts.case.options.window_reuse_2025 == "not_reused"
    conditions = [
        *common_conditions(facts.case, ARTICLES_7),
        positive,
        minimum,
        _window_not_reused(facts, _REUSE_CITATION, enforced=reuse_enforced),
        _input_deducted(ratio, ratio_citation),
    ]
    trace = [
        base.detail if base else minimum.detail,
        f"新增加留抵税额 = 期末留抵税额 {yuan(facts.current_credit)} − 上一年度12月31日期末留抵税额 "
        f"{yuan(base.amount if base else ZERO)} = {yuan(increase)}",
        f"允许退还的留抵税额 = [新增加留抵税额中不超过1亿元（含）的部分 × 60% + 超过1亿元的部分 × 30%] × 进项构成比例"
        f"（{CLASS3_TIERS.citation_at(period)}）",
    ]
    return _result(
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


# --- the table ----------------------------------------------------------------------------------------

REGIMES: tuple[Regime, ...] = (
    Regime("CN-2019-39", "增量留抵退税（60%）", 0, evaluate_39),
    Regime("CN-2019-84", "部分先进制造业增量留抵退税", 1, evaluate_84),
    Regime("CN-2021-15", "先进制造业增量留抵退税", 1, evaluate_15),
    Regime("CN-2022-14-small-micro", "小微企业留抵退税", 1, evaluate_small_micro),
    Regime("CN-2022-14-industry", "制造业等行业留抵退税", 1, evaluate_industry_2022),
    Regime("CN-2025-7-class1", "制造业等4个行业留抵退税", 1, evaluate_class1),
    Regime("CN-2025-7-class2", "房地产开发经营业留抵退税", 1, evaluate_class2),
    Regime("CN-2025-7-class3", "其他纳税人留抵退税", 0, evaluate_class3),
)
REGIME_CODES = tuple(regime.code for regime in REGIMES)
REGIME_TITLES: dict[str, str] = {regime.code: regime.title for regime in REGIMES}
NO_REGIME = "无适用政策"


def regime_title(code: str | None) -> str:
    """The Chinese title officers read for a regime code (never the code itself)."""
    if not code:
        return NO_REGIME
    return REGIME_TITLES.get(code, "其他留抵退税政策")


def regimes_open_in(period: Period) -> tuple[Regime, ...]:
    """The regimes whose application periods include ``period`` (before taxpayer-specific gates)."""
    return tuple(regime for regime in REGIMES if regime.open_in(period))

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

The regimes of 2019 to 2022 are here, those of 7号 (2025) in ``regimes_2025``, the building blocks they share
in ``regime_parts``; the table (``REGIMES``) is here.
"""

from __future__ import annotations

from decimal import Decimal

from core.periods import Period

from . import regime_parts as parts
from .conditions import CommonArticles, Condition, common_conditions
from .facts import Facts
from .inputs import ZERO
from .options import SMALL_MICRO_AFTER_2022
from .parameters import (
    ADVANCED_MANUFACTURING,
    DOC_14,
    DOC_15,
    DOC_39,
    DOC_84,
    INDUSTRIES_2022,
    INDUSTRY_SHARE_ABOVE,
    RATE_FULL,
    RATE_GENERAL_39,
    REGIME_PERIODS,
    SIX_MONTH_FIRST_MONTH,
    SMALL_MICRO_ART3_ONLY_UNTIL,
    STOCK_REFUND_OPENS,
)
from .regime_parts import Regime, RegimeResult
from .regime_parts import cents as cents  # re-exported: assess rounds with it
from .regimes_2025 import class3_refund as class3_refund  # re-exported for the tests of class 3's tiers
from .regimes_2025 import evaluate_class1, evaluate_class2, evaluate_class3
from .size import SIZE_NAMES
from .text import yuan

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
    increment_now = facts.current_credit - base_now
    positive, minimum = parts.six_month(
        facts,
        facts.increment_at,
        what="增量留抵税额（与2019年3月31日相比）",
        sixth_what="增量留抵税额",
        sixth_figure=increment_now,
        citation_positive=f"{DOC_39} 第八条第（一）项第1目",
        citation_minimum=f"{DOC_39} 第八条第（一）项第1目",
        first_month=SIX_MONTH_FIRST_MONTH.at(period),
    )
    ratio, ratio_citation = parts.input_ratio(facts)
    rate = RATE_GENERAL_39.at(period)
    conditions = [
        *common_conditions(facts.case, ARTICLES_39),
        positive,
        minimum,
        parts.window_not_reused(facts, f"{DOC_39} 第八条第（六）项"),
        parts.input_deducted(ratio, ratio_citation),
    ]
    trace = [parts.base_trace(base)]
    if base_now != base.amount:
        trace.append(
            f"已于{facts.stock_refund.application_period}获得一次性存量留抵退税，比较基数按0计（{DOC_14} 第四条）"
        )
    trace.append(
        f"允许退还的增量留抵税额 = 增量留抵税额 {yuan(max(increment_now, ZERO))} × 进项构成比例 × {parts.percent(rate)}"
        f"（{RATE_GENERAL_39.citation_at(period)}）"
    )
    return parts.incremental_result(
        facts,
        "CN-2019-39",
        order,
        member=True,
        conditions=conditions,
        base=base_now,
        incremental=increment_now,
        ratio=ratio,
        rate=rate,
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
    industry, member = parts.industry_condition(facts, ADVANCED_MANUFACTURING)
    base = facts.base_2019
    increment = facts.current_credit - base.amount
    ratio, ratio_citation = parts.input_ratio(facts)
    rate = RATE_FULL.at(period)
    conditions = [
        *common_conditions(facts.case, articles),
        industry,
        parts.increment_positive(facts, increment, base.amount, f"{doc} 第一条第（一）项、第三条"),
        parts.input_deducted(ratio, f"{doc} 第四条；{ratio_citation}"),
    ]
    trace = [
        parts.base_trace(base),
        f"允许退还的增量留抵税额 = 增量留抵税额 {yuan(max(increment, ZERO))} × 进项构成比例 × {parts.percent(rate)}"
        f"（{RATE_FULL.citation_at(period)}）",
    ]
    return parts.incremental_result(
        facts,
        code,
        order,
        member=member,
        conditions=conditions,
        base=base.amount,
        incremental=increment,
        ratio=ratio,
        rate=rate,
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
    trace = [parts.base_trace(base)]
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
    ratio, ratio_citation = parts.input_ratio(facts)
    rate = RATE_FULL.at(period)
    conditions = [*common_conditions(facts.case, ARTICLES_14), gate]
    if windowed:
        # After 2022-12-31 the small-micro conditions are no longer "only art. 3" (14号 第一条第（一）项);
        # option small_micro_after_2022=six_month_test applies 39号's six-month test to the 14号 increment.
        citation = f"{DOC_14} 第一条第（一）项（2022年12月31日后）；{DOC_39} 第八条第（一）项第1目"
        positive, minimum = parts.six_month(
            facts,
            facts.increment_at,
            what="增量留抵税额",
            sixth_what="增量留抵税额",
            sixth_figure=incremental,
            citation_positive=citation,
            citation_minimum=f"{citation}；规则选项“{SMALL_MICRO_AFTER_2022.title}”",
            first_month=SIX_MONTH_FIRST_MONTH.at(period),
        )
        conditions += [positive, minimum, parts.window_not_reused(facts, f"{DOC_39} 第八条第（六）项")]
    else:
        conditions.append(parts.credit_positive(facts, f"{DOC_14} 第四条、第五条"))
    conditions.append(parts.input_deducted(ratio, ratio_citation))
    stock_open, stock_note = _stock_open(facts, route)
    trace.append(stock_note)
    if facts.stock_refund is not None:
        stock_open = False
    trace.append(
        f"允许退还的增量留抵税额 = 增量留抵税额 {yuan(max(incremental, ZERO))} × 进项构成比例 × {parts.percent(rate)}；"
        f"允许退还的存量留抵税额 = 存量留抵税额 {yuan(stock)} × 进项构成比例 × {parts.percent(rate)}（{DOC_14} 第八条）"
    )
    return parts.result(
        facts,
        code,
        order,
        member=member,
        conditions=conditions,
        base=facts.base_2019_at(facts.tax_period),
        incremental=incremental,
        stock=stock,
        ratio=ratio,
        rate=parts.rate_text(rate),
        refundable_incremental=parts.exact_refund(incremental, ratio, rate),
        refundable_stock=parts.exact_refund(stock, ratio, rate) if stock_open else ZERO,
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
    return parts.industry_condition(facts, INDUSTRIES_2022)


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

"""生产经营情况: what the VAT returns say about the months before the application — a surge of input, sales falling
while input rises, months of zero declaration with a growing credit, a credit grown sharply, a tax burden far below
the industry's median in the county.

Each is one statement: the taxpayers joined to their returns of the windows, summed with conditional aggregates
(or the period-end credit of a month read by a correlated subquery), filtered on the firing condition. The tax
burden compares each taxpayer with the median of its industry over all taxpayers (``base.median_sql``), whoever
the scan narrows to.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from taxpayers.models import INPUT_TAX_FIELDS, Taxpayer, VatReturn

from ..models import Severity
from .base import (
    MONEY,
    Family,
    Indicator,
    Parameter,
    Scope,
    Statement,
    Values,
    credit_at,
    hits,
    median_sql,
    taxpayer_rows,
    times,
)

ZERO = Value(Decimal("0"), output_field=MONEY)


def _input_total(prefix: str = "returns__"):
    """进项税额合计 of a return reached through ``prefix``."""
    total = F(f"{prefix}{INPUT_TAX_FIELDS[0]}")
    for name in INPUT_TAX_FIELDS[1:]:
        total = total + F(f"{prefix}{name}")
    return ExpressionWrapper(total, output_field=MONEY)


def _in(window: tuple[str, str]) -> Q:
    return Q(returns__period__gte=window[0], returns__period__lte=window[1])


def _sum(expression, window: tuple[str, str]):
    return Coalesce(Sum(expression, filter=_in(window)), ZERO, output_field=MONEY)


def _with_credit_change(taxpayers: QuerySet, scope: Scope, months: int) -> QuerySet:
    """``credit_start`` (the credit ``months`` before the last period, 0 without a return), ``credit_end`` (the last
    period's) and ``credit_growth``, for the taxpayers with a return by the last period."""
    return (
        taxpayers.annotate(
            credit_end=credit_at(str(scope.last_period)),
            credit_start=Coalesce(credit_at(str(scope.last_period.minus(months))), ZERO, output_field=MONEY),
        )
        .filter(credit_end__isnull=False)
        .annotate(credit_growth=ExpressionWrapper(F("credit_end") - F("credit_start"), output_field=MONEY))
    )


def input_surge(scope: Scope, p: Values) -> QuerySet:
    recent_months, base_months = int(p["recent_months"]), int(p["base_months"])
    recent = scope.window(recent_months)
    base = scope.window(base_months, skip=recent_months)
    taxpayers = taxpayer_rows(scope).annotate(
        recent_input=_sum(_input_total(), recent), base_input=_sum(_input_total(), base)
    )
    # Monthly averages compared without dividing: recent / r ≥ ratio × base / b  ⇔  recent × b ≥ ratio × r × base.
    return hits(
        taxpayers.filter(base_input__gt=0, recent_input__gte=p["min_recent_input"])
        .alias(lhs=times("recent_input", base_months), rhs=times("base_input", p["ratio"] * recent_months))
        .filter(lhs__gte=F("rhs")),
        "recent_input",
        "base_input",
    )


def sales_down_input_up(scope: Scope, p: Values) -> QuerySet:
    months = int(p["months"])
    recent, before = scope.window(months), scope.window(months, skip=months)
    taxpayers = taxpayer_rows(scope).annotate(
        recent_sales=_sum(F("returns__sales_total"), recent),
        before_sales=_sum(F("returns__sales_total"), before),
        recent_input=_sum(_input_total(), recent),
        before_input=_sum(_input_total(), before),
    )
    return hits(
        taxpayers.filter(before_sales__gt=0, before_input__gt=0)
        .alias(
            sales_limit=times("before_sales", (100 - p["sales_drop_pct"]) / 100),
            input_limit=times("before_input", (100 + p["input_rise_pct"]) / 100),
        )
        .filter(recent_sales__lte=F("sales_limit"), recent_input__gte=F("input_limit")),
        "recent_sales",
        "before_sales",
        "recent_input",
        "before_input",
    )


def zero_declaration_growing_credit(scope: Scope, p: Values) -> QuerySet:
    months = int(p["months"])
    zero = _in(scope.window(months)) & Q(returns__sales_total=0)
    taxpayers = taxpayer_rows(scope).annotate(zero_months=Count("returns", filter=zero))
    return hits(
        _with_credit_change(taxpayers.filter(zero_months__gte=p["min_zero_months"]), scope, months).filter(
            credit_growth__gt=0, credit_growth__gte=p["min_growth"]
        ),
        "zero_months",
        *CREDIT_CHANGE,
    )


def credit_grown_sharply(scope: Scope, p: Values) -> QuerySet:
    return hits(
        _with_credit_change(taxpayer_rows(scope), scope, int(p["months"]))
        .alias(credit_limit=times("credit_start", (100 + p["growth_pct"]) / 100))
        .filter(credit_growth__gte=p["min_growth"], credit_end__gte=F("credit_limit")),
        *CREDIT_CHANGE,
    )


CREDIT_EVIDENCE = (
    ("credit_start", "期初留抵税额（元）"),
    ("credit_end", "期末留抵税额（元）"),
    ("credit_growth", "留抵税额增加（元）"),
)
CREDIT_CHANGE = tuple(name for name, _ in CREDIT_EVIDENCE)


def tax_burden_below_median(scope: Scope, p: Values) -> Statement:
    """税负: 应纳税额 over 销售额 of the window, per taxpayer with sales of at least ``min_sales``; the median per
    industry 大类 (the code's first three characters) over all such taxpayers."""
    first, last = scope.window(int(p["months"]))
    returns, taxpayers = VatReturn._meta.db_table, Taxpayer._meta.db_table
    narrow, narrow_params = scope.sql("b.taxpayer_id")
    sql = (
        "WITH b AS (SELECT r.taxpayer_id, SUBSTR(t.industry_code, 1, 3) AS industry, "  # noqa: S608 - _meta, bound
        "SUM(r.sales_total) AS sales, SUM(r.tax_payable) AS tax, 1.0 * SUM(r.tax_payable) / SUM(r.sales_total) "
        f"AS burden FROM {returns} r JOIN {taxpayers} t ON t.id = r.taxpayer_id WHERE r.period BETWEEN %s AND %s "
        "GROUP BY r.taxpayer_id, SUBSTR(t.industry_code, 1, 3) "
        "HAVING SUM(r.sales_total) > 0 AND SUM(r.sales_total) >= CAST(%s AS NUMERIC)), "
        f"m AS ({median_sql('b', 'industry', 'burden')}) "
        "SELECT b.taxpayer_id, b.industry, b.sales, b.tax, 100 * b.burden AS burden_pct, "
        "100 * m.median AS median_pct, m.peers FROM b JOIN m ON m.grp = b.industry "
        f"WHERE m.peers >= %s AND m.median > 0 AND 100 * b.burden <= m.median * %s{narrow} ORDER BY b.taxpayer_id"
    )
    params = [first, last, p["min_sales"], int(p["min_peers"]), p["ratio_pct"], *narrow_params]
    columns = ("industry", "sales", "tax", "burden_pct", "median_pct", "peers")
    return Statement(sql, params, columns, amounts=("sales", "tax", "burden_pct", "median_pct"))


INDICATORS = (
    Indicator(
        code="OPS_INPUT_SURGE",
        family=Family.OPERATIONS,
        title="申请前进项税额激增",
        description="最近若干个月的月均进项税额达到此前若干个月月均进项税额的规定倍数，且金额达到下限："
        "进项集中增加可能是为取得留抵退税而突击取得进项。",
        severity=Severity.MEDIUM,
        parameters=(
            Parameter("recent_months", "近期月数", "个月", "3"),
            Parameter("base_months", "对比月数", "个月", "6"),
            Parameter("ratio", "月均进项倍数不低于", "倍", "2"),
            Parameter("min_recent_input", "近期进项税额不低于", "元", "100000"),
        ),
        evidence=(("recent_input", "近期进项税额（元）"), ("base_input", "对比期进项税额（元）")),
        query=input_surge,
    ),
    Indicator(
        code="OPS_SALES_DOWN_INPUT_UP",
        family=Family.OPERATIONS,
        title="销售额下降而进项增加",
        description="最近若干个月销售额较此前同样月数下降达到规定比例，进项税额却增加达到规定比例：购销背离。",
        severity=Severity.MEDIUM,
        parameters=(
            Parameter("months", "比较月数", "个月", "6"),
            Parameter("sales_drop_pct", "销售额下降不少于", "%", "20"),
            Parameter("input_rise_pct", "进项税额增加不少于", "%", "20"),
        ),
        evidence=(
            ("recent_sales", "近期销售额（元）"),
            ("before_sales", "此前销售额（元）"),
            ("recent_input", "近期进项税额（元）"),
            ("before_input", "此前进项税额（元）"),
        ),
        query=sales_down_input_up,
    ),
    Indicator(
        code="OPS_ZERO_DECLARATION",
        family=Family.OPERATIONS,
        title="零申报而留抵税额增加",
        description="最近若干个月中零销售额申报的月数达到规定数，期末留抵税额却增加：无经营而留抵增长。",
        severity=Severity.HIGH,
        parameters=(
            Parameter("months", "观察月数", "个月", "6"),
            Parameter("min_zero_months", "零申报月数不少于", "个月", "3"),
            Parameter("min_growth", "留抵税额增加不少于", "元", "10000"),
        ),
        evidence=(("zero_months", "零申报月数"), *CREDIT_EVIDENCE),
        query=zero_declaration_growing_credit,
    ),
    Indicator(
        code="OPS_CREDIT_GROWN",
        family=Family.OPERATIONS,
        title="留抵税额短期大幅增长",
        description="最近若干个月期末留抵税额增长达到规定比例且增加额达到下限。",
        severity=Severity.MEDIUM,
        parameters=(
            Parameter("months", "观察月数", "个月", "6"),
            Parameter("growth_pct", "增长比例不低于", "%", "100"),
            Parameter("min_growth", "增加额不少于", "元", "500000"),
        ),
        evidence=CREDIT_EVIDENCE,
        query=credit_grown_sharply,
    ),
    Indicator(
        code="OPS_LOW_TAX_BURDEN",
        family=Family.OPERATIONS,
        title="税负明显低于本县同行业中位数",
        description="最近若干个月的增值税税负（应纳税额占销售额的比例）不高于本县同一行业大类税负中位数的规定"
        "比例：同行业户数不足或中位数为零的行业不比较。",
        severity=Severity.LOW,
        parameters=(
            Parameter("months", "计算月数", "个月", "12"),
            Parameter("ratio_pct", "税负不高于行业中位数的", "%", "30"),
            Parameter("min_sales", "销售额不低于", "元", "1000000"),
            Parameter("min_peers", "同行业户数不少于", "户", "5"),
        ),
        evidence=(
            ("industry", "行业大类"),
            ("sales", "销售额（元）"),
            ("tax", "应纳税额（元）"),
            ("burden_pct", "税负（%）"),
            ("median_pct", "行业税负中位数（%）"),
            ("peers", "同行业户数"),
        ),
        query=tax_burden_below_median,
    ),
)

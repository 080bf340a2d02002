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

from django.db import connection
from django.db.models import (
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


def _credit_change(scope: Scope, months: int, source: str, source_params: list, columns: str, where: str) -> str:
    """SQL and its parameters: for the taxpayers of ``source`` (a SELECT of ``taxpayer_id`` and ``columns``),
    ``credit_start`` (the credit ``months`` before the last period, 0 without a return), ``credit_end`` (the last
    period's) and ``credit_growth``, for those with a return by the last period and meeting ``where``.

    Each period-end credit is read once per taxpayer (a correlated subquery in a derived table that PostgreSQL is
    told not to flatten with ``OFFSET 0``): written in the conditions too, the ORM's subqueries ran up to nine
    times per taxpayer."""
    returns = VatReturn._meta.db_table
    fence = " OFFSET 0" if connection.vendor == "postgresql" else ""

    def credit(alias: str) -> str:
        return (
            f"(SELECT {alias}.end_credit FROM {returns} {alias} WHERE {alias}.taxpayer_id = s.taxpayer_id "  # noqa: S608
            f"AND {alias}.period <= %s ORDER BY {alias}.period DESC LIMIT 1)"
        )

    sql = (
        f"SELECT taxpayer_id{columns}, credit_start, credit_end, credit_end - credit_start AS credit_growth FROM ("  # noqa: S608
        f"SELECT s.*, {credit('e')} AS credit_end, COALESCE({credit('b')}, 0) AS credit_start "
        f"FROM ({source}) AS s{fence}) AS c WHERE credit_end IS NOT NULL AND {where} ORDER BY taxpayer_id"
    )
    return sql, [str(scope.last_period), str(scope.last_period.minus(months)), *source_params]


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


def zero_declaration_growing_credit(scope: Scope, p: Values) -> Statement:
    months = int(p["months"])
    first, last = scope.window(months)
    returns, taxpayers = VatReturn._meta.db_table, Taxpayer._meta.db_table
    narrow, narrow_params = scope.sql("t.id")
    source = (
        "SELECT t.id AS taxpayer_id, COALESCE(z.n, 0) AS zero_months "  # noqa: S608 - table names from _meta
        f"FROM {taxpayers} t LEFT JOIN (SELECT taxpayer_id, COUNT(*) AS n FROM {returns} "
        "WHERE period BETWEEN %s AND %s AND sales_total = 0 GROUP BY taxpayer_id) AS z ON z.taxpayer_id = t.id "
        f"WHERE COALESCE(z.n, 0) >= %s{narrow}"
    )
    where = "credit_end - credit_start > 0 AND credit_end - credit_start >= %s"
    sql, params = _credit_change(
        scope, months, source, [first, last, p["min_zero_months"], *narrow_params], ", zero_months", where
    )
    return Statement(sql, [*params, p["min_growth"]], ("zero_months", *CREDIT_CHANGE), amounts=CREDIT_CHANGE)


def credit_grown_sharply(scope: Scope, p: Values) -> Statement:
    narrow, narrow_params = scope.condition("id")
    source = f"SELECT id AS taxpayer_id FROM {Taxpayer._meta.db_table}" + (f" WHERE {narrow}" if narrow else "")  # noqa: S608
    where = "credit_end - credit_start >= %s AND credit_end >= credit_start * %s"
    sql, params = _credit_change(scope, int(p["months"]), source, narrow_params, "", where)
    factor = (100 + p["growth_pct"]) / 100
    return Statement(sql, [*params, p["min_growth"], factor], CREDIT_CHANGE, amounts=CREDIT_CHANGE)


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

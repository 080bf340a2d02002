"""生产经营情况: what the VAT returns say about the months before the application — a surge of input, sales falling
while input rises, months of zero declaration with a growing credit, a credit grown sharply.

Each is one statement: the taxpayers joined to their returns of the windows, summed with conditional aggregates
(or the period-end credit of a month read by a correlated subquery), filtered on the firing condition.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from taxpayers.models import INPUT_TAX_FIELDS, Taxpayer, VatReturn

from ..models import Severity
from .base import Family, Indicator, Parameter, Scope, Values

MONEY = DecimalField(max_digits=20, decimal_places=2)
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


def _n(value) -> Value:
    return Value(Decimal(value), output_field=MONEY)


def credit_at(period: str) -> Subquery:
    """期末留抵税额 of the latest return filed for a period up to ``period`` (the taxpayer ``OuterRef("pk")``)."""
    returns = VatReturn.objects.filter(taxpayer_id=OuterRef("pk"), period__lte=period).order_by("-period")
    return Subquery(returns.values("end_credit")[:1], output_field=MONEY)


def input_surge(scope: Scope, p: Values) -> QuerySet:
    recent_months, base_months = int(p["recent_months"]), int(p["base_months"])
    recent = scope.window(recent_months)
    base = scope.window(base_months, skip=recent_months)
    taxpayers = scope.narrow(Taxpayer.objects.all()).annotate(
        recent_input=_sum(_input_total(), recent), base_input=_sum(_input_total(), base)
    )
    # Monthly averages compared without dividing: recent / r ≥ ratio × base / b  ⇔  recent × b ≥ ratio × r × base.
    return (
        taxpayers.filter(base_input__gt=0, recent_input__gte=p["min_recent_input"])
        .annotate(
            lhs=ExpressionWrapper(F("recent_input") * _n(base_months), output_field=MONEY),
            rhs=ExpressionWrapper(F("base_input") * _n(p["ratio"] * recent_months), output_field=MONEY),
        )
        .filter(lhs__gte=F("rhs"))
        .values("recent_input", "base_input", taxpayer_id=F("pk"))
    )


def sales_down_input_up(scope: Scope, p: Values) -> QuerySet:
    months = int(p["months"])
    recent, before = scope.window(months), scope.window(months, skip=months)
    taxpayers = scope.narrow(Taxpayer.objects.all()).annotate(
        recent_sales=_sum(F("returns__sales_total"), recent),
        before_sales=_sum(F("returns__sales_total"), before),
        recent_input=_sum(_input_total(), recent),
        before_input=_sum(_input_total(), before),
    )
    sales_keep = _n((100 - p["sales_drop_pct"]) / 100)
    input_grow = _n((100 + p["input_rise_pct"]) / 100)
    return (
        taxpayers.filter(before_sales__gt=0, before_input__gt=0)
        .annotate(
            sales_limit=ExpressionWrapper(F("before_sales") * sales_keep, output_field=MONEY),
            input_limit=ExpressionWrapper(F("before_input") * input_grow, output_field=MONEY),
        )
        .filter(recent_sales__lte=F("sales_limit"), recent_input__gte=F("input_limit"))
        .values("recent_sales", "before_sales", "recent_input", "before_input", taxpayer_id=F("pk"))
    )


def zero_declaration_growing_credit(scope: Scope, p: Values) -> QuerySet:
    months = int(p["months"])
    window = scope.window(months)
    start_credit_period = str(scope.last_period.minus(months))
    return (
        scope.narrow(Taxpayer.objects.all())
        .annotate(
            zero_months=Count("returns", filter=_in(window) & Q(returns__sales_total=0)),
            credit_end=credit_at(window[1]),
            credit_start=Coalesce(credit_at(start_credit_period), ZERO, output_field=MONEY),
        )
        .filter(zero_months__gte=p["min_zero_months"], credit_end__isnull=False)
        .annotate(credit_growth=ExpressionWrapper(F("credit_end") - F("credit_start"), output_field=MONEY))
        .filter(credit_growth__gt=0, credit_growth__gte=p["min_growth"])
        .values("zero_months", "credit_start", "credit_end", "credit_growth", taxpayer_id=F("pk"))
    )


def credit_grown_sharply(scope: Scope, p: Values) -> QuerySet:
    months = int(p["months"])
    end = str(scope.last_period)
    start = str(scope.last_period.minus(months))
    grow = _n((100 + p["growth_pct"]) / 100)
    return (
        scope.narrow(Taxpayer.objects.all())
        .annotate(credit_end=credit_at(end), credit_start=Coalesce(credit_at(start), ZERO, output_field=MONEY))
        .filter(credit_end__isnull=False)
        .annotate(
            credit_growth=ExpressionWrapper(F("credit_end") - F("credit_start"), output_field=MONEY),
            credit_limit=ExpressionWrapper(F("credit_start") * grow, output_field=MONEY),
        )
        .filter(credit_growth__gte=p["min_growth"], credit_end__gte=F("credit_limit"))
        .values("credit_start", "credit_end", "credit_growth", taxpayer_id=F("pk"))
    )


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
        evidence=(
            ("zero_months", "零申报月数"),
            ("credit_start", "期初留抵税额（元）"),
            ("credit_end", "期末留抵税额（元）"),
            ("credit_growth", "留抵税额增加（元）"),
        ),
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
        evidence=(
            ("credit_start", "期初留抵税额（元）"),
            ("credit_end", "期末留抵税额（元）"),
            ("credit_growth", "留抵税额增加（元）"),
        ),
        query=credit_grown_sharply,
    ),
)

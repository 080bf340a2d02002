"""What an indicator is, and how one runs set-based.

An indicator (风险指标) is one read over all taxpayers at once: an ORM query that the database runs as one
statement, or one SQL statement where the ORM cannot say it (a self-join of the contacts), returning a row per
taxpayer it fires on — ``taxpayer_id`` and the evidence figures. The same statement narrowed by a ``Scope`` to
a few taxpayers serves the on-demand scan of one application. Parameters come bound from the versions in force
on the scope's day (``risk.selectors.parameters_in_force``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import connection, models
from django.db.models import (
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast

from core.periods import Period, shift_months
from taxpayers.models import Taxpayer, VatReturn


class Family(models.TextChoices):
    """The six families of the province's indicator system (六紧盯六把好)."""

    POLICY = "policy", "政策适用范围"
    CREDIT = "credit", "纳税信用等级"
    INVOICE = "invoice", "发票链条"
    OPERATIONS = "operations", "生产经营情况"
    CONTROL = "control", "内部控制管理"
    ANOMALY = "anomaly", "异常情况"


class Kind(models.TextChoices):
    NUMBER = "number", "数值"
    SECTIONS = "sections", "行业门类"


@dataclass(frozen=True)
class Parameter:
    """A parameter risk officers edit: its name in code, Chinese label, unit and default (as text, as stored)."""

    name: str
    label: str
    unit: str
    default: str
    kind: str = Kind.NUMBER

    def parse(self, text: object) -> Decimal | tuple[str, ...]:
        """The value typed or stored; ``ValueError`` with the Chinese message the form shows."""
        raw = str(text if text is not None else "").strip()
        if self.kind == Kind.SECTIONS:
            codes = tuple(sorted({c.strip().upper() for c in raw.replace("，", ",").split(",") if c.strip()}))
            if not codes or any(len(c) != 1 or not "A" <= c <= "T" for c in codes):
                raise ValueError(f"{self.label}应为国民经济行业门类字母（A 至 T），以逗号分隔，如 A,F。")
            return codes
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise ValueError(f"{self.label}应为数字。") from None
        if not value.is_finite() or value < 0:
            raise ValueError(f"{self.label}不能为负数。")
        return value

    def normalised(self, text: object) -> str:
        """The value as stored: ``A,F`` for sections, the number as typed without spaces."""
        value = self.parse(text)
        return ",".join(value) if isinstance(value, tuple) else format(value, "f")


MONEY = DecimalField(max_digits=20, decimal_places=2)
RATIO = DecimalField(max_digits=30, decimal_places=6)


def number(value) -> Value:
    """A figure (a parameter, a factor) as a SQL numeric."""
    return Value(Decimal(value), output_field=RATIO)


def times(expression, factor) -> ExpressionWrapper:
    """``expression × factor``, an amount (``F("before_sales") × 0.8``)."""
    expression = F(expression) if isinstance(expression, str) else expression
    return ExpressionWrapper(expression * number(factor), output_field=MONEY)


def percent(part: str, total: str) -> ExpressionWrapper:
    """``100 × part / total`` of two columns of the row (the caller keeps ``total`` above 0). On SQLite the part
    is read as a float first: a sum of whole yuan is an integer there, and the division would be an integer one."""
    numerator = Cast(F(part), FloatField()) if connection.vendor == "sqlite" else F(part)
    return ExpressionWrapper(numerator * number(100) / F(total), output_field=RATIO)


def taxpayer_rows(scope: Scope, queryset: QuerySet | None = None) -> QuerySet:
    """The taxpayers a run reads (of ``queryset`` when given), one row each: what most indicators annotate."""
    return scope.narrow(Taxpayer.objects.all() if queryset is None else queryset)


def hits(taxpayers: QuerySet, *evidence: str) -> QuerySet:
    """The rows of an indicator built on taxpayers: ``taxpayer_id`` and the evidence figures named."""
    return taxpayers.values(*evidence, taxpayer_id=F("pk"))


def first_of(scope: Scope, rows: QuerySet, fields: Mapping[str, str]) -> QuerySet:
    """The taxpayers having a row in ``rows`` (correlated on ``OuterRef("pk")``, in the order that puts the row to
    show first), with the first row's ``fields`` as evidence: ``{evidence name: field of the row}``."""
    names = list(fields)
    # Exists first: a semi-join keeps the taxpayers with a row, so the per-field subqueries run for those alone.
    taxpayers = (
        taxpayer_rows(scope)
        .filter(Exists(rows))
        .annotate(**{name: Subquery(rows.values(field)[:1]) for name, field in fields.items()})
    )
    return hits(taxpayers.filter(**{f"{names[0]}__isnull": False}), *names)


def credit_at(period: str) -> Subquery:
    """期末留抵税额 of the latest return filed for a period up to ``period`` (the taxpayer ``OuterRef("pk")``)."""
    returns = VatReturn.objects.filter(taxpayer_id=OuterRef("pk"), period__lte=period).order_by("-period")
    return Subquery(returns.values("end_credit")[:1], output_field=MONEY)


@dataclass(frozen=True)
class Scope:
    """What a run reads: every taxpayer (``taxpayer_ids`` None) or the few listed, as of ``as_of``."""

    as_of: dt.date
    taxpayer_ids: tuple[int, ...] | None = None

    @property
    def last_period(self) -> Period:
        """The latest month whose return is due before ``as_of``: the month before it."""
        return Period.of(self.as_of).minus(1)

    def window(self, months: int, *, skip: int = 0) -> tuple[str, str]:
        """The first and last period of the ``months`` months ending ``skip`` months before ``last_period``."""
        last = self.last_period.minus(skip)
        return str(last.minus(months - 1)), str(last)

    def since(self, months: int) -> dt.date:
        """The day ``months`` calendar months before ``as_of``: where a look-back of that many months starts."""
        return shift_months(self.as_of, -months)

    def narrow(self, queryset: QuerySet, field: str = "pk") -> QuerySet:
        if self.taxpayer_ids is None:
            return queryset
        return queryset.filter(**{f"{field}__in": self.taxpayer_ids})

    def condition(self, column: str) -> tuple[str, list]:
        """``column IN (…)`` and its parameters (``1 = 0`` for none), or ``""`` for every taxpayer."""
        if self.taxpayer_ids is None:
            return "", []
        if not self.taxpayer_ids:
            return "1 = 0", []
        return f"{column} IN ({', '.join(['%s'] * len(self.taxpayer_ids))})", list(self.taxpayer_ids)

    def sql(self, column: str) -> tuple[str, list]:
        """`` AND column IN (…)`` and its parameters, or nothing for every taxpayer."""
        condition, params = self.condition(column)
        return (f" AND {condition}" if condition else ""), params


@dataclass(frozen=True)
class Statement:
    """One SQL statement returning ``taxpayer_id`` first, then the evidence columns in ``columns``; ``amounts``
    names the columns that are amounts or ratios (SQLite gives a whole number back as an integer)."""

    sql: str
    params: Sequence
    columns: tuple[str, ...]
    amounts: tuple[str, ...] = ()

    def figures(self, row: Sequence) -> dict:
        figures = dict(zip(self.columns, row, strict=True))
        for name in self.amounts:
            if isinstance(figures[name], int | float):
                figures[name] = Decimal(str(figures[name]))
        return figures


def months_back(default: str, label: str = "回溯月数") -> Parameter:
    """The ``months`` parameter of an indicator that looks back that many months from the scan's day."""
    return Parameter("months", label, "个月", default)


Values = Mapping[str, Decimal | tuple[str, ...]]
Query = Callable[[Scope, Values], "QuerySet | Statement"]


@dataclass(frozen=True)
class Indicator:
    """风险指标: a code, its family, a Chinese title and description, a severity, parameters, and the query.

    ``evidence`` names the figures a hit carries, in the order shown, with their Chinese labels."""

    code: str
    family: str
    title: str
    description: str
    severity: str
    parameters: tuple[Parameter, ...]
    evidence: tuple[tuple[str, str], ...]
    query: Query

    def parameter(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise KeyError(name)

    @property
    def defaults(self) -> dict[str, Decimal | tuple[str, ...]]:
        return {p.name: p.parse(p.default) for p in self.parameters}

    def run(self, scope: Scope, values: Values | None = None) -> Iterator[tuple[int, dict]]:
        """(taxpayer id, evidence) for each taxpayer the indicator fires on, streamed from one statement."""
        bound = {**self.defaults, **(values or {})}
        query = self.query(scope, bound)
        keys = tuple(key for key, _ in self.evidence)
        if isinstance(query, Statement):
            with connection.cursor() as cursor:
                cursor.execute(query.sql, list(query.params))
                for row in cursor.fetchall():
                    yield row[0], plain_evidence(query.figures(row[1:]), keys)
            return
        for row in query.iterator(chunk_size=2000):
            yield row["taxpayer_id"], plain_evidence(row, keys)


def plain_evidence(row: Mapping, keys: tuple[str, ...]) -> dict:
    """The evidence figures JSON-ready: amounts as ``"1234.50"``, ratios with two places, dates ISO."""
    evidence = {}
    for key in keys:
        value = row.get(key)
        if isinstance(value, Decimal | float):
            value = str(Decimal(str(value)).quantize(Decimal("0.01")))
        elif isinstance(value, dt.date):
            value = value.isoformat()
        elif value is not None and not isinstance(value, str | int | bool):
            value = str(value)  # a Period: ``2026-03``
        evidence[key] = value
    return evidence


def median_sql(source: str, group: str, value: str, *, vendor: str | None = None) -> str:
    """A SELECT of ``grp, median, peers`` — the median of ``value`` over the rows of ``source`` (a table or CTE
    name) per ``group``, and how many rows — in one pass. PostgreSQL says it with ``percentile_cont``; SQLite has
    no ordered-set aggregate, so there the middle row (or the mean of the two middle rows) is picked by rank: the
    same figure."""
    if (vendor or connection.vendor) == "postgresql":
        return (
            # percentile_cont works in double precision; back to numeric (15 digits) so 0.03 stays 0.03.
            f"SELECT {group} AS grp, CAST(percentile_cont(0.5) WITHIN GROUP (ORDER BY {value}) AS NUMERIC) "  # noqa: S608
            "AS median, "
            f"COUNT(*) AS peers FROM {source} GROUP BY {group}"
        )
    return (
        "SELECT grp, AVG(v) AS median, MAX(peers) AS peers FROM ("  # noqa: S608 - names from the caller's code
        f"SELECT {group} AS grp, {value} AS v, ROW_NUMBER() OVER (PARTITION BY {group} ORDER BY {value}) AS rn, "
        f"COUNT(*) OVER (PARTITION BY {group}) AS peers FROM {source}) AS ranked "
        "WHERE rn IN ((peers + 1) / 2, (peers + 2) / 2) GROUP BY grp"
    )

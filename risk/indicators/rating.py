"""纳税信用等级: what the rating history says — a level reached by repair or 复评 shortly before applying, a C or
D in the recent years. The rating in force is read as ``credit.selectors`` defines it."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, F, OuterRef, QuerySet, Subquery

from credit.models import CreditRating, RatingBasis
from credit.selectors import IN_FORCE_ORDER, rating_in_force_subquery
from taxpayers.models import Taxpayer

from ..models import Severity
from .base import Family, Indicator, Parameter, Scope, Values

REPAIRED = (RatingBasis.REPAIRED, RatingBasis.RE_EVALUATED)


def rating_repaired_recently(scope: Scope, p: Values) -> QuerySet:
    since = scope.as_of - dt.timedelta(days=int(p["days"]))
    return (
        scope.narrow(Taxpayer.objects.all())
        .annotate(
            level=rating_in_force_subquery(scope.as_of, field="level"),
            basis=rating_in_force_subquery(scope.as_of, field="basis"),
            effective_on=rating_in_force_subquery(scope.as_of, field="evaluated_on"),
        )
        .filter(basis__in=REPAIRED, effective_on__gte=since)
        .values("level", "basis", "effective_on", taxpayer_id=F("pk"))
    )


def low_rating_recently(scope: Scope, p: Values) -> QuerySet:
    first_year = scope.as_of.year - int(p["years"])
    low = CreditRating.objects.filter(
        taxpayer_id=OuterRef("pk"), level__in=("C", "D"), year__gte=first_year, evaluated_on__lte=scope.as_of
    ).order_by(*IN_FORCE_ORDER)
    return (
        scope.narrow(Taxpayer.objects.all())
        .filter(Exists(low))  # a semi-join first: the subqueries below run for these taxpayers alone
        .annotate(low_level=Subquery(low.values("level")[:1]), low_year=Subquery(low.values("year")[:1]))
        .filter(low_level__isnull=False)
        .values("low_level", "low_year", taxpayer_id=F("pk"))
    )


INDICATORS = (
    Indicator(
        code="CRD_REPAIRED_BEFORE",
        family=Family.CREDIT,
        title="申请前不久经修复取得信用级别",
        description="扫描基准日前规定天数内，经纳税信用修复或复评取得现行级别：需核实修复依据与申请条件。",
        severity=Severity.MEDIUM,
        parameters=(Parameter("days", "修复距申请不超过", "天", "90"),),
        evidence=(("level", "现行信用级别"), ("basis", "取得方式"), ("effective_on", "生效日期")),
        query=rating_repaired_recently,
    ),
    Indicator(
        code="CRD_LOW_RATING",
        family=Family.CREDIT,
        title="近年曾评为C级或D级",
        description="规定年数内的纳税信用评价曾为C级或D级（含此后已修复的）。",
        severity=Severity.LOW,
        parameters=(Parameter("years", "回溯年数", "年", "3"),),
        evidence=(("low_level", "信用级别"), ("low_year", "评价年度")),
        query=low_rating_recently,
    ),
)

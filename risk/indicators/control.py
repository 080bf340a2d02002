"""内部控制管理: what the bureau's own handling shows — an amount an officer corrected, applications returned or
refused again and again, refunds above a threshold."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, DecimalField, F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.periods import shift_months
from refund.models import ApplicationTransition, RefundApplication
from taxpayers.models import Taxpayer

from ..models import Severity
from .base import Family, Indicator, Parameter, Scope, Values

MONEY = DecimalField(max_digits=20, decimal_places=2)
State = RefundApplication.State


def _received_within(scope: Scope, months: int, prefix: str = "") -> Q:
    since = shift_months(scope.as_of, -months)
    return Q(**{f"{prefix}received_on__gte": since, f"{prefix}received_on__lte": scope.as_of})


def amount_corrected(scope: Scope, p: Values) -> QuerySet:
    corrected = (
        RefundApplication.objects.filter(_received_within(scope, int(p["months"])), taxpayer_id=OuterRef("pk"))
        .exclude(correction_reason="")
        .filter(confirmed_amount__isnull=False, computed_amount__isnull=False)
        .exclude(confirmed_amount=F("computed_amount"))
        .order_by("-received_on", "-id")
    )
    return (
        scope.narrow(Taxpayer.objects.all())
        .annotate(
            application_id=Subquery(corrected.values("id")[:1]),
            computed_amount=Subquery(corrected.values("computed_amount")[:1], output_field=MONEY),
            confirmed_amount=Subquery(corrected.values("confirmed_amount")[:1], output_field=MONEY),
            correction_reason=Subquery(corrected.values("correction_reason")[:1]),
        )
        .filter(application_id__isnull=False)
        .values("application_id", "computed_amount", "confirmed_amount", "correction_reason", taxpayer_id=F("pk"))
    )


def repeated_returns(scope: Scope, p: Values) -> QuerySet:
    since = timezone.make_aware(dt.datetime.combine(shift_months(scope.as_of, -int(p["months"])), dt.time.min))
    until = timezone.make_aware(dt.datetime.combine(scope.as_of, dt.time.max))
    moves = ApplicationTransition.objects.filter(
        application__taxpayer_id=OuterRef("pk"),
        to_state__in=(State.RETURNED, State.REJECTED),
        created_at__gte=since,
        created_at__lte=until,
    )
    count = moves.order_by().values("application__taxpayer_id").annotate(n=Count("id")).values("n")
    latest = moves.order_by().values("application__taxpayer_id").annotate(at=Max("created_at")).values("at")
    return (
        scope.narrow(Taxpayer.objects.all())
        .annotate(returned_count=Subquery(count[:1]), latest_returned_at=Subquery(latest[:1]))
        .filter(returned_count__gte=p["min_count"])
        .values("returned_count", "latest_returned_at", taxpayer_id=F("pk"))
    )


def large_refund(scope: Scope, p: Values) -> QuerySet:
    amount = Coalesce("confirmed_amount", "claimed_amount", output_field=MONEY)
    large = (
        RefundApplication.objects.filter(_received_within(scope, int(p["months"])), taxpayer_id=OuterRef("pk"))
        .exclude(state=State.REJECTED)
        .annotate(amount=amount)
        .filter(amount__gte=p["threshold"])
        .order_by("-amount", "-id")
    )
    return (
        scope.narrow(Taxpayer.objects.all())
        .annotate(
            application_id=Subquery(large.values("id")[:1]),
            refund_amount=Subquery(large.values("amount")[:1], output_field=MONEY),
        )
        .filter(application_id__isnull=False)
        .values("application_id", "refund_amount", taxpayer_id=F("pk"))
    )


INDICATORS = (
    Indicator(
        code="CTL_AMOUNT_CORRECTED",
        family=Family.CONTROL,
        title="退税额经人工更正",
        description="规定月数内的退税申请，确认退税额与规则计算额不一致并经人工更正：需复核更正依据。",
        severity=Severity.MEDIUM,
        parameters=(Parameter("months", "回溯月数", "个月", "12"),),
        evidence=(
            ("application_id", "申请编号"),
            ("computed_amount", "规则计算额（元）"),
            ("confirmed_amount", "确认退税额（元）"),
            ("correction_reason", "更正原因"),
        ),
        query=amount_corrected,
    ),
    Indicator(
        code="CTL_REPEATED_RETURNS",
        family=Family.CONTROL,
        title="反复回退或不予退税",
        description="规定月数内退税申请被回退或不予退税的次数达到规定数：反复申请需关注。",
        severity=Severity.MEDIUM,
        parameters=(
            Parameter("months", "回溯月数", "个月", "12"),
            Parameter("min_count", "次数不少于", "次", "2"),
        ),
        evidence=(("returned_count", "回退或不予退税次数"), ("latest_returned_at", "最近一次时间")),
        query=repeated_returns,
    ),
    Indicator(
        code="CTL_LARGE_REFUND",
        family=Family.CONTROL,
        title="退税金额较大",
        description="规定月数内单笔退税申请的确认退税额（未确认的按申请退税额）达到规定金额。",
        severity=Severity.LOW,
        parameters=(
            Parameter("months", "回溯月数", "个月", "12"),
            Parameter("threshold", "单笔退税额不低于", "元", "5000000"),
        ),
        evidence=(("application_id", "申请编号"), ("refund_amount", "退税额（元）")),
        query=large_refund,
    ),
)

"""内部控制管理: what the bureau's own handling shows — an amount an officer corrected, applications returned or
refused again and again, applications made again after a return or refusal, refunds above a threshold."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from refund.models import ApplicationTransition, RefundApplication

from ..models import Severity
from .base import MONEY, Family, Indicator, Parameter, Scope, Values, first_of, hits, months_back, taxpayer_rows

State = RefundApplication.State


def _received_within(scope: Scope, months: int) -> Q:
    return Q(received_on__gte=scope.since(months), received_on__lte=scope.as_of)


def _applications_within(scope: Scope, p: Values) -> QuerySet:
    """The taxpayer's (``OuterRef("pk")``) applications received in the look-back."""
    return RefundApplication.objects.filter(_received_within(scope, int(p["months"])), taxpayer_id=OuterRef("pk"))


def amount_corrected(scope: Scope, p: Values) -> QuerySet:
    corrected = (
        _applications_within(scope, p)
        .exclude(correction_reason="")
        .filter(confirmed_amount__isnull=False, computed_amount__isnull=False)
        .exclude(confirmed_amount=F("computed_amount"))
        .order_by("-received_on", "-id")
    )
    fields = ("computed_amount", "confirmed_amount", "correction_reason")
    return first_of(scope, corrected, {"application_id": "id", **{name: name for name in fields}})


def repeated_returns(scope: Scope, p: Values) -> QuerySet:
    since = timezone.make_aware(dt.datetime.combine(scope.since(int(p["months"])), dt.time.min))
    until = timezone.make_aware(dt.datetime.combine(scope.as_of, dt.time.max))
    moves = ApplicationTransition.objects.filter(
        application__taxpayer_id=OuterRef("pk"),
        to_state__in=(State.RETURNED, State.REJECTED),
        created_at__gte=since,
        created_at__lte=until,
    )
    count = moves.order_by().values("application__taxpayer_id").annotate(n=Count("id")).values("n")
    latest = moves.order_by().values("application__taxpayer_id").annotate(at=Max("created_at")).values("at")
    taxpayers = (
        taxpayer_rows(scope)
        .filter(Exists(moves))  # a semi-join first: the subqueries below run for these taxpayers alone
        .annotate(returned_count=Subquery(count[:1]), latest_returned_at=Subquery(latest[:1]))
    )
    return hits(taxpayers.filter(returned_count__gte=p["min_count"]), "returned_count", "latest_returned_at")


def reapplied_after_return(scope: Scope, p: Values) -> QuerySet:
    """The applications of the window received on or after the day another application of the same taxpayer was
    returned or refused (in the window too), counted per taxpayer."""
    since = scope.since(int(p["months"]))
    returned_before = ApplicationTransition.objects.filter(
        application__taxpayer_id=OuterRef("taxpayer_id"),
        to_state__in=(State.RETURNED, State.REJECTED),
        created_at__date__gte=since,
        created_at__date__lte=OuterRef("received_on"),
    ).exclude(application_id=OuterRef("pk"))
    applications = RefundApplication.objects.filter(_received_within(scope, int(p["months"])))
    return (
        scope.narrow(applications, "taxpayer_id")
        .filter(Exists(returned_before))
        .values("taxpayer_id")
        .annotate(reapplied_count=Count("id"), latest_received_on=Max("received_on"))
        .filter(reapplied_count__gte=p["min_count"])
        .order_by("taxpayer_id")
    )


def large_refund(scope: Scope, p: Values) -> QuerySet:
    amount = Coalesce("confirmed_amount", "claimed_amount", output_field=MONEY)
    large = (
        _applications_within(scope, p)
        .exclude(state=State.REJECTED)
        .annotate(amount=amount)
        .filter(amount__gte=p["threshold"])
        .order_by("-amount", "-id")
    )
    return first_of(scope, large, {"application_id": "id", "refund_amount": "amount"})


INDICATORS = (
    Indicator(
        code="CTL_AMOUNT_CORRECTED",
        family=Family.CONTROL,
        title="退税额经人工更正",
        description="规定月数内的退税申请，确认退税额与规则计算额不一致并经人工更正：需复核更正依据。",
        severity=Severity.MEDIUM,
        parameters=(months_back("12"),),
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
            months_back("12"),
            Parameter("min_count", "次数不少于", "次", "2"),
        ),
        evidence=(("returned_count", "回退或不予退税次数"), ("latest_returned_at", "最近一次时间")),
        query=repeated_returns,
    ),
    Indicator(
        code="CTL_REAPPLIED",
        family=Family.CONTROL,
        title="回退或不予退税后反复再申请",
        description="规定月数内，在本纳税人其他退税申请被回退或不予退税之后再次提出的申请达到规定次数："
        "反复申请可能是在试探审核口径。",
        severity=Severity.LOW,
        parameters=(
            months_back("12"),
            Parameter("min_count", "再申请次数不少于", "次", "2"),
        ),
        evidence=(("reapplied_count", "再申请次数"), ("latest_received_on", "最近一次受理日期")),
        query=reapplied_after_return,
    ),
    Indicator(
        code="CTL_LARGE_REFUND",
        family=Family.CONTROL,
        title="退税金额较大",
        description="规定月数内单笔退税申请的确认退税额（未确认的按申请退税额）达到规定金额。",
        severity=Severity.LOW,
        parameters=(
            months_back("12"),
            Parameter("threshold", "单笔退税额不低于", "元", "5000000"),
        ),
        evidence=(("application_id", "申请编号"), ("refund_amount", "退税额（元）")),
        query=large_refund,
    ),
)

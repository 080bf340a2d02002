"""Reads of the credit warnings, scoped to the user's branches: the three graded lists, the counts of the credit
officer's 工作台 and who a warning SMS can reach.

- **At risk** (A/B 降级风险): an A predicted below A, or a B predicted C or D; most points at stake first, then the
  earliest deadline.
- **To follow** (C/D 跟踪): taxpayers rated C or D now; exporters (出口企业) and key taxpayers (重点税源) first, then
  专精特新 and innovative SMEs, then the larger enterprises.
- **Repairable** (可修复): every taxpayer with points it can still win back by correcting an open behaviour.
- **All** (全部纳税人): every prediction, for the 工作台's counts by level to open filtered (``current``, ``level``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.scoping import scope_to_user
from notify.models import OptOut
from notify.services import SmsRejected, check_mobile
from taxpayers.models import CreditLevel, EnterpriseSize

from ..models import CreditContact, CreditPrediction, DishonestyEvent
from ..rules.related import RELATED_D_NAMES
from ..selectors import rating_in_force_sql

AT_RISK = Q(current_level="A") & ~Q(level="A") | Q(current_level="B", level__in=("C", "D"))
TO_FOLLOW = Q(current_level__in=("C", "D"))
REPAIRABLE = Q(points_at_stake__gt=0)
LISTS = {
    "at_risk": ("降级风险名单", AT_RISK),
    "follow": ("低级别跟踪名单", TO_FOLLOW),
    "repairable": ("可修复事项名单", REPAIRABLE),
    "all": ("全部纳税人信用预测", Q()),
}
UNRATED = "none"  # the ``current`` filter's value for taxpayers without a rating in force
SIZE_RANK = {EnterpriseSize.LARGE: 4, EnterpriseSize.MEDIUM: 3, EnterpriseSize.SMALL: 2, EnterpriseSize.MICRO: 1}


def prediction_year() -> int:
    """The latest year predicted (the current year once the daily job has run)."""
    latest = CreditPrediction.objects.order_by("-year").values_list("year", flat=True).first()
    return latest or timezone.localdate().year


def predictions_for_user(*, user, year: int | None = None) -> QuerySet[CreditPrediction]:
    return scope_to_user(
        CreditPrediction.objects.select_related("taxpayer", "taxpayer__branch"),
        user=user,
        branch_field="taxpayer__branch",
    ).filter(year=year or prediction_year())


def _filtered(queryset: QuerySet, filters: Mapping) -> QuerySet:
    current = filters.get("current") or ""
    if current in CreditLevel.values:
        queryset = queryset.filter(current_level=current)
    elif current == UNRATED:
        queryset = queryset.filter(current_level="")
    level = filters.get("level") or ""
    if level in CreditLevel.values:
        queryset = queryset.filter(level=level)
    branch = str(filters.get("branch") or "")
    if branch.isdigit():
        queryset = queryset.filter(taxpayer__branch_id=int(branch))
    text = (filters.get("q") or "").strip()
    if text:
        queryset = queryset.filter(Q(taxpayer__name__icontains=text) | Q(taxpayer__identifier__icontains=text))
    if filters.get("due") == "1":
        queryset = queryset.filter(deadline__isnull=False)
    return queryset


def warning_list(*, user, kind: str, filters: Mapping | None = None) -> QuerySet[CreditPrediction]:
    """One graded list (``LISTS``: at_risk, follow, repairable, all) with its order; filters: current (``none``:
    unrated) and predicted level, branch, name or identifier (``q``), only those with a deadline (``due=1``)."""
    _, condition = LISTS[kind]
    predictions = _filtered(predictions_for_user(user=user).filter(condition), filters or {})
    by_points = (F("points_at_stake").desc(), F("deadline").asc(nulls_last=True), "taxpayer__identifier")
    if kind != "follow":
        return predictions.order_by(*by_points)
    return predictions.annotate(
        priority=Case(
            When(Q(taxpayer__is_export_enterprise=True) | Q(taxpayer__is_key_taxpayer=True), then=Value(2)),
            When(Q(taxpayer__is_specialized_sme=True) | Q(taxpayer__is_innovative_sme=True), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        ),
        size_rank=Case(
            *(When(taxpayer__size=size, then=Value(rank)) for size, rank in SIZE_RANK.items()),
            default=Value(0),
            output_field=IntegerField(),
        ),
    ).order_by("-priority", "-size_rank", *by_points)


@dataclass(frozen=True)
class WarningCounts:
    year: int
    current: dict[str, int]  # level → taxpayers rated so now ("" for none)
    predicted: dict[str, int]
    at_risk: int
    follow: int
    repairable: int


def warning_counts(*, user) -> WarningCounts:
    """The 工作台's counts: by current and by predicted level, and the size of each list (three statements)."""
    predictions = predictions_for_user(user=user)
    totals = predictions.aggregate(
        at_risk=Count("pk", filter=AT_RISK),
        follow=Count("pk", filter=TO_FOLLOW),
        repairable=Count("pk", filter=REPAIRABLE),
    )
    current = dict(predictions.order_by().values_list("current_level").annotate(n=Count("pk")))
    predicted = dict(predictions.order_by().values_list("level").annotate(n=Count("pk")))
    return WarningCounts(year=prediction_year(), current=current, predicted=predicted, **totals)


# --- what the daily prediction reads (a chunk of taxpayers by id range, one statement each) ----------------------


def ratings_in_force(lo: int, hi: int, today: dt.date) -> dict[int, tuple]:
    """taxpayer id → (level, score, year) of the rating in force on ``today``, for the ids ``lo`` … ``hi``."""
    sql = rating_in_force_sql(today, where="taxpayer_id BETWEEN %(lo)s AND %(hi)s")
    with connection.cursor() as cursor:
        cursor.execute(sql, {"lo": lo, "hi": hi})
        return {taxpayer_id: (level, score, year) for taxpayer_id, level, score, year, _, _ in cursor.fetchall()}


def related_d_in_year(lo: int, hi: int, year: int) -> set[int]:
    """The ids ``lo`` … ``hi`` with a related-D record (关联评价为D, 040104/040105) in ``year``: a direct D of that
    year is taken to be the related one, as the 2025 automatic repair takes a lifted 非正常户's to be."""
    return set(
        DishonestyEvent.objects.filter(
            taxpayer_id__gte=lo,
            taxpayer_id__lte=hi,
            recorded_on__year=year,
            indicator__in=tuple(RELATED_D_NAMES),
        ).values_list("taxpayer_id", flat=True)
    )


def events_of_year(lo: int, hi: int, year: int, today: dt.date) -> dict[int, list[tuple]]:
    """taxpayer id → its events recorded in ``year`` up to ``today``, in record order, each as (id, indicator,
    recorded_on, tax, amount, corrected_on, no_penalty), for the ids ``lo`` … ``hi``."""
    events = defaultdict(list)
    for row in (
        DishonestyEvent.objects.filter(
            taxpayer_id__gte=lo, taxpayer_id__lte=hi, recorded_on__range=(dt.date(year, 1, 1), today)
        )
        .order_by("taxpayer_id", "recorded_on", "pk")
        .values_list("taxpayer_id", "pk", "indicator", "recorded_on", "tax", "amount", "corrected_on", "no_penalty")
    ):
        events[row[0]].append(row[1:])
    return events


def contacts_of(taxpayer_id: int, *, limit: int = 50) -> list[CreditContact]:
    return list(
        CreditContact.objects.filter(taxpayer_id=taxpayer_id)
        .select_related("officer", "event")
        .order_by("-contacted_at", "-id")[:limit]
    )


def prediction_of(taxpayer_id: int) -> CreditPrediction | None:
    return CreditPrediction.objects.filter(taxpayer_id=taxpayer_id).order_by("-year").first()


# --- who a warning SMS reaches -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmsTarget:
    prediction: CreditPrediction
    warning: dict | None  # the open behaviour to text about (most points first, not yet texted)
    mobile: str = ""
    reason: str = ""  # why not ("" when it can be sent)

    @property
    def event_id(self) -> int | None:
        return self.warning.get("event_id") if self.warning else None


def _mobile(taxpayer, opted: Collection[str]) -> tuple[str, str]:
    reason = "未登记法定代表人或办税人的手机号码"
    for who, raw in (("法定代表人", taxpayer.legal_rep_mobile), ("办税人", taxpayer.tax_handler_mobile)):
        if not raw:
            continue
        try:
            mobile = check_mobile(raw)
        except SmsRejected:
            reason = f"{who}手机号码无效"
            continue
        if mobile in opted:
            return "", f"{who}手机号码已退订"
        return mobile, ""
    return "", reason


def sms_targets(predictions: list[CreditPrediction]) -> list[SmsTarget]:
    """For each prediction, the warning to text (the most points among the open behaviours not texted yet) and the
    number: the legal representative's mobile, else the tax handler's, never an opted-out one. Three statements."""
    event_ids = {w.get("event_id") for p in predictions for w in p.warnings if w.get("event_id")}
    texted = set(
        CreditContact.objects.filter(kind=CreditContact.Kind.SMS, event_id__in=event_ids).values_list(
            "event_id", flat=True
        )
    )
    numbers = set()
    for p in predictions:
        for raw in filter(None, (p.taxpayer.legal_rep_mobile, p.taxpayer.tax_handler_mobile)):
            try:
                numbers.add(check_mobile(raw))
            except SmsRejected:
                continue
    opted = set(OptOut.objects.filter(mobile__in=numbers).values_list("mobile", flat=True)) if numbers else set()
    targets = []
    for p in predictions:
        warning = next((w for w in p.warnings if w.get("event_id") and w["event_id"] not in texted), None)
        mobile, reason = _mobile(p.taxpayer, opted) if warning else ("", "没有尚未提醒过的未纠正行为")
        targets.append(SmsTarget(p, warning, mobile, reason))
    return targets


@dataclass(frozen=True)
class SmsPreview:
    total: int
    sendable: int
    unreachable: int
    nothing_new: int


def sms_preview(predictions: list[CreditPrediction]) -> SmsPreview:
    """What one click would do, for the confirmation page: the same ``sms_targets`` as the sending."""
    targets = sms_targets(predictions)
    nothing = sum(1 for t in targets if t.warning is None)
    sendable = sum(1 for t in targets if t.mobile)
    return SmsPreview(
        total=len(targets), sendable=sendable, unreachable=len(targets) - nothing - sendable, nothing_new=nothing
    )

"""Reads of the candidate lists (候选名单), always through the scoping gateway.

A branch officer sees its branch's lists and items only (the service section's list spans every branch, so
it is outside a branch officer's scope: 404). The item table's filters live in the URL (``CandidateItemFilter``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, Sum, Value, When

from accounts.models import AuditEvent, Branch
from accounts.scoping import get_for_user_or_404, scope_to_user
from core.listing import sort_order
from core.periods import Period
from taxpayers.validators import normalise_taxpayer_id

from ..labels import FUNNEL, REGIME_TITLES
from ..models import OPEN_STAGES, CandidateItem, CandidateList, UpperListImport

Stage = CandidateItem.Stage

FUNNEL_AGGREGATES = {
    "listed": Count("pk"),
    "reminded": Count("pk", filter=Q(reminded_at__isnull=False)),
    "declared": Count("pk", filter=Q(declared_at__isnull=False)),
    "applied": Count("pk", filter=Q(applied_at__isnull=False)),
    "refunded": Count("pk", filter=Q(refunded_at__isnull=False)),
    "declined": Count("pk", filter=Q(stage=Stage.DECLINED)),
    "ineligible": Count("pk", filter=Q(stage=Stage.INELIGIBLE)),
    "amount": Sum("refundable_total"),
}


def funnel_counts(items: QuerySet[CandidateItem]) -> dict[str, int]:
    """How many items reached each stage (an item that applied also counts as reminded if it was), and their
    refundable total: one query."""
    counts = items.order_by().aggregate(**FUNNEL_AGGREGATES)
    counts["amount"] = counts["amount"] or Decimal("0")
    return counts


def funnel_rows(counts: Mapping[str, int]) -> list[dict]:
    total = counts.get("listed") or 0
    return [
        {
            "key": key,
            "label": label,
            "count": counts.get(key) or 0,
            "percent": round(100 * (counts.get(key) or 0) / total) if total else 0,
        }
        for key, label in FUNNEL
    ]


# --- lists ---------------------------------------------------------------------------------------------------


def candidate_lists_for_user(*, user) -> QuerySet[CandidateList]:
    return scope_to_user(CandidateList.objects.select_related("branch", "screening_run"), user=user)


LIST_COLUMNS = {
    "push_date": "推送日期",
    "period": "申请所属期",
    "item_count": "候选户数",
    "refundable_total": "可退税额合计（元）",
}
"""The list index's sortable columns (header links; ``sort`` in the URL, ``-`` for descending)."""
LIST_SORT_FIELDS = {
    "push_date": ("push_date",),
    "period": ("application_period",),
    "item_count": ("item_count",),
    "refundable_total": ("refundable_total",),
}
LIST_SORT = "-push_date"


def candidate_lists_sorted(lists: QuerySet[CandidateList], sort: str | None) -> QuerySet[CandidateList]:
    """``lists`` in the order the URL's ``sort`` asks (default: the newest push date first); within a push date
    the service section's list first, then the day's 即时名单, then the branches in the bureau's order."""
    return lists.order_by(
        *sort_order(
            sort,
            LIST_SORT_FIELDS,
            default=LIST_SORT,
            then=("-push_date", "-audience", "-kind", "branch__sort_order", "branch__code"),
        )
    )


def candidate_list_get_for_user(*, user, pk: int) -> CandidateList:
    return get_for_user_or_404(CandidateList.objects.select_related("branch", "screening_run"), user=user, pk=pk)


def list_funnels(lists: list[CandidateList]) -> dict[int, dict[str, int]]:
    """Funnel counts of each list on a page, in one query grouped by push date and branch."""
    dates = {lst.push_date for lst in lists}
    if not dates:
        return {}
    grouped: dict[tuple, dict[str, int]] = {}
    rows = (
        CandidateItem.objects.filter(push_date__in=dates)
        .values("push_date", "branch_id", "candidate_list__kind")
        .annotate(**FUNNEL_AGGREGATES)
        .order_by()
    )
    for row in rows:
        counts = {key: row[key] for key in FUNNEL_AGGREGATES}
        kind = row["candidate_list__kind"]
        scopes = [(row["push_date"], None, kind)]
        if kind == CandidateList.Kind.REGULAR:
            scopes.insert(0, (row["push_date"], row["branch_id"], kind))
        for scope in scopes:
            slot = grouped.setdefault(scope, dict.fromkeys(FUNNEL_AGGREGATES, 0))
            for key, value in counts.items():
                slot[key] += value or 0
    empty = dict.fromkeys(FUNNEL_AGGREGATES, 0)
    return {lst.pk: grouped.get((lst.push_date, lst.branch_id, lst.kind), empty) for lst in lists}


# --- items ---------------------------------------------------------------------------------------------------


def _item_rows(queryset: QuerySet[CandidateItem]) -> QuerySet[CandidateItem]:
    return queryset.select_related("taxpayer", "branch")


def candidate_items_for_user(*, user) -> QuerySet[CandidateItem]:
    return scope_to_user(_item_rows(CandidateItem.objects.all()), user=user)


def candidate_list_items_for_user(*, user, candidate_list: CandidateList) -> QuerySet[CandidateItem]:
    """The list's items the user may see (the caller already fetched the list through the gateway)."""
    return scope_to_user(_item_rows(items_of_list(candidate_list)), user=user)


def candidate_item_get_for_user(*, user, pk: int) -> CandidateItem:
    return get_for_user_or_404(
        CandidateItem.objects.select_related(
            "taxpayer", "branch", "candidate_list", "screening_result", "reminder_sms", "closed_by", "verified_by"
        ),
        user=user,
        pk=pk,
    )


def item_history(item: CandidateItem) -> QuerySet[AuditEvent]:
    """Who did what on the item (verification, coaching, declines, reopening), newest first."""
    return (
        AuditEvent.objects.filter(object_type="refund.candidateitem", object_id=str(item.pk))
        .select_related("actor")
        .order_by("-created_at", "-id")
    )


def earlier_items(item: CandidateItem) -> QuerySet[CandidateItem]:
    """The same taxpayer in the other push dates of the application period."""
    return (
        CandidateItem.objects.filter(taxpayer_id=item.taxpayer_id, application_period=item.application_period)
        .exclude(pk=item.pk)
        .order_by("push_date")
    )


def latest_in_period(items: QuerySet[CandidateItem]) -> QuerySet[CandidateItem]:
    """Only each taxpayer's latest push in its application period (the worklist shows a taxpayer once)."""
    later = CandidateItem.objects.filter(
        taxpayer_id=OuterRef("taxpayer_id"),
        application_period=OuterRef("application_period"),
        push_date__gt=OuterRef("push_date"),
    )
    return items.filter(~Exists(later))


def worklist_periods(*, user) -> list[Period]:
    return list(
        candidate_items_for_user(user=user)
        .order_by("-application_period")
        .values_list("application_period", flat=True)
        .distinct()[:24]
    )


def upper_imports() -> QuerySet[UpperListImport]:
    return UpperListImport.objects.select_related("created_by").order_by("-created_at", "-id")


# --- the item table's filters (page and export) -------------------------------------------------------------------

STAGE_CHOICES = (("open", "未办结（已列入名单、已提醒、已申报）"), *Stage.choices)
NEW_CHOICES = (("new", "新增"), ("old", "此前已推送"))
_STAGE_ORDER = [key for key, _ in FUNNEL]
ITEM_COLUMNS = {
    "name": "纳税人名称",
    "branch": "主管税务机关",
    "refundable_total": "可退税额",
    "stage": "进度",
    "push_date": "推送日期",
}
"""The item table's sortable columns (header links and ``sort`` in the URL, ``-`` for descending)."""
ITEM_DEFAULT_SORT = "-refundable_total"
ITEM_SORT_FIELDS = {
    "name": ("taxpayer__name",),
    "branch": ("branch__sort_order", "branch__code"),
    "refundable_total": ("refundable_total",),
    # The funnel's order (已列入名单 → 已提醒 → … → 核实不符合), not the codes' alphabetical one.
    "stage": (Case(*(When(stage=key, then=Value(rank)) for rank, key in enumerate(_STAGE_ORDER))),),
    "push_date": ("push_date",),
}
SORT_CHOICES = [(key, label) for column, label in ITEM_COLUMNS.items() for key in (column, f"-{column}")]


class CandidateItemFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="名称或识别号")
    stage = django_filters.ChoiceFilter(
        choices=STAGE_CHOICES, method="filter_stage", label="进度", empty_label="全部进度"
    )
    regime = django_filters.ChoiceFilter(
        choices=sorted(REGIME_TITLES.items()), label="适用政策", empty_label="全部政策"
    )
    listed = django_filters.ChoiceFilter(
        choices=NEW_CHOICES, method="filter_listed", label="新增/已推送", empty_label="全部"
    )
    source = django_filters.ChoiceFilter(choices=CandidateItem.Source.choices, label="来源", empty_label="全部来源")
    amount_min = django_filters.NumberFilter(field_name="refundable_total", lookup_expr="gte", label="可退税额≥（元）")
    amount_max = django_filters.NumberFilter(field_name="refundable_total", lookup_expr="lte", label="可退税额≤（元）")
    branch = django_filters.ModelChoiceFilter(
        queryset=Branch.objects.none(), to_field_name="code", label="主管税务机关", empty_label="全部分局"
    )
    sort = django_filters.ChoiceFilter(
        choices=SORT_CHOICES, method="filter_sort", label="排序", empty_label="默认（可退税额从高到低）"
    )

    class Meta:
        model = CandidateItem
        fields = ("q", "stage", "regime", "listed", "source", "amount_min", "amount_max", "branch", "sort")

    def __init__(self, data=None, queryset=None, *, user=None, default_stage: str = ""):
        data = data.copy() if data is not None else {}
        if default_stage and "stage" not in data:
            data["stage"] = default_stage
        super().__init__(data=data, queryset=queryset)
        self.filters["branch"].queryset = scope_to_user(
            Branch.objects.filter(kind__in=[Branch.Kind.BRANCH, Branch.Kind.BUREAU]), user=user, branch_field="pk"
        )
        for name in ("amount_min", "amount_max"):
            self.filters[name].field.widget = forms.NumberInput(attrs={"step": "0.01", "min": "0"})

    def filter_q(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(taxpayer__name__icontains=value) | Q(taxpayer__identifier__startswith=normalise_taxpayer_id(value))
        )

    def filter_stage(self, queryset, name, value):
        if value == "open":
            return queryset.filter(stage__in=OPEN_STAGES)
        return queryset.filter(stage=value) if value else queryset

    def filter_listed(self, queryset, name, value):
        if value == "new":
            return queryset.filter(previously_listed=False)
        if value == "old":
            return queryset.filter(previously_listed=True)
        return queryset

    def filter_sort(self, queryset, name, value):
        return queryset.order_by(*_item_order(value))


def _item_order(sort: str | None) -> list:
    """Only the whitelisted columns; within a branch, a stage or a push date the larger refunds first."""
    return sort_order(
        sort, ITEM_SORT_FIELDS, default=ITEM_DEFAULT_SORT, then=("-refundable_total",), tiebreak="taxpayer_id"
    )


def candidate_item_filterset(
    *, user, queryset, filters: Mapping | None, default_stage: str = ""
) -> CandidateItemFilter:
    ordered = queryset.order_by(*_item_order(None))
    return CandidateItemFilter(data=filters, queryset=ordered, user=user, default_stage=default_stage)


def items_of_list(candidate_list: CandidateList):
    """A branch list's (or a 即时名单's) own items; the service section's list is every item of its push date's
    regular lists."""
    if candidate_list.is_service_list:
        return CandidateItem.objects.filter(
            push_date=candidate_list.push_date, candidate_list__kind=CandidateList.Kind.REGULAR
        )
    return CandidateItem.objects.filter(candidate_list=candidate_list)

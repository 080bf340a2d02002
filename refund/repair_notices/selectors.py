"""Reads of the 信用修复提示: a run's notices the user may see (through the scoping gateway), with the page's filters
in the URL."""

from __future__ import annotations

from collections.abc import Mapping

import django_filters
from django.db.models import Q, QuerySet

from accounts.models import Branch
from accounts.scoping import scope_to_user
from taxpayers.validators import normalise_taxpayer_id

from ..models import RepairNotice, ScreeningRun

SENT_CHOICES = (("pending", "未发送"), ("sent", "已发送"), ("failed", "未能发送"))
LEVEL_CHOICES = (("C", "C级"), ("D", "D级"), ("M", "M级"))


def notice_runs() -> QuerySet[ScreeningRun]:
    """The runs that have notices, newest first (the page's run choice)."""
    return ScreeningRun.objects.filter(pk__in=RepairNotice.objects.values("run_id")).order_by("-finished_at", "-pk")


def repair_notices_for_user(*, user, run: ScreeningRun) -> QuerySet[RepairNotice]:
    return scope_to_user(
        RepairNotice.objects.filter(run=run).select_related("taxpayer", "taxpayer__branch", "sms", "run"),
        user=user,
        branch_field="taxpayer__branch",
    )


class RepairNoticeFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="名称或识别号")
    level = django_filters.ChoiceFilter(choices=LEVEL_CHOICES, label="信用级别", empty_label="全部级别")
    sent = django_filters.ChoiceFilter(choices=SENT_CHOICES, method="filter_sent", label="发送情况", empty_label="全部")
    amount_min = django_filters.NumberFilter(field_name="refundable_if_b", lookup_expr="gte", label="可退税额≥（元）")
    branch = django_filters.ModelChoiceFilter(
        field_name="taxpayer__branch",
        queryset=Branch.objects.none(),
        to_field_name="code",
        label="主管税务机关",
        empty_label="全部分局",
    )

    class Meta:
        model = RepairNotice
        fields = ("q", "level", "sent", "amount_min", "branch")

    def __init__(self, data=None, queryset=None, *, user=None):
        super().__init__(data=data, queryset=queryset)
        self.filters["branch"].queryset = scope_to_user(
            Branch.objects.filter(kind__in=[Branch.Kind.BRANCH, Branch.Kind.BUREAU]), user=user, branch_field="pk"
        )

    def filter_q(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(taxpayer__name__icontains=value) | Q(taxpayer__identifier__startswith=normalise_taxpayer_id(value))
        )

    def filter_sent(self, queryset, name, value):
        if value == "pending":
            return queryset.filter(sms__isnull=True, sent_at__isnull=True, send_error="")
        if value == "sent":
            return queryset.filter(sent_at__isnull=False)
        if value == "failed":
            return queryset.filter(sent_at__isnull=True).exclude(send_error="", sms__isnull=True)
        return queryset


def repair_notice_filterset(*, user, run: ScreeningRun, filters: Mapping | None) -> RepairNoticeFilter:
    notices = repair_notices_for_user(user=user, run=run).order_by("-refundable_if_b", "taxpayer_id")
    return RepairNoticeFilter(data=filters, queryset=notices, user=user)


def latest_screening() -> ScreeningRun | None:
    """The screening the list rests on: the last run that finished, whatever its period."""
    return ScreeningRun.objects.filter(status=ScreeningRun.Status.SUCCEEDED).order_by("-finished_at", "-pk").first()

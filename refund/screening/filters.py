"""Filters of a screening run's results (筛查结果): one FilterSet serves the page and its xlsx export.

Every value lives in the URL, so a filtered list can be bookmarked and exported as shown.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import F, Q, QuerySet

from accounts.models import Branch
from accounts.scoping import scope_to_user
from taxpayers.filters import IndustryFilter, divisions, industry_choices
from taxpayers.models import EnterpriseSize
from taxpayers.validators import normalise_taxpayer_id

from ..labels import CONDITION_TITLES, ERROR_HELP, REGIME_TITLES, UNKNOWN_SIZE
from ..models import ScreeningResult
from ..rules.conditions import CONDITION_BITS, CONDITION_ORDER

ELIGIBLE_CHOICES = (("yes", "符合条件"), ("no", "不符合条件"))
ERROR_ANY, ERROR_NONE = "any", "none"
SORT_FIELDS = {
    "identifier": ("taxpayer__identifier",),
    "name": ("taxpayer__name",),
    "branch": ("taxpayer__branch__sort_order", "taxpayer__branch__code"),
    "current_credit": ("current_credit",),
    "incremental_credit": ("incremental_credit",),
    "input_ratio": ("input_ratio",),
    "refundable_total": ("refundable_total",),
}
DEFAULT_SORT = "-refundable_total"


RESULT_COLUMNS = {
    "identifier": "纳税人识别号",
    "name": "纳税人名称",
    "branch": "主管税务机关",
    "current_credit": "期末留抵税额",
    "incremental_credit": "增量留抵税额",
    "input_ratio": "进项构成比例",
    "refundable_total": "可退税额",
}
"""The sortable columns of a run's results (the table's headers and the sort filter)."""


def _sort_choices():
    return [
        choice for key, label in RESULT_COLUMNS.items() for choice in ((key, label), (f"-{key}", f"{label}（倒序）"))
    ]


class ScreeningResultFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="名称或识别号", help_text="名称包含，或识别号开头为")
    eligible = django_filters.ChoiceFilter(
        choices=ELIGIBLE_CHOICES, method="filter_eligible", label="结论", empty_label="全部"
    )
    regime = django_filters.ChoiceFilter(choices=list(REGIME_TITLES.items()), label="适用政策", empty_label="全部政策")
    size = django_filters.ChoiceFilter(
        choices=[*EnterpriseSize.choices, ("unknown", UNKNOWN_SIZE)],
        method="filter_size",
        label="企业规模",
        empty_label="全部规模",
    )
    branch = django_filters.ModelChoiceFilter(
        field_name="taxpayer__branch",
        queryset=Branch.objects.filter(kind=Branch.Kind.BRANCH),
        to_field_name="code",
        label="主管税务机关",
        empty_label="全部分局",
    )
    industry = IndustryFilter(method="filter_industry", label="行业", help_text="门类字母（如 C）或大类（如 C34）")
    failed = django_filters.ChoiceFilter(
        choices=[(code, CONDITION_TITLES[code]) for code in CONDITION_ORDER],
        method="filter_failed",
        label="未满足条件",
        empty_label="不限",
    )
    error = django_filters.ChoiceFilter(
        choices=[
            (ERROR_NONE, "无数据问题"),
            (ERROR_ANY, "有数据问题（全部）"),
            *((code, help.title) for code, help in ERROR_HELP.items()),
        ],
        method="filter_error",
        label="数据问题",
        empty_label="不限",
    )
    min_amount = django_filters.NumberFilter(
        field_name="refundable_total", lookup_expr="gte", label="可退税额不低于（元）", min_value=0
    )
    sort = django_filters.ChoiceFilter(
        choices=_sort_choices(), method="filter_sort", label="排序", empty_label="默认（可退税额从高到低）"
    )

    class Meta:
        model = ScreeningResult
        fields = ("q", "eligible", "regime", "size", "branch", "industry", "failed", "error", "min_amount", "sort")

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, user=None):
        data = data.copy() if data is not None else {}
        if not data.get("sort"):
            data["sort"] = DEFAULT_SORT
        super().__init__(data=data, queryset=queryset, request=request, prefix=prefix)
        self.user = user
        # Only the branches the user may see (a branch officer: its own).
        self.filters["branch"].queryset = scope_to_user(
            Branch.objects.filter(kind=Branch.Kind.BRANCH).order_by("sort_order", "code"),
            user=user,
            branch_field="pk",
        )
        self.filters["industry"].extra["widget"] = forms.Select(choices=[("", "全部行业"), *industry_choices()])
        self.filters["min_amount"].extra["error_messages"] = {
            "invalid": "请填写金额（元），如 500000。",
            "min_value": "金额不能为负数。",
        }
        self.filters["min_amount"].extra["widget"] = forms.NumberInput(attrs={"min": "0", "step": "0.01"})

    @property
    def qs(self):
        queryset = super().qs
        if self.is_bound and self.errors.get("sort"):
            return self.filter_sort(queryset, "sort", DEFAULT_SORT)
        return queryset

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(taxpayer__name__icontains=value) | Q(taxpayer__identifier__startswith=normalise_taxpayer_id(value))
        )

    def filter_eligible(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(eligible=value == "yes")

    def filter_size(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(size="" if value == "unknown" else value)

    def filter_industry(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Codes are stored with the section letter (C3411); one kept without it (3411) matches too.
        if len(value) == 1:
            codes = [industry.division for industry in divisions() if industry.section == value]
            bare = Q(taxpayer__industry_code__regex="^({})".format("|".join(codes))) if codes else Q(pk__in=[])
            return queryset.filter(Q(taxpayer__industry_code__startswith=value) | bare)
        return queryset.filter(
            Q(taxpayer__industry_code__startswith=value) | Q(taxpayer__industry_code__startswith=value[1:])
        )

    def filter_failed(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """A bit test on the stored mask (``CONDITION_BITS``): no join, no list of codes per row."""
        return queryset.alias(failed_bit=F("failed_mask").bitand(CONDITION_BITS[value])).exclude(failed_bit=0)

    def filter_error(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == ERROR_NONE:
            return queryset.filter(error_code="")
        if value == ERROR_ANY:
            return queryset.exclude(error_code="")
        return queryset.filter(error_code=value)

    def filter_sort(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        descending = value.startswith("-")
        keys = SORT_FIELDS.get(value.lstrip("-"), SORT_FIELDS["refundable_total"])
        nulls = {"nulls_last": True} if descending else {"nulls_first": True}
        ordering = [F(key).desc(**nulls) if descending else F(key).asc(**nulls) for key in keys]
        ordering.append(F("taxpayer__identifier").asc())  # a stable order, so pages do not overlap
        return queryset.order_by(*ordering)

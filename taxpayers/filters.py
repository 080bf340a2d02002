"""The taxpayer list's filters: one FilterSet serves the page, the export and the API.

Every value lives in the URL, so a filtered list can be bookmarked and shared.
"""

from functools import cache

import django_filters
from django import forms
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from accounts.models import Branch
from accounts.scoping import scope_to_user
from core.periods import Period, PeriodError

from .industry import Industry, parse_industry_code, sections
from .models import CreditLevel, EnterpriseSize, Taxpayer
from .validators import normalise_taxpayer_id

GENERAL_CHOICES = (("general", "一般纳税人"), ("small", "小规模纳税人"), ("all", "全部"))
SORT_CHOICES = (
    ("identifier", "纳税人识别号"),
    ("-identifier", "纳税人识别号（倒序）"),
    ("name", "名称"),
    ("-name", "名称（倒序）"),
    ("branch", "主管税务机关"),
    ("-branch", "主管税务机关（倒序）"),
    ("credit_level", "信用级别（A 到 D）"),
    ("-credit_level", "信用级别（D 到 A）"),
)
# Credit levels in their real order (A > B > M > C > D), not alphabetical; unrated last. ``credit_level`` is the
# latest rating the queryset carries (``taxpayers.ratings.with_latest_rating``), not a column.
_CREDIT_RANK = Case(
    *(When(credit_level=level, then=Value(rank)) for rank, level in enumerate(CreditLevel.values)),
    default=Value(len(CreditLevel.values)),
    output_field=IntegerField(),
)


class IndustryField(forms.CharField):
    """A GB/T 4754-2017 section letter (``C``) or division (``34`` / ``C34``), normalised to ``C`` / ``C34``."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return ""
        text = value.strip().upper()
        if len(text) == 1 and text in sections():
            return text
        industry = parse_industry_code(text)
        if industry is None or len(text.lstrip("ABCDEFGHIJKLMNOPQRST")) != 2:
            raise forms.ValidationError(
                "行业“%(value)s”不是国民经济行业分类（GB/T 4754-2017）的门类字母或两位大类代码，如 C 或 C34。",
                code="invalid_industry",
                params={"value": value},
            )
        return industry.section + industry.division


class IndustryFilter(django_filters.CharFilter):
    field_class = IndustryField


class PeriodField(forms.CharField):
    """A month typed in a filter bar, as a ``Period`` (``2026-3``, ``2026/03``, ``2026年3月`` accepted; "" when empty).

    A value that is not a month (``2026-13``) is a field error shown beside the filter, not a filter that
    silently matches nothing."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 10)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"placeholder": "YYYY-MM", "inputmode": "numeric", "size": 8}),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return ""
        try:
            return Period.typed(value)
        except PeriodError:
            raise forms.ValidationError(
                "“%(value)s”不是有效的所属期，请按 YYYY-MM 填写（月份为 01 至 12），如 2026-03。",
                code="invalid_period",
                params={"value": value},
            ) from None


class PeriodFilter(django_filters.CharFilter):
    field_class = PeriodField


@cache
def divisions() -> tuple[Industry, ...]:
    """Every GB/T 4754-2017 division (大类), in code order."""
    return tuple(industry for n in range(1, 100) if (industry := parse_industry_code(f"{n:02d}")) is not None)


def industry_choices() -> list:
    """Grouped choices for the filter bar: each section, then its divisions."""
    groups: dict[str, list] = {}
    for industry in divisions():
        groups.setdefault(industry.section, []).append(
            (industry.section + industry.division, f"{industry.division} {industry.division_name}")
        )
    return [
        (f"{letter} {name}", [(letter, f"{letter} {name}（全部）"), *groups.get(letter, [])])
        for letter, name in sorted(sections().items())
    ]


class TaxpayerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="名称或识别号", help_text="名称包含，或识别号开头为")
    branch = django_filters.ModelChoiceFilter(
        queryset=Branch.objects.filter(kind=Branch.Kind.BRANCH),
        to_field_name="code",
        label="主管税务机关",
        empty_label="全部分局",
        help_text="机构编码",
    )
    industry = IndustryFilter(method="filter_industry", label="行业", help_text="门类字母（如 C）或大类（如 C34）")
    credit_level = django_filters.ChoiceFilter(choices=CreditLevel.choices, label="信用级别", empty_label="全部级别")
    size = django_filters.ChoiceFilter(choices=EnterpriseSize.choices, label="企业规模", empty_label="全部规模")
    status = django_filters.ChoiceFilter(choices=Taxpayer.Status.choices, label="状态", empty_label="全部状态")
    general = django_filters.ChoiceFilter(
        choices=GENERAL_CHOICES,
        method="filter_general",
        label="纳税人类型",
        empty_label=None,
        help_text="默认只列一般纳税人",
    )
    sort = django_filters.ChoiceFilter(
        choices=SORT_CHOICES, method="filter_sort", label="排序", empty_label="默认（识别号）"
    )

    class Meta:
        model = Taxpayer
        fields = ("q", "branch", "industry", "credit_level", "size", "status", "general", "sort")

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, user=None):
        # Only general taxpayers by default: they are the ones the credit refund is about.
        data = data.copy() if data is not None else {}
        if not data.get("general"):
            data["general"] = "general"
        super().__init__(data=data, queryset=queryset, request=request, prefix=prefix)
        self.user = user if user is not None else getattr(request, "user", None)
        # Offer only the branches the user may see (a branch officer: its own).
        self.filters["branch"].queryset = scope_to_user(
            Branch.objects.filter(kind=Branch.Kind.BRANCH), user=self.user, branch_field="pk"
        )
        self.filters["industry"].extra["widget"] = forms.Select(choices=[("", "全部行业"), *industry_choices()])

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(identifier__startswith=normalise_taxpayer_id(value)))

    def filter_industry(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Codes are stored normalised with the section letter (C3411); a code kept without it (3411) matches too.
        if len(value) == 1:
            codes = [industry.division for industry in divisions() if industry.section == value]
            bare = Q(industry_code__regex="^({})".format("|".join(codes))) if codes else Q(pk__in=[])
            return queryset.filter(Q(industry_code__startswith=value) | bare)
        return queryset.filter(Q(industry_code__startswith=value) | Q(industry_code__startswith=value[1:]))

    def filter_general(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "general":
            return queryset.filter(general_taxpayer_since__isnull=False)
        if value == "small":
            return queryset.filter(general_taxpayer_since__isnull=True)
        return queryset

    def filter_sort(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        descending = value.startswith("-")
        key = value.lstrip("-")
        if key == "credit_level":
            queryset = queryset.annotate(credit_rank=_CREDIT_RANK)
            keys = ["credit_rank"]
        elif key == "branch":
            keys = ["branch__sort_order", "branch__code"]
        else:
            keys = [key]
        ordering = [f"-{k}" if descending else k for k in keys]
        if key != "identifier":
            ordering.append("identifier")  # a stable order, so pages do not overlap
        return queryset.order_by(*ordering)

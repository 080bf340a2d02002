"""Reads of the ledger, always through the scoping gateway: a branch officer sees its branch's entries only, and
an entry outside the user's scope is a 404. The ledger page's filters live in the URL (``LedgerEntryFilter``);
the page and its export read the same filtered queryset."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Count, Q, QuerySet, Sum

from accounts.models import Branch
from accounts.scoping import get_for_user_or_404, scope_to_user
from refund.application_selectors import applications_for_user
from refund.labels import REGIME_TITLES, SIZE_TITLES
from refund.models import RefundApplication
from taxpayers.filters import PeriodFilter
from taxpayers.industry import sections
from taxpayers.validators import normalise_taxpayer_id

from .models import LedgerEntry, LedgerRun

ZERO = Decimal("0.00")


def _branches_for(user) -> QuerySet[Branch]:
    return scope_to_user(
        Branch.objects.filter(kind__in=[Branch.Kind.BRANCH, Branch.Kind.BUREAU]), user=user, branch_field="pk"
    )


def ledger_entries_for_user(*, user) -> QuerySet[LedgerEntry]:
    return scope_to_user(LedgerEntry.objects.select_related("branch", "payment", "bill_sms", "run"), user=user)


def ledger_entry_get_for_user(*, user, pk: int) -> LedgerEntry:
    return get_for_user_or_404(
        LedgerEntry.objects.select_related("branch", "payment__entered_by", "bill_sms", "run", "application"),
        user=user,
        pk=pk,
    )


def ledger_totals(entries: QuerySet[LedgerEntry]) -> dict:
    """Count and sums of what the filters show: one query."""
    totals = entries.order_by().aggregate(
        count=Count("pk"), amount=Sum("amount"), incremental=Sum("incremental_amount"), stock=Sum("stock_amount")
    )
    return {key: (value if value is not None else ZERO) for key, value in totals.items()}


class _DateInput(forms.DateInput):
    input_type = "date"


INDUSTRY_CHOICES = lambda: sorted(sections().items())  # noqa: E731 - evaluated when the form is built


class LedgerEntryFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="名称或识别号")
    date_from = django_filters.DateFilter(
        field_name="paid_on", lookup_expr="gte", label="退库日期从", widget=_DateInput()
    )
    date_to = django_filters.DateFilter(field_name="paid_on", lookup_expr="lte", label="至", widget=_DateInput())
    branch = django_filters.ModelChoiceFilter(
        queryset=Branch.objects.none(), to_field_name="code", label="主管税务机关", empty_label="全部分局"
    )
    refund_kind = django_filters.ChoiceFilter(
        choices=RefundApplication.Kind.choices, label="退税类型", empty_label="全部类型"
    )
    regime = django_filters.ChoiceFilter(
        choices=sorted(REGIME_TITLES.items()), label="适用政策", empty_label="全部政策"
    )
    size = django_filters.ChoiceFilter(choices=list(SIZE_TITLES.items()), label="企业规模", empty_label="全部规模")
    industry = django_filters.ChoiceFilter(
        choices=INDUSTRY_CHOICES, method="filter_industry", label="行业门类", empty_label="全部行业"
    )
    credit_check = django_filters.ChoiceFilter(
        choices=LedgerEntry.CreditCheck.choices, label="留抵核减", empty_label="全部"
    )

    class Meta:
        model = LedgerEntry
        fields = ("q", "date_from", "date_to", "branch", "refund_kind", "regime", "size", "industry", "credit_check")

    def __init__(self, data=None, queryset=None, *, user=None):
        super().__init__(data=data, queryset=queryset)
        self.filters["branch"].queryset = _branches_for(user)

    def filter_q(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(identifier__startswith=normalise_taxpayer_id(value)))

    def filter_industry(self, queryset, name, value):
        return queryset.filter(industry_code__startswith=value) if value else queryset


def ledger_entry_filterset(*, user, filters: Mapping | None) -> LedgerEntryFilter:
    entries = ledger_entries_for_user(user=user).order_by("-paid_on", "-id")
    return LedgerEntryFilter(data=filters, queryset=entries, user=user)


# --- 待退库: approved applications the treasury has not paid yet ---------------------------------------------


class UnpaidFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="名称或识别号")
    branch = django_filters.ModelChoiceFilter(
        queryset=Branch.objects.none(), to_field_name="code", label="主管税务机关", empty_label="全部分局"
    )
    kind = django_filters.ChoiceFilter(choices=RefundApplication.Kind.choices, label="退税类型", empty_label="全部类型")
    period = PeriodFilter(field_name="application_period", label="申请所属期")

    class Meta:
        model = RefundApplication
        fields = ("q", "branch", "kind", "period")

    def __init__(self, data=None, queryset=None, *, user=None):
        super().__init__(data=data, queryset=queryset)
        self.filters["branch"].queryset = _branches_for(user)

    def filter_q(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(taxpayer__name__icontains=value) | Q(taxpayer__identifier__startswith=normalise_taxpayer_id(value))
        )


def unpaid_applications_for_user(*, user) -> QuerySet[RefundApplication]:
    return applications_for_user(user=user).filter(state=RefundApplication.State.APPROVED)


def unpaid_filterset(*, user, filters: Mapping | None) -> UnpaidFilter:
    applications = unpaid_applications_for_user(user=user).order_by("approved_at", "id")
    return UnpaidFilter(data=filters, queryset=applications, user=user)


def unpaid_application_get_for_user(*, user, pk: int) -> RefundApplication:
    return get_for_user_or_404(RefundApplication.objects.select_related("taxpayer", "branch"), user=user, pk=pk)


def unpaid_totals(applications: QuerySet[RefundApplication]) -> dict:
    totals = applications.order_by().aggregate(count=Count("pk"), amount=Sum("confirmed_amount"))
    return {"count": totals["count"], "amount": totals["amount"] or ZERO}


# --- 台账登记 runs ------------------------------------------------------------------------------------------------


def ledger_runs() -> QuerySet[LedgerRun]:
    """Each day's registration with its bills by outcome (the runs span every branch: bureau-wide roles only)."""
    return LedgerRun.objects.annotate(
        bills_sent=Count("entries", filter=Q(entries__bill_sms__status__in=["accepted", "delivered"])),
        bills_failed=Count(
            "entries",
            filter=Q(entries__bill_sms__status__in=["failed", "cancelled"])
            | (Q(entries__bill_sms__isnull=True) & ~Q(entries__bill_error="")),
        ),
    ).order_by("-day")


def unregistered_days(limit: int = 10) -> list[dict]:
    """Days with payments not yet registered (a payment entered after that day's run, or a run not yet made)."""
    rows = (
        LedgerEntry.objects.filter(run__isnull=True)
        .values("paid_on")
        .annotate(count=Count("pk"), amount=Sum("amount"))
        .order_by("-paid_on")[:limit]
    )
    return list(rows)

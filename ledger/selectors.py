"""Reads of the ledger, always through the scoping gateway: a branch officer sees its branch's entries only, and
an entry outside the user's scope is a 404. The ledger page's filters live in the URL (``LedgerEntryFilter``);
the page and its export read the same filtered queryset. The ledger holds payments and clawbacks (追缴, negative
entries), so its sums are the net refunded; the 追缴 page lists the clawbacks (``ClawbackFilter``)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from accounts.models import Branch
from accounts.scoping import get_for_user_or_404, scope_to_user
from core.listing import sort_order
from refund.applications.selectors import applications_for_user
from refund.labels import REGIME_TITLES, SIZE_TITLES
from refund.models import UNPAID_STATES, RefundApplication
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
    """Count and sums of what the filters show — net of clawbacks (追缴, negative entries), of which the amount is
    given apart too: one query."""
    totals = entries.order_by().aggregate(
        count=Count("pk"),
        net=Sum("amount"),
        incremental=Sum("incremental_amount"),
        stock=Sum("stock_amount"),
        clawed=Sum("amount", filter=Q(kind=LedgerEntry.Kind.CLAWBACK)),
    )
    totals = {key: (value if value is not None else ZERO) for key, value in totals.items()}
    # the net as "amount" (what the page and the dashboards read), the clawbacks as a positive figure
    totals["amount"], totals["clawback"] = totals.pop("net"), -totals.pop("clawed")
    return totals


class _DateInput(forms.DateInput):
    input_type = "date"


INDUSTRY_CHOICES = lambda: sorted(sections().items())  # noqa: E731 - evaluated when the form is built


LEDGER_COLUMNS = {
    "paid_on": "退库日期",
    "name": "纳税人名称",
    "branch": "主管税务机关",
    "period": "所属期",
    "amount": "退税额（元）",
}
"""The ledger's sortable columns (header links; ``sort`` in the URL, ``-`` for descending)."""
LEDGER_SORT_FIELDS = {
    "paid_on": ("paid_on",),
    "name": ("name",),
    "branch": ("branch__sort_order", "branch__code"),
    "period": ("application_period",),
    "amount": ("amount",),
}
LEDGER_SORT = "-paid_on"


class _TaxpayerBranchFilter(django_filters.FilterSet):
    """What the ledger's and 待退库's filters share: the taxpayer's name or identifier (``q``), and the branches
    the reader may see (``branch``). ``TAXPAYER`` is the path from the row to the taxpayer's fields."""

    TAXPAYER = ""
    q = django_filters.CharFilter(method="filter_q", label="名称或识别号")
    branch = django_filters.ModelChoiceFilter(
        queryset=Branch.objects.none(), to_field_name="code", label="主管税务机关", empty_label="全部分局"
    )

    def __init__(self, data=None, queryset=None, *, user=None):
        super().__init__(data=data, queryset=queryset)
        self.filters["branch"].queryset = _branches_for(user)

    def filter_q(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        by_name = Q(**{f"{self.TAXPAYER}name__icontains": value})
        return queryset.filter(by_name | Q(**{f"{self.TAXPAYER}identifier__startswith": normalise_taxpayer_id(value)}))


class LedgerEntryFilter(_TaxpayerBranchFilter):
    date_from = django_filters.DateFilter(
        field_name="paid_on", lookup_expr="gte", label="退库日期从", widget=_DateInput()
    )
    date_to = django_filters.DateFilter(field_name="paid_on", lookup_expr="lte", label="至", widget=_DateInput())
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

    def filter_industry(self, queryset, name, value):
        return queryset.filter(industry_code__startswith=value) if value else queryset


def ledger_entry_filterset(*, user, filters: Mapping | None) -> LedgerEntryFilter:
    """The bound ledger filters, rows sorted by the URL's ``sort`` (a column of ``LEDGER_COLUMNS``; default: the
    latest payments first)."""
    sort = (filters or {}).get("sort")
    order = sort_order(sort, LEDGER_SORT_FIELDS, default=LEDGER_SORT, then=("-paid_on",))
    entries = ledger_entries_for_user(user=user).order_by(*order)
    return LedgerEntryFilter(data=filters, queryset=entries, user=user)


# --- 待退库: approved applications the treasury has not paid yet ---------------------------------------------


class UnpaidFilter(_TaxpayerBranchFilter):
    TAXPAYER = "taxpayer__"
    kind = django_filters.ChoiceFilter(choices=RefundApplication.Kind.choices, label="退税类型", empty_label="全部类型")
    period = PeriodFilter(field_name="application_period", label="申请所属期")

    class Meta:
        model = RefundApplication
        fields = ("q", "branch", "kind", "period")


def unpaid_applications_for_user(*, user) -> QuerySet[RefundApplication]:
    """待退库: approved applications the treasury has not paid in full (部分退库 ones stay until it has)."""
    return applications_for_user(user=user).filter(state__in=UNPAID_STATES)


UNPAID_COLUMNS = {
    "approved": "审批日期",
    "name": "纳税人名称",
    "branch": "主管税务机关",
    "period": "所属期",
    "amount": "确认退税额（元）",
}
"""待退库's sortable columns (header links; ``sort`` in the URL, ``-`` for descending)."""
UNPAID_SORT_FIELDS = {
    "approved": ("approved_at",),
    "name": ("taxpayer__name",),
    "branch": ("branch__sort_order", "branch__code"),
    "period": ("application_period",),
    "amount": ("confirmed_amount",),
}
UNPAID_SORT = "approved"  # the oldest approval first: the treasury pays in that order


def unpaid_filterset(*, user, filters: Mapping | None) -> UnpaidFilter:
    sort = (filters or {}).get("sort")
    applications = unpaid_applications_for_user(user=user).order_by(
        *sort_order(sort, UNPAID_SORT_FIELDS, default=UNPAID_SORT, then=("approved_at",))
    )
    return UnpaidFilter(data=filters, queryset=applications, user=user)


def unpaid_application_get_for_user(*, user, pk: int) -> RefundApplication:
    return get_for_user_or_404(RefundApplication.objects.select_related("taxpayer", "branch"), user=user, pk=pk)


def unpaid_totals(applications: QuerySet[RefundApplication]) -> dict:
    """The count, and the amount still to pay (the confirmed amounts less what was paid of them in part)."""
    totals = applications.order_by().aggregate(
        count=Count("pk"),
        amount=Sum(F("confirmed_amount") - Coalesce("paid_amount", Value(ZERO))),
        partly=Count("pk", filter=Q(state=RefundApplication.State.PARTLY_PAID)),
    )
    return {"count": totals["count"], "amount": totals["amount"] or ZERO, "partly": totals["partly"]}


# --- 台账登记 runs ------------------------------------------------------------------------------------------------


RUN_COLUMNS = {"day": "退库日期", "entry_count": "登记笔数", "total_amount": "登记金额（元）"}
"""每日登记's sortable columns (header links; ``sort`` in the URL, ``-`` for descending)."""
RUN_SORT_FIELDS = {"day": ("day",), "entry_count": ("entry_count",), "total_amount": ("total_amount",)}
RUN_SORT = "-day"


def ledger_runs(*, sort: str | None = None) -> QuerySet[LedgerRun]:
    """Each day's registration with its bills by outcome (the runs span every branch: bureau-wide roles only), the
    latest day first or as ``sort`` says."""
    order = sort_order(sort, RUN_SORT_FIELDS, default=RUN_SORT, then=("-day",))
    return LedgerRun.objects.annotate(
        bills_sent=Count("entries", filter=Q(entries__bill_sms__status__in=["accepted", "delivered"])),
        bills_failed=Count(
            "entries",
            filter=Q(entries__bill_sms__status__in=["failed", "cancelled"])
            | (Q(entries__bill_sms__isnull=True) & ~Q(entries__bill_error="")),
        ),
    ).order_by(*order)


def unregistered_days(limit: int = 10) -> list[dict]:
    """Days with payments not yet registered (a payment entered after that day's run, or a run not yet made); a
    clawback is no payment and is never registered by a run."""
    rows = (
        LedgerEntry.objects.filter(run__isnull=True, kind=LedgerEntry.Kind.PAYMENT)
        .values("paid_on")
        .annotate(count=Count("pk"), amount=Sum("amount"))
        .order_by("-paid_on")[:limit]
    )
    return list(rows)


# --- 追缴 -------------------------------------------------------------------------------------------------------


class ClawbackFilter(_TaxpayerBranchFilter):
    date_from = django_filters.DateFilter(
        field_name="paid_on", lookup_expr="gte", label="决定日期从", widget=_DateInput()
    )
    date_to = django_filters.DateFilter(field_name="paid_on", lookup_expr="lte", label="至", widget=_DateInput())
    refund_kind = django_filters.ChoiceFilter(
        choices=RefundApplication.Kind.choices, label="退税类型", empty_label="全部类型"
    )
    reference = django_filters.CharFilter(field_name="decision_reference", lookup_expr="icontains", label="文书号")

    class Meta:
        model = LedgerEntry
        fields = ("q", "date_from", "date_to", "branch", "refund_kind", "reference")


CLAWBACK_COLUMNS = {
    "decided_on": "追缴决定日期",
    "name": "纳税人名称",
    "branch": "主管税务机关",
    "amount": "追缴金额（元）",
}
"""追缴's sortable columns (header links; ``sort`` in the URL, ``-`` for descending)."""
CLAWBACK_SORT_FIELDS = {
    "decided_on": ("paid_on",),
    "name": ("name",),
    "branch": ("branch__sort_order", "branch__code"),
    "amount": (F("amount") * -1,),  # the clawback entry's amount is negative: sort by what was clawed back
}
CLAWBACK_SORT = "-decided_on"


def clawbacks_for_user(*, user) -> QuerySet[LedgerEntry]:
    """The clawback entries the user may see (scoped like the ledger)."""
    return ledger_entries_for_user(user=user).filter(kind=LedgerEntry.Kind.CLAWBACK).select_related("recorded_by")


def clawback_filterset(*, user, filters: Mapping | None) -> ClawbackFilter:
    sort = (filters or {}).get("sort")
    order = sort_order(sort, CLAWBACK_SORT_FIELDS, default=CLAWBACK_SORT, then=("-paid_on",))
    return ClawbackFilter(data=filters, queryset=clawbacks_for_user(user=user).order_by(*order), user=user)


def clawback_totals(clawbacks: QuerySet[LedgerEntry]) -> dict:
    """How many and how much was clawed back (positive figures), one query."""
    totals = clawbacks.order_by().aggregate(
        count=Count("pk"), amount=Sum("amount"), incremental=Sum("incremental_amount"), stock=Sum("stock_amount")
    )
    return {key: (-value if value else ZERO) if key != "count" else value for key, value in totals.items()}


def application_ledger(application: RefundApplication) -> dict:
    """An application's payments and clawbacks in the ledger, and what is left paid (净退税额), for the 追缴 form."""
    entries = list(
        LedgerEntry.objects.filter(application=application).select_related("payment").order_by("paid_on", "pk")
    )
    paid = sum((e.amount for e in entries if e.kind == LedgerEntry.Kind.PAYMENT), ZERO)
    clawed = -sum((e.amount for e in entries if e.kind == LedgerEntry.Kind.CLAWBACK), ZERO)
    return {"entries": entries, "paid": paid, "clawed": clawed, "net": paid - clawed}

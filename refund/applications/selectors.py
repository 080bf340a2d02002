"""Reads of 留抵退税申请, always through the scoping gateway: a branch officer sees its branch's applications
only; an application outside the user's scope is a 404."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache

import django_filters
from django import forms
from django.contrib.auth.models import Permission
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from accounts.models import Branch, User
from accounts.scoping import get_for_user_or_404, scope_to_user, visible_branch_ids
from taxpayers.calendar import working_days_between
from taxpayers.filters import PeriodFilter
from taxpayers.validators import normalise_taxpayer_id

from ..labels import REGIME_TITLES
from ..models import (
    OPEN_APPLICATION_STATES,
    ApplicationRiskHit,
    ApplicationTransition,
    CoachingRecord,
    RefundApplication,
    SignOffThreshold,
)


def applications_for_user(*, user) -> QuerySet[RefundApplication]:
    return scope_to_user(RefundApplication.objects.select_related("taxpayer", "branch", "assigned_to"), user=user)


def applications_awaiting_sign_off(*, user, threshold: Decimal | None) -> QuerySet[RefundApplication]:
    """待局领导签批: under review, confirmed above ``threshold``, not yet signed off; oldest receipt first."""
    if threshold is None:
        return RefundApplication.objects.none()
    return applications_for_user(user=user).filter(
        state=RefundApplication.State.REVIEWING, confirmed_amount__gt=threshold, signed_off_at__isnull=True
    ).select_related("confirmed_by").order_by("received_on", "id")


def sign_off_thresholds() -> QuerySet[SignOffThreshold]:
    """The 大额退税签批标准 and its history, newest first."""
    return SignOffThreshold.objects.select_related("set_by").order_by("-effective_from")


def application_get_for_user(*, user, pk: int) -> RefundApplication:
    return get_for_user_or_404(
        RefundApplication.objects.select_related(
            "taxpayer", "branch", "assigned_to", "confirmed_by", "approved_by", "signed_off_by"
        ),
        user=user,
        pk=pk,
    )


# --- the queue (申请队列 / 我的待办): filters in the URL, one FilterSet for the page and its export ----------------

QUEUE_OPEN = "open"
QUEUE_ALL = "all"
STATE_CHOICES = (
    (QUEUE_OPEN, "未办结"),
    *RefundApplication.State.choices,
    (QUEUE_ALL, "全部状态"),
)
ASSIGNEE_ME, ASSIGNEE_NONE = "me", "none"
ASSIGNEE_CHOICES = ((ASSIGNEE_ME, "分派给我的"), (ASSIGNEE_NONE, "未分派"))

QUEUE_COLUMNS = {
    "age": "受理日期",
    "amount": "申请退税额",
    "due": "办结期限",
}
"""The queue's sortable columns (header links and the ``sort`` filter, ``-`` for descending); ties break on ``id``."""
QUEUE_SORT_FIELDS = {"age": "received_on", "amount": "claimed_amount", "due": "due_on"}
QUEUE_DEFAULT_SORT = "age"  # oldest first: the index (state, received_on, id) serves it


def _sort_choices():
    return [
        choice for key, label in QUEUE_COLUMNS.items() for choice in ((key, label), (f"-{key}", f"{label}（倒序）"))
    ]


class ApplicationQueueFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="纳税人", help_text="名称包含，或识别号开头为")
    state = django_filters.ChoiceFilter(choices=STATE_CHOICES, method="filter_state", label="状态", empty_label=None)
    branch = django_filters.ModelChoiceFilter(
        queryset=Branch.objects.none(), to_field_name="code", label="主管税务机关", empty_label="全部分局"
    )
    application_period = PeriodFilter(label="所属期", help_text="YYYY-MM")
    kind = django_filters.ChoiceFilter(choices=RefundApplication.Kind.choices, label="退税类型", empty_label="全部类型")
    regime = django_filters.ChoiceFilter(
        choices=sorted(REGIME_TITLES.items()), label="适用政策", empty_label="全部政策"
    )
    risk_status = django_filters.ChoiceFilter(
        choices=RefundApplication.Risk.choices, label="风险扫描", empty_label="全部"
    )
    amount_min = django_filters.NumberFilter(field_name="claimed_amount", lookup_expr="gte", label="申请额≥（元）")
    amount_max = django_filters.NumberFilter(field_name="claimed_amount", lookup_expr="lte", label="申请额≤（元）")
    assignee = django_filters.ChoiceFilter(
        choices=ASSIGNEE_CHOICES, method="filter_assignee", label="经办人", empty_label="全部"
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="仅超期", widget=forms.CheckboxInput)
    sort = django_filters.ChoiceFilter(
        choices=_sort_choices(), method="filter_sort", label="排序", empty_label="默认（受理日期，最早的在前）"
    )

    class Meta:
        model = RefundApplication
        fields = (
            "q", "state", "branch", "application_period", "kind", "regime", "risk_status", "amount_min",
            "amount_max", "assignee", "overdue", "sort",
        )  # fmt: skip

    def __init__(self, data=None, queryset=None, *, user=None, today: dt.date | None = None, defaults=None):
        data = data.copy() if data is not None else QueryDict(mutable=True)
        for name, value in (defaults or {}).items():
            if name not in data:
                data[name] = value
        if "state" not in data:
            data["state"] = QUEUE_OPEN
        super().__init__(data=data, queryset=queryset)
        self.user = user
        self.today = today or timezone.localdate()
        self.filters["branch"].queryset = scope_to_user(
            Branch.objects.filter(kind__in=[Branch.Kind.BRANCH, Branch.Kind.BUREAU]), user=user, branch_field="pk"
        )
        for name in ("amount_min", "amount_max"):
            self.filters[name].field.widget = forms.NumberInput(attrs={"step": "0.01", "min": "0"})
        self.filters["overdue"].field.widget.attrs["class"] = "form-check-input"

    def filter_q(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(taxpayer__name__icontains=value)
            | Q(taxpayer__identifier__startswith=normalise_taxpayer_id(value))
            | Q(document_number=value)
        )

    def filter_state(self, queryset, name, value):
        if value == QUEUE_OPEN:
            return queryset.filter(state__in=OPEN_APPLICATION_STATES)
        if value == QUEUE_ALL or not value:
            return queryset
        return queryset.filter(state=value)

    def filter_assignee(self, queryset, name, value):
        if value == ASSIGNEE_ME:
            return queryset.filter(assigned_to=self.user)
        if value == ASSIGNEE_NONE:
            return queryset.filter(assigned_to__isnull=True)
        return queryset

    def filter_overdue(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(state__in=OPEN_APPLICATION_STATES, due_on__lt=self.today)

    def filter_sort(self, queryset, name, value):
        field = QUEUE_SORT_FIELDS.get(value.lstrip("-"))
        if field is None:
            return queryset
        if value.startswith("-"):
            return queryset.order_by(f"-{field}", "-id")
        return queryset.order_by(field, "id")


def application_queue_filterset(
    *, user, filters: Mapping | None, defaults: Mapping | None = None, today: dt.date | None = None
) -> ApplicationQueueFilter:
    """The bound queue filters over the user's applications (open ones, oldest first, unless the URL says
    otherwise); ``defaults`` fill in parameters the URL leaves out (我的待办: ``assignee=me``)."""
    ordered = applications_for_user(user=user).order_by(QUEUE_SORT_FIELDS[QUEUE_DEFAULT_SORT], "id")
    return ApplicationQueueFilter(data=filters, queryset=ordered, user=user, today=today, defaults=defaults)


def applications_in_order(ids: list[int]) -> list[RefundApplication]:
    """The rows of one queue page, joined, in the order of ``ids``.

    The queue pages over ids alone (``filterset.qs.values_list("pk")``): PostgreSQL then sorts and cuts the page
    from the index (state, received_on, id) before anything is joined, instead of joining every open
    application to its taxpayer, branch and assignee first — 5 ms instead of 150 ms at 100,000 applications.
    """
    rows = RefundApplication.objects.select_related("taxpayer", "branch", "assigned_to").in_bulk(ids)
    return [rows[pk] for pk in ids if pk in rows]


def applications_selected_for_user(*, user, ids) -> list[RefundApplication]:
    """The applications of a batch action (row checkboxes), in queue order; ids outside the scope are dropped."""
    clean = [int(i) for i in ids if str(i).isdigit()]
    return list(applications_for_user(user=user).filter(pk__in=clean).order_by("received_on", "id"))


# --- one application's page ---------------------------------------------------------------------------------------


def application_transitions(application: RefundApplication) -> QuerySet[ApplicationTransition]:
    return application.transitions.select_related("actor").order_by("created_at", "id")


def application_risk_hits(application: RefundApplication) -> QuerySet[ApplicationRiskHit]:
    return application.risk_hits.select_related("resolved_by").order_by("-created_at", "-id")


def taxpayer_coachings(application: RefundApplication) -> QuerySet[CoachingRecord]:
    """The taxpayer's coaching records (on this application or on its own), newest first."""
    return (
        CoachingRecord.objects.filter(taxpayer_id=application.taxpayer_id)
        .select_related("officer", "application")
        .order_by("-coached_on", "-id")
    )


def assignable_officers(*, user) -> QuerySet[User]:
    """Officers who may work applications (``refund.review_refundapplication``), in the user's scope: a branch
    officer assigns within its branch; the refund section to anyone."""
    permission = Permission.objects.filter(
        content_type__app_label="refund", codename="review_refundapplication"
    ).first()
    officers = User.objects.filter(is_active=True).filter(
        Q(groups__permissions=permission) | Q(user_permissions=permission) | Q(is_superuser=True)
    )
    branch_ids = visible_branch_ids(user)
    if branch_ids is not None:
        officers = officers.filter(branch_id__in=branch_ids)
    return officers.select_related("branch").distinct().order_by("branch__sort_order", "username")


# --- the SLA clock (10 working days from receipt) -------------------------------------------------------------


@lru_cache(maxsize=4096)
def _working_days(start: dt.date, end: dt.date) -> int:
    # The clock keeps running past the holiday data (Monday to Friday), as the services' due date does.
    return working_days_between(start, end, estimate=True)


def _clock_end(application: RefundApplication, today: dt.date) -> dt.date:
    """Where the clock stopped: the decision (approval, rejection) or today while the application is open."""
    if application.state in OPEN_APPLICATION_STATES:
        return today
    if application.approved_at:
        return timezone.localtime(application.approved_at).date()
    return timezone.localtime(application.state_changed_at).date() if application.state_changed_at else today


def sla_clock(application: RefundApplication, today: dt.date) -> tuple[int, bool]:
    """(working days used since receipt, overdue): an open application past its due date is overdue."""
    used = _working_days(application.received_on, _clock_end(application, today))
    return used, application.state in OPEN_APPLICATION_STATES and application.due_on < today

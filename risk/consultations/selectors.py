"""Reads of 集体会商, scoped like the applications they weigh: a branch officer sees only the consultations of their
own branch's applications (another branch's is a 404), the bureau's sections see every one."""

from __future__ import annotations

from collections.abc import Mapping

import django_filters
from django import forms
from django.db.models import Count, Q, QuerySet

from accounts.models import Branch, User
from accounts.roles import RoleCode
from accounts.scoping import get_for_user_or_404, scope_to_user
from core.listing import sort_order
from taxpayers.validators import normalise_taxpayer_id

from ..models import Consultation, ConsultationParticipant, Section
from ..selectors import application_risk_panel
from .participation import REQUIRED_SECTIONS, missing_sections, section_for

BRANCH_FIELD = "application__branch"
COLUMNS = {"opened": "发起时间", "name": "纳税人名称", "branch": "主管税务机关", "amount": "确认退税额（元）"}
SORT_FIELDS = {
    "opened": ("opened_at",),
    "name": ("application__taxpayer__name",),
    "branch": ("application__branch__sort_order", "application__branch__code"),
    "amount": ("application__confirmed_amount",),
}
DEFAULT_SORT = "-opened"


def consultations_for_user(*, user) -> QuerySet[Consultation]:
    """The consultations ``user`` may see, with what a list row shows (no query per row)."""
    queryset = Consultation.objects.select_related(
        "application__taxpayer", "application__branch", "host", "decided_by"
    ).annotate(
        invited=Count("participants", distinct=True),
        opinions=Count("participants", filter=~Q(participants__opinion=""), distinct=True),
    )
    return scope_to_user(queryset, user=user, branch_field=BRANCH_FIELD)


def consultation_get_for_user(*, user, pk: int) -> Consultation:
    """One consultation, 404 outside the user's branches."""
    return get_for_user_or_404(
        Consultation.objects.select_related("application__taxpayer", "application__branch", "host", "decided_by"),
        user=user,
        branch_field=BRANCH_FIELD,
        pk=pk,
    )


class _DateInput(forms.DateInput):
    input_type = "date"


class ConsultationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="名称或识别号")
    branch = django_filters.ModelChoiceFilter(
        field_name=BRANCH_FIELD,
        queryset=Branch.objects.none(),
        to_field_name="code",
        label="主管税务机关",
        empty_label="全部分局",
    )
    state = django_filters.ChoiceFilter(choices=Consultation.State.choices, label="状态", empty_label="全部状态")
    decision = django_filters.ChoiceFilter(
        choices=Consultation.Decision.choices, label="会商决定", empty_label="全部决定"
    )
    opened_from = django_filters.DateFilter(
        field_name="opened_at", lookup_expr="date__gte", label="发起日期从", widget=_DateInput()
    )
    opened_to = django_filters.DateFilter(
        field_name="opened_at", lookup_expr="date__lte", label="至", widget=_DateInput()
    )

    class Meta:
        model = Consultation
        fields = ("q", "branch", "state", "decision", "opened_from", "opened_to")

    def __init__(self, data=None, queryset=None, *, user=None):
        super().__init__(data=data, queryset=queryset)
        self.filters["branch"].queryset = scope_to_user(
            Branch.objects.filter(kind=Branch.Kind.BRANCH), user=user, branch_field="pk"
        )

    def filter_q(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(application__taxpayer__name__icontains=value)
            | Q(application__taxpayer__identifier__startswith=normalise_taxpayer_id(value))
        )


def consultation_filterset(*, user, filters: Mapping | None) -> ConsultationFilter:
    """The bound list filters; rows in the URL's ``sort`` (default: the latest opened first)."""
    order = sort_order((filters or {}).get("sort"), SORT_FIELDS, default=DEFAULT_SORT, then=())
    return ConsultationFilter(data=filters, queryset=consultations_for_user(user=user).order_by(*order), user=user)


def participants_of(consultation: Consultation) -> list[ConsultationParticipant]:
    """参会人 by section (税政, 法制, 风险, 分局), then in the order invited."""
    order = {value: k for k, value in enumerate(Section.values)}
    rows = list(consultation.participants.select_related("user"))
    return sorted(rows, key=lambda row: (order.get(row.section, 9), row.pk))


def invitable(application, *, invited=()) -> dict[str, list[User]]:
    """The officers who may take part in a consultation of ``application``, by section label: 税政一股, 法制岗,
    风险管理股 and the officers of the application's branch, active, not among the ``invited`` user ids."""
    codes = [RoleCode.REFUND_OFFICER, RoleCode.LEGAL_OFFICER, RoleCode.RISK_OFFICER, RoleCode.BRANCH_OFFICER]
    users = (
        User.objects.filter(is_active=True, groups__name__in=[code.value for code in codes])
        .exclude(pk__in=list(invited))
        .prefetch_related("groups")
        .distinct()
        .order_by("username")
    )
    grouped: dict[str, list[User]] = {label: [] for label in Section.labels}
    for user in users:
        section = section_for(user, application)
        if section is not None:
            grouped[Section(section).label].append(user)
    return {label: rows for label, rows in grouped.items() if rows}


def consultation_page(consultation: Consultation) -> dict:
    """What the consultation's page shows besides its own fields: the hits with evidence of the scan it was opened
    on (the application's later scans listed below them), the participants, and what the decision waits for."""
    panel = application_risk_panel(consultation.application_id, scan_id=consultation.scan_id)
    return {
        "panel": panel,
        "participants": participants_of(consultation),
        "missing": missing_sections(consultation) if consultation.state == Consultation.State.OPEN else [],
        "required": "、".join(Section(s).label for s in REQUIRED_SECTIONS),
    }


def application_consultations(application_id: int) -> list[Consultation]:
    """An application's consultations, the latest first (the risk panel's links)."""
    return list(Consultation.objects.filter(application_id=application_id).order_by("-id"))

"""Filters of the audit log page (and its export): who, what, on which kind of object, when, which request; and of
用户与岗位 (users by name, role, unit and status)."""

import datetime as dt

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from .audit_labels import object_type_label, verb_label
from .models import AuditEvent, Branch, User
from .roles import ROLES, RoleCode


def _local_day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class AuditEventFilter(django_filters.FilterSet):
    actor = django_filters.ModelChoiceFilter(
        queryset=User.objects.order_by("username"), to_field_name="username", label="操作人", empty_label="全部"
    )
    verb = django_filters.ChoiceFilter(label="操作", empty_label="全部")
    object_type = django_filters.ChoiceFilter(label="对象类型", empty_label="全部")
    date_from = django_filters.DateFilter(method="filter_date_from", label="开始日期")
    date_to = django_filters.DateFilter(method="filter_date_to", label="结束日期")
    request_id = django_filters.CharFilter(field_name="request_id", label="请求编号")

    class Meta:
        model = AuditEvent
        fields = ("actor", "verb", "object_type", "date_from", "date_to", "request_id")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The verbs and object types actually recorded (both columns are indexed).
        verbs = AuditEvent.objects.order_by("verb").values_list("verb", flat=True).distinct()
        types = AuditEvent.objects.exclude(object_type="").order_by("object_type")
        types = types.values_list("object_type", flat=True).distinct()
        self.filters["verb"].extra["choices"] = lambda: [(v, verb_label(v)) for v in verbs]
        self.filters["object_type"].extra["choices"] = lambda: [(t, object_type_label(t)) for t in types]
        self.filters["date_from"].extra["widget"] = forms.DateInput(attrs={"type": "date"})
        self.filters["date_to"].extra["widget"] = forms.DateInput(attrs={"type": "date"})

    def filter_date_from(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        # Whole local (Asia/Shanghai) days, as a range on the indexed column.
        return queryset.filter(created_at__gte=_local_day_start(value))

    def filter_date_to(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        return queryset.filter(created_at__lt=_local_day_start(value + dt.timedelta(days=1)))


class UserRoleFilter(django_filters.FilterSet):
    """Filters of 用户与岗位: a name or login, a role (or none), a unit, active or not."""

    NO_ROLE = "none"

    q = django_filters.CharFilter(method="filter_q", label="姓名或用户名")
    role = django_filters.ChoiceFilter(method="filter_role", label="岗位", empty_label="全部")
    branch = django_filters.ModelChoiceFilter(queryset=Branch.objects.all(), label="所属机构", empty_label="全部")
    active = django_filters.ChoiceFilter(
        method="filter_active", label="账户状态", empty_label="全部", choices=(("yes", "启用"), ("no", "停用"))
    )

    class Meta:
        model = User
        fields = ("q", "role", "branch", "active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["role"].extra["choices"] = [
            *((code.value, role.label) for code, role in ROLES.items()),
            (self.NO_ROLE, "（无岗位）"),
        ]

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(full_name__icontains=value) | Q(username__icontains=value))

    def filter_role(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        role_names = [code.value for code in RoleCode]
        if value == self.NO_ROLE:
            return queryset.exclude(groups__name__in=role_names)
        # A subquery, not a join: the list's rows stay one per user.
        return queryset.filter(pk__in=User.objects.filter(groups__name=value).values("pk"))

    def filter_active(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(is_active=value == "yes")

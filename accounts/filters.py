"""Filters of the audit log page (and its export): who, what, on which kind of object, when, which request."""

import datetime as dt

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from .audit_labels import object_type_label, verb_label
from .models import AuditEvent, User


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

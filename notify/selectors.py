"""Reads of notify. SMS rows are bureau-wide (service officers send for every branch), gated by permission."""

from datetime import date

from django.db.models import QuerySet

from .models import InboxNotification, SmsBatch, SmsMessage


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def message_list(*, filters: dict) -> QuerySet[SmsMessage]:
    rows = SmsMessage.objects.select_related("template", "batch")
    if filters.get("status") in SmsMessage.Status.values:
        rows = rows.filter(status=filters["status"])
    if filters.get("template"):
        rows = rows.filter(template__code=filters["template"])
    if filters.get("batch", "").isdigit():
        rows = rows.filter(batch_id=int(filters["batch"]))
    if start := _date(filters.get("date_from", "")):
        rows = rows.filter(created_at__date__gte=start)
    if end := _date(filters.get("date_to", "")):
        rows = rows.filter(created_at__date__lte=end)
    if filters.get("q", "").isdigit():
        rows = rows.filter(recipient__contains=filters["q"])
    return rows.order_by("-id")


def batch_list() -> QuerySet[SmsBatch]:
    return SmsBatch.objects.select_related("template", "created_by").order_by("-id")


def inbox_for(user) -> QuerySet[InboxNotification]:
    return InboxNotification.objects.filter(user=user).order_by("-created_at", "-id")


def unread_count(user) -> int:
    return InboxNotification.objects.filter(user=user, read_at__isnull=True).count()

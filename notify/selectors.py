"""Reads of notify, gated by permission in the views and scoped by branch here.

notify imports no app of ours but core, so the branch scope comes from ``settings.NOTIFY_VISIBLE_BRANCHES``
(``accounts.scoping.visible_branch_ids``: None = every branch, else a set of ids) and the branch names
from ``settings.NOTIFY_BRANCH_CHOICES``. A branch-scoped reader sees only rows whose ``branch_id`` is one
of its branches; service officers, refund officers and supervisors work across the bureau and see all.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Case, Count, Exists, OuterRef, QuerySet, Value, When
from django.http import Http404
from django.utils.module_loading import import_string

from core.errors import ApplicationError
from core.listing import sort_order

from .models import InboxNotification, MessageTemplate, SmsBatch, SmsMessage, progress_from_counts
from .services import REFUSED_AT_ENQUEUE

SHANGHAI = ZoneInfo("Asia/Shanghai")


def resendable(messages: QuerySet[SmsMessage]) -> QuerySet[SmsMessage]:
    """Failed messages worth resending and not resent yet: only the latest row of a resend chain is offered
    again, and never a row refused at enqueue (bad number or text: the same row would fail the same way)."""
    return (
        messages.filter(status=SmsMessage.Status.FAILED)
        .exclude(error_code__in=REFUSED_AT_ENQUEUE)
        .filter(~Exists(SmsMessage.objects.filter(resend_of=OuterRef("pk"))))
    )


def _hook(name: str):
    dotted = getattr(settings, name, "")
    return import_string(dotted) if dotted else None


def visible_branch_ids(user) -> set[int] | None:
    hook = _hook("NOTIFY_VISIBLE_BRANCHES")
    return hook(user) if hook else None


def branch_choices(user) -> list[tuple[int, str]]:
    """(id, name) of the branches ``user`` may filter by; empty when no hook is configured."""
    hook = _hook("NOTIFY_BRANCH_CHOICES")
    return list(hook(user)) if hook else []


def _scoped(rows: QuerySet, user) -> QuerySet:
    if user is None:
        return rows
    branch_ids = visible_branch_ids(user)
    if branch_ids is None:
        return rows
    return rows.filter(branch_id__in=branch_ids) if branch_ids else rows.none()


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def _common_filters(rows: QuerySet, filters: dict, *, template_field: str) -> QuerySet:
    """Template, date (whole Beijing-time days, as a range on the indexed column) and branch."""
    if filters.get("template"):
        rows = rows.filter(**{f"{template_field}__code": filters["template"]})
    if start := _date(filters.get("date_from", "")):
        rows = rows.filter(created_at__gte=_day_start(start))
    if end := _date(filters.get("date_to", "")):
        rows = rows.filter(created_at__lt=_day_start(end + timedelta(days=1)))
    if str(filters.get("branch", "")).isdigit():
        rows = rows.filter(branch_id=int(filters["branch"]))
    return rows


# --- sorting: the lists' sortable columns (``sort`` in the URL, ``-`` for descending), whitelisted here -----------
# Every column is never empty, so the sort keeps the database's own NULL order and the created_at index serves it.

MESSAGE_COLUMNS = {"created": "创建时间", "status": "状态", "attempts": "次数"}
MESSAGE_SORT_FIELDS = {"created": ("created_at",), "status": ("status",), "attempts": ("attempts",)}
MESSAGE_SORT = "-created"
BATCH_COLUMNS = {"created": "创建时间", "name": "批次", "total": "总数"}
BATCH_SORT_FIELDS = {"created": ("created_at",), "name": ("name",), "total": ("total",)}
BATCH_SORT = "-created"


def _sorted(rows: QuerySet, sort: str, fields: dict, default: str, then: tuple = ()) -> QuerySet:
    """``rows`` in the order the URL's ``sort`` asks, by the rule every list follows (``core.listing``)."""
    return rows.order_by(*sort_order(sort, fields, default=default, then=then, nulls_last=False))


def message_list(*, filters: dict, user=None, sort: str | None = None) -> QuerySet[SmsMessage]:
    """Outbox rows matching ``filters`` (status, template, batch, date_from, date_to, branch, q = digits of
    the number), newest first or as ``sort`` says; with ``user``, only the branches that user may see."""
    rows = _scoped(SmsMessage.objects.select_related("template", "batch"), user)
    if filters.get("status") in SmsMessage.Status.values:
        rows = rows.filter(status=filters["status"])
    if str(filters.get("batch", "")).isdigit():
        rows = rows.filter(batch_id=int(filters["batch"]))
    if filters.get("q", "").isdigit():
        rows = rows.filter(recipient__contains=filters["q"])
    if filters.get("resendable") == "1":
        rows = resendable(rows)
    rows = _common_filters(rows, filters, template_field="template")
    return _sorted(rows, sort, MESSAGE_SORT_FIELDS, MESSAGE_SORT) if sort else rows.order_by("-id")


def batch_list(*, filters: dict | None = None, user=None, sort: str | None = None) -> QuerySet[SmsBatch]:
    """Batches matching ``filters`` (status, template, date_from, date_to, branch), newest first or as ``sort``
    says."""
    filters = filters or {}
    rows = _scoped(SmsBatch.objects.select_related("template", "created_by"), user)
    if filters.get("status") in SmsBatch.Status.values:
        rows = rows.filter(status=filters["status"])
    rows = _common_filters(rows, filters, template_field="template")
    return _sorted(rows, sort, BATCH_SORT_FIELDS, BATCH_SORT) if sort else rows.order_by("-id")


def batch_get(*, pk: int, user) -> SmsBatch:
    """One batch, or 404 when it does not exist or belongs to a branch ``user`` may not see."""
    batch = _scoped(SmsBatch.objects.select_related("template", "created_by"), user).filter(pk=pk).first()
    if batch is None:
        raise Http404("no such batch in the user's scope")
    return batch


def message_get(*, pk: int, user) -> SmsMessage:
    message = _scoped(SmsMessage.objects.all(), user).filter(pk=pk).first()
    if message is None:
        raise Http404("no such message in the user's scope")
    return message


def attach_progress(batches) -> None:
    """``batch.shown`` (counts per status, percent) for a page of batches, in one query for the page."""
    batches = list(batches)
    counts: dict[int, dict] = {batch.pk: {} for batch in batches}
    rows = (
        SmsMessage.objects.filter(batch_id__in=counts)
        .values_list("batch_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for batch_id, status, n in rows:
        counts[batch_id][status] = n
    for batch in batches:
        batch.shown = progress_from_counts(counts[batch.pk], total=batch.total)


def resendable_count(batch: SmsBatch) -> int:
    return resendable(batch.messages.all()).count()


def active_templates() -> QuerySet[MessageTemplate]:
    return MessageTemplate.objects.filter(active=True).order_by("code")


def sendable_template(code: str, *, name: str, to_do: str = "发送", then: str = "重试") -> MessageTemplate:
    """The active template ``code``; otherwise the error every sender shows, naming the template (``name``), what
    cannot be done and what to do once the information centre has enabled it."""
    template = MessageTemplate.objects.filter(code=code, active=True).first()
    if template is None:
        raise ApplicationError(
            f"短信模板“{name}”不存在或已停用，无法{to_do}；请信息中心在系统管理中启用后{then}。",
            code="template_missing",
        )
    return template


INBOX_COLUMNS = {"created": "时间", "unread": "状态"}
INBOX_SORT_FIELDS = {
    "created": ("created_at",),
    "unread": (Case(When(read_at__isnull=True, then=Value(0)), default=Value(1)),),
}
INBOX_SORT = "-created"


def inbox_for(user, *, sort: str | None = None) -> QuerySet[InboxNotification]:
    """The user's notifications, newest first, or as ``sort`` says (``unread``: the unread ones first)."""
    rows = InboxNotification.objects.filter(user=user)
    if not sort:
        return rows.order_by("-created_at", "-id")
    return _sorted(rows, sort, INBOX_SORT_FIELDS, INBOX_SORT, then=("-created_at",))


def unread_count(user) -> int:
    return InboxNotification.objects.filter(user=user, read_at__isnull=True).count()

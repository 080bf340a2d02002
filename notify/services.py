"""Writes of the notify app: enqueue SMS, record delivery reports, opt-outs, the in-app inbox.

Callers audit their own actions (notify cannot import accounts.audit); rows carry the actor's id.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from .models import InboxNotification, MessageTemplate, OptOut, SmsBatch, SmsMessage, SmsReport
from .text import InvalidMobile, MissingVariable, normalise_mobile, render

logger = logging.getLogger(__name__)
SHANGHAI = ZoneInfo("Asia/Shanghai")


class SmsRejected(ValueError):
    """A message that cannot be sent at all; ``code`` is stable (contract error codes), ``message`` Chinese."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# --- rules ---------------------------------------------------------------------------------
def quiet_window() -> tuple[time, time] | None:
    spec = (settings.SMS_QUIET_HOURS or "").strip()
    if not spec:
        return None
    start, end = (time.fromisoformat(part.strip()) for part in spec.split("-"))
    return start, end


def quiet_until(now: datetime) -> datetime | None:
    """When ``now`` falls in the quiet hours (default 21:00–08:00 Beijing time), the morning it ends; else None.

    Not a statute (protocols.md §5.2): bureau practice, so bulk notices do not wake taxpayers.
    """
    window = quiet_window()
    if window is None:
        return None
    start, end = window
    local = now.astimezone(SHANGHAI)
    clock = local.time()
    inside = (start <= clock or clock < end) if start > end else (start <= clock < end)
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=SHANGHAI)


def check_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise SmsRejected("empty_text", "短信内容为空")
    if len(text) > settings.SMS_MAX_LENGTH:
        raise SmsRejected("text_too_long", f"短信内容{len(text)}字，超过上限{settings.SMS_MAX_LENGTH}字（含签名）")
    return text


def check_mobile(raw: str) -> str:
    try:
        return normalise_mobile(raw)
    except InvalidMobile:
        raise SmsRejected("invalid_mobile", f"手机号码无效：{raw}") from None


def compose(*, template: MessageTemplate | None, text: str | None, variables: dict | None) -> str:
    if template is not None:
        if not template.active:
            raise SmsRejected("template_inactive", f"模板已停用：{template.code}")
        try:
            return check_text(render(template.body, variables or {}) + template.sign_text)
        except MissingVariable as exc:
            raise SmsRejected("missing_variable", f"模板变量缺失：{exc.args[0]}") from None
    return check_text(text or "")


def _kick_dispatcher():
    from .tasks import dispatch_outbox

    dispatch_outbox.delay()


# --- enqueue -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recipient:
    mobile: str
    variables: dict | None = None
    related_object: object | None = None
    related: str = ""


def _related_fields(related_object) -> dict:
    if related_object is None:
        return {}
    return {
        "related_content_type": ContentType.objects.get_for_model(related_object),
        "related_object_id": str(related_object.pk),
    }


@transaction.atomic
def sms_enqueue(
    *,
    to: str,
    idempotency_key: str,
    text: str | None = None,
    template: MessageTemplate | None = None,
    variables: dict | None = None,
    related_object=None,
    related: str = "",
    actor=None,
    now: datetime | None = None,
) -> SmsMessage:
    """Put one SMS in the outbox. The same ``idempotency_key`` again returns the existing row unchanged.

    Raises ``SmsRejected`` for a bad number or text; an opted-out number gives a cancelled row.
    """
    existing = SmsMessage.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    mobile = check_mobile(to)
    body = compose(template=template, text=text, variables=variables)
    now = now or timezone.now()
    fields = {
        "recipient": mobile,
        "text": body,
        "template": template,
        "related": related[:200],
        "created_by": actor,
        "next_attempt_at": quiet_until(now) or now,
        **_related_fields(related_object),
    }
    if OptOut.objects.filter(mobile=mobile).exists():
        fields.update(status=SmsMessage.Status.CANCELLED, error_code="opted_out", error_message="号码已退订",
                      finished_at=now)
    message, created = SmsMessage.objects.get_or_create(idempotency_key=idempotency_key, defaults=fields)
    if created and message.status == SmsMessage.Status.QUEUED:
        transaction.on_commit(_kick_dispatcher)
    return message


@transaction.atomic
def sms_batch_enqueue(
    *,
    name: str,
    template: MessageTemplate,
    recipients: list[Recipient],
    key_prefix: str,
    actor=None,
    now: datetime | None = None,
) -> SmsBatch:
    """One template to many recipients. Keys are ``<key_prefix>:<mobile>``: enqueuing the same batch
    twice adds no message. Invalid numbers become failed rows so the officer sees them in the batch."""
    now = now or timezone.now()
    batch = SmsBatch.objects.create(name=name, template=template, created_by=actor)
    opted = set(OptOut.objects.values_list("mobile", flat=True))
    due = quiet_until(now) or now
    rows = []
    for recipient in recipients:
        row = SmsMessage(batch=batch, template=template, created_by=actor, next_attempt_at=due,
                         related=recipient.related[:200], **_related_fields(recipient.related_object))
        try:
            row.recipient = check_mobile(recipient.mobile)
            row.text = compose(template=template, text=None, variables=recipient.variables)
        except SmsRejected as exc:
            row.recipient = str(recipient.mobile)[:32]
            row.text = template.body
            row.status, row.error_code, row.error_message, row.finished_at = "failed", exc.code, exc.message, now
        if row.status == "queued" and row.recipient in opted:
            row.status, row.error_code, row.error_message, row.finished_at = "cancelled", "opted_out", "号码已退订", now
        row.idempotency_key = f"{key_prefix}:{recipient.mobile}"
        rows.append(row)
    SmsMessage.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    batch.total = batch.messages.count()
    batch.save(update_fields=["total"])
    transaction.on_commit(_kick_dispatcher)
    return batch


@transaction.atomic
def sms_resend(*, message: SmsMessage, actor=None) -> SmsMessage:
    """Resend a failed message as a new outbox row (key ``<old key>:resend:<n>``); the failed row stays."""
    if message.status != SmsMessage.Status.FAILED:
        raise SmsRejected("not_failed", "只能重发发送失败的短信")
    n = SmsMessage.objects.filter(idempotency_key__startswith=f"{message.idempotency_key}:resend:").count() + 1
    # The text was rendered when first enqueued; resend that exact text, keep template and batch for filters.
    row = sms_enqueue(to=message.recipient, text=message.text, idempotency_key=f"{message.idempotency_key}:resend:{n}",
                      related=message.related, actor=actor)
    SmsMessage.objects.filter(pk=row.pk).update(
        template=message.template, batch=message.batch,
        related_content_type=message.related_content_type, related_object_id=message.related_object_id,
    )
    row.refresh_from_db()
    return row


@transaction.atomic
def opt_out_add(*, mobile: str, reason: str = "", actor=None) -> OptOut:
    number = check_mobile(mobile)
    entry, _ = OptOut.objects.get_or_create(mobile=number, defaults={"reason": reason, "created_by": actor})
    SmsMessage.objects.filter(recipient=number, status=SmsMessage.Status.QUEUED).update(
        status=SmsMessage.Status.CANCELLED,
        error_code="opted_out",
        error_message="号码已退订",
        finished_at=timezone.now(),
    )
    return entry


# --- delivery reports ----------------------------------------------------------------------
def parse_report_date(value) -> datetime | None:
    """``yyyyMMddHHmmss`` read leniently: hour 24 (seen in a real report) rolls over to the next day."""
    digits = "".join(ch for ch in str(value or "") if ch.isdigit())
    if len(digits) < 12:
        return None
    digits = digits.ljust(14, "0")[:14]
    try:
        year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:8])
        hour, minute, second = int(digits[8:10]), int(digits[10:12]), int(digits[12:14])
        base = datetime(year, month, day, tzinfo=SHANGHAI)
        if hour > 24 or minute > 59 or second > 60:
            return None
        return base + timedelta(hours=hour, minutes=minute, seconds=min(second, 59))
    except ValueError:
        return None


def report_is_delivered(item: dict) -> bool:
    """Sources disagree which field carries DELIVRD (protocols.md §1.7): either counts."""
    return str(item.get("errorCode", "")).upper() == "DELIVRD" or str(item.get("reportStatus", "")).upper() == "DELIVRD"


def _apply_report(message: SmsMessage, report: SmsReport) -> None:
    status = SmsMessage.Status.DELIVERED if report.delivered else SmsMessage.Status.FAILED
    code = "" if report.delivered else (report.error_code or report.report_status)
    SmsMessage.objects.filter(pk=message.pk).exclude(status=SmsMessage.Status.DELIVERED).update(
        status=status,
        report_status=(report.error_code if report.delivered else code)[:32],
        error_code=code[:64],
        error_message="" if report.delivered else f"状态报告：{code}",
        finished_at=report.receive_date or timezone.now(),
        lease_expires_at=None,
    )


@transaction.atomic
def record_reports(*, items: list[dict]) -> dict:
    """Store delivery reports and apply them to their messages (``msgGroup`` + ``mobile``).

    A report without its message yet is kept unmatched; the dispatcher matches it later.
    """
    matched = unmatched = 0
    for item in items:
        if not isinstance(item, dict):
            continue
        msg_group, mobile = str(item.get("msgGroup", "")), str(item.get("mobile", ""))
        message = (
            SmsMessage.objects.select_for_update()
            .filter(msg_group=msg_group, recipient=mobile)
            .exclude(msg_group="")
            .order_by("id")
            .first()
        )
        report = SmsReport.objects.create(
            message=message,
            msg_group=msg_group[:64],
            mobile=mobile[:32],
            report_status=str(item.get("reportStatus", ""))[:32],
            error_code=str(item.get("errorCode", ""))[:32],
            delivered=report_is_delivered(item),
            submit_date=parse_report_date(item.get("submitDate")),
            receive_date=parse_report_date(item.get("receiveDate")),
            raw=item,
        )
        if message is None:
            unmatched += 1
            continue
        matched += 1
        _apply_report(message, report)
    return {"matched": matched, "unmatched": unmatched}


def match_orphan_reports(*, msg_group: str | None = None) -> int:
    """Attach reports that arrived before their message recorded the gateway's batch id."""
    reports = SmsReport.objects.filter(message__isnull=True).exclude(msg_group="")
    if msg_group is not None:
        reports = reports.filter(msg_group=msg_group)
    done = 0
    for report in reports.order_by("id")[:5000]:
        message = SmsMessage.objects.filter(msg_group=report.msg_group, recipient=report.mobile).order_by("id").first()
        if message is None:
            continue
        with transaction.atomic():
            SmsReport.objects.filter(pk=report.pk).update(message=message)
            _apply_report(message, report)
        done += 1
    return done


# --- in-app inbox --------------------------------------------------------------------------
@transaction.atomic
def inbox_notify(*, users, title: str, body: str = "", link: str = "") -> list[InboxNotification]:
    """Tell officers something inside the application, e.g. "分局新候选名单 12 户" with the list's link."""
    rows = [InboxNotification(user=user, title=title[:200], body=body, link=link[:500]) for user in users]
    return InboxNotification.objects.bulk_create(rows)


def inbox_mark_read(*, user, ids: list[int] | None = None) -> int:
    """Mark the user's own notifications read (all unread when ``ids`` is None)."""
    rows = InboxNotification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return rows.update(read_at=timezone.now())

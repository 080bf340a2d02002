"""Writes of the notify app: enqueue SMS, record delivery reports, opt-outs, the in-app inbox.

How other apps call it (refund reminders, ledger bills, credit notices): inside their own service's
transaction, after writing their own audit event for the business action —

* ``sms_enqueue(to=…, text=… | template=…, variables=…, idempotency_key=…, related_object=…,
  branch_id=…, actor=…)`` for one message, or ``sms_batch_enqueue(name=…, template=…,
  recipients=[Recipient(mobile, variables, related_object=…, related=…, branch_id=…, key=…)],
  key_prefix=…, actor=…)`` for many.
* ``branch_id`` is the 分局 the message is about (``taxpayer.branch_id``): the service officer's lists
  filter by it and a branch-scoped reader sees only its own. notify stores the id and imports no
  branch model. When it is left out it is taken from ``related_object.branch_id`` if the related object
  has one (a ``Taxpayer`` does), so ``related_object=taxpayer`` is usually enough.
* ``idempotency_key`` names the business fact ("refund-bill:<ledger row id>"): enqueuing it again is a
  no-op, which makes a retried task safe.

Those calls write no audit event (the caller audits its own action). The actions taken in notify's own
pages — ``sms_batch_create``, ``sms_resend_failed``, ``sms_export_record`` — are audited here through
``notify.signals.audit_requested`` (accounts writes the event in the same transaction).
"""

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from .backends.mas import template_params
from .labels import report_error_message
from .models import InboxNotification, MessageTemplate, OptOut, SmsBatch, SmsMessage, SmsReport
from .reports import parse_report_date, report_fields, report_fingerprint, report_is_delivered
from .signals import audit_requested
from .text import (
    InvalidMobile,
    MissingVariable,
    display_body,
    mask_mobile,
    normalise_mobile,
    render,
    template_param_values,
)

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

    Not a statute (no statutory quiet hours exist for notices): bureau practice, so bulk notices do not wake
    taxpayers.
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
        # Masked: the message is shown in lists and exports, and a near-miss is still someone's number.
        raise SmsRejected("invalid_mobile", f"手机号码无效：{mask_mobile(str(raw or ''))}") from None


# Codes of rows refused before anything was sent (bad number, bad text): resending the same row cannot help.
REFUSED_AT_ENQUEUE = ("invalid_mobile", "empty_text", "text_too_long", "missing_variable", "template_inactive")


def compose(*, template: MessageTemplate | None, text: str | None, variables: dict | None) -> str:
    if template is not None:
        if not template.active:
            raise SmsRejected("template_inactive", f"模板已停用：{template.name}")
        try:
            return check_text(render(template.body, variables or {}) + template.sign_text)
        except MissingVariable as exc:
            raise SmsRejected("missing_variable", f"模板变量缺失：{exc.args[0]}") from None
    return check_text(text or "")


def gateway_template_fields(template: MessageTemplate | None, variables: dict | None) -> dict:
    """For a template registered on 云MAS: the template id and the ``params`` string sent by tmpsubmit.

    Taken when the message is enqueued, like its text, so a later edit of the template changes neither.
    """
    if template is None or not template.mas_template_id:
        return {}
    try:
        values = template_param_values(template.body, variables or {})
    except MissingVariable as exc:
        raise SmsRejected("missing_variable", f"模板变量缺失：{exc.args[0]}") from None
    return {"gateway_template_id": template.mas_template_id, "template_params": template_params(values)}


def _kick_dispatcher():
    from .tasks import dispatch_outbox

    dispatch_outbox.delay()


def _kick_dispatcher_after_commit() -> None:
    """One dispatcher pass per transaction, however many messages it queued (a list of 10,000 reminders)."""
    connection = transaction.get_connection()
    if any(callback is _kick_dispatcher for _savepoints, callback, _robust in connection.run_on_commit):
        return
    # Robust: with the broker down (Redis restarting) the messages are saved all the same and the officer's action
    # succeeds; the dispatcher's safety net (beat, every 5 minutes) or the next kick sends them.
    transaction.on_commit(_kick_dispatcher, robust=True)


def _audit(*, actor, verb: str, **fields) -> None:
    """An audit event for an action in notify's pages, written by accounts in this transaction."""
    if not audit_requested.has_listeners():
        raise RuntimeError("nothing receives notify.signals.audit_requested: notify's actions would go unaudited")
    audit_requested.send(sender=SmsMessage, actor=actor, verb=verb, **fields)


# --- enqueue -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recipient:
    """One addressee of a batch. ``key`` (optional) replaces the mobile in the message's idempotency key,
    e.g. the taxpayer's id when one number (an accountant's) receives a text for each of several taxpayers."""

    mobile: str
    variables: dict | None = None
    related_object: object | None = None
    related: str = ""
    branch_id: int | None = None
    key: str = ""


def _related_fields(related_object) -> dict:
    if related_object is None:
        return {}
    return {
        "related_content_type": ContentType.objects.get_for_model(related_object),
        "related_object_id": str(related_object.pk),
    }


def _branch_of(related_object, branch_id) -> int | None:
    """The explicit ``branch_id``, else the related object's own ``branch_id`` (a Taxpayer's), else none."""
    if branch_id is not None:
        return int(branch_id)
    value = getattr(related_object, "branch_id", None)
    return value if isinstance(value, int) else None


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
    branch_id: int | None = None,
) -> SmsMessage:
    """Put one SMS in the outbox. The same ``idempotency_key`` again returns the existing row unchanged.

    ``branch_id``: the 分局 of the taxpayer the message is about (see the module docstring); defaults to
    ``related_object.branch_id``. Raises ``SmsRejected`` for a bad number or text; an opted-out number
    gives a cancelled row. Held until the morning when enqueued in the quiet hours.
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
        "branch_id": _branch_of(related_object, branch_id),
        **gateway_template_fields(template, variables),
        **_related_fields(related_object),
    }
    if OptOut.objects.filter(mobile=mobile).exists():
        fields.update(status=SmsMessage.Status.CANCELLED, error_code="opted_out", error_message="号码已退订",
                      finished_at=now)
    message, created = SmsMessage.objects.get_or_create(idempotency_key=idempotency_key, defaults=fields)
    if created and message.status == SmsMessage.Status.QUEUED:
        _kick_dispatcher_after_commit()
    return message


def _batch_key_part(recipient: Recipient) -> str:
    if recipient.key:
        return str(recipient.key)
    try:
        return normalise_mobile(recipient.mobile)  # "138 0013 8000" and "13800138000" are one number
    except InvalidMobile:
        return str(recipient.mobile)


@transaction.atomic
def sms_batch_enqueue(
    *,
    name: str,
    template: MessageTemplate,
    recipients: list[Recipient],
    key_prefix: str,
    actor=None,
    now: datetime | None = None,
    branch_id: int | None = None,
    batch_key: str | None = None,
) -> SmsBatch:
    """One template to many recipients (短信批次). Keys are ``<key_prefix>:<mobile>`` (or
    ``<key_prefix>:<recipient.key>``): enqueuing the same batch twice adds no message. Invalid numbers
    become failed rows so the officer sees them in the batch.

    ``branch_id`` is the batch's 分局 when the whole batch is for one branch; each message takes its
    recipient's ``branch_id``, else its related object's, else the batch's. With ``batch_key`` the batch
    itself is idempotent: the same key again returns the first batch and adds nothing.
    """
    now = now or timezone.now()
    if batch_key is not None:
        existing = SmsBatch.objects.filter(key=batch_key).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            batch = SmsBatch.objects.create(
                name=name, template=template, created_by=actor, branch_id=branch_id, key=batch_key
            )
    except IntegrityError:  # another request created the same batch_key first (the unique index waited for it)
        return SmsBatch.objects.get(key=batch_key)
    opted = set(OptOut.objects.values_list("mobile", flat=True))
    due = quiet_until(now) or now
    rows, keys = [], set()
    for recipient in recipients:
        key = f"{key_prefix}:{_batch_key_part(recipient)}"
        if key in keys:
            continue
        keys.add(key)
        row = SmsMessage(
            batch=batch, template=template, created_by=actor, next_attempt_at=due, idempotency_key=key,
            related=recipient.related[:200], branch_id=_branch_of(recipient.related_object, recipient.branch_id),
            **_related_fields(recipient.related_object),
        )
        if row.branch_id is None:
            row.branch_id = branch_id
        try:
            row.recipient = check_mobile(recipient.mobile)
            row.text = compose(template=template, text=None, variables=recipient.variables)
            for field, value in gateway_template_fields(template, recipient.variables).items():
                setattr(row, field, value)
        except SmsRejected as exc:
            row.recipient = str(recipient.mobile)[:32]
            row.text = display_body(template.body)  # never sent: kept for the officer, in the officer's words
            row.status, row.error_code, row.error_message, row.finished_at = "failed", exc.code, exc.message, now
        if row.status == "queued" and row.recipient in opted:
            row.status, row.error_code, row.error_message, row.finished_at = "cancelled", "opted_out", "号码已退订", now
        rows.append(row)
    SmsMessage.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    batch.total = batch.messages.count()
    batch.save(update_fields=["total"])
    batch_refresh_status(batch_ids=[batch.pk])
    batch.refresh_from_db(fields=["status"])
    _kick_dispatcher_after_commit()
    return batch


@transaction.atomic
def sms_batch_create(
    *,
    actor,
    name: str,
    template: MessageTemplate,
    recipients: list[Recipient],
    batch_key: str,
    branch_id: int | None = None,
    now: datetime | None = None,
) -> SmsBatch:
    """A batch created by a service officer in 新建短信批次 (audited). ``batch_key`` comes from the preview the
    officer confirmed, so a second click on 确认发送 returns the same batch and sends nothing twice."""
    existing = SmsBatch.objects.filter(key=batch_key).first()
    if existing is not None:
        return existing
    batch = sms_batch_enqueue(name=name, template=template, recipients=recipients, key_prefix=batch_key,
                              actor=actor, now=now, branch_id=branch_id, batch_key=batch_key)
    counts = dict(batch.messages.values_list("status").annotate(n=Count("id")).order_by())
    due = quiet_until(now or timezone.now())
    summary = (
        f"创建短信批次「{name}」：共 {batch.total} 条（模板“{template.name}”），待发送 {counts.get('queued', 0)}，"
        f"号码或内容有误 {counts.get('failed', 0)}，已退订 {counts.get('cancelled', 0)}"
    )
    if due:
        summary += f"；静默时段，{timezone.localtime(due):%m-%d %H:%M} 开始发送"
    _audit(actor=actor, verb="send", object_type="notify.smsbatch", object_id=str(batch.pk), object_repr=name,
           summary=summary, changes={"status_counts": [None, counts]})
    return batch


def _copy_for_resend(message: SmsMessage, *, key: str, actor, due, opted: set, now) -> SmsMessage:
    """The new outbox row for a resend: the exact text (and gateway template) first rendered, same batch/branch."""
    row = SmsMessage(
        recipient=message.recipient, text=message.text, template_id=message.template_id, batch_id=message.batch_id,
        related_content_type_id=message.related_content_type_id, related_object_id=message.related_object_id,
        related=message.related, branch_id=message.branch_id, gateway_template_id=message.gateway_template_id,
        template_params=message.template_params, resend_of=message, idempotency_key=key, created_by=actor,
        next_attempt_at=due,
    )
    if message.recipient in opted:
        row.status, row.error_code, row.error_message, row.finished_at = "cancelled", "opted_out", "号码已退订", now
    return row


@transaction.atomic
def sms_resend(*, message: SmsMessage, actor=None) -> SmsMessage:
    """Resend a failed message as a new outbox row (key ``<old key>:resend:<n>``); the failed row stays.

    Not audited here: a caller in another app audits its own action; notify's pages use ``sms_resend_failed``.
    """
    if message.status != SmsMessage.Status.FAILED:
        raise SmsRejected("not_failed", "只能重发发送失败的短信")
    if message.error_code in REFUSED_AT_ENQUEUE:
        raise SmsRejected("not_sendable", f"该短信未发送（{message.error_message}），重发无法解决，请更正后重新发送")
    message = SmsMessage.objects.select_for_update().get(pk=message.pk)
    n = SmsMessage.objects.filter(idempotency_key__startswith=f"{message.idempotency_key}:resend:").count() + 1
    now = timezone.now()
    opted = set(OptOut.objects.filter(mobile=message.recipient).values_list("mobile", flat=True))
    row = _copy_for_resend(message, key=f"{message.idempotency_key}:resend:{n}", actor=actor,
                           due=quiet_until(now) or now, opted=opted, now=now)
    row.save()
    batch_refresh_status(batch_ids=[row.batch_id])
    if row.status == SmsMessage.Status.QUEUED:
        _kick_dispatcher_after_commit()
    return row


def _resend_originals(ids: list[int]) -> list[SmsMessage]:
    """The failed rows among ``ids`` that a resend can help and that were not resent yet, locked: a second
    officer resending the same rows at once waits here, then finds them resent."""
    locked = list(
        SmsMessage.objects.select_for_update()
        .filter(pk__in=ids, status=SmsMessage.Status.FAILED)
        .exclude(error_code__in=REFUSED_AT_ENQUEUE)
        .order_by("pk")
    )
    already = set(SmsMessage.objects.filter(resend_of__in=[m.pk for m in locked]).values_list("resend_of", flat=True))
    return [m for m in locked if m.pk not in already]


def _resend_summary(*, rows: list[SmsMessage], skipped: int, opted: set, reason: str) -> str:
    summary = f"重发失败短信 {len(rows)} 条"
    if skipped:
        summary += f"（另有 {skipped} 条不是发送失败、号码或内容有误或已重发，未重发）"
    if opted:
        summary += f"，其中 {sum(r.status == 'cancelled' for r in rows)} 条号码已退订被取消"
    return summary + f"；原因：{reason}"


def _resend_audit_target(batch_ids: set, rows: list[SmsMessage]) -> dict:
    """The audit event's object: the batch when every resent row belongs to the same one, else the messages."""
    if len(batch_ids) != 1 or None in batch_ids:
        return {"object_type": "notify.smsmessage", "object_id": "", "object_repr": f"{len(rows)} 条短信"}
    batch = SmsBatch.objects.get(pk=next(iter(batch_ids)))
    return {"object_type": "notify.smsbatch", "object_id": str(batch.pk), "object_repr": batch.name}


@transaction.atomic
def sms_resend_failed(*, messages, reason: str, actor, now: datetime | None = None) -> list[SmsMessage]:
    """重发失败短信 from notify's pages: every failed, not yet resent message among ``messages`` (a queryset or
    rows) becomes a new queued row; the failed rows stay as history. Audited: who, how many, why.

    Two officers resending the same rows at once: the originals are locked, then checked again, so the
    second finds them resent and skips them.
    """
    reason = (reason or "").strip()
    if not reason:
        raise SmsRejected("reason_required", "请填写重发原因")
    ids = list(messages.values_list("pk", flat=True)) if isinstance(messages, QuerySet) else [m.pk for m in messages]
    originals = _resend_originals(ids)
    if not originals:
        raise SmsRejected("nothing_to_resend",
                          "没有可重发的短信：只能重发发送失败且尚未重发过的短信（号码或内容有误的需更正后重新发送）")
    now = now or timezone.now()
    due = quiet_until(now) or now
    opted = set(OptOut.objects.filter(mobile__in={m.recipient for m in originals}).values_list("mobile", flat=True))
    rows = [_copy_for_resend(m, key=f"{m.idempotency_key}:resend:1", actor=actor, due=due, opted=opted, now=now)
            for m in originals]
    SmsMessage.objects.bulk_create(rows, batch_size=2000)
    batch_ids = {m.batch_id for m in originals}
    batch_refresh_status(batch_ids=batch_ids)
    _audit(
        actor=actor, verb="resend",
        **_resend_audit_target(batch_ids, rows),
        summary=_resend_summary(rows=rows, skipped=len(ids) - len(originals), opted=opted, reason=reason),
        changes={"resent": [[m.pk for m in originals], [r.pk for r in rows]], "reason": [None, reason]},
    )
    if any(r.status == SmsMessage.Status.QUEUED for r in rows):
        _kick_dispatcher_after_commit()
    return rows


@transaction.atomic
def sms_export_record(*, actor, description: str, row_count: int, query: str = "",
                      object_type: str = "notify.smsmessage") -> None:
    """Audit an export of notify's lists (verb ``export``), in the words of ``accounts.exports.record_export``."""
    summary = f"导出{description}（{row_count} 条）"
    if query:
        summary += f"；筛选条件：{query}"
    _audit(actor=actor, verb="export", object_type=object_type, object_repr=description, summary=summary)


def batch_refresh_status(*, batch_ids) -> None:
    """Keep ``SmsBatch.status`` in step with its messages: 排队中 until the dispatcher took one (rows refused
    at enqueue do not count), 已完成 when none is queued or sending. Called by whatever moved a batch's rows
    (enqueue, dispatcher, resend, opt-out)."""
    S = SmsMessage.Status
    for batch_id in {i for i in batch_ids if i}:
        rows = SmsMessage.objects.filter(batch_id=batch_id)
        if not rows.filter(status__in=(S.QUEUED, S.SENDING)).exists():
            status = SmsBatch.Status.DONE
        elif rows.filter(attempts__gt=0).exists():
            status = SmsBatch.Status.SENDING
        else:
            status = SmsBatch.Status.QUEUED
        SmsBatch.objects.filter(pk=batch_id).exclude(status=status).update(status=status)


@transaction.atomic
def opt_out_add(*, mobile: str, reason: str = "", actor=None) -> OptOut:
    number = check_mobile(mobile)
    entry, _ = OptOut.objects.get_or_create(mobile=number, defaults={"reason": reason, "created_by": actor})
    queued = SmsMessage.objects.filter(recipient=number, status=SmsMessage.Status.QUEUED)
    batch_ids = set(queued.exclude(batch__isnull=True).values_list("batch_id", flat=True))
    queued.update(
        status=SmsMessage.Status.CANCELLED,
        error_code="opted_out",
        error_message="号码已退订",
        finished_at=timezone.now(),
    )
    batch_refresh_status(batch_ids=batch_ids)
    return entry


# --- delivery reports ----------------------------------------------------------------------
def _apply_report(message: SmsMessage, report: SmsReport) -> None:
    status = SmsMessage.Status.DELIVERED if report.delivered else SmsMessage.Status.FAILED
    code = "" if report.delivered else (report.error_code or report.report_status)
    SmsMessage.objects.filter(pk=message.pk).exclude(status=SmsMessage.Status.DELIVERED).update(
        status=status,
        report_status=(report.error_code if report.delivered else code)[:32],
        error_code=code[:64],
        error_message="" if report.delivered else report_error_message(code),
        finished_at=report.receive_date or timezone.now(),
        lease_expires_at=None,
    )


def record_reports(*, items: list) -> dict:
    """Store delivery reports and apply them to their messages (``msgGroup`` + ``mobile``).

    Each report is stored on its own: a malformed one is counted as rejected and the others are kept; a report
    seen before (the same fingerprint: a replay or the gateway's retry) is counted as a duplicate and changes
    nothing. A report without its message yet is kept unmatched; the dispatcher matches it later.
    """
    counts = {"matched": 0, "unmatched": 0, "duplicate": 0, "rejected": 0}
    for item in items:
        fields = report_fields(item)
        if fields is None:
            counts["rejected"] += 1
            continue
        fingerprint = report_fingerprint(item)
        with transaction.atomic():
            if SmsReport.objects.filter(fingerprint=fingerprint).exists():
                counts["duplicate"] += 1
                continue
            message = (
                SmsMessage.objects.select_for_update()
                .filter(msg_group=fields["msgGroup"], recipient=fields["mobile"])
                .order_by("id")
                .first()
            )
            try:
                with transaction.atomic():
                    report = SmsReport.objects.create(
                        message=message,
                        msg_group=fields["msgGroup"],
                        mobile=fields["mobile"],
                        report_status=fields["reportStatus"],
                        error_code=fields["errorCode"],
                        delivered=report_is_delivered(fields),
                        submit_date=parse_report_date(item.get("submitDate")),
                        receive_date=parse_report_date(item.get("receiveDate")),
                        raw=item,
                        fingerprint=fingerprint,
                    )
            except IntegrityError:  # the same report pushed twice at once: the other request stored it
                counts["duplicate"] += 1
                continue
            if message is None:
                counts["unmatched"] += 1
                continue
            counts["matched"] += 1
            _apply_report(message, report)
    return counts


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

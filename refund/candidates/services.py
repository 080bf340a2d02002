"""Writes of the candidate lists (候选名单): build, notify, remind, the funnel, verification and coaching.

The routine: on each push date — the day after the filing deadline and the last working
day of the month — the refund section pushes the taxpayers who may qualify to each branch and to the service
section, which reminds them by SMS to file and apply. Every function here is safe to run twice: building is
guarded by unique constraints, notifying by a claim on ``notified_at``, reminding by one outbox idempotency key
per list item. Callers check permissions and scope; these functions check the business rules.

Beside it: ``push_dates`` (when), ``building`` (the build's steps), ``reminders`` and ``notices`` (who is reached
and what they are told, reads only), ``funnel`` (an item's stage) and ``routine`` (a whole push date and the beat
entries).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.audit import field_changes, record_event
from accounts.models import signed_in
from accounts.roles import RoleCode
from core.errors import ApplicationError, FileRejected
from core.masking import mask_identifier
from core.money import format_yuan
from core.periods import Period, format_period_cn
from notify.models import InboxNotification
from notify.services import SmsRejected, inbox_notify, sms_enqueue
from taxpayers.models import VatReturn

from ..models import (
    CLOSED_STAGES,
    OPEN_STAGES,
    CandidateCoaching,
    CandidateItem,
    CandidateList,
    ScreeningRun,
    UpperListEntry,
    UpperListImport,
)
from ..screening.decisions import period_input
from .building import BuildOutcome, build_lists, chunks
from .funnel import STAGE_SQL, stage_of
from .notices import list_link, officers, service_notice
from .push_dates import application_period_of, check_push_date
from .reminders import ReminderTarget, RemindOutcome, opted_out_numbers, reminder_target, reminder_template
from .risk import candidate_list_scan
from .selectors import items_of_list
from .upper_lists import read_upper_list

logger = structlog.get_logger(__name__)

Stage = CandidateItem.Stage
AUDIT_IDS_KEPT = 500


def _restage(item_ids: list[int]) -> None:
    for chunk in chunks(item_ids):
        CandidateItem.objects.filter(pk__in=chunk).update(stage=STAGE_SQL)


def _audit_ids(ids: list[int]) -> dict:
    return {"items": ids[:AUDIT_IDS_KEPT], "count": len(ids)}


# --- building ------------------------------------------------------------------------------------------------


def candidate_lists_build(*, actor, push_date: dt.date, run: ScreeningRun | None = None) -> BuildOutcome:
    """Build the push date's lists — one per branch and one for the service section — from the application
    period's latest succeeded screening run, merged with the higher bureau's lists for the date.

    The lists' taxpayers are scanned with the risk library in the same transaction (``candidate_list_scan``): a
    risky candidate stays on its list, flagged for the branch's 申请前调查.

    A push date that already has its lists returns them unchanged (a snapshot is never rebuilt); two builds
    racing meet the unique constraints and the loser returns the winner's lists.
    """
    check_push_date(push_date)
    period = application_period_of(push_date)
    existing = list(CandidateList.regular.filter(push_date=push_date).select_related("branch"))
    if existing:
        return BuildOutcome(push_date, period, existing, created=False)
    run = run or ScreeningRun.latest_succeeded(period)
    if run is None:
        raise ApplicationError(
            f"{format_period_cn(period)}尚无已完成的留抵退税筛查，无法生成 {push_date.isoformat()} 的候选名单；"
            "请先发起筛查，完成后再生成。",
            code="no_screening",
        )
    if run.application_period != period or run.status != ScreeningRun.Status.SUCCEEDED:
        raise ApplicationError(f"筛查 #{run.pk} 不是 {period} 已完成的筛查，不能用于生成该推送日的名单。")
    try:
        with transaction.atomic():
            lists = build_lists(actor=actor, push_date=push_date, period=period, run=run)
            # Scanned before anyone is told: the service list holds every branch's items.
            candidate_list_scan(candidate_list=lists[0], actor=actor)
    except IntegrityError:
        logger.info("candidate_lists_build_lost_race", push_date=push_date.isoformat())
        lists = list(CandidateList.regular.filter(push_date=push_date).select_related("branch"))
        return BuildOutcome(push_date, period, lists, created=False)
    return BuildOutcome(push_date, period, lists, created=True)


# --- the higher bureau's lists --------------------------------------------------------------------------------


class UpperListRejected(FileRejected):
    """The file has errors; ``errors`` lists them (row, column, value, reason), nothing was stored."""

    code = "upper_list_invalid"
    message_template = "校验未通过：共 {count} 处错误，未导入任何数据。请按错误明细修改文件后重新导入。"


@dataclass(frozen=True)
class UpperImportOutcome:
    upload: UpperListImport
    created: bool
    warnings: list[str]


def upper_list_import(*, actor, push_date: dt.date, source_name: str, uploaded_file) -> UpperImportOutcome:
    """Store a higher bureau's list for a push date whose lists are not built yet: all rows or none."""
    import hashlib
    from pathlib import Path

    check_push_date(push_date)
    source_name = (source_name or "").strip()
    if not source_name:
        raise ApplicationError("请填写下发单位，如“市税务局货物和劳务税处”。")
    built = CandidateList.regular.filter(push_date=push_date).order_by("built_at").first()
    if built is not None:
        raise ApplicationError(
            f"{push_date.isoformat()} 的候选名单已于 {timezone.localtime(built.built_at):%Y-%m-%d %H:%M} 推送，"
            "名单推送后不再更改；请并入下一个推送日。",
            code="already_pushed",
        )
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    sha256 = digest.hexdigest()
    same = UpperListImport.objects.filter(push_date=push_date, sha256=sha256).first()
    if same is not None:
        return UpperImportOutcome(same, created=False, warnings=[])
    uploaded_file.seek(0)
    check = read_upper_list(uploaded_file, uploaded_file.name or "")
    if not check.ok:
        raise UpperListRejected(check.errors, check.warnings)
    with transaction.atomic():
        upload = UpperListImport.objects.create(
            push_date=push_date,
            source_name=source_name[:100],
            original_name=Path(uploaded_file.name or "").name[:255],
            sha256=sha256,
            row_count=len(check.rows),
            created_by=actor,
        )
        UpperListEntry.objects.bulk_create(
            [
                UpperListEntry(
                    upload=upload, row=row.row, taxpayer_id=row.taxpayer_id, amount=row.amount, note=row.note
                )
                for row in check.rows
            ],
            batch_size=1000,
        )
        record_event(
            actor=actor,
            verb="upper_list_import",
            target=upload,
            summary=(
                f"导入上级下发名单“{upload.original_name}”（{source_name}）：{len(check.rows)} 户，"
                f"并入 {push_date.isoformat()} 推送"
            ),
            changes={"push_date": push_date.isoformat(), "rows": len(check.rows), "sha256": sha256},
        )
    return UpperImportOutcome(upload, created=True, warnings=check.warnings)


# --- in-app notification -------------------------------------------------------------------------------------


def candidate_lists_notify(*, push_date: dt.date) -> int:
    """Tell each branch's officers about their (non-empty) list and the service section about the whole date.

    Each list is claimed (``notified_at`` set by a conditional UPDATE) in the transaction that writes its inbox
    rows, so a second call — or a second worker — writes nothing.
    """
    written = 0
    for lst in CandidateList.regular.filter(push_date=push_date, notified_at__isnull=True).select_related("branch"):
        with transaction.atomic():
            if not CandidateList.objects.filter(pk=lst.pk, notified_at__isnull=True).update(notified_at=timezone.now()):
                continue
            if lst.item_count == 0:
                continue
            period_cn = format_period_cn(lst.application_period)
            amount = format_yuan(lst.refundable_total)
            if lst.is_service_list:
                users = officers(RoleCode.SERVICE_OFFICER)
                title, body = service_notice(lst)
            else:
                users = officers(RoleCode.BRANCH_OFFICER, branch_id=lst.branch_id)
                title = f"{lst.push_date.isoformat()} 候选名单：{lst.branch.name} {lst.item_count} 户"
                body = (
                    f"申请所属期 {period_cn}，新增 {lst.new_count} 户，上级下发 {lst.upper_count} 户，"
                    f"可退税额合计 {amount} 元。请在“我的候选名单”中做申请前调查和辅导。"
                )
            if users:
                inbox_notify(users=users, title=title, body=body, link=list_link(lst))
                written += len(users)
            record_event(
                actor=None,
                verb="candidate_list_notify",
                target=lst,
                summary=f"站内通知 {len(users)} 人：{title}",
                changes={"users": [user.pk for user in users]},
            )
    return written


def candidate_reminders_notify(*, candidate_list: CandidateList) -> int:
    """After the automatic reminders: tell the service section what they did (a notice of the same words as the
    push date's). The same notice is never written twice to the same officer, so a repeated run adds nothing."""
    title, body = service_notice(candidate_list)
    link = list_link(candidate_list)
    with transaction.atomic():
        users = [
            user
            for user in officers(RoleCode.SERVICE_OFFICER)
            if not InboxNotification.objects.filter(user=user, title=title[:200], body=body, link=link).exists()
        ]
        if not users:
            return 0
        inbox_notify(users=users, title=title, body=body, link=link)
        record_event(
            actor=None,
            verb="candidate_list_notify",
            target=candidate_list,
            summary=f"站内通知 {len(users)} 人：{title}",
            changes={"users": [user.pk for user in users]},
        )
    return len(users)


# --- SMS reminders ---------------------------------------------------------------------------------------------


def _enqueue_reminder(
    *, item: CandidateItem, target: ReminderTarget, template, actor, now
) -> tuple[object | None, str]:
    """Put the item's reminder for ``target`` in the outbox (an opted-out number gives the outbox's cancelled row,
    the record that it was not sent and why)."""
    taxpayer = item.taxpayer
    variables = {
        "taxpayer_name": taxpayer.name,
        "period": format_period_cn(item.application_period),
        "branch_name": item.branch.name,
    }
    try:
        message = sms_enqueue(
            to=target.mobile,
            idempotency_key=f"refund-candidate-item:{item.pk}:reminder",
            template=template,
            variables=variables,
            related_object=item,
            related=f"候选名单 {item.push_date.isoformat()} {mask_identifier(taxpayer.identifier)}",
            actor=signed_in(actor),
            now=now,
        )
    except SmsRejected as exc:
        if exc.code == "template_inactive":
            raise ApplicationError(f"短信模板已停用：{exc.message}。请信息中心启用后重试。") from None
        return None, exc.message[:200]
    return message, ""


def candidate_list_remind(*, actor, candidate_list: CandidateList) -> RemindOutcome:
    """SMS every item of the list ``reminder_target`` allows: open, not yet reminded, to the legal
    representative, else the tax handler. An item without a valid number gets the reason in its 提醒 column.

    One outbox key per list item, and the items marked in the same transaction: never twice for the same
    taxpayer and list, however often it is clicked or scheduled.
    """
    template = reminder_template()
    now = timezone.now()
    with transaction.atomic():
        items = list(
            items_of_list(candidate_list)
            .select_related("taxpayer", "branch")
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        opted = opted_out_numbers(items)
        enqueued = unreachable = skipped = 0
        changed = []
        for item in items:
            target = reminder_target(item, opted_out=opted)
            if target.code in ("already", "tried", "closed"):
                skipped += 1
                continue
            if target.mobile:
                message, error = _enqueue_reminder(item=item, target=target, template=template, actor=actor, now=now)
            else:
                message, error = None, target.reason
            item.reminder_error = error
            if message is not None:
                item.reminder_sms = message
                if message.status in ("failed", "cancelled"):
                    item.reminder_error = (message.error_message or "短信未能发出")[:200]
                    unreachable += 1
                else:
                    item.reminded_at = now
                    enqueued += 1
            else:
                unreachable += 1
            item.stage = stage_of(item)
            item.updated_at = now
            changed.append(item)
        if not changed:
            return RemindOutcome(enqueued=0, unreachable=0, skipped=skipped)
        CandidateItem.objects.bulk_update(
            changed, ["reminder_sms", "reminded_at", "reminder_error", "stage", "updated_at"], batch_size=500
        )
        record_event(
            actor=actor,
            verb="candidate_remind",
            target=candidate_list,
            summary=f"发送候选名单提醒短信：{enqueued} 户已进入发件箱，{unreachable} 户无法发送（{candidate_list}）",
            changes={"enqueued": enqueued, "unreachable": unreachable, **_audit_ids([i.pk for i in changed])},
        )
    return RemindOutcome(enqueued=enqueued, unreachable=unreachable, skipped=skipped)


# --- the funnel as data arrives ----------------------------------------------------------------------------------


def candidate_items_mark_declared(*, taxpayer_ids: list[int] | None = None) -> int:
    """Items whose return (``return_period``) is now on file move to 已申报; called after each returns import.

    Only open items not yet declared are looked at: few, since most candidates have filed when they are pushed.
    """
    items = CandidateItem.objects.filter(declared_at__isnull=True, stage__in=[Stage.LISTED, Stage.REMINDED]).filter(
        Exists(VatReturn.objects.filter(taxpayer_id=OuterRef("taxpayer_id"), period=OuterRef("return_period")))
    )
    if taxpayer_ids is not None:
        items = items.filter(taxpayer_id__in=taxpayer_ids)
    ids = list(items.values_list("pk", flat=True))
    if not ids:
        return 0
    now = timezone.now()
    with transaction.atomic():
        for chunk in chunks(ids):
            CandidateItem.objects.filter(pk__in=chunk, declared_at__isnull=True).update(declared_at=now, updated_at=now)
        _restage_audited(
            ids,
            actor=None,
            verb="candidate_items_declared",
            summary=f"{len(ids)} 户候选纳税人已完成申报（申报表已导入）",
        )
    return len(ids)


def candidate_items_mark_applied(
    *, taxpayer_ids, application_period: Period | str, applied_at: dt.datetime | None = None, actor=None
) -> int:
    """Refund applications arrived (called by the applications code): the period's items move to 已申请."""
    return _mark_fact("applied_at", taxpayer_ids, period_input(application_period), when=applied_at, actor=actor)


def candidate_items_mark_refunded(
    *, taxpayer_ids, application_period: Period | str, refunded_at: dt.datetime | None = None, actor=None
) -> int:
    """Refunds were paid (called by the ledger code): the period's items move to 已退税 (and count as applied)."""
    return _mark_fact("refunded_at", taxpayer_ids, period_input(application_period), when=refunded_at, actor=actor)


# the fact's timestamp field → (audit verb, what the audit summary says happened)
_FACTS = {
    "applied_at": ("candidate_items_applied", "已提交留抵退税申请"),
    "refunded_at": ("candidate_items_refunded", "已退税"),
}


def _mark_fact(field: str, taxpayer_ids, period: Period, *, when: dt.datetime | None, actor) -> int:
    verb, label = _FACTS[field]
    taxpayer_ids = list(taxpayer_ids)
    when = when or timezone.now()
    now = timezone.now()
    ids: list[int] = []
    for chunk in chunks(taxpayer_ids):
        ids.extend(
            CandidateItem.objects.filter(
                application_period=period, taxpayer_id__in=chunk, **{f"{field}__isnull": True}
            ).values_list("pk", flat=True)
        )
    if not ids:
        return 0
    with transaction.atomic():
        for chunk in chunks(ids):
            rows = CandidateItem.objects.filter(pk__in=chunk)
            if field == "refunded_at":
                rows.filter(applied_at__isnull=True).update(applied_at=when)
            rows.filter(**{f"{field}__isnull": True}).update(**{field: when, "updated_at": now})
        _restage_audited(
            ids, actor=actor, verb=verb, summary=f"{len(ids)} 条候选名单条目{label}（申请所属期 {period}）"
        )
    return len(ids)


def _restage_audited(ids: list[int], *, actor, verb: str, summary: str) -> None:
    """A funnel fact landed on these items: recompute their stages and write one audit row for all of them."""
    _restage(ids)
    record_event(
        actor=actor,
        verb=verb,
        object_type="refund.candidateitem",
        object_repr="候选名单条目",
        summary=summary,
        changes=_audit_ids(ids),
    )


# --- what branch officers record ----------------------------------------------------------------------------------

_ITEM_AUDIT_FIELDS = (
    "stage", "closed_as", "closed_reason", "verification", "verification_note", "verified_on", "verified_by",
)  # fmt: skip


def _snapshot(item: CandidateItem) -> dict:
    return {name: getattr(item, name) for name in _ITEM_AUDIT_FIELDS}


def _locked(item: CandidateItem) -> CandidateItem:
    return CandidateItem.objects.select_for_update().select_related("taxpayer").get(pk=item.pk)


def _required(text: str, message: str, *, field: str) -> str:
    """The stripped text, or the officer is told what to fill in."""
    text = (text or "").strip()
    if not text:
        raise ApplicationError(message, extra={"field": field})
    return text


def _close(item: CandidateItem, *, closed_as: str, actor, reason: str) -> None:
    """The four closing fields move together (放弃申请 or 核实不符合)."""
    item.closed_as, item.closed_at, item.closed_by, item.closed_reason = closed_as, timezone.now(), actor, reason[:500]


def _clear_closing(item: CandidateItem) -> None:
    item.closed_as, item.closed_at, item.closed_by, item.closed_reason = "", None, None, ""


def _save_audited(item: CandidateItem, before: dict, actor, verb: str, summary: Callable[[CandidateItem], str]) -> None:
    """Restage and save an item changed under its lock, with its audit row in the same transaction; the summary
    is written after the restage, so it can name the new stage."""
    item.stage = stage_of(item)
    item.save()
    record_event(
        actor=actor,
        verb=verb,
        target=item,
        summary=summary(item),
        changes=field_changes(before, _snapshot(item), _ITEM_AUDIT_FIELDS),
    )


def candidate_item_verify(*, actor, item: CandidateItem, result: str, note: str, verified_on: dt.date) -> CandidateItem:
    """申请前调查: record the officer's finding; 核实不符合 (with the reason) closes the item, 核实符合 reopens
    an item an earlier finding had closed."""
    note = (note or "").strip()
    if result not in CandidateItem.Verification.values:
        raise ApplicationError("请选择调查结论：核实符合或核实不符合。", extra={"field": "result"})
    if result == CandidateItem.Verification.INELIGIBLE and not note:
        raise ApplicationError(
            "核实不符合时请填写原因（如：存在虚开风险、期末留抵税额有误）。", extra={"field": "note"}
        )
    if verified_on > timezone.localdate():
        raise ApplicationError("调查日期不能晚于今天。", extra={"field": "verified_on"})
    with transaction.atomic():
        item = _locked(item)
        if item.stage in (Stage.APPLIED, Stage.REFUNDED) and result == CandidateItem.Verification.INELIGIBLE:
            raise ApplicationError("该纳税人已提交申请，不能再登记为核实不符合；请在申请审核中处理。")
        before = _snapshot(item)
        item.verification, item.verification_note, item.verified_on = result, note[:500], verified_on
        item.verified_by = actor
        if result == CandidateItem.Verification.INELIGIBLE:
            _close(item, closed_as=Stage.INELIGIBLE, actor=actor, reason=note)
        elif item.closed_as == Stage.INELIGIBLE:
            _clear_closing(item)
        _save_audited(
            item,
            before,
            actor,
            "candidate_item_verify",
            lambda item: (
                f"申请前调查：{item.taxpayer.name} {item.get_verification_display()}" + (f"（{note}）" if note else "")
            ),
        )
    return item


def candidate_item_decline(*, actor, item: CandidateItem, reason: str) -> CandidateItem:
    """The taxpayer chose to keep the credit for later (放弃申请，继续留抵): closes the item with the reason."""
    reason = _required(reason, "请填写纳税人放弃申请的原因（如：留抵税额用于后期抵扣）。", field="reason")
    with transaction.atomic():
        item = _locked(item)
        if item.stage not in OPEN_STAGES:
            raise ApplicationError(f"该条目当前为“{item.get_stage_display()}”，不能登记为放弃申请。")
        before = _snapshot(item)
        _close(item, closed_as=Stage.DECLINED, actor=actor, reason=reason)
        _save_audited(
            item, before, actor, "candidate_item_decline", lambda item: f"{item.taxpayer.name} 放弃申请：{reason}"
        )
    return item


def candidate_item_reopen(*, actor, item: CandidateItem, reason: str) -> CandidateItem:
    """Undo a decline or an ineligible finding recorded by mistake; the reason is kept in the audit log."""
    reason = _required(reason, "请填写恢复的原因。", field="reason")
    with transaction.atomic():
        item = _locked(item)
        if item.stage not in CLOSED_STAGES:
            raise ApplicationError("只有放弃申请或核实不符合的条目可以恢复。")
        before = _snapshot(item)
        if item.closed_as == Stage.INELIGIBLE:
            item.verification = ""
        _clear_closing(item)
        _save_audited(
            item,
            before,
            actor,
            "candidate_item_reopen",
            lambda item: f"{item.taxpayer.name} 恢复为“{item.get_stage_display()}”：{reason}",
        )
    return item


def candidate_item_coach(
    *, actor, item: CandidateItem, topic: str, notes: str, coached_on: dt.date
) -> CandidateCoaching:
    """一对一辅导: one coaching record on the item."""
    topic, notes = _required(topic, "请填写辅导主题（如：留抵退税申请表填报）。", field="topic"), (notes or "").strip()
    if coached_on > timezone.localdate():
        raise ApplicationError("辅导日期不能晚于今天。", extra={"field": "coached_on"})
    with transaction.atomic():
        coaching = CandidateCoaching.objects.create(
            item=item, topic=topic[:100], notes=notes, coached_on=coached_on, officer=actor
        )
        record_event(
            actor=actor,
            verb="candidate_item_coach",
            target=item,
            summary=f"一对一辅导 {coached_on.isoformat()}：{topic}",
            changes={"coaching": coaching.pk, "topic": topic[:100], "coached_on": coached_on.isoformat()},
        )
    return coaching


# --- a whole push date ---------------------------------------------------------------------------------------------

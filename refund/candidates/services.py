"""Writes of the candidate lists (候选名单): build, notify, remind, the funnel, verification and coaching.

The routine (DESIGN.md step 3): on each push date — the day after the filing deadline and the last working
day of the month — the refund section pushes the taxpayers who may qualify to each branch and to the service
section, which reminds them by SMS to file and apply. Every function here is safe to run twice: building is
guarded by unique constraints, notifying by a claim on ``notified_at``, reminding by one outbox idempotency key
per list item. Callers check permissions and scope; these functions check the business rules.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

import structlog
from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.audit import field_changes, record_event
from accounts.models import Branch, User
from accounts.roles import RoleCode
from core.errors import ApplicationError
from core.masking import mask_identifier
from core.money import format_yuan
from core.periods import Period, format_period_cn
from notify.models import InboxNotification, MessageTemplate, OptOut
from notify.services import SmsRejected, check_mobile, inbox_notify, sms_enqueue
from taxpayers.calendar import CalendarUnavailable, deadline_for
from taxpayers.models import Taxpayer, VatReturn

from ..models import (
    CLOSED_STAGES,
    OPEN_STAGES,
    CandidateCoaching,
    CandidateItem,
    CandidateList,
    CandidateSettings,
    ScreeningRun,
    UpperListEntry,
    UpperListImport,
)
from ..screening.case_builder import tax_period_of
from ..screening.services import period_input, screening_run_execute, screening_run_start
from .push_dates import push_dates
from .upper_lists import read_upper_list

logger = structlog.get_logger(__name__)

Stage = CandidateItem.Stage
REMINDER_TEMPLATE_CODE = "refund_candidate_reminder"
REMINDER_TEMPLATE_NAME = "留抵退税候选纳税人提醒"  # as seeded (migration 0005); named so when it is missing
AUTO_REMIND_AT = dt.time(9, 0)  # the beat entry refund-push-date-auto-remind (config/schedules.py)
# Items whose taxpayer already applied, was refunded, declined or was found ineligible are not pushed again in
# the same application period (unless a higher bureau's list names them).
DONE_STAGES = (Stage.APPLIED, Stage.REFUNDED, Stage.DECLINED, Stage.INELIGIBLE)
CHUNK = 2000
AUDIT_IDS_KEPT = 500


class NotAPushDate(ApplicationError):
    code = "not_a_push_date"


# --- push dates ---------------------------------------------------------------------------------------------


def month_push_dates(year: int, month: int) -> list[dt.date]:
    """The month's push dates (raises ``CalendarUnavailable`` past the holiday data)."""
    deadline, _source = deadline_for(year, month)
    return push_dates(year, month, deadline)


def is_push_date(day: dt.date) -> bool:
    return day in month_push_dates(day.year, day.month)


def check_push_date(day: dt.date) -> None:
    dates = month_push_dates(day.year, day.month)
    if day not in dates:
        shown = "、".join(d.isoformat() for d in dates)
        raise NotAPushDate(f"{day.isoformat()} 不是候选名单推送日；{day.year}年{day.month}月的推送日为 {shown}。")


def latest_push_date(today: dt.date) -> dt.date:
    """The latest push date on or before ``today`` (this month's, else last month's month-end push)."""
    earlier = [d for d in month_push_dates(today.year, today.month) if d <= today]
    if earlier:
        return earlier[-1]
    previous = Period.of(today).minus(1)
    return month_push_dates(previous.year, previous.month)[-1]


def upcoming_push_dates(today: dt.date, *, count: int = 4) -> list[dt.date]:
    """Push dates from ``today`` on (this month and the next ones), as far as the holiday data reaches."""
    found: list[dt.date] = []
    period = Period.of(today)
    for _ in range(4):
        try:
            found.extend(d for d in month_push_dates(period.year, period.month) if d >= today)
        except CalendarUnavailable:
            break
        period = period.plus(1)
        if len(found) >= count:
            break
    return found[:count]


def application_period_of(push_date: dt.date) -> Period:
    """A push date's lists are for applications filed in that month."""
    return Period.of(push_date)


# --- the funnel's stage --------------------------------------------------------------------------------------


def stage_of(item: CandidateItem) -> str:
    """Facts beat intentions: an application or a refund wins over a decline; a decline over the data stages."""
    if item.refunded_at:
        return Stage.REFUNDED
    if item.applied_at:
        return Stage.APPLIED
    if item.closed_as:
        return item.closed_as
    if item.declared_at:
        return Stage.DECLARED
    if item.reminded_at:
        return Stage.REMINDED
    return Stage.LISTED


STAGE_SQL = Case(
    When(refunded_at__isnull=False, then=Value(Stage.REFUNDED)),
    When(applied_at__isnull=False, then=Value(Stage.APPLIED)),
    When(~Q(closed_as=""), then=F("closed_as")),
    When(declared_at__isnull=False, then=Value(Stage.DECLARED)),
    When(reminded_at__isnull=False, then=Value(Stage.REMINDED)),
    default=Value(Stage.LISTED),
)


def _restage(item_ids: list[int]) -> None:
    for start in range(0, len(item_ids), CHUNK):
        CandidateItem.objects.filter(pk__in=item_ids[start : start + CHUNK]).update(stage=STAGE_SQL)


def _audit_ids(ids: list[int]) -> dict:
    return {"items": ids[:AUDIT_IDS_KEPT], "count": len(ids)}


# --- building ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildOutcome:
    push_date: dt.date
    application_period: Period
    lists: list[CandidateList]
    created: bool

    @property
    def service_list(self) -> CandidateList | None:
        return next((lst for lst in self.lists if lst.is_service_list), None)

    @property
    def item_count(self) -> int:
        service = self.service_list
        return service.item_count if service else 0


_RESULT_FIELDS = (
    "pk", "taxpayer_id", "regime", "eligible", "error_code", "failed_mask", "current_credit",
    "refundable_incremental", "refundable_stock", "refundable_total",
)  # fmt: skip
_CARRIED_FIELDS = (
    "declared_at", "applied_at", "refunded_at", "closed_as", "closed_at", "closed_by_id", "closed_reason",
    "verification", "verification_note", "verified_on", "verified_by_id",
)  # fmt: skip


def _chunks(values: list, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def candidate_lists_build(*, actor, push_date: dt.date, run: ScreeningRun | None = None) -> BuildOutcome:
    """Build the push date's lists — one per branch and one for the service section — from the application
    period's latest succeeded screening run, merged with the higher bureau's lists for the date.

    A push date that already has its lists returns them unchanged (a snapshot is never rebuilt); two builds
    racing meet the unique constraints and the loser returns the winner's lists.
    """
    check_push_date(push_date)
    period = application_period_of(push_date)
    existing = list(CandidateList.objects.filter(push_date=push_date).select_related("branch"))
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
            lists = _build(actor=actor, push_date=push_date, period=period, run=run)
    except IntegrityError:
        logger.info("candidate_lists_build_lost_race", push_date=push_date.isoformat())
        lists = list(CandidateList.objects.filter(push_date=push_date).select_related("branch"))
        return BuildOutcome(push_date, period, lists, created=False)
    return BuildOutcome(push_date, period, lists, created=True)


def _upper_entries(push_date: dt.date) -> dict[int, dict]:
    """taxpayer id → amount and note of the latest import naming it, and every source's name."""
    merged: dict[int, dict] = {}
    entries = (
        UpperListEntry.objects.filter(upload__push_date=push_date)
        .order_by("upload__created_at", "upload_id", "row")
        .values("taxpayer_id", "amount", "note", "upload__source_name")
    )
    for entry in entries:
        slot = merged.setdefault(entry["taxpayer_id"], {"amount": None, "note": "", "sources": []})
        if entry["amount"] is not None:
            slot["amount"] = entry["amount"]
        if entry["note"]:
            slot["note"] = entry["note"]
        if entry["upload__source_name"] not in slot["sources"]:
            slot["sources"].append(entry["upload__source_name"])
    return merged


def _earlier_items(period: Period, push_date: dt.date) -> dict[int, dict]:
    """For each taxpayer pushed earlier in the application period: the first push date and the latest item."""
    earlier: dict[int, dict] = {}
    rows = (
        CandidateItem.objects.filter(application_period=period, push_date__lt=push_date)
        .order_by("push_date", "pk")
        .values("taxpayer_id", "push_date", "stage", *_CARRIED_FIELDS)
    )
    for row in rows:
        first = earlier.get(row["taxpayer_id"], {}).get("first_listed_on", row["push_date"])
        earlier[row["taxpayer_id"]] = {**row, "first_listed_on": first}
    return earlier


def _build(*, actor, push_date: dt.date, period: Period, run: ScreeningRun) -> list[CandidateList]:
    now = timezone.now()
    screened = {
        row["taxpayer_id"]: row
        for row in run.results.filter(eligible=True, refundable_total__gt=0).values(*_RESULT_FIELDS)
    }
    upper = _upper_entries(push_date)
    results = dict(screened)
    for chunk in _chunks([pk for pk in upper if pk not in results]):
        results.update(
            {row["taxpayer_id"]: row for row in run.results.filter(taxpayer_id__in=chunk).values(*_RESULT_FIELDS)}
        )
    earlier = _earlier_items(period, push_date)
    chosen = [pk for pk in screened if pk in upper or earlier.get(pk, {}).get("stage") not in DONE_STAGES] + [
        pk for pk in upper if pk not in screened
    ]

    taxpayers: dict[int, dict] = {}
    for chunk in _chunks(chosen):
        taxpayers.update(
            {
                row["pk"]: row
                for row in Taxpayer.objects.filter(pk__in=chunk).values("pk", "branch_id", "filing_frequency")
            }
        )
    return_period = {pk: tax_period_of(period, row["filing_frequency"]) for pk, row in taxpayers.items()}
    filed: set[tuple[int, Period]] = set()
    for chunk in _chunks(list(taxpayers)):
        filed.update(
            VatReturn.objects.filter(taxpayer_id__in=chunk, period__in=set(return_period.values())).values_list(
                "taxpayer_id", "period"
            )
        )

    branch_ids = set(Branch.objects.filter(kind=Branch.Kind.BRANCH).values_list("pk", flat=True))
    branch_ids |= {row["branch_id"] for row in taxpayers.values()}
    service_list = CandidateList.objects.create(
        push_date=push_date,
        application_period=period,
        audience=CandidateList.Audience.SERVICE,
        screening_run=run,
        built_by=actor,
    )
    branch_lists = {
        branch.pk: CandidateList.objects.create(
            push_date=push_date,
            application_period=period,
            audience=CandidateList.Audience.BRANCH,
            branch=branch,
            screening_run=run,
            built_by=actor,
        )
        for branch in Branch.objects.filter(pk__in=branch_ids).order_by("sort_order", "code")
    }

    items = []
    for pk in chosen:
        taxpayer = taxpayers.get(pk)
        if taxpayer is None:  # deleted since the run
            continue
        result = results.get(pk)
        previous = earlier.get(pk)
        extra = upper.get(pk)
        source = CandidateItem.Source.SCREENING
        if extra:
            source = CandidateItem.Source.BOTH if pk in screened else CandidateItem.Source.UPPER
        item = CandidateItem(
            candidate_list=branch_lists[taxpayer["branch_id"]],
            push_date=push_date,
            application_period=period,
            branch_id=taxpayer["branch_id"],
            taxpayer_id=pk,
            screening_result_id=result["pk"] if result else None,
            source=source,
            regime=result["regime"] if result else "",
            eligible=result["eligible"] if result else None,
            error_code=result["error_code"] if result else "",
            failed_mask=result["failed_mask"] if result else 0,
            current_credit=result["current_credit"] if result else None,
            refundable_incremental=result["refundable_incremental"] if result else Decimal("0"),
            refundable_stock=result["refundable_stock"] if result else Decimal("0"),
            refundable_total=result["refundable_total"] if result else Decimal("0"),
            upper_amount=extra["amount"] if extra else None,
            upper_note=(extra["note"] if extra else "")[:500],
            upper_source="、".join(extra["sources"])[:200] if extra else "",
            previously_listed=previous is not None,
            first_listed_on=previous["first_listed_on"] if previous else push_date,
            return_period=return_period[pk],
        )
        if previous:
            for name in _CARRIED_FIELDS:
                setattr(item, name, previous[name])
        if item.declared_at is None and (pk, item.return_period) in filed:
            item.declared_at = now
        item.stage = stage_of(item)
        items.append(item)
    items.sort(key=lambda i: (-i.refundable_total, i.taxpayer_id))
    CandidateItem.objects.bulk_create(items, batch_size=1000)

    totals: dict[int, dict] = defaultdict(lambda: {"n": 0, "new": 0, "upper": 0, "amount": Decimal("0")})
    for item in items:
        for key in (item.branch_id, None):
            slot = totals[key]
            slot["n"] += 1
            slot["new"] += 0 if item.previously_listed else 1
            slot["upper"] += 1 if item.source != CandidateItem.Source.SCREENING else 0
            slot["amount"] += item.refundable_total
    lists = [service_list, *branch_lists.values()]
    for lst in lists:
        slot = totals[lst.branch_id]
        lst.item_count, lst.new_count, lst.upper_count, lst.refundable_total = (
            slot["n"],
            slot["new"],
            slot["upper"],
            slot["amount"],
        )
    CandidateList.objects.bulk_update(lists, ["item_count", "new_count", "upper_count", "refundable_total"])
    service = totals[None]
    record_event(
        actor=actor,
        verb="candidate_lists_build",
        target=service_list,
        summary=(
            f"生成 {push_date.isoformat()} 候选名单（申请所属期 {period}，依据筛查 #{run.pk}）："
            f"分局名单 {len(branch_lists)} 份，候选 {service['n']} 户（新增 {service['new']} 户，"
            f"上级下发 {service['upper']} 户），可退税额合计 {format_yuan(service['amount'])} 元"
        ),
        changes={"push_date": push_date.isoformat(), "run": run.pk, "items": service["n"], "lists": len(lists)},
    )
    logger.info("candidate_lists_built", push_date=push_date.isoformat(), items=service["n"], lists=len(lists))
    return lists


# --- the higher bureau's lists --------------------------------------------------------------------------------


class UpperListRejected(ApplicationError):
    """The file has errors; ``errors`` lists them (row, column, value, reason), nothing was stored."""

    code = "upper_list_invalid"

    def __init__(self, errors, warnings=()):
        super().__init__(f"校验未通过：共 {len(errors)} 处错误，未导入任何数据。请按错误明细修改文件后重新导入。")
        self.errors = list(errors)
        self.warnings = list(warnings)


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
    built = CandidateList.objects.filter(push_date=push_date).order_by("built_at").first()
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


def _officers(role: RoleCode, *, branch_id: int | None = None):
    users = User.objects.filter(is_active=True, groups__name=role.value)
    if branch_id is not None:
        users = users.filter(branch_id=branch_id)
    return list(users.distinct().order_by("pk"))


def _list_link(candidate_list: CandidateList) -> str:
    try:
        return reverse("refund:candidate_list_detail", args=[candidate_list.pk])
    except NoReverseMatch:  # pragma: no cover - the URLconf always has it
        return ""


def candidate_lists_notify(*, push_date: dt.date) -> int:
    """Tell each branch's officers about their (non-empty) list and the service section about the whole date.

    Each list is claimed (``notified_at`` set by a conditional UPDATE) in the transaction that writes its inbox
    rows, so a second call — or a second worker — writes nothing.
    """
    written = 0
    for lst in CandidateList.objects.filter(push_date=push_date, notified_at__isnull=True).select_related("branch"):
        with transaction.atomic():
            if not CandidateList.objects.filter(pk=lst.pk, notified_at__isnull=True).update(notified_at=timezone.now()):
                continue
            if lst.item_count == 0:
                continue
            period_cn = format_period_cn(lst.application_period)
            amount = format_yuan(lst.refundable_total)
            if lst.is_service_list:
                users = _officers(RoleCode.SERVICE_OFFICER)
                title, body = _service_notice(lst)
            else:
                users = _officers(RoleCode.BRANCH_OFFICER, branch_id=lst.branch_id)
                title = f"{lst.push_date.isoformat()} 候选名单：{lst.branch.name} {lst.item_count} 户"
                body = (
                    f"申请所属期 {period_cn}，新增 {lst.new_count} 户，上级下发 {lst.upper_count} 户，"
                    f"可退税额合计 {amount} 元。请在“我的候选名单”中做申请前调查和辅导。"
                )
            if users:
                inbox_notify(users=users, title=title, body=body, link=_list_link(lst))
                written += len(users)
            record_event(
                actor=None,
                verb="candidate_list_notify",
                target=lst,
                summary=f"站内通知 {len(users)} 人：{title}",
                changes={"users": [user.pk for user in users]},
            )
    return written


@dataclass(frozen=True)
class ReminderState:
    """Where the reminders of a list stand, for the service section's notice."""

    reminded_auto: int  # reminded by the automatic run (no officer)
    reminded_by_officer: int
    not_sent: int  # the number has opted out, or the outbox refused the reminder: none is sent
    waiting: int  # open, not reminded, with a mobile number: one click (or the 09:00 run) reminds them
    without_mobile: int  # open, not reminded, no valid mobile number on file


def reminder_state(candidate_list: CandidateList) -> ReminderState:
    items = items_of_list(candidate_list)
    reminded = items.filter(reminded_at__isnull=False)
    auto = reminded.filter(reminder_sms__created_by__isnull=True).count()
    preview = candidate_list_remind_preview(candidate_list=candidate_list)
    return ReminderState(
        reminded_auto=auto,
        reminded_by_officer=reminded.count() - auto,
        not_sent=items.filter(reminded_at__isnull=True, reminder_sms__isnull=False).count() + preview.opted_out,
        waiting=preview.remindable,
        without_mobile=preview.without_mobile,
    )


def _auto_remind_pending(push_date: dt.date) -> bool:
    """The 09:00 run will still remind this push date's list: enabled, and 09:00 of that day not yet passed."""
    due = timezone.make_aware(dt.datetime.combine(push_date, AUTO_REMIND_AT))
    return CandidateSettings.load().auto_remind and timezone.now() < due


def _service_notice(candidate_list: CandidateList) -> tuple[str, str]:
    """The service section's notice of a push date: how many were reminded (automatically or by an officer), how
    many still wait, and the action only when some wait — never "请发送提醒短信" for a list already reminded."""
    state = reminder_state(candidate_list)
    pending = state.waiting and _auto_remind_pending(candidate_list.push_date)
    heads = [f"全局 {candidate_list.item_count:,} 户"]
    lines = [
        f"申请所属期 {format_period_cn(candidate_list.application_period)}，新增 {candidate_list.new_count:,} 户，"
        f"上级下发 {candidate_list.upper_count:,} 户，可退税额合计 {format_yuan(candidate_list.refundable_total)} 元。"
    ]
    if state.reminded_auto:
        heads.append(f"已自动提醒 {state.reminded_auto:,} 户")
        lines.append(f"已自动向 {state.reminded_auto:,} 户发送提醒短信。")
    if state.reminded_by_officer:
        heads.append(f"已手动提醒 {state.reminded_by_officer:,} 户")
        lines.append(f"纳税服务股已向 {state.reminded_by_officer:,} 户发送提醒短信。")
    if state.not_sent:
        lines.append(f"{state.not_sent:,} 户的号码已退订或被拒收，提醒短信未发出，如需提醒请电话联系。")
    if pending:
        heads.append(f"{state.waiting:,} 户将于 {AUTO_REMIND_AT:%H:%M} 自动提醒")
        lines.append(
            f"已开启自动提醒：今日 {AUTO_REMIND_AT:%H:%M} 将自动向 {state.waiting:,} 户发送提醒短信，无需手动发送。"
        )
    elif state.waiting:
        heads.append(f"{state.waiting:,} 户待提醒")
        lines.append(f"还有 {state.waiting:,} 户待提醒，请在候选名单中向其发送提醒短信。")
    if state.without_mobile:
        lines.append(
            f"{state.without_mobile:,} 户未登记手机号码或号码无效，无法发送短信，请补录号码后发送或电话联系。"
        )
    if not (state.waiting or state.without_mobile):
        lines.append("没有待提醒的纳税人，无需再发送提醒短信。")
    return f"{candidate_list.push_date.isoformat()} 候选名单：{'，'.join(heads)}", "".join(lines)


def candidate_reminders_notify(*, candidate_list: CandidateList) -> int:
    """After the automatic reminders: tell the service section what they did (a notice of the same words as the
    push date's). The same notice is never written twice to the same officer, so a repeated run adds nothing."""
    title, body = _service_notice(candidate_list)
    link = _list_link(candidate_list)
    with transaction.atomic():
        users = [
            user
            for user in _officers(RoleCode.SERVICE_OFFICER)
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


def items_of_list(candidate_list: CandidateList):
    """A branch list's own items; the service section's list is every item of its push date."""
    if candidate_list.is_service_list:
        return CandidateItem.objects.filter(push_date=candidate_list.push_date)
    return CandidateItem.objects.filter(candidate_list=candidate_list)


REMINDABLE_STAGES = (Stage.LISTED, Stage.DECLARED)
"""Open items not yet applied: a reminder is about applying, so an applied, refunded or closed item gets none."""


@dataclass(frozen=True)
class ReminderTarget:
    """Whether a candidate item can be reminded now, and to which number (``reminder_target``)."""

    mobile: str = ""  # the number the reminder goes to ("" when there is none)
    who: str = ""  # 法定代表人 | 办税人
    code: str = ""  # why not: already, tried, closed, no_mobile, invalid_mobile, opted_out ("" when it can be)
    reason: str = ""  # the same in Chinese, the same sentence for every item blocked the same way


def reminder_target(item: CandidateItem, *, opted_out: Collection[str]) -> ReminderTarget:
    """The reminder's one precondition, used by the confirmation's count and by the sending: an item is reminded
    once, while open (``REMINDABLE_STAGES``), on the legal representative's mobile, else the tax handler's (an
    invalid number is passed over), unless the number chosen has opted out (退订). ``opted_out``: the opted-out
    numbers among the items' (``_opted_out``)."""
    if item.reminded_at is not None:
        return ReminderTarget(code="already", reason="已提醒过，不再重复发送")
    if item.reminder_sms_id is not None:  # tried: the outbox cancelled or refused it (its reason in 提醒)
        return ReminderTarget(code="tried", reason="提醒短信未能发出（号码已退订或被拒收），不再重复发送")
    if item.stage not in REMINDABLE_STAGES:
        return ReminderTarget(code="closed", reason="已申请、已退税、放弃或核实不符合，不需提醒")
    taxpayer = item.taxpayer
    blocked = ReminderTarget(code="no_mobile", reason="未登记法定代表人或办税人的手机号码")
    for who, raw in (("法定代表人", taxpayer.legal_rep_mobile), ("办税人", taxpayer.tax_handler_mobile)):
        if not raw:
            continue
        try:
            mobile = check_mobile(raw)
        except SmsRejected:
            blocked = ReminderTarget(code="invalid_mobile", reason=f"{who}手机号码无效")
            continue
        if mobile in opted_out:
            return ReminderTarget(mobile, who, "opted_out", f"{who}手机号码已退订")
        return ReminderTarget(mobile, who)
    return blocked


def _opted_out(items: list[CandidateItem]) -> set[str]:
    """The opted-out numbers among the items' taxpayers' mobiles: one query."""
    numbers = set()
    for item in items:
        for raw in (item.taxpayer.legal_rep_mobile, item.taxpayer.tax_handler_mobile):
            if not raw:
                continue
            try:
                numbers.add(check_mobile(raw))
            except SmsRejected:
                continue
    return set(OptOut.objects.filter(mobile__in=numbers).values_list("mobile", flat=True)) if numbers else set()


@dataclass(frozen=True)
class RemindPreview:
    total: int
    remindable: int  # can be reminded now (``reminder_target``)
    without_mobile: int  # open, not reminded, no valid mobile number
    already: int
    opted_out: int = 0  # open, not reminded, the number has opted out
    reasons: tuple[tuple[str, int], ...] = ()  # why the others will not be reminded, grouped (reason, count)

    @property
    def blocked(self) -> int:
        return self.total - self.remindable


def candidate_list_remind_preview(*, candidate_list: CandidateList) -> RemindPreview:
    """What one click would do, for the confirmation ("将向 N 户发送") and the list's button: counts only, no
    writes, by the same ``reminder_target`` as the sending."""
    items = list(items_of_list(candidate_list).select_related("taxpayer").order_by("pk"))
    opted = _opted_out(items)
    codes: dict[str, int] = {}
    reasons: dict[str, int] = {}
    for item in items:
        target = reminder_target(item, opted_out=opted)
        codes[target.code] = codes.get(target.code, 0) + 1
        if target.code:
            reasons[target.reason] = reasons.get(target.reason, 0) + 1
    return RemindPreview(
        total=len(items),
        remindable=codes.get("", 0),
        without_mobile=codes.get("no_mobile", 0) + codes.get("invalid_mobile", 0),
        already=codes.get("already", 0) + codes.get("tried", 0),
        opted_out=codes.get("opted_out", 0),
        reasons=tuple(reasons.items()),
    )


@dataclass(frozen=True)
class RemindOutcome:
    enqueued: int
    unreachable: int
    skipped: int  # already reminded, or no longer open


def reminder_template() -> MessageTemplate:
    template = MessageTemplate.objects.filter(code=REMINDER_TEMPLATE_CODE).first()
    if template is None or not template.active:
        raise ApplicationError(
            f"短信模板“{REMINDER_TEMPLATE_NAME}”不存在或已停用，无法发送提醒；请信息中心在系统管理中启用后重试。",
            code="template_missing",
        )
    return template


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
            actor=actor if getattr(actor, "is_authenticated", False) else None,
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
        opted = _opted_out(items)
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


def candidate_auto_remind(*, today: dt.date | None = None) -> RemindOutcome | None:
    """The 09:00 beat entry: remind the day's service list, only when an administrator enabled it."""
    today = today or timezone.localdate()
    if not CandidateSettings.load().auto_remind:
        return None
    try:
        if not is_push_date(today):
            return None
    except CalendarUnavailable:
        logger.warning("candidate_auto_remind_no_calendar", day=today.isoformat())
        return None
    service = CandidateList.objects.filter(push_date=today, audience=CandidateList.Audience.SERVICE).first()
    if service is None:
        logger.warning("candidate_auto_remind_no_lists", day=today.isoformat())
        return None
    outcome = candidate_list_remind(actor=None, candidate_list=service)
    candidate_reminders_notify(candidate_list=service)
    return outcome


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
        for chunk in _chunks(ids):
            CandidateItem.objects.filter(pk__in=chunk, declared_at__isnull=True).update(declared_at=now, updated_at=now)
        _restage(ids)
        record_event(
            actor=None,
            verb="candidate_items_declared",
            object_type="refund.candidateitem",
            object_repr="候选名单条目",
            summary=f"{len(ids)} 户候选纳税人已完成申报（申报表已导入）",
            changes=_audit_ids(ids),
        )
    return len(ids)


def candidate_items_mark_applied(
    *, taxpayer_ids, application_period: Period | str, applied_at: dt.datetime | None = None, actor=None
) -> int:
    """Refund applications arrived (called by the applications code): the period's items move to 已申请."""
    return _mark_fact(
        taxpayer_ids=taxpayer_ids,
        application_period=application_period,
        when=applied_at,
        actor=actor,
        field="applied_at",
        verb="candidate_items_applied",
        label="已提交留抵退税申请",
    )


def candidate_items_mark_refunded(
    *, taxpayer_ids, application_period: Period | str, refunded_at: dt.datetime | None = None, actor=None
) -> int:
    """Refunds were paid (called by the ledger code): the period's items move to 已退税 (and count as applied)."""
    return _mark_fact(
        taxpayer_ids=taxpayer_ids,
        application_period=application_period,
        when=refunded_at,
        actor=actor,
        field="refunded_at",
        verb="candidate_items_refunded",
        label="已退税",
    )


def _mark_fact(*, taxpayer_ids, application_period, when, actor, field: str, verb: str, label: str) -> int:
    period = period_input(application_period)
    taxpayer_ids = list(taxpayer_ids)
    when = when or timezone.now()
    now = timezone.now()
    ids: list[int] = []
    for chunk in _chunks(taxpayer_ids):
        ids.extend(
            CandidateItem.objects.filter(
                application_period=period, taxpayer_id__in=chunk, **{f"{field}__isnull": True}
            ).values_list("pk", flat=True)
        )
    if not ids:
        return 0
    with transaction.atomic():
        for chunk in _chunks(ids):
            rows = CandidateItem.objects.filter(pk__in=chunk)
            if field == "refunded_at":
                rows.filter(applied_at__isnull=True).update(applied_at=when)
            rows.filter(**{f"{field}__isnull": True}).update(**{field: when, "updated_at": now})
        _restage(ids)
        record_event(
            actor=actor,
            verb=verb,
            object_type="refund.candidateitem",
            object_repr="候选名单条目",
            summary=f"{len(ids)} 条候选名单条目{label}（申请所属期 {period}）",
            changes=_audit_ids(ids),
        )
    return len(ids)


# --- what branch officers record ----------------------------------------------------------------------------------

_ITEM_AUDIT_FIELDS = (
    "stage", "closed_as", "closed_reason", "verification", "verification_note", "verified_on", "verified_by",
)  # fmt: skip


def _snapshot(item: CandidateItem) -> dict:
    return {name: getattr(item, name) for name in _ITEM_AUDIT_FIELDS}


def _locked(item: CandidateItem) -> CandidateItem:
    return CandidateItem.objects.select_for_update().select_related("taxpayer").get(pk=item.pk)


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
        now = timezone.now()
        if result == CandidateItem.Verification.INELIGIBLE:
            item.closed_as, item.closed_at, item.closed_by, item.closed_reason = (
                Stage.INELIGIBLE,
                now,
                actor,
                note[:500],
            )
        elif item.closed_as == Stage.INELIGIBLE:
            item.closed_as, item.closed_at, item.closed_by, item.closed_reason = "", None, None, ""
        item.stage = stage_of(item)
        item.save()
        record_event(
            actor=actor,
            verb="candidate_item_verify",
            target=item,
            summary=f"申请前调查：{item.taxpayer.name} {item.get_verification_display()}"
            + (f"（{note}）" if note else ""),
            changes=field_changes(before, _snapshot(item), _ITEM_AUDIT_FIELDS),
        )
    return item


def candidate_item_decline(*, actor, item: CandidateItem, reason: str) -> CandidateItem:
    """The taxpayer chose to keep the credit for later (放弃申请，继续留抵): closes the item with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("请填写纳税人放弃申请的原因（如：留抵税额用于后期抵扣）。", extra={"field": "reason"})
    with transaction.atomic():
        item = _locked(item)
        if item.stage not in OPEN_STAGES:
            raise ApplicationError(f"该条目当前为“{item.get_stage_display()}”，不能登记为放弃申请。")
        before = _snapshot(item)
        item.closed_as, item.closed_at, item.closed_by, item.closed_reason = (
            Stage.DECLINED,
            timezone.now(),
            actor,
            reason[:500],
        )
        item.stage = stage_of(item)
        item.save()
        record_event(
            actor=actor,
            verb="candidate_item_decline",
            target=item,
            summary=f"{item.taxpayer.name} 放弃申请：{reason}",
            changes=field_changes(before, _snapshot(item), _ITEM_AUDIT_FIELDS),
        )
    return item


def candidate_item_reopen(*, actor, item: CandidateItem, reason: str) -> CandidateItem:
    """Undo a decline or an ineligible finding recorded by mistake; the reason is kept in the audit log."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("请填写恢复的原因。", extra={"field": "reason"})
    with transaction.atomic():
        item = _locked(item)
        if item.stage not in CLOSED_STAGES:
            raise ApplicationError("只有放弃申请或核实不符合的条目可以恢复。")
        before = _snapshot(item)
        if item.closed_as == Stage.INELIGIBLE:
            item.verification = ""
        item.closed_as, item.closed_at, item.closed_by, item.closed_reason = "", None, None, ""
        item.stage = stage_of(item)
        item.save()
        record_event(
            actor=actor,
            verb="candidate_item_reopen",
            target=item,
            summary=f"{item.taxpayer.name} 恢复为“{item.get_stage_display()}”：{reason}",
            changes=field_changes(before, _snapshot(item), _ITEM_AUDIT_FIELDS),
        )
    return item


def candidate_item_coach(
    *, actor, item: CandidateItem, topic: str, notes: str, coached_on: dt.date
) -> CandidateCoaching:
    """一对一辅导: one coaching record on the item."""
    topic, notes = (topic or "").strip(), (notes or "").strip()
    if not topic:
        raise ApplicationError("请填写辅导主题（如：留抵退税申请表填报）。", extra={"field": "topic"})
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


@dataclass(frozen=True)
class PushDateOutcome:
    push_date: dt.date
    application_period: Period
    run_id: int | None
    screened: bool  # a screening run was executed for this push date
    lists_created: bool
    lists: int
    items: int
    notifications: int
    reminders: RemindOutcome | None


def _fresh_run(period: Period, push_date: dt.date) -> ScreeningRun | None:
    """A succeeded run of the period started on the push date's eve or later (the 22:00 or the 02:00 run)."""
    eve = timezone.make_aware(dt.datetime.combine(push_date - dt.timedelta(days=1), dt.time()))
    return (
        ScreeningRun.objects.filter(
            application_period=period, status=ScreeningRun.Status.SUCCEEDED, created_at__gte=eve
        )
        .order_by("-finished_at", "-pk")
        .first()
    )


def push_date_screening(
    *, actor, push_date: dt.date, timeout_seconds: float = 6 * 3600, poll_seconds: float = 5
) -> tuple[ScreeningRun, bool]:
    """The run the push date's lists rest on: a fresh one if it exists, else one started and executed here
    (or, if a worker claimed it first, waited for). Returns (run, executed here or waited for)."""
    period = application_period_of(push_date)
    fresh = _fresh_run(period, push_date)
    if fresh is not None:
        return fresh, False
    trigger = ScreeningRun.Trigger.USER if getattr(actor, "is_authenticated", False) else ScreeningRun.Trigger.SCHEDULE
    run = screening_run_start(
        actor=actor if trigger == ScreeningRun.Trigger.USER else None,
        application_period=period,
        application_date=push_date,
        triggered_by=trigger,
    )
    if run.status == ScreeningRun.Status.PENDING:
        screening_run_execute(run_id=run.pk)
    deadline = time.monotonic() + timeout_seconds
    run.refresh_from_db()
    while not run.is_finished:
        if time.monotonic() > deadline:
            raise ApplicationError(f"筛查 #{run.pk} 超过 {int(timeout_seconds)} 秒仍未完成，请稍后重试。")
        time.sleep(poll_seconds)
        run.refresh_from_db()
    if run.status != ScreeningRun.Status.SUCCEEDED:
        raise ApplicationError(f"筛查 #{run.pk} 失败：{run.message or '原因不明'}", code="screening_failed")
    return run, True


def push_date_run(*, actor, push_date: dt.date, remind: bool = True) -> PushDateOutcome:
    """A whole push date end to end: screen if needed, build, notify, remind. A second run changes nothing."""
    check_push_date(push_date)
    period = application_period_of(push_date)
    run, screened = None, False
    if not CandidateList.objects.filter(push_date=push_date).exists():
        run, screened = push_date_screening(actor=actor, push_date=push_date)
    build = candidate_lists_build(actor=actor, push_date=push_date, run=run)
    reminders = None
    try:
        if remind and build.service_list is not None:
            reminders = candidate_list_remind(actor=actor, candidate_list=build.service_list)
    finally:  # reminders first, so the service section's notice says what was done; it is written even if they fail
        notifications = candidate_lists_notify(push_date=push_date)
    service = build.service_list
    return PushDateOutcome(
        push_date=push_date,
        application_period=period,
        run_id=service.screening_run_id if service else None,
        screened=screened,
        lists_created=build.created,
        lists=len(build.lists),
        items=build.item_count,
        notifications=notifications,
        reminders=reminders,
    )


def push_eve_screening(*, today: dt.date | None = None) -> ScreeningRun | None:
    """The 22:00 beat entry: when tomorrow is a push date, start its screening so a finished run exists by 07:30
    even if the 02:00 run is late."""
    today = today or timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    try:
        if not is_push_date(tomorrow):
            return None
    except CalendarUnavailable:
        logger.warning("push_eve_screening_no_calendar", day=tomorrow.isoformat())
        return None
    return screening_run_start(
        actor=None,
        application_period=application_period_of(tomorrow),
        application_date=tomorrow,
        triggered_by=ScreeningRun.Trigger.SCHEDULE,
    )


def push_date_scheduled(*, today: dt.date | None = None) -> PushDateOutcome | None:
    """The 07:30 beat entry: on a push date, screen if needed, build and notify (reminders follow at 09:00 when
    enabled, or on a service officer's click)."""
    today = today or timezone.localdate()
    try:
        if not is_push_date(today):
            return None
    except CalendarUnavailable:
        logger.warning("push_date_no_calendar", day=today.isoformat())
        return None
    return push_date_run(actor=None, push_date=today, remind=False)

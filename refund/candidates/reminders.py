"""Who a candidate list's reminder SMS can reach, and where a list's reminders stand (reads, no writes).

An item is reminded once, while open and not yet applied, on the legal representative's mobile, else the tax
handler's; never on a number that opted out (退订). ``candidate_list_remind`` sends by the same
``reminder_target`` the confirmation counts with, so the count shown is the count sent.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from notify.models import MessageTemplate, OptOut
from notify.selectors import sendable_template
from notify.services import SmsRejected, check_mobile

from ..models import CandidateItem, CandidateList
from .selectors import items_of_list

Stage = CandidateItem.Stage
REMINDER_TEMPLATE_CODE = "refund_candidate_reminder"
REMINDER_TEMPLATE_NAME = "留抵退税候选纳税人提醒"  # as seeded (migration 0005); named so when it is missing


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
    numbers among the items' (``opted_out_numbers``)."""
    if item.reminded_at is not None:
        return ReminderTarget(code="already", reason="已提醒过，不再重复发送")
    if item.reminder_sms_id is not None:  # tried: the outbox cancelled or refused it (its reason in 提醒)
        return ReminderTarget(code="tried", reason="提醒短信未能发出（号码已退订或被拒收），不再重复发送")
    if item.stage not in REMINDABLE_STAGES:
        return ReminderTarget(code="closed", reason="已申请、已退税、放弃或核实不符合，不需提醒")
    return taxpayer_target(item.taxpayer, opted_out=opted_out)


def taxpayer_target(taxpayer, *, opted_out: Collection[str]) -> ReminderTarget:
    """The number an SMS about ``taxpayer`` goes to: the legal representative's mobile, else the tax handler's (an
    invalid number is passed over), unless the number chosen has opted out (退订)."""
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


def opted_out_numbers(items: list[CandidateItem]) -> set[str]:
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
    opted = opted_out_numbers(items)
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
    return sendable_template(REMINDER_TEMPLATE_CODE, name=REMINDER_TEMPLATE_NAME, to_do="发送提醒")

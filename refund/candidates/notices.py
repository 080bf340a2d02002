"""The in-app notices of a push date: who gets them and what they say (reads and words, no writes).

The service section's notice says how many were reminded (automatically or by an officer), how many still wait,
and asks for the reminders only when some wait — never "请发送提醒短信" for a list already reminded.
"""

from __future__ import annotations

import datetime as dt

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import RoleCode
from core.money import format_yuan
from core.periods import format_period_cn

from ..models import CandidateList, CandidateSettings
from .reminders import reminder_state

AUTO_REMIND_AT = dt.time(9, 0)  # the beat entry refund-push-date-auto-remind (config/schedules.py)


def officers(role: RoleCode, *, branch_id: int | None = None):
    users = User.objects.filter(is_active=True, groups__name=role.value)
    if branch_id is not None:
        users = users.filter(branch_id=branch_id)
    return list(users.distinct().order_by("pk"))


def list_link(candidate_list: CandidateList) -> str:
    try:
        return reverse("refund:candidate_list_detail", args=[candidate_list.pk])
    except NoReverseMatch:  # pragma: no cover - the URLconf always has it
        return ""


def _auto_remind_pending(push_date: dt.date) -> bool:
    """The 09:00 run will still remind this push date's list: enabled, and 09:00 of that day not yet passed."""
    due = timezone.make_aware(dt.datetime.combine(push_date, AUTO_REMIND_AT))
    return CandidateSettings.load().auto_remind and timezone.now() < due


def service_notice(candidate_list: CandidateList) -> tuple[str, str]:
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

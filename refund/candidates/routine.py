"""A whole push date end to end, and the beat entries that run it (config/schedules.py).

22:00 the eve: start the screening the lists will rest on. 07:30: on a push date, screen if needed, build and
notify. 09:00: the automatic reminders, when 候选名单设置 enables them. Each is safe to run twice.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import structlog
from django.utils import timezone

from core.errors import ApplicationError
from core.periods import Period
from taxpayers.calendar import CalendarUnavailable

from ..models import CandidateList, CandidateSettings, ScreeningRun
from ..screening.services import screening_run_execute, screening_run_start
from .push_dates import application_period_of, check_push_date, is_push_date
from .reminders import RemindOutcome
from .services import (
    candidate_list_remind,
    candidate_lists_build,
    candidate_lists_notify,
    candidate_reminders_notify,
)

logger = structlog.get_logger(__name__)


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
    service = CandidateList.regular.filter(push_date=today, audience=CandidateList.Audience.SERVICE).first()
    if service is None:
        logger.warning("candidate_auto_remind_no_lists", day=today.isoformat())
        return None
    outcome = candidate_list_remind(actor=None, candidate_list=service)
    candidate_reminders_notify(candidate_list=service)
    return outcome


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
    if not CandidateList.regular.filter(push_date=push_date).exists():
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

"""When candidate lists are pushed (候选名单推送日), the one place that computes it.

The filing calendar's rule: the day after the month's filing deadline, moved to the next working day if it is a
rest day, and the last working day of the month; one date when both coincide. Everything that asks for a push
date — the build, the beat entries, the pages, ``push_date_run`` and ``filing_calendar`` — calls this module.

Reads the bureau's deadlines and holiday data through ``taxpayers.calendar``; raises ``CalendarUnavailable``
past the holiday data.
"""

from __future__ import annotations

import datetime as dt

from core.errors import ApplicationError
from core.periods import Period
from taxpayers.calendar import CalendarUnavailable, deadline_for, last_working_day_of_month, next_working_day


class NotAPushDate(ApplicationError):
    code = "not_a_push_date"


def after_deadline_push_date(deadline: dt.date) -> dt.date:
    return next_working_day(deadline + dt.timedelta(days=1))


def month_end_push_date(year: int, month: int) -> dt.date:
    return last_working_day_of_month(year, month)


def push_dates(year: int, month: int, deadline: dt.date) -> list[dt.date]:
    """Both push dates of the month with this filing deadline, sorted and de-duplicated."""
    return sorted({after_deadline_push_date(deadline), month_end_push_date(year, month)})


def month_push_dates(year: int, month: int, region: str = "") -> list[dt.date]:
    """The month's push dates from its filing deadline (national, or ``region``'s override)."""
    deadline, _source = deadline_for(year, month, region)
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

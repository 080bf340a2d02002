"""Working days and monthly filing deadlines (申报纳税期限).

Working days come from the ``chinese_calendar`` package, which only knows holidays up to the year after its
release; past its data every helper raises ``CalendarUnavailable`` rather than guessing.
Deadlines come from the stored official table (``FilingDeadline``: regional override first, then national),
else from the rule (the 15th, extended by the long holidays inside days 1–15), which reproduces every published month of
2022–2026.
"""

import calendar as std_calendar
from datetime import date, timedelta

import chinese_calendar

from core.errors import ApplicationError

SOURCE_OFFICIAL = "official"
SOURCE_RULE = "rule"
RULE_WINDOW_LAST_DAY = 15  # the filing period is "within 15 days after the period"
MIN_HOLIDAY_RUN = 3  # 实施细则 art. 109: 3 or more consecutive rest days extend the period


class CalendarUnavailable(ApplicationError):
    """No holiday data for the date (the ``chinesecalendar`` package must be upgraded each December)."""

    code = "no_calendar"

    def __init__(self, year: int, message: str | None = None):
        super().__init__(
            message or f"{year}年节假日数据尚未提供（chinesecalendar 需每年12月升级），无法确定工作日，系统不作推测。",
            extra={"year": year},
        )
        self.year = year


def is_working_day(day: date, *, estimate: bool = False) -> bool:
    """True for a working day (make-up Saturdays/Sundays included); raises past the holiday data.

    ``estimate`` is for clocks that must keep running past the data (an application's 10-day SLA received in
    late December, the demo's history): a day of a year without data counts as working Monday to Friday.
    Filing deadlines never estimate.
    """
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError as exc:
        if estimate:
            return day.weekday() < 5
        raise CalendarUnavailable(day.year) from exc


def has_holiday_data(year: int) -> bool:
    try:
        is_working_day(date(year, 1, 1))
        is_working_day(date(year, 12, 31))
    except CalendarUnavailable:
        return False
    return True


def next_working_day(day: date) -> date:
    """``day`` itself when it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def last_working_day_of_month(year: int, month: int) -> date:
    day = date(year, month, std_calendar.monthrange(year, month)[1])
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def add_working_days(day: date, count: int, *, estimate: bool = False) -> date:
    """The ``count``-th working day strictly after ``day`` (``count`` ≥ 0; 0 returns ``day``; ``estimate`` as in
    ``is_working_day``)."""
    if count < 0:
        raise ValueError("count must be >= 0")
    while count:
        day += timedelta(days=1)
        if is_working_day(day, estimate=estimate):
            count -= 1
    return day


def working_days_between(start: date, end: date, *, estimate: bool = False) -> int:
    """Working days in the half-open interval (start, end]; 0 when ``end`` ≤ ``start``.

    ``estimate`` as in ``is_working_day``.
    """
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day, estimate=estimate):
            count += 1
    return count


def holiday_extension(year: int, month: int) -> int:
    """H of the deadline rule: rest days in runs of ≥3 consecutive rest days inside days 1–15 (cut at the 1st, 15th)."""
    total = run = 0
    for day_number in range(1, RULE_WINDOW_LAST_DAY + 1):
        if is_working_day(date(year, month, day_number)):
            if run >= MIN_HOLIDAY_RUN:
                total += run
            run = 0
        else:
            run += 1
    if run >= MIN_HOLIDAY_RUN:
        total += run
    return total


def rule_deadline(year: int, month: int) -> date:
    """The deadline rule: H = 0 → the 15th or the next working day; H > 0 → the H-th working day after the 15th."""
    fifteenth = date(year, month, RULE_WINDOW_LAST_DAY)
    extension = holiday_extension(year, month)
    if extension == 0:
        return next_working_day(fifteenth)
    return add_working_days(fifteenth, extension)


def stored_deadline(year: int, month: int, region: str = ""):
    """The stored ``FilingDeadline`` row for the month (the region's override first, then national) or None."""
    from .models import FilingDeadline

    rows = {row.region: row for row in FilingDeadline.objects.filter(year=year, month=month, region__in={region, ""})}
    return rows.get(region) or rows.get("")


def deadline_for(year: int, month: int, region: str = "") -> tuple[date, str]:
    """(deadline, "official" | "rule"); raises ``CalendarUnavailable`` when neither a table nor holiday data exists."""
    if not 1 <= month <= 12:
        raise ValueError("month must be 1..12")
    row = stored_deadline(year, month, region)
    if row is not None:
        return row.deadline, SOURCE_OFFICIAL
    return rule_deadline(year, month), SOURCE_RULE

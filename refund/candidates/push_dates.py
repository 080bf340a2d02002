"""When candidate lists are pushed (contract: filing calendar): the day after the filing deadline, moved to the
next working day if it is a rest day, and the last working day of the month; one date when both coincide.

Pure functions over ``taxpayers.calendar``; they raise ``CalendarUnavailable`` past the holiday data.
"""

from datetime import date, timedelta

from taxpayers.calendar import last_working_day_of_month, next_working_day


def after_deadline_push_date(deadline: date) -> date:
    return next_working_day(deadline + timedelta(days=1))


def month_end_push_date(year: int, month: int) -> date:
    return last_working_day_of_month(year, month)


def push_dates(year: int, month: int, deadline: date) -> list[date]:
    """Both push dates of the month, sorted and de-duplicated."""
    return sorted({after_deadline_push_date(deadline), month_end_push_date(year, month)})

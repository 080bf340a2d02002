"""Periods: calendar months written ``YYYY-MM`` — 税款所属期 (tax period) and 申请退税所属期 (application period).

Quarterly filers file one return per quarter whose period is the quarter's last month (03, 06, 09, 12),
which is how the refund rules' contract writes them.

Pure Python, the standard library only: the refund rules (``refund/rules/``, no Django) stand on it.
``core.fields.PeriodField`` keeps a ``Period`` in a ``YYYY-MM`` text column.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
"""A period as it is stored and exchanged; the models' check constraints hold their columns to it."""

_TYPED = re.compile(r"(\d{4})[-/.年]?(\d{1,2})月?")


class PeriodError(ValueError):
    """A value that is not a month, with the Chinese message users see (import reports, filter bars)."""

    def __init__(self, value: object):
        super().__init__(f"所属期“{value}”格式不正确，应为 YYYY-MM（如 2024-05）。")
        self.value = value


@dataclass(frozen=True, order=True)
class Period:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1 <= self.year <= 9999:
            raise ValueError(f"not a month: {self.year}-{self.month}")

    @classmethod
    def parse(cls, text: object) -> Period:
        """``YYYY-MM`` only (surrounding spaces aside); anything else raises ``ValueError``."""
        if not isinstance(text, str) or not PERIOD_RE.match(text := text.strip()):
            raise ValueError(f"not a YYYY-MM period: {text!r}")
        return cls(int(text[:4]), int(text[5:]))

    @classmethod
    def typed(cls, value: object) -> Period:
        """A month as people type it and files hold it: ``2024-05``, ``2024-5``, ``2024/05``, ``2024.5``,
        ``2024年5月``, ``202405``; ``PeriodError`` (Chinese) for anything else."""
        if isinstance(value, Period):
            return value
        match = _TYPED.fullmatch(str(value or "").strip())
        try:
            return cls(int(match.group(1)), int(match.group(2)))
        except (AttributeError, ValueError):
            raise PeriodError(value) from None

    @classmethod
    def of(cls, day: date) -> Period:
        return cls(day.year, day.month)

    @property
    def index(self) -> int:
        """Months since year 0, so that differences are month counts."""
        return self.year * 12 + self.month - 1

    @classmethod
    def from_index(cls, index: int) -> Period:
        return cls(index // 12, index % 12 + 1)

    def plus(self, months: int) -> Period:
        return Period.from_index(self.index + months)

    def minus(self, months: int) -> Period:
        return Period.from_index(self.index - months)

    def months_after(self, other: Period) -> int:
        return self.index - other.index

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def is_quarter_end(self) -> bool:
        return self.month % 3 == 0

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def format_period_cn(value) -> str:
    """``Period(2024, 5)`` or ``"2024-05"`` -> ``"2024年05月"``; what is not shaped like a period comes back as text."""
    text = str(value or "")
    year, sep, month = text.partition("-")
    if sep and len(year) == 4 and year.isdigit() and len(month) == 2 and month.isdigit():
        return f"{year}年{month}月"
    return text


def period_range(first: Period, last: Period) -> list[Period]:
    """Every month from ``first`` to ``last``, both included."""
    return [Period.from_index(i) for i in range(first.index, last.index + 1)]


def last_quarter_end_before(period: Period) -> Period:
    """The last quarter-end month strictly before ``period`` (a quarterly filer's latest return)."""
    previous = period.minus(1)
    return previous.minus(previous.month % 3)


def shift_months(day: date, months: int) -> date:
    """``day`` moved by whole months; a day missing in the target month becomes its last day.

    This is the reckoning of 民法典 第二百零二条 (a period in months ends on the corresponding day of the last
    month, or on its last day when there is none).
    """
    target = Period.of(day).plus(months)
    return date(target.year, target.month, min(day.day, target.last_day.day))

"""Month arithmetic for tax periods (税款所属期) and filing periods (纳税申报期).

A period is a calendar month written ``YYYY-MM``. Quarterly filers file one return
per quarter whose period is the quarter's last month (03, 06, 09, 12), which is
how the contract's input writes them.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Period:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1 <= self.year <= 9999:
            raise ValueError(f"not a month: {self.year}-{self.month}")

    @classmethod
    def parse(cls, text: object) -> Period:
        """``YYYY-MM`` only; anything else raises ``ValueError``."""
        if not isinstance(text, str):
            raise ValueError("a period must be a YYYY-MM string")
        match = _PERIOD.match(text.strip())
        if not match:
            raise ValueError(f"not a YYYY-MM period: {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

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

    def label(self) -> str:
        """Chinese label for details: 2022年4月."""
        return f"{self.year}年{self.month}月"


def period_range(first: Period, last: Period) -> list[Period]:
    """Every month from ``first`` to ``last``, both included."""
    return [Period.from_index(i) for i in range(first.index, last.index + 1)]


def last_quarter_end_before(period: Period) -> Period:
    """The last quarter-end month strictly before ``period`` (a quarterly filer's latest return)."""
    previous = period.minus(1)
    return previous.minus(previous.month % 3)


def shift_months(day: date, months: int) -> date:
    """``day`` moved by whole months; a day missing in the target month becomes its last day.

    This is the reckoning of 民法典 第二百零二条 (a period in months ends on the
    corresponding day of the last month, or on its last day when there is none).
    """
    target = Period.of(day).plus(months)
    return date(target.year, target.month, min(day.day, target.last_day.day))

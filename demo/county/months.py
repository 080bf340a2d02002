"""The demo county's parameters and its months: periods 2019-03 … last month and what every taxpayer shares."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass

FIRST_PERIOD = (2019, 3)  # the 2019-03-31 credit is the base of the incremental-credit regimes


@dataclass(frozen=True)
class DemoParams:
    today: dt.date  # "last month" is the one before today's (no clock inside the generator)
    taxpayers: int = 3000
    seed: int = 2026
    branches: int = 5


def month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def period_text(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def last_period(today: dt.date) -> str:
    return period_text(month_index(today.year, today.month) - 1)


def credit_year(today: dt.date) -> int:
    """Ratings for year Y are published in April of Y+1 (纳税信用评价)."""
    return today.year - 1 if today.month >= 4 else today.year - 2


class Calendar:
    """Periods 2019-03 … last month and the per-month factors every taxpayer shares."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.first = month_index(*FIRST_PERIOD)
        self.last = month_index(today.year, today.month) - 1
        if self.last < self.first:
            raise ValueError("today must be after 2019-03")
        self.periods = {i: period_text(i) for i in range(self.first, self.last + 1)}
        # The month a return is filed in (the one after its period).
        self.filing_month = {i: ((i + 1) // 12, (i + 1) % 12 + 1) for i in range(self.first, self.last + 1)}
        # Economy-wide shocks: Spring Festival lull, the 2020 epidemic, the 2022 spring lockdowns.
        shock = {}
        slumps = {(2020, 2): 0.55, (2020, 3): 0.8, (2020, 4): 0.92, (2022, 4): 0.88, (2022, 5): 0.92}
        for i in range(self.first, self.last + 1):
            year, month = i // 12, i % 12 + 1
            shock[i] = (0.82 if month == 2 else 1.0) * slumps.get((year, month), 1.0)
        self.shock = shock
        self.prev_year = today.year - 1
        self.credit_year = credit_year(today)

    def filed_on(self, index: int, rng: random.Random) -> dt.date:
        year, month = self.filing_month[index]
        filed = dt.date(year, month, rng.randint(3, 15) if rng.random() < 0.9 else rng.randint(1, 2))
        return min(filed, self.today)


def lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))

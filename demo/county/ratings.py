"""One taxpayer's 纳税信用 ratings, one per evaluation year from 2019 to the latest year rated by ``today``.

The latest year is the level drawn with the contacts (so today's screening sees what it always saw); the years
before drift from it backwards: mostly the same level, sometimes one step better or worse, the first year of a
newly registered taxpayer M (新设立, 国家税务总局公告2018年第8号), and a D kept only where the drift reaches it.
A year whose rating was in force while the taxpayer received a refund (a return with 本期留抵退税额) is A or B —
only those may be refunded — so the refunds in the demo returns stay possible under the rating in force.

Drawn last of all of a taxpayer's values, from its own generator: every other value of the county stays the
same whatever these draws are.
"""

from __future__ import annotations

import random
from decimal import Decimal

FIRST_RATED_YEAR = 2019  # the first evaluation year the credit rules model (rated in April 2020)
STEPS = "ABCD"  # better → worse; M (unrated by points) stands apart
REFUNDABLE = frozenset("AB")
SCORE_BANDS = {"A": (90, 99), "B": (70, 89), "C": (40, 69)}  # the bands of both rule sets, whole points


def score_of(identifier: str, year: int, level: str) -> Decimal | None:
    """The year's score, inside its level's band; None for M and D (the demo's D are direct, 直接判级).

    Drawn from a generator of its own per taxpayer and year, so the county's other draws stay as they are."""
    band = SCORE_BANDS.get(level)
    return None if band is None else Decimal(random.Random(f"{identifier}:{year}").randint(*band))


def year_in_force(period: str) -> int:
    """The evaluation year whose rating is in force in the month ``period`` ("YYYY-MM"): year Y is rated on
    1 April of Y+1 and stays in force until the next year's rating."""
    year, month = int(period[:4]), int(period[5:7])
    return year - 1 if month >= 4 else year - 2


class RatingHistory:
    """The ratings of ``county.taxpayer.TaxpayerBuilder`` (drawn after everything else)."""

    def rating_history(self, level: str, returns: list) -> tuple[int, str]:
        """(first year, one level per year up to the latest year rated); (0, "") for a taxpayer not yet rated."""
        last_year = self.cal.credit_year
        if not level or last_year < FIRST_RATED_YEAR:
            return 0, ""
        registered_year = self.registered_index // 12
        first_year = max(FIRST_RATED_YEAR, registered_year)
        if first_year > last_year:
            return last_year, level  # a direct D (直接判级) of a taxpayer registered since
        refunded = {year_in_force(row.period) for row in returns if row.credit_refunded > 0}
        levels = [level]
        for year in range(last_year - 1, first_year - 1, -1):
            levels.append(self._year_before(levels[-1], new=year == registered_year, refunded=year in refunded))
        return first_year, "".join(reversed(levels))

    def _year_before(self, later: str, *, new: bool, refunded: bool) -> str:
        """The level of the year before a year rated ``later``."""
        rng = self.rng
        draw = rng.random()
        if new and draw < 0.8 and not refunded:
            return "M"  # registered that year: no full evaluation year yet
        if later == "M":
            level = "M" if draw < 0.5 else "B"
        elif draw < 0.92:
            level = later
        else:
            step = STEPS.index(later) + (-1 if draw < 0.96 else 1)  # a step better, or worse, the year before
            level = STEPS[min(max(step, 0), len(STEPS) - 1)]
        if level == "D" and later == "A":
            level = "B"  # a D year bars an A the year after (公告2014年第40号 第十九条)
        if refunded and level not in REFUNDABLE:
            level = "B"
        return level

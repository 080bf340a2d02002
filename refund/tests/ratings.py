"""Rating histories for refund tests: ``credit.CreditRating`` rows (one at a time through
``credit.tests.factories.rate``, or a history at once), and a hypothesis strategy of histories whose dates fall
on both sides of the application dates the tests screen."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from credit.models import CreditRating, RatingBasis, RuleSet
from credit.tests.factories import rate

__all__ = ["RATING_DATES", "rate", "rating_histories", "store_ratings"]

RATING_DATES = [
    dt.date(2019, 4, 1), dt.date(2020, 4, 1), dt.date(2022, 5, 10), dt.date(2022, 5, 11), dt.date(2023, 4, 1),
    dt.date(2025, 4, 1), dt.date(2025, 10, 15), dt.date(2026, 3, 10), dt.date(2026, 3, 11),
]  # fmt: skip


@st.composite
def rating_histories(draw) -> list[tuple[str, dt.date, int, str]]:
    """0–3 ratings (level, in force from, year, basis): none, an evaluation, or evaluations and a repair."""
    days = draw(st.lists(st.sampled_from(RATING_DATES), max_size=3, unique=True))
    history = []
    for day in sorted(days):
        level = draw(st.sampled_from(["A", "B", "B", "M", "C", "D"]))
        repaired = bool(history) and draw(st.booleans())
        year = history[-1][2] if repaired else max(day.year - 1, 2014)
        history.append((level, day, year, RatingBasis.REPAIRED if repaired else RatingBasis.EVALUATED))
    return history


def store_ratings(taxpayer, history) -> None:
    CreditRating.objects.bulk_create(
        [
            CreditRating(
                taxpayer=taxpayer, year=year, level=level, evaluated_on=day, basis=basis,
                rule_set=RuleSet.for_year(year),
            )
            for level, day, year, basis in history
        ]
    )  # fmt: skip

"""Factory data for the loop between the rating and the refund: taxpayers whose 2026-03 refund turns on their rating.

Ratings are ``credit.CreditRating`` rows (``refund.tests.ratings.rate``); the registry's own level is never read.
The returns are those of ``refund.tests.screening_data`` (eligible for 2026-03 when rated A or B).
"""

from __future__ import annotations

import datetime as dt

from credit.models import RatingBasis
from refund.tests.ratings import rate
from refund.tests.screening_data import with_rising_credits
from taxpayers.tests.factories import TaxpayerFactory

RATED_ON = dt.date(2025, 4, 18)  # the 2024 evaluation, in force through 2026-03
REPAIRED_ON = dt.date(2026, 3, 10)


def rated_taxpayer(branch, level: str, **fields):
    """Small, 房屋建筑业, credits rising to 2026-02: eligible for 2026-03 exactly when ``level`` is A or B."""
    taxpayer = with_rising_credits(TaxpayerFactory(branch=branch, industry_code="E4710", size="small", **fields))
    rate(taxpayer, level, on=RATED_ON, year=2024)
    return taxpayer


def repaired(taxpayer, level: str = "B", *, on: dt.date = REPAIRED_ON):
    """The rating a granted repair adds: the same year, effective ``on``."""
    return rate(taxpayer, level, on=on, year=2024, basis=RatingBasis.REPAIRED)

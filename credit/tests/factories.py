"""Rated taxpayers for the tests of credit and of every app above it.

The registry holds no 纳税信用级别: a taxpayer's level is its rating history. ``TaxpayerFactory`` here is the
registry's factory with the convenient keywords ``credit_level`` (default B; "" for an unrated taxpayer) and
``credit_year`` (default 2025), written as one evaluated rating in force from ``IN_FORCE_FROM`` — the start of the
rating system — so that it is the level in force on any day a test screens, as the registry's single level was.
``rate`` writes any other rating.
"""

from __future__ import annotations

import datetime as dt

from credit.models import CreditRating, RatingBasis, RuleSet
from taxpayers.tests import factories

IN_FORCE_FROM = dt.date(2014, 10, 1)  # 公告2014年第40号 in force
DEFAULT_LEVEL = "B"
DEFAULT_YEAR = 2025


def rate(
    taxpayer,
    level: str,
    *,
    on: dt.date = IN_FORCE_FROM,
    year: int | None = None,
    basis: str = RatingBasis.EVALUATED,
    score=None,
) -> CreditRating:
    """One rating of ``taxpayer`` (an instance or its id) in force from ``on``; its year is the one before ``on``
    unless given."""
    year = year or max(on.year - 1, 2014)
    return CreditRating.objects.create(
        taxpayer_id=getattr(taxpayer, "pk", taxpayer),
        year=year,
        level=level,
        score=score,
        evaluated_on=on,
        basis=basis,
        rule_set=RuleSet.for_year(year),
    )


class TaxpayerFactory(factories.TaxpayerFactory):
    """A taxpayer with a rating: ``credit_level`` (default B, "" for none) of ``credit_year`` (default 2025)."""

    class Meta:
        model = factories.TaxpayerFactory._meta.model

    @classmethod
    def _create(cls, model_class, *args, credit_level: str = DEFAULT_LEVEL, credit_year: int | None = None, **kwargs):
        taxpayer = super()._create(model_class, *args, **kwargs)
        if credit_level:
            rate(taxpayer, credit_level, year=credit_year or DEFAULT_YEAR)
        return taxpayer

    @classmethod
    def _build(cls, model_class, *args, credit_level: str = "", credit_year: int | None = None, **kwargs):
        return super()._build(model_class, *args, **kwargs)

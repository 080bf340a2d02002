"""The 纳税信用级别 the registry's pages show: a read of the taxpayer's latest rating, which the credit app holds.

Why a registry: ratings are a history (one per evaluation year, a repair or 复评 adding a row), kept by ``credit``,
which sits above this app. ``credit`` registers, in its ``AppConfig.ready()``, how to annotate a queryset of
taxpayers with the level and the evaluation year of each one's latest rating. Lists, filters, sorting, the export,
the API and the admin read those two annotations (``credit_level``: "" when unrated, ``credit_year``: None),
computed in the same query as the rows, so a page stays one query.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import CharField, IntegerField, QuerySet, Value

LEVEL = "credit_level"
YEAR = "credit_year"

Annotate = Callable[[QuerySet], QuerySet]
_latest: list[Annotate] = []


def register_latest_rating(annotate: Annotate) -> None:
    """Install the reader: ``annotate(queryset)`` adds ``credit_level`` ("" when unrated) and ``credit_year``
    (None when unrated) of each taxpayer's latest rating. A second registration replaces the first."""
    _latest[:] = [annotate]


def with_latest_rating(queryset: QuerySet) -> QuerySet:
    """``queryset`` of taxpayers with ``credit_level`` and ``credit_year`` of their latest rating; every taxpayer
    unrated when no reader is registered."""
    if _latest:
        return _latest[0](queryset)
    return queryset.annotate(
        **{LEVEL: Value("", output_field=CharField()), YEAR: Value(None, output_field=IntegerField())}
    )

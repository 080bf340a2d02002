"""Reads of the credit data: the rating in force on a day — for one taxpayer, for a queryset, and as a SQL
fragment for set-based statements — and the ratings and events a user may see (through the scoping gateway).

The rating in force on a day is, among the ratings that had taken effect by that day (``evaluated_on`` ≤ day),
the one of the latest evaluation year, and within that year the latest decision (a repair, 复核 or 复评
supersedes the evaluation from its own date). Ties on a day are broken by the later row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.db.models import CharField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from accounts.scoping import scope_to_user
from taxpayers.models import CreditLevel, Taxpayer

from .models import CreditImport, CreditRating, DishonestyEvent

IN_FORCE_ORDER = ("-year", "-evaluated_on", "-id")


def rating_in_force(taxpayer: Taxpayer | int, on_date: dt.date) -> CreditRating | None:
    """The rating in force for ``taxpayer`` (an instance or its id) on ``on_date``; None when none had taken effect."""
    taxpayer_id = getattr(taxpayer, "pk", taxpayer)
    return (
        CreditRating.objects.filter(taxpayer_id=taxpayer_id, evaluated_on__lte=on_date)
        .order_by(*IN_FORCE_ORDER)
        .first()
    )


def latest_rating(taxpayer: Taxpayer | int) -> CreditRating | None:
    """The latest rating held, whatever its date (what the registry's single 纳税信用级别 showed)."""
    taxpayer_id = getattr(taxpayer, "pk", taxpayer)
    return CreditRating.objects.filter(taxpayer_id=taxpayer_id).order_by(*IN_FORCE_ORDER).first()


def rating_in_force_subquery(on_date: dt.date | None, *, field: str = "level", taxpayer_ref: str = "pk") -> Subquery:
    """A correlated subquery giving ``field`` of the rating in force on ``on_date`` (None: the latest) for the
    taxpayer ``OuterRef(taxpayer_ref)`` — e.g. ``Taxpayer.objects.annotate(level=rating_in_force_subquery(day))``
    or, on applications, ``taxpayer_ref="taxpayer_id"``."""
    ratings = CreditRating.objects.filter(taxpayer_id=OuterRef(taxpayer_ref))
    if on_date is not None:
        ratings = ratings.filter(evaluated_on__lte=on_date)
    return Subquery(ratings.order_by(*IN_FORCE_ORDER).values(field)[:1])


def with_rating_in_force(
    queryset: QuerySet, on_date: dt.date | None, *, taxpayer_ref: str = "pk", prefix: str = "rating"
) -> QuerySet:
    """``queryset`` annotated with ``<prefix>_level``, ``<prefix>_score`` and ``<prefix>_year`` of the rating in
    force on ``on_date`` (None: the latest); empty (None) for a taxpayer without one."""
    return queryset.annotate(
        **{
            f"{prefix}_{field}": rating_in_force_subquery(on_date, field=field, taxpayer_ref=taxpayer_ref)
            for field in ("level", "score", "year")
        }
    )


def with_latest_level(taxpayers: QuerySet) -> QuerySet:
    """Taxpayers with ``credit_level`` ("" when unrated) and ``credit_year`` (None) of their latest rating: the
    reader ``taxpayers.ratings`` calls for the registry's pages (registered in ``CreditConfig.ready``)."""
    return taxpayers.annotate(
        credit_level=Coalesce(rating_in_force_subquery(None), Value(""), output_field=CharField()),
        credit_year=rating_in_force_subquery(None, field="year"),
    )


def rating_in_force_sql(on_date: dt.date, *, where: str = "") -> str:
    """A SELECT of the rating in force on ``on_date`` per taxpayer — columns ``taxpayer_id, level, score, year,
    evaluated_on, basis`` — for a set-based statement to join: ``LEFT JOIN ({sql}) AS cr ON cr.taxpayer_id = t.id``.

    ``where`` narrows the taxpayers (``"taxpayer_id BETWEEN %(lo)s AND %(hi)s"``, its parameters bound by the
    caller). One pass over the ratings table (a window per taxpayer), not one lookup per taxpayer; PostgreSQL
    and SQLite alike."""
    if not isinstance(on_date, dt.date):
        raise TypeError("on_date must be a date")
    table = CreditRating._meta.db_table
    narrow = f" AND ({where})" if where else ""
    return (
        "SELECT taxpayer_id, level, score, year, evaluated_on, basis FROM ("  # noqa: S608 - a date and _meta only
        "SELECT taxpayer_id, level, score, year, evaluated_on, basis, ROW_NUMBER() OVER ("
        "PARTITION BY taxpayer_id ORDER BY year DESC, evaluated_on DESC, id DESC) AS in_force_rank "
        f"FROM {table} WHERE evaluated_on <= '{on_date.isoformat()}'{narrow}) AS ranked WHERE in_force_rank = 1"
    )


# --- what a user may see ---------------------------------------------------------------------------------------


def ratings_for_user(*, user, filters: Mapping | None = None) -> QuerySet[CreditRating]:
    """Every rating of the taxpayers ``user`` may see, newest first; ``year`` and ``level`` filter."""
    ratings = scope_to_user(
        CreditRating.objects.select_related("taxpayer", "taxpayer__branch"), user=user, branch_field="taxpayer__branch"
    )
    filters = filters or {}
    year = str(filters.get("year") or "")
    if year.isdigit():
        ratings = ratings.filter(year=int(year))
    level = filters.get("level") or ""
    if level in CreditLevel.values:
        ratings = ratings.filter(level=level)
    return ratings.order_by("-year", "-evaluated_on", "taxpayer__identifier", "-id")


def events_for_user(*, user, filters: Mapping | None = None) -> QuerySet[DishonestyEvent]:
    """Every dishonesty event of the taxpayers ``user`` may see, latest first; ``open=1`` keeps the uncorrected."""
    events = scope_to_user(
        DishonestyEvent.objects.select_related("taxpayer", "taxpayer__branch"),
        user=user,
        branch_field="taxpayer__branch",
    )
    if (filters or {}).get("open") == "1":
        events = events.filter(corrected_on__isnull=True)
    return events.order_by("-recorded_on", "taxpayer__identifier", "indicator", "-id")


def taxpayer_credit_for_user(*, user, pk: int) -> tuple[Taxpayer, list[CreditRating], list[DishonestyEvent]]:
    """One taxpayer's rating history and events; ``Http404`` outside the user's scope."""
    taxpayer = get_object_or_404(scope_to_user(Taxpayer.objects.select_related("branch"), user=user), pk=pk)
    ratings = list(CreditRating.objects.filter(taxpayer=taxpayer).order_by(*IN_FORCE_ORDER))
    events = list(DishonestyEvent.objects.filter(taxpayer=taxpayer).order_by("-recorded_on", "indicator", "-id"))
    return taxpayer, ratings, events


def credit_imports_recent(*, limit: int = 50) -> list[CreditImport]:
    """The latest credit files applied (bureau-level work: no branch scoping)."""
    return list(CreditImport.objects.select_related("created_by").order_by("-created_at", "-id")[:limit])

"""Reads of the repair, 复核 and 复评 cases, always through the scoping gateway (a case of another branch's
taxpayer is a 404)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from accounts.scoping import scope_to_user
from taxpayers.models import Taxpayer

from ..models import CreditCase, CreditCaseItem, DishonestyEvent
from ..rules.repair import review_window
from ..selectors import IN_FORCE_ORDER


def cases_for_user(*, user, filters: Mapping | None = None, today: dt.date) -> QuerySet[CreditCase]:
    """The cases of the taxpayers ``user`` may see, the nearest due first; ``state``, ``kind`` and ``overdue=1``
    (open past the due date on ``today``) filter."""
    cases = scope_to_user(
        CreditCase.objects.select_related("taxpayer", "taxpayer__branch", "officer"),
        user=user,
        branch_field="taxpayer__branch",
    )
    filters = filters or {}
    if filters.get("state") in CreditCase.State.values:
        cases = cases.filter(state=filters["state"])
    elif filters.get("state") == "open":
        cases = cases.filter(state__in=CreditCase.OPEN_STATES)
    if filters.get("kind") in CreditCase.Kind.values:
        cases = cases.filter(kind=filters["kind"])
    if filters.get("overdue") == "1":
        cases = cases.filter(state__in=CreditCase.OPEN_STATES, due_on__lt=today)
    return cases.order_by("due_on", "id")


def case_for_user(*, user, pk: int) -> CreditCase:
    """One case with its items and status changes; ``Http404`` outside the user's scope."""
    queryset = scope_to_user(
        CreditCase.objects.select_related(
            "taxpayer", "taxpayer__branch", "officer", "created_by", "new_rating", "linked_taxpayer"
        ),
        user=user,
        branch_field="taxpayer__branch",
    )
    return get_object_or_404(queryset, pk=pk)


def case_items(case: CreditCase) -> list:
    return list(case.items.select_related("event").order_by("event__recorded_on", "id"))


def case_transitions(case: CreditCase) -> list:
    return list(case.transitions.select_related("actor").order_by("at", "id"))


def taxpayer_for_case(*, user, pk: int) -> Taxpayer:
    return get_object_or_404(scope_to_user(Taxpayer.objects.select_related("branch"), user=user), pk=pk)


def events_of_year(taxpayer: Taxpayer, year: int) -> list[DishonestyEvent]:
    """The behaviours of the evaluation year a case may name."""
    return list(DishonestyEvent.objects.filter(taxpayer=taxpayer, recorded_on__year=year).order_by("recorded_on", "id"))


def case_years(taxpayer: Taxpayer, today: dt.date | None = None) -> list[int]:
    """The years with a rating, the latest first (a case is about a rated year); in March, also last year, whose
    result is not set yet but whose indicators may be disputed (复核)."""
    years = set(taxpayer.credit_ratings.values_list("year", flat=True))
    if today is not None and (window := review_window_of(today)).open:
        years.add(window.year)
    return sorted(years, reverse=True)


@dataclass(frozen=True)
class ReviewWindowNote:
    """The 复核 window the pages show: the year it is for, its first and last day, and whether ``today`` is in it."""

    year: int
    first: dt.date
    last: dt.date
    open: bool


def review_window_of(today: dt.date, year: int | None = None) -> ReviewWindowNote:
    """The 复核 window of ``year``; without a year, the one open on ``today`` or else the next one."""
    if year is None:
        year = today.year - 1 if today <= review_window(today.year - 1)[1] else today.year
    first, last = review_window(year)
    return ReviewWindowNote(year, first, last, first <= today <= last)


def is_direct_d(taxpayer: Taxpayer, year: int) -> bool:
    """The year's rating in force is a D given directly (no score): its repair states the cause and when it was
    cleared."""
    rating = taxpayer.credit_ratings.filter(year=year).order_by(*IN_FORCE_ORDER).values("level", "score").first()
    return rating is not None and rating["level"] == "D" and rating["score"] is None


def cases_of_taxpayer(taxpayer: Taxpayer) -> list[CreditCase]:
    """The taxpayer's cases for its credit page (the caller has already scoped the taxpayer), the latest first."""
    return list(CreditCase.objects.filter(taxpayer=taxpayer).select_related("officer").order_by("-received_on", "-id"))


def case_counts(*, user, today: dt.date) -> tuple[dict[str, int], int]:
    """The 工作台's case counts within the user's scope: state → cases, and the open ones past their due date
    (the 15-working-day clock). Two statements."""
    cases = scope_to_user(CreditCase.objects.all(), user=user, branch_field="taxpayer__branch")
    by_state = dict(cases.order_by().values_list("state").annotate(n=Count("pk")))
    overdue = cases.filter(state__in=CreditCase.OPEN_STATES, due_on__lt=today).count()
    return by_state, overdue


def open_cases_by_event(taxpayer: Taxpayer) -> dict[int, CreditCase]:
    """Behaviour id → the open case naming it (the credit page sends the officer there, not to a second case)."""
    items = CreditCaseItem.objects.filter(case__taxpayer=taxpayer, case__state__in=CreditCase.OPEN_STATES)
    return {item.event_id: item.case for item in items.select_related("case")}


def taxpayer_id_by_identifier(identifier: str) -> int | None:
    """The id of the taxpayer with ``identifier`` (a related D names the linked firm, which may be another
    branch's: only its status and rating are read, never shown beyond the case)."""
    return Taxpayer.objects.filter(identifier=identifier).values_list("pk", flat=True).first()

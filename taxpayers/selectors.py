"""Reads of taxpayers, returns and compliance records — always through the scoping gateway."""

from collections.abc import Mapping

from django.db.models import QuerySet

from accounts.scoping import get_for_user_or_404, scope_to_user
from core.listing import filtered_queryset

from .filters import TaxpayerFilter
from .models import ComplianceRecord, Taxpayer, VatReturn
from .ratings import with_latest_rating
from .validators import normalise_taxpayer_id


def taxpayers_visible_to(*, user) -> QuerySet[Taxpayer]:
    """Every taxpayer ``user`` may see, with the branch joined and the latest rating read (lists show both on
    every row, and filter and sort on the level)."""
    taxpayers = scope_to_user(Taxpayer.objects.select_related("branch"), user=user).order_by("identifier")
    return with_latest_rating(taxpayers)


def taxpayer_filterset(*, user, filters: Mapping | None) -> TaxpayerFilter:
    """The bound filter set over the user's taxpayers; the page renders its form, its ``qs`` is the list."""
    return TaxpayerFilter(data=filters, queryset=taxpayers_visible_to(user=user), user=user)


def taxpayer_list_for_user(*, user, filters: Mapping | None = None, strict: bool = False) -> QuerySet[Taxpayer]:
    """The taxpayers ``user`` may see that match ``filters`` (see ``TaxpayerFilter``; general taxpayers only
    unless ``general`` says otherwise). With ``strict`` an invalid filter raises ``InvalidFilters``."""
    return filtered_queryset(taxpayer_filterset(user=user, filters=filters), strict=strict)


def taxpayer_get_for_user(*, user, pk: int | None = None, identifier: str | None = None) -> Taxpayer:
    """One taxpayer by its record id (what pages and links use: an identifier never travels in a URL) or by
    identifier (what an officer types or a file names); ``Http404`` when it does not exist or is outside the
    user's scope."""
    lookup = {"pk": pk} if pk is not None else {"identifier": normalise_taxpayer_id(identifier or "")}
    return get_for_user_or_404(with_latest_rating(Taxpayer.objects.select_related("branch")), user=user, **lookup)


def returns_for_taxpayer(taxpayer: Taxpayer) -> QuerySet[VatReturn]:
    """The taxpayer's VAT returns, newest period first (the caller already scoped the taxpayer)."""
    return VatReturn.objects.filter(taxpayer=taxpayer).order_by("-period")


def compliance_for_taxpayer(taxpayer: Taxpayer) -> QuerySet[ComplianceRecord]:
    """The taxpayer's compliance records, most recent first."""
    return ComplianceRecord.objects.filter(taxpayer=taxpayer).order_by("-occurred_on", "-id")

"""Set-based reads of the invoice data (发票汇总, 供应商进项明细) for the invoice-chain risk indicators.

Every read covers all taxpayers in one statement over a window of months (``first`` … ``last``, both included);
``taxpayer_ids`` narrows it to some (one application's taxpayer, a branch's candidates). They are not scoped to
a user: the risk scan reads them for the whole bureau, and a page that shows their figures scopes its taxpayers
first.

- ``invoice_input_by_taxpayer``: input tax, and of it the part on 异常凭证 and on 失控发票.
- ``fled_supplier_inputs`` / ``fled_supplier_input_by_taxpayer``: input from suppliers that became 非正常户 or
  走逃（失联） no later than ``months`` after the invoice's month (an invoice from a supplier that already was
  one counts too: it is the stronger case). Months are calendar months: an invoice of 2025-01 and a status
  begun any day of 2025-07 are 6 months apart. ``known_on`` keeps the statuses begun by that day (a scan as of
  an earlier day does not see a status that began later).
- ``new_supplier_input_by_taxpayer``: input from suppliers registered no more than ``months`` months before the
  invoice's month (新办供应商), beside the taxpayer's input from all suppliers.
- ``top_suppliers``: each taxpayer's largest supplier over the window and its share of the input tax.

The top supplier's share is derived here, not stored: the supplier rows and the summary are separate files,
imported and corrected on their own, so a stored share would go stale when either is re-imported; and the share
over a window is a ratio of sums, which no monthly figure holds. The denominator is the supplier rows' own total
(the rows list every supplier of the month).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.db import connection
from django.db.models import Count, F, IntegerField, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import Cast, ExtractMonth, ExtractYear, Substr

from core.periods import Period

from .models import FLED_SUPPLIER_STATUSES, InvoiceSummary, SupplierInput

CENT = Decimal("0.01")
SHARE_PLACES = Decimal("0.0001")


def _window(queryset: QuerySet, first: Period, last: Period, taxpayer_ids: Iterable[int] | None) -> QuerySet:
    if not isinstance(first, Period) or not isinstance(last, Period):
        raise TypeError("first and last must be Periods")
    queryset = queryset.filter(period__gte=first, period__lte=last)
    if taxpayer_ids is not None:
        queryset = queryset.filter(taxpayer_id__in=list(taxpayer_ids))
    return queryset


def invoice_input_by_taxpayer(
    *, first: Period, last: Period, taxpayer_ids: Iterable[int] | None = None
) -> QuerySet[InvoiceSummary]:
    """Per taxpayer with a summary in the window: ``taxpayer_id, months, input_tax_total, abnormal_tax`` (on
    异常凭证) and ``lost_control_tax`` (on 失控发票), Decimal sums. A queryset of dicts: filter it further
    (``abnormal_tax__gt=0``) or use it as a subquery."""
    return (
        _window(InvoiceSummary.objects.all(), first, last, taxpayer_ids)
        .values("taxpayer_id")
        .annotate(
            months=Count("id"),
            input_tax_total=Sum("input_tax"),
            abnormal_tax=Sum("abnormal_voucher_input_tax"),
            lost_control_tax=Sum("lost_control_input_tax"),
        )
        .order_by("taxpayer_id")
    )


def _month_index(expression):
    return Cast(Substr(expression, 1, 4), IntegerField()) * 12 + Cast(Substr(expression, 6, 2), IntegerField())


def _registry_month(field: str):
    return ExtractYear(field) * 12 + ExtractMonth(field)


def fled_supplier_inputs(
    *,
    first: Period,
    last: Period,
    months: int = 6,
    taxpayer_ids: Iterable[int] | None = None,
    known_on: dt.date | None = None,
) -> QuerySet[SupplierInput]:
    """The supplier rows of the window whose supplier became 非正常户 or 走逃（失联） no later than ``months`` after
    the row's month (and, with ``known_on``, by that day), each annotated with ``months_to_status`` (negative: the
    status began before the month)."""
    if months < 0:
        raise ValueError("months must not be negative")
    rows = _window(SupplierInput.objects.filter(supplier_status__in=FLED_SUPPLIER_STATUSES), first, last, taxpayer_ids)
    if known_on is not None:
        rows = rows.filter(supplier_status_since__lte=known_on)
    status_month = _registry_month("supplier_status_since")
    return rows.annotate(months_to_status=status_month - _month_index(F("period"))).filter(months_to_status__lte=months)


def fled_supplier_input_by_taxpayer(
    *,
    first: Period,
    last: Period,
    months: int = 6,
    taxpayer_ids: Iterable[int] | None = None,
    known_on: dt.date | None = None,
) -> QuerySet[SupplierInput]:
    """Per taxpayer with such input: ``taxpayer_id, suppliers`` (how many), ``fled_tax`` and ``fled_amount`` (the
    input tax and amount from them), and ``nearest_months`` (the shortest time from an invoice to its supplier's
    status)."""
    return (
        fled_supplier_inputs(first=first, last=last, months=months, taxpayer_ids=taxpayer_ids, known_on=known_on)
        .values("taxpayer_id")
        .annotate(
            suppliers=Count("supplier_identifier", distinct=True),
            fled_tax=Sum("input_tax"),
            fled_amount=Sum("input_amount"),
            nearest_months=Min("months_to_status"),
        )
        .order_by("taxpayer_id")
    )


def new_supplier_input_by_taxpayer(
    *, first: Period, last: Period, months: int = 6, taxpayer_ids: Iterable[int] | None = None
) -> QuerySet[SupplierInput]:
    """Per taxpayer with supplier rows in the window: ``taxpayer_id, total_tax`` (input tax from all suppliers),
    ``new_tax`` and ``new_suppliers`` (input tax from, and how many, suppliers registered no more than ``months``
    calendar months before the invoice's month: registered 2025-03-31, an invoice of 2025-09 is 6 months on)."""
    if months < 0:
        raise ValueError("months must not be negative")
    age = _month_index(F("period")) - _registry_month("supplier_registered_on")
    new = Q(months_registered__lte=months)
    return (
        _window(SupplierInput.objects.all(), first, last, taxpayer_ids)
        .annotate(months_registered=age)
        .values("taxpayer_id")
        .annotate(
            total_tax=Sum("input_tax"),
            new_tax=Sum("input_tax", filter=new, default=Decimal("0")),
            new_suppliers=Count("supplier_identifier", filter=new, distinct=True),
        )
        .order_by("taxpayer_id")
    )


class TopSupplier(NamedTuple):
    """A taxpayer's largest supplier over a window: its input tax, the taxpayer's input tax from all suppliers,
    and the share (four places, half up; 0 when the total is 0)."""

    taxpayer_id: int
    supplier_identifier: str
    supplier_name: str
    supplier_tax: Decimal
    total_tax: Decimal
    share: Decimal


def top_supplier_sql(first: Period, last: Period, *, where: str = "") -> str:
    """A SELECT of each taxpayer's largest supplier over the window — columns ``taxpayer_id, supplier_identifier,
    supplier_name, supplier_tax, total_tax`` — for a set-based statement to join. ``where`` narrows the rows
    (``"taxpayer_id BETWEEN %(lo)s AND %(hi)s"``, its parameters bound by the caller). One pass: the window's
    rows grouped by taxpayer and supplier, ranked within each taxpayer; ties go to the smaller identifier.
    PostgreSQL and SQLite alike."""
    if not isinstance(first, Period) or not isinstance(last, Period):
        raise TypeError("first and last must be Periods")
    table = connection.ops.quote_name(SupplierInput._meta.db_table)
    narrow = f" AND ({where})" if where else ""
    return (
        "SELECT taxpayer_id, supplier_identifier, supplier_name, supplier_tax, total_tax FROM ("  # noqa: S608
        "SELECT taxpayer_id, supplier_identifier, MAX(supplier_name) AS supplier_name, "
        "SUM(input_tax) AS supplier_tax, SUM(SUM(input_tax)) OVER (PARTITION BY taxpayer_id) AS total_tax, "
        "ROW_NUMBER() OVER (PARTITION BY taxpayer_id ORDER BY SUM(input_tax) DESC, supplier_identifier) AS rank_ "
        f"FROM {table} WHERE period >= '{first}' AND period <= '{last}'{narrow} "
        "GROUP BY taxpayer_id, supplier_identifier) AS ranked WHERE rank_ = 1"
    )


def _money(value) -> Decimal:
    """A sum as the driver gives it (Decimal on PostgreSQL, int or float on SQLite) in yuan with two places."""
    return Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP)


def share_of(part: Decimal, total: Decimal) -> Decimal:
    if not total:
        return Decimal("0").quantize(SHARE_PLACES)
    return (part / total).quantize(SHARE_PLACES, rounding=ROUND_HALF_UP)


def top_suppliers(
    *, first: Period, last: Period, taxpayer_ids: Iterable[int] | None = None, min_share: Decimal | None = None
) -> list[TopSupplier]:
    """Each taxpayer's largest supplier over the window, by taxpayer id; ``min_share`` keeps those whose share is
    at least that (``Decimal("0.8")``: one supplier above 80% of the input)."""
    params: dict = {}
    where = ""
    if taxpayer_ids is not None:
        ids = sorted({int(pk) for pk in taxpayer_ids})
        if not ids:
            return []
        params = {f"t{n}": pk for n, pk in enumerate(ids)}
        where = f"taxpayer_id IN ({', '.join(f'%({key})s' for key in params)})"
    sql = top_supplier_sql(first, last, where=where) + " ORDER BY taxpayer_id"
    found = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params or None)
        for taxpayer_id, identifier, name, supplier_tax, total_tax in cursor.fetchall():
            supplier, total = _money(supplier_tax), _money(total_tax)
            share = share_of(supplier, total)
            if min_share is None or share >= min_share:
                found.append(TopSupplier(taxpayer_id, identifier, name, supplier, total, share))
    return found


def supplier_inputs_for_taxpayer(*, taxpayer_id: int, first: Period, last: Period) -> QuerySet[SupplierInput]:
    """One taxpayer's supplier rows of the window, grouped per supplier (evidence for a hit): ``supplier_identifier,
    name, status, status_since, tax, months``, the largest first."""
    return (
        _window(SupplierInput.objects.all(), first, last, [taxpayer_id])
        .values("supplier_identifier")
        .annotate(
            name=Max("supplier_name"),
            status=Max("supplier_status"),
            status_since=Max("supplier_status_since"),
            tax=Sum("input_tax"),
            months=Count("id"),
        )
        .order_by("-tax", "supplier_identifier")
    )

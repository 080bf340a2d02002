"""Per-taxpayer yearly input-tax sums (``TaxpayerInputYear``), kept up to date with set-based SQL.

Why: the input composition ratio sums every month since 2019-04. Summing the history in
each nightly run would make its cost grow with the years; instead the sums are refreshed
once, when returns change (after an import, through ``taxpayers.signals.import_applied``,
and at the start of each run for anything changed since the last refresh), for the
affected taxpayers only. One ``DELETE`` and one ``INSERT … SELECT … GROUP BY`` with a
window function for the running total; works on PostgreSQL and SQLite.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from taxpayers.models import VatReturn

from .models import INPUT_KINDS, AggregateState, TaxpayerInputYear

RATIO_FIRST_PERIOD = "2019-04"


def _refresh_sql(where: str) -> str:
    table = connection.ops.quote_name(TaxpayerInputYear._meta.db_table)
    returns = connection.ops.quote_name(VatReturn._meta.db_table)
    year_cols = ", ".join(f"year_{k}" for k in INPUT_KINDS)
    cum_cols = ", ".join(f"cum_{k}" for k in INPUT_KINDS)
    sums = ", ".join(f"SUM(input_{k}) AS year_{k}" for k in INPUT_KINDS)
    running = ", ".join(
        f"SUM(year_{k}) OVER (PARTITION BY taxpayer_id ORDER BY year ROWS UNBOUNDED PRECEDING)" for k in INPUT_KINDS
    )
    # Table and column names come from model metadata; values are parameters.
    return f"""
        INSERT INTO {table} (taxpayer_id, year, {year_cols}, {cum_cols}, computed_at)
        SELECT taxpayer_id, year, {year_cols}, {running}, %s
        FROM (
            SELECT taxpayer_id, CAST(SUBSTR(period, 1, 4) AS INTEGER) AS year, {sums}
            FROM {returns}
            WHERE period >= '{RATIO_FIRST_PERIOD}' AND {where}
            GROUP BY taxpayer_id, CAST(SUBSTR(period, 1, 4) AS INTEGER)
        ) AS yearly
    """  # noqa: S608


def refresh_aggregates(*, taxpayer_ids: list[int] | None = None) -> int:
    """Recompute the yearly sums of ``taxpayer_ids`` (None: every taxpayer). Returns rows written."""
    table = connection.ops.quote_name(TaxpayerInputYear._meta.db_table)
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        if taxpayer_ids is None:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
            cursor.execute(_refresh_sql("1 = 1"), [now])
        else:
            written = 0
            for start in range(0, len(taxpayer_ids), 5000):
                ids = list(taxpayer_ids[start : start + 5000])
                marks = ", ".join(["%s"] * len(ids))
                cursor.execute(f"DELETE FROM {table} WHERE taxpayer_id IN ({marks})", ids)  # noqa: S608
                cursor.execute(_refresh_sql(f"taxpayer_id IN ({marks})"), [now, *ids])
                written += cursor.rowcount
            return written
        return cursor.rowcount


def refresh_stale_aggregates() -> int:
    """Refresh the taxpayers whose returns changed since the last refresh (all of them the first time).

    The state row is locked so two runs do not refresh at once; a return written while we work
    has ``updated_at`` ≥ ``started`` and is picked up next time.
    """
    started = timezone.now()
    with transaction.atomic():
        state, _ = AggregateState.objects.select_for_update().get_or_create(pk=1)
        if state.refreshed_at is None:
            written = refresh_aggregates()
        else:
            ids = list(
                VatReturn.objects.filter(updated_at__gte=state.refreshed_at)
                .values_list("taxpayer_id", flat=True)
                .distinct()
            )
            written = refresh_aggregates(taxpayer_ids=ids) if ids else 0
        state.refreshed_at = started
        state.save(update_fields=["refreshed_at"])
    return written

"""``ReturnState``: each return's running state for the refund rules, kept up to date with set-based SQL.

Why: the rules look back over years (the input composition ratio sums every month since
2019-04), and a province's nightly screening must not pay for the length of history. So the
history is folded once, when returns change, into one row per return (see the model), and a
screening reads the one row of the tax period.

Rows are written period by period (as monthly imports add them), so that the rows a screening
reads — one period's — lie together on disk.

How: the taxpayers whose returns changed are written to a temporary table with the first
changed month. For each, the rows from that month on are deleted and rebuilt by one
``INSERT … SELECT`` with window functions over the returns from January of the year before
(what the windows reach back to: 12 months of sales, the prior year's input, the prior
December), seeded with the running sums of the last row that was kept. An import of one new
month thus reads at most two years of returns per taxpayer; a correction of an old return
rebuilds that taxpayer's rows from it on. Works on PostgreSQL and SQLite; the merged sales
breakdown (``sales_12m_breakdown``) is filled on PostgreSQL only, where the set-based
screening reads it (the row-by-row path reads the returns themselves).
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.periods import Period
from taxpayers.models import VatReturn

from ..models import AggregateState, ReturnState
from ..rules.parameters import VOUCHER_GROUPS
from .parallel import in_parallel

FIRST_STATE = Period(2019, 3)  # the earliest tax period any application rests on (2019-04 filing)
RATIO_FIRST = Period(2019, 4)  # 39号 第八条第（三）项: the ratio and the six-month tests count from here
FIRST_QUARTER_END = Period(2019, 6)  # the first quarter that starts in 2019-04
DIRTY_TABLE = "refund_dirty_taxpayers"


def month_index_sql(column: str) -> str:
    """``YYYY-MM`` → year × 12 + month − 1, in SQL both databases speak."""
    return f"(CAST(SUBSTR({column}, 1, 4) AS INTEGER) * 12 + CAST(SUBSTR({column}, 6, 2) AS INTEGER) - 1)"


def fen_sql(expression: str) -> str:
    """A yuan amount with two places as integer fen (PostgreSQL's numeric → bigint cast is exact here)."""
    if connection.vendor == "postgresql":
        return f"(({expression}) * 100)::bigint"
    return f"CAST(ROUND(({expression}) * 100) AS INTEGER)"


def _broken_down_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} <> '{{}}'::jsonb)"
    return f"({column} IS NOT NULL AND {column} NOT IN ('{{}}', 'null', ''))"


def _breakdown_sql() -> str:
    """The 12 months' sales by industry, merged (PostgreSQL, for the set-based screening); NULL elsewhere."""
    if connection.vendor != "postgresql":
        return "NULL"
    returns = VatReturn._meta.db_table
    first = "(w.mi - 11)"
    first_period = f"lpad(({first} / 12)::text, 4, '0') || '-' || lpad(({first} % 12 + 1)::text, 2, '0')"
    return f"""CASE WHEN w.returns_12m_broken_down > 0 THEN (
        SELECT jsonb_object_agg(e.code, e.fen) FROM (
            SELECT x.key AS code, SUM((x.value::numeric * 100)::bigint) AS fen
            FROM {returns} r2, jsonb_each_text(r2.sales_by_industry) AS x
            WHERE r2.taxpayer_id = w.taxpayer_id AND r2.period BETWEEN {first_period} AND w.period
            GROUP BY x.key
        ) AS e
    ) END"""


def _rebuild_sql() -> str:
    returns = VatReturn._meta.db_table
    states = ReturnState._meta.db_table
    groups = list(VOUCHER_GROUPS)
    group_sums = ", ".join(
        f"{fen_sql(' + '.join(f'r.input_{kind}' for kind in kinds))} AS g_{name}"
        for name, kinds in VOUCHER_GROUPS.items()
    )
    ec = fen_sql("r.end_credit")
    months_before = "OVER (PARTITION BY taxpayer_id ORDER BY mi RANGE BETWEEN 5 PRECEDING AND 1 PRECEDING)"
    quarter_before = "OVER (PARTITION BY taxpayer_id ORDER BY mi RANGE BETWEEN 3 PRECEDING AND 3 PRECEDING)"
    twelve = "OVER (PARTITION BY taxpayer_id ORDER BY mi RANGE BETWEEN 11 PRECEDING AND CURRENT ROW)"
    running = "OVER (PARTITION BY taxpayer_id ORDER BY mi ROWS UNBOUNDED PRECEDING)"
    by_year = "OVER (PARTITION BY taxpayer_id ORDER BY yr RANGE BETWEEN UNBOUNDED PRECEDING AND 2 PRECEDING)"
    last_year = "OVER (PARTITION BY taxpayer_id ORDER BY yr RANGE BETWEEN 1 PRECEDING AND 1 PRECEDING)"
    running_sums = ", ".join(
        f"SUM(g_{g} * counted) {running} AS run_{g}, SUM(g_{g}) {running} AS all_{g}" for g in groups
    )
    state_columns = ", ".join([f"from_2019_{g}" for g in groups] + [f"from_prior_january_{g}" for g in groups])
    # from 2019-04: the running sum of the months from 2019-04, seeded with the last row kept;
    # from the prior January: the running sum of everything read, less what was read up to two years before.
    state_values = ", ".join(
        [f"COALESCE(d.seed_{g}, 0) + w.run_{g}" for g in groups]
        + [f"w.all_{g} - COALESCE(w.before_{g}, 0)" for g in groups]
    )
    # Table names come from model metadata and numbers from constants; nothing here is user input.
    return f"""
    WITH raw AS (
        SELECT r.taxpayer_id, r.period, {month_index_sql("r.period")} AS mi,
               CAST(SUBSTR(r.period, 1, 4) AS INTEGER) AS yr,
               {ec} AS ec, {fen_sql("r.vat_arrears")} AS ar, {fen_sql("r.approved_unbooked_export_refund")} AS ex,
               {fen_sql("r.sales_total")} AS sales, {_broken_down_sql("r.sales_by_industry")} AS is_broken,
               COALESCE(b.base, 0) AS base_or_zero, b.base, {group_sums}
        FROM {returns} r
        JOIN {DIRTY_TABLE} d ON d.taxpayer_id = r.taxpayer_id
        LEFT JOIN (
            SELECT r0.taxpayer_id, {fen_sql("r0.end_credit")} AS base
            FROM {returns} r0 WHERE r0.period = '{FIRST_STATE}'
        ) AS b ON b.taxpayer_id = r.taxpayer_id
        WHERE {month_index_sql("r.period")} >= d.read_from
    ),
    src AS (
        SELECT raw.*,
               CASE WHEN is_broken THEN 0 ELSE sales END AS plain,
               CASE WHEN is_broken THEN 1 ELSE 0 END AS broken,
               CASE WHEN mi % 3 = 2 THEN 0 ELSE 1 END AS off_quarter,
               CASE WHEN mi >= {RATIO_FIRST.index} AND ec > 0 THEN 1 ELSE 0 END AS pos_m,
               CASE WHEN mi >= {RATIO_FIRST.index} AND ec > base_or_zero THEN 1 ELSE 0 END AS above_m,
               CASE WHEN mi >= {FIRST_QUARTER_END.index} AND ec > 0 THEN 1 ELSE 0 END AS pos_q,
               CASE WHEN mi >= {FIRST_QUARTER_END.index} AND ec > base_or_zero THEN 1 ELSE 0 END AS above_q,
               CASE WHEN mi >= {RATIO_FIRST.index} THEN 1 ELSE 0 END AS counted
        FROM raw
    ),
    w AS (
        SELECT taxpayer_id, period, mi, yr, ec, ar, ex, base,
               SUM(pos_m) {months_before} AS months_positive,
               SUM(above_m) {months_before} AS months_above_base,
               SUM(pos_q) {quarter_before} AS quarter_positive,
               SUM(above_q) {quarter_before} AS quarter_above_base,
               SUM(plain) {twelve} AS sales_12m_plain,
               SUM(broken) {twelve} AS returns_12m_broken_down,
               SUM(off_quarter) {twelve} AS returns_12m_off_quarter,
               {running_sums},
               {", ".join(f"SUM(g_{g}) {by_year} AS before_{g}" for g in groups)},
               MAX(CASE WHEN mi % 12 = 11 THEN ec END) {last_year} AS prior_dec,
               MAX(CASE WHEN mi % 12 = 11 THEN 1 ELSE 0 END) {last_year} AS has_prior_dec
        FROM src
    )
    INSERT INTO {states} (
        taxpayer_id, period, period_index, end_credit, vat_arrears, approved_unbooked_export_refund,
        base_2019_credit, prior_year_end_credit, months_positive, months_above_base,
        quarter_positive, quarter_above_base, {state_columns},
        sales_12m_plain, sales_12m_breakdown, returns_12m_broken_down, returns_12m_off_quarter
    )
    SELECT w.taxpayer_id, w.period, w.mi, w.ec, w.ar, w.ex,
           w.base, CASE WHEN w.has_prior_dec = 1 THEN w.prior_dec END,
           COALESCE(w.months_positive, 0), COALESCE(w.months_above_base, 0),
           COALESCE(w.quarter_positive, 0) > 0, COALESCE(w.quarter_above_base, 0) > 0, {state_values},
           w.sales_12m_plain, {_breakdown_sql()}, w.returns_12m_broken_down, w.returns_12m_off_quarter
    FROM w
    JOIN {DIRTY_TABLE} d ON d.taxpayer_id = w.taxpayer_id
    WHERE w.mi >= d.from_index
    ORDER BY w.mi, w.taxpayer_id
    """


def rebuild_return_states(*, changed_since=None, changed: dict[int, Period] | None = None) -> int:
    """Rebuild the states of the taxpayers whose returns changed; with no argument, of every taxpayer.

    ``changed_since``: returns updated at or after this time; ``changed``: taxpayer id → the
    earliest changed period. Returns the number of rows written (-1 where the database does not
    say). One transaction, so a screening never sees a half-rebuilt taxpayer.
    """
    returns = connection.ops.quote_name(VatReturn._meta.db_table)
    if changed_since is None and changed is None:
        return _rebuild_everything(workers=1)
    with transaction.atomic(), connection.cursor() as cursor:
        _tune(cursor)
        _create_dirty_table(cursor)
        if changed_since is not None:
            cursor.execute(
                f"INSERT INTO {DIRTY_TABLE} (taxpayer_id, first_changed) "
                f"SELECT taxpayer_id, MIN({month_index_sql('period')}) FROM {returns} "
                "WHERE updated_at >= %s GROUP BY taxpayer_id",
                [changed_since],
            )
        else:
            rows = [(pk, period.index) for pk, period in changed.items()]
            for start in range(0, len(rows), 1000):
                chunk = rows[start : start + 1000]
                cursor.execute(
                    f"INSERT INTO {DIRTY_TABLE} (taxpayer_id, first_changed) VALUES "
                    + ", ".join(["(%s, %s)"] * len(chunk)),
                    [value for row in chunk for value in row],
                )
        return _rebuild_dirty(cursor, fresh=False)


FULL_REBUILD_CHUNK = 100_000  # taxpayer ids per statement when everything is rebuilt


def _tune(cursor) -> None:
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL work_mem = '256MB'")  # the window sorts of a large rebuild, in memory


def rebuild_all_return_states() -> int:
    """Every taxpayer's states from scratch, ``SCREENING_WORKERS`` ranges of ids at once (after a bulk load).

    Not one transaction: a province's first build is an hour of work per core. Only when it has
    finished does ``AggregateState`` record the refresh, so an interrupted build is started again by
    the next screening.
    """
    started = timezone.now()
    written = _rebuild_everything(workers=settings.SCREENING_WORKERS)
    AggregateState.objects.update_or_create(pk=1, defaults={"refreshed_at": started})
    return written


def _rebuild_everything(*, workers: int) -> int:
    """Delete every state, then rebuild a range of taxpayer ids per transaction."""
    returns = connection.ops.quote_name(VatReturn._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(ReturnState._meta.db_table)}")
        cursor.execute(f"SELECT MIN(taxpayer_id), MAX(taxpayer_id) FROM {returns}")
        lo, hi = cursor.fetchone()
    if lo is None:
        return 0

    def rebuild_range(start: int) -> int:
        with transaction.atomic(), connection.cursor() as cursor:
            _tune(cursor)
            _create_dirty_table(cursor)
            cursor.execute(
                f"INSERT INTO {DIRTY_TABLE} (taxpayer_id, first_changed) "
                f"SELECT DISTINCT taxpayer_id, 0 FROM {returns} WHERE taxpayer_id BETWEEN %s AND %s",
                [start, start + FULL_REBUILD_CHUNK - 1],
            )
            return _rebuild_dirty(cursor, fresh=True)

    starts = range(lo, hi + 1, FULL_REBUILD_CHUNK)
    return sum(in_parallel(rebuild_range, starts, workers=workers))


def _create_dirty_table(cursor) -> None:
    seeds = ", ".join(f"seed_{g} BIGINT" for g in VOUCHER_GROUPS)
    cursor.execute(f"DROP TABLE IF EXISTS {DIRTY_TABLE}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {DIRTY_TABLE} (taxpayer_id BIGINT PRIMARY KEY, first_changed INTEGER NOT NULL, "
        f"from_index INTEGER, read_from INTEGER, {seeds})"
    )


def _rebuild_dirty(cursor, *, fresh: bool) -> int:
    """Rebuild the rows of the taxpayers in the dirty table from their first changed month on."""
    states = connection.ops.quote_name(ReturnState._meta.db_table)
    # From the first changed month (never before 2019-03), reading from January of the year before.
    cursor.execute(
        f"UPDATE {DIRTY_TABLE} SET from_index = CASE WHEN first_changed < {FIRST_STATE.index} "
        f"THEN {FIRST_STATE.index} ELSE first_changed END"
    )
    cursor.execute(f"UPDATE {DIRTY_TABLE} SET read_from = (from_index / 12 - 1) * 12")
    if not fresh:
        # The running sums from 2019-04 go on from the last row kept before the months read.
        seeds = ", ".join(f"seed_{g}" for g in VOUCHER_GROUPS)
        sums = ", ".join(f"s.from_2019_{g}" for g in VOUCHER_GROUPS)
        cursor.execute(
            f"""UPDATE {DIRTY_TABLE} SET ({seeds}) = (
                    SELECT {sums} FROM {states} s
                    WHERE s.taxpayer_id = {DIRTY_TABLE}.taxpayer_id AND s.period_index < {DIRTY_TABLE}.read_from
                    ORDER BY s.period_index DESC LIMIT 1)"""
        )
        cursor.execute(
            f"""DELETE FROM {states} WHERE EXISTS (
                    SELECT 1 FROM {DIRTY_TABLE} d
                    WHERE d.taxpayer_id = {states}.taxpayer_id AND {states}.period_index >= d.from_index)"""
        )
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {DIRTY_TABLE}")  # the planner otherwise guesses its size
    cursor.execute(_rebuild_sql())
    written = cursor.rowcount
    cursor.execute(f"DROP TABLE {DIRTY_TABLE}")
    return written


def refresh_stale_aggregates() -> int:
    """Rebuild the taxpayers whose returns changed since the last refresh (everyone the first time).

    The state row is locked so two refreshes do not run at once; a return written while we work
    has ``updated_at`` ≥ ``started`` and is picked up next time.
    """
    started = timezone.now()
    with transaction.atomic():
        state, _ = AggregateState.objects.select_for_update().get_or_create(pk=1)
        if state.refreshed_at is None:
            written = rebuild_return_states()
        else:
            written = rebuild_return_states(changed_since=state.refreshed_at)
        state.refreshed_at = started
        state.save(update_fields=["refreshed_at"])
    return written

"""``ReturnState``: each return's running state for the refund rules, kept up to date with set-based SQL.

Why: the rules look back over years (the input composition ratio sums every month since
2019-04), and a province's nightly screening must not pay for the length of history. So the
history is folded once, when returns change, into one row per return (see the model), and a
screening reads the one row of the tax period.

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

from django.db import connection, transaction
from django.utils import timezone

from taxpayers.models import VatReturn

from .models import AggregateState, ReturnState
from .rules.parameters import VOUCHER_GROUPS
from .rules.periods import Period

FIRST_STATE = Period(2019, 3)  # the earliest tax period any application rests on (2019-04 filing)
RATIO_FIRST = Period(2019, 4)  # 39号 第八条第（三）项: the ratio and the six-month tests count from here
FIRST_QUARTER_END = Period(2019, 6)  # the first quarter that starts in 2019-04
DIRTY_TABLE = "refund_dirty_taxpayers"


def month_index_sql(column: str) -> str:
    """``YYYY-MM`` → year × 12 + month − 1, in SQL both databases speak."""
    return f"(CAST(SUBSTR({column}, 1, 4) AS INTEGER) * 12 + CAST(SUBSTR({column}, 6, 2) AS INTEGER) - 1)"


def fen_sql(expression: str) -> str:
    """A yuan amount with two places as integer fen."""
    return f"CAST(ROUND(({expression}) * 100) AS BIGINT)"


def _broken_down_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} IS NOT NULL AND {column} <> '{{}}'::jsonb)"
    return f"({column} IS NOT NULL AND {column} NOT IN ('{{}}', 'null', ''))"


def _breakdown_sql() -> str:
    """The 12 months' sales by industry, merged (PostgreSQL); NULL elsewhere."""
    if connection.vendor != "postgresql":
        return "NULL"
    returns = VatReturn._meta.db_table
    return f"""CASE WHEN w.returns_12m_broken_down > 0 THEN (
        SELECT jsonb_object_agg(e.code, e.fen) FROM (
            SELECT x.key AS code, SUM(ROUND(x.value::numeric * 100))::bigint AS fen
            FROM {returns} r2, jsonb_each_text(r2.sales_by_industry) AS x
            WHERE r2.taxpayer_id = w.taxpayer_id
              AND {month_index_sql("r2.period")} BETWEEN w.mi - 11 AND w.mi
            GROUP BY x.key
        ) AS e
    ) END"""  # noqa: S608


def _rebuild_sql() -> str:
    returns = VatReturn._meta.db_table
    states = ReturnState._meta.db_table
    groups = list(VOUCHER_GROUPS)
    group_sums = ",\n".join(
        f"{fen_sql(' + '.join(f'r.input_{kind}' for kind in kinds))} AS g_{name}"
        for name, kinds in VOUCHER_GROUPS.items()
    )
    since_2019 = ",\n".join(f"CASE WHEN mi >= {RATIO_FIRST.index} THEN g_{g} ELSE 0 END AS c_{g}" for g in groups)
    # The whole prior year of each row, as a frame (no self-join: SQLite would scan it for every row).
    prior_year = "OVER (PARTITION BY taxpayer_id ORDER BY yr RANGE BETWEEN 1 PRECEDING AND 1 PRECEDING)"
    running = ",\n".join(
        f"SUM(c_{g}) OVER (PARTITION BY taxpayer_id ORDER BY mi ROWS UNBOUNDED PRECEDING) AS run_{g},\n"
        f"SUM(g_{g}) OVER (PARTITION BY taxpayer_id, yr ORDER BY mi ROWS UNBOUNDED PRECEDING) AS ytd_{g},\n"
        f"SUM(g_{g}) {prior_year} AS py_{g}"
        for g in groups
    )
    five_before = "OVER (PARTITION BY taxpayer_id ORDER BY mi RANGE BETWEEN 5 PRECEDING AND 1 PRECEDING)"
    quarter_before = "OVER (PARTITION BY taxpayer_id ORDER BY mi RANGE BETWEEN 3 PRECEDING AND 3 PRECEDING)"
    twelve = "OVER (PARTITION BY taxpayer_id ORDER BY mi RANGE BETWEEN 11 PRECEDING AND CURRENT ROW)"
    state_columns = ", ".join(
        [f"from_2019_{g}" for g in groups] + [f"from_prior_january_{g}" for g in groups]
    )
    state_values = ", ".join(
        [f"COALESCE(seed.from_2019_{g}, 0) + w.run_{g}" for g in groups]
        + [f"COALESCE(w.py_{g}, 0) + w.ytd_{g}" for g in groups]
    )
    # The 2019-03 base and the prior December come from the returns table itself, looked up through its
    # (taxpayer, period) unique index: joined as CTEs, SQLite scanned them for every row (hours for a county).
    base = fen_sql("b.end_credit")
    # Table names come from model metadata and numbers from constants; nothing here is user input.
    return f"""
    WITH src AS (
        SELECT r.taxpayer_id, r.period, {month_index_sql("r.period")} AS mi,
               CAST(SUBSTR(r.period, 1, 4) AS INTEGER) AS yr,
               {fen_sql("r.end_credit")} AS ec, {fen_sql("r.vat_arrears")} AS ar,
               {fen_sql("r.approved_unbooked_export_refund")} AS ex, {fen_sql("r.sales_total")} AS sales,
               CASE WHEN {_broken_down_sql("r.sales_by_industry")} THEN 1 ELSE 0 END AS broken,
               {group_sums}
        FROM {returns} r JOIN {DIRTY_TABLE} d ON d.taxpayer_id = r.taxpayer_id
        WHERE {month_index_sql("r.period")} >= d.read_from
    ),
    flagged AS (
        SELECT src.*, {base} AS base,
               CASE WHEN ec > 0 AND mi >= {RATIO_FIRST.index} THEN 1 ELSE 0 END AS pos_m,
               CASE WHEN ec > COALESCE({base}, 0) AND mi >= {RATIO_FIRST.index} THEN 1 ELSE 0 END AS above_m,
               CASE WHEN ec > 0 AND mi >= {FIRST_QUARTER_END.index} THEN 1 ELSE 0 END AS pos_q,
               CASE WHEN ec > COALESCE({base}, 0) AND mi >= {FIRST_QUARTER_END.index} THEN 1 ELSE 0 END AS above_q,
               CASE WHEN mi % 3 <> 2 THEN 1 ELSE 0 END AS off_quarter,
               {since_2019}
        FROM src LEFT JOIN {returns} b ON b.taxpayer_id = src.taxpayer_id AND b.period = '{FIRST_STATE}'
    ),
    w AS (
        SELECT flagged.*,
               SUM(pos_m) {five_before} AS months_positive,
               SUM(above_m) {five_before} AS months_above_base,
               SUM(pos_q) {quarter_before} AS quarter_positive,
               SUM(above_q) {quarter_before} AS quarter_above_base,
               SUM(CASE WHEN broken = 0 THEN sales ELSE 0 END) {twelve} AS sales_12m_plain,
               SUM(broken) {twelve} AS returns_12m_broken_down,
               SUM(off_quarter) {twelve} AS returns_12m_off_quarter,
               {running}
        FROM flagged
    )
    INSERT INTO {states} (
        taxpayer_id, period, period_index, end_credit, vat_arrears, approved_unbooked_export_refund,
        base_2019_credit, prior_year_end_credit, months_positive, months_above_base,
        quarter_positive, quarter_above_base, {state_columns},
        sales_12m_plain, sales_12m_breakdown, returns_12m_broken_down, returns_12m_off_quarter
    )
    SELECT w.taxpayer_id, w.period, w.mi, w.ec, w.ar, w.ex,
           w.base, {fen_sql("pd.end_credit")}, COALESCE(w.months_positive, 0), COALESCE(w.months_above_base, 0),
           COALESCE(w.quarter_positive, 0) > 0, COALESCE(w.quarter_above_base, 0) > 0, {state_values},
           w.sales_12m_plain, {_breakdown_sql()}, w.returns_12m_broken_down, w.returns_12m_off_quarter
    FROM w
    JOIN {DIRTY_TABLE} d ON d.taxpayer_id = w.taxpayer_id
    LEFT JOIN {returns} pd ON pd.taxpayer_id = w.taxpayer_id AND pd.period = CAST(w.yr - 1 AS TEXT) || '-12'
    LEFT JOIN {states} seed ON seed.taxpayer_id = w.taxpayer_id AND seed.period_index = d.seed_index
    WHERE w.mi >= d.from_index
    """  # noqa: S608


def rebuild_return_states(*, changed_since=None, changed: dict[int, str] | None = None) -> int:
    """Rebuild the states of the taxpayers whose returns changed; with no argument, of every taxpayer.

    ``changed_since``: returns updated at or after this time; ``changed``: taxpayer id → the
    earliest changed period. Returns the number of rows written. One transaction, so a screening
    never sees a half-rebuilt taxpayer.
    """
    states = connection.ops.quote_name(ReturnState._meta.db_table)
    returns = connection.ops.quote_name(VatReturn._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {DIRTY_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {DIRTY_TABLE} (taxpayer_id BIGINT PRIMARY KEY, first_changed INTEGER NOT NULL, "
            "from_index INTEGER, read_from INTEGER, seed_index INTEGER)"
        )
        everything = changed_since is None and changed is None
        if everything:
            cursor.execute(f"DELETE FROM {states}")  # noqa: S608
            cursor.execute(
                f"INSERT INTO {DIRTY_TABLE} (taxpayer_id, first_changed) "  # noqa: S608
                f"SELECT DISTINCT taxpayer_id, 0 FROM {returns}"
            )
        elif changed_since is not None:
            cursor.execute(
                f"INSERT INTO {DIRTY_TABLE} (taxpayer_id, first_changed) "  # noqa: S608
                f"SELECT taxpayer_id, MIN({month_index_sql('period')}) FROM {returns} "
                "WHERE updated_at >= %s GROUP BY taxpayer_id",
                [changed_since],
            )
        else:
            rows = [(pk, Period.parse(period).index) for pk, period in changed.items()]
            for start in range(0, len(rows), 1000):
                chunk = rows[start : start + 1000]
                cursor.execute(
                    f"INSERT INTO {DIRTY_TABLE} (taxpayer_id, first_changed) VALUES "  # noqa: S608
                    + ", ".join(["(%s, %s)"] * len(chunk)),
                    [value for row in chunk for value in row],
                )
        # Rebuild from the first changed month (never before 2019-03), reading from January of the year before.
        cursor.execute(
            f"UPDATE {DIRTY_TABLE} SET from_index = CASE WHEN first_changed < {FIRST_STATE.index} "  # noqa: S608
            f"THEN {FIRST_STATE.index} ELSE first_changed END"
        )
        cursor.execute(f"UPDATE {DIRTY_TABLE} SET read_from = (from_index / 12 - 1) * 12")  # noqa: S608
        if not everything:
            cursor.execute(
                f"""UPDATE {DIRTY_TABLE} SET seed_index = (
                        SELECT MAX(s.period_index) FROM {states} s
                        WHERE s.taxpayer_id = {DIRTY_TABLE}.taxpayer_id
                          AND s.period_index < {DIRTY_TABLE}.read_from)"""  # noqa: S608
            )
            cursor.execute(
                f"""DELETE FROM {states} WHERE EXISTS (
                        SELECT 1 FROM {DIRTY_TABLE} d
                        WHERE d.taxpayer_id = {states}.taxpayer_id
                          AND {states}.period_index >= d.from_index)"""  # noqa: S608
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

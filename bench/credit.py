"""Credit prediction benchmark on PostgreSQL (issue 15): N taxpayers with ratings and E dishonesty events, then
the daily prediction.

    DATABASE_URL=postgres://… .venv/bin/python bench/credit.py [--taxpayers 1000000] [--events 5000000]

Builds the data with set-based SQL in the server (taxpayers whose identifier starts with CRBENCH, removed first):
a rating per taxpayer for the last two evaluation years (1 in 20 unrated, 1 in 50 of the C taxpayers repaired
to B; A 30 %, B 45 %, M 10 %, C 10 %, D 5 %, half of the Ds direct), 1 in 100 deregistered, 1 in 50 registered
this year; and E events recorded this year up to ``--today``, drawn with a fixed seed and spread as they are in
a county — 40 % of the taxpayers have none, a few have dozens — each recorded the day after a deadline (the
16th to the 25th of a month), with the indicator mix of the frequent behaviours (late returns 45 %, late
financial statements 25 %, 财务会计制度 not filed 8 %, withholding, 汇算清缴, software, related-party report,
export refund, false promise), 4 in 10 corrected within 90 days, 1 in 20 首违不罚, and the tax involved on the
amount-rule indicators. No VAT returns: the derivation of late returns reads none and writes nothing.

Then the two steps of ``credit_warnings_daily`` — ``late_returns_derive`` and ``credit_predictions_refresh``, the
product code — timed apart, and unless ``--once`` a second run over the rows the first wrote (the next day's
job: the predictions are upserted, an unchanged one not written again; the rows written are counted). Then the
floor: ONE statement that reads the same rows — every registered taxpayer, its rating in force
(``rating_in_force_sql``) and its events of the year, aggregated per taxpayer and fetched in full through a
server-side cursor — and the ratio prediction/statement. Seconds are wall-clock, with this process's CPU seconds
beside them (on a shared machine the wall clock also counts the others' work); peak memory is the max RSS of this
process (the database server's is its own). ``--profile F`` writes a cProfile of the first prediction.
``--build-only`` builds and keeps the data; ``--reuse`` predicts it again.

Last figures (1,000,000 taxpayers, 5,000,000 events, a 2-core machine shared with other work):
before the memoised inputs, COPY and unchanged rows left alone: prediction 2,618 s wall / 434 s CPU, the statement
54 s, ratio 48 (under heavy load); after: prediction 912 s wall / 185 s CPU, the next day's 611 s / 200 s CPU
with 0 rows written, the statement 61 s, ratio 14.9 (load average about 8).
"""

import argparse
import cProfile
import datetime as dt
import os
import pstats
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

django.setup()

from django.db import connection, models  # noqa: E402

from accounts.models import Branch  # noqa: E402
from credit.selectors import rating_in_force_sql  # noqa: E402
from credit.services import late_returns_derive  # noqa: E402
from credit.warnings.services import credit_predictions_refresh  # noqa: E402
from taxpayers.models import Taxpayer  # noqa: E402

PREFIX = "CRBENCH"
BENCH = f"SELECT id FROM taxpayers_taxpayer WHERE identifier LIKE '{PREFIX}%%'"

# Per taxpayer, the expression of each column we set; every other column takes its default (so the build keeps
# working when the registry gains or loses a column).
TAXPAYER_VALUES = {
    "identifier": f"'{PREFIX}' || lpad(i::text, 13, '0')",
    "name": "'信用压测企业' || i",
    "branch": "%(branch)s",
    "status": "CASE WHEN i %% 100 = 0 THEN 'deregistered' ELSE 'normal' END",
    "industry_code": "(ARRAY['C3411', 'E4710', 'F5123', 'I6510'])[1 + i %% 4]",
    "registered_on": "CASE WHEN i %% 50 = 7 THEN %(year_start)s::date + 20 ELSE DATE '2015-01-01' END",
    "general_taxpayer_since": "DATE '2015-06-01'",
    "filing_frequency": "CASE WHEN i %% 10 = 0 THEN 'quarterly' ELSE 'monthly' END",
    "size": "(ARRAY['micro', 'small', 'medium', 'large'])[1 + i %% 4]",
    "created_at": "now()",
    "updated_at": "now()",
}

# The indicator by the event's draw k in 0..99, and the tax involved (amount-rule indicators carry an amount).
INDICATOR_SQL = """CASE WHEN k < 45 THEN '010101' WHEN k < 70 THEN '010103' WHEN k < 78 THEN '010501'
    WHEN k < 86 THEN '010102' WHEN k < 92 THEN '010107' WHEN k < 95 THEN '010502' WHEN k < 98 THEN '010503'
    WHEN k < 99 THEN '010301' ELSE '010106' END"""
TAX_SQL = """CASE WHEN k < 45 THEN (ARRAY['增值税', '企业所得税', '个人所得税', '印花税'])[1 + (id + j) %% 4]
    WHEN k BETWEEN 78 AND 91 THEN '个人所得税' ELSE '' END"""


def _sql(statement: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def _default_sql(field: models.Field) -> str:
    if field.has_default() and not callable(field.default):
        value = field.default
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return "'" + str(value).replace("'", "''") + "'"
    if field.null:
        return "NULL"
    if isinstance(field, models.CharField | models.TextField):
        return "''"
    raise SystemExit(f"bench/credit.py does not know what to put in taxpayers_taxpayer.{field.column}")


def _clean() -> None:
    for table in ("credit_creditprediction", "credit_dishonestyevent", "credit_creditrating"):
        _sql(f"DELETE FROM {table} WHERE taxpayer_id IN ({BENCH})")
    _sql(f"DELETE FROM taxpayers_taxpayer WHERE identifier LIKE '{PREFIX}%%'")


def _build(taxpayers: int, events: int, today: dt.date) -> int:
    """The data; returns the number of events stored."""
    _clean()
    branch, _ = Branch.objects.get_or_create(code="BENCH", defaults={"name": "压测分局", "kind": Branch.Kind.BRANCH})
    fields = [f for f in Taxpayer._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(f.column for f in fields)
    values = ", ".join(TAXPAYER_VALUES.get(f.name) or _default_sql(f) for f in fields)
    year_start = dt.date(today.year, 1, 1)
    _sql(
        f"INSERT INTO taxpayers_taxpayer ({columns}) SELECT {values} FROM generate_series(1, %(n)s) AS i",
        {"branch": branch.pk, "n": taxpayers, "year_start": year_start},
    )
    last, this = today.year - 2, today.year - 1
    _sql(
        f"""
        INSERT INTO credit_creditrating (taxpayer_id, year, level, score, evaluated_on, basis, rule_set, note,
            created_at, updated_at)
        SELECT id, y, lvl, CASE WHEN lvl = 'M' OR (lvl = 'D' AND id %% 2 = 0) THEN NULL
                WHEN lvl = 'A' THEN 90 + id %% 10 WHEN lvl = 'B' THEN 70 + id %% 20
                WHEN lvl = 'C' THEN 40 + id %% 30 ELSE 20 + id %% 20 END,
            make_date(y + 1, 4, 18), 'evaluated', CASE WHEN y >= 2025 THEN '2025' ELSE '2014' END, '', now(), now()
        FROM (SELECT id, y, (ARRAY['A', 'A', 'A', 'A', 'A', 'A', 'B', 'B', 'B', 'B', 'B', 'B', 'B', 'B', 'B',
                  'M', 'M', 'C', 'C', 'D'])[1 + (id * 7 + y) %% 20] AS lvl
              FROM ({BENCH}) t, (VALUES (%(last)s), (%(this)s)) AS years (y) WHERE id %% 20 <> 0) rated
        """,
        {"last": last, "this": this},
    )
    _sql(
        f"""
        INSERT INTO credit_creditrating (taxpayer_id, year, level, score, evaluated_on, basis, rule_set, note,
            created_at, updated_at)
        SELECT taxpayer_id, year, 'B', 72, make_date(year + 1, 5, 20), 'repaired', rule_set, '', now(), now()
        FROM credit_creditrating
        WHERE year = %(this)s AND level = 'C' AND taxpayer_id %% 50 = 1 AND taxpayer_id IN ({BENCH})
        """,
        {"this": this},
    )
    # Recorded the day after a deadline, which falls on the 15th or later as holidays move it: the 16th to the
    # 25th of each month whose 25th has passed (distinct days for a taxpayer's first 10 × months events).
    months = today.month if today.day >= 25 else today.month - 1
    if months < 1:
        raise SystemExit("--today must be on or after 25 January")
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.15)")  # the same draws every build (one session, one statement)
        cursor.execute(
            f"""
            INSERT INTO credit_dishonestyevent (taxpayer_id, indicator, recorded_on, tax, amount, corrected_on,
                no_penalty, source, note, created_at, updated_at)
            SELECT id, {INDICATOR_SQL}, recorded_on, {TAX_SQL},
                CASE WHEN k < 45 OR k BETWEEN 78 AND 91 THEN round((random() * 20000)::numeric, 2) END,
                CASE WHEN random() < 0.4 THEN LEAST(recorded_on + (1 + random() * 90)::int, %(today)s::date) END,
                random() < 0.05, 'imported', '', now(), now()
            FROM (
                SELECT t.id, j, floor(random() * 100)::int AS k,
                    make_date(%(year)s, 1 + ((j + t.id) %% %(months)s)::int, 16) + ((j / %(months)s) %% 10)::int
                    AS recorded_on
                FROM (SELECT id, floor(random() * 1000)::int AS h FROM ({BENCH}) b OFFSET 0) t,
                LATERAL generate_series(1, CASE WHEN h < 400 THEN 0 WHEN h < 700 THEN 2 + h %% 5
                    WHEN h < 950 THEN 7 + h %% 8 ELSE 15 + h %% 30 END) AS j
                ORDER BY t.id, j
                LIMIT %(events)s
            ) drawn
            ON CONFLICT (taxpayer_id, indicator, tax, recorded_on) WHERE source = 'imported' DO NOTHING
            """,
            {"today": today, "year": today.year, "months": months, "events": events},
        )
        stored = cursor.rowcount
    for table in ("taxpayers_taxpayer", "credit_creditrating", "credit_dishonestyevent"):
        _sql(f"VACUUM (ANALYZE) {table}")
    return stored


def _statement(today: dt.date) -> tuple[float, int]:
    """ONE statement reading what the prediction reads, fetched in full: (seconds, rows)."""
    rows = 0
    started = time.perf_counter()
    with connection.chunked_cursor() as cursor:
        cursor.execute(
            f"""
            SELECT t.id, t.registered_on, cr.level, cr.score, cr.year, count(e.id),
                count(e.id) FILTER (WHERE e.corrected_on IS NULL), count(e.id) FILTER (WHERE e.no_penalty),
                array_agg(e.indicator ORDER BY e.recorded_on) FILTER (WHERE e.id IS NOT NULL),
                sum(e.amount), min(e.recorded_on), max(e.corrected_on)
            FROM taxpayers_taxpayer t
            LEFT JOIN ({rating_in_force_sql(today)}) AS cr ON cr.taxpayer_id = t.id
            LEFT JOIN credit_dishonestyevent e
                ON e.taxpayer_id = t.id AND e.recorded_on BETWEEN %(start)s AND %(today)s
            WHERE t.status <> 'deregistered'
            GROUP BY t.id, t.registered_on, cr.level, cr.score, cr.year
            """,
            {"start": dt.date(today.year, 1, 1), "today": today},
        )
        while batch := cursor.fetchmany(10_000):
            rows += len(batch)
    return time.perf_counter() - started, rows


def _predict(today: dt.date, profile: str | None) -> dict:
    """The two steps of ``credit_warnings_daily``, timed apart (wall and this process's CPU seconds)."""
    wall, cpu = time.perf_counter(), time.process_time()
    late_returns_derive(today=today)
    figures = {"derive_s": time.perf_counter() - wall, "derive_cpu_s": time.process_time() - cpu}
    profiler = cProfile.Profile() if profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    run = credit_predictions_refresh(today=today)
    if profiler:
        profiler.disable()
    figures.update(predict_s=time.perf_counter() - wall, predict_cpu_s=time.process_time() - cpu, run=run)
    if profiler:
        profiler.dump_stats(profile)
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)
    return figures


def _events_of_year(today: dt.date) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM credit_dishonestyevent WHERE recorded_on BETWEEN %s AND %s",
            [dt.date(today.year, 1, 1), today],
        )
        return cursor.fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taxpayers", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 6, 30))
    parser.add_argument("--once", action="store_true", help="one prediction run (no second run over its rows)")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the first prediction to FILE")
    parser.add_argument("--keep", action="store_true", help="leave the data in the database")
    parser.add_argument("--reuse", action="store_true", help="predict the data a --keep run left (no build)")
    parser.add_argument("--build-only", action="store_true", help="build the data, keep it and stop")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("bench/credit.py needs PostgreSQL (DATABASE_URL=postgres://…)")
    build = 0.0
    if not args.reuse:
        started = time.perf_counter()
        _build(args.taxpayers, args.events, args.today)
        build = time.perf_counter() - started
        if args.build_only:
            print(f"built {args.taxpayers} taxpayers, {_events_of_year(args.today)} events in {build:.1f} s")
            return
    _sql(f"DELETE FROM credit_creditprediction WHERE taxpayer_id IN ({BENCH})")
    _sql("VACUUM credit_creditprediction")  # the first run inserts every row, as on the first day
    first = _predict(args.today, args.profile)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    again = None if args.once else _predict(args.today, None)
    statement, registered = _statement(args.today)
    run, seconds = first["run"], first["predict_s"]
    print(
        f"taxpayers {Taxpayer.objects.count()} ({registered} registered), events of the year "
        f"{_events_of_year(args.today)}; build {build:.1f} s\n"
        f"derive late returns {first['derive_s']:.2f} s (CPU {first['derive_cpu_s']:.2f} s); "
        f"prediction {seconds:.2f} s (CPU {first['predict_cpu_s']:.2f} s, {run.predicted / seconds:.0f}/s), "
        f"rows predicted {run.predicted}, written {run.written}, refused {run.failed}"
        + (
            f"; again over its rows {again['predict_s']:.2f} s (CPU {again['predict_cpu_s']:.2f} s, "
            f"rows written {again['run'].written})"
            if again
            else ""
        )
        + f"\none statement reading the same rows {statement:.2f} s; ratio prediction/statement "
        f"{seconds / statement:.1f} (with the derivation {(first['derive_s'] + seconds) / statement:.1f}); "
        f"peak RSS {peak:.0f} MiB"
    )
    if not args.keep:
        _clean()


if __name__ == "__main__":
    main()

"""Screening benchmark on PostgreSQL (issue 3): N taxpayers × M months of returns, then the nightly run.

    DATABASE_URL=postgres://… .venv/bin/python bench/screening.py [--taxpayers 100000] [--months 84]

Builds the data with set-based SQL (taxpayers whose identifier starts with BENCH, removed first;
1 in 10 files quarterly, 1 in 20 splits its sales across industries, 1 in 50 has a compliance
record; each one rating, A, B, M or C, written through credit's bulk path), builds the
``ReturnState`` rows (the import-time cost, shown apart), runs ``screening_run_execute`` and prints
seconds, taxpayers per second and peak memory (max RSS of this process; the database server's memory
is its own). Then the floor: one INSERT … SELECT that joins the
latest month's returns with their state row (the per-taxpayer aggregates) and writes one row per
taxpayer into the same results table, planned at its best — the least work any screening must do —
and the ratio screening/floor. Unless ``--no-compare-history``, it rebuilds with 24 months and prints
the ratio of the run time at M months to that at 24. Each figure is the median of ``--repeat`` runs.
"""

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402

from accounts.models import Branch  # noqa: E402
from credit.rules.parameters import evaluation_date  # noqa: E402
from credit.services import credit_ratings_bulk_write  # noqa: E402
from refund.models import ScreeningRun  # noqa: E402
from refund.screening.parallel import in_parallel  # noqa: E402
from refund.screening.return_states import rebuild_all_return_states  # noqa: E402
from refund.screening.services import screening_run_execute  # noqa: E402
from taxpayers.models import Taxpayer  # noqa: E402

APPLICATION_PERIOD = "2026-03"
LAST_MONTH_INDEX = 2026 * 12 + 1  # 2026-02 as year*12 + month-1
RATING_YEAR = 2024  # rated on 2025-04-01: the rating in force on the application date
MONEY_COLUMNS = (
    "sales_total", "output_tax", "input_special_invoice", "input_motor_vehicle_invoice", "input_customs",
    "input_tax_payment_certificate", "input_toll_road_e_invoice", "input_air_e_invoice", "input_railway_e_ticket",
    "input_agricultural", "input_other", "input_transferred_out", "tax_payable", "end_credit", "credit_refunded",
    "vat_arrears", "approved_unbooked_export_refund",
)


def _sql(statement: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def _clean() -> None:
    bench = "SELECT id FROM taxpayers_taxpayer WHERE identifier LIKE 'BENCH%%'"
    _sql(f"DELETE FROM refund_screeningresult WHERE taxpayer_id IN ({bench})")
    ScreeningRun.objects.filter(message__startswith="bench").delete()
    _sql(f"DELETE FROM refund_returnstate WHERE taxpayer_id IN ({bench})")
    _sql(f"DELETE FROM taxpayers_vatreturn WHERE taxpayer_id IN ({bench})")
    _sql(f"DELETE FROM taxpayers_compliancerecord WHERE taxpayer_id IN ({bench})")
    _sql(f"DELETE FROM credit_creditrating WHERE taxpayer_id IN ({bench})")
    _sql("DELETE FROM taxpayers_taxpayer WHERE identifier LIKE 'BENCH%%'")


def _build(taxpayers: int, months: int) -> None:
    _clean()
    branch, _ = Branch.objects.get_or_create(code="BENCH", defaults={"name": "压测分局", "kind": Branch.Kind.BRANCH})
    _sql(
        """
        INSERT INTO taxpayers_taxpayer (identifier, name, branch_id, status, industry_code, registered_on,
            general_taxpayer_since, filing_frequency, legal_rep_name, legal_rep_mobile, finance_contact_name,
            finance_contact_mobile, tax_handler_name, tax_handler_mobile, size, size_industry,
            is_export_enterprise, is_key_taxpayer, created_at, updated_at)
        SELECT 'BENCH' || lpad(i::text, 13, '0'), '压测企业' || i, %s, 'normal',
            (ARRAY['C3411', 'E4710', 'F5123', 'I6510'])[1 + i %% 4], DATE '2015-01-01', DATE '2015-06-01',
            CASE WHEN i %% 10 = 0 THEN 'quarterly' ELSE 'monthly' END, '', '', '', '', '', '',
            (ARRAY['micro', 'small', 'medium', 'large'])[1 + i %% 4],
            '', false, false, now(), now()
        FROM generate_series(1, %s) AS i
        """,
        [branch.pk, taxpayers],
    )
    _rate(RATING_YEAR)
    zero_cols = [
        c for c in MONEY_COLUMNS if c not in ("sales_total", "end_credit", "input_special_invoice", "input_other")
    ]
    # Two in three taxpayers carry a credit that grows month by month; the third pays tax (credit 0).
    # Two connections insert half the months each, month by month, as the monthly files arrive.
    returns_sql = f"""
        INSERT INTO taxpayers_vatreturn (taxpayer_id, period, sales_by_industry, sales_total, end_credit,
            input_special_invoice, input_other, {", ".join(zero_cols)}, created_at, updated_at)
        SELECT t.id, to_char(make_date(m / 12, m %% 12 + 1, 1), 'YYYY-MM'),
            CASE WHEN t.id %% 20 = 0 THEN '{{"C3411": "600000.00", "F5123": "400000.00"}}'::jsonb
                 ELSE '{{}}'::jsonb END,
            1000000,
            CASE WHEN t.id %% 3 = 0 THEN 0
                 ELSE ((t.id::bigint * 7919 + m::bigint * 104729) %% 5000000) + (m - %s) * 20000 + 2000000 END,
            ((t.id + m) %% 9) * 50000, ((t.id + m) %% 4) * 10000,
            {", ".join("0" for _ in zero_cols)}, now(), now()
        FROM generate_series(%s, %s) AS m, taxpayers_taxpayer t
        WHERE t.identifier LIKE 'BENCH%%' AND (t.filing_frequency = 'monthly' OR m %% 3 = 2)
        ORDER BY m, t.id
        """
    first = LAST_MONTH_INDEX - months + 1
    middle = first + months // 2
    halves = [(first, middle - 1), (middle, LAST_MONTH_INDEX)]
    in_parallel(lambda half: _sql(returns_sql, [first, *half]), halves, workers=2)
    _sql(
        """
        INSERT INTO taxpayers_compliancerecord (taxpayer_id, kind, occurred_on, document_number, note,
            created_at, updated_at)
        SELECT id, 'evasion_penalty', DATE '2025-06-01', 'BENCH-' || id, '', now(), now()
        FROM taxpayers_taxpayer WHERE identifier LIKE 'BENCH%%' AND id %% 50 = 0
        """
    )
    _sql("VACUUM (ANALYZE) taxpayers_taxpayer")
    _sql("VACUUM (ANALYZE) taxpayers_vatreturn")
    _sql("VACUUM (ANALYZE) taxpayers_compliancerecord")
    _sql("VACUUM (ANALYZE) credit_creditrating")


def _rate(year: int) -> None:
    """One rating a taxpayer (A, B, B, M, C in turn), in force from its evaluation date: through credit's bulk path."""
    ids = Taxpayer.objects.filter(identifier__startswith="BENCH").order_by("pk").values_list("pk", flat=True)
    on = evaluation_date(year)
    credit_ratings_bulk_write(ratings=((pk, year, "ABBMC"[pk % 5], on, None) for pk in ids.iterator(chunk_size=5000)))


def _floor() -> float:
    """The least work of a screening: the latest returns ⋈ their state rows → one result row each."""
    run = ScreeningRun.objects.create(
        application_period=APPLICATION_PERIOD, application_date="2026-03-10", message="bench floor",
        status=ScreeningRun.Status.SUCCEEDED,
    )
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        # The least work, so the best plan: no JIT (as the screening), and index reads priced as the
        # in-memory reads they are (the default plans a sequential scan of every state at M=24).
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL random_page_cost = 1.1")
        cursor.execute(
            """
        INSERT INTO refund_screeningresult (run_id, taxpayer_id, regime, eligible, error_code, failed_mask, size,
            current_credit, input_ratio, refund_rate, refundable_incremental, refundable_stock, refundable_total)
        SELECT %s, r.taxpayer_id, '', r.end_credit > 0, '', 0, '', r.end_credit,
            s.from_2019_core::numeric / NULLIF(s.from_2019_core + s.from_2019_other, 0), '', 0, 0, 0
        FROM taxpayers_vatreturn r
        JOIN refund_returnstate s ON s.taxpayer_id = r.taxpayer_id AND s.period = r.period
        WHERE r.period = '2026-02'
        """,
            [run.pk],
        )
    seconds = time.perf_counter() - started
    _delete_results(run)
    return seconds


def _delete_results(run: ScreeningRun) -> None:
    """One DELETE (the ORM would collect the rows first), then the vacuum that autovacuum would
    otherwise start in the middle of the next measurement."""
    _sql("DELETE FROM refund_screeningresult WHERE run_id = %s", [run.pk])
    ScreeningRun.objects.filter(pk=run.pk).delete()
    _sql("VACUUM refund_screeningresult")


def _months_kept() -> int:
    """How many months of returns the kept data has (its first taxpayer files monthly)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM taxpayers_vatreturn WHERE taxpayer_id = "
            "(SELECT min(id) FROM taxpayers_taxpayer WHERE identifier LIKE 'BENCH%%')"
        )
        return cursor.fetchone()[0]


def _round(taxpayers: int, months: int, *, reuse: bool = False, repeat: int = 3) -> dict:
    build = aggregates = 0.0
    if reuse:
        months = _months_kept()
    else:
        t0 = time.perf_counter()
        _build(taxpayers, months)
        build = time.perf_counter() - t0
        t0 = time.perf_counter()
        rebuild_all_return_states()  # what `manage.py refund_rebuild_states` does after a bulk load
        aggregates = time.perf_counter() - t0
        # What autovacuum does soon after a bulk load: without it the first reader of the new rows
        # (the screening, not the floor that follows it) pays for setting their hint bits.
        _sql("VACUUM (ANALYZE) refund_returnstate")
    ScreeningRun.objects.filter(message__startswith="bench").delete()
    screenings, floors = [], []
    for _ in range(repeat):
        run = ScreeningRun.objects.create(
            application_period=APPLICATION_PERIOD, application_date="2026-03-10", message="bench"
        )
        t0 = time.perf_counter()
        run = screening_run_execute(run_id=run.pk)
        screenings.append(time.perf_counter() - t0)
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the clean-up below
        _delete_results(run)  # the floor writes into an empty results table too
        floors.append(_floor())
    seconds, floor = statistics.median(screenings), statistics.median(floors)
    figures = {
        "months": months,
        "build_s": build,
        "aggregates_s": aggregates,
        "screening_s": seconds,
        "per_s": run.processed_count / seconds,
        "floor_s": floor,
        "eligible": run.eligible_count,
        "processed": run.processed_count,
    }
    spread = f" (median of {repeat}: {min(screenings):.2f}–{max(screenings):.2f} s)" if repeat > 1 else ""
    print(
        f"M={months}: screened {run.processed_count} taxpayers in {seconds:.2f} s{spread} "
        f"({figures['per_s']:.0f}/s), eligible {run.eligible_count}; floor {floor:.3f} s, "
        f"ratio to floor {seconds / floor:.1f}; aggregates refresh {aggregates:.2f} s; build {build:.1f} s; "
        f"peak RSS {peak_rss:.0f} MiB"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taxpayers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=84)
    parser.add_argument("--no-compare-history", action="store_true")
    parser.add_argument("--keep", action="store_true", help="leave the data in the database (to study plans)")
    parser.add_argument("--reuse", action="store_true", help="screen the data a --keep run left (no build)")
    parser.add_argument("--repeat", type=int, default=3, help="screenings and floors per history (medians printed)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if connection.vendor != "postgresql":
        raise SystemExit("bench/screening.py needs PostgreSQL (DATABASE_URL=postgres://…)")
    first = _round(args.taxpayers, args.months, reuse=args.reuse, repeat=args.repeat)
    if not args.no_compare_history and first["months"] != 24:
        short = _round(args.taxpayers, 24, repeat=args.repeat)
        print(f"history ratio M={first['months']}/M=24: {first['screening_s'] / short['screening_s']:.2f}")
    if not args.keep:
        _clean()


if __name__ == "__main__":
    main()

"""Writes of the screening (留抵退税筛查): runs started, executed, swept and re-screened, and their results."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import structlog
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.utils import timezone

from accounts.audit import record_event
from core.periods import Period
from credit.models import CreditRating
from taxpayers.models import ComplianceRecord, Taxpayer, VatReturn

from ..models import ScreeningResult, ScreeningRun
from ..rules.options import parse_options
from .case_builder import BatchCaseBuilder, previous_refunds_sql, taxpayer_case
from .decisions import Outcome, decision_of, period_input, result_from_decision
from .parallel import in_parallel
from .return_states import refresh_stale_aggregates
from .selectors import screenable_taxpayers
from .sql import SqlScreening

logger = structlog.get_logger(__name__)

CHUNK_SIZE = 2000
PERIOD_FIRST = Period(2019, 4)


def screening_run_start(
    *,
    actor,
    application_period: Period | str,
    application_date: dt.date | None = None,
    options: dict | None = None,
    triggered_by: str = ScreeningRun.Trigger.USER,
) -> ScreeningRun:
    """Create a run and enqueue it after commit; while a run of the period is unfinished, return that one."""
    period = period_input(application_period)
    application_date = application_date or timezone.localdate()
    if Period.of(application_date) != period:
        application_date = period.first_day
    active = ScreeningRun.objects.filter(
        application_period=period, status__in=[ScreeningRun.Status.PENDING, ScreeningRun.Status.RUNNING]
    ).first()
    if active is not None:
        return active
    try:
        with transaction.atomic():
            run = ScreeningRun.objects.create(
                application_period=period,
                application_date=application_date,
                created_by=actor,
                triggered_by=triggered_by,
                options=options or {},
            )
            record_event(
                actor=actor,
                verb="screening_start",
                target=run,
                summary=f"发起{period}留抵退税筛查",
                changes={"application_period": str(period), "application_date": application_date.isoformat()},
            )
            # Robust: with the broker down the run is kept all the same; the sweep hands the pending run to a worker.
            transaction.on_commit(lambda: _enqueue(run.pk), robust=True)
    except IntegrityError:
        # Another start of the same period won the race (unique constraint on the unfinished run).
        return ScreeningRun.objects.get(
            application_period=period, status__in=[ScreeningRun.Status.PENDING, ScreeningRun.Status.RUNNING]
        )
    return run


def _enqueue(run_id: int) -> None:
    from ..tasks import execute_screening_run

    execute_screening_run.delay(run_id)


RUN_PENDING_GRACE_SECONDS = 300
"""A run still pending after this long has lost its message (a broker restart, the demo's file broker)."""


def screening_runs_sweep() -> list[int]:
    """Resume the runs left in flight: pending past the grace (the message was lost) are handed to a worker
    again; running past the task's hard time limit lost their worker, so their partial results are removed and
    they start over from pending. A running run blocks new runs of its period, so it must not stay for ever.
    The conditional updates make a second sweeper, or the run's own late worker, find nothing to do."""
    now = timezone.now()
    stale_before = now - dt.timedelta(seconds=settings.TASK_STALE_SECONDS)
    resumed = []
    for run_id in ScreeningRun.objects.filter(
        status=ScreeningRun.Status.RUNNING, started_at__lt=stale_before
    ).values_list("pk", flat=True):
        with transaction.atomic():
            if ScreeningRun.objects.filter(
                pk=run_id, status=ScreeningRun.Status.RUNNING, started_at__lt=stale_before
            ).update(status=ScreeningRun.Status.PENDING, started_at=None, processed_count=0):
                ScreeningResult.objects.filter(run_id=run_id).delete()
                resumed.append(run_id)
    lost = ScreeningRun.objects.filter(
        status=ScreeningRun.Status.PENDING, created_at__lt=now - dt.timedelta(seconds=RUN_PENDING_GRACE_SECONDS)
    ).values_list("pk", flat=True)
    ids = sorted({*resumed, *lost})
    for run_id in ids:
        _enqueue(run_id)
    if ids:
        logger.warning("screening_runs_swept", run_ids=ids, resumed=resumed)
    return ids


def screening_run_execute(*, run_id: int) -> ScreeningRun | None:
    """Claim the run (pending → running) and screen every taxpayer; a second delivery finds nothing to claim."""
    claimed = ScreeningRun.objects.filter(pk=run_id, status=ScreeningRun.Status.PENDING).update(
        status=ScreeningRun.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        logger.info("screening_run_not_claimed", run_id=run_id)
        return None
    run = ScreeningRun.objects.get(pk=run_id)
    try:
        _execute(run)
    except Exception as exc:
        logger.exception("screening_run_failed", run_id=run_id)
        ScreeningRun.objects.filter(pk=run_id).update(
            status=ScreeningRun.Status.FAILED,
            finished_at=timezone.now(),
            message=f"筛查失败：{type(exc).__name__}，请联系信息中心。",
        )
        raise
    run.refresh_from_db()
    return run


def _execute(run: ScreeningRun) -> None:
    started = time.monotonic()
    refreshed = refresh_stale_aggregates()
    refresh_seconds = time.monotonic() - started
    population = screenable_taxpayers()
    total = population.count()
    ScreeningRun.objects.filter(pk=run.pk).update(total_count=total, processed_count=0)
    if connection.vendor == "postgresql":
        _execute_set_based(run, population)
    else:
        _execute_by_rules(run, list(population.order_by("pk").values_list("pk", flat=True)))
    screen_seconds = time.monotonic() - started - refresh_seconds
    totals = _run_totals(run)
    ScreeningRun.objects.filter(pk=run.pk).update(
        status=ScreeningRun.Status.SUCCEEDED,
        finished_at=timezone.now(),
        processed_count=total,
        eligible_count=totals["n_eligible"],
        error_count=totals["n_errors"],
        refundable_total=totals["amount"] or Decimal("0"),
    )
    logger.info(
        "screening_run_succeeded", run_id=run.pk, taxpayers=total, eligible=totals["n_eligible"],
        states_rebuilt=refreshed, refresh_seconds=round(refresh_seconds, 3), screen_seconds=round(screen_seconds, 3),
        total_seconds=round(time.monotonic() - started, 3),
    )


def _execute_by_rules(run: ScreeningRun, ids: list[int], *, count_progress: bool = True) -> int:
    """The rules themselves, a chunk of taxpayers at a time (SQLite, and the taxpayers handed back)."""
    builder = BatchCaseBuilder(
        application_period=run.application_period, application_date=run.application_date, options=run.options,
    )
    for start in range(0, len(ids), CHUNK_SIZE):
        chunk = ids[start : start + CHUNK_SIZE]
        results = [
            result_from_decision(run=run, taxpayer_id=pk, decision=decision_of(case))
            for pk, case in builder.cases(chunk)
        ]
        # ignore_conflicts: a run restarted after a crash keeps what it wrote (unique run, taxpayer).
        ScreeningResult.objects.bulk_create(results, batch_size=1000, ignore_conflicts=True)
        if count_progress:
            ScreeningRun.objects.filter(pk=run.pk).update(processed_count=F("processed_count") + len(chunk))
    return len(ids)


def _statement(run: ScreeningRun) -> str:
    """The run's set-based statement for one range of taxpayer ids (``refund.screening.sql``)."""
    return SqlScreening(
        application_period=run.application_period, application_date=run.application_date,
        options=parse_options(run.options), refunds_sql=previous_refunds_sql(),
    ).range_sql()


def _screen_range(run: ScreeningRun, screen: str, lo: int, hi: int) -> int:
    """One range, all or nothing: a range retried after a crash replaces what it wrote. Returns how many were
    decided (by the statement, and by the rules for those it hands back)."""
    params = {"run": run.pk, "lo": lo, "hi": hi}
    with transaction.atomic(), connection.cursor() as cursor:
        # JIT would spend seconds compiling this long statement to save milliseconds.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")  # the range's hash joins in memory
        run.results.filter(taxpayer_id__gte=lo, taxpayer_id__lte=hi).delete()
        cursor.execute(screen, params)
        decided, handed_back = cursor.fetchone()
        return decided + _execute_by_rules(run, handed_back, count_progress=False)


def _execute_set_based(run: ScreeningRun, population) -> None:
    """PostgreSQL: the rules compiled to SQL (``refund.screening.sql``), by ranges of taxpayer ids in parallel.

    Each range is one statement in its own transaction on its own connection; the few
    taxpayers the SQL hands back are decided by the rules in Python. ``SCREENING_WORKERS``
    ranges run at once (the cores the database may use).
    """
    bounds = population.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return
    screen = _statement(run)
    step = settings.SCREENING_RANGE_SIZE
    ranges = [(lo, min(lo + step - 1, bounds["hi"])) for lo in range(bounds["lo"], bounds["hi"] + 1, step)]

    def screen_range(lo: int, hi: int) -> None:
        decided = _screen_range(run, screen, lo, hi)
        ScreeningRun.objects.filter(pk=run.pk).update(processed_count=F("processed_count") + decided)

    in_parallel(lambda bounds: screen_range(*bounds), ranges, workers=settings.SCREENING_WORKERS)


def _run_totals(run: ScreeningRun) -> dict:
    return run.results.aggregate(
        n_eligible=Count("pk", filter=Q(eligible=True)),
        n_errors=Count("pk", filter=~Q(error_code="")),
        amount=Sum("refundable_total", filter=Q(eligible=True)),
    )


def screen_taxpayers(*, run: ScreeningRun, taxpayer_ids: list[int]) -> None:
    """Decide these taxpayers again on their full history and replace their rows in ``run``; totals once."""
    with transaction.atomic():
        for taxpayer_id in taxpayer_ids:
            case = taxpayer_case(
                taxpayer_id=taxpayer_id, application_period=run.application_period,
                application_date=run.application_date, options=run.options,
            )
            fresh = result_from_decision(run=run, taxpayer_id=taxpayer_id, decision=decision_of(case))
            ScreeningResult.objects.update_or_create(
                run=run, taxpayer_id=taxpayer_id,
                defaults={name: getattr(fresh, name) for name in ScreeningResult.OUTCOME_FIELDS},
            )
        totals = _run_totals(run)
        ScreeningRun.objects.filter(pk=run.pk).update(
            eligible_count=totals["n_eligible"],
            error_count=totals["n_errors"],
            refundable_total=totals["amount"] or Decimal("0"),
        )


def screen_taxpayer(*, taxpayer_id: int, application_period: Period | str) -> Outcome:
    """Re-screen one taxpayer (its data changed): the rules' decision, kept in the period's latest finished run."""
    period = period_input(application_period)
    run = ScreeningRun.latest_succeeded(period)
    if run is None:
        return decision_of(taxpayer_case(taxpayer_id=taxpayer_id, application_period=period))
    screen_taxpayers(run=run, taxpayer_ids=[taxpayer_id])
    return decision_of(
        taxpayer_case(
            taxpayer_id=taxpayer_id, application_period=period, application_date=run.application_date,
            options=run.options,
        )
    )


def screening_result_refresh(*, run: ScreeningRun, taxpayer_id: int) -> ScreeningResult | None:
    """Screen one taxpayer again in ``run`` exactly as the run screened it: on PostgreSQL the run's own set-based
    statement over the range of that one id (the rules decide what it hands back), elsewhere the rules. Replaces
    the taxpayer's row (none when it is no longer a general taxpayer) and the run's totals; safe to repeat.

    In the caller's transaction (its audit row beside it); the caller brings the return states up to date first
    (``refresh_stale_aggregates``) when returns may have changed. The taxpayer's row is locked first, so two
    refreshes of the same taxpayer take turns."""
    with transaction.atomic():
        if not Taxpayer.objects.select_for_update().filter(pk=taxpayer_id).exists():
            return None
        if connection.vendor == "postgresql":
            _screen_range(run, _statement(run), taxpayer_id, taxpayer_id)
        else:
            run.results.filter(taxpayer_id=taxpayer_id).delete()
            if screenable_taxpayers().filter(pk=taxpayer_id).exists():
                _execute_by_rules(run, [taxpayer_id], count_progress=False)
        totals = _run_totals(run)
        ScreeningRun.objects.filter(pk=run.pk).update(
            eligible_count=totals["n_eligible"],
            error_count=totals["n_errors"],
            refundable_total=totals["amount"] or Decimal("0"),
        )
    return run.results.filter(taxpayer_id=taxpayer_id).first()


RESCREEN_LIMIT = 5000
"""More changed taxpayers than this wait for the next full run: it then costs less than one by one."""


def screening_rescreen_changed(*, application_period: Period | str | None = None) -> int:
    """Re-screen, in the latest run of the period, the general taxpayers whose data changed since it ran.

    Called after every import (its registry data, returns, compliance records or credit ratings). Returns
    how many were re-screened (0 when there is no finished run, or when so many changed that the next full
    run is the cheaper way).
    """
    run = ScreeningRun.latest_succeeded(application_period or Period.of(timezone.localdate()))
    if run is None or run.started_at is None:
        return 0
    since = run.started_at
    changed = (
        set(Taxpayer.objects.filter(updated_at__gte=since).values_list("pk", flat=True))
        | set(VatReturn.objects.filter(updated_at__gte=since).values_list("taxpayer_id", flat=True).distinct())
        | set(ComplianceRecord.objects.filter(updated_at__gte=since).values_list("taxpayer_id", flat=True).distinct())
        | set(CreditRating.objects.filter(updated_at__gte=since).values_list("taxpayer_id", flat=True).distinct())
    )
    ids = sorted(set(screenable_taxpayers().filter(pk__in=changed).values_list("pk", flat=True)) if changed else ())
    if not ids or len(ids) > RESCREEN_LIMIT:
        logger.info("rescreen_skipped", run_id=run.pk, changed=len(ids))
        return 0
    refresh_stale_aggregates()
    screen_taxpayers(run=run, taxpayer_ids=ids)
    logger.info("rescreen_done", run_id=run.pk, taxpayers=len(ids))
    return len(ids)


def screening_run_nightly() -> ScreeningRun:
    """The scheduled run: the current month as application period (applications are filed in it)."""
    today = timezone.localdate()
    return screening_run_start(
        actor=None, application_period=Period.of(today), application_date=today,
        triggered_by=ScreeningRun.Trigger.SCHEDULE,
    )

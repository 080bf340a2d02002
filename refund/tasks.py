"""Background work of the refund app. Tasks are thin: they take ids and call a service."""

from celery import shared_task

from .screening.services import (
    screen_taxpayer,
    screening_rescreen_changed,
    screening_run_execute,
    screening_run_nightly,
    screening_runs_sweep,
)


@shared_task(name="refund.execute_screening_run", ignore_result=True)
def execute_screening_run(run_id: int) -> None:
    """Claimed with a conditional UPDATE (pending → running): a second delivery does nothing."""
    screening_run_execute(run_id=run_id)


@shared_task(name="refund.sweep_screening_runs", ignore_result=True)
def sweep_screening_runs() -> None:
    """Beat entry: runs whose worker died or whose message was lost are resumed."""
    screening_runs_sweep()


@shared_task(name="refund.nightly_screening", ignore_result=True)
def nightly_screening() -> None:
    """Beat entry: start (or find the unfinished) run of the current application period."""
    screening_run_nightly()


@shared_task(name="refund.rescreen_changed", ignore_result=True)
def rescreen_changed() -> None:
    """After an import: the changed taxpayers' rows in this month's latest run."""
    screening_rescreen_changed()


@shared_task(name="refund.screen_taxpayer", ignore_result=True)
def screen_one_taxpayer(taxpayer_id: int, application_period: str) -> None:
    screen_taxpayer(taxpayer_id=taxpayer_id, application_period=application_period)


# --- 候选名单: the push-date beat entries (config/schedules.py) ---------------------------------------------


@shared_task(name="refund.push_eve_screening", ignore_result=True)
def push_eve_screening() -> None:
    """22:00: when tomorrow is a push date, start the screening its lists will rest on."""
    from .candidates.routine import push_eve_screening as start

    start()


@shared_task(name="refund.push_date_lists", ignore_result=True)
def push_date_lists() -> None:
    """07:30 every day; does nothing unless today is a push date: screen if needed, build, notify."""
    from .candidates.routine import push_date_scheduled

    push_date_scheduled()


@shared_task(name="refund.push_date_auto_remind", ignore_result=True)
def push_date_auto_remind() -> None:
    """09:00 every day; reminds the day's candidates only when 候选名单设置 enables it."""
    from .candidates.routine import candidate_auto_remind

    candidate_auto_remind()


# --- the loop with credit (refund/signals.py) -----------------------------------------------------------------


@shared_task(name="refund.rescreen_after_rating", bind=True, ignore_result=True, max_retries=40)
def rescreen_after_rating(self, taxpayer_id: int, level: str, effective_on: str) -> None:
    """A repaired taxpayer: screen it again and put it on the day's 即时名单 if eligible. While the run that sees
    the new rating is being made, try again in 15 s (at most 10 minutes)."""
    import datetime as dt

    from .candidates.adhoc import RunPending, candidate_adhoc_after_rating

    try:
        candidate_adhoc_after_rating(
            taxpayer_id=taxpayer_id, level=level, effective_on=dt.date.fromisoformat(effective_on)
        )
    except RunPending as exc:
        raise self.retry(exc=exc, countdown=15) from None


@shared_task(name="refund.list_repair_notices", ignore_result=True)
def list_repair_notices() -> None:
    """After a ratings import: the latest screening's taxpayers failing only on their rating (信用修复提示)."""
    from .repair_notices.selectors import latest_screening
    from .repair_notices.services import repair_notices_list

    if latest_screening() is not None:
        repair_notices_list(actor=None)

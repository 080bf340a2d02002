"""Background work of the refund app. Tasks are thin: they take ids and call a service."""

from celery import shared_task

from .services import screen_taxpayer, screening_run_execute, screening_run_nightly


@shared_task(name="refund.execute_screening_run", ignore_result=True)
def execute_screening_run(run_id: int) -> None:
    """Claimed with a conditional UPDATE (pending → running): a second delivery does nothing."""
    screening_run_execute(run_id=run_id)


@shared_task(name="refund.nightly_screening", ignore_result=True)
def nightly_screening() -> None:
    """Beat entry: start (or find the unfinished) run of the current application period."""
    screening_run_nightly()


@shared_task(name="refund.screen_taxpayer", ignore_result=True)
def screen_one_taxpayer(taxpayer_id: int, application_period: str) -> None:
    screen_taxpayer(taxpayer_id=taxpayer_id, application_period=application_period)

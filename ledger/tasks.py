"""Background work of the ledger. Thin: call a service; safe to run twice (one LedgerRun per day)."""

from celery import shared_task


@shared_task(name="ledger.register_previous_day", ignore_result=True)
def register_previous_day() -> None:
    """08:30 Asia/Shanghai (config/schedules.py): register yesterday's payments and queue the bills."""
    from .services import ledger_register_previous_day

    ledger_register_previous_day()


@shared_task(name="ledger.check_credit_reduction", ignore_result=True)
def check_credit_reduction() -> None:
    from .services import ledger_check_credit_reduction

    ledger_check_credit_reduction()

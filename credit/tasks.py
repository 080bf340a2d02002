"""Background work of the credit service. Thin: call a service; safe to run twice (predictions are upserted)."""

from celery import shared_task


@shared_task(name="credit.daily_warnings", ignore_result=True)
def daily_warnings() -> None:
    """06:00 Asia/Shanghai (config/schedules.py): derive late returns, then predict every taxpayer's rating."""
    from .warnings.services import credit_warnings_daily

    credit_warnings_daily()

"""Background work of the risk app. Thin: call a service; safe to run twice (one sample per month)."""

from celery import shared_task


@shared_task(name="risk.monthly_sample", ignore_result=True)
def monthly_sample() -> None:
    """The 2nd of each month, 07:00 Asia/Shanghai (config/schedules.py): draw the sample of last month's paid
    refunds for post-refund review (事后复核), after the ledger registered the month's last day."""
    from .sampling.services import monthly_sample_previous_month

    monthly_sample_previous_month()

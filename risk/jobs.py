"""Background work of the risk app: thin Celery tasks that take ids and call a service, safe to run twice. Imported
by the app's ``ready()`` (``risk.tasks`` is the risk tasks' package, not Celery's), so every worker knows them."""

from celery import shared_task

from .services import risk_scan_run


@shared_task(name="risk.execute_scan", ignore_result=True)
def execute_scan(scan_id: int) -> None:
    """A scan of every taxpayer started from the scans page; a finished scan delivered again is left alone."""
    risk_scan_run(scan_id=scan_id)


@shared_task(name="risk.monthly_sample", ignore_result=True)
def monthly_sample() -> None:
    """The 2nd of each month, 07:00 Asia/Shanghai (config/schedules.py): draw the sample of last month's paid
    refunds for post-refund review (事后复核), after the ledger registered the month's last day (one per month)."""
    from .sampling.services import monthly_sample_previous_month

    monthly_sample_previous_month()

"""Background work of the scans: thin Celery tasks that take ids and call a service. Imported by the app's
``ready()`` (``risk.tasks`` is the risk tasks' package, not Celery's), so every worker knows them."""

from celery import shared_task

from .services import risk_scan_run


@shared_task(name="risk.execute_scan", ignore_result=True)
def execute_scan(scan_id: int) -> None:
    """A scan of every taxpayer started from the scans page; a finished scan delivered again is left alone."""
    risk_scan_run(scan_id=scan_id)

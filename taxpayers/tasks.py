"""Background work of the taxpayers app. Tasks are thin: they take ids and call a service."""

from celery import shared_task

from accounts.request_context import bind_request_id

from .services import import_job_run, import_jobs_sweep


@shared_task(name="taxpayers.run_import_job", ignore_result=True)
def run_import_job(job_id: int, request_id: str | None = None) -> None:
    """Run an uploaded import. The service claims the job with a conditional UPDATE (pending → validating),
    so a second delivery of this message finds nothing to do. ``request_id`` ties the audit row to the upload."""
    with bind_request_id(request_id):
        import_job_run(job_id=job_id)


@shared_task(name="taxpayers.sweep_import_jobs", ignore_result=True)
def sweep_import_jobs() -> None:
    """Beat entry: jobs whose worker died or whose message was lost are run again (the claim makes it safe)."""
    import_jobs_sweep()

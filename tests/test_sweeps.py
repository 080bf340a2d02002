"""Work left in flight by a dead worker or a lost message is picked up again by the sweeps, once."""

import datetime as dt

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from refund.models import ScreeningResult, ScreeningRun
from refund.screening import services as refund_services
from taxpayers import services as taxpayer_services
from taxpayers.models import ImportJob, VatReturn
from taxpayers.tasks import run_import_job
from taxpayers.tests.test_imports import RETURN_HEADERS, return_rows, to_csv

pytestmark = pytest.mark.django_db

LONG_AGO = dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 600)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def handed_to_worker(monkeypatch):
    """What the sweeps hand to a worker, run here as the worker would run it."""
    handed = []

    def run_import(job_id):
        handed.append(job_id)
        run_import_job(job_id)

    def run_screening(run_id):
        handed.append(run_id)
        refund_services.screening_run_execute(run_id=run_id)

    monkeypatch.setattr(run_import_job, "delay", run_import)
    monkeypatch.setattr(refund_services, "_enqueue", run_screening)
    return handed


def _job(taxpayer_a, taxpayer_b, **fields) -> ImportJob:
    job = taxpayer_services.import_job_create(
        actor=None,
        kind="returns",
        uploaded_file=SimpleUploadedFile("r.csv", to_csv(RETURN_HEADERS, return_rows(taxpayer_a, taxpayer_b))),
    )
    ImportJob.objects.filter(pk=job.pk).update(**fields)
    return job


def test_an_import_left_applying_by_a_dead_worker_is_run_again_and_completes(taxpayer_a, taxpayer_b, handed_to_worker):
    dead = _job(taxpayer_a, taxpayer_b, status=ImportJob.Status.APPLYING, started_at=timezone.now() - LONG_AGO)
    alive = _job(taxpayer_a, taxpayer_b, status=ImportJob.Status.APPLYING, started_at=timezone.now())

    assert taxpayer_services.import_jobs_sweep() == [dead.pk]
    assert handed_to_worker == [dead.pk]
    dead.refresh_from_db()
    assert dead.status == ImportJob.Status.SUCCEEDED
    assert VatReturn.objects.count() == 3
    assert ImportJob.objects.get(pk=alive.pk).status == ImportJob.Status.APPLYING  # a live worker's job is left alone
    assert taxpayer_services.import_jobs_sweep() == []  # nothing twice


def test_a_worker_import_whose_message_was_lost_is_handed_again(taxpayer_a, taxpayer_b, handed_to_worker, settings):
    settings.IMPORT_INLINE_MAX_BYTES = 10  # the file is a worker's job
    job = _job(taxpayer_a, taxpayer_b)
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(minutes=10))
    fresh = _job(taxpayer_a, taxpayer_b)

    assert taxpayer_services.import_jobs_sweep() == [job.pk]
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.SUCCEEDED
    assert ImportJob.objects.get(pk=fresh.pk).status == ImportJob.Status.PENDING


def test_a_screening_run_left_running_starts_over_without_its_partial_results(taxpayer_a, handed_to_worker):
    run = ScreeningRun.objects.create(
        application_period="2026-11",
        application_date=dt.date(2026, 11, 17),
        status=ScreeningRun.Status.RUNNING,
        started_at=timezone.now() - LONG_AGO,
    )
    ScreeningResult.objects.create(run=run, taxpayer=taxpayer_a, eligible=False, error_code="missing_return")
    running = ScreeningRun.objects.create(
        application_period="2026-10",
        application_date=dt.date(2026, 10, 20),
        status=ScreeningRun.Status.RUNNING,
        started_at=timezone.now(),
    )

    assert refund_services.screening_runs_sweep() == [run.pk]
    run.refresh_from_db()
    assert run.status == ScreeningRun.Status.SUCCEEDED
    assert ScreeningResult.objects.filter(run=run).count() == 1  # screened again once, the partial row replaced
    assert ScreeningRun.objects.get(pk=running.pk).status == ScreeningRun.Status.RUNNING
    assert refund_services.screening_runs_sweep() == []


def test_sweeps_are_scheduled():
    from config.schedules import SCHEDULES

    tasks = {entry.task for entry in SCHEDULES}
    assert {"taxpayers.sweep_import_jobs", "refund.sweep_screening_runs"} <= tasks

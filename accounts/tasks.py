"""Background tasks of the accounts app.

Only the worker heartbeat lives here for now: beat sends it every minute
(``config/schedules.py``) and a worker writes the time, so ``/health/`` can tell that
both beat and a worker are running whatever the broker is.
"""

from celery import shared_task
from django.utils import timezone

from .models import WorkerHeartbeat

HEARTBEAT_NAME = "worker"


def record_heartbeat(*, name: str = HEARTBEAT_NAME) -> WorkerHeartbeat:
    """Upsert the heartbeat row; running it twice only moves ``seen_at`` forward."""
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})
    return heartbeat


@shared_task(name="accounts.tasks.record_worker_heartbeat", ignore_result=True)
def record_worker_heartbeat(name: str = HEARTBEAT_NAME) -> None:
    record_heartbeat(name=name)

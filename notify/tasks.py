"""Celery tasks of notify. Each is safe to run twice and in parallel: rows are claimed, never assumed."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from . import dispatch
from .backends import get_backend
from .services import record_reports

logger = logging.getLogger(__name__)
_WAKEUP_KEY = "notify:dispatch:wakeup"
_PULL_KEY = "notify:mas:report-pull"
PULL_INTERVAL_SECONDS = 5  # 云MAS: at most one report pull per 5 s


@shared_task(acks_late=True, ignore_result=True)
def dispatch_outbox():
    """Send what is due. Started after each enqueue commits, and by itself when a retry falls due."""
    summary = dispatch.run(time_budget=min(settings.CELERY_TASK_SOFT_TIME_LIMIT - 60, 20 * 60))
    logger.info("sms dispatch pass", extra=summary)
    _schedule_wakeup()
    return summary


def _schedule_wakeup():
    wakeup = dispatch.next_wakeup()
    if wakeup is None:
        return
    delay = int(max(1, min((wakeup - timezone.now()).total_seconds() + 1, settings.TASK_MAX_DELAY_SECONDS)))
    # One pending wake-up at a time; the key expires with it, so a lost wake-up is replaced by the next pass.
    if cache.add(_WAKEUP_KEY, 1, timeout=delay):
        dispatch_outbox.apply_async(countdown=delay)


@shared_task(acks_late=True, ignore_result=True)
def pull_mas_reports():
    """HTTPS variant: pull delivery reports (POST /sms/report), never more often than once per 5 s."""
    if settings.SMS_BACKEND != "mas" or not cache.add(_PULL_KEY, 1, timeout=PULL_INTERVAL_SECONDS):
        return {"pulled": 0}
    items = get_backend("mas").pull_reports()
    result = record_reports(items=items) if items else {"matched": 0, "unmatched": 0}
    return {"pulled": len(items), **result}

"""Celery tasks of notify. Each is safe to run twice and in parallel: rows are claimed, never assumed."""

import logging
import time

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
PULL_LOCK_SECONDS = 6  # the interval plus a margin for the request's travel time
PULL_PAGE_SIZE = 1000  # a full page means more reports are waiting


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


def _pull_once() -> dict | None:
    """One report pull (POST /sms/report), or None when another pull took the slot less than 5 s ago.

    The slot is a Redis key set before the request, shared by every worker, that expires after
    ``PULL_LOCK_SECONDS`` (5 s plus a second for the request's way to the platform).
    """
    if not cache.add(_PULL_KEY, 1, timeout=PULL_LOCK_SECONDS):
        return None
    items = get_backend("mas").pull_reports()
    result = record_reports(items=items) if items else {"matched": 0, "unmatched": 0}
    return {"pulled": len(items), **result}


@shared_task(acks_late=True, ignore_result=True)
def pull_mas_reports():
    """HTTPS variant: pull delivery reports once (POST /sms/report), never more often than once per 5 s."""
    if settings.SMS_BACKEND != "mas":
        return {"pulled": 0}
    return _pull_once() or {"pulled": 0}


@shared_task(acks_late=True, ignore_result=True)
def poll_mas_reports(time_budget: float = 50):
    """The pull poller (beat, every minute; only with ``MAS_REPORT_PULL``): pulls while the platform hands
    out full pages of 1,000 reports, one pull per 5 s at most, for up to ``time_budget`` seconds."""
    if settings.SMS_BACKEND != "mas" or not settings.MAS_REPORT_PULL:
        return {"requests": 0, "pulled": 0}
    deadline = time.monotonic() + time_budget
    requests = pulled = matched = 0
    while True:
        result = _pull_once()
        if result is None:  # another worker pulled within the last 5 s: wait for the slot
            if time.monotonic() + PULL_INTERVAL_SECONDS > deadline:
                break
            time.sleep(0.5)
            continue
        requests += 1
        pulled += result["pulled"]
        matched += result["matched"]
        if result["pulled"] < PULL_PAGE_SIZE or time.monotonic() + PULL_INTERVAL_SECONDS > deadline:
            break
    return {"requests": requests, "pulled": pulled, "matched": matched}

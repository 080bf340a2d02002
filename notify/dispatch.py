"""The SMS dispatcher: claim due rows, send them in batches, record what the gateway said.

Exactly-once design (who else touches a row: other workers, the report endpoint, officers resending):

1. **Claim before sending.** A worker moves rows ``queued → sending`` in its own committed transaction
   (``select_for_update(skip_locked=True)``), stamping ``claimed_by``, ``attempts + 1``,
   ``sending_started_at`` and a lease. Two workers never hold the same row, and a row is only ever sent
   by the worker that claimed it from ``queued``.
2. **Record after sending**, conditionally (``status=sending AND claimed_by=me``). Outcomes:
   accepted → ``accepted`` + ``msg_group``; transient (connection refused, HTTP 5xx — the gateway did not
   take the batch) → back to ``queued`` with exponential backoff, ``failed`` after the cap; permanent
   (any rejecting ``rspcod``) → ``failed`` with the code; unknown (timeout, garbled answer) → stays
   ``sending`` with the lease expired, like a crash.
3. **A `sending` row whose lease expired is never resent blindly.** The worker may have died before or
   after the gateway took the batch. ``resolve_stale`` first looks for evidence the gateway received it:
   a delivery report for that number whose ``msgGroup`` belongs to no row, received after the send began;
   if found, the row adopts that ``msgGroup`` and the report's outcome. The protocol has no way to ask the
   gateway about one send, so with pulled reports (``MAS_REPORT_PULL``) the reports are pulled first. When
   no report has come within ``SMS_UNKNOWN_GRACE_SECONDS`` the row is **never resent by itself**: it is
   marked failed with ``unknown_outcome`` for a person, who may resend it with a reason on 短信记录. A report
   that still comes later is adopted, so a delivered message ends up delivered.

Requests: rows with the same text go together (≤ 5,000 numbers, each number once, per request). With a
backend that supports templates (云MAS), rows from a template registered on the platform go by
``/sms/tmpsubmit``, grouped by template id and ``params``. No round starts inside the quiet hours.
"""

import json
import logging
import os
import random
import socket
import time
import uuid
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Min
from django.utils import timezone

from .backends import BaseBackend, Outcome, SendResult, get_backend
from .labels import ERROR_LABELS
from .models import OptOut, SmsMessage, SmsReport
from .services import _apply_report, batch_refresh_status, match_orphan_reports, quiet_until

logger = logging.getLogger(__name__)
S = SmsMessage.Status


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter: base·2^(n-1), capped (SMS_RETRY_MAX_SECONDS)."""
    delay = settings.SMS_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    delay = min(delay, settings.SMS_RETRY_MAX_SECONDS)
    return delay * random.uniform(0.8, 1.0)


def claim(*, worker: str, limit: int, now=None) -> list[SmsMessage]:
    """Take up to ``limit`` due rows for this worker; other workers skip the locked ones."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            SmsMessage.objects.select_for_update(skip_locked=True)
            .filter(status=S.QUEUED, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .only("id", "recipient")[:limit]
        )
        if not rows:
            return []
        ids = [row.id for row in rows]
        opted = set(OptOut.objects.filter(mobile__in={row.recipient for row in rows}).values_list("mobile", flat=True))
        if opted:
            cancelled = [row.id for row in rows if row.recipient in opted]
            SmsMessage.objects.filter(id__in=cancelled).update(
                status=S.CANCELLED, error_code="opted_out", error_message="号码已退订", finished_at=now
            )
            batch_refresh_status(batch_ids=set(
                SmsMessage.objects.filter(id__in=cancelled).values_list("batch_id", flat=True)
            ))
            ids = [i for i in ids if i not in set(cancelled)]
        SmsMessage.objects.filter(id__in=ids).update(
            status=S.SENDING,
            claimed_by=worker,
            attempts=F("attempts") + 1,
            sending_started_at=now,
            lease_expires_at=now + timedelta(seconds=settings.SMS_LEASE_SECONDS),
        )
    return list(SmsMessage.objects.filter(id__in=ids, claimed_by=worker, status=S.SENDING).order_by("id"))


def _chunks(rows: list[SmsMessage], size: int, *, templates: bool = False):
    """Group rows that can share one request, ≤ size numbers per request, each number once per request
    (reports are matched by msgGroup + mobile, so one request must not carry a number twice).

    Yields ``(key, rows)``: key ``("norsubmit", text, "")``, or with ``templates``, for rows with a
    gateway template, ``("tmpsubmit", template_id, params)``.
    """
    groups: dict[tuple[str, str, str], list[SmsMessage]] = defaultdict(list)
    for row in rows:
        if templates and row.gateway_template_id:
            groups[("tmpsubmit", row.gateway_template_id, row.template_params)].append(row)
        else:
            groups[("norsubmit", row.text, "")].append(row)
    for key, group in groups.items():
        pending = group
        while pending:
            chunk, seen, later = [], set(), []
            for row in pending:
                if row.recipient in seen or len(chunk) >= size:
                    later.append(row)
                else:
                    seen.add(row.recipient)
                    chunk.append(row)
            yield key, chunk
            pending = later


def _send(backend: BaseBackend, key: tuple[str, str, str], rows: list[SmsMessage]) -> SendResult:
    mobiles = [row.recipient for row in rows]
    kind, value, params = key
    if kind == "tmpsubmit":
        return backend.send_template(mobiles, value, json.loads(params or '[""]'))
    return backend.send(mobiles, value)


def record_result(*, rows: list[SmsMessage], worker: str, result: SendResult, now=None) -> None:
    """Write the gateway's answer onto the rows this worker still holds."""
    now = now or timezone.now()
    ids = [row.id for row in rows]
    mine = SmsMessage.objects.filter(id__in=ids, status=S.SENDING, claimed_by=worker)
    if result.outcome == Outcome.ACCEPTED:
        count = mine.update(status=S.ACCEPTED, msg_group=result.msg_group, accepted_at=now, lease_expires_at=None,
                            error_code="", error_message="")
        if result.msg_group:
            match_orphan_reports(msg_group=result.msg_group)
    elif result.outcome == Outcome.PERMANENT:
        count = mine.update(status=S.FAILED, error_code=result.code[:64], error_message=result.message[:500],
                            finished_at=now, lease_expires_at=None)
    elif result.outcome == Outcome.TRANSIENT:
        count = 0
        with transaction.atomic():
            for row in mine.select_for_update():
                if row.attempts >= settings.SMS_MAX_ATTEMPTS:
                    row.status, row.finished_at = S.FAILED, now
                    row.error_message = f"重试{row.attempts}次仍失败：{result.message}"[:500]
                else:
                    due = now + timedelta(seconds=backoff_seconds(row.attempts))
                    row.status, row.next_attempt_at = S.QUEUED, quiet_until(due) or due
                    row.error_message = result.message[:500]
                row.error_code, row.lease_expires_at = result.code[:64], None
                row.save(update_fields=["status", "next_attempt_at", "error_code", "error_message", "finished_at",
                                        "lease_expires_at", "updated_at"])
                count += 1
    else:  # unknown: maybe received — leave it to resolve_stale, never resend now
        count = mine.update(lease_expires_at=now, error_code=result.code[:64], error_message=result.message[:500])
    if count != len(ids):
        missing = len(ids) - count
        logger.warning("sms rows lost their claim before the result", extra={"worker": worker, "missing": missing})


UNKNOWN_OUTCOME = "unknown_outcome"
LATE_REPORT_DAYS = 7  # a report for an unknown outcome is still adopted this long after the send


def _ask_gateway() -> None:
    """The only question the protocol lets us ask: pull the pending delivery reports (HTTPS variant)."""
    if settings.SMS_BACKEND == "mas" and settings.MAS_REPORT_PULL:
        from .tasks import pull_mas_reports  # tasks import this module

        try:
            pull_mas_reports()
        except Exception:  # the answer is optional: without it the rows wait for pushed reports
            logger.warning("sms_report_pull_failed_before_resolving", exc_info=True)


def _evidence(row: SmsMessage):
    """A report for the row's number whose batch id belongs to no row, received after the send began."""
    reports = (
        SmsReport.objects.select_for_update(skip_locked=True)
        .filter(message__isnull=True, mobile=row.recipient)
        .filter(received_at__gte=(row.sending_started_at or row.created_at) - timedelta(minutes=1))
        .exclude(msg_group="")
        .order_by("id")
    )
    known = SmsMessage.objects.filter
    return next((r for r in reports if not known(msg_group=r.msg_group, recipient=r.mobile).exists()), None)


def _adopt(row: SmsMessage, report: SmsReport, now) -> None:
    row.msg_group, row.accepted_at = report.msg_group, report.submit_date or now
    row.save(update_fields=["msg_group", "accepted_at", "updated_at"])
    SmsReport.objects.filter(pk=report.pk).update(message=row)
    _apply_report(row, report)


def resolve_stale(*, now=None) -> dict:
    """Decide ``sending`` rows whose lease ran out (worker died, or the answer was a timeout). See module doc."""
    now = now or timezone.now()
    _ask_gateway()
    grace = timedelta(seconds=settings.SMS_UNKNOWN_GRACE_SECONDS)
    adopted = failed = 0
    finished_batches = set()
    stale_ids = list(
        SmsMessage.objects.filter(status=S.SENDING, lease_expires_at__lt=now).values_list("id", flat=True)[:5000]
    )
    for row_id in stale_ids:
        with transaction.atomic():
            row = (
                SmsMessage.objects.select_for_update(skip_locked=True)
                .filter(pk=row_id, status=S.SENDING, lease_expires_at__lt=now)
                .first()
            )
            if row is None:
                continue
            report = _evidence(row)
            if report is not None:
                _adopt(row, report, now)
                adopted += 1
                finished_batches.add(row.batch_id)
            elif row.lease_expires_at + grace <= now:
                # Sent or not, nobody can tell: a second send could reach the taxpayer twice. A person decides.
                row.status, row.finished_at = S.FAILED, now
                row.error_code = UNKNOWN_OUTCOME
                row.error_message = ERROR_LABELS[UNKNOWN_OUTCOME]
                row.lease_expires_at, row.claimed_by = None, ""
                row.save(update_fields=["status", "finished_at", "error_code", "error_message",
                                        "lease_expires_at", "claimed_by", "updated_at"])
                failed += 1
                finished_batches.add(row.batch_id)
    # A report that arrives after the row was handed to a person still tells the truth.
    for row_id in SmsMessage.objects.filter(
        status=S.FAILED, error_code=UNKNOWN_OUTCOME, msg_group="",
        finished_at__gte=now - timedelta(days=LATE_REPORT_DAYS),
    ).values_list("id", flat=True)[:5000]:
        with transaction.atomic():
            row = SmsMessage.objects.select_for_update(skip_locked=True).filter(
                pk=row_id, status=S.FAILED, error_code=UNKNOWN_OUTCOME
            ).first()
            report = _evidence(row) if row is not None else None
            if report is not None:
                _adopt(row, report, now)
                adopted += 1
                finished_batches.add(row.batch_id)
    batch_refresh_status(batch_ids=finished_batches)
    return {"adopted": adopted, "failed": failed}


def run(*, backend: BaseBackend | None = None, worker: str | None = None, time_budget: float = 600,
        max_rounds: int | None = None) -> dict:
    """One dispatcher pass: resolve stale rows, then claim and send until nothing is due or time is up."""
    backend = backend or get_backend()
    worker = worker or f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    summary = {"sent_requests": 0, "accepted": 0, "failed": 0, "retry": 0, "unknown": 0}
    summary["stale"] = resolve_stale()
    match_orphan_reports()
    rate = settings.SMS_RATE_PER_SECOND
    size = min(settings.SMS_BATCH_SIZE, backend.max_mobiles)
    rounds = 0
    last_request = 0.0
    while time.monotonic() - started < time_budget and (max_rounds is None or rounds < max_rounds):
        if quiet_until(timezone.now()):
            # Inside the quiet hours nothing is sent; a long pass that reaches 21:00 stops, its rows wait.
            summary["quiet_hours"] = True
            break
        rows = claim(worker=worker, limit=size)
        if not rows:
            break
        rounds += 1
        for key, chunk in _chunks(rows, backend.max_mobiles, templates=backend.supports_templates):
            if rate:
                wait = last_request + 1 / rate - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            last_request = time.monotonic()
            result = _send(backend, key, chunk)
            summary["sent_requests"] += 1
            record_result(rows=chunk, worker=worker, result=result)
            outcome = {Outcome.ACCEPTED: "accepted", Outcome.PERMANENT: "failed", Outcome.TRANSIENT: "retry"}.get(
                result.outcome, "unknown"
            )
            summary[outcome] += len(chunk)
        batch_refresh_status(batch_ids={row.batch_id for row in rows})
    return summary


def next_wakeup(*, now=None):
    """When the dispatcher next has something to do (a retry falls due, a lease or a grace period ends).

    Queued rows are never due inside the quiet hours: a backlog at 21:00 wakes the dispatcher in the
    morning, not every second through the night.
    """
    now = now or timezone.now()
    queued = SmsMessage.objects.filter(status=S.QUEUED).aggregate(t=Min("next_attempt_at"))["t"]
    lease = SmsMessage.objects.filter(status=S.SENDING).aggregate(t=Min("lease_expires_at"))["t"]
    candidates = []
    if queued:
        due = max(queued, now)
        candidates.append(quiet_until(due) or due)
    if lease:
        # An expired lease waits for reports, then the grace period; wake at both points.
        grace = timedelta(seconds=settings.SMS_UNKNOWN_GRACE_SECONDS)
        candidates.append(lease if lease > now else min(lease + grace, now + timedelta(seconds=30)))
    return min(candidates) if candidates else None

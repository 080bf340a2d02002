"""SMS benchmark: 10,000 messages through the dispatcher to the local 云MAS simulator (loopback only).

    DATABASE_URL=… .venv/bin/python bench/sms.py [--messages 10000] [--processes 2]

Round 1: no faults — messages per second and duplicates (must be 0).
Round 2: 5 % of gateway requests answer HTTP 500 — retried with backoff until every message is delivered.
Delivery reports are drained from the simulator into ``record_reports`` (as the pull poller would do).
Rows are added under a fresh key prefix; nothing else in the database is touched.
"""

import argparse
import multiprocessing
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from notify import dispatch  # noqa: E402
from notify.backends.mas import MasBackend  # noqa: E402
from notify.models import MessageTemplate, SmsMessage  # noqa: E402
from notify.services import Recipient, record_reports, sms_batch_enqueue  # noqa: E402
from notify.simulator import MasSimulator  # noqa: E402

CREDENTIALS = {"ec_name": "某某市税务局", "ap_id": "swj_bench", "secret_key": "Bench#2024", "sign": "AbCdEfG12"}


def _worker(base_url: str):
    connections.close_all()  # a forked child needs its own connection
    backend = MasBackend(**CREDENTIALS, base_url=base_url, add_serial="", timeout=10)
    dispatch.run(backend=backend, time_budget=600)
    connections.close_all()


def _dispatch(base_url: str, processes: int):
    if processes <= 1:
        _worker(base_url)
        return
    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_worker, args=(base_url,)) for _ in range(processes)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()


def _drain_reports(sim: MasSimulator) -> None:
    with sim.state.lock:
        reports, sim.state.pending_reports = sim.state.pending_reports, []
    for start in range(0, len(reports), 1000):
        record_reports(items=reports[start : start + 1000])


def _round(label: str, n: int, processes: int, fail_rate: float, batch_size: int) -> dict:
    settings.SMS_BATCH_SIZE = batch_size
    prefix = f"bench:{uuid.uuid4().hex[:8]}"
    template, _ = MessageTemplate.objects.get_or_create(
        code="bench",
        defaults={"name": "压测通知", "body": "您好，{district}留抵退税申请已受理，请登录电子税务局查看。"},
    )
    districts = ["城东", "城西", "城南", "城北", "开发区"]
    recipients = [Recipient(f"138{i:08d}", {"district": districts[i % len(districts)]}) for i in range(n)]
    batch = sms_batch_enqueue(name=label, template=template, recipients=recipients, key_prefix=prefix)
    with MasSimulator(**CREDENTIALS, seed=42) as sim:
        if fail_rate:
            sim.state.set_faults(http_status=500, rate=fail_rate)
        started = time.monotonic()
        rounds = 0
        while batch.messages.filter(status__in=("queued", "sending")).exists() and rounds < 200:
            # Retries fall due after the backoff; make them due now so the bench does not sleep.
            batch.messages.filter(status="queued").update(next_attempt_at=timezone.now())
            _dispatch(sim.base_url, processes)
            rounds += 1
        elapsed = time.monotonic() - started
        _drain_reports(sim)
        counts = sim.state.accepted_counts()
        failed_requests = sim.state.requests - len(sim.state.accepted)
    statuses = dict(batch.messages.values_list("status").annotate(n=Count("id")).order_by())
    return {
        "round": label,
        "messages": n,
        "processes": processes,
        "seconds": round(elapsed, 2),
        "messages_per_second": round(n / elapsed, 1) if elapsed else None,
        "gateway_requests": sim.state.requests,
        "injected_failures": failed_requests,
        "dispatcher_passes": rounds,
        "duplicates": sum(c - 1 for c in counts.values() if c > 1),
        "distinct_numbers_accepted": len(counts),
        "delivered": statuses.get("delivered", 0),
        "statuses": statuses,
        "max_attempts": max(SmsMessage.objects.filter(batch=batch).values_list("attempts", flat=True)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=2, help="dispatcher processes claiming in parallel")
    args = parser.parse_args()
    settings.SMS_QUIET_HOURS = ""  # the bench may run at night
    settings.SMS_RETRY_BASE_SECONDS = 0.1
    results = [
        _round("no faults", args.messages, args.processes, 0.0, batch_size=1000),
        _round("5% HTTP 500", args.messages, args.processes, 0.05, batch_size=100),
    ]
    for result in results:
        print(
            f"{result['round']:>12}: {result['messages']} messages in {result['seconds']} s = "
            f"{result['messages_per_second']} msg/s; requests {result['gateway_requests']} "
            f"(injected failures {result['injected_failures']}), duplicates {result['duplicates']}, "
            f"delivered {result['delivered']}/{result['messages']}, max attempts {result['max_attempts']}"
        )
    ok = all(r["duplicates"] == 0 and r["delivered"] == r["messages"] for r in results)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

"""Exactly-once with real Celery worker processes: two workers at once, and a worker SIGKILLed mid-batch.

The workers use this test's database (pytest-django's ``test_<name>``) and this Redis db; the simulator
runs in this process and pushes delivery reports to the live server.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import override_settings

from notify.models import MessageTemplate, SmsMessage
from notify.services import Recipient, sms_batch_enqueue
from notify.simulator import MasSimulator
from notify.tests.conftest import CREDENTIALS, simulator_settings

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).parent / "celery"
TOKEN = "worker-test-token"
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis")]


def _env(sim: MasSimulator, **extra) -> dict:
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMS_", "MAS_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        REDIS_URL=settings.REDIS_URL,
        **simulator_settings(sim),
        MAS_TIMEOUT_SECONDS="10",
        SMS_QUIET_HOURS="",
        SMS_BATCH_SIZE="10",
        SMS_LEASE_SECONDS="3",
        SMS_UNKNOWN_GRACE_SECONDS="600",
        LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


class Worker:
    def __init__(self, name: str, env: dict, tmp_path: Path):
        self.log = tmp_path / f"{name}.log"
        self.proc = subprocess.Popen(
            [str(CELERY), "-A", "config", "worker", "--pool", "solo", "-n", f"{name}@%h", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "-l", "INFO"],
            cwd=ROOT, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log.read_text(errors="replace"):
                return
            assert self.proc.poll() is None, self.log.read_text()
            time.sleep(0.2)
        raise AssertionError("worker did not start: " + self.log.read_text())

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def env_and_sim(live_server):
    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # our own Redis db: queue and wake-up keys
    report_url = f"{live_server.url}/notify/mas/report/{TOKEN}/"
    with (
        override_settings(MAS_REPORT_TOKEN=TOKEN, SMS_QUIET_HOURS=""),
        MasSimulator(**CREDENTIALS, report_url=report_url) as sim,
    ):
        yield sim


def _enqueue(n: int) -> None:
    template = MessageTemplate.objects.create(code="t", name="通知", body="{name}：您的申请已受理", sign_text="")
    recipients = [Recipient(f"138{i:08d}", {"name": "纳税人"}) for i in range(n)]
    sms_batch_enqueue(name="测试", template=template, recipients=recipients, key_prefix="w")


def _wait_all(status_set: set, n: int, timeout: float, workers) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = SmsMessage.objects.filter(status__in=status_set).count()
        if done == n:
            return
        time.sleep(0.3)
    logs = "\n".join(w.log.read_text(errors="replace")[-3000:] for w in workers)
    statuses = list(SmsMessage.objects.values_list("status", "error_code").distinct())
    raise AssertionError(f"not finished: {statuses}\n{logs}")


def test_two_workers_send_each_message_once(env_and_sim, tmp_path):
    from notify.tasks import dispatch_outbox

    sim = env_and_sim
    sim.state.set_faults(delay=0.05)
    env = _env(sim)
    workers = [Worker("h6a", env, tmp_path), Worker("h6b", env, tmp_path)]
    try:
        for worker in workers:
            worker.wait_ready()
        _enqueue(300)  # one kick after commit
        for _ in range(3):
            dispatch_outbox.delay()
        _wait_all({"delivered"}, 300, 90, workers)
    finally:
        for worker in workers:
            worker.stop()
    counts = sim.state.accepted_counts()
    assert len(counts) == 300 and set(counts.values()) == {1}
    pids = {claimed.split(":")[1] for claimed in SmsMessage.objects.values_list("claimed_by", flat=True)}
    assert pids == {str(w.proc.pid) for w in workers}  # both workers really sent


def test_worker_killed_mid_batch_then_restarted(env_and_sim, tmp_path):
    from notify.tasks import dispatch_outbox

    sim = env_and_sim
    sim.state.set_faults(delay=1.0)  # each request of 10 numbers takes a second: time to kill mid-batch
    env = _env(sim)
    first = Worker("h6kill", env, tmp_path)
    second = None
    try:
        first.wait_ready()
        _enqueue(60)
        deadline = time.monotonic() + 60
        while not (len(sim.state.accepted) >= 2 and sim.state.requests > len(sim.state.accepted)):
            assert time.monotonic() < deadline, first.log.read_text()
            time.sleep(0.02)
        first.kill()  # a request is in flight: the gateway will take it, the worker never hears back
        assert SmsMessage.objects.filter(status="sending").count() == 10
        assert SmsMessage.objects.filter(status="queued").count() >= 10
        second = Worker("h6again", env, tmp_path)
        second.wait_ready()
        dispatch_outbox.delay()  # what beat or the next enqueue would do
        _wait_all({"delivered"}, 60, 90, [first, second])
    finally:
        first.kill()
        if second:
            second.stop()
    counts = sim.state.accepted_counts()
    assert len(counts) == 60 and set(counts.values()) == {1}  # every message exactly once
    adopted = SmsMessage.objects.filter(attempts=1, error_code="").count()
    assert adopted == 60  # the in-flight ten were resolved from their reports, not resent

"""The Celery set-up (prefetch 1, late acks, time limits, Django's time zone, one database beat), and real round
trips of a task through both brokers:
Redis (production, CI) and kombu's filesystem transport (the embedded demo)."""

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from accounts.models import WorkerHeartbeat
from accounts.tasks import record_worker_heartbeat
from config.celery import app

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SOURCE_DIRS = ("core", "accounts", "taxpayers", "credit", "risk", "refund", "ledger", "notify", "config")


def test_worker_settings():
    conf = app.conf
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_ignore_result is True
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_time_limit and conf.task_soft_time_limit
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    assert conf.timezone == settings.TIME_ZONE == "Asia/Shanghai"
    assert conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"


def test_redis_visibility_timeout_exceeds_every_delay():
    assert app.conf.broker_url.startswith("redis://")
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert visibility > settings.TASK_MAX_DELAY_SECONDS

    # Literal delays written in our code must stay within the documented maximum.
    delay = re.compile(r"\b(countdown|retry_backoff_max|default_retry_delay|expires)\s*=\s*([\d_]+(?:\s*\*\s*[\d_]+)*)")
    found = []
    for folder in SOURCE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            for name, expr in delay.findall(path.read_text(encoding="utf-8")):
                seconds = 1
                for factor in expr.split("*"):
                    seconds *= int(factor.strip().replace("_", ""))
                found.append((path.relative_to(ROOT), name, seconds))
    too_long = [item for item in found if item[2] > settings.TASK_MAX_DELAY_SECONDS]
    assert too_long == []


def _local_env(tmp_path: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    env.update(extra)
    return env


def test_without_redis_url_the_broker_is_the_filesystem_transport(tmp_path):
    if (ROOT / ".env").exists() and "REDIS_URL" in (ROOT / ".env").read_text():
        pytest.skip("a local .env sets REDIS_URL")
    script = (
        "import json; from config.celery import app; "
        "print(json.dumps({'url': app.conf.broker_url, 'options': app.conf.broker_transport_options}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=_local_env(tmp_path, DJANGO_SETTINGS_MODULE="config.settings.local"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["url"] == "filesystem://"
    broker_dir = ROOT / "var" / "broker"
    options = values["options"]
    assert options["data_folder_in"] == options["data_folder_out"] == str(broker_dir / "queue")
    assert options["control_folder"] == str(broker_dir / "control")
    assert (broker_dir / "queue").is_dir()


# The worker runs the local settings with only the broker folders moved into the temporary
# directory, so a demo running from this checkout cannot take the test's message.
_SETTINGS_MODULE = '''
from config.settings.local import *  # noqa: F403

_broker = {broker!r}
CELERY_BROKER_TRANSPORT_OPTIONS = {{
    "data_folder_in": _broker + "/queue",
    "data_folder_out": _broker + "/queue",
    "processed_folder": _broker + "/processed",
    "control_folder": _broker + "/control",
    "store_processed": False,
}}
'''


def _heartbeats(db_file: Path) -> list:
    try:
        with sqlite3.connect(db_file, timeout=5) as conn:
            return conn.execute("SELECT name, seen_at FROM accounts_workerheartbeat").fetchall()
    except sqlite3.OperationalError:
        return []


def test_filesystem_transport_round_trip_through_a_real_worker(tmp_path):
    broker = tmp_path / "broker"
    for folder in ("queue", "processed", "control"):
        (broker / folder).mkdir(parents=True)
    (tmp_path / "h4_roundtrip_settings.py").write_text(_SETTINGS_MODULE.format(broker=str(broker)))
    db_file = tmp_path / "demo.sqlite3"
    env = _local_env(
        tmp_path,
        DJANGO_SETTINGS_MODULE="h4_roundtrip_settings",
        DATABASE_URL=f"sqlite:///{db_file}",
        REDIS_URL="",  # empty beats a local .env: the filesystem transport
        PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]),
    )
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    assert _heartbeats(db_file) == []

    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [str(VENV_BIN / "celery"), "-A", "config", "worker", "--pool=solo", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        send = subprocess.run(
            [str(VENV_BIN / "celery"), "-A", "config", "call", "accounts.tasks.record_worker_heartbeat"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
        )
        assert send.returncode == 0, send.stderr
        rows = []
        deadline = time.monotonic() + 90  # a worker on a loaded machine takes a while to start
        while not rows and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.3)
            rows = _heartbeats(db_file)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)
        log.close()
    output = (tmp_path / "worker.log").read_text()
    assert [name for name, _ in rows] == ["worker"], output[-3000:]
    assert "filesystem://" in output
    assert (broker / "control" / "celery.exchange").exists()  # the message went through our folders


@pytest.mark.django_db(transaction=True)
def test_redis_round_trip_through_an_in_process_worker():
    assert app.conf.broker_url == settings.REDIS_URL
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=15):
        record_worker_heartbeat.delay(name="redis-round-trip")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if WorkerHeartbeat.objects.filter(name="redis-round-trip").exists():
                break
            time.sleep(0.2)
    heartbeat = WorkerHeartbeat.objects.get(name="redis-round-trip")
    assert heartbeat.seen_at is not None


# --- schedules: config/schedules.py and `manage.py setup_schedules` ----------------------


def _setup_schedules() -> str:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("setup_schedules", stdout=out)
    return out.getvalue()


def test_every_registered_schedule_names_a_known_task_in_shanghai_time():
    from config.schedules import SCHEDULES

    app.loader.import_default_modules()
    names = [entry.name for entry in SCHEDULES]
    assert len(names) == len(set(names))
    assert "worker-heartbeat" in names
    for entry in SCHEDULES:
        assert entry.task in app.tasks, entry.task
        assert entry.timezone == "Asia/Shanghai"
        assert entry.description


@pytest.mark.django_db
def test_setup_schedules_creates_missing_entries_once():
    from django_celery_beat.models import PeriodicTask

    out = _setup_schedules()
    assert "created worker-heartbeat" in out
    task = PeriodicTask.objects.get(name="worker-heartbeat")
    assert task.task == "accounts.tasks.record_worker_heartbeat"
    assert task.enabled is True
    assert task.expire_seconds == 120
    assert "心跳" in task.description
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_month, crontab.month_of_year, crontab.day_of_week) == (
        "*", "*", "*", "*", "*",
    )
    assert str(crontab.timezone) == "Asia/Shanghai"

    out = _setup_schedules()
    assert "kept worker-heartbeat" in out
    from config.schedules import SCHEDULES

    assert f"0 created, {len(SCHEDULES)} kept" in out
    assert PeriodicTask.objects.filter(name="worker-heartbeat").count() == 1


@pytest.mark.django_db
def test_setup_schedules_never_overwrites_an_administrators_edit():
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    _setup_schedules()
    edited = PeriodicTask.objects.get(name="worker-heartbeat")
    edited.crontab = CrontabSchedule.objects.create(minute="*/5", timezone="Asia/Shanghai")
    edited.enabled = False
    edited.description = "管理员已调整"
    edited.save()

    out = _setup_schedules()
    assert "kept worker-heartbeat" in out
    edited.refresh_from_db()
    assert edited.enabled is False
    assert edited.crontab.minute == "*/5"
    assert edited.description == "管理员已调整"


def test_every_scheduled_task_is_registered_with_the_worker():
    """A schedule naming a task no worker knows never runs (a module shadowed by a package of the same name, say)."""
    from config.schedules import SCHEDULES

    app.loader.import_default_modules()
    missing = sorted(entry.task for entry in SCHEDULES if entry.task not in app.tasks)
    assert not missing, missing

"""Faults with real processes: the system recovers by itself, loses nothing, sends nothing twice, leaves nothing
half-written.

Each scenario runs a real Celery worker (``notify.tests.test_workers.Worker``) and breaks something under it:

1. PostgreSQL is restarted while the worker applies a large import, and stays down while the worker handles the
   error: the job is left "写入中" with nothing written, and the sweep has it applied again, every row once;
2. Redis is restarted while the worker sends an SMS batch (and an officer enqueues another meanwhile): the worker
   reconnects by itself and every number is sent once;
3. the worker is SIGKILLed during a screening run: the sweep removes the partial results and a new worker screens
   again, one result per taxpayer;
4. the worker is SIGKILLed after the 云MAS gateway took a request but before it recorded the answer, and no
   delivery report comes: those messages are never sent again (failed with ``unknown_outcome`` for a person), and
   a report arriving late is still adopted. The worker killed mid-batch with the reports arriving is
   ``notify/tests/test_workers.py::test_worker_killed_mid_batch_then_restarted`` (every number accepted once, the
   in-flight ten adopted from their reports, none resent);
5. work handed to the broker while it is down (an import, a screening run; SMS in 2.): the officer's action
   succeeds and nothing is lost; the sweeps hand it over once the broker is back.

Nothing shared is restarted: PostgreSQL and Redis are private servers started here on free ports (PostgreSQL as
the ``postgres`` user when we are root, as ``scripts/services.sh`` does) and stopped at the end. Scenarios 1 and 3
run on a private cluster holding a small demo county; the test calls the product there through ``manage.py
shell`` subprocesses and reads its tables with psycopg2. The SMS scenarios use this test's database, as the
worker tests do. Every worker uses the private Redis. The only stand-ins are calls of a sweep function for its
5-minute beat entry (with ``TASK_STALE_SECONDS`` of a few seconds instead of the time limit and a margin), and a
kick of the SMS dispatcher for its safety-net beat entry.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import psycopg2
import pytest
import redis
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from notify.simulator import MasSimulator
from notify.tests.conftest import CREDENTIALS
from notify.tests.test_workers import Worker, _env
from taxpayers.tests.factories import make_uscc
from taxpayers.tests.test_imports import TAXPAYER_HEADERS, to_csv
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]
PG_BIN = next((p.parent for p in sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)), None)
if PG_BIN is None and shutil.which("pg_ctl"):
    PG_BIN = Path(shutil.which("pg_ctl")).parent
pytestmark = pytest.mark.skipif(
    PG_BIN is None or not shutil.which("redis-server"), reason="needs the PostgreSQL server binaries and redis-server"
)

COUNTY_TAXPAYERS = 600
STALE_SECONDS = 3  # TASK_STALE_SECONDS of the workers and of the sweeps here
REPORT_TOKEN = "faults-report-token"


# --- private servers ----------------------------------------------------------------------------------------------


def _free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(what: str, predicate, timeout: float, logs=()):
    return wait_until(what, predicate, timeout, logs, interval=0.1)


class PrivatePostgres:
    """A cluster of our own in a temporary directory under /tmp (reachable by ``postgres``, which runs it when we
    are root: PostgreSQL refuses to run as root)."""

    def __init__(self):
        self.port = _free_port()
        self.data = Path(tempfile.mkdtemp(prefix="jj-faults-pg-"))
        self.data.chmod(0o700)
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
        self.log = self.data / "server.log"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/faults"
        self._as_pg(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                    "--locale=C.UTF-8")

    def _as_pg(self, *args):
        command = [str(arg) for arg in args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=90)
        assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"

    def start(self):
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        self._as_pg(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "-o", options, "start")

    def stop(self, mode: str = "fast"):
        """``fast``: every session is cut off, open transactions roll back (what a restart does to a worker)."""
        self._as_pg(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop")

    def query(self, sql: str, params=(), dbname: str = "faults") -> list[tuple]:
        with closing(psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname)) as conn:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []

    def value(self, sql: str, params=()):
        return self.query(sql, params)[0][0]

    def close(self):
        try:
            if (self.data / "postmaster.pid").exists():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.data, ignore_errors=True)


class PrivateRedis:
    """A redis-server of our own, append-only as in docker-compose.yml (what was queued survives a restart)."""

    def __init__(self):
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="jj-faults-redis-"))
        self.log = self.dir / "redis.log"
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--appendonly", "yes", "--save", "",
             "--dir", str(self.dir), "--logfile", str(self.log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
        )
        _wait("redis-server to answer", self.answers, 20, [self.log])

    def answers(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_timeout=1).ping()
        except redis.ConnectionError:
            return False

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: Redis writes its append-only file and exits
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def flush(self):
        redis.Redis.from_url(self.url).flushall()

    def close(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def _manage(env: dict, *args: str, timeout: float = 180) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"manage.py {args[0]}: {done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done.stdout


def _shell(env: dict, code: str):
    """Run ``code`` in ``manage.py shell`` with ``env``; ``code`` binds ``result``, which comes back as JSON."""
    out = _manage(env, "shell", "-c", f"{code}\nimport json\nprint('RESULT', json.dumps(result))")
    return json.loads(next(line for line in out.splitlines() if line.startswith("RESULT ")).removeprefix("RESULT "))


@pytest.fixture(scope="module")
def private_redis():
    server = PrivateRedis()
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def gateway():
    """A 云MAS simulator for the workers of the county scenarios (they send no SMS; nothing leaves the machine)."""
    with MasSimulator(**CREDENTIALS) as sim:
        yield sim


@pytest.fixture(scope="module")
def county(private_redis, gateway, tmp_path_factory):
    """The private cluster, migrated and seeded with a small demo county, and the environment of every process
    that works on it (worker or ``manage.py``)."""
    pg = PrivatePostgres()
    try:
        pg.start()
        pg.query("CREATE DATABASE faults", dbname="postgres")
        env = _env(gateway, DATABASE_URL=pg.url, REDIS_URL=private_redis.url, TASK_STALE_SECONDS=str(STALE_SECONDS),
                   MEDIA_ROOT=str(tmp_path_factory.mktemp("media")))
        _manage(env, "migrate", "--noinput", "-v0")
        _manage(env, "seed_demo", "--taxpayers", str(COUNTY_TAXPAYERS))
        yield pg, env
    finally:
        pg.close()


def _task_ended(worker: Worker, task: str) -> bool:
    return bool(re.search(rf"{re.escape(task)}\[[^\]]+\] (succeeded|raised)", worker.log.read_text(errors="replace")))


def _wait_stale(pg: PrivatePostgres, table: str, row_id: int) -> None:
    """Let the row's ``started_at`` grow older than TASK_STALE_SECONDS, as the time until the sweep would."""
    age = f"SELECT extract(epoch FROM now() - started_at) FROM {table} WHERE id = %s"  # noqa: S608 - our constant
    _wait("the job to be stale", lambda: pg.value(age, [row_id]) > STALE_SECONDS + 0.5, 30)


# --- 1. PostgreSQL restarted during an import ---------------------------------------------------------------------

IMPORT_ROWS = 8_000
IMPORT_REGION = "330598"  # identifiers no demo taxpayer has


def _registry_file(rows: int) -> bytes:
    """New taxpayers (not general taxpayers: no screening population changes) of the demo county's 城东分局."""
    return to_csv(TAXPAYER_HEADERS, [
        [make_uscc(i, region=IMPORT_REGION), f"故障演练企业{i}有限公司", "13305990501", "C3411", "2015-03-01", "",
         "按月申报", "张三", "", "", "A", "小型", "12000000.00", "否"]
        for i in range(rows)
    ])  # fmt: skip


def _imported(pg: PrivatePostgres) -> int:
    return pg.value("SELECT count(*) FROM taxpayers_taxpayer WHERE identifier LIKE %s", [f"91{IMPORT_REGION}%"])


def test_postgres_restarted_while_an_import_is_applied(county, private_redis, tmp_path):
    pg, env = county
    private_redis.flush()
    upload = tmp_path / "纳税人登记信息.csv"
    upload.write_bytes(_registry_file(IMPORT_ROWS))
    worker = Worker("faults-import", env, tmp_path)  # starts while the job is submitted
    try:
        job_id = _shell(env, (
            "from django.core.files.uploadedfile import SimpleUploadedFile\n"
            "from taxpayers.services import import_job_submit\n"
            f"content = open({str(upload)!r}, 'rb').read()\n"
            "result = import_job_submit(actor=None, kind='taxpayers', "
            "uploaded_file=SimpleUploadedFile('纳税人登记信息.csv', content)).pk"
        ))  # above IMPORT_INLINE_MAX_BYTES: the worker imports it
        worker.wait_ready()

        def job():
            return pg.query("SELECT status, processed_rows, message FROM taxpayers_importjob WHERE id = %s",
                            [job_id])[0]

        _wait("the worker to be applying rows", lambda: job()[0] == "applying" and job()[1] >= IMPORT_ROWS // 5, 120,
              [worker.log])
        pg.stop()  # every session cut off mid-transaction
        _wait("the worker to give the task up", lambda: _task_ended(worker, "taxpayers.run_import_job"), 60,
              [worker.log])
        pg.start()  # down long enough that the worker could not even record the failure
        assert "import_job_crashed" in worker.log.read_text(errors="replace")
        status, processed, _message = job()
        assert status == "applying"  # left in flight by a worker that lost its database
        assert _imported(pg) == 0  # the one transaction was rolled back: nothing half-written

        _wait_stale(pg, "taxpayers_importjob", job_id)
        assert _shell(env, "from taxpayers.services import import_jobs_sweep\nresult = import_jobs_sweep()") == [job_id]
        _wait("the swept job to end", lambda: job()[0] in ("succeeded", "failed"), 120, [worker.log])
        status, processed, message = job()
        assert (status, processed) == ("succeeded", IMPORT_ROWS), message
        assert worker.proc.poll() is None  # the same worker, reconnected by itself
    finally:
        worker.stop()
    assert _imported(pg) == IMPORT_ROWS  # every row once
    audited = "SELECT count(*) FROM accounts_auditevent WHERE verb = 'import' AND object_id = %s"
    assert pg.value(audited, [str(job_id)]) == 1


# --- 3. The worker killed during a screening run ------------------------------------------------------------------


def test_worker_killed_during_a_screening_run(county, private_redis, tmp_path):
    pg, env = county
    private_redis.flush()
    env = {**env, "SCREENING_RANGE_SIZE": "5"}  # 120 ranges, each its own transaction: seconds of partial results
    population = pg.value(
        "SELECT count(*) FROM taxpayers_taxpayer WHERE general_taxpayer_since IS NOT NULL AND status <> 'deregistered'"
    )
    first, second = Worker("faults-screen", env, tmp_path), None  # starts while the run is started
    try:
        run_id = _shell(env, (
            "from django.utils import timezone\nfrom refund.screening.services import screening_run_start\n"
            "result = screening_run_start(actor=None, application_period=f'{timezone.localdate():%Y-%m}').pk"
        ))
        first.wait_ready()

        def run():
            return pg.query("SELECT status, processed_count, total_count, eligible_count FROM refund_screeningrun "
                            "WHERE id = %s", [run_id])[0]

        def results() -> tuple[int, int]:
            return pg.query("SELECT count(*), count(DISTINCT taxpayer_id) FROM refund_screeningresult "
                            "WHERE run_id = %s", [run_id])[0]

        _wait("partial results", lambda: 0 < results()[0] < population // 2, 120, [first.log])
        first.kill()
        assert run()[0] == "running"
        partial = results()[0]
        assert 0 < partial < population  # half-written, for now

        second = Worker("faults-screen-again", env, tmp_path)  # starts while the sweep runs
        _wait_stale(pg, "refund_screeningrun", run_id)
        sweep = "from refund.screening.services import screening_runs_sweep\nresult = screening_runs_sweep()"
        assert _shell(env, sweep) == [run_id]
        second.wait_ready()
        _wait("the resumed run to end", lambda: run()[0] in ("succeeded", "failed"), 120, [second.log])
    finally:
        first.kill()
        if second:
            second.stop()
    status, processed, total, eligible = run()
    assert (status, processed, total) == ("succeeded", population, population)
    assert results() == (population, population)  # one result per taxpayer, none left over from the killed worker
    eligible_results = "SELECT count(*) FROM refund_screeningresult WHERE run_id = %s AND eligible"
    assert pg.value(eligible_results, [run_id]) == eligible
    assert pg.value("SELECT count(*) FROM refund_screeningrun") == 1


# --- the SMS scenarios: this test's database, the private Redis ---------------------------------------------------


def _publish_via(monkeypatch, url: str, *tasks) -> None:
    """This process's hand-overs (``task.delay``: the kick after an enqueue commits, a sweep's) go to ``url``."""
    from config.celery import app

    for task in tasks:

        def delay(*args, _task=task, **kwargs):
            with app.connection_for_write(url) as conn:
                return _task.apply_async(args, kwargs, connection=conn)

        monkeypatch.setattr(task, "delay", delay)


def _enqueue_sms(count: int, *, start: int = 0, prefix: str = "f") -> None:
    from notify.models import MessageTemplate
    from notify.services import Recipient, sms_batch_enqueue

    template, _ = MessageTemplate.objects.get_or_create(
        code="faults", defaults={"name": "通知", "body": "{name}：您的申请已受理", "sign_text": ""}
    )
    recipients = [Recipient(f"139{i:08d}", {"name": "纳税人"}) for i in range(start, start + count)]
    sms_batch_enqueue(name=f"故障演练{prefix}", template=template, recipients=recipients, key_prefix=prefix)


def _sms(**filters) -> int:
    from notify.models import SmsMessage

    return SmsMessage.objects.filter(**filters).count()


@pytest.mark.django_db(transaction=True)
def test_redis_restarted_while_the_worker_sends(private_redis, live_server, tmp_path, settings, monkeypatch):
    from notify.tasks import dispatch_outbox

    settings.MAS_REPORT_TOKEN, settings.SMS_QUIET_HOURS = REPORT_TOKEN, ""
    private_redis.flush()
    _publish_via(monkeypatch, private_redis.url, dispatch_outbox)
    report_url = f"{live_server.url}/notify/mas/report/{REPORT_TOKEN}/"
    with MasSimulator(**CREDENTIALS, report_url=report_url) as sim:
        sim.state.set_faults(delay=0.4)  # ten numbers a request, 0.4 s each: a pass of 100 takes 4 s
        worker = Worker("faults-redis", _env(sim, REDIS_URL=private_redis.url), tmp_path)
        try:
            worker.wait_ready()
            _enqueue_sms(100, prefix="a")
            _wait("the first requests", lambda: len(sim.state.accepted) >= 2, 60, [worker.log])
            private_redis.stop()
            _enqueue_sms(20, start=100, prefix="b")  # an officer's batch while Redis is down: kept, no error
            assert _sms(recipient__gte="13900000100", recipient__lt="13900000120") == 20
            time.sleep(1)
            private_redis.start()
            _wait("the first pass to end", lambda: _task_ended(worker, "notify.tasks.dispatch_outbox"), 60,
                  [worker.log])
            _enqueue_sms(40, start=120, prefix="c")  # its kick reaches the worker only if it reconnected
            _wait("every message delivered", lambda: _sms(status="delivered") == 160, 90, [worker.log])
            log = worker.log.read_text(errors="replace")
            assert "Connection to broker lost" in log and log.count("Connected to redis://") >= 2
            assert worker.proc.poll() is None  # the same worker, reconnected by itself
        finally:
            worker.stop()
    counts = sim.state.accepted_counts()
    assert len(counts) == 160 and set(counts.values()) == {1}  # every number sent once
    assert _sms(attempts=1) == 160


@pytest.mark.django_db(transaction=True)
def test_worker_killed_after_the_gateway_took_a_request_no_report(private_redis, tmp_path, settings, monkeypatch,
                                                                  client):
    from notify.models import SmsMessage
    from notify.tasks import dispatch_outbox

    settings.MAS_REPORT_TOKEN, settings.SMS_QUIET_HOURS = REPORT_TOKEN, ""
    private_redis.flush()
    _publish_via(monkeypatch, private_redis.url, dispatch_outbox)
    with MasSimulator(**CREDENTIALS) as sim:  # no report URL: the gateway reports nothing (until we say so)
        sim.state.set_faults(delay=1.0)
        env = _env(sim, REDIS_URL=private_redis.url, SMS_UNKNOWN_GRACE_SECONDS="2")  # lease 3 s, then 2 s of grace
        first, second = Worker("faults-unknown", env, tmp_path), None
        try:
            first.wait_ready()
            _enqueue_sms(30)
            _wait("a request in flight",
                  lambda: len(sim.state.accepted) >= 1 and sim.state.requests > len(sim.state.accepted), 60,
                  [first.log])
            first.kill()  # the gateway takes the request in flight (it sleeps, then accepts); the worker never hears
            _wait("the gateway to take the request", lambda: len(sim.state.accepted) == sim.state.requests, 10)
            in_flight = set(SmsMessage.objects.filter(status="sending").values_list("recipient", flat=True))
            assert len(in_flight) == 10 and in_flight <= set(sim.state.accepted_counts())

            second = Worker("faults-unknown-again", env, tmp_path)
            second.wait_ready()
            dispatch_outbox.delay()  # the safety net's beat entry (or the next enqueue)
            _wait("every message decided", lambda: _sms(status__in=["accepted", "failed"]) == 30, 60, [second.log])
            unknown = set(SmsMessage.objects.filter(status="failed", error_code="unknown_outcome")
                          .values_list("recipient", flat=True))
            assert unknown == in_flight  # for a person to decide: never resent by itself
            assert sim.state.accepted_counts() == {f"139{i:08d}": 1 for i in range(30)}

            # The gateway's reports come after all (its late push to our endpoint): the truth is adopted.
            response = client.post(f"/notify/mas/report/{REPORT_TOKEN}/", data=json.dumps(sim.state.pending_reports),
                                   content_type="application/json")
            assert response.status_code == 200, response.content
            dispatch_outbox.delay()  # the next safety-net pass
            _wait("every message delivered", lambda: _sms(status="delivered") == 30, 60, [second.log])
        finally:
            first.kill()
            if second:
                second.stop()
    assert sim.state.accepted_counts() == {f"139{i:08d}": 1 for i in range(30)}  # nothing sent twice
    assert _sms(attempts=1) == 30


# --- 5. Work handed to a broker that is down ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_work_handed_to_a_broker_that_is_down_is_kept_and_swept(private_redis, tmp_path, settings, monkeypatch):
    from refund.models import ScreeningRun
    from refund.screening.services import screening_run_start, screening_runs_sweep
    from refund.tasks import execute_screening_run
    from taxpayers.models import ImportJob
    from taxpayers.services import import_job_submit, import_jobs_sweep
    from taxpayers.tasks import run_import_job

    settings.MEDIA_ROOT = str(tmp_path / "media")
    tasks = (run_import_job, execute_screening_run)
    _publish_via(monkeypatch, f"redis://127.0.0.1:{_free_port()}/0", *tasks)  # nobody listens there

    upload = SimpleUploadedFile("纳税人登记信息.csv", _registry_file(3000))
    job = import_job_submit(actor=None, kind="taxpayers", uploaded_file=upload)
    run = screening_run_start(actor=None, application_period="2026-11")
    assert job.size_bytes > settings.IMPORT_INLINE_MAX_BYTES
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.PENDING
    assert ScreeningRun.objects.get(pk=run.pk).status == ScreeningRun.Status.PENDING

    private_redis.flush()
    _publish_via(monkeypatch, private_redis.url, *tasks)  # the broker is back
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):  # the next sweeps
        assert import_jobs_sweep() == [job.pk]
        assert screening_runs_sweep() == [run.pk]
    queued = [json.loads(m)["headers"]["task"] for m in redis.Redis.from_url(private_redis.url).lrange("celery", 0, -1)]
    assert sorted(queued) == ["refund.execute_screening_run", "taxpayers.run_import_job"]

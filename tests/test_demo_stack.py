"""The demo stack under supervisord: when the worker dies, web and beat stay up and the worker comes back.

Real processes on the test database and Redis: supervisord with ``config/supervisord.demo.conf`` as ``make demo``
starts it, the worker killed with SIGKILL as a crash or the OOM killer would.
"""

import os
import signal
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.django_db, pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _until(what, predicate, timeout=60.0):
    return wait_until(what, predicate, timeout)


@pytest.fixture
def stack(tmp_path):
    db = connection.settings_dict
    env = {
        **os.environ,
        "DEMO_PORT": str(_free_port()),
        "DEMO_VAR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    log = (tmp_path / "stack.log").open("w")
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/supervisord"), "-c", str(ROOT / "config/supervisord.demo.conf")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def ctl(*args) -> str:
        result = subprocess.run(
            [str(ROOT / ".venv/bin/supervisorctl"), "-c", str(ROOT / "config/supervisord.demo.conf"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        return result.stdout

    def pids() -> dict[str, int]:
        found = {}
        for line in ctl("status").splitlines():
            parts = line.split()
            if len(parts) >= 4 and parts[1] == "RUNNING":
                found[parts[0]] = int(parts[3].rstrip(","))
        return found

    yield {"env": env, "ctl": ctl, "pids": pids, "port": env["DEMO_PORT"], "log": tmp_path / "stack.log"}
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def _web_answers(port: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def test_a_dead_worker_is_restarted_and_web_and_beat_stay_up(stack):
    pids = _until("all three running", lambda: (p := stack["pids"]()) and len(p) == 3 and p, timeout=90)
    _until("web answering", lambda: _web_answers(stack["port"]), timeout=60)

    os.kill(pids["worker"], signal.SIGKILL)
    restarted = _until(
        "the worker back with a new process",
        lambda: (p := stack["pids"]()).get("worker") not in (None, pids["worker"]) and p,
        timeout=60,
    )
    assert restarted["web"] == pids["web"]
    assert restarted["beat"] == pids["beat"]
    assert _web_answers(stack["port"])

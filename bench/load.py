"""Load scenario (``make bench``): 50 officers and supervisors at work on gunicorn, driven by locust.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/load.py [--run-time 3m] [--users 50]

1. The demo county in a database of its own (``jingjianda_bench`` beside DATABASE_URL's, created when missing):
   ``migrate``, then, unless it is already built, the demo's own commands ``seed_demo``, ``demo_history``,
   ``demo_credit``, ``setup_schedules`` and ``push_date_run``; ``collectstatic`` for the production storage.
2. gunicorn on 127.0.0.1 at a free port with ``config/gunicorn.conf.py`` and the production settings
   (generated secret, SSL redirect off because the bench plays the bureau's TLS proxy itself; see
   bench/locustfile.py), 2 × cores + 1 sync workers unless ``--workers``.
3. locust headless with ``bench/locustfile.py`` (``-u 50 -r 10 -t 3m``; 5–15 s between an officer's actions,
   ``--think``), CSV files in a temporary folder.
4. gunicorn stopped; the figures printed: requests per second, p50/p95/p99 overall and for the slowest request
   kinds, and the failures (each kind with its error). Exit 1 when any request failed.

Only loopback traffic; the run ends by itself after ``--run-time`` (locust stops its users, then this script
stops gunicorn whatever happened).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
STATIC_MANIFEST = ROOT / "var" / "staticfiles" / "staticfiles.json"  # STATIC_ROOT of config/settings/base.py
SLOWEST = 6  # request kinds listed by p95


def _say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def _bench_database_url(database_url: str, name: str) -> str:
    parts = urlsplit(database_url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql", "postgis"):
        sys.exit(f"DATABASE_URL must name a PostgreSQL server (got scheme “{parts.scheme}”)")
    return urlunsplit(parts._replace(path=f"/{name}"))


def _connect(database_url: str):
    import psycopg2

    parts = urlsplit(database_url)
    return psycopg2.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname=parts.path.lstrip("/"),
    )


def _ensure_database(database_url: str, name: str) -> None:
    """CREATE DATABASE name on DATABASE_URL's server when it does not exist (connecting to DATABASE_URL's own)."""
    connection = _connect(database_url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                _say(f"creating database {name}")
                cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()


def _demo_built(bench_url: str) -> bool:
    """The demo users, its refund history and a push date's candidate lists are there."""
    connection = _connect(bench_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM accounts_user WHERE username = 'refund')"
                " AND EXISTS (SELECT 1 FROM refund_refundapplication)"
                " AND EXISTS (SELECT 1 FROM refund_candidatelist)"
            )
            return bool(cursor.fetchone()[0])
    finally:
        connection.close()


# collectstatic as the image runs it: requirements.txt has no brotli, so whitenoise compresses with gzip alone.
# brotli, which locust brings into the dev environment, would compress every file again for a minute or two
# (the bench fetches no static file).
WITHOUT_BROTLI = "import runpy, sys; sys.modules['brotli'] = None; runpy.run_path('manage.py', run_name='__main__')"


def _manage(env: dict, *args: str, check: bool = True, without_brotli: bool = False) -> int:
    started = time.monotonic()
    script = ["-c", WITHOUT_BROTLI] if without_brotli else ["manage.py"]
    result = subprocess.run([str(VENV_BIN / "python"), *script, *args], cwd=ROOT, env=env)
    if check and result.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed (exit {result.returncode})")
    _say(f"manage.py {' '.join(args)}: {time.monotonic() - started:.0f} s")
    return result.returncode


def _build(env: dict, bench_url: str, *, rebuild: bool) -> None:
    _manage(env, "migrate", "--noinput", "-v0")
    if not rebuild and _demo_built(bench_url):
        _say("demo county already built: skipping seed_demo, demo_history, demo_credit, setup_schedules and the push")
    else:
        # The demo's own commands, as `make demo` runs them; each is idempotent, so a half-built database
        # (an interrupted first run) is completed rather than refused.
        _manage(env, "seed_demo", "--if-empty")
        _manage(env, "demo_history")
        _manage(env, "demo_credit")
        _manage(env, "setup_schedules")
        if _manage(env, "push_date_run", check=False):
            _say("push_date_run did not push (reason above): the candidate lists will be the demo history's only")
    if rebuild or not _static_current():
        # The production storage serves from its manifest: without it every page is a server error.
        _manage(env, "collectstatic", "--noinput", "-v0", without_brotli=True)


def _static_current() -> bool:
    """collectstatic ran after the last change to our static files and to the requirements."""
    if not STATIC_MANIFEST.is_file():
        return False
    sources = [ROOT / "requirements.txt", ROOT / "requirements-dev.txt"]
    sources += [path for folder in ROOT.glob("*/static") for path in folder.rglob("*")]
    sources += list((ROOT / "static").rglob("*"))
    newest = max((path.stat().st_mtime for path in sources if path.exists()), default=0)
    return STATIC_MANIFEST.stat().st_mtime > newest


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"gunicorn did not answer {url} within {timeout:.0f} s")


def _stop(process: subprocess.Popen | None, name: str) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # gunicorn: graceful shutdown of its workers
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        _say(f"{name} did not stop within 30 s: killing it")
        process.kill()
        process.wait()


def _ms(value: str) -> str:
    return "—" if value in ("", "N/A") else f"{float(value):,.0f}"


def _report(csv_prefix: Path, log: Path) -> int:
    """Prints the figures from locust's CSV files; returns the number of failed requests."""
    stats_file = Path(f"{csv_prefix}_stats.csv")
    if not stats_file.is_file():
        _say(f"locust wrote no statistics; its output ({log}):")
        print(log.read_text(errors="replace")[-4000:])
        return -1
    with stats_file.open(newline="") as f:
        rows = list(csv.DictReader(f))
    total = next(row for row in rows if row["Name"] == "Aggregated")
    kinds = [row for row in rows if row["Name"] != "Aggregated" and int(row["Request Count"])]
    failures = int(total["Failure Count"])
    print()
    print(f"requests        {int(total['Request Count']):,}  ({float(total['Requests/s']):.1f} requests/s)")
    print(
        f"response time   p50 {_ms(total['50%'])} ms   p95 {_ms(total['95%'])} ms   p99 {_ms(total['99%'])} ms"
        f"   (max {_ms(total['Max Response Time'])} ms)"
    )
    print(f"slowest request kinds (by p95, of {len(kinds)}):")
    width = max((len(row["Name"]) for row in kinds), default=10)
    for row in sorted(kinds, key=lambda row: float(row["95%"] or 0), reverse=True)[:SLOWEST]:
        print(
            f"  {row['Type']:<4} {row['Name']:<{width}}  n={int(row['Request Count']):>6,}"
            f"   p50 {_ms(row['50%']):>6} ms   p95 {_ms(row['95%']):>6} ms   p99 {_ms(row['99%']):>6} ms"
        )
    print(f"failures        {failures:,}")
    failures_file = Path(f"{csv_prefix}_failures.csv")
    if failures and failures_file.is_file():
        with failures_file.open(newline="") as f:
            for row in csv.DictReader(f):
                print(f"  {row['Occurrences']:>6} × {row['Method']} {row['Name']}: {row['Error']}")
    exceptions_file = Path(f"{csv_prefix}_exceptions.csv")
    if exceptions_file.is_file():
        with exceptions_file.open(newline="") as f:
            errors = list(csv.DictReader(f))
        if errors:  # the scenario itself broke (a page without what it reads): counted as failures
            print(f"scenario errors {sum(int(row['Count']) for row in errors):,}")
            for row in errors:
                print(f"  {row['Count']:>6} × {row['Message']}")
            failures += sum(int(row["Count"]) for row in errors)
    return failures


def _seconds(timespan: str) -> int:
    """locust's -t format: 90, 90s, 3m, 1h30m."""
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?", timespan.strip())
    if not parts or not timespan.strip():
        sys.exit(f"--run-time “{timespan}”: use 3m, 45s or 1h30m")
    hours, minutes, seconds = (int(part or 0) for part in parts.groups())
    return hours * 3600 + minutes * 60 + seconds


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped from outside: gunicorn is stopped too
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", "-u", type=int, default=50, help="concurrent users (default 50)")
    parser.add_argument("--spawn-rate", "-r", type=float, default=10, help="users started per second (default 10)")
    parser.add_argument("--run-time", "-t", default="3m", help="how long the users work, e.g. 3m, 45s (default 3m)")
    parser.add_argument(
        "--think", default="5-15", help="seconds between an officer's actions, LOW-HIGH (default 5-15; pages of one "
        "action: a fifth of it); 1-4 is a brisk officer, 50 of them saturate 2 cores"
    )
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers")
    parser.add_argument("--database-name", default="jingjianda_bench", help="the bench's own database")
    parser.add_argument("--rebuild", action="store_true", help="run the demo commands even when it is built")
    parser.add_argument("--csv-dir", type=Path, help="locust's CSV files and the logs (default: a new temp dir)")
    parser.add_argument("--build-only", action="store_true", help="build the bench database, run nothing")
    args = parser.parse_args()
    _seconds(args.run_time)
    if not re.fullmatch(r"\d+(?:\.\d+)?-\d+(?:\.\d+)?", args.think):
        sys.exit(f"--think “{args.think}”: use LOW-HIGH seconds, e.g. 5-15")

    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if not database_url or not redis_url:
        sys.exit("DATABASE_URL and REDIS_URL must name running PostgreSQL and Redis servers (see `make bench`)")
    bench_url = _bench_database_url(database_url, args.database_name)
    _ensure_database(database_url, args.database_name)

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on the loopback (the readiness probe below too); the locust users send X-Forwarded-Proto as
        # the bureau's TLS proxy does.
        "DJANGO_SECURE_SSL_REDIRECT": "False",
        "DATABASE_URL": bench_url,
        "REDIS_URL": redis_url,
        # Every bench user signs in from 127.0.0.1, 50 within seconds: the production limits per address
        # (30 sign-ins a minute) and per user would refuse the bench itself, not a crowd of officers at
        # their own desks. Raised for this run only.
        "SIGN_IN_RATE": "100000/min",
        "API_USER_RATE": "100000/min",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
    }
    _build(env, bench_url, rebuild=args.rebuild)
    if args.build_only:
        return 0

    out = args.csv_dir or Path(tempfile.mkdtemp(prefix="jingjianda-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    host = f"http://127.0.0.1:{port}"
    gunicorn_log, locust_log = out / "gunicorn.log", out / "locust.log"
    gunicorn = locust = None
    try:
        with gunicorn_log.open("w") as log:
            gunicorn = subprocess.Popen(
                [str(VENV_BIN / "gunicorn"), "-c", "config/gunicorn.conf.py", "config.wsgi:application",
                 "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers), "--timeout", "60"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        _wait_until_up(f"{host}/accounts/login/", gunicorn)
        _say(
            f"gunicorn on {host} ({args.workers} workers); locust: {args.users} users, {args.spawn_rate:g}/s, "
            f"{args.run_time}, {args.think} s between actions (figures at the end; CSV and logs in {out})"
        )
        started = time.monotonic()
        with locust_log.open("w") as log:
            locust = subprocess.Popen(
                [str(VENV_BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                 "--host", host, "-u", str(args.users), "-r", str(args.spawn_rate), "-t", args.run_time,
                 "--stop-timeout", "30", "--csv", str(out / "locust"), "--only-summary", "--loglevel", "WARNING"],
                cwd=ROOT, env={**os.environ, "BENCH_THINK": args.think}, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:  # -t bounds the run and --stop-timeout the last tasks; this only guards against a hang
                locust.wait(timeout=_seconds(args.run_time) + 120)
            except subprocess.TimeoutExpired:
                _say("locust did not stop by itself: stopping it")
        _say(f"locust finished in {time.monotonic() - started:.0f} s (exit {locust.returncode})")
    finally:
        _stop(locust, "locust")
        _stop(gunicorn, "gunicorn")
    failures = _report(out / "locust", locust_log)
    tracebacks = gunicorn_log.read_text(errors="replace").count("Traceback")
    if tracebacks:
        _say(f"gunicorn's log holds {tracebacks} tracebacks: {gunicorn_log}")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

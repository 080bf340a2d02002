"""Build the demo county as ``make demo`` does, time it, and fingerprint it (``demo/fingerprint.py``).

    .venv/bin/python bench/demo_county.py --sqlite /tmp/county.sqlite3 --out /tmp/county.json [--today 2026-11-20]
    .venv/bin/python bench/demo_county.py --compare /tmp/before.json /tmp/after.json

Creates a fresh SQLite database (the file is replaced), runs ``migrate``, ``seed_demo --if-empty``,
``demo_history`` and ``demo_credit`` through ``manage.py`` with the embedded settings — the commands of
``make demo`` — with ``--today`` pinned so that two builds can be compared, prints each command's seconds, and
writes the fingerprint as JSON (``--rows`` adds every row, sorted, to find what differs). ``--compare`` prints what
differs between two fingerprints and exits 1 when anything does.
"""

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _manage(env: dict, *args: str) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)
    seconds = time.monotonic() - started
    print(f"manage.py {' '.join(args)}: {seconds:.1f} s", flush=True)
    return seconds


def build(path: Path, today: dt.date, taxpayers: int | None) -> dict:
    path.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    env.pop("REDIS_URL", None)
    seed = ["seed_demo", "--if-empty", f"--today={today}"] + ([f"--taxpayers={taxpayers}"] if taxpayers else [])
    return {
        "migrate": _manage(env, "migrate", "--noinput", "-v0"),
        "seed_demo": _manage(env, *seed),
        "demo_history": _manage(env, "demo_history", f"--today={today}"),
        "demo_credit": _manage(env, "demo_credit", f"--today={today}"),
    }


def fingerprint_of(path: Path, today: dt.date, with_rows: bool) -> dict:
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    import django

    django.setup()
    from demo.fingerprint import fingerprint

    # ``demo_history --today`` bounds every history timestamp by that midnight; later ones are the seeding's own.
    seeded_after = dt.datetime.combine(today, dt.time(0, 0), ZoneInfo("Asia/Shanghai"))
    return fingerprint(seeded_after=seeded_after, with_rows=with_rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite", type=Path, help="the SQLite file to build (replaced)")
    parser.add_argument("--out", type=Path, help="where to write the fingerprint (JSON)")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 11, 20))
    parser.add_argument("--taxpayers", type=int, default=None, help="default: seed_demo's own (3,000)")
    parser.add_argument("--rows", action="store_true", help="put every row in the fingerprint")
    parser.add_argument("--no-build", action="store_true", help="fingerprint the file as it is")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.compare:
        from demo.fingerprint import differences

        before, after = (json.loads(p.read_text()) for p in args.compare)
        lines = differences(before, after)
        print("\n".join(lines) if lines else "the same county")
        return 1 if lines else 0
    if not args.sqlite or not args.out:
        parser.error("--sqlite and --out are required (or --compare)")
    seconds = {} if args.no_build else build(args.sqlite.resolve(), args.today, args.taxpayers)
    result = fingerprint_of(args.sqlite.resolve(), args.today, args.rows)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    tables = sum(1 for table in result.values() if table["count"])
    print(f"fingerprint of {tables} tables written to {args.out}; seconds: {seconds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# `make test`: lint, migration check and the whole suite against real PostgreSQL and Redis.
# Uses DATABASE_URL / REDIS_URL when they reach running servers; otherwise starts
# private ones (scripts/services.sh) and stops them again on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

# shellcheck source=scripts/services_up.sh
source scripts/services_up.sh

# Browser tests drive Debian's Chromium (never a downloaded browser build).
if [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[test] installing chromium with apt"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  else
    echo "[test] chromium is not installed: sudo apt-get install chromium (or set CHROMIUM_PATH)" >&2
    exit 1
  fi
fi
export DJANGO_SETTINGS_MODULE=config.settings.test

echo "== ruff check"
.venv/bin/ruff check .
echo "== makemigrations --check"
$PY manage.py makemigrations --check --dry-run >/dev/null
# One pytest-xdist worker per core (TEST_WORKERS=1 runs in one process), a test file per worker at a time: each
# worker has its own test database (pytest-django) and Redis database (config/settings/test.py).
WORKERS=${TEST_WORKERS:-$(nproc 2>/dev/null || echo 1)}
PARALLEL=()
[ "$WORKERS" -gt 1 ] && PARALLEL=(-n "$WORKERS" --dist loadfile)
echo "== pytest (DATABASE_URL=${DATABASE_URL%%@*}@…, REDIS_URL=$REDIS_URL, $WORKERS worker(s))"
.venv/bin/pytest "${PARALLEL[@]}" "$@"

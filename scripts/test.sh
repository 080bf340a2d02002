#!/usr/bin/env bash
# `make test`: lint, migration check and the whole suite against real PostgreSQL and Redis.
# Uses DATABASE_URL / REDIS_URL when they reach running servers; otherwise starts
# private ones (scripts/services.sh) and stops them again on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

reachable() {  # reachable URL -> exit 0 when a TCP connection to its host:port succeeds
  $PY - "$1" <<'PYEOF'
import socket, sys
from urllib.parse import urlsplit
u = urlsplit(sys.argv[1])
try:
    socket.create_connection((u.hostname or "127.0.0.1", u.port or {"redis": 6379}.get(u.scheme, 5432)), 2).close()
except OSError:
    sys.exit(1)
PYEOF
}

started=0
cleanup() { [ "$started" = 1 ] && scripts/services.sh stop || true; }
trap cleanup EXIT

if [ -z "${DATABASE_URL:-}" ] || ! reachable "$DATABASE_URL"; then
  eval "$(scripts/services.sh start-postgres)"; started=1
fi
if [ -z "${REDIS_URL:-}" ] || ! reachable "$REDIS_URL"; then
  eval "$(scripts/services.sh start-redis)"; started=1
fi
export DATABASE_URL REDIS_URL

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
echo "== pytest (DATABASE_URL=${DATABASE_URL%%@*}@…, REDIS_URL=$REDIS_URL)"
.venv/bin/pytest "$@"

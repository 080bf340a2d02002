# Sourced by scripts/test.sh and scripts/bench.sh: use DATABASE_URL / REDIS_URL when they reach running
# servers; otherwise start private ones (scripts/services.sh) and stop them again when the caller exits.
PY=${PY:-.venv/bin/python}

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

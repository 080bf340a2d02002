#!/usr/bin/env bash
# `make bench`: the load scenario (bench/load.py) against real PostgreSQL and Redis.
# Uses DATABASE_URL / REDIS_URL when they reach running servers; otherwise starts
# private ones (scripts/services.sh) and stops them again on exit, as scripts/test.sh does.
# Arguments go to bench/load.py: scripts/bench.sh --run-time 30s
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

# shellcheck source=scripts/services_up.sh
source scripts/services_up.sh

echo "== bench/load.py (DATABASE_URL=${DATABASE_URL%%@*}@…, REDIS_URL=$REDIS_URL)"
$PY bench/load.py "$@"

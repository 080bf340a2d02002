#!/usr/bin/env bash
# Starts or stops the private PostgreSQL and Redis that `make test` uses when
# DATABASE_URL / REDIS_URL do not point at running servers.
#
#   scripts/services.sh start   # prints the export lines for DATABASE_URL and REDIS_URL
#   scripts/services.sh stop    # stops only what `start` started
#
# PostgreSQL refuses to run as root: as root the cluster is created and run by the
# `postgres` user (runuser); as an ordinary user, by that user. Both listen on
# 127.0.0.1 only, on ports of their own.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
STATE="$ROOT/var/services"
PG_PORT=${TEST_PG_PORT:-54329}
REDIS_PORT=${TEST_REDIS_PORT:-63799}
mkdir -p "$STATE"

say() { echo "[services] $*" >&2; }

pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/pg_ctl" ] && { echo "$dir"; return; }
  done
  command -v pg_ctl >/dev/null && dirname "$(command -v pg_ctl)" && return
  say "PostgreSQL server binaries not found. Install them (Debian: apt-get install postgresql-15) or set DATABASE_URL."
  exit 1
}

as_pg_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_data_dir() {
  # Inside the repository (git-ignored) when the postgres user can reach it, else under /tmp.
  local dir="$ROOT/var/pgdata"
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$ROOT/var" 2>/dev/null; then
    dir="/tmp/jingjianda-pgdata-$(echo "$ROOT" | md5sum | cut -c1-8)"
  fi
  echo "$dir"
}

start_postgres() {
  local bin data
  bin=$(pg_bin)
  data=$(pg_data_dir)
  if [ ! -s "$data/PG_VERSION" ]; then
    say "initdb $data"
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$data" && chmod 700 "$data"
    as_pg_user "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! "$bin/pg_isready" -h 127.0.0.1 -p "$PG_PORT" -q; then
    say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_pg_user "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $data -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
    echo "$data" > "$STATE/pg.started"
  fi
  if ! "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -Atqc "select 1 from pg_database where datname='jingjianda'" postgres | grep -q 1; then
    "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres jingjianda
  fi
  echo "export DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/jingjianda"
}

start_redis() {
  if ! command -v redis-server >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "installing redis-server with apt"
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/dev/null
    else
      say "redis-server is not installed. Install it (Debian: sudo apt-get install redis-server) or set REDIS_URL."
      exit 1
    fi
  fi
  if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    say "starting Redis on 127.0.0.1:$REDIS_PORT"
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --daemonize yes \
      --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log" --dir "$STATE"
    for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
    touch "$STATE/redis.started"
  fi
  echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
}

stop_all() {
  if [ -f "$STATE/pg.started" ]; then
    say "stopping PostgreSQL"
    as_pg_user "$(pg_bin)/pg_ctl" -D "$(cat "$STATE/pg.started")" -m fast -w stop >/dev/null || true
    rm -f "$STATE/pg.started"
  fi
  if [ -f "$STATE/redis.started" ]; then
    say "stopping Redis"
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    rm -f "$STATE/redis.started"
  fi
}

case "${1:-}" in
  start) start_postgres; start_redis ;;
  start-postgres) start_postgres ;;
  start-redis) start_redis ;;
  stop) stop_all ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac

#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A throwaway PostgreSQL 15 for tests: its own data directory under a temp directory, listening
# on 127.0.0.1 only, on a free port; stopped by PID (pg_ctl on its data directory) at the end.
#
#   tests/lib/pg.sh run -- COMMAND ARGS...
#       starts the server, runs COMMAND with SPOOLD_TEST_PG=postgres://postgres@127.0.0.1:PORT
#       (no database: tests create their own schema or database under it), stops the server
#       and exits with COMMAND's status.
#   source tests/lib/pg.sh; pg_start; ...; pg_stop
#       the same as functions (pg_start sets PG_DIR, PG_PORT, PG_PID, SPOOLD_TEST_PG).
#   pg_halt / pg_resume (with PG_DIR set)
#       stop the server at once (an outage; the data stays) / start it again on the same port.
#
# Runs as root (initdb and the server run as the postgres user through runuser) or as an
# ordinary user (as that user). Needs Debian's postgresql-15 (scripts/deps.sh).
# Durability settings are the reference's test settings (fsync off): the tests exercise the
# protocol, not the disk.
#
# Settings read by pg_start (the benchmark uses them; tests leave them unset):
#   PG_DURABLE=1   fsync, synchronous_commit and full_page_writes on (PostgreSQL's defaults, the
#                  durability spoold promises) instead of the test settings
#   PG_WANT_PORT=N listen on port N (one try) instead of a free port found by node
#   PG_EXTRA_OPTS  more server options ("-c name=value ...")

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

pg__as() { # run as the server's owner
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg__free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

pg_start() {
  [ -x "$PG_BIN/initdb" ] || { echo "pg.sh: $PG_BIN/initdb not found (apt-get install postgresql-15)" >&2; return 1; }
  PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/spoold-pg.XXXXXX") || return 1
  chmod 700 "$PG_DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$PG_DIR"
  local user; user=$([ "$(id -u)" -eq 0 ] && echo postgres || id -un)
  if ! pg__as "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$user" -A trust -E UTF8 --locale=C.UTF-8 \
       --no-sync >"$PG_DIR/initdb.log" 2>&1; then
    echo "pg.sh: initdb failed:" >&2; cat "$PG_DIR/initdb.log" >&2; rm -rf "$PG_DIR"; return 1
  fi
  local tries=0 dur="-c fsync=off -c full_page_writes=off"
  [ "${PG_DURABLE:-0}" = 1 ] && dur="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
  while :; do
    PG_PORT=${PG_WANT_PORT:-$(pg__free_port)}
    echo "-k $PG_DIR -p $PG_PORT -c listen_addresses=127.0.0.1 $dur -c max_connections=400 ${PG_EXTRA_OPTS:-}" >"$PG_DIR/options"
    if pg_resume; then break; fi
    tries=$((tries + 1))
    if [ $tries -ge 3 ] || [ -n "${PG_WANT_PORT:-}" ]; then
      echo "pg.sh: the server did not start:" >&2; tail -n 20 "$PG_DIR/log" >&2; rm -rf "$PG_DIR"; return 1
    fi
  done
  PG_PID=$(head -n1 "$PG_DIR/data/postmaster.pid")
  PG_USER=$user
  export SPOOLD_TEST_PG="postgres://$user@127.0.0.1:$PG_PORT"
  export PG_DIR PG_PORT PG_PID PG_USER
}

# Starts the server of PG_DIR again with the options it was first started with.
pg_resume() {
  pg__as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 30 -o "$(cat "$PG_DIR/options")" \
    start >/dev/null 2>&1
}

# Stops the server of PG_DIR at once, keeping its data (an outage).
pg_halt() {
  pg__as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1
}

# Stops the server by its data directory (pg_ctl signals the PID in postmaster.pid).
pg_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  pg__as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || {
    [ -n "${PG_PID:-}" ] && kill -9 "$PG_PID" 2>/dev/null; }
  rm -rf "$PG_DIR"
  PG_DIR=
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  [ "${1:-}" = "run" ] || { echo "usage: $0 run -- COMMAND ARGS..." >&2; exit 2; }
  shift; [ "${1:-}" = "--" ] && shift
  trap pg_stop EXIT
  pg_start || exit 1
  "$@"
  exit $?
fi

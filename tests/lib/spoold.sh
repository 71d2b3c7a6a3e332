#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Starting and stopping the servers a shell test script runs: spoold on 127.0.0.1 only, waited
# for until it listens, and every process stopped by its PID (also when the script fails: call
# pid_stop from the script's EXIT trap).
#
#   source tests/lib/spoold.sh
#   spoold_start LOG COMMAND...
#       runs COMMAND in the background (`spoold serve --listen 127.0.0.1:0 ...`, port 0 for a
#       free port, or a wrapper that execs spoold), its stdout to LOG.out and its stderr appended
#       to LOG.err, and waits up to SPOOLD_START_SECONDS (15) for the line
#       "spoold: listening on URL". Sets SPOOLD_PID (also when the start failed, so that the
#       caller's cleanup stops it), SPOOLD_URL (scheme://127.0.0.1:PORT) and SPOOLD_PORT.
#       Returns 1 when spoold exits first, does not listen in time, or listens on another
#       address than 127.0.0.1 (then it is stopped at once).
#   pid_stop PID [SIGNAL] [sudo]
#       sends SIGNAL (TERM) to PID (through sudo when the third argument is "sudo", for a
#       server started as root), waits up to 10 s for it to end, then kills it. Returns 0 when it
#       ended on the signal (or had already ended), 1 when it had to be killed. PID_STATUS is its
#       exit status (wait's: 127 when it is not a child of this shell).
#
# Both must run in the shell that owns the process, never inside $(...): a process started in
# a command substitution is not this shell's child, and its exit status is lost.

SPOOLD_START_SECONDS=${SPOOLD_START_SECONDS:-15}

spoold_start() {
  local log=$1; shift
  SPOOLD_PID= SPOOLD_URL= SPOOLD_PORT=
  : >"$log.out"
  "$@" >"$log.out" 2>>"$log.err" &
  SPOOLD_PID=$!
  local line= i
  for ((i = 0; i < SPOOLD_START_SECONDS * 20; i++)); do
    line=$(sed -n 's|^spoold: listening on \([a-z]*://[^ /]*\).*|\1|p' "$log.out" | head -n1)
    [ -n "$line" ] && break
    kill -0 "$SPOOLD_PID" 2>/dev/null || break
    sleep 0.05
  done
  [ -n "$line" ] || return 1
  case "$line" in
    http://127.0.0.1:*|https://127.0.0.1:*) ;;
    *) echo "spoold.sh: spoold listens on $line, not on 127.0.0.1: stopped" >>"$log.err"
       pid_stop "$SPOOLD_PID"; return 1 ;;
  esac
  SPOOLD_URL=$line
  SPOOLD_PORT=${line##*:}
  export SPOOLD_PID SPOOLD_URL SPOOLD_PORT
}

pid_stop() {
  local pid=$1 sig=${2:-TERM} s= i killed=0
  [ "${3:-}" = sudo ] && [ "$(id -u)" -ne 0 ] && s=sudo
  PID_STATUS=
  [ -n "$pid" ] || return 0
  if $s kill -"$sig" "$pid" 2>/dev/null; then
    for ((i = 0; i < 100; i++)); do
      $s kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if $s kill -0 "$pid" 2>/dev/null; then
      $s kill -KILL "$pid" 2>/dev/null || true
      killed=1
    fi
  fi
  PID_STATUS=0
  wait "$pid" 2>/dev/null || PID_STATUS=$?   # (a script under set -e does not stop here)
  return $killed
}

#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# spoold benchmarks: every spoold figure next to a baseline measured in the same run.
#
#   bench/run.sh full    (make bench)        15-25 minutes; rewrites the results block of
#                                            docs/benchmarks.md (between its bench markers)
#   bench/run.sh smoke   (make bench-smoke)  1-4 minutes, small sizes, 1 s runs; prints the
#                                            table and "bench-smoke: ok, table of N rows", the
#                                            line scripts/check.sh looks for
#
# Everything listens on 127.0.0.1 only and is stopped by its PID when the script exits.
# Figures (docs/benchmarks.md explains each; every loadgen and wrk run also records the machine's
# busy CPU share from /proc/stat and the parts spoold, PostgreSQL and the load generator took):
#   1 read       GET a job with an app token, wrk -t2 at 64/256 connections, vs nginx serving the
#                same body as a static file: req/s, p50, p99, server CPU us/request
#   2 lifecycle  create + cancel (both durable) with a user token, bench/loadgen at 1 and 16
#                connections, vs cupsd Create-Job + Cancel-Job (ipptool, raw queue -> /dev/null)
#                and, at 1 connection, vs its floors: the same two transactions with SQLite alone
#                (bench/floor lifecycle) and a job's two HTTP round trips to nginx (loadgen http)
#   3 pull       create + upload 4 KiB + start (held, task created) + abort by the app, 64
#                connections, vs cupsd held Create-Job + Send-Document 4 KiB + Cancel-Job; then
#                open-loop arrivals at half that rate (bench/loadgen --rate): abort latency
#   4 scaling    1 and 2 with 1,000 and 1,000,000 jobs in the store (bench/seed writes them into
#                the stopped server's SQLite file; rounds alternate the two stores), cupsd with
#                1,000 and 15,000 jobs of history, spoold's VmRSS/VmHWM at 1,000,000 jobs
#                and the job read's SELECT with SQLite alone on both stores (bench/floor read),
#                and the lifecycle's two transactions with SQLite alone on both (bench/floor
#                lifecycle)
#   5 upload     1 GiB in 8 MiB fragments, 4 at once, vs dd bs=8M count=128 conv=fsync on the
#                same file system; spoold's peak RSS during the upload
#   6 PostgreSQL reads (as 1), lifecycle (as 2, c=1 and c=16) and pull print (as 3, closed loop)
#                against one spoold process and against two processes on one throwaway
#                PostgreSQL 15 (tests/lib/pg.sh with fsync, synchronous_commit and
#                full_page_writes on), the load spread over both; ratios against the SQLite
#                figures 1-3 of the same run, and two processes against one
#
# Environment: SPOOLD_BIN (default build/spoold), BENCH_OUT (default docs/benchmarks.md, full
# only), BENCH_KEEP=1 keeps the work directory, BENCH_PORT_BASE (default 18400; the run uses
# BASE..BASE+5), BENCH_ONLY=pg runs figure 6 alone (while working on it: the SQLite ratios are
# then n/a, and a full run does not rewrite the page).
set -euo pipefail

MODE=${1:-full}
case "$MODE" in full | smoke) ;; *) echo "usage: bench/run.sh full|smoke" >&2; exit 2 ;; esac
ONLY=${BENCH_ONLY:-}
case "$ONLY" in "" | pg) ;; *) echo "BENCH_ONLY is unset or pg" >&2; exit 2 ;; esac
cd "$(dirname "$0")/.."
ROOT=$PWD
SPOOLD=${SPOOLD_BIN:-$ROOT/build/spoold}
case "$SPOOLD" in /*) ;; *) SPOOLD=$ROOT/$SPOOLD ;; esac
OUT=${BENCH_OUT:-$ROOT/docs/benchmarks.md}
PORT_BASE=${BENCH_PORT_BASE:-18400}
SP_PORT=$PORT_BASE NGX_PORT=$((PORT_BASE + 1)) CUPS_PORT=$((PORT_BASE + 2))
PG_WANT_PORT=$((PORT_BASE + 3)) # the throwaway PostgreSQL; spoold processes on it: BASE+4, BASE+5

if [ "$MODE" = full ]; then
  DUR=10           # seconds per wrk / loadgen run
  SEED_SMALL=1000 SEED_BIG=1000000
  CUPS_SMALL=1000 CUPS_BIG=15000
  CUPS_PAIRS_1=2000 CUPS_PAIRS_16=150   # pairs per client in a measured cupsd run
  CUPS_PULL_PER=30                      # held jobs per client (64 clients)
  UPLOAD_SIZE=$((1 << 30))
  READ_CONNS="64 256" WARMUP=1
  ROUNDS=3       # figure 1 against nginx: rounds alternate nginx and spoold; medians reported
  ROUNDS_SP=3    # figures 2 and 4: rounds alternate the small and the big store
  ROUNDS_PG=3    # figure 6: each round one process, then two
  PULL_CONNS_PG=64
else
  DUR=1
  SEED_SMALL=1000 SEED_BIG=10000
  CUPS_SMALL=200 CUPS_BIG=1000
  CUPS_PAIRS_1=300 CUPS_PAIRS_16=20
  CUPS_PULL_PER=4
  UPLOAD_SIZE=$((64 << 20))
  READ_CONNS="64" WARMUP=0   # the smoke run checks that every figure works, not their numbers
  ROUNDS=1 ROUNDS_SP=1 ROUNDS_PG=1
  PULL_CONNS_PG=16 # a pull iteration on PostgreSQL takes seconds on a loaded machine
fi
FRAGMENT=$((8 << 20))

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---- dependencies --------------------------------------------------------------------------------

ensure_deps() {
  local missing=""
  command -v wrk >/dev/null || missing="$missing wrk"
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$missing nginx"
  [ -x /usr/sbin/cupsd ] || missing="$missing cups-daemon"
  command -v lpadmin >/dev/null || [ -x /usr/sbin/lpadmin ] || missing="$missing cups-client"
  command -v ipptool >/dev/null || missing="$missing cups-ipp-utils"
  command -v curl >/dev/null || missing="$missing curl"
  command -v openssl >/dev/null || missing="$missing openssl"
  command -v cc >/dev/null || missing="$missing build-essential"
  [ -f /usr/include/sqlite3.h ] || missing="$missing libsqlite3-dev"
  [ -x /usr/lib/postgresql/15/bin/initdb ] || missing="$missing postgresql-15"
  command -v psql >/dev/null || missing="$missing postgresql-client-15"
  [ -z "$missing" ] && return 0
  log "installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq </dev/null
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $missing </dev/null >/dev/null
}
ensure_deps
export PATH=$PATH:/usr/sbin:/sbin
[ -x "$SPOOLD" ] || die "$SPOOLD is missing: run make (or set SPOOLD_BIN)"

# ---- work directory, processes, cleanup -----------------------------------------------------------

WORK=$(mktemp -d /tmp/spoold-bench.XXXXXX)
chmod 755 "$WORK"
SP_PID="" NGX_PID="" CUPS_PID=""
PGS_PID=("" "") # spoold processes on PostgreSQL (figure 6)
PG_DIR=""        # the throwaway PostgreSQL (tests/lib/pg.sh), stopped by the PID of its data directory
. tests/lib/pg.sh
. tests/lib/spoold.sh
CMDS=$WORK/commands.txt
RESULTS=$WORK/results.txt
: >"$CMDS"
: >"$RESULTS"

stop_pid() { pid_stop "$@" || true; } # stop_pid PID [SIGNAL] [sudo] (tests/lib/spoold.sh)
cleanup() {
  local rc=$?
  stop_pid "$SP_PID"
  stop_pid "${PGS_PID[0]}"
  stop_pid "${PGS_PID[1]}"
  pg_stop
  stop_pid "$NGX_PID" QUIT
  stop_pid "$CUPS_PID" TERM "$SUDO"
  if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $WORK"; else $SUDO rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cmd() { printf '%s\n' "$*" >>"$CMDS"; } # records a command for the report

# ---- bench tools ----------------------------------------------------------------------------------

cc -O2 -Wall -Wextra -pthread -o "$WORK/loadgen" bench/loadgen.c
cc -O2 -Wall -Wextra -o "$WORK/seed" bench/seed.c -lsqlite3
cc -O2 -Wall -Wextra -o "$WORK/floor" bench/floor.c -lsqlite3
cc -O2 -Wall -Wextra -shared -fPIC -o "$WORK/sqltrace.so" bench/sqltrace.c -ldl
LOADGEN=$WORK/loadgen SEED=$WORK/seed FLOOR=$WORK/floor SQLTRACE=$WORK/sqltrace.so

# ---- /proc helpers --------------------------------------------------------------------------------

HZ=$(getconf CLK_TCK)
ticks() { # utime+stime of the given PIDs (all their threads), in clock ticks
  local s=0 p f
  for p in "$@"; do
    { read -r -a f <"/proc/$p/stat"; } 2>/dev/null || continue # gone meanwhile (a psql backend)
    # fields after the ")" of comm: state is f[2] when comm has no spaces
    s=$((s + f[13] + f[14]))
  done
  echo $s
}
children() { # PIDs whose parent is $1
  local d ppid
  for d in /proc/[0-9]*; do
    { read -r _ _ _ ppid _ <"$d/stat"; } 2>/dev/null || continue # gone meanwhile
    [ "$ppid" = "$1" ] && echo "${d#/proc/}"
  done
  return 0
}
vm() { awk -v k="$2:" '$1==k{print $2}' "/proc/$1/status"; } # vm PID VmRSS -> kB
# the machine's CPU time so far, all cores, in clock ticks (/proc/stat): "busy total", busy
# being everything but idle and iowait
cpu_stat() { awk '$1 == "cpu" { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat; }
# The CPU of the load generator (wrk, loadgen) a command substitution ran: it ends its output
# with `times` (bash: the subshell's own and its children's user and system time); gen_cpu
# prints the children's seconds from that last line (bash writes the locale's decimal point),
# gen_out the output without both lines.
gen_cpu() { tail -n1 <<<"$1" | tr , . | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub(/s$/, "", a[2]); s += a[1] * 60 + a[2] } printf "%.3f", s }'; }
gen_out() { head -n -2 <<<"$1"; }
# cpu_shares KEY BUSY0 TOTAL0 BUSY1 TOTAL1 SERVER_TICKS PG_TICKS GEN_SECONDS ITERS: the machine's
# busy share during a run and the parts of it spoold, PostgreSQL and the load generator took
# (% of all cores' time), and the load generator's CPU per request or job
cpu_shares() {
  local key=$1 tot=$(($5 - $3))
  put "$key.busy_pct" "$(awk -v b=$(($4 - $2)) -v t=$tot 'BEGIN{printf "%.0f", t ? b / t * 100 : 0}')"
  put "$key.server_pct" "$(awk -v s="$6" -v t=$tot 'BEGIN{printf "%.0f", t ? s / t * 100 : 0}')"
  put "$key.pg_pct" "$(awk -v s="$7" -v t=$tot 'BEGIN{printf "%.0f", t ? s / t * 100 : 0}')"
  put "$key.gen_pct" "$(awk -v s="$8" -v hz="$HZ" -v t=$tot 'BEGIN{printf "%.0f", t ? s * hz / t * 100 : 0}')"
  put "$key.gen_cpu_us" "$(awk -v s="$8" -v r="$9" 'BEGIN{printf "%.1f", r ? s / r * 1e6 : 0}')"
}
# Figure 6 counts PostgreSQL's CPU with spoold's: with PG_CPU=1, the postmaster and its children
# (backends, WAL writer, checkpointer...), listed anew at each reading
PG_CPU=0
pg_cpu_pids() { [ "$PG_CPU" = 1 ] && [ -n "${PG_PID:-}" ] && { echo "$PG_PID"; children "$PG_PID"; }; return 0; }
# transactions PostgreSQL aborted for a serialization failure or a deadlock so far (each is
# logged when it happens; spoold runs the transaction again)
pg_conflicts() { grep -cE 'ERROR: +(could not serialize access|deadlock detected)' "$PG_DIR/log" || true; }
# statements the server has run in the store's database so far (pg_stat_statements; BEGIN and
# COMMIT count too), the query itself included
pg_statements() {
  psql -qAtX "$PG_STORE" -c "SELECT COALESCE(sum(calls), 0) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
}

# key=value line -> $KV[...]
declare -A KV
parse_kv() {
  KV=()
  local w
  for w in $1; do [[ $w == *=* ]] && KV[${w%%=*}]=${w#*=}; done
  return 0
}

# wrk time ("812.00us", "1.20ms", "1.01s") -> ms
to_ms() { awk -v v="$1" 'BEGIN{ if (v ~ /us$/) printf "%.3f", v/1000; else if (v ~ /ms$/) printf "%.3f", v+0; else if (v ~ /s$/) printf "%.3f", v*1000; else print "nan" }'; }

# ---- results --------------------------------------------------------------------------------------

put() { printf '%s=%s\n' "$1" "$2" >>"$RESULTS"; } # put KEY VALUE
get() { awk -F= -v k="$1" '$1==k{v=substr($0, length(k)+2)} END{print v}' "$RESULTS"; }

# agg KEY: for every FIELD measured in the rounds KEY.r1.FIELD, KEY.r2.FIELD, ... stores
# KEY.FIELD = the median (errors: the sum, or the texts joined) and KEY.FIELD.all = the values
agg() {
  awk -F= -v k="$1" '
    index($1, k ".r") == 1 {
      rest = substr($1, length(k) + 3); i = index(rest, "."); if (!i) next
      if (substr(rest, 1, i - 1) !~ /^[0-9]+$/) next
      f = substr(rest, i + 1); v[f, ++n[f]] = substr($0, length($1) + 2)
    }
    END {
      for (f in n) {
        m = n[f]; num = 1; all = ""
        for (a = 1; a <= m; a++) { s[a] = v[f, a]; all = all (a > 1 ? " " : "") v[f, a]
                                   if (s[a] !~ /^-?[0-9]+(\.[0-9]+)?$/) num = 0 }
        if (f == "errors") {
          if (num) { t = 0; for (a = 1; a <= m; a++) t += s[a]; out = t }
          else { out = ""; for (a = 1; a <= m; a++) if (s[a] != "") out = out s[a] }
        } else if (num) {
          for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++)
            if (s[b] + 0 < s[a] + 0) { t = s[a]; s[a] = s[b]; s[b] = t }
          out = (m % 2) ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
        } else out = s[1]
        print k "." f "=" out
        print k "." f ".all=" all
      }
    }' "$RESULTS" >"$RESULTS.agg"
  cat "$RESULTS.agg" >>"$RESULTS"
}

# ---- spoold ---------------------------------------------------------------------------------------

DATA=$WORK/data # the data directory of the next sp_start
SP_URL=http://127.0.0.1:$SP_PORT
SP_LIMITS=(--max-jobs-per-printer-window 0 --max-jobs-per-user-window 0 --upload-volume-limit 0
           --max-connections 2048 --max-connections-per-ip 1024)
SP_OPTS=(--listen "127.0.0.1:$SP_PORT" --dev --public-url "$SP_URL" "${SP_LIMITS[@]}")

sp_start() {
  local rc=0
  spoold_start "$WORK/spoold" "$SPOOLD" serve --data "$DATA" "${SP_OPTS[@]}" || rc=$?
  SP_PID=$SPOOLD_PID
  [ $rc -eq 0 ] && return 0
  cat "$WORK/spoold.err" >&2
  die "spoold did not start"
}
sp_stop() {
  stop_pid "$SP_PID"
  SP_PID=""
}

# api, jstr, token, register_printer, bench_setup (bench/lib.sh): the SP_URL and DATA of the moment
. bench/lib.sh

setup_world() {
  log "setup: tokens, printers, shares, task definition and trigger"
  bench_setup
  printf '%s\n' "$(token --roles "PrintJob.Read.All Printer.Read.All")" >"$WORK/read.tok"
  # the template job of the seeder (and the job read by figure 1): created and canceled
  JOB=$(api POST "/v1.0/print/shares/$S1/jobs" "$USER_TOK" '{}' | jstr id)
  [ -n "$JOB" ] || die "job create failed"
  [ "$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$SP_URL/v1.0/print/shares/$S1/jobs/$JOB/cancel" \
       -H "Authorization: Bearer $USER_TOK")" = 204 ] || die "job cancel failed"
  READ_PATH=/v1.0/print/printers/$P1/jobs/
}

store_jobs() { "$SEED" --query "$DATA/spoold.db" "SELECT COUNT(*) FROM jobs"; }
SEED_LO="" SEED_HI="" # ids written by the last seeding

# seed_store DIR COUNT: adds COUNT copies of the template job to the (stopped) store in DIR
seed_store() {
  local out t0=$SECONDS
  out=$("$SEED" "$1/spoold.db" "$2" "$JOB")
  log "$out"
  SEED_LO=$(sed -n 's/.*(ids \([0-9]*\)\.\.\([0-9]*\),.*/\1/p' <<<"$out")
  SEED_HI=$(sed -n 's/.*(ids \([0-9]*\)\.\.\([0-9]*\),.*/\2/p' <<<"$out")
  cmd "bench/seed \$WORK/${1##*/}/spoold.db $2 $JOB   # spoold stopped; $((SECONDS - t0)) s"
}

# ---- nginx ----------------------------------------------------------------------------------------

nginx_start() { # serves $WORK/nginx/html/job.json (spoold's job body) on NGX_PORT
  local d=$WORK/nginx
  mkdir -p "$d/logs" "$d/tmp" "$d/html"
  cat >"$d/nginx.conf" <<EOF
worker_processes $(nproc);
daemon off;
master_process on;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 4096; use epoll; }
http {
  access_log $d/logs/access.log;   # like spoold, which logs every request (to stderr)
  client_body_temp_path $d/tmp/body;
  proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fcgi;
  uwsgi_temp_path $d/tmp/uwsgi;
  scgi_temp_path $d/tmp/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 65;
  server {
    listen 127.0.0.1:$NGX_PORT backlog=1024;
    location = /job.json { root $d/html; default_type application/json; }
  }
}
EOF
  nginx -p "$d" -c "$d/nginx.conf" -e "$d/logs/error.log" >"$d/out.log" 2>&1 &
  NGX_PID=$!
  for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$NGX_PORT/job.json" && return 0
    sleep 0.05
  done
  cat "$d/out.log" "$d/logs/error.log" >&2
  die "nginx did not start"
}

# ---- wrk ------------------------------------------------------------------------------------------

# wrk_run KEY CONNS URL "PIDS" [ID_LO ID_HI]: runs wrk, stores KEY.{rps,p50,p99,cpu_us,errors}
# (WRK_PORTS="A,B": wrk's two threads send to these ports instead of the URL's, see read.lua)
WRK_PORTS=""
wrk_run() {
  local key=$1 c=$2 url=$3 pids=$4 lo=${5:-} hi=${6:-} out t0 t1 g0 g1 req
  sync # earlier runs' logs are written back now, not during this run
  # shellcheck disable=SC2046,SC2086
  t0=$(ticks $pids) g0=$(ticks $(pg_cpu_pids))
  local q0=0 s0 s1 gen
  if [ "$PG_CPU" = 1 ]; then q0=$(pg_statements); fi
  s0=$(cpu_stat)
  out=$(BENCH_TOKEN=$(cat "$WORK/read.tok") BENCH_ID_LO=$lo BENCH_ID_HI=$hi BENCH_PATH_PREFIX=$READ_PATH \
        BENCH_PORTS=$WRK_PORTS wrk -t2 -c"$c" -d"${DUR}s" --latency -s bench/read.lua "$url" 2>&1 && rc=0 || rc=$?
        times; exit $rc) ||
    { echo "$out" >&2; die "wrk failed"; }
  s1=$(cpu_stat)
  # shellcheck disable=SC2046,SC2086
  t1=$(ticks $pids) g1=$(ticks $(pg_cpu_pids))
  gen=$(gen_cpu "$out") out=$(gen_out "$out")
  echo "$out" >"$WORK/wrk-$key.txt"
  req=$(awk '/requests in/{print $1}' <<<"$out")
  put "$key.rps" "$(awk '/Requests\/sec/{printf "%.0f", $2}' <<<"$out")"
  put "$key.p50" "$(to_ms "$(awk '$1=="50%"{print $2}' <<<"$out")")"
  put "$key.p99" "$(to_ms "$(awk '$1=="99%"{print $2}' <<<"$out")")"
  put "$key.cpu_us" "$(awk -v d=$((t1 - t0 + g1 - g0)) -v hz="$HZ" -v r="$req" 'BEGIN{printf "%.1f", r ? d / hz / r * 1e6 : 0}')"
  # shellcheck disable=SC2086
  cpu_shares "$key" $s0 $s1 $((t1 - t0)) $((g1 - g0)) "$gen" "$req"
  if [ "$PG_CPU" = 1 ]; then
    put "$key.cpu_pg_us" "$(awk -v d=$((g1 - g0)) -v hz="$HZ" -v r="$req" 'BEGIN{printf "%.1f", r ? d / hz / r * 1e6 : 0}')"
    put "$key.statements_per_iter" "$(awk -v d=$(($(pg_statements) - q0 - 1)) -v r="$req" 'BEGIN{printf "%.1f", r ? d / r : 0}')"
  fi
  put "$key.errors" "$(awk '/Non-2xx|Socket errors/{s=s $0 "; "} END{print s}' <<<"$out")"
  local rng=""
  if [ -n "$lo" ]; then rng="BENCH_ID_LO=$lo BENCH_ID_HI=$hi BENCH_PATH_PREFIX=${READ_PATH} "; fi
  if [ -n "$WRK_PORTS" ]; then rng="${rng}BENCH_PORTS=$WRK_PORTS "; fi
  cmd "BENCH_TOKEN=\$READ_TOKEN ${rng}wrk -t2 -c$c -d${DUR}s --latency -s bench/read.lua $url"
  log "$key: $(get "$key.rps") req/s p50 $(get "$key.p50") ms p99 $(get "$key.p99") ms cpu $(get "$key.cpu_us") us/req (machine $(get "$key.busy_pct") % busy, wrk $(get "$key.gen_cpu_us") us/req) $(get "$key.errors")"
}

warmup() { # 1 s of wrk, not recorded (full runs only)
  [ "$WARMUP" = 1 ] || return 0
  BENCH_TOKEN=$(cat "$WORK/read.tok") BENCH_PORTS=$WRK_PORTS wrk -t2 -c64 -d1s -s bench/read.lua "$1" >/dev/null 2>&1 || true
}

# figure 4, one round on the running spoold: scale_runs PREFIX ROUND ID_LO ID_HI
# reads of random jobs (ids LO..HI) at every connection count, then lifecycle at 1 and 16
scale_runs() {
  local pfx=$1 r=$2 c
  warmup "$SP_URL$READ_PATH$JOB"
  for c in $READ_CONNS; do wrk_run "${pfx}r.c$c.r$r" "$c" "$SP_URL$READ_PATH$JOB" "$SP_PID" "$3" "$4"; done
  for c in 1 16; do lg_run "${pfx}l.c$c.r$r" lifecycle "$c" "$S1" "$P1"; done
}

# figure 1: ROUNDS rounds, each nginx then spoold at every connection count
read_vs_nginx() {
  local r c ngx=http://127.0.0.1:$NGX_PORT/job.json
  warmup "$ngx"
  warmup "$SP_URL$READ_PATH$JOB"
  for ((r = 1; r <= ROUNDS; r++)); do
    for c in $READ_CONNS; do
      wrk_run "nginx.c$c.r$r" "$c" "$ngx" "$NGX_PIDS"
      wrk_run "small.c$c.r$r" "$c" "$SP_URL$READ_PATH$JOB" "$SP_PID"
    done
  done
  for c in $READ_CONNS; do agg "nginx.c$c"; agg "small.c$c"; done
}

# spoold's store counters from /metrics, summed over the ports given (default SP_PORT):
# "commits closures pages"
store_metrics() {
  local p
  for p in ${1:-$SP_PORT}; do curl -s "http://127.0.0.1:$p/metrics"; done |
    awk '/^spoold_store_commits_total /{c+=$2} /^spoold_store_commit_batch_size_sum /{b+=$2} /^spoold_store_pages_written_total /{p+=$2} /^spoold_store_commits_inline_total /{n+=$2} END{printf "%d %d %d %d\n", c, b, p, n}'
}
# hist_put KEY NAME METRIC M0 M1: the p50 and p99 of the Prometheus histogram METRIC (spoold's
# /metrics texts M0 before and M1 after a run) over the run, as KEY.NAME_p50_ms / _p99_ms and its
# count as KEY.NAME_n; a quantile is interpolated linearly inside its bucket (as Prometheus'
# histogram_quantile does), "n/a" when it falls in the +Inf bucket or nothing was counted
hist_put() {
  local key=$1 name=$2 metric=$3 q v
  for q in 50 99; do
    v=$(awk -v m="${metric}_bucket" -v q="$q" '
      index($0, m "{le=\"") == 1 {
        le = $0; sub(/^[^"]*"/, "", le); sub(/".*/, "", le)
        if (FILENAME == ARGV[1]) a[le] = $2; else { n++; les[n] = le; b[le] = $2 - a[le] } }
      END {
        total = b[les[n]]
        if (total <= 0) { print "n/a"; exit }
        t = total * q / 100; pl = 0; pc = 0
        for (i = 1; i <= n; i++) {
          c = b[les[i]]
          if (c >= t) {
            if (les[i] == "+Inf") { print "n/a"; exit }
            printf "%.2f", (pl + (les[i] - pl) * (t - pc) / (c > pc ? c - pc : 1)) * 1000; exit }
          pl = les[i]; pc = c } }' "$4" "$5")
    put "$key.${name}_p${q}_ms" "$v"
  done
  put "$key.${name}_n" "$(awk -v m="${metric}_count" '$1 == m {v[FILENAME == ARGV[1]] = $2} END{print v[0] - v[1]}' "$4" "$5")"
}
# bytes spoold passed to write/pwrite (WAL frames, checkpoints, blobs, its request log; not
# socket sends) and its write calls, summed over the PIDs given (default SP_PID): "bytes calls"
proc_io() {
  local p
  for p in ${1:-$SP_PID}; do cat "/proc/$p/io"; done |
    awk '/^wchar:/{w+=$2} /^syscw:/{s+=$2} END{printf "%d %d\n", w, s}'
}

# ---- loadgen --------------------------------------------------------------------------------------

# lg_run KEY MODE CONNS SHARE PRINTER [extra args]: runs bench/loadgen against spoold, stores
# every key=value as KEY.k plus KEY.cpu_us (server CPU per iteration) and store statistics.
# LG_PORTS="A B" and LG_PIDS="PA PB" (default SP_PORT and SP_PID): several spoold processes,
# the connections spread over them
LG_PORTS="" LG_PIDS=""
lg_run() {
  local key=$1 mode=$2 c=$3 share=$4 printer=$5 out t0 t1 g0 g1 k
  local ports=${LG_PORTS:-$SP_PORT} pids=${LG_PIDS:-$SP_PID}
  shift 5
  local args=("$mode" --port "${ports// /,}" --user-token "$WORK/user.tok" --share "$share" --conns "$c")
  [ "$mode" = pull ] && args+=(--app-token "$WORK/app.tok" --printer "$printer")
  [ "$mode" = upload ] || args+=(--duration "$DUR")
  args+=("$@")
  local m0 m1 io0 io1
  sync
  m0=$(store_metrics "$ports") io0=$(proc_io "$pids")
  local x0=0 q0=0
  if [ "$PG_CPU" = 1 ]; then x0=$(pg_conflicts) q0=$(pg_statements); fi
  # shellcheck disable=SC2046,SC2086
  t0=$(ticks $pids) g0=$(ticks $(pg_cpu_pids))
  local s0 s1 gen
  s0=$(cpu_stat)
  out=$("$LOADGEN" "${args[@]}" && rc=0 || rc=$?; times; exit $rc) || { gen_out "$out" >&2; log "loadgen $mode reported errors"; }
  s1=$(cpu_stat)
  # shellcheck disable=SC2046,SC2086
  t1=$(ticks $pids) g1=$(ticks $(pg_cpu_pids))
  m1=$(store_metrics "$ports") io1=$(proc_io "$pids")
  gen=$(gen_cpu "$out") out=$(gen_out "$out")
  parse_kv "$out"
  for k in "${!KV[@]}"; do put "$key.$k" "${KV[$k]}"; done
  local it=${KV[iters]:-0}
  put "$key.cpu_us" "$(awk -v d=$((t1 - t0 + g1 - g0)) -v hz="$HZ" -v r="$it" 'BEGIN{printf "%.0f", r ? d / hz / r * 1e6 : 0}')"
  # shellcheck disable=SC2086
  cpu_shares "$key" $s0 $s1 $((t1 - t0)) $((g1 - g0)) "$gen" "$it"
  if [ "$PG_CPU" = 1 ]; then
    put "$key.cpu_pg_us" "$(awk -v d=$((g1 - g0)) -v hz="$HZ" -v r="$it" 'BEGIN{printf "%.0f", r ? d / hz / r * 1e6 : 0}')"
    put "$key.conflicts_per_iter" "$(awk -v d=$(($(pg_conflicts) - x0)) -v r="$it" 'BEGIN{printf "%.2f", r ? d / r : 0}')"
    put "$key.statements_per_iter" "$(awk -v d=$(($(pg_statements) - q0 - 1)) -v r="$it" 'BEGIN{printf "%.1f", r ? d / r : 0}')"
  fi
  # store statistics per iteration: commits (fsyncs of the WAL), closures per commit (group
  # commit), pages written to the WAL, bytes written (see proc_io) and write calls
  read -r c0 b0 p0 n0 <<<"$m0"; read -r c1 b1 p1 n1 <<<"$m1"
  read -r w0 s0 <<<"$io0"; read -r w1 s1 <<<"$io1"
  put "$key.commits_per_iter" "$(awk -v c=$((c1 - c0)) -v r="$it" 'BEGIN{printf "%.2f", r ? c / r : 0}')"
  put "$key.closures_per_commit" "$(awk -v c=$((c1 - c0)) -v b=$((b1 - b0)) 'BEGIN{printf "%.2f", c ? b / c : 0}')"
  put "$key.inline_per_commit" "$(awk -v c=$((c1 - c0)) -v n=$((n1 - n0)) 'BEGIN{printf "%.2f", c ? n / c : 0}')"
  put "$key.pages_per_iter" "$(awk -v p=$((p1 - p0)) -v r="$it" 'BEGIN{printf "%.1f", r ? p / r : 0}')"
  put "$key.written_kb_per_iter" "$(awk -v w=$((w1 - w0)) -v r="$it" 'BEGIN{printf "%.1f", r ? w / r / 1024 : 0}')"
  put "$key.writes_per_iter" "$(awk -v w=$((s1 - s0)) -v r="$it" 'BEGIN{printf "%.1f", r ? w / r : 0}')"
  printf 'bench/loadgen %s\n' "${args[*]//$WORK/\$WORK}" >>"$CMDS"
  log "$key: $out"
}

# ---- floors: the store alone and the loopback HTTP round trips ---------------------------------------

# floor_lifecycle KEY [DIR]: bench/floor lifecycle for DUR seconds on a fresh copy of the small
# store (spoold's schema, printer and share, made by spoold), or on the (stopped) store in DIR in
# place (the big store, which keeps the jobs as spoold's big rounds do): the two durable
# transactions of a lifecycle job with spoold's statements and settings, SQLite alone, one job
# after the other. Stores KEY.{jobs_per_s,cpu_us_per_job,...}
floor_lifecycle() {
  local key=$1 d=$WORK/store-floor out k
  if [ -n "${2:-}" ]; then
    d=$2
  else
    rm -rf "$d"
    cp -a "$WORK/store-small" "$d"
  fi
  sync
  out=$("$FLOOR" lifecycle "$d/spoold.db" --duration "$DUR" --template "$JOB") ||
    die "bench/floor lifecycle failed: $out"
  [ -n "${2:-}" ] || rm -rf "$d"
  parse_kv "$out"
  for k in "${!KV[@]}"; do put "$key.$k" "${KV[$k]}"; done
  if [ -n "${2:-}" ]; then
    cmd "bench/floor lifecycle \$WORK/${2##*/}/spoold.db --duration $DUR --template $JOB"
  else
    cmd "bench/floor lifecycle \$WORK/store-floor/spoold.db --duration $DUR --template $JOB   # a fresh copy of the small store"
  fi
  log "$key: $out"
}

# floor_sql_check: whether bench/floor still runs spoold's statements. One lifecycle job through
# spoold with the statement trace of bench/sqltrace.so, and one job of bench/floor lifecycle
# --sql-out, each on a copy of the small store; the closures (SAVEPOINT ... RELEASE) that create
# and cancel the job are compared line by line. Stores floor.sql_same (yes or no) and
# floor.sql_statements; a difference is logged and kept in $WORK/sql-diff.txt (reported, not
# fatal: bench/floor.c then needs the store's new statements).
floor_sql_check() {
  local d=$WORK/store-trace sp_sql=$WORK/sql-spoold.txt fl_sql=$WORK/sql-floor.txt rc=0
  rm -rf "$d"
  cp -a "$WORK/store-small" "$d"
  spoold_start "$WORK/spoold-trace" env SQLTRACE_FILE="$sp_sql" LD_PRELOAD="$SQLTRACE" \
    "$SPOOLD" serve --data "$d" "${SP_OPTS[@]}" || rc=$?
  SP_PID=$SPOOLD_PID
  [ $rc -eq 0 ] || { cat "$WORK/spoold-trace.err" >&2; die "spoold with the statement trace did not start"; }
  "$LOADGEN" lifecycle --port "$SP_PORT" --user-token "$WORK/user.tok" --share "$S1" --conns 1 \
    --count 1 >/dev/null || die "the traced lifecycle job failed"
  sp_stop
  "$FLOOR" lifecycle "$d/spoold.db" --count 1 --template "$JOB" --sql-out "$fl_sql" >/dev/null ||
    die "bench/floor lifecycle --count 1 failed"
  rm -rf "$d"
  closures() { # the closures of a trace that insert a job or change its phase
    awk '/^SAVEPOINT closure$/ { buf = ""; on = 1 } on { buf = buf $0 "\n" }
         /^RELEASE closure$/ { if (buf ~ /INSERT INTO jobs \(|UPDATE jobs SET phase = /) printf "%s", buf; on = 0 }' "$1"
  }
  closures "$sp_sql" >"$sp_sql.closures"
  closures "$fl_sql" >"$fl_sql.closures"
  put floor.sql_statements "$(wc -l <"$fl_sql.closures")"
  if diff "$sp_sql.closures" "$fl_sql.closures" >"$WORK/sql-diff.txt"; then
    put floor.sql_same yes
    log "bench/floor runs spoold's statements ($(get floor.sql_statements) in its two closures)"
  else
    put floor.sql_same no
    log "bench/floor's statements differ from spoold's (< spoold, > bench/floor):"
    cat "$WORK/sql-diff.txt" >&2
  fi
  cmd "SQLTRACE_FILE=\$WORK/sql-spoold.txt LD_PRELOAD=\$WORK/sqltrace.so spoold serve --data \$WORK/store-trace ...; bench/loadgen lifecycle ... --conns 1 --count 1; bench/floor lifecycle \$WORK/store-trace/spoold.db --count 1 --template $JOB --sql-out \$WORK/sql-floor.txt   # the statement check"
}

# floor_read KEY DIR LO HI: bench/floor read for DUR seconds on the (stopped) store in DIR:
# the job read's SELECT for random ids LO..HI, SQLite alone (no hot-job cache), one connection
floor_read() {
  local key=$1 out k
  out=$("$FLOOR" read "$2/spoold.db" --lo "$3" --hi "$4" --duration "$DUR") ||
    die "bench/floor read failed: $out"
  parse_kv "$out"
  for k in "${!KV[@]}"; do put "$key.$k" "${KV[$k]}"; done
  cmd "bench/floor read \$WORK/${2##*/}/spoold.db --lo $3 --hi $4 --duration $DUR"
  log "$key: $out"
}

# floor_http KEY: bench/loadgen http at one connection for DUR seconds against nginx's static
# file: the two loopback HTTP round trips of a lifecycle job, no spoold and no store; nginx's
# CPU per job as KEY.server_cpu_us
floor_http() {
  local key=$1 out t0 t1 k
  sync
  # shellcheck disable=SC2086
  t0=$(ticks $NGX_PIDS)
  out=$("$LOADGEN" http --port "$NGX_PORT" --path /job.json --user-token "$WORK/user.tok" \
        --conns 1 --duration "$DUR") || die "bench/loadgen http against nginx failed: $out"
  # shellcheck disable=SC2086
  t1=$(ticks $NGX_PIDS)
  parse_kv "$out"
  for k in "${!KV[@]}"; do put "$key.$k" "${KV[$k]}"; done
  put "$key.server_cpu_us" "$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v r="${KV[iters]:-0}" 'BEGIN{printf "%.0f", r ? d / hz / r * 1e6 : 0}')"
  cmd "bench/loadgen http --port $NGX_PORT --path /job.json --user-token \$WORK/user.tok --conns 1 --duration $DUR   # nginx's static file"
  log "$key: $out"
}

# ---- cupsd ----------------------------------------------------------------------------------------

CUPS_DIR=$WORK/cups
CUPS_URI=ipp://127.0.0.1:$CUPS_PORT/printers/null
CUPS_JOBS=0 # jobs created so far (all kept in the history)

cups_start() { # cups_start Yes|No (PreserveJobHistory)
  local d=$CUPS_DIR
  $SUDO rm -rf "$d"
  mkdir -p "$d"/{spool,cache,state,tmp,log}
  $SUDO chown lp:lp "$d"/{spool,cache,state,tmp,log} 2>/dev/null || true
  sed -e "s|@PORT@|$CUPS_PORT|; s|@HISTORY@|$1|" bench/cups/cupsd.conf.in >"$d/cupsd.conf"
  sed -e "s|@DIR@|$d|g" bench/cups/cups-files.conf.in >"$d/cups-files.conf"
  # A copy of the binary: Debian's AppArmor profile for /usr/sbin/cupsd confines it to the
  # system's own directories, which would refuse this throwaway server root.
  cp /usr/sbin/cupsd "$WORK/cupsd"
  $SUDO "$WORK/cupsd" -f -c "$d/cupsd.conf" -s "$d/cups-files.conf" >"$d/out.log" 2>&1 &
  CUPS_PID=$!
  if [ -n "$SUDO" ]; then sleep 0.5; CUPS_PID=$(children "$CUPS_PID" | head -n1); fi
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$CUPS_PORT/" && break
    sleep 0.05
  done
  lpadmin -h "127.0.0.1:$CUPS_PORT" -p null -E -v file:///dev/null -m raw 2>/dev/null ||
    die "lpadmin could not create the raw queue (see $d/log/error_log)"
  CUPS_JOBS=0
  head -c 4096 /dev/urandom >"$d/doc4k.bin"
}
cups_stop() { stop_pid "$CUPS_PID" TERM "$SUDO"; CUPS_PID=""; }

repeat_test() { # repeat_test SRC N DEST: N copies of the test block (DOC path filled in)
  local t
  t=$(sed "s|@DOC@|$CUPS_DIR/doc4k.bin|" "$1")
  { for ((i = 0; i < $2; i++)); do printf '%s\n' "$t"; done; } >"$3"
}

# cups_run KEY CLIENTS PER_CLIENT TEST OPS_PER_JOB: CLIENTS ipptool processes at once, each
# running PER_CLIENT iterations over one connection; stores KEY.{jobs_per_s,cpu_us,errors,history}
cups_run() {
  local key=$1 n=$2 per=$3 src=$4 file=$CUPS_DIR/$(basename "$4" .test)-$3.test
  [ -f "$file" ] || repeat_test "$src" "$per" "$file"
  local pids=() fails=0 t0 t1 c0 c1 p
  c0=$(ticks "$CUPS_PID")
  t0=$(date +%s.%N)
  for ((i = 0; i < n; i++)); do
    ipptool -q "$CUPS_URI" "$file" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
  t1=$(date +%s.%N)
  c1=$(ticks "$CUPS_PID")
  local jobs=$((n * per))
  if [ -n "$key" ]; then
    put "$key.history" "$CUPS_JOBS"
    put "$key.jobs_per_s" "$(awk -v j=$jobs -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", j / (b - a)}')"
    put "$key.cpu_us" "$(awk -v d=$((c1 - c0)) -v hz="$HZ" -v j=$jobs 'BEGIN{printf "%.0f", d / hz / j * 1e6}')"
    put "$key.errors" "$fails"
    printf '%s x%d: ipptool -q %s %s   # %d iterations of bench/cups/%s\n' "$key" "$n" "$CUPS_URI" \
      "\$WORK/cups/$(basename "$file")" "$per" "$(basename "$src")" >>"$CMDS"
    log "$key: $(get "$key.jobs_per_s") jobs/s, cupsd $(get "$key.cpu_us") us CPU/job, history $CUPS_JOBS, $fails failed clients"
  fi
  CUPS_JOBS=$((CUPS_JOBS + jobs))
}

cups_fill_to() { # adds Create-Job + Cancel-Job pairs (8 clients) until the history holds $1 jobs
  local add=$(($1 - CUPS_JOBS))
  [ "$add" -gt 0 ] || return 0
  local per=$(((add + 7) / 8)) t0=$SECONDS
  cups_run "" 8 "$per" bench/cups/create-cancel.test
  log "cupsd history filled to $CUPS_JOBS jobs in $((SECONDS - t0)) s"
}

lifecycle_cups() { # lifecycle_cups PREFIX [ROUND_SUFFIX]: keys PREFIX.c1SUFFIX, PREFIX.c16SUFFIX
  cups_run "$1.c1${2-}" 1 "$CUPS_PAIRS_1" bench/cups/create-cancel.test
  cups_run "$1.c16${2-}" 16 "$CUPS_PAIRS_16" bench/cups/create-cancel.test
}

# ---- figure 5: upload against dd --------------------------------------------------------------------

dd_run() { # dd_run KEY: MB/s of dd writing and fsyncing UPLOAD_SIZE in 8 MiB blocks into DATA
  local out bytes secs
  sync
  out=$(dd if=/dev/zero of="$DATA/dd.bin" bs=8M count=$((UPLOAD_SIZE / FRAGMENT)) conv=fsync 2>&1 | tail -n1)
  rm -f "$DATA/dd.bin"
  sync
  bytes=$(awk '{print $1}' <<<"$out") secs=$(awk -F', ' '{print $3}' <<<"$out" | awk '{print $1}')
  put "$1.mb_per_s" "$(awk -v b="$bytes" -v s="$secs" 'BEGIN{printf "%.1f", b / s / 1e6}')"
  log "$1: $out"
}

upload_figure() {
  cmd "dd if=/dev/zero of=\$WORK/${DATA##*/}/dd.bin bs=8M count=$((UPLOAD_SIZE / FRAGMENT)) conv=fsync"
  dd_run up.dd1
  echo 5 >"/proc/$SP_PID/clear_refs" 2>/dev/null || true # resets VmHWM to the current RSS
  put up.rss_before_kb "$(vm "$SP_PID" VmRSS)"
  lg_run up.spoold upload 4 "$S1" "$P1" --size "$UPLOAD_SIZE" --fragment "$FRAGMENT"
  put up.hwm_kb "$(vm "$SP_PID" VmHWM)"
  sync
  dd_run up.dd2
  put up.dd.mb_per_s "$(awk -v a="$(get up.dd1.mb_per_s)" -v b="$(get up.dd2.mb_per_s)" 'BEGIN{printf "%.1f", (a + b) / 2}')"
}

# fdatasync'd 4 KiB write latency of the data directory's disk: the floor of one durable
# commit, and so of a single client's sequential durable requests
fsync_latency() {
  local out n=$1
  out=$(dd if=/dev/zero of="$DATA/fsync.bin" bs=4k count="$n" oflag=dsync 2>&1 | tail -n1)
  rm -f "$DATA/fsync.bin"
  put fsync_us "$(awk -F', ' -v n="$n" '{split($3, t, " "); printf "%.0f", t[1] / n * 1e6}' <<<"$out")"
  cmd "dd if=/dev/zero of=\$WORK/data/fsync.bin bs=4k count=$n oflag=dsync   # fsync latency"
  log "disk: $(get fsync_us) us per fdatasync'd 4 KiB write"
}

# ---- figure 6: PostgreSQL, one and two spoold processes ------------------------------------------

PG_DATA=$WORK/pg-spoold # spoold's data directory on PostgreSQL: only the development signing key
PG_STORE=""
pgs_port() { echo $((PORT_BASE + 4 + $1)); }

# pgs_start I: spoold process I (0 or 1) on the PostgreSQL store, port BASE+4+I
pgs_start() {
  local i=$1 port
  port=$(pgs_port "$i")
  local rc=0
  spoold_start "$WORK/pgs$i" "$SPOOLD" serve --store "$PG_STORE" --data "$PG_DATA" \
    --listen "127.0.0.1:$port" --dev --public-url "http://127.0.0.1:$port" "${SP_LIMITS[@]}" || rc=$?
  PGS_PID[i]=$SPOOLD_PID
  [ $rc -eq 0 ] && return 0
  tail -n 20 "$WORK/pgs$i.err" >&2
  die "spoold process $i on PostgreSQL did not start"
}
pgs_stop() {
  stop_pid "${PGS_PID[$1]}"
  PGS_PID[$1]=""
}

# The throwaway PostgreSQL 15 of tests/lib/pg.sh, durable (fsync, synchronous_commit and
# full_page_writes on), on 127.0.0.1:PG_WANT_PORT, its data directory under $WORK (the same file
# system as the SQLite stores), and a database for the store.
pg_bench_start() {
  log "figure 6: a throwaway PostgreSQL 15 on 127.0.0.1:$PG_WANT_PORT, fsync and synchronous_commit on"
  PG_DURABLE=1 TMPDIR=$WORK PG_EXTRA_OPTS="-c shared_preload_libraries=pg_stat_statements" pg_start ||
    die "figure 6: the throwaway PostgreSQL did not start (postgresql-15 installed? port $PG_WANT_PORT free?)"
  log "PostgreSQL $PG_PID, data directory $PG_DIR/data"
  psql -qAtX -v ON_ERROR_STOP=1 -c "CREATE DATABASE spoold_bench" "$SPOOLD_TEST_PG/postgres" >/dev/null ||
    die "figure 6: CREATE DATABASE failed"
  PG_STORE=$SPOOLD_TEST_PG/spoold_bench
  psql -qAtX -v ON_ERROR_STOP=1 -c "CREATE EXTENSION pg_stat_statements" "$PG_STORE" >/dev/null ||
    die "figure 6: CREATE EXTENSION pg_stat_statements failed"
  local set
  set=$(psql -qAtX -v ON_ERROR_STOP=1 "$PG_STORE" -c "SELECT string_agg(name || '=' || setting || COALESCE(unit, ''), ', ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers', 'max_connections')")
  if ! grep -q 'fsync=on' <<<"$set" || ! grep -q 'synchronous_commit=on' <<<"$set"; then
    die "figure 6: PostgreSQL is not durable: $set"
  fi
  put pg.settings "$set"
  put pg.version "$(psql -qAtX "$PG_STORE" -c 'SHOW server_version' | awk '{print $1}')"
  local line
  line="initdb -D $PG_DIR/data -A trust -E UTF8 --locale=C.UTF-8; pg_ctl -D $PG_DIR/data -w -o \"$(cat "$PG_DIR/options")\" start   # tests/lib/pg.sh with PG_DURABLE=1, PGDIR a temporary directory in \$WORK"
  cmd "${line//$PG_DIR/\$PGDIR}"
  cmd "spoold serve --store postgres://$PG_USER@127.0.0.1:$PG_PORT/spoold_bench --data \$WORK/pg-spoold --listen 127.0.0.1:$(pgs_port 0) --dev --public-url http://127.0.0.1:$(pgs_port 0) ${SP_LIMITS[*]}   # and the same on $(pgs_port 1) for two processes"
}

# Figure 6: ROUNDS_PG rounds, each one process (A) then two (A and B, the load spread over both):
# reads (as figure 1), lifecycle at 1 (one process only: one connection reaches one process) and 16
# connections, pull print at 64. The CPU per request or job counts spoold's and PostgreSQL's.
pg_figure() {
  local r c a b
  pg_bench_start
  mkdir -p "$PG_DATA"
  pgs_start 0
  a=$(pgs_port 0) b=$(pgs_port 1)
  SP_URL=http://127.0.0.1:$a DATA=$PG_DATA # setup_world and the tokens: process A, the key in PG_DATA
  setup_world
  psql -qAtX "$PG_STORE" -c "SELECT pg_stat_statements_reset()" >/dev/null # the rounds' statements only
  PG_CPU=1
  for ((r = 1; r <= ROUNDS_PG; r++)); do
    log "figure 6, round $r: one process"
    warmup "$SP_URL$READ_PATH$JOB"
    for c in $READ_CONNS; do wrk_run "pg1.c$c.r$r" "$c" "$SP_URL$READ_PATH$JOB" "${PGS_PID[0]}"; done
    LG_PORTS=$a LG_PIDS=${PGS_PID[0]}
    for c in 1 16; do lg_run "pg1l.c$c.r$r" lifecycle "$c" "$S1" "$P1"; done
    lg_run "pg1p.r$r" pull "$PULL_CONNS_PG" "$S2" "$P2"
    log "figure 6, round $r: two processes"
    pgs_start 1
    # the job created through A is read through B
    [ "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$b$READ_PATH$JOB" \
         -H "Authorization: Bearer $(cat "$WORK/read.tok")")" = 200 ] ||
      die "figure 6: process B does not serve the job created through A"
    WRK_PORTS=$a,$b LG_PORTS="$a $b" LG_PIDS="${PGS_PID[0]} ${PGS_PID[1]}"
    warmup "$SP_URL$READ_PATH$JOB"
    for c in $READ_CONNS; do wrk_run "pg2.c$c.r$r" "$c" "$SP_URL$READ_PATH$JOB" "$LG_PIDS"; done
    lg_run "pg2l.c16.r$r" lifecycle 16 "$S1" "$P1"
    lg_run "pg2p.r$r" pull "$PULL_CONNS_PG" "$S2" "$P2"
    WRK_PORTS="" LG_PORTS="" LG_PIDS=""
    pgs_stop 1
  done
  PG_CPU=0
  # the statements whose transactions conflicted most (PostgreSQL logs each failed statement)
  # (log lines "DATE TIME UTC [PID] LEVEL:  text"; the backends' lines interleave, so by PID)
  awk '$5 == "ERROR:" && /could not serialize access|deadlock detected/ { f[$4] = 1; next }
       $5 == "STATEMENT:" && f[$4] { sub(/.*STATEMENT: */, ""); print substr($0, 1, 160); f[$4] = 0; next }
       $5 ~ /^(LOG|ERROR|FATAL|WARNING):$/ { f[$4] = 0 }' "$PG_DIR/log" |
    sort | uniq -c | sort -rn | head -n 5 >"$WORK/pg-conflicts.txt" || true
  put pg.conflicts "$(pg_conflicts)"
  # where PostgreSQL's time went: the statements with the most execution time (pg_stat_statements)
  psql -qAtX -F $'\t' "$PG_STORE" -c "SELECT calls, round(total_exec_time::numeric, 0), round(mean_exec_time::numeric * 1000, 0), left(regexp_replace(query, '\s+', ' ', 'g'), 110) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC LIMIT 8" >"$WORK/pg-statements.txt" || true
  put pg.jobs "$(psql -qAtX "$PG_STORE" -c 'SELECT COUNT(*) FROM jobs')"
  pgs_stop 0
  pg_stop
  local k
  for c in $READ_CONNS; do agg "pg1.c$c"; agg "pg2.c$c"; done
  for k in pg1l.c1 pg1l.c16 pg2l.c16 pg1p pg2p; do agg "$k"; done
  # the smoke run (make check) fails when the PostgreSQL path did not work
  for c in $READ_CONNS; do
    for k in pg1.c$c pg2.c$c; do
      awk -v v="$(get "$k.rps")" 'BEGIN{exit !(v + 0 > 0)}' || die "figure 6: $k measured no reads"
      case "$(get "$k.errors")" in *Non-2xx*) die "figure 6: $k: reads answered other than 200: $(get "$k.errors")" ;; esac
    done
  done
  for k in pg1l.c1 pg1l.c16 pg2l.c16 pg1p pg2p; do
    awk -v v="$(get "$k.iters")" 'BEGIN{exit !(v + 0 > 0)}' || die "figure 6: $k completed no job"
  done
}

# ---- the run --------------------------------------------------------------------------------------

T_START=$SECONDS
log "mode $MODE, work directory $WORK, spoold $SPOOLD"
put load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$DATA"
fsync_latency "$([ "$MODE" = full ] && echo 2000 || echo 200)"
if [ -z "$ONLY" ]; then # figures 1-5 (SQLite)
  sp_start
  setup_world
  # the body nginx serves: spoold's answer to the read request, byte for byte
  mkdir -p "$WORK/nginx/html"
  curl -sS -o "$WORK/nginx/html/job.json" -w '%{http_code}' "$SP_URL$READ_PATH$JOB" \
    -H "Authorization: Bearer $(cat "$WORK/read.tok")" | grep -q 200 || die "GET job failed"
  put body_bytes "$(stat -c %s "$WORK/nginx/html/job.json")"
  nginx_start
  NGX_PIDS="$NGX_PID $(children "$NGX_PID" | tr '\n' ' ')"

  # The small store: the setup's objects and SEED_SMALL jobs. A copy of it, as it is before any
  # run, starts each small round of figure 4 and is the base of the big store.
  sp_stop
  seed_store "$DATA" $((SEED_SMALL - $(store_jobs)))
  SMALL_LO=$SEED_LO SMALL_HI=$SEED_HI
  cp -a "$DATA" "$WORK/store-small"
  put small.jobs "$(store_jobs)"
  floor_sql_check
  sp_start
  log "figure 1: read (store: $(get small.jobs) jobs)"
  read_vs_nginx
  log "figure 3: pull printing"
  lg_run pull.spoold pull 64 "$S2" "$P2"
  # abort latency with open-loop arrivals at half the capacity just measured (closed loop, 64
  # connections): jobs arrive at a fixed rate, each request is timed from when it was due
  PULL_RATE=$(awk -v r="$(get pull.spoold.iters_per_s)" 'BEGIN{printf "%.0f", r / 2 < 1 ? 1 : r / 2}')
  # what the store's part of it was in the same run (spoold's /metrics before and after): the
  # time of each commit (the WAL's write and fdatasync: the disk's floor under the abort) and of
  # each store write from its request's view (the wait for the group commit)
  curl -s "$SP_URL/metrics" >"$WORK/pullopen.m0"
  lg_run pullopen.spoold pull 64 "$S2" "$P2" --rate "$PULL_RATE"
  curl -s "$SP_URL/metrics" >"$WORK/pullopen.m1"
  hist_put pullopen.spoold commit spoold_store_commit_seconds "$WORK/pullopen.m0" "$WORK/pullopen.m1"
  hist_put pullopen.spoold write spoold_store_write_seconds "$WORK/pullopen.m0" "$WORK/pullopen.m1"
  put small.rss_kb "$(vm "$SP_PID" VmRSS)"
  sp_stop

  log "cupsd baselines"
  # The pull baseline and the big history on one cupsd, the pull run on the history it has
  # after one lifecycle round (the lifecycle baseline itself runs in figure 2's rounds below).
  cups_start Yes
  cups_fill_to $((CUPS_SMALL + CUPS_PAIRS_1 + 16 * CUPS_PAIRS_16))
  cups_run pull.cups 64 "$CUPS_PULL_PER" bench/cups/held-send-cancel.test
  cups_fill_to "$CUPS_BIG"
  lifecycle_cups cupsbig
  put cupsbig.history_end "$CUPS_JOBS"
  cups_stop

  # The big store: the small store plus seeded jobs up to SEED_BIG.
  cp -a "$WORK/store-small" "$WORK/store-big"
  seed_store "$WORK/store-big" $((SEED_BIG - SEED_SMALL))
  BIG_LO=$SEED_LO BIG_HI=$SEED_HI
  DATA=$WORK/store-big
  put big.jobs "$(store_jobs)"

  # Figures 2 and 4: rounds alternate a fresh copy of the small store and the big store (which
  # keeps the jobs the earlier rounds added: under 10 % of it).
  log "figures 2 and 4: lifecycle and scaling ($(get small.jobs) and $(get big.jobs) jobs)"
  for ((r = 1; r <= ROUNDS_SP; r++)); do
    # figure 2's cupsd baseline in the same round, just before spoold's: a fresh cupsd filled to
    # the same history, so that both see the machine in the same state (the first round after
    # the big store's seeding ran slower for everything in it, the floors included)
    cups_start Yes
    cups_fill_to "$CUPS_SMALL"
    lifecycle_cups cupssmall ".r$r"
    cups_stop
    rm -rf "$WORK/data"
    cp -a "$WORK/store-small" "$WORK/data"
    DATA=$WORK/data
    # the floors of figures 2 and 4, in the same rounds: the lifecycle's store and HTTP parts
    # alone, and the job read's SELECT on both stores without the hot-job cache
    floor_lifecycle "floorl.r$r"
    floor_http "floorh.r$r"
    floor_read "floorrs.r$r" "$WORK/data" "$SMALL_LO" "$SMALL_HI"
    floor_read "floorrb.r$r" "$WORK/store-big" "$BIG_LO" "$BIG_HI"
    # figure 4's lifecycle floor: the same two transactions on the big store (its indexes and
    # table hold every job; whether SQLite alone slows down with the store's size)
    floor_lifecycle "floorlb.r$r" "$WORK/store-big"
    sp_start
    scale_runs small "$r" "$SMALL_LO" "$SMALL_HI"
    sp_stop
    DATA=$WORK/store-big
    sp_start
    scale_runs big "$r" "$BIG_LO" "$BIG_HI"
    put big.rss_kb "$(vm "$SP_PID" VmRSS)"
    put big.hwm_kb "$(vm "$SP_PID" VmHWM)"
    [ "$r" = "$ROUNDS_SP" ] || sp_stop
  done
  for k in smallr.c64 smallr.c256 bigr.c64 bigr.c256 smalll.c1 smalll.c16 bigl.c1 bigl.c16 \
           floorl floorh floorrs floorrb floorlb cupssmall.c1 cupssmall.c16; do agg "$k"; done

  log "figure 5: upload (store: $(store_jobs) jobs)"
  upload_figure
  sp_stop
fi

log "figure 6: PostgreSQL"
put pg.load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
pg_figure
put pg.load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
put total_s $((SECONDS - T_START))
put load_end "$(cut -d' ' -f1-3 /proc/loadavg)"

# ---- report ---------------------------------------------------------------------------------------
. bench/report.sh

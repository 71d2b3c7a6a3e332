#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Interleaved A/B of spoold builds (or of one build with different environment variables), the
# method of docs/benchmarks.md's "Where the time goes": on a shared machine absolute figures
# move a lot between runs, so the variants take turns round after round and medians are compared.
#
#   bench/ab.sh ROUNDS RATE|auto LABEL=BINARY[,VAR=VALUE...] ...
#
# Each round starts every variant in turn (the order rotated by one each round) on a fresh copy
# of one store (two printers, the pull printer's jobStarted trigger, two shares: the bench's
# set-up), runs 200 warm-up pull jobs, then the phases of AB_PHASES, each for AB_DUR seconds:
#   pull64   bench/loadgen pull, 64 connections (create, upload 4 KiB, start, abort)
#   life16   bench/loadgen lifecycle, 16 connections (create + cancel)
#   life1    bench/loadgen lifecycle, 1 connection (a lone client: not in the default phases)
#   open     bench/loadgen pull at RATE jobs/s, open loop (auto: half the first pull64 figure)
#   read64   wrk, 64 connections, GET .../printers/{id}/jobs/{id} (bench/read.lua)
# VAR=VALUE pairs are set in that variant's spoold environment only (an experiment's knob).
# Each phase adds one line to the results: the load generator's figures, spoold's CPU per
# iteration (/proc/PID/stat), commits per iteration, closures per commit and the share of the
# commits made inline (spoold_store_commits_inline_total; 0 for a build without it) from
# /metrics, context switches of all spoold threads per iteration (/proc/PID/task/*/status), the
# share of the phase's wall time during which some runnable task waited for a CPU (psi_some,
# from the "some" total of /proc/pressure/cpu; absent without PSI), the load average. At the
# end a table gives each variant's median of the main figures.
#
# Environment: AB_DUR (10), AB_PHASES (pull64,life16,open,read64), BENCH_PORT_BASE (18400: spoold
# listens on BASE+50), AB_STORE (a --store URL, e.g. PostgreSQL; default the SQLite data
# directory), AB_OUT (the results file; default a new file in $TMPDIR, named at the end),
# AB_HOG (0: N busy-loop processes started at the beginning of each round and stopped, by PID,
# at its end, so that every variant of the round runs on CPUs saturated by other processes).
# Needs wrk, curl, openssl and cc, as bench/run.sh does.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { sed -n '7,23p' "$0" >&2; exit 2; }
ROUNDS=$1 RATE=$2
shift 2
VARIANTS=("$@")
for v in "${VARIANTS[@]}"; do
  bin=${v#*=}; bin=${bin%%,*}
  [[ $v == *=* && -x $bin ]] || { echo "ab.sh: '$v': want LABEL=BINARY[,VAR=VALUE...] with an executable BINARY" >&2; exit 2; }
done
FIRST=${VARIANTS[0]#*=}; FIRST=${FIRST%%,*}
DUR=${AB_DUR:-10} PHASES=${AB_PHASES:-pull64,life16,open,read64}
PORT=$((${BENCH_PORT_BASE:-18400} + 50))
SP_URL=http://127.0.0.1:$PORT
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spoold-ab.XXXXXX")
OUT=${AB_OUT:-$(mktemp "${TMPDIR:-/tmp}/spoold-ab-results.XXXXXX")}
: >"$OUT"
. tests/lib/spoold.sh
SP_PID=""
HOGS=()
hogs_stop() { [ ${#HOGS[@]} -eq 0 ] || { kill "${HOGS[@]}" 2>/dev/null || true; wait "${HOGS[@]}" 2>/dev/null || true; }; HOGS=(); }
cleanup() { hogs_stop; [ -z "$SP_PID" ] || pid_stop "$SP_PID" || true; rm -rf "$WORK"; }
trap cleanup EXIT
cc -O2 -Wall -Wextra -pthread -o "$WORK/loadgen" bench/loadgen.c
LOADGEN=$WORK/loadgen
HZ=$(getconf CLK_TCK)
LIMITS=(--max-jobs-per-printer-window 0 --max-jobs-per-user-window 0 --upload-volume-limit 0
        --max-connections 2048 --max-connections-per-ip 1024)
STORE_ARGS=()
[ -z "${AB_STORE:-}" ] || STORE_ARGS=(--store "$AB_STORE")

start() { # start BINARY DATA [VAR=VALUE...]: spoold with those variables in its environment
  local bin=$1 data=$2; shift 2
  spoold_start "$WORK/spoold" env "$@" "$bin" serve --data "$data" "${STORE_ARGS[@]}" \
    --listen "127.0.0.1:$PORT" --dev --public-url "$SP_URL" "${LIMITS[@]}" ||
    { cat "$WORK/spoold.err" >&2; exit 1; }
  SP_PID=$SPOOLD_PID
}
stop() { pid_stop "$SP_PID" || true; SP_PID=""; }
die() { echo "ab.sh: $*" >&2; exit 1; }
# api, jstr, token, register_printer, bench_setup (bench/lib.sh): tokens minted by the first
# variant's binary with the template store's key
SPOOLD=$FIRST DATA=$WORK/tmpl
. bench/lib.sh
metrics() { # "commits closures inline_commits" so far, from /metrics
  curl -s "$SP_URL/metrics" | awk '/^spoold_store_commits_total /{c+=$2} /^spoold_store_commit_batch_size_sum /{b+=$2}
                                /^spoold_store_commits_inline_total /{n+=$2} END{printf "%d %d %d\n", c, b, n}'
}
ticks() { local f; read -r -a f <"/proc/$1/stat"; echo $((f[13] + f[14])); }
csw() { # context switches (voluntary and not) of all of spoold's threads so far
  cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/{s+=$2} END{print s+0}'
}
psi() { # "microseconds_now some_total_us" (the total empty without PSI)
  echo "$(($(date +%s%N) / 1000)) $(sed -n 's/^some .*total=\([0-9]*\).*/\1/p' /proc/pressure/cpu 2>/dev/null)"
}

# ---- the template store, made once by the first variant's binary
mkdir -p "$WORK/tmpl"
start "$FIRST" "$WORK/tmpl"
bench_setup
JID=$(api POST "/v1.0/print/shares/$S1/jobs" "$USER_TOK" '{}' | jstr id) # the read phase's job
stop
[ -n "$JID" ] || die "the template store's set-up failed"

lg() { # lg KEY MODE CONNS SHARE [loadgen args]: one load generator run, one results line
  local key=$1 mode=$2 c=$3 share=$4; shift 4
  local args=("$mode" --port "$PORT" --user-token "$WORK/user.tok" --share "$share" --conns "$c")
  [ "$mode" != pull ] || args+=(--app-token "$WORK/app.tok" --printer "$P2")
  args+=("$@")
  sync
  local m0 m1 t0 t1 s0 s1 p0 p1 out it c0 b0 n0 c1 b1 n1
  m0=$(metrics) t0=$(ticks "$SP_PID") s0=$(csw "$SP_PID") p0=$(psi)
  out=$("$LOADGEN" "${args[@]}" 2>&1) || true
  p1=$(psi) t1=$(ticks "$SP_PID") s1=$(csw "$SP_PID") m1=$(metrics)
  [ "$key" != warm ] || return 0
  read -r c0 b0 n0 <<<"$m0"; read -r c1 b1 n1 <<<"$m1"
  it=$(sed -n 's/.* iters=\([0-9]*\) .*/\1/p' <<<"$out")
  echo "$key $out $(awk -v d=$((t1 - t0)) -v hz="$HZ" -v r="${it:-0}" -v c=$((c1 - c0)) -v b=$((b1 - b0)) -v s=$((s1 - s0)) -v n=$((n1 - n0)) -v p0="$p0" -v p1="$p1" 'BEGIN{
      printf "cpu_us=%.0f commits_per_iter=%.3f closures_per_commit=%.2f inline_per_commit=%.3f ctxsw_per_iter=%.1f",
             r ? d / hz / r * 1e6 : 0, r ? c / r : 0, c ? b / c : 0, c ? n / c : 0, r ? s / r : 0
      if (split(p0, a, " ") == 2 && split(p1, z, " ") == 2 && z[1] > a[1])
        printf " psi_some=%.3f", (z[2] - a[2]) / (z[1] - a[1]) }') load=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$OUT"
}
reads() { # reads KEY: wrk c=64 on one job, one results line
  sync
  local t0 t1 out n
  t0=$(ticks "$SP_PID")
  out=$(BENCH_TOKEN=$APP_TOK wrk -t2 -c64 -d"${DUR}s" --latency -s bench/read.lua "$SP_URL/v1.0/print/printers/$P1/jobs/$JID" 2>&1) || true
  t1=$(ticks "$SP_PID")
  n=$(awk '/requests in/{print $1}' <<<"$out")
  echo "$1 rps=$(awk '/Requests\/sec/{print $2}' <<<"$out") p99=$(awk '$1=="99%"{print $2}' <<<"$out") $(awk -v d=$((t1 - t0)) -v hz="$HZ" -v r="${n:-0}" 'BEGIN{
      printf "cpu_us=%.1f", r ? d / hz / r * 1e6 : 0 }') load=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$OUT"
}
has() { [[ ,$PHASES, == *,$1,* ]]; }

NV=${#VARIANTS[@]}
for ((r = 1; r <= ROUNDS; r++)); do
  for ((h = 0; h < ${AB_HOG:-0}; h++)); do
    (while :; do :; done) &
    HOGS+=($!)
  done
  for ((k = 0; k < NV; k++)); do
    v=${VARIANTS[$(((k + r - 1) % NV))]}
    label=${v%%=*} rest=${v#*=}
    bin=${rest%%,*} envs=()
    [ "$rest" = "$bin" ] || IFS=, read -r -a envs <<<"${rest#*,}"
    rm -rf "$WORK/d"; cp -a "$WORK/tmpl" "$WORK/d"
    start "$bin" "$WORK/d" "${envs[@]}"
    lg warm pull 64 "$S2" --count 200
    ! has pull64 || lg "$label.r$r.pull64" pull 64 "$S2" --duration "$DUR"
    if [ "$RATE" = auto ] && has open; then
      RATE=$(awk '$1 ~ /\.pull64$/{for (i = 2; i <= NF; i++) if ($i ~ /^iters_per_s=/) {split($i, a, "="); printf "%d", a[2] / 2; exit}}' "$OUT")
      [ -n "$RATE" ] || { echo "ab.sh: RATE auto needs the pull64 phase" >&2; exit 2; }
      echo "rate $RATE jobs/s (half the first pull64 figure)" | tee -a "$OUT"
    fi
    ! has life16 || lg "$label.r$r.life16" lifecycle 16 "$S1" --duration "$DUR"
    ! has life1 || lg "$label.r$r.life1" lifecycle 1 "$S1" --duration "$DUR"
    ! has open || lg "$label.r$r.open" pull 64 "$S2" --duration "$DUR" --rate "$RATE"
    ! has read64 || reads "$label.r$r.read64"
    stop
  done
  hogs_stop
done

# ---- medians per variant and phase
echo
printf '%s\n' "medians (rounds in brackets) of $OUT:"
awk '
  NF > 1 && $1 ~ /\.r[0-9]+\./ {
    n = split($1, k, "."); label = k[1]; phase = k[n]
    for (i = 2; i <= NF; i++) {
      if (split($i, kv, "=") != 2) continue
      f = kv[1]
      if (f !~ /^(iters_per_s|rps|p99|cpu_us|closures_per_commit|inline_per_commit|ctxsw_per_iter|psi_some|abort_p50_ms|abort_p99_ms)$/) continue
      if (phase != "open" && f ~ /^abort_/) continue
      if (f == "p99") f = "p99_ms"
      key = phase " " f " " label; v[key] = v[key] " " kv[2]
      if (!(phase " " f in seen)) { seen[phase " " f] = 1; order[++no] = phase " " f }
      if (!(label in lab)) { lab[label] = 1; labs[++nl] = label }
    }
  }
  function ms(x) { # wrk prints latencies as 950.00us, 1.20ms or 1.05s: in ms; other figures as they are
    if (x ~ /us$/) return substr(x, 1, length(x) - 2) / 1000
    if (x ~ /ms$/) return substr(x, 1, length(x) - 2) + 0
    if (x ~ /[0-9]s$/) return substr(x, 1, length(x) - 1) * 1000
    return x + 0
  }
  function median(s,   a, m, i, j, t) {
    m = split(s, a, " ")
    for (i = 1; i <= m; i++) a[i] = ms(a[i])
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
  }
  END {
    for (o = 1; o <= no; o++) {
      line = order[o]
      for (l = 1; l <= nl; l++) { key = order[o] " " labs[l]; if (key in v) line = line sprintf("  %s %g (%s)", labs[l], median(v[key]), substr(v[key], 2)) }
      print line
    }
  }' "$OUT"

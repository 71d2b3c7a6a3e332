# SPDX-License-Identifier: Apache-2.0
# Sourced by bench/run.sh after the measurements: builds the results table from $RESULTS,
# prints it, and (full mode) replaces the block between the bench markers of $OUT.
# shellcheck shell=bash

num() { awk -v v="$1" 'BEGIN{ if (v == "" || v == "nan" || v == "n/a") print "n/a"; else if (v+0 >= 100) printf "%.0f", v; else if (v+0 >= 10) printf "%.1f", v; else printf "%.2f", v }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "" || b == "" || b+0 == 0) print "n/a"; else printf "%.2fx", a / b }'; }
# verdict OP VALUE LIMIT: OP is ge, le or lt
verdict() {
  awk -v op="$1" -v v="$2" -v l="$3" 'BEGIN{
    if (v == "" || v == "n/a" || v == "nan") { print "not measured"; exit }
    sub(/x$/, "", v)
    ok = (op == "ge") ? (v + 0 >= l + 0) : (op == "le") ? (v + 0 <= l + 0) : (v + 0 < l + 0)
    print ok ? "**met**" : "**not met**" }'
}

# "median (a, b, c)" when a figure has several rounds
med() {
  local v all
  v=$(num "$(get "$1")") all=$(get "$1.all")
  if [ "$(wc -w <<<"$all")" -gt 1 ]; then
    printf '%s (%s)' "$v" "$(for x in $all; do num "$x"; echo; done | paste -sd, - | sed 's/,/, /g')"
  else printf '%s' "$v"; fi
}

TABLE=$WORK/table.md
ROWS=0
row() { # row FIGURE MEASURE SPOOLD BASELINE RATIO TARGET RESULT
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$@" >>"$TABLE"
  ROWS=$((ROWS + 1))
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "" || b == "" || b+0 == 0) print "n/a"; else printf "%.0f %%", a / b * 100 }'; }
# cpurow FIGURE GENERATOR KEY: the machine's CPU during a run (bench/run.sh cpu_shares): busy share of all
# cores, spoold's and the load generator's parts, and the load generator's CPU per request or job
cpurow() {
  row "$1" "CPU during the run, % of $(nproc) cores' time: machine busy; spoold; load generator ($2); load generator CPU per job or request, µs" \
    "$(get "$3.busy_pct") %; $(get "$3.server_pct") %; $(get "$3.gen_pct") %; $(num "$(get "$3.gen_cpu_us")")" "" "" "" ""
}
# pgcpurow FIGURE KEY1 KEY2 GENERATOR: the same for figure 6, with PostgreSQL's part, 1 and 2 processes
pgcpurow() {
  local k out=""
  for k in "$2" "$3"; do
    if [ -z "$k" ]; then continue; fi
    out="$out${out:+; }$(get "$k.busy_pct") % ($(get "$k.server_pct") + $(get "$k.pg_pct") + $(get "$k.gen_pct")), $(num "$(get "$k.gen_cpu_us")")"
  done
  row "$1" "CPU during the run, % of $(nproc) cores' time: machine busy (spoold + PostgreSQL + load generator ($4)), load generator CPU per job or request, µs:$([ -n "$3" ] && echo " 1 process; 2 processes" || echo " 1 process")" \
    "$out" "" "" "" ""
}
kb_mib() { awk -v k="$1" 'BEGIN{ if (k == "") print "n/a"; else printf "%.1f", k / 1024 }'; }
big_label=$(awk -v n="$SEED_BIG" 'BEGIN{ if (n >= 1000000) printf "%gM", n / 1e6; else printf "%gk", n / 1e3 }')
small_label=$(awk -v n="$SEED_SMALL" 'BEGIN{ printf "%gk", n / 1e3 }')

{
  echo "| figure | measure | spoold | baseline | ratio | target | result |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
} >"$TABLE"

# The targets of issue 19 (docs/benchmarks.md, "The targets in short"); each is reported met or
# not met, never asserted.
if [ -z "$ONLY" ]; then # figures 1-5, SQLite
  # 1. read
  for c in $READ_CONNS; do
    r=$(ratio "$(get small.c$c.rps)" "$(get nginx.c$c.rps)")
    row "1 read c=$c" "requests/s" "$(med small.c$c.rps)" "$(med nginx.c$c.rps) (nginx)" "$r" "≥ 0.85x nginx" "$(verdict ge "$r" 0.85)"
    row "1 read c=$c" "p50 latency, ms" "$(num "$(get small.c$c.p50)")" "$(num "$(get nginx.c$c.p50)") (nginx)" \
      "$(ratio "$(get small.c$c.p50)" "$(get nginx.c$c.p50)")" "" ""
    r=$(ratio "$(get small.c$c.p99)" "$(get nginx.c$c.p99)")
    row "1 read c=$c" "p99 latency, ms" "$(num "$(get small.c$c.p99)")" "$(num "$(get nginx.c$c.p99)") (nginx)" \
      "$r" "≤ 1.5x nginx's" "$(verdict le "$r" 1.5)"
    r=$(ratio "$(get small.c$c.cpu_us)" "$(get nginx.c$c.cpu_us)")
    row "1 read c=$c" "server CPU per request, µs" "$(num "$(get small.c$c.cpu_us)")" "$(num "$(get nginx.c$c.cpu_us)") (nginx)" \
      "$r" "≤ 1.3x nginx's" "$(verdict le "$r" 1.3)"
  done

  # 2. lifecycle
  fs=$(get fsync_us)
  ceil=$(awk -v f="$fs" 'BEGIN{ if (f > 0) printf "%.1f", 1e6 / (2 * f) }')
  for c in 1 16; do
    r=$(ratio "$(get smalll.c$c.iters_per_s)" "$(get cupssmall.c$c.jobs_per_s)")
    if [ $c = 16 ]; then t="≥ 6x cupsd" v=$(verdict ge "$r" 6); else t="" v=""; fi
    row "2 lifecycle c=$c" "jobs/s (create + cancel)" "$(med smalll.c$c.iters_per_s)" \
      "$(med cupssmall.c$c.jobs_per_s) (cupsd)" "$r" "$t" "$v"
    if [ $c = 1 ]; then
      r=$(awk -v a="$(get smalll.c1.iters_per_s)" -v b="$ceil" 'BEGIN{ if (b > 0) printf "%.0f %%", a / b * 100; else print "n/a" }')
      row "2 lifecycle c=1" "jobs/s vs the ceiling of one durable client: 2 fdatasyncs per job at $fs µs" \
        "$(num "$(get smalll.c1.iters_per_s)")" "$(num "$ceil") (ceiling)" "$r" "≥ 75 % of the ceiling" \
        "$(verdict ge "${r% %}" 75)"
      # the floors measured in the same rounds (bench/floor, bench/loadgen http against nginx)
      fl=$(get floorl.jobs_per_s) fh=$(get floorh.iters_per_s)
      fser=$(awk -v a="$fl" -v b="$fh" 'BEGIN{ if (a + 0 > 0 && b + 0 > 0) printf "%.1f", 1 / (1 / a + 1 / b) }')
      row "2 lifecycle c=1" "store floor: spoold's two durable transactions per job with SQLite alone, one job after the other (bench/floor lifecycle), jobs/s vs the ceiling" \
        "$(med floorl.jobs_per_s)" "$(num "$ceil") (ceiling)" "$(pct "$fl" "$ceil")" "" ""
      if [ "$(get floor.sql_same)" = yes ]; then sq="the same, $(get floor.sql_statements) statements in its two closures"
      else sq="**different** (bench/floor.c lags the store: see the run's log)"; fi
      row "2 lifecycle c=1" "store floor: its statements against a trace of spoold's writer for one job (bench/sqltrace.so)" "$sq" "" "" "" ""
      row "2 lifecycle c=1" "jobs/s vs the store floor" "$(num "$(get smalll.c1.iters_per_s)")" "$(num "$fl") (store floor)" \
        "$(pct "$(get smalll.c1.iters_per_s)" "$fl")" "" ""
      row "2 lifecycle c=1" "HTTP floor: a job's two loopback round trips against nginx's static file, 1 connection (bench/loadgen http), jobs/s" \
        "$(med floorh.iters_per_s)" "" "" "" ""
      row "2 lifecycle c=1" "jobs/s vs the store and HTTP floors in series: 1 / (1/store + 1/HTTP)" \
        "$(num "$(get smalll.c1.iters_per_s)")" "$(num "$fser") (floors in series)" "$(pct "$(get smalll.c1.iters_per_s)" "$fser")" "" ""
      row "2 lifecycle c=1" "CPU per job, µs: the store floor (SQLite alone); the HTTP floor (loadgen + nginx)" \
        "$(num "$(get floorl.cpu_us_per_job)"); $(num "$(awk -v a="$(get floorh.cpu_us_per_iter)" -v b="$(get floorh.server_cpu_us)" 'BEGIN{print a + b}')")" \
        "$(num "$(get smalll.c1.cpu_us)") (spoold)" "" "" ""
    fi
    row "2 lifecycle c=$c" "server CPU per job, µs" "$(num "$(get smalll.c$c.cpu_us)")" "$(num "$(get cupssmall.c$c.cpu_us)") (cupsd)" \
      "$(ratio "$(get smalll.c$c.cpu_us)" "$(get cupssmall.c$c.cpu_us)")" "" ""
    row "2 lifecycle c=$c" "create p50 / p99, ms" "$(num "$(get smalll.c$c.create_p50_ms)") / $(num "$(get smalll.c$c.create_p99_ms)")" "" "" "" ""
    row "2 lifecycle c=$c" "store: commits per job, closures per commit, share of the commits made inline (a lone write on its caller's thread), WAL pages per job, KiB written per job" \
      "$(get smalll.c$c.commits_per_iter), $(get smalll.c$c.closures_per_commit), $(get smalll.c$c.inline_per_commit), $(get smalll.c$c.pages_per_iter), $(get smalll.c$c.written_kb_per_iter)" "" "" "" ""
    if [ $c = 16 ]; then cpurow "2 lifecycle c=16" loadgen smalll.c16; fi
  done

  # 3. pull printing
  r=$(ratio "$(get pull.spoold.iters_per_s)" "$(get pull.cups.jobs_per_s)")
  row "3 pull c=64" "jobs/s (create, upload 4 KiB, start, abort)" "$(num "$(get pull.spoold.iters_per_s)")" \
    "$(num "$(get pull.cups.jobs_per_s)") (cupsd held job)" "$r" "≥ 3x" "$(verdict ge "$r" 3)"
  row "3 pull c=64" "abort p50 / p99 latency (closed loop), ms" "$(num "$(get pull.spoold.abort_p50_ms)") / $(num "$(get pull.spoold.abort_p99_ms)")" "" "" "" ""
  row "3 pull c=64" "store: commits per job, closures per commit, WAL pages per job, KiB written per job" \
    "$(get pull.spoold.commits_per_iter), $(get pull.spoold.closures_per_commit), $(get pull.spoold.pages_per_iter), $(get pull.spoold.written_kb_per_iter)" "" "" "" ""
  row "3 pull c=64" "p50 create / upload / start / abort, ms" \
    "$(num "$(get pull.spoold.create_p50_ms)") / $(num "$(get pull.spoold.put_p50_ms)") / $(num "$(get pull.spoold.start_p50_ms)") / $(num "$(get pull.spoold.abort_p50_ms)")" "" "" "" ""
  cpurow "3 pull c=64" loadgen pull.spoold
  row "3 pull open loop" "abort p50 / p99 latency from the due time, ms, at $(num "$(get pullopen.spoold.rate)") jobs/s (half the capacity above)" \
    "$(num "$(get pullopen.spoold.abort_p50_ms)") / $(num "$(get pullopen.spoold.abort_p99_ms)")" "" "" "p99 < 5 ms" \
    "$(verdict lt "$(get pullopen.spoold.abort_p99_ms)" 5) (commit p99 $(num "$(get pullopen.spoold.commit_p99_ms)") ms in the same run)"
  row "3 pull open loop" "the store in the same run (spoold's /metrics): a commit's p50 / p99 (the WAL's write and fdatasync, the floor under a durable abort); a store write's p50 / p99 from its request (queued, run, committed, handed back), ms; commits per job, closures per commit" \
    "$(num "$(get pullopen.spoold.commit_p50_ms)") / $(num "$(get pullopen.spoold.commit_p99_ms)"); $(num "$(get pullopen.spoold.write_p50_ms)") / $(num "$(get pullopen.spoold.write_p99_ms)"); $(get pullopen.spoold.commits_per_iter), $(get pullopen.spoold.closures_per_commit)" "" "" "" ""
  row "3 pull open loop" "job p50 / p99 from its due time, ms; jobs sent late; jobs/s done" \
    "$(num "$(get pullopen.spoold.iter_p50_ms)") / $(num "$(get pullopen.spoold.iter_p99_ms)"); $(get pullopen.spoold.late); $(num "$(get pullopen.spoold.iters_per_s)")" "" "" "" ""
  cpurow "3 pull open loop" loadgen pullopen.spoold

  # 4. scaling
  for c in $READ_CONNS; do
    r=$(ratio "$(get bigr.c$c.rps)" "$(get smallr.c$c.rps)")
    row "4 read c=$c, random job" "requests/s at $big_label vs $small_label jobs" "$(med bigr.c$c.rps)" \
      "$(med smallr.c$c.rps) (spoold, $small_label)" "$r" "≥ 0.95x" "$(verdict ge "$r" 0.95)"
    row "4 read c=$c, random job" "p99 latency at $big_label vs $small_label, ms" "$(num "$(get bigr.c$c.p99)")" \
      "$(num "$(get smallr.c$c.p99)") (spoold, $small_label)" "$(ratio "$(get bigr.c$c.p99)" "$(get smallr.c$c.p99)")" "" ""
    row "4 read c=$c, random job" "CPU during the run, % of $(nproc) cores' time: machine busy; spoold; load generator (wrk); wrk CPU per request, µs: at $big_label; at $small_label" \
      "$(get bigr.c$c.busy_pct) %; $(get bigr.c$c.server_pct) %; $(get bigr.c$c.gen_pct) %; $(num "$(get bigr.c$c.gen_cpu_us)")" \
      "$(get smallr.c$c.busy_pct) %; $(get smallr.c$c.server_pct) %; $(get smallr.c$c.gen_pct) %; $(num "$(get smallr.c$c.gen_cpu_us)") ($small_label)" "" "" ""
  done
  # SQLite alone (bench/floor read): the B-tree's part without the hot-job cache, which answers
  # every read at 1k jobs
  row "4 read, SQLite alone" "the job read's SELECT for random ids, 1 connection, no hot-job cache (bench/floor read): reads/s at $big_label vs $small_label jobs" \
    "$(med floorrb.reads_per_s)" "$(med floorrs.reads_per_s) (SQLite alone, $small_label)" \
    "$(ratio "$(get floorrb.reads_per_s)" "$(get floorrs.reads_per_s)")" "" ""
  row "4 read, SQLite alone" "CPU per read at $big_label vs $small_label, µs: SQLite alone; spoold c=64 (its $small_label reads come from the hot-job cache); the difference, spoold; SQLite alone" \
    "$(num "$(get floorrb.cpu_us_per_read)"); $(num "$(get bigr.c64.cpu_us)")" \
    "$(num "$(get floorrs.cpu_us_per_read)"); $(num "$(get smallr.c64.cpu_us)") ($small_label)" \
    "$(num "$(awk -v a="$(get bigr.c64.cpu_us)" -v b="$(get smallr.c64.cpu_us)" 'BEGIN{print a - b}')"); $(num "$(awk -v a="$(get floorrb.cpu_us_per_read)" -v b="$(get floorrs.cpu_us_per_read)" 'BEGIN{print a - b}')") µs" "" ""
  # The limit under the reads' ratio: on two saturated cores requests/s goes as 1 / (spoold's +
  # wrk's CPU per request). The model with the CPU measured above should give the measured ratio;
  # the bound is the ratio if spoold's uncached read cost only what SQLite alone adds at the size
  s1=$(get smallr.c64.cpu_us) w1=$(get smallr.c64.gen_cpu_us) s2=$(get bigr.c64.cpu_us) w2=$(get bigr.c64.gen_cpu_us)
  dsql=$(awk -v a="$(get floorrb.cpu_us_per_read)" -v b="$(get floorrs.cpu_us_per_read)" 'BEGIN{print a - b}')
  row "4 read c=64, the bound" "requests/s at $big_label vs $small_label modelled as 1 / (spoold's + wrk's CPU per request) on the saturated cores: with the CPU measured above (against the measured ratio); if spoold's uncached read cost only SQLite alone's difference (the bound at this store)" \
    "$(ratio "$(awk -v a="$s1" -v b="$w1" 'BEGIN{print a + b}')" "$(awk -v a="$s2" -v b="$w2" 'BEGIN{print a + b}')") (measured $(ratio "$(get bigr.c64.rps)" "$(get smallr.c64.rps)")); $(ratio "$(awk -v a="$s1" -v b="$w1" 'BEGIN{print a + b}')" "$(awk -v a="$s1" -v b="$w1" -v d="$dsql" 'BEGIN{print a + b + d}')")" \
    "" "" "" ""
  for c in 1 16; do
    r=$(ratio "$(get bigl.c$c.iters_per_s)" "$(get smalll.c$c.iters_per_s)")
    row "4 lifecycle c=$c" "jobs/s at $big_label vs $small_label jobs" "$(med bigl.c$c.iters_per_s)" \
      "$(med smalll.c$c.iters_per_s) (spoold, $small_label)" "$r" "≥ 0.95x" "$(verdict ge "$r" 0.95)"
    if [ "$c" = 1 ]; then
      # SQLite alone (bench/floor lifecycle, one job after the other as at c=1): whether the
      # store's own two transactions slow down with its size
      row "4 lifecycle, SQLite alone" "the job's two durable transactions, one job after the other (bench/floor lifecycle): jobs/s at $big_label vs $small_label jobs" \
        "$(med floorlb.jobs_per_s)" "$(med floorl.jobs_per_s) (SQLite alone, $small_label)" \
        "$(ratio "$(get floorlb.jobs_per_s)" "$(get floorl.jobs_per_s)")" "" ""
      row "4 lifecycle, SQLite alone" "CPU per job at $big_label vs $small_label, µs: SQLite alone; spoold c=1" \
        "$(num "$(get floorlb.cpu_us_per_job)"); $(num "$(get bigl.c1.cpu_us)")" \
        "$(num "$(get floorl.cpu_us_per_job)"); $(num "$(get smalll.c1.cpu_us)") ($small_label)" "" "" ""
    fi
    row "4 lifecycle c=$c" "store at $big_label: commits per job, closures per commit, WAL pages per job, KiB written per job" \
      "$(get bigl.c$c.commits_per_iter), $(get bigl.c$c.closures_per_commit), $(get bigl.c$c.pages_per_iter), $(get bigl.c$c.written_kb_per_iter)" "" "" "" ""
    row "4 lifecycle c=$c" "cupsd jobs/s at $(get cupsbig.c$c.history) vs $(get cupssmall.c$c.history) jobs of history" \
      "" "$(num "$(get cupsbig.c$c.jobs_per_s)") / $(num "$(get cupssmall.c$c.jobs_per_s)") (cupsd)" \
      "$(ratio "$(get cupsbig.c$c.jobs_per_s)" "$(get cupssmall.c$c.jobs_per_s)")" "" ""
    row "4 lifecycle c=$c" "spoold at $big_label jobs vs cupsd at $(get cupsbig.c$c.history)" "$(num "$(get bigl.c$c.iters_per_s)")" \
      "$(num "$(get cupsbig.c$c.jobs_per_s)") (cupsd)" "$(ratio "$(get bigl.c$c.iters_per_s)" "$(get cupsbig.c$c.jobs_per_s)")" "" ""
  done
  rss=$(kb_mib "$(get big.rss_kb)") hwm=$(kb_mib "$(get big.hwm_kb)")
  row "4 memory at $big_label jobs" "spoold VmRSS / VmHWM, MiB" "$rss / $hwm" "$(kb_mib "$(get small.rss_kb)") VmRSS at $small_label" "" "< 100 MiB" \
    "$(verdict lt "$hwm" 100)"

  # 5. upload
  up_mib=$((UPLOAD_SIZE >> 20))
  r=$(ratio "$(get up.spoold.mb_per_s)" "$(get up.dd.mb_per_s)")
  row "5 upload $up_mib MiB" "MB/s (8 MiB fragments, 4 at once)" "$(num "$(get up.spoold.mb_per_s)")" \
    "$(num "$(get up.dd.mb_per_s)") (dd conv=fsync, mean of $(num "$(get up.dd1.mb_per_s)") and $(num "$(get up.dd2.mb_per_s)"))" \
    "$r" "≥ 0.5x dd" "$(verdict ge "$r" 0.5)"
  hwm=$(kb_mib "$(get up.hwm_kb)")
  row "5 upload $up_mib MiB" "spoold peak RSS (VmHWM) during the upload, MiB" "$hwm" "$(kb_mib "$(get up.rss_before_kb)") VmRSS before" "" "< 64 MiB" \
    "$(verdict lt "$hwm" 64)"
fi

# 6. PostgreSQL: one and two spoold processes on one durable PostgreSQL, against the SQLite
# figures 1-3 above (n/a with BENCH_ONLY=pg) and two processes against one
# pgrow FIGURE MEASURE KEY1 KEY2 SQLITE_KEY [TARGET_OP TARGET_VALUE TARGET_TEXT]: three rows,
# 1 process vs SQLite, 2 processes vs 1 process (with the target), 2 processes vs SQLite
pgrow() {
  local f=$1 m=$2 k1=$3 k2=$4 ks=$5 r
  row "$f" "$m, 1 process" "$(med "$k1")" "$(num "$(get "$ks")") (SQLite)" "$(ratio "$(get "$k1")" "$(get "$ks")")" "" ""
  r=$(ratio "$(get "$k2")" "$(get "$k1")")
  if [ -n "${6:-}" ]; then
    row "$f" "$m, 2 processes" "$(med "$k2")" "$(num "$(get "$k1")") (1 process)" "$r" "$8" "$(verdict "$6" "$r" "$7")"
  else
    row "$f" "$m, 2 processes" "$(med "$k2")" "$(num "$(get "$k1")") (1 process)" "$r" "" ""
  fi
  row "$f" "$m, 2 processes vs SQLite" "$(num "$(get "$k2")")" "$(num "$(get "$ks")") (SQLite)" "$(ratio "$(get "$k2")" "$(get "$ks")")" "" ""
}
pair() { printf '%s / %s' "$(num "$(get "$1")")" "$(num "$(get "$2")")"; }
pgcpu() { printf '%s (PostgreSQL %s)' "$(num "$(get "$1.cpu_us")")" "$(num "$(get "$1.cpu_pg_us")")"; } # pgcpu KEY
for c in $READ_CONNS; do
  pgrow "6 PostgreSQL read c=$c" "requests/s" "pg1.c$c.rps" "pg2.c$c.rps" "small.c$c.rps" ge 1.6 "2 processes ≥ 1.6x one"
  row "6 PostgreSQL read c=$c" "p50 / p99 latency, ms: 1 process; 2 processes" \
    "$(pair pg1.c$c.p50 pg1.c$c.p99); $(pair pg2.c$c.p50 pg2.c$c.p99)" "$(pair small.c$c.p50 small.c$c.p99) (SQLite)" "" "" ""
  row "6 PostgreSQL read c=$c" "server CPU per request, µs: spoold + PostgreSQL (PostgreSQL's part): 1 process; 2 processes" \
    "$(pgcpu pg1.c$c); $(pgcpu pg2.c$c)" "$(num "$(get small.c$c.cpu_us)") (SQLite, spoold)" \
    "$(ratio "$(get pg1.c$c.cpu_us)" "$(get small.c$c.cpu_us)")" "" ""
  row "6 PostgreSQL read c=$c" "statements per request (BEGIN and COMMIT included): 1 process; 2 processes" \
    "$(get pg1.c$c.statements_per_iter); $(get pg2.c$c.statements_per_iter)" "" "" "" ""
  pgcpurow "6 PostgreSQL read c=$c" "pg1.c$c" "pg2.c$c" wrk
done
row "6 PostgreSQL lifecycle c=1" "jobs/s (create + cancel), 1 process" "$(med pg1l.c1.iters_per_s)" \
  "$(num "$(get smalll.c1.iters_per_s)") (SQLite)" "$(ratio "$(get pg1l.c1.iters_per_s)" "$(get smalll.c1.iters_per_s)")" "" ""
row "6 PostgreSQL lifecycle c=1" "create p50 / p99, ms; server CPU per job, µs: spoold + PostgreSQL (PostgreSQL's part)" \
  "$(pair pg1l.c1.create_p50_ms pg1l.c1.create_p99_ms); $(pgcpu pg1l.c1)" \
  "$(pair smalll.c1.create_p50_ms smalll.c1.create_p99_ms); $(num "$(get smalll.c1.cpu_us)") (SQLite)" "" "" ""
pgrow "6 PostgreSQL lifecycle c=16" "jobs/s (create + cancel)" pg1l.c16.iters_per_s pg2l.c16.iters_per_s smalll.c16.iters_per_s
row "6 PostgreSQL lifecycle c=16" "create p50 / p99, ms: 1 process; 2 processes" \
  "$(pair pg1l.c16.create_p50_ms pg1l.c16.create_p99_ms); $(pair pg2l.c16.create_p50_ms pg2l.c16.create_p99_ms)" \
  "$(pair smalll.c16.create_p50_ms smalll.c16.create_p99_ms) (SQLite)" "" "" ""
row "6 PostgreSQL lifecycle c=16" "server CPU per job, µs: spoold + PostgreSQL (PostgreSQL's part): 1 process; 2 processes" \
  "$(pgcpu pg1l.c16); $(pgcpu pg2l.c16)" "$(num "$(get smalll.c16.cpu_us)") (SQLite, spoold)" \
  "$(ratio "$(get pg1l.c16.cpu_us)" "$(get smalll.c16.cpu_us)")" "" ""
pgstore() { printf '%s, %s, %s' "$(get "$1.commits_per_iter")" "$(get "$1.conflicts_per_iter")" "$(get "$1.statements_per_iter")"; } # pgstore KEY
row "6 PostgreSQL lifecycle c=1" "store: commits per job, transactions run again after a serialization failure or deadlock per job, statements per job" \
  "$(pgstore pg1l.c1)" "" "" "" ""
pgcpurow "6 PostgreSQL lifecycle c=1" pg1l.c1 "" loadgen
row "6 PostgreSQL lifecycle c=16" "store: commits per job, transactions run again per job, statements per job: 1 process; 2 processes" \
  "$(pgstore pg1l.c16); $(pgstore pg2l.c16)" "" "" "" ""
pgcpurow "6 PostgreSQL lifecycle c=16" pg1l.c16 pg2l.c16 loadgen
pgrow "6 PostgreSQL pull c=$PULL_CONNS_PG" "jobs/s (create, upload 4 KiB, start, abort)" pg1p.iters_per_s pg2p.iters_per_s pull.spoold.iters_per_s
row "6 PostgreSQL pull c=$PULL_CONNS_PG" "abort p50 / p99 latency (closed loop), ms: 1 process; 2 processes" \
  "$(pair pg1p.abort_p50_ms pg1p.abort_p99_ms); $(pair pg2p.abort_p50_ms pg2p.abort_p99_ms)" \
  "$(pair pull.spoold.abort_p50_ms pull.spoold.abort_p99_ms) (SQLite)" "" "" ""
row "6 PostgreSQL pull c=$PULL_CONNS_PG" "server CPU per job, µs: spoold + PostgreSQL (PostgreSQL's part): 1 process; 2 processes" \
  "$(pgcpu pg1p); $(pgcpu pg2p)" "$(num "$(get pull.spoold.cpu_us)") (SQLite, spoold)" \
  "$(ratio "$(get pg1p.cpu_us)" "$(get pull.spoold.cpu_us)")" "" ""
row "6 PostgreSQL pull c=$PULL_CONNS_PG" "store: commits per job, transactions run again per job, statements per job: 1 process; 2 processes" \
  "$(pgstore pg1p); $(pgstore pg2p)" "" "" "" ""
pgcpurow "6 PostgreSQL pull c=$PULL_CONNS_PG" pg1p pg2p loadgen

# ---- context ------------------------------------------------------------------------------------
errors=""
for k in small.c64 small.c256 nginx.c64 nginx.c256 smallr.c64 smallr.c256 bigr.c64 bigr.c256 \
         pg1.c64 pg1.c256 pg2.c64 pg2.c256; do
  e=$(get "$k.errors")
  if [ -n "$e" ]; then errors="$errors- wrk $k: $e"$'\n'; fi
done
for k in smalll.c1 smalll.c16 bigl.c1 bigl.c16 pull.spoold pullopen.spoold up.spoold \
         pg1l.c1 pg1l.c16 pg2l.c16 pg1p pg2p; do
  e=$(get "$k.errors")
  if [ -n "$e" ] && [ "$e" != 0 ]; then errors="$errors- loadgen $k: $e failed iterations"$'\n'; fi
done
for k in cupssmall.c1 cupssmall.c16 cupsbig.c1 cupsbig.c16 pull.cups; do
  e=$(get "$k.errors")
  if [ -n "$e" ] && [ "$e" != 0 ]; then errors="$errors- cupsd $k: $e ipptool clients failed"$'\n'; fi
done

disk=$(df -hT "$WORK" | awk 'NR==2{printf "%s %s, %s size, %s free", $1, $2, $3, $5}')
cpu=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
mem=$(awk '/^MemTotal/{printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
nginx_v=$(nginx -v 2>&1 | sed 's/^nginx version: //')
cups_v=$(dpkg-query -W -f='${Version}' cups-daemon 2>/dev/null || echo unknown)
wrk_v=$({ wrk -v 2>&1 || true; } | awk 'NR==1{print $2}')
ipp_v=$({ ipptool --version 2>&1 || true; } | awk 'NR==1{print $2}')
REPORT=$WORK/report.md
{
  echo "Run of $(date -u '+%Y-%m-%d %H:%M UTC') (\`bench/run.sh $MODE\`, $(get total_s) s)."
  echo
  echo "- machine: $(nproc) cores ($cpu), $mem memory, disk $disk"
  echo "- versions: $("$SPOOLD" version), nginx ${nginx_v}, cupsd ${cups_v} (CUPS ${ipp_v}), SQLite $("$SEED" --version), wrk ${wrk_v}, $(uname -sr)"
  echo "- machine load (1, 5, 15-minute load averages of /proc/loadavg, $(nproc) cores): $(get load_start) at the start, $(get load_end) at the end; other work on the machine shares the cores with the servers and the load generators"
  echo "- disk: $(get fsync_us) µs per fdatasync'd 4 KiB write (dd oflag=dsync), the floor of one durable commit"
  echo "- spoold read body: $(get body_bytes) bytes (nginx serves the same bytes as a static file)"
  echo "- rounds: figure 1 $ROUNDS, alternating nginx and spoold; figures 2 and 4 $ROUNDS_SP, alternating a fresh copy of the small store and the big store; the table gives medians with each round in parentheses; cupsd's figure 2 lifecycle in the same $ROUNDS_SP rounds, each just before spoold's on a fresh cupsd filled to the same history, its other runs once"
  if [ -z "$ONLY" ]; then
    echo "- store: $(get small.jobs) jobs at the start of the small runs, $(get big.jobs) at the start of the big ones; cupsd history: $CUPS_SMALL and $CUPS_BIG jobs at the start of its runs (each run adds its own jobs)"
  else
    echo "- BENCH_ONLY=pg: figure 6 alone, so its SQLite columns are n/a"
  fi
  [ "$PULL_CONNS_PG" = 64 ] || echo "- figure 6 pull print ran at $PULL_CONNS_PG connections (SQLite's figure 3: 64)"
  echo "- figure 6: PostgreSQL $(get pg.version) (throwaway server of tests/lib/pg.sh on 127.0.0.1, data directory on the same file system as the SQLite stores; $(get pg.settings)); $ROUNDS_PG rounds, each one spoold process then two (wrk's two threads and loadgen's connections alternate between them); the store holds the jobs the runs create ($(get pg.jobs) at the end); load averages $(get pg.load_start) at its start, $(get pg.load_end) at its end"
  echo
  cat "$TABLE"
  echo
  if [ -s "$WORK/pg-conflicts.txt" ]; then
    echo "Figure 6: $(get pg.conflicts) transactions were aborted by PostgreSQL (serialization failure or deadlock) and run again by spoold; the statements that failed most often:"
    echo
    awk '{n = $1; $1 = ""; printf "- %d× `%s`\n", n, substr($0, 2)}' "$WORK/pg-conflicts.txt"
    echo
  fi
  if [ -s "$WORK/pg-statements.txt" ]; then
    echo "Figure 6: the statements PostgreSQL spent the most execution time on over all its rounds (pg_stat_statements; execution only, not parsing, planning or the round trips):"
    echo
    echo "| calls | total ms | mean µs | statement |"
    echo "| --- | --- | --- | --- |"
    awk -F '\t' '{q = $4; gsub(/\|/, "\\|", q); printf "| %s | %s | %s | `%s` |\n", $1, $2, $3, q}' "$WORK/pg-statements.txt"
    echo
  fi
  if [ -n "$errors" ]; then
    echo "Errors during the run:"
    echo
    printf '%s' "$errors"
    echo
  fi
  echo "Commands (tokens are minted by \`spoold token\`; \$WORK is the run's temporary directory):"
  echo
  echo '```sh'
  printf '%s\n' "spoold serve --data \$WORK/data ${SP_OPTS[*]}   # store-big for the big runs"
  printf '%s\n' "nginx -p \$WORK/nginx -c \$WORK/nginx/nginx.conf   # worker_processes $(nproc), location = /job.json static file"
  printf '%s\n' "\$WORK/cupsd -f -c \$WORK/cups/cupsd.conf -s \$WORK/cups/cups-files.conf   # a copy of /usr/sbin/cupsd; bench/cups/*.conf.in, PreserveJobHistory Yes, MaxJobs 0"
  printf '%s\n' "lpadmin -h 127.0.0.1:$CUPS_PORT -p null -E -v file:///dev/null -m raw"
  sed "s|$WORK|\$WORK|g" "$CMDS" | awk '!seen[$0]++'
  echo '```'
} >"$REPORT"

echo
cat "$REPORT"
echo

if [ "$MODE" = full ] && [ -n "$ONLY" ]; then
  log "BENCH_ONLY=$ONLY: ${OUT#"$ROOT"/} left as it is"
elif [ "$MODE" = full ]; then
  if [ -f "$OUT" ] && grep -q '<!-- bench:begin -->' "$OUT" && grep -q '<!-- bench:end -->' "$OUT"; then
    awk -v rep="$REPORT" '
      /<!-- bench:begin -->/ { print; while ((getline l < rep) > 0) print l; skip = 1; next }
      /<!-- bench:end -->/ { skip = 0 }
      !skip { print }' "$OUT" >"$OUT.tmp" && mv "$OUT.tmp" "$OUT"
  else
    { echo "# Benchmarks"; echo; echo "<!-- bench:begin -->"; cat "$REPORT"; echo "<!-- bench:end -->"; } >"$OUT"
  fi
  log "results written to ${OUT#"$ROOT"/}"
fi
echo "bench-$MODE: ok, table of $ROWS rows"

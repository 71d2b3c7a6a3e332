# SPDX-License-Identifier: Apache-2.0
# Sourced by bench/run.sh after the measurements: builds the results table from $RESULTS,
# prints it, and (full mode) replaces the block between the bench markers of $OUT.
# shellcheck shell=bash

num() { awk -v v="$1" 'BEGIN{ if (v == "" || v == "nan") print "n/a"; else if (v+0 >= 100) printf "%.0f", v; else if (v+0 >= 10) printf "%.1f", v; else printf "%.2f", v }'; }
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
kb_mib() { awk -v k="$1" 'BEGIN{ if (k == "") print "n/a"; else printf "%.1f", k / 1024 }'; }
big_label=$(awk -v n="$SEED_BIG" 'BEGIN{ if (n >= 1000000) printf "%gM", n / 1e6; else printf "%gk", n / 1e3 }')
small_label=$(awk -v n="$SEED_SMALL" 'BEGIN{ printf "%gk", n / 1e3 }')

{
  echo "| figure | measure | spoold | baseline | ratio | target | result |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
} >"$TABLE"

# The targets of issue 19 (docs/benchmarks.md, "The targets in short"); each is reported met or
# not met, never asserted.
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
    "$(num "$(get cupssmall.c$c.jobs_per_s)") (cupsd)" "$r" "$t" "$v"
  if [ $c = 1 ]; then
    r=$(awk -v a="$(get smalll.c1.iters_per_s)" -v b="$ceil" 'BEGIN{ if (b > 0) printf "%.0f %%", a / b * 100; else print "n/a" }')
    row "2 lifecycle c=1" "jobs/s vs the ceiling of one durable client: 2 fdatasyncs per job at $fs µs" \
      "$(num "$(get smalll.c1.iters_per_s)")" "$(num "$ceil") (ceiling)" "$r" "≥ 75 % of the ceiling" \
      "$(verdict ge "${r% %}" 75)"
  fi
  row "2 lifecycle c=$c" "server CPU per job, µs" "$(num "$(get smalll.c$c.cpu_us)")" "$(num "$(get cupssmall.c$c.cpu_us)") (cupsd)" \
    "$(ratio "$(get smalll.c$c.cpu_us)" "$(get cupssmall.c$c.cpu_us)")" "" ""
  row "2 lifecycle c=$c" "create p50 / p99, ms" "$(num "$(get smalll.c$c.create_p50_ms)") / $(num "$(get smalll.c$c.create_p99_ms)")" "" "" "" ""
  row "2 lifecycle c=$c" "store: commits per job, closures per commit, WAL pages per job, KiB written per job" \
    "$(get smalll.c$c.commits_per_iter), $(get smalll.c$c.closures_per_commit), $(get smalll.c$c.pages_per_iter), $(get smalll.c$c.written_kb_per_iter)" "" "" "" ""
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
row "3 pull open loop" "abort p50 / p99 latency from the due time, ms, at $(num "$(get pullopen.spoold.rate)") jobs/s (half the capacity above)" \
  "$(num "$(get pullopen.spoold.abort_p50_ms)") / $(num "$(get pullopen.spoold.abort_p99_ms)")" "" "" "p99 < 5 ms" \
  "$(verdict lt "$(get pullopen.spoold.abort_p99_ms)" 5)"
row "3 pull open loop" "job p50 / p99 from its due time, ms; jobs sent late; jobs/s done" \
  "$(num "$(get pullopen.spoold.iter_p50_ms)") / $(num "$(get pullopen.spoold.iter_p99_ms)"); $(get pullopen.spoold.late); $(num "$(get pullopen.spoold.iters_per_s)")" "" "" "" ""

# 4. scaling
for c in $READ_CONNS; do
  r=$(ratio "$(get bigr.c$c.rps)" "$(get smallr.c$c.rps)")
  row "4 read c=$c, random job" "requests/s at $big_label vs $small_label jobs" "$(med bigr.c$c.rps)" \
    "$(med smallr.c$c.rps) (spoold, $small_label)" "$r" "≥ 0.95x" "$(verdict ge "$r" 0.95)"
  row "4 read c=$c, random job" "p99 latency at $big_label vs $small_label, ms" "$(num "$(get bigr.c$c.p99)")" \
    "$(num "$(get smallr.c$c.p99)") (spoold, $small_label)" "$(ratio "$(get bigr.c$c.p99)" "$(get smallr.c$c.p99)")" "" ""
done
for c in 1 16; do
  r=$(ratio "$(get bigl.c$c.iters_per_s)" "$(get smalll.c$c.iters_per_s)")
  row "4 lifecycle c=$c" "jobs/s at $big_label vs $small_label jobs" "$(med bigl.c$c.iters_per_s)" \
    "$(med smalll.c$c.iters_per_s) (spoold, $small_label)" "$r" "≥ 0.95x" "$(verdict ge "$r" 0.95)"
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

# ---- context ------------------------------------------------------------------------------------
errors=""
for k in small.c64 small.c256 nginx.c64 nginx.c256 smallr.c64 smallr.c256 bigr.c64 bigr.c256; do
  e=$(get "$k.errors")
  if [ -n "$e" ]; then errors="$errors- wrk $k: $e"$'\n'; fi
done
for k in smalll.c1 smalll.c16 bigl.c1 bigl.c16 pull.spoold pullopen.spoold up.spoold; do
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
  echo "- rounds: figure 1 $ROUNDS, alternating nginx and spoold; figures 2 and 4 $ROUNDS_SP, alternating a fresh copy of the small store and the big store; the table gives medians with each round in parentheses; cupsd runs once per figure"
  echo "- store: $(get small.jobs) jobs at the start of the small runs, $(get big.jobs) at the start of the big ones; cupsd history: $CUPS_SMALL and $CUPS_BIG jobs at the start of its runs (each run adds its own jobs)"
  echo
  cat "$TABLE"
  echo
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

if [ "$MODE" = full ]; then
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

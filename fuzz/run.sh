#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs the libFuzzer harnesses built by `make fuzz-build` (build-fuzz/fuzz/<target>):
#   fuzz/run.sh [TARGET...]        (default: every fuzz/*.c)
# For each target, two results:
#   corpus  every file of fuzz/corpus/<target>/ run once (the regression inputs), and
#   fuzz    libFuzzer for FUZZ_SECONDS (default 300) from that corpus; new inputs go to
#           build-fuzz/corpus/<target>/ (never into the tree), a crash to
#           build-fuzz/crashes/<target>-crash-<sha1> with the sanitizer report in
#           build-fuzz/logs/<target>.log.
# A harness that is missing, cannot run, crashes, leaks, times out or reports a sanitizer
# error fails. The last line is "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-300}
OUT=build-fuzz
mkdir -p "$OUT/corpus" "$OUT/crashes" "$OUT/logs"
if [ $# -eq 0 ]; then
  set -- $(for f in fuzz/*.c; do basename "$f" .c; done)
fi
pass=0
fail=0
result() { # result OK|FAIL TARGET WHAT DETAIL
  if [ "$1" = OK ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
  printf 'fuzz %-12s %-7s %s %s\n' "$2" "$3" "$1" "$4"
}
# libFuzzer's own exit codes cover crashes, leaks, timeouts and out-of-memory; a sanitizer
# report that did not stop the run is caught in the log too.
sanitizer_report() { grep -aqE '^==[0-9]+==ERROR: |runtime error:|^SUMMARY: ' "$1"; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for t in "$@"; do
  bin=$OUT/fuzz/$t
  log=$OUT/logs/$t.log
  if [ ! -x "$bin" ]; then
    result FAIL "$t" corpus "(not built: make fuzz-build)"
    result FAIL "$t" fuzz "(not built)"
    continue
  fi
  seeds=fuzz/corpus/$t
  files=()
  [ -d "$seeds" ] && mapfile -t files < <(find "$seeds" -type f | sort)
  if [ ${#files[@]} -eq 0 ]; then
    result FAIL "$t" corpus "(no corpus in $seeds)"
  elif "$bin" -timeout=10 -rss_limit_mb=2048 "${files[@]}" >"$log" 2>&1 && ! sanitizer_report "$log"; then
    result OK "$t" corpus "(${#files[@]} inputs)"
  else
    result FAIL "$t" corpus "(see $log)"
    tail -n 40 "$log"
    result FAIL "$t" fuzz "(not run: the corpus fails)"
    continue
  fi
  work=$OUT/corpus/$t
  mkdir -p "$work"
  dict=()
  [ -f "fuzz/dict/$t.dict" ] && dict=(-dict="fuzz/dict/$t.dict")
  if "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
       -print_final_stats=1 -artifact_prefix="$OUT/crashes/$t-" "${dict[@]}" \
       "$work" "$seeds" >"$log" 2>&1 && ! sanitizer_report "$log"; then
    execs=$(grep -aE '^stat::number_of_executed_units:' "$log" | awk '{print $2}')
    result OK "$t" fuzz "(${execs:-?} executions in ${SECONDS_EACH}s)"
  else
    result FAIL "$t" fuzz "(see $log; crash input in $OUT/crashes/)"
    grep -aE -A30 '^==[0-9]+==ERROR|runtime error:|check failed|deadly signal|timeout|out-of-memory' "$log" | head -n 60
  fi
done
echo "${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ]

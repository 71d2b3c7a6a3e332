#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs every test suite and ends with one line "N passed, N failed" summing them all.
#   1. C unit tests (Criterion), plain build
#   2. the same unit tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   3. API tests: node --test with the real Microsoft Graph JS clients against a live spoold
#   4. browser tests: the console in headless chromium (puppeteer-core)
#   5. IPP tests: ipptool files against a live spoold (when present)
#   6. the include layering of src/ (scripts/layering.sh, with its self-test), the file map of
#      docs/development.md (tests/docs/file-map.py) and the header comments of every exported
#      function (tests/docs/header-comments.py, with its self-test)
#   7. cppcheck --enable=warning over src/ (no finding allowed)
#   8. the crash test: SIGKILL under concurrent load, every acknowledged write checked
#   9. fuzzing harnesses (fuzz/run.sh): each corpus replayed, then FUZZ_SMOKE_SECONDS of fuzzing
#  10. packaging tests: make install/uninstall, man pages, systemd unit, Debian package
#  11. IPP share tests: the share endpoint with print passwords, CUPS' stock suites, cupsd
# The store unit tests and the whole API suite run a second time against a throwaway
# PostgreSQL 15 (tests/lib/pg.sh), each counted as a suite of its own.
# A suite that cannot run counts as one failure, never as a pass.
set -u
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
total_pass=0
total_fail=0
status=0

note() { printf '\n==== %s\n' "$*"; }
add() { # add PASS FAIL SUITE
  total_pass=$((total_pass + $1)); total_fail=$((total_fail + $2))
  printf '==== %s: %d passed, %d failed\n' "$3" "$1" "$2"
  [ "$2" -eq 0 ] || status=1
}

# Criterion prints "[====] Synthesis: Tested: N | Passing: P | Failing: F | Crashing: C".
run_criterion() { # run_criterion BINARY SUITE
  run_criterion_cmd "$2" "$1"
}
run_criterion_cmd() { # run_criterion_cmd SUITE COMMAND... (a Criterion binary, maybe wrapped)
  local suite=$1; shift
  local log; log=$(mktemp)
  "$@" -j"$JOBS" --short-filename 2>&1 | tee "$log"
  local line; line=$(grep -a 'Synthesis:' "$log" | tail -n 1)
  # Criterion does not fail a test for a sanitizer report printed by its child process.
  local san; san=$(grep -acE 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:' "$log")
  rm -f "$log"
  if [ -z "$line" ]; then add 0 1 "$suite (did not run)"; return; fi
  local p f   # "Failing" already counts the crashed tests
  p=$(sed -E 's/.*Passing: ([0-9]+).*/\1/' <<<"$line")
  f=$(sed -E 's/.*Failing: ([0-9]+).*/\1/' <<<"$line")
  add "$p" "$((f + san))" "$suite"
}

note "build"
if ! make -j"$JOBS" --no-print-directory all build/unit-tests; then
  echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi

note "unit tests"
run_criterion build/unit-tests "unit"

# The unit tests that open a store (tests/unit/store-fixture.h picks PostgreSQL from SPOOLD_TEST_PG).
note "store unit tests on PostgreSQL (throwaway PostgreSQL 15, a schema per test)"
run_criterion_cmd "unit on PostgreSQL" tests/lib/pg.sh run -- build/unit-tests \
  --filter '@(store_*|*_store)/*'

note "unit tests under ASan/UBSan"
if make -j"$JOBS" --no-print-directory asan >/dev/null; then
  ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_criterion build-asan/unit-tests "unit (ASan/UBSan)"
else
  add 0 1 "unit (ASan/UBSan) build"
fi

note "fuzzing harnesses (libFuzzer + ASan/UBSan): corpus replay and a short run of each"
# One result per harness and step (corpus, fuzz); a harness that does not build or run fails.
if make -j"$JOBS" --no-print-directory fuzz-build >/dev/null; then
  out=$(FUZZ_SECONDS="${FUZZ_SMOKE_SECONDS:-12}" fuzz/run.sh 2>&1); echo "$out"
  line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -n1)
  if [ -z "$line" ]; then add 0 1 "fuzz (did not run)"
  else add "$(awk '{print $1}' <<<"$line")" "$(awk '{print $3}' <<<"$line")" "fuzz"; fi
else
  add 0 1 "fuzz (harnesses did not build)"
fi

# node --test suites: npm ci when the lock file is newer than node_modules, then every
# *.test.mjs of DIR with a TAP log to count passes, failures and cancellations.
run_node_suite() { # run_node_suite DIR SUITE [WRAPPER...] (e.g. tests/lib/pg.sh run -- env X=Y)
  local wrap=("${@:3}")
  if ! (cd "$1" && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] ||
                      npm ci --no-audit --no-fund --loglevel=error; }); then
    add 0 1 "$2 (npm ci failed)"; return
  fi
  local log; log=$(mktemp)
  (cd "$1" && "${wrap[@]}" env SPOOLD_BIN="$PWD/../../build/spoold" node --test --test-concurrency=2 \
     --test-reporter=spec --test-reporter-destination=stdout \
     --test-reporter=tap --test-reporter-destination="$log" ./*.test.mjs)
  local p f c
  p=$(grep -aE '^# pass [0-9]+' "$log" | tail -n1 | awk '{print $3}')
  f=$(grep -aE '^# fail [0-9]+' "$log" | tail -n1 | awk '{print $3}')
  c=$(grep -aE '^# cancelled [0-9]+' "$log" | tail -n1 | awk '{print $3}')
  rm -f "$log"
  if [ -z "$p" ]; then add 0 1 "$2 (did not run)"; else add "$p" "$((f + ${c:-0}))" "$2"; fi
}

note "API tests (real Microsoft Graph JS clients)"
run_node_suite tests/api "api"
note "API tests on PostgreSQL (every server on its own schema of a throwaway PostgreSQL 15)"
run_node_suite tests/api "api on PostgreSQL" ../lib/pg.sh run -- env SPOOLD_TEST_STORE=postgres

# The browser tests import the API tests' helpers (and their Graph clients) from tests/api.
note "browser tests (the console in Debian's chromium through puppeteer-core)"
run_node_suite tests/browser "browser"

# tests/crash imports the API tests' helpers and clients from tests/api (their node_modules).
note "crash test (SIGKILL under concurrent load, then every acknowledged write checked)"
log=$(mktemp)
(cd tests/api && SPOOLD_BIN="$PWD/../../build/spoold" timeout 120 node --test \
   --test-reporter=spec --test-reporter-destination=stdout \
   --test-reporter=tap --test-reporter-destination="$log" ../crash/crash.test.mjs)
p=$(grep -aE '^# pass [0-9]+' "$log" | tail -n1 | awk '{print $3}')
f=$(grep -aE '^# fail [0-9]+' "$log" | tail -n1 | awk '{print $3}')
c=$(grep -aE '^# cancelled [0-9]+' "$log" | tail -n1 | awk '{print $3}')
rm -f "$log"
if [ -z "$p" ]; then add 0 1 "crash (did not run)"; else add "$p" "$((f + ${c:-0}))" "crash"; fi

note "docs (the runnable blocks of README.md and docs/, in order, against a fresh server)"
out=$(node tests/docs/run-docs.mjs 2>&1); echo "$out"
line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -n1)
if [ -z "$line" ]; then add 0 1 "docs (did not run)"
else add "$(awk '{print $1}' <<<"$line")" "$(awk '{print $3}' <<<"$line")" "docs"; fi

if [ -x tests/ipp/run.sh ]; then
  note "IPP tests (ipptool)"
  out=$(tests/ipp/run.sh build/spoold 2>&1); echo "$out"
  line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -n1)
  if [ -z "$line" ]; then add 0 1 "ipp (did not run)"
  else add "$(awk '{print $1}' <<<"$line")" "$(awk '{print $3}' <<<"$line")" "ipp"; fi
fi

if [ -x tests/ipp/share-run.sh ]; then
  note "IPP share tests (print passwords, ipptool, CUPS' stock suites, cupsd)"
  out=$(tests/ipp/share-run.sh build/spoold 2>&1); echo "$out"
  line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -n1)
  if [ -z "$line" ]; then add 0 1 "ipp share (did not run)"
  else add "$(awk '{print $1}' <<<"$line")" "$(awk '{print $3}' <<<"$line")" "ipp share"; fi
fi

# The same share suite against the ASan/UBSan build (built above for the unit tests): any
# sanitizer report in spoold's stderr fails it (halt_on_error also makes spoold exit non-zero).
if [ -x tests/ipp/share-run.sh ] && [ -x build-asan/spoold ]; then
  note "IPP share tests against spoold built with ASan/UBSan"
  out=$(ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        tests/ipp/share-run.sh build-asan/spoold 2>&1); echo "$out"
  line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -n1)
  if [ -z "$line" ]; then add 0 1 "ipp share (ASan/UBSan) (did not run)"
  else add "$(awk '{print $1}' <<<"$line")" "$(awk '{print $3}' <<<"$line")" "ipp share (ASan/UBSan)"; fi
fi

if [ -x tests/ipp/dnssd-run.sh ]; then
  note "DNS-SD (spoold --dnssd with a private avahi-daemon in a loopback-only network namespace)"
  out=$(tests/ipp/dnssd-run.sh build/spoold 2>&1); echo "$out"
  line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -n1)
  if [ -z "$line" ]; then add 0 1 "dnssd (did not run)"
  else add "$(awk '{print $1}' <<<"$line")" "$(awk '{print $3}' <<<"$line")" "dnssd"; fi
fi

note "file map (docs/development.md names every source file and script: tests/docs/file-map.py)"
if python3 tests/docs/file-map.py; then add 1 0 "file map"; else add 0 1 "file map"; fi

note "header comments (every function a header under src/ declares has its comment: tests/docs/header-comments.py)"
if python3 tests/docs/header-comments.py --self-test; then add 1 0 "header comments"
else add 0 1 "header comments"; fi

note "include layering (scripts/layering.sh)"
if scripts/layering.sh --self-test; then add 1 0 "layering"; else add 0 1 "layering"; fi

note "cppcheck --enable=warning src"
if ! command -v cppcheck >/dev/null; then
  add 0 1 "cppcheck (not installed)"
elif cppcheck --enable=warning --quiet --error-exitcode=1 --library=scripts/cppcheck-jansson.cfg \
     -j"$JOBS" src; then
  add 1 0 "cppcheck"
else
  add 0 1 "cppcheck (findings above)"
fi

note "packaging tests (make install/uninstall, man pages, systemd unit, Debian package)"
out=$(tests/packaging/run.sh build/spoold 2>&1); echo "$out"
line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -n1)
if [ -z "$line" ]; then add 0 1 "packaging (did not run)"
else add "$(awk '{print $1}' <<<"$line")" "$(awk '{print $3}' <<<"$line")" "packaging"; fi

note "benchmark smoke run (bench/run.sh smoke: every figure, small sizes)"
out=$(SPOOLD_BIN="$PWD/build/spoold" bench/run.sh smoke 2>&1); echo "$out"
if grep -qE '^bench-smoke: ok, table of [0-9]+ rows$' <<<"$out"; then add 1 0 "bench-smoke"
else add 0 1 "bench-smoke (did not complete)"; fi

echo
echo "${total_pass} passed, ${total_fail} failed"
exit $status

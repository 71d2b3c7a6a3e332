#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The verdicts of a shell test script: one line a check, counted in PASS and FAIL for the
# script's last line ("N passed, N failed").
#
#   source tests/lib/verdicts.sh      (sets PASS=0 and FAIL=0)
#   ok NAME
#       a check that passed: "    NAME ... [PASS]", and PASS grows by one.
#   ko NAME [DETAIL]
#       a check that failed: "    NAME ... [FAIL]" and DETAIL indented on the next line, and
#       FAIL grows by one. Returns 0, with DETAIL or without.

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); printf '    %-76s [PASS]\n' "$1"; }
ko() { FAIL=$((FAIL + 1)); printf '    %-76s [FAIL]\n' "$1"; [ -n "${2:-}" ] && printf '        %s\n' "$2"; return 0; }

#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Checks that the man pages and the default configuration cover the command line:
#   man-check.sh SPOOLD_BINARY SPOOLD_8 SPOOLD_CONF_5 SPOOLD_CONF
# Every command listed by `spoold --help`, and every --option printed by `spoold --help` and
# `spoold COMMAND --help` for each of those commands, must appear in spoold(8); every option of
# `spoold serve --help` (but --config and --help) must be a key in spoold.conf(5) and in the
# commented default configuration. Prints one line per missing item and exits 1 when there is
# any, 0 otherwise.
set -u
BIN=$1 MAN8=$2 MAN5=$3 CONF=$4
missing=0
miss() { echo "missing: $*"; missing=$((missing + 1)); }

top=$("$BIN" --help) || { echo "spoold --help failed"; exit 1; }
# the "Commands:" block: lines "  NAME   description"
cmds=$(awk '/^Commands:/{on=1; next} on && /^  [a-z]+ /{print $1; next} on && !/^  /{on=0}' <<<"$top")
[ -n "$cmds" ] || { echo "no commands found in spoold --help"; exit 1; }
help_all="$top"
for c in $cmds; do
  # the command must be described in spoold(8) (as a .B/.TP entry or in the synopsis)
  grep -qE "^\.B(R)? $c( |$)|^\.B spoold $c( |$)" "$MAN8" || miss "command '$c' in $(basename "$MAN8")"
  case "$c" in help|version) continue ;; esac
  out=$("$BIN" "$c" --help 2>&1) || true
  help_all+=$'\n'"$out"
done

man_escape() { sed 's/-/\\\\-/g' <<<"$1"; }   # max-body -> max\\-body (a regex for max\-body)
opts=$(grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' <<<"$help_all" | sort -u)
for o in $opts; do
  name=${o#--}
  re="\\\\-\\\\-$(man_escape "$name")"
  grep -qP -- "${re}(?![a-z0-9]|\\\\-[a-z0-9])" "$MAN8" || miss "option --$name in $(basename "$MAN8")"
done

serve=$("$BIN" serve --help)
keys=$(grep -oE '^  --[a-z][a-z0-9-]*' <<<"$serve" | sed 's/^  --//' | grep -vxE 'config|help')
[ -n "$keys" ] || { echo "no options found in spoold serve --help"; exit 1; }
for k in $keys; do
  grep -qE "^\.BI? $(man_escape "$k" | sed 's/\\\\\\\\/\\\\/g')( |$)" "$MAN5" ||
    grep -qF ".BI $(sed 's/-/\\-/g' <<<"$k") " "$MAN5" || miss "key $k in $(basename "$MAN5")"
  grep -qE "^#? ?$k = " "$CONF" || miss "key $k in $(basename "$CONF")"
done
exit $((missing > 0))

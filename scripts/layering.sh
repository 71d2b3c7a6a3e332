#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The include layering of src/ (docs/development.md, "Layering"). Every `#include "..."` of a
# .c or .h file under SRC (default src) must go to its own directory or to a directory of a
# LOWER layer; two directories of the same layer never include each other (graph and ipp are
# the two faces, auth and mapping sit beside each other). A directory that is not in the table
# fails the check until it is given a layer here and in docs/development.md. On top of the
# layer rule the directory graph is checked for cycles with tsort(1).
#
#   scripts/layering.sh [SRC]     prints every offending include, then "layering: N
#                                 includes checked, M wrong"; exit status 1 when M > 0 or a
#                                 cycle exists.
#   scripts/layering.sh --self-test   also proves that the check fails: copies src/ to a
#                                 temporary directory, adds a backwards include (store ->
#                                 graph) and expects the check to fail there.
set -u
cd "$(dirname "$0")/.."

# Layer of each directory; higher may include lower. "top" is src/*.c (main.c and the serve
# plumbing: config.c, health.c, sweeper.c), "app" the headers directly in src/ (app.h is the
# context every handler gets, config.h, health.h, sweeper.h).
# blob sits above store: its database backend (blob-db.c) stores chunks through store/chunks.h.
LAYERS='
top 100
cmd 95
proxy 95
dev 90
console 85
graph 80
ipp 80
app 75
notify 70
auth 60
mapping 60
http 50
store 40
blob 45
core 30
util 10
'

check() { # check SRC -> prints offences and a summary line; returns 1 on any
  local src=$1 edges rc
  edges=$(mktemp)
  # The files of src (relative paths) first, then one line per quoted include: FILE:INCLUDED
  { find "$src" -type f \( -name '*.c' -o -name '*.h' \) | sort | sed 's/^/F\t/'
    find "$src" -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z |
      xargs -0 grep -HE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' |
      sed -E 's/^([^:]+):[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"]+)".*/I\t\1\t\2/'
  } | awk -F'\t' -v src="$src" -v layers="$LAYERS" -v edges="$edges" '
    BEGIN { n = split(layers, l, "\n"); for (i = 1; i <= n; i++) if (split(l[i], kv, " ") == 2) rank[kv[1]] = kv[2] }
    function dir(rel) { if (index(rel, "/")) return substr(rel, 1, index(rel, "/") - 1); return rel ~ /\.h$/ ? "app" : "top" }
    $1 == "F" { have[$2] = 1; rel = substr($2, length(src) + 2); from = dir(rel)
      if (!(from in rank) && !(from in told)) { print $2 ": directory \x27" from "\x27 has no layer (add it to scripts/layering.sh and docs/development.md)"; told[from] = 1; wrong++ }
      next }
    {
      file = $2; inc = $3; rel = substr(file, length(src) + 2); from = dir(rel)
      if (!(from in rank)) next
      checked++
      beside = file; sub(/[^\/]*$/, "", beside)
      if (index(inc, "/")) to = substr(inc, 1, index(inc, "/") - 1)
      else if ((beside inc) in have) to = from
      else if ((src "/" inc) in have) to = (inc ~ /\.h$/ ? "app" : "top")
      else next                                   # not ours
      if (to == from) next
      if (!(to in rank)) { print file ": includes \"" inc "\": directory \x27" to "\x27 has no layer"; wrong++; next }
      print from, to >> edges
      if (rank[to] == rank[from]) { print file ": includes \"" inc "\": \x27" from "\x27 and \x27" to "\x27 are the same layer and never include each other"; wrong++ }
      else if (rank[to] > rank[from]) { print file ": includes \"" inc "\": \x27" to "\x27 is a higher layer than \x27" from "\x27"; wrong++ }
    }
    END { printf "%d %d\n", checked + 0, wrong + 0 > "/dev/stderr" }' 2>"$edges.sum"
  local checked wrong cycle=0
  read -r checked wrong <"$edges.sum"
  if ! sort -u "$edges" | tsort >/dev/null 2>"$edges.err"; then
    echo "directory cycle:"; sed 's/^/  /' "$edges.err"; cycle=1
  fi
  rm -f "$edges" "$edges.err" "$edges.sum"
  echo "layering: $checked includes checked, $wrong wrong$([ $cycle = 1 ] && echo ', and a directory cycle')"
  [ "$wrong" -eq 0 ] && [ "$cycle" -eq 0 ]
}

if [ "${1:-}" = "--self-test" ]; then
  check src || exit 1
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  cp -r src "$tmp/src"
  printf '#include "graph/reply.h"\n' >>"$tmp/src/store/store.c"
  echo "self-test: a copy of src/ where store/store.c includes graph/reply.h must fail:"
  if out=$(check "$tmp/src"); then
    echo "$out"; echo "self-test FAILED: the wrong include was not reported"; exit 1
  fi
  sed 's/^/  /' <<<"$out" | grep -v "^  layering:" ; echo "self-test: reported, as it must be"
  exit 0
fi
check "${1:-src}"

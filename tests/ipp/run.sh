#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# IPP INFRA tests: ipptool files that play a print proxy (output device) against a live spoold.
#
#   tests/ipp/run.sh [SPOOLD_BINARY]        (default: build/spoold)
#
# Starts `spoold serve --dev` on 127.0.0.1:0 with a temporary data directory, sets printers
# and jobs up through the real Graph API (curl with tokens from `spoold token`), issues the
# printers' device tokens (`spoold token --device`), runs the *.test files with
#   ipptool -t -V 2.0 ipp://PRINTER_ID:TOKEN@127.0.0.1:PORT/ipp/print/PRINTER_ID FILE
# (each ipptool test's PASS/FAIL counts once), checks the Graph side of each step and the
# document bytes (node), and stops spoold by its PID (tests/lib/spoold.sh). The last line is "N passed, N failed".
#
#   infra-proxy-auth.test     as ippproxy: Basic root:<device token>
#   infra-register.test       Update-/Get-Output-Device-Attributes, Get-Printer-Attributes
#   infra-print-fetch.test    subscribe, wait for a released job, Fetch-Job, Acknowledge-Job,
#                             Fetch-Document, Acknowledge-Document
#   infra-print-complete.test Update-Job-Status processing -> completed, events, refusals
#   infra-cancel.test         Graph cancel after the device fetched the job: event,
#                             Update-Active-Jobs, refusals; a second device is refused
#   infra-held.test           a job held by a print task is not fetchable until the task
#                             completes; an aborted held job reaches the device
#   infra-errors.test         malformed and refused requests
#   ipp-1.1-infra.test        the RFC 8011 checks of CUPS' ipp-1.1.test that apply
#   wire-checks.mjs           HTTP authentication and non-IPP bodies
#
# Env: SPOOLD_KEEP_DATA=1 keeps the temporary directory (its path is printed).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/tests/lib/spoold.sh"
. "$ROOT/tests/lib/verdicts.sh"
BIN=${1:-$ROOT/build/spoold}
case "$BIN" in /*) ;; *) BIN="$PWD/$BIN" ;; esac

SPID=
WORK=
BGPIDS=()

cleanup() {
  for p in "${BGPIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  BGPIDS=()
  if [ -n "$SPID" ]; then
    pid_stop "$SPID" || ko "spoold stops on SIGTERM" "still running after 10 s; killed"
    SPID=
  fi
  if [ -n "$WORK" ]; then
    if [ "${SPOOLD_KEEP_DATA:-}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
    WORK=
  fi
}
finish() { cleanup; echo; echo "$PASS passed, $FAIL failed"; exit $([ "$FAIL" -eq 0 ] && echo 0 || echo 1); }
trap 'ko "interrupted"; finish' INT TERM
trap cleanup EXIT   # also when the output pipe goes away: never leave spoold running

for tool in ipptool node curl openssl; do
  command -v "$tool" >/dev/null || { ko "required tool $tool is installed"; finish; }
done
[ -x "$BIN" ] || { ko "spoold binary $BIN exists"; finish; }

WORK=$(mktemp -d /tmp/spoold-ipp.XXXXXX)
DATA="$WORK/data"
spoold_start "$WORK/server" "$BIN" serve --listen 127.0.0.1:0 --data "$DATA" --dev \
  --public-url auto --max-jobs-per-printer-window 0 --max-jobs-per-user-window 0
SPID=$SPOOLD_PID
if [ -z "$SPOOLD_URL" ]; then
  ko "spoold starts" "$(tail -n 20 "$WORK/server.err")"
  finish
fi
PORT=$SPOOLD_PORT
BASE=$SPOOLD_URL
echo "spoold pid $SPID listening on $BASE"

# ---- Graph helpers --------------------------------------------------------------------------

RESP="$WORK/resp"
# api METHOD PATH TOKEN [JSON]: prints the HTTP status; the body lands in $RESP.
api() {
  local args=(-s -o "$RESP" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3")
  [ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data "$4")
  curl "${args[@]}" "$BASE$2"
}
# jget EXPR: evaluates a JavaScript expression over the last body (o) and prints it.
jget() { node -e 'const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); const v = (0, eval)("(o) => " + process.argv[2])(o); console.log(typeof v === "object" ? JSON.stringify(v) : v)' "$RESP" "$1"; }
# jcheck NAME EXPR: one check that the last body satisfies EXPR.
jcheck() {
  if [ "$(jget "$2" 2>&1)" = true ]; then ok "$1"; else ko "$1" "$(head -c 600 "$RESP")"; fi
}
token() { "$BIN" token --data "$DATA" "$@"; }

TENANT=7d1b3f52-5c8e-4a8f-9a51-1f0e2b3c4d5e
APP=5b4ad7a1-0c2d-4e1f-8a9b-0c1d2e3f4a5b
USER_UPN=alice@contoso.test
ADMIN=$(token --tenant "$TENANT" --app "$APP" --user 0f1e2d3c-4b5a-4968-8776-655443322110 \
  --upn admin@contoso.test --admin \
  --scopes "Printer.Create Printer.ReadWrite.All Printer.FullControl.All PrintJob.ReadWrite.All")
USER=$(token --tenant "$TENANT" --app "$APP" --user 1a2b3c4d-5e6f-4071-8293-a4b5c6d7e8f9 \
  --upn "$USER_UPN" --name Alice --scopes "PrintJob.ReadWrite Printer.Read.All")
APPTOK=$(token --tenant "$TENANT" --app "$APP" \
  --roles "PrintTaskDefinition.ReadWrite.All PrintJob.Manage.All PrintJob.ReadWrite.All Printer.Read.All")

openssl req -new -newkey rsa:2048 -nodes -subj /CN=device -keyout "$WORK/key.pem" \
  -outform DER -out "$WORK/csr.der" 2>/dev/null
CSR=$(base64 -w0 "$WORK/csr.der")

# register_printer NAME: registers a printer (POST /print/printers/create) and prints its id.
register_printer() {
  curl -s -D "$WORK/hdr" -o "$RESP" -X POST -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: application/json' "$BASE/v1.0/print/printers/create" \
    --data "{\"displayName\":\"$1\",\"manufacturer\":\"Contoso\",\"model\":\"Infra 1\",\"hasPhysicalDevice\":false,\"certificateSigningRequest\":{\"content\":\"$CSR\",\"transportKey\":\"k\"}}"
  local op; op=$(tr -d '\r' <"$WORK/hdr" | sed -n 's/^[Oo]peration-[Ll]ocation: //p')
  [ -n "$op" ] || return 1
  curl -s -o "$RESP" -H "Authorization: Bearer $ADMIN" "$op"
  jget 'o.printer.id'
}

printf '%%PDF-1.4\n1 0 obj<<>>endobj\n%% spoold IPP INFRA test document\ntrailer<<>>\n%%%%EOF\n' >"$WORK/doc.pdf"
DOCSIZE=$(stat -c %s "$WORK/doc.pdf")

# make_job PRINTER CONFIGURATION_JSON: a job of USER with its document uploaded, not started;
# prints the job id.
make_job() {
  [ "$(api POST "/v1.0/print/printers/$1/jobs" "$USER" "{\"configuration\":$2}")" = 201 ] || return 1
  local job doc url
  job=$(jget 'o.id'); doc=$(jget 'o.documents[0].id')
  [ "$(api POST "/v1.0/print/printers/$1/jobs/$job/documents/$doc/createUploadSession" "$USER" \
    "{\"properties\":{\"documentName\":\"report.pdf\",\"contentType\":\"application/pdf\",\"size\":$DOCSIZE}}")" = 200 ] || return 1
  url=$(jget 'o.uploadUrl')
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary @"$WORK/doc.pdf" \
    -H "Content-Range: bytes 0-$((DOCSIZE - 1))/$DOCSIZE" "$url")" = 201 ] || return 1
  echo "$job"
}
start_job() { api POST "/v1.0/print/printers/$1/jobs/$2/start" "$USER"; }

# run_ipp FILE PRINTER TOKEN [-d NAME=VALUE ...]: runs one ipptool file; every test counts.
# The Basic user name is the printer id, or $IPP_USER when set (ippproxy sends root).
run_ipp() {
  local file=$1 printer=$2 tok=$3; shift 3
  local user=${IPP_USER:-$printer}
  echo
  echo "  $file"
  local out
  out=$(cd "$HERE" && ipptool -t -T 60 -V 2.0 -d "PRINTER=$printer" "$@" \
    "ipp://$user:$tok@127.0.0.1:$PORT/ipp/print/$printer" "$file" 2>&1)
  echo "$out" | sed -e '1d' -e 's/^/  /'
  local p f
  p=$(grep -c '\[PASS\]' <<<"$out")
  f=$(grep -c '\[FAIL\]' <<<"$out")
  PASS=$((PASS + p))
  FAIL=$((FAIL + f))
  [ $((p + f)) -gt 0 ] || ko "$file ran" "$(head -n 5 <<<"$out")"
}

waitbg() { for p in "${BGPIDS[@]}"; do wait "$p" 2>/dev/null; done; BGPIDS=(); check_parked; }

# parked N: true once spoold holds at least N requests parked (its spoold_http_parked_requests
# gauge), such as an ipptool Get-Notifications with notify-wait waiting for an event.
parked() {
  local n
  n=$(curl -s "$BASE/metrics" | sed -n 's/^spoold_http_parked_requests \([0-9]*\)$/\1/p')
  [ "${n:-0}" -ge "$1" ]
}
# when_parked WHAT COMMAND...: runs COMMAND in the background (its own $RESP) once the ipptool
# file running meanwhile waits in Get-Notifications, parked in spoold: everything the file does
# before it (its subscription, the checks that nothing is released yet, a status update) is
# done by then. A fixed delay did not always cover that on a loaded machine. The wait is a
# liveness bound (60 s): past it COMMAND runs anyway and waitbg counts a failure.
when_parked() {
  local what=$1; shift
  (
    RESP="$WORK/resp.bg.$BASHPID"
    end=$((SECONDS + 60))
    until parked 1; do
      if [ "$SECONDS" -ge "$end" ]; then echo "$what" >>"$WORK/not-parked"; break; fi
      sleep 0.05
    done
    "$@" >/dev/null
  ) &
  BGPIDS+=($!)
}
check_parked() {
  [ -s "$WORK/not-parked" ] || return 0
  ko "ipptool's Get-Notifications parked in spoold within 60 s" "before: $(tr '\n' ' ' <"$WORK/not-parked")"
  rm -f "$WORK/not-parked"
}

uuid() { cat /proc/sys/kernel/random/uuid; }

# ---- setup ------------------------------------------------------------------------------------

echo
echo "  setup through the Graph API"
P=$(register_printer "Infra printer") && [ -n "$P" ] && ok "printer registered ($P)" || { ko "printer registered" "$(cat "$RESP")"; finish; }
H=$(register_printer "Pull printer") && [ -n "$H" ] && ok "pull printer registered ($H)" || { ko "pull printer registered" "$(cat "$RESP")"; finish; }
TOKP=$("$BIN" token --device "$P" --data "$DATA") && [ ${#TOKP} -eq 64 ] && ok "spoold token --device issues a device token" || { ko "spoold token --device" "$TOKP"; finish; }
TOKH=$("$BIN" token --device "$H" --data "$DATA") || { ko "spoold token --device (pull printer)"; finish; }
DEVICE="urn:uuid:$(uuid)"
DEVICE2="urn:uuid:$(uuid)"
DEVICEH="urn:uuid:$(uuid)"
[ "$(api GET "/v1.0/print/printers/$P" "$ADMIN")" = 200 ] && jcheck "lastSeenDateTime is null before the device talks" 'o.lastSeenDateTime === null'

# ---- registration --------------------------------------------------------------------------------

# ippsample's ippproxy authenticates with Basic root:<device token> (issue 11, defect 8)
IPP_USER=root run_ipp infra-proxy-auth.test "$P" "$TOKP" -d "DEVICE=urn:uuid:$(uuid)"

run_ipp infra-register.test "$P" "$TOKP" -d "DEVICE=$DEVICE"
api GET "/v1.0/print/printers/$P?\$select=id,status,isAcceptingJobs,capabilities,defaults,lastSeenDateTime" "$ADMIN" >/dev/null
jcheck "Graph printer status from printer-state 4 and its reasons" \
  'o.status.state === "processing" && JSON.stringify(o.status.details) === JSON.stringify(["mediaLow","tonerLow"]) && o.status.description === "Tray 2 is low"'
jcheck "Graph capabilities from the device's *-supported attributes" \
  'JSON.stringify(o.capabilities.contentTypes) === JSON.stringify(["application/pdf","image/pwg-raster"]) && o.capabilities.duplexModes.includes("flipOnLongEdge") && JSON.stringify(o.capabilities.colorModes) === JSON.stringify(["grayscale","color","auto"]) && o.capabilities.copiesPerJob.start === 1 && o.capabilities.copiesPerJob.end === 99 && JSON.stringify(o.capabilities.mediaSizes) === JSON.stringify(["A4","North America Legal"]) && o.capabilities.dpis.includes(600) && o.capabilities.finishings.includes("stapleTopLeft") && o.capabilities.mediaTypes.includes("labels")'
jcheck "Graph defaults from the device's *-default attributes" \
  'o.defaults.duplexMode === "flipOnLongEdge" && o.defaults.colorMode === "grayscale" && o.defaults.mediaSize === "A4" && o.defaults.contentType === "application/pdf"'
jcheck "isAcceptingJobs and lastSeenDateTime" 'o.isAcceptingJobs === true && typeof o.lastSeenDateTime === "string"'

# ---- print: release, fetch, acknowledge, fetch the document, complete ---------------------------

CONFIG='{"copies":2,"duplexMode":"flipOnLongEdge","colorMode":"grayscale","mediaSize":"A4","orientation":"landscape","quality":"high","finishings":["staple"],"pageRanges":[{"start":1,"end":2}],"dpi":600,"pagesPerSheet":2}'
J1=$(make_job "$P" "$CONFIG") && ok "job $J1 created and uploaded" || { ko "job created and uploaded" "$(cat "$RESP")"; finish; }
when_parked "the release of job $J1" start_job "$P" "$J1"
run_ipp infra-print-fetch.test "$P" "$TOKP" -d "DEVICE=$DEVICE" -d "DEVICE2=$DEVICE2" -d "USER=$USER_UPN"
waitbg
if out=$(node "$HERE/fetch-document.mjs" "$BASE/ipp/print/$P" "$TOKP" "$DEVICE" "$J1" "$WORK/doc.pdf"); then ok "$out"; else ko "Fetch-Document bytes" "$out"; fi
api GET "/v1.0/print/printers/$P/jobs/$J1?\$expand=documents" "$USER" >/dev/null
jcheck "Graph job after Acknowledge-Job: isAcquiredByPrinter, acknowledgedDateTime" \
  'o.status.isAcquiredByPrinter === true && typeof o.acknowledgedDateTime === "string" && o.status.state === "processing"'
jcheck "Graph document after Fetch-Document: downloadedDateTime" 'typeof o.documents[0].downloadedDateTime === "string"'

run_ipp infra-print-complete.test "$P" "$TOKP" -d "DEVICE=$DEVICE" -d "JOB=$J1"
api GET "/v1.0/print/printers/$P/jobs/$J1" "$USER" >/dev/null
jcheck "Graph job after Update-Job-Status completed: completed / completedSuccessfully" \
  'o.status.state === "completed" && JSON.stringify(o.status.details) === JSON.stringify(["completedSuccessfully"])'

# ---- cancel through the Graph API after the device fetched the job -----------------------------

J2=$(make_job "$P" '{"copies":1}') && [ "$(start_job "$P" "$J2")" = 200 ] || ko "cancel-path job released" "$(cat "$RESP")"
J3=$(make_job "$P" '{"copies":1}') && [ "$(start_job "$P" "$J3")" = 200 ] || ko "second job released" "$(cat "$RESP")"
# Cancel J2 (as its owner) once the device has acknowledged it and reported it processing, and
# waits in Get-Notifications for the cancel (a cancel before the status update would refuse it).
when_parked "the cancel of job $J2" api POST "/v1.0/print/printers/$P/jobs/$J2/cancel" "$USER"
run_ipp infra-cancel.test "$P" "$TOKP" -d "DEVICE=$DEVICE" -d "DEVICE2=$DEVICE2" -d "JOB=$J2" -d "JOB2=$J3"
waitbg
api GET "/v1.0/print/printers/$P/jobs/$J2" "$USER" >/dev/null
jcheck "Graph job canceled through the API stays canceled" 'o.status.state === "canceled" && o.status.isAcquiredByPrinter === true'
api GET "/v1.0/print/printers/$P/jobs/$J3" "$USER" >/dev/null
jcheck "Graph job after Update-Job-Status aborted: aborted with the device's message" \
  'o.status.state === "aborted" && o.status.description === "Paper jam in the finisher"'

# ---- held by a print task --------------------------------------------------------------------

[ "$(api POST /v1.0/print/taskDefinitions "$APPTOK" '{"displayName":"Secure release"}')" = 201 ] || ko "task definition created" "$(cat "$RESP")"
DEF=$(jget 'o.id')
[ "$(api POST "/v1.0/print/printers/$H/taskTriggers" "$ADMIN" \
  "{\"event\":\"jobStarted\",\"definition@odata.bind\":\"https://graph.microsoft.com/v1.0/print/taskDefinitions/$DEF\"}")" = 201 ] \
  || ko "task trigger created" "$(cat "$RESP")"
H1=$(make_job "$H" '{"copies":1}') && [ "$(start_job "$H" "$H1")" = 200 ] && [ "$(jget 'o.state')" = paused ] \
  && ok "job $H1 held by a print task" || ko "job held by a print task" "$(cat "$RESP")"
H2=$(make_job "$H" '{"copies":1}') && [ "$(start_job "$H" "$H2")" = 200 ] || ko "second held job" "$(cat "$RESP")"
api GET "/v1.0/print/printers/$H/jobs/$H1/tasks" "$APPTOK" >/dev/null
TASK1=$(jget 'o.value[0].id')
complete_then_abort() {
  api PATCH "/v1.0/print/taskDefinitions/$DEF/tasks/$TASK1" "$APPTOK" \
    '{"status":{"state":"completed","description":"Released at the printer."}}'
  sleep 3
  api POST "/v1.0/print/printers/$H/jobs/$H2/abort" "$APPTOK" '{"reason":"The user walked away."}'
}
when_parked "the release of job $H1" complete_then_abort
run_ipp infra-held.test "$H" "$TOKH" -d "DEVICE=$DEVICEH" -d "JOB=$H1" -d "JOB2=$H2"
waitbg
api GET "/v1.0/print/printers/$H/jobs/$H1" "$APPTOK" >/dev/null
jcheck "Graph job released by the task: fetchable" 'o.status.state === "processing" && o.isFetchable === true'
api GET "/v1.0/print/printers/$H/jobs/$H2" "$APPTOK" >/dev/null
jcheck "Graph job aborted by the app" 'o.status.state === "aborted"'

# ---- errors, RFC 8011 checks, HTTP-level checks ------------------------------------------------

run_ipp infra-errors.test "$P" "$TOKP" -d "DEVICE=$DEVICE2" -d "OTHER=$H"
run_ipp ipp-1.1-infra.test "$P" "$TOKP" -d "job-id=$J1"
echo
echo "  wire-checks.mjs"
out=$(node "$HERE/wire-checks.mjs" "$BASE" "$P" "$TOKP" "$H" "$TOKH" 2>&1)
echo "$out"
PASS=$((PASS + $(grep -c '\[PASS\]' <<<"$out")))
FAIL=$((FAIL + $(grep -c '\[FAIL\]' <<<"$out")))
[ "$(grep -c '\[PASS\]\|\[FAIL\]' <<<"$out")" -gt 0 ] || ko "wire-checks.mjs ran" "$out"

# The server is still healthy after all of it, and stops cleanly.
[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz")" = 200 ] && ok "spoold still answers /healthz" || ko "spoold still answers /healthz"
if pid_stop "$SPID"; then
  [ "$PID_STATUS" -eq 0 ] && ok "spoold stops on SIGTERM with exit code 0" || ko "spoold stops on SIGTERM with exit code 0" "exit code $PID_STATUS"
else
  ko "spoold stops on SIGTERM" "still running after 10 s; killed"
fi
SPID=
if grep -qE 'Sanitizer|runtime error' "$WORK/server.err"; then
  ko "server log is free of sanitizer reports" "$(grep -E 'Sanitizer|runtime error' "$WORK/server.err" | head -3)"
fi
finish

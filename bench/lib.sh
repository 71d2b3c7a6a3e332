# SPDX-License-Identifier: Apache-2.0
# What bench/run.sh and bench/ab.sh share, sourced by both: requests to a running spoold, its
# tokens, and the bench's set-up in its store (bench_setup).
# The caller sets WORK (the work directory), SPOOLD (the binary that mints the tokens), DATA (the
# data directory whose signing key the tokens use), SP_URL (the spoold the requests go to), and
# defines die MESSAGE (says why and exits).
# shellcheck shell=bash disable=SC2034 # the variables bench_setup sets are for the caller

TENANT=5eed0000-0000-4000-8000-00000000be01
APP=5eed0000-0000-4000-8000-00000000a001

# curl against spoold: api METHOD PATH TOKEN [JSON]
api() {
  local a=(-sS -X "$1" "$SP_URL$2" -H "Authorization: Bearer $3")
  [ -z "${4:-}" ] || a+=(-H 'Content-Type: application/json' -d "$4")
  curl "${a[@]}"
}
jstr() { grep -o "\"$1\":\"[^\"]*\"" | head -n1 | sed 's/.*:"\(.*\)"/\1/'; } # first "KEY":"value"
token() { "$SPOOLD" token --data "$DATA" --tenant "$TENANT" --app "$APP" --ttl 14400 "$@" 2>/dev/null; }

register_printer() { # register_printer NAME -> printer id (POST /print/printers/create + operation)
  local csr pub loc op pid
  csr=$(base64 -w0 "$WORK/csr.der") pub=$(base64 -w0 "$WORK/pub.der")
  loc=$(curl -sS -D - -o /dev/null -X POST "$SP_URL/v1.0/print/printers/create" \
        -H "Authorization: Bearer $ADMIN_TOK" -H 'Content-Type: application/json' \
        -d "{\"displayName\":\"$1\",\"manufacturer\":\"Contoso\",\"model\":\"Bench\",\"hasPhysicalDevice\":false,\"certificateSigningRequest\":{\"content\":\"$csr\",\"transportKey\":\"$pub\"}}" |
        tr -d '\r' | awk 'tolower($1)=="operation-location:"{print $2}')
  [ -n "$loc" ] || die "printers/create gave no Operation-Location"
  op=${loc##*/}
  for _ in $(seq 100); do
    pid=$(api GET "/v1.0/print/operations/$op" "$ADMIN_TOK" | sed -n 's/.*"printer":{"id":"\([^"]*\)".*/\1/p')
    [ -z "$pid" ] || { echo "$pid"; return 0; }
    sleep 0.1
  done
  die "printer registration $op did not finish"
}

# bench_setup: the admin's token (ADMIN_TOK), the user's and the application's ($WORK/user.tok,
# $WORK/app.tok, USER_TOK, APP_TOK), a device key pair ($WORK/csr.der, $WORK/pub.der), two
# printers (P1; P2, the pull printer, whose jobStarted trigger starts the task definition DEF)
# and a share of each for all users (S1, S2)
bench_setup() {
  ADMIN_TOK=$(token --user 5eed0000-0000-4000-8000-0000000ad001 --upn admin@bench.test --admin \
    --scopes "Printer.Create Printer.Read.All Printer.ReadWrite.All Printer.FullControl.All PrinterShare.ReadWrite.All PrintJob.ReadWrite.All")
  printf '%s\n' "$(token --user 5eed0000-0000-4000-8000-00000000u5e1 --upn user@bench.test \
    --scopes "PrintJob.ReadWrite PrinterShare.ReadBasic.All Printer.Read.All")" >"$WORK/user.tok"
  printf '%s\n' "$(token --roles "PrintTaskDefinition.ReadWrite.All PrintJob.Manage.All PrintJob.ReadWrite.All Printer.Read.All")" >"$WORK/app.tok"
  USER_TOK=$(cat "$WORK/user.tok") APP_TOK=$(cat "$WORK/app.tok")
  openssl req -new -newkey rsa:2048 -nodes -subj /CN=bench -keyout "$WORK/key.pem" \
    -outform DER -out "$WORK/csr.der" 2>/dev/null
  openssl pkey -in "$WORK/key.pem" -pubout -outform DER -out "$WORK/pub.der"

  P1=$(register_printer "Bench queue")
  P2=$(register_printer "Bench pull queue")
  DEF=$(api POST /v1.0/print/taskDefinitions "$APP_TOK" '{"displayName":"Bench release"}' | jstr id)
  [ -n "$DEF" ] || die "task definition not created"
  api POST "/v1.0/print/printers/$P2/taskTriggers" "$ADMIN_TOK" \
    "{\"event\":\"jobStarted\",\"definition@odata.bind\":\"$SP_URL/v1.0/print/taskDefinitions/$DEF\"}" | jstr id >/dev/null
  S1=$(api POST /v1.0/print/shares "$ADMIN_TOK" \
    "{\"displayName\":\"Bench\",\"allowAllUsers\":true,\"printer@odata.bind\":\"$SP_URL/v1.0/print/printers/$P1\"}" | jstr id)
  S2=$(api POST /v1.0/print/shares "$ADMIN_TOK" \
    "{\"displayName\":\"Bench pull\",\"allowAllUsers\":true,\"printer@odata.bind\":\"$SP_URL/v1.0/print/printers/$P2\"}" | jstr id)
  [ -n "$S1" ] && [ -n "$S2" ] || die "shares not created"
}

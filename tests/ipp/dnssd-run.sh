#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# DNS-SD advertising of printer shares (spoold serve --dnssd; docs/ipp-printing.md), tested
# against a real avahi-daemon:
#
#   tests/ipp/dnssd-run.sh [SPOOLD_BINARY]        (default: build/spoold)
#
# The test re-runs itself in a new network and mount namespace (unshare): there the loopback
# interface is the only one, with multicast switched on for mDNS, so nothing leaves the
# namespace. It starts a private D-Bus system bus (dbus-daemon) and an avahi-daemon limited to
# lo on it (its pid directory on a private tmpfs), then `spoold serve --dnssd` on 127.0.0.1:0,
# registers a printer whose output device describes itself (share-device.test), shares it and
# checks with avahi-browse (the same daemon, so the answers are real mDNS resolutions):
#   - the share appears as _ipp._tcp and under the _print and _universal subtypes, on spoold's
#     port, with the TXT keys (rp, ty, pdl, UUID, Color, Duplex, URF, kind, PaperMax, air, ...);
#   - Get-Printer-Attributes at the resolved address, port and rp answers for the share;
#   - a rename is re-advertised under the new name, a deletion withdraws it, a second share
#     appears, and spoold's SIGTERM withdraws everything.
# Every process is stopped by PID (tests/lib/spoold.sh). The last line is "N passed, N failed".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/tests/lib/spoold.sh"
. "$ROOT/tests/lib/verdicts.sh"
BIN=${1:-$ROOT/build/spoold}
case "$BIN" in /*) ;; *) BIN="$PWD/$BIN" ;; esac

finish() { cleanup; echo; echo "$PASS passed, $FAIL failed"; exit $([ "$FAIL" -eq 0 ] && echo 0 || echo 1); }

if [ "${SPOOLD_DNSSD_INNER:-}" != 1 ]; then
  for tool in unshare ip dbus-daemon avahi-daemon avahi-browse ipptool node curl openssl; do
    command -v "$tool" >/dev/null || { ko "required tool $tool is installed (scripts/deps.sh)"; echo; echo "$PASS passed, $FAIL failed"; exit 1; }
  done
  # root makes the namespaces directly; another user maps itself to root in a user namespace
  userns=()
  [ "$(id -u)" -ne 0 ] && userns=(--map-root-user)
  SPOOLD_DNSSD_INNER=1 exec unshare "${userns[@]}" --net --mount --propagation private \
    "$0" "$BIN"
fi

SPID= DBUS_PID= AVAHI_PID= WORK=
stop_pid() { pid_stop "$1" || ko "$2 stops on SIGTERM" "killed"; } # stop_pid PID NAME
cleanup() {
  [ -n "$SPID" ] && { stop_pid "$SPID" spoold; SPID=; }
  [ -n "$AVAHI_PID" ] && { stop_pid "$AVAHI_PID" avahi-daemon; AVAHI_PID=; }
  [ -n "$DBUS_PID" ] && { kill -TERM "$DBUS_PID" 2>/dev/null; DBUS_PID=; }
  if [ -n "$WORK" ]; then
    umount /run/avahi-daemon 2>/dev/null
    if [ "${SPOOLD_KEEP_DATA:-}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
    WORK=
  fi
}
trap 'ko "interrupted"; finish' INT TERM
trap cleanup EXIT

echo "  a private network (loopback only), D-Bus system bus and avahi-daemon"
ip link set lo up && ip link set lo multicast on && ok "namespace: lo up with multicast (no other interface)" \
  || { ko "lo up with multicast in the namespace"; finish; }
[ "$(ip -o link show | grep -vc ': lo:')" = 0 ] || ko "the namespace has only lo" "$(ip -o link show)"
WORK=$(mktemp -d /tmp/spoold-dnssd.XXXXXX)
mkdir -p /run/avahi-daemon && mount -t tmpfs tmpfs /run/avahi-daemon \
  || { ko "a private /run/avahi-daemon"; finish; }
cat >"$WORK/dbus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=$WORK/bus</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/>
<allow own="*"/><allow user="*"/></policy></busconfig>
EOF
DBUS_PID=$(dbus-daemon --config-file "$WORK/dbus.conf" --fork --print-pid) \
  || { ko "dbus-daemon starts"; finish; }
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$WORK/bus"
cat >"$WORK/avahi.conf" <<EOF
[server]
host-name=spoold-dnssd-test
domain-name=local
use-ipv4=yes
use-ipv6=no
allow-interfaces=lo
enable-dbus=yes
ratelimit-interval-usec=0
[wide-area]
enable-wide-area=no
[publish]
publish-addresses=yes
publish-hinfo=no
publish-workstation=no
[reflector]
enable-reflector=no
EOF
avahi-daemon --no-drop-root --no-chroot --no-rlimits --no-proc-title -f "$WORK/avahi.conf" \
  >"$WORK/avahi.log" 2>&1 &
AVAHI_PID=$!
# Waits for an event poll every 0.1 s up to 600 times (a minute and more): liveness bounds,
# generous for a loaded machine (a bound of 5 or 10 s was the machine's speed), never reached
# when things work.
for _ in $(seq 1 600); do grep -q 'Server startup complete' "$WORK/avahi.log" && break; sleep 0.1; done
grep -q 'Server startup complete' "$WORK/avahi.log" && ok "avahi-daemon runs on lo, on the private bus" \
  || { ko "avahi-daemon starts" "$(cat "$WORK/avahi.log")"; finish; }

DATA="$WORK/data"
spoold_start "$WORK/server" "$BIN" serve --listen 127.0.0.1:0 --data "$DATA" --dev \
  --public-url auto --dnssd
SPID=$SPOOLD_PID
[ "${SPOOLD_URL%%://*}" = http ] || { ko "spoold --dnssd starts" "$(tail -n 20 "$WORK/server.err")"; finish; }
PORT=$SPOOLD_PORT
BASE=$SPOOLD_URL
ok "spoold --dnssd listens on port $PORT"

RESP="$WORK/resp"
api() { # api METHOD PATH TOKEN [JSON]: prints the HTTP status; the body lands in $RESP
  local args=(-s -o "$RESP" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3")
  [ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data "$4")
  curl "${args[@]}" "$BASE$2"
}
jget() { node -e 'const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); const v = (0, eval)("(o) => " + process.argv[2])(o); console.log(typeof v === "object" ? JSON.stringify(v) : v)' "$RESP" "$1"; }
TENANT=7d1b3f52-5c8e-4a8f-9a51-1f0e2b3c4d5e
APP=5b4ad7a1-0c2d-4e1f-8a9b-0c1d2e3f4a5b
ADMIN=$("$BIN" token --data "$DATA" --tenant "$TENANT" --app "$APP" \
  --user 0f1e2d3c-4b5a-4968-8776-655443322110 --upn admin@contoso.test --admin \
  --scopes "Printer.Create Printer.ReadWrite.All Printer.FullControl.All PrinterShare.ReadWrite.All")

# A printer whose output device describes itself, shared.
new_printer() { # new_printer NAME -> prints the printer id
  openssl req -new -newkey rsa:2048 -nodes -subj /CN=device -keyout "$WORK/key.pem" \
    -outform DER -out "$WORK/csr.der" 2>/dev/null
  curl -s -D "$WORK/hdr" -o "$RESP" -X POST -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: application/json' "$BASE/v1.0/print/printers/create" \
    --data "{\"displayName\":\"$1\",\"manufacturer\":\"Contoso\",\"model\":\"Everywhere 1\",\"hasPhysicalDevice\":false,\"certificateSigningRequest\":{\"content\":\"$(base64 -w0 "$WORK/csr.der")\",\"transportKey\":\"k\"}}"
  local op p=
  op=$(tr -d '\r' <"$WORK/hdr" | sed -n 's/^[Oo]peration-[Ll]ocation: //p')
  for _ in $(seq 1 600); do
    curl -s -o "$RESP" -H "Authorization: Bearer $ADMIN" "$op"
    p=$(jget 'o.printer && o.printer.id || ""' 2>/dev/null)
    [ -n "$p" ] && break
    sleep 0.1
  done
  [ -n "$p" ] || return 1
  local tok
  tok=$("$BIN" token --device "$p" --data "$DATA") || return 1
  (cd "$HERE" && ipptool -t -V 2.0 -d "DEVICE=urn:uuid:$(cat /proc/sys/kernel/random/uuid)" \
    "ipp://$p:$tok@127.0.0.1:$PORT/ipp/print/$p" share-device.test) >"$WORK/device.out" 2>&1 || return 1
  echo "$p"
}
P=$(new_printer "Second floor") && ok "printer registered, its device described itself" \
  || { ko "printer registered" "$(cat "$RESP" "$WORK/device.out" 2>/dev/null | tail -n 20)"; finish; }
[ "$(api POST /v1.0/print/shares "$ADMIN" "{\"displayName\":\"Floor 2 printer\",\"printer@odata.bind\":\"$BASE/v1.0/print/printers/$P\"}")" = 201 ] \
  && ok "printer shared as 'Floor 2 printer'" || { ko "printer shared" "$(cat "$RESP")"; finish; }
S=$(jget 'o.id')

# browse TYPE -> the resolved services of TYPE ("=" lines of avahi-browse -p), waiting up to
# 10 s for WANT (a grep pattern) to match, or (with a leading !) to stop matching.
browse() {
  local type=$1 want=$2 out=
  for _ in $(seq 1 20); do
    # parsable output escapes names: a space is \032
    out=$(timeout 10 avahi-browse -p -r -t -k "$type" 2>/dev/null | grep '^=' | sed 's/\\032/ /g')
    if [ "${want#!}" != "$want" ]; then grep -q -- "${want#!}" <<<"$out" || break
    else grep -q -- "$want" <<<"$out" && break; fi
    sleep 0.5
  done
  printf '%s\n' "$out"
}

echo
echo "  the share on the network"
out=$(browse _ipp._tcp 'Floor 2 printer')
line=$(grep ';Floor 2 printer;_ipp._tcp;' <<<"$out" | grep ';IPv4;' | head -n1)
[ -n "$line" ] && ok "_ipp._tcp 'Floor 2 printer' resolves" || ko "_ipp._tcp browse" "$out $(tail -n 5 "$WORK/server.err")"
IFS=';' read -r _ _ _ _ _ _ host addr port txt <<<"$line"
[ "$port" = "$PORT" ] && [ "$addr" = 127.0.0.1 ] && ok "on 127.0.0.1 port $PORT ($host)" \
  || ko "address and port" "$line"
for kv in "txtvers=1" "qtotal=1" "rp=ipp/share/$S" "UUID=$S" "ty=Contoso Everywhere 1" \
          "product=(Everywhere 1)" "adminurl=$BASE/ipp/share/$S" "Color=T" "Duplex=F" \
          "kind=document" "PaperMax=legal-A4" "air=username,password"; do
  grep -qF "\"$kv\"" <<<"$txt" || { ko "TXT $kv" "$txt"; continue; }
done
grep -qF '"pdl=application/pdf,image/jpeg,image/pwg-raster,image/urf"' <<<"$txt" \
  && grep -q '"URF=V1.4,W8,SRGB24,CP1,RS[0-9-]*"' <<<"$txt" \
  && ok "TXT: rp, ty, product, adminurl, UUID, pdl (the printer's formats), URF, Color, Duplex, PaperMax, kind, air" \
  || ko "TXT pdl and URF" "$txt"
! grep -q '"TLS=' <<<"$txt" && ok "no TLS key on plain _ipp._tcp" || ko "TLS key on _ipp._tcp" "$txt"
for sub in _print._sub._ipp._tcp _universal._sub._ipp._tcp; do
  out=$(browse "$sub" 'Floor 2 printer')
  grep -q ';Floor 2 printer;' <<<"$out" && ok "listed under the subtype $sub" || ko "subtype $sub" "$out"
done
out=$(ipptool -t -v "ipp://$addr:$port/$(sed -n 's/.*"rp=\([^"]*\)".*/\1/p' <<<"$txt")" \
  get-printer-attributes.test 2>&1)
grep -q "printer-uuid (uri) = urn:uuid:$S" <<<"$out" \
  && ok "Get-Printer-Attributes at the advertised address, port and rp answers for the share" \
  || ko "IPP at the advertised service" "$(tail -n 20 <<<"$out")"

echo
echo "  changes follow the store"
[ "$(api PATCH "/v1.0/print/shares/$S" "$ADMIN" '{"displayName":"Floor 2 colour"}')" = 200 ] || ko "share renamed" "$(cat "$RESP")"
out=$(browse _ipp._tcp 'Floor 2 colour')
grep -q ';Floor 2 colour;' <<<"$out" && out=$(browse _ipp._tcp '!Floor 2 printer') # the goodbye
grep -q ';Floor 2 colour;' <<<"$out" && ! grep -q ';Floor 2 printer;' <<<"$out" \
  && ok "a renamed share is re-advertised under its new name" || ko "rename re-advertised" "$out"
P2=$(new_printer "Reception") || ko "second printer registered" "$(cat "$RESP")"
[ "$(api POST /v1.0/print/shares "$ADMIN" "{\"displayName\":\"Reception\",\"printer@odata.bind\":\"$BASE/v1.0/print/printers/$P2\"}")" = 201 ] \
  || ko "second printer shared" "$(cat "$RESP")"
S2=$(jget 'o.id')
out=$(browse _ipp._tcp 'Reception')
grep -q ";Reception;.*\"UUID=$S2\"" <<<"$out" && ok "a new share appears" || ko "new share advertised" "$out"
[ "$(api DELETE "/v1.0/print/shares/$S" "$ADMIN")" = 204 ] || ko "share deleted" "$(cat "$RESP")"
out=$(browse _ipp._tcp '!Floor 2 colour')
! grep -q ';Floor 2 colour;' <<<"$out" && grep -q ';Reception;' <<<"$out" \
  && ok "a deleted share is withdrawn, the other stays" || ko "deleted share withdrawn" "$out"

stop_pid "$SPID" spoold
SPID=
out=$(browse _ipp._tcp '!Reception')
! grep -q ';Reception;' <<<"$out" && ok "spoold's SIGTERM withdraws its advertisements" || ko "withdrawn at exit" "$out"
grep -q 'dnssd: share .* advertised as' "$WORK/server.err" && ok "spoold logs what it advertised" \
  || ko "dnssd log lines" "$(grep dnssd "$WORK/server.err")"
if grep -qE 'Sanitizer|runtime error' "$WORK/server.err"; then
  ko "server log is free of sanitizer reports" "$(grep -E 'Sanitizer|runtime error' "$WORK/server.err" | head -3)"
fi

echo
echo "  with --tls-cert: _ipps._tcp"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=spoold-dnssd-test.local \
  -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null
spoold_start "$WORK/server2" "$BIN" serve --listen 127.0.0.1:0 --data "$DATA" --dev \
  --public-url auto --dnssd --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key"
SPID=$SPOOLD_PID
[ "${SPOOLD_URL%%://*}" = https ] || { ko "spoold --dnssd --tls-cert starts" "$(tail -n 20 "$WORK/server2.err")"; finish; }
PORT=$SPOOLD_PORT
out=$(browse _ipps._tcp 'Reception')
line=$(grep ';Reception;_ipps._tcp;' <<<"$out" | head -n1)
[ -n "$line" ] && grep -q ";$PORT;" <<<"$line" && grep -qF '"TLS=1.2"' <<<"$line" \
  && grep -qF "\"adminurl=https://127.0.0.1:$PORT/ipp/share/$S2\"" <<<"$line" \
  && ok "advertised as _ipps._tcp on the HTTPS port, TXT TLS=1.2 and an https adminurl" \
  || ko "_ipps._tcp advertised" "$out"
out=$(browse _print._sub._ipps._tcp 'Reception')
grep -q ';Reception;' <<<"$out" && ok "listed under _print._sub._ipps._tcp" || ko "_ipps subtype" "$out"
out=$(timeout 10 avahi-browse -p -t -k _ipp._tcp 2>/dev/null)
! grep -q 'Reception' <<<"$out" && ok "not as _ipp._tcp (its port speaks only HTTPS)" || ko "no _ipp._tcp with TLS" "$out"
finish

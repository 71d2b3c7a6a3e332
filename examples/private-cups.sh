#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A CUPS scheduler of its own for trying desktop printing without touching the machine's CUPS
# (docs/first-hour.md, "Print from your desktop"): its configuration, spool and logs in DIR, on
# 127.0.0.1 only, no filters (a PDF goes to an IPP Everywhere printer unchanged).
#
#   examples/private-cups.sh start DIR   starts cupsd and prints "export CUPS_SERVER=127.0.0.1:PORT"
#                                        (eval it: lpadmin, lp and lpstat then talk to it)
#   examples/private-cups.sh stop DIR    stops it (by the PID in DIR/cupsd.pid)
set -euo pipefail
cmd=${1:?start or stop} dir=${2:?directory}
case "$cmd" in
stop)
  [ -f "$dir/cupsd.pid" ] || exit 0
  pid=$(cat "$dir/cupsd.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$dir/cupsd.pid"
  exit 0 ;;
start) ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
mkdir -p "$dir/spool/tmp" "$dir/cache" "$dir/log" "$dir/conf/ppd" "$dir/state"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$dir/conf/cupsd.conf" <<CONF
Listen 127.0.0.1:$port
Browsing No
WebInterface No
DefaultAuthType None
<Location />
  Order allow,deny
  Allow from 127.0.0.1
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
CONF
cat >"$dir/conf/cups-files.conf" <<CONF
ServerRoot $dir/conf
RequestRoot $dir/spool
TempDir $dir/spool/tmp
CacheDir $dir/cache
StateDir $dir/state
ServerBin /usr/lib/cups
DataDir /usr/share/cups
DocumentRoot /usr/share/cups/doc-root
AccessLog $dir/log/access_log
ErrorLog $dir/log/error_log
PageLog $dir/log/page_log
SystemGroup $(id -gn)
FileDevice No
Sandboxing Relaxed
CONF
# As root cupsd runs its backends as its default user (lp), which must reach DIR (so DIR and
# its parent directory are opened to others); otherwise it runs them as the current user.
if [ "$(id -u)" -ne 0 ]; then
  printf 'User %s\nGroup %s\n' "$(id -un)" "$(id -gn)" >>"$dir/conf/cups-files.conf"
else
  chmod -R a+rwX "$dir"
  chmod a+x "$(dirname "$dir")"
fi
echo 'application/pdf application/vnd.cups-pdf 66 -' >"$dir/conf/local.convs"
setsid cupsd -f -c "$dir/conf/cupsd.conf" -s "$dir/conf/cups-files.conf" \
  </dev/null >"$dir/log/stdout" 2>&1 &
echo $! >"$dir/cupsd.pid"
for _ in $(seq 1 100); do CUPS_SERVER=127.0.0.1:$port lpstat -r >/dev/null 2>&1 && break; sleep 0.1; done
CUPS_SERVER=127.0.0.1:$port lpstat -r >/dev/null 2>&1 || { cat "$dir/log/stdout" >&2; exit 1; }
echo "export CUPS_SERVER=127.0.0.1:$port"

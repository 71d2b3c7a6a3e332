#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Packaging tests: make install/uninstall, man pages, the systemd units, the Debian package.
#
#   tests/packaging/run.sh [SPOOLD_BINARY]        (default: build/spoold)
#
#   install      `make install DESTDIR=...` installs exactly the expected files with their modes
#                (and with PREFIX/SYSCONFDIR in the unit); `make uninstall` removes them, keeps an
#                edited configuration, never touches data
#   man          `man -l` renders spoold(8) and spoold.conf(5) without warnings; every command
#                and option of --help is in spoold(8), every serve option is a key of
#                spoold.conf(5) and of the default configuration (man-check.sh), and the check
#                fails on a page with an option taken out
#   unit         `systemd-analyze verify` accepts the installed units (spoold, spoold-proxy);
#                `systemd-analyze security --offline` rates each at most 2.0 ("OK" or better)
#   deb          (as root) dpkg-buildpackage -us -uc -b in a copy of the tree under /tmp (the
#                tree's build/ is untouched); lintian has no errors; dpkg -c lists the expected
#                files; dpkg -i creates the spoold user and /var/lib/spoold (0750); the installed
#                unit verifies; /usr/bin/spoold runs as the unit's ExecStart does (as spoold,
#                with /etc/spoold/spoold.conf, cwd /) and answers /readyz; spoold-proxy.service is
#                installed but neither enabled nor started, and its ExecStart reads
#                /etc/spoold/proxy.conf; dpkg --purge leaves nothing (files, directories, user,
#                group)
#
# The last line is "N passed, N failed". A part that cannot run counts as a failure.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/tests/lib/spoold.sh"
. "$ROOT/tests/lib/verdicts.sh"
BIN=${1:-$ROOT/build/spoold}
case "$BIN" in /*) ;; *) BIN="$PWD/$BIN" ;; esac

WORK=
SPID=
check() { # check NAME COMMAND...: passes when the command succeeds
  local name=$1; shift
  local out; if out=$("$@" 2>&1); then ok "$name"; else ko "$name" "$(head -c 2000 <<<"$out")"; fi
}
cleanup_server() { pid_stop "$SPID"; SPID=; }
cleanup() {
  cleanup_server
  [ -n "$WORK" ] && rm -rf "$WORK"
  WORK=
}
finish() { cleanup; echo; echo "$PASS passed, $FAIL failed"; exit $([ "$FAIL" -eq 0 ] && echo 0 || echo 1); }
trap 'ko "interrupted"; finish' INT TERM
trap cleanup EXIT

[ -x "$BIN" ] || { ko "spoold binary $BIN exists"; finish; }
WORK=$(mktemp -d /tmp/spoold-pkg.XXXXXX)
cd "$ROOT"

# ---- make install / uninstall -------------------------------------------------------------------
echo "== make install / uninstall"
D="$WORK/destdir"
expected_files() { # PREFIX SYSCONFDIR UNITDIR
  printf '%s\n' "$1/bin/spoold" "$1/share/man/man8/spoold.8" "$1/share/man/man5/spoold.conf.5" \
    "$3/spoold.service" "$3/spoold-proxy.service" "$2/spoold/spoold.conf" "$2/spoold/proxy.conf" | sort
}
if make --no-print-directory install DESTDIR="$D" PREFIX=/usr SYSCONFDIR=/etc \
     UNITDIR=/lib/systemd/system >"$WORK/install.log" 2>&1; then
  ok "make install DESTDIR=... PREFIX=/usr SYSCONFDIR=/etc succeeds"
else
  ko "make install DESTDIR=... PREFIX=/usr SYSCONFDIR=/etc succeeds" "$(tail -5 "$WORK/install.log")"
fi
got=$(cd "$D" && find . -type f -o -type l | sed 's|^\.||' | sort)
want=$(expected_files /usr /etc /lib/systemd/system)
if [ "$got" = "$want" ]; then ok "exactly the expected files are installed"
else ko "exactly the expected files are installed" "$(diff <(echo "$want") <(echo "$got") | tr '\n' ' ')"; fi
modes=$(cd "$D" && stat -c '%a %n' usr/bin/spoold usr/share/man/man8/spoold.8 etc/spoold/spoold.conf etc/spoold/proxy.conf lib/systemd/system/spoold.service lib/systemd/system/spoold-proxy.service 2>&1 | tr '\n' ' ')
[ "$modes" = "755 usr/bin/spoold 644 usr/share/man/man8/spoold.8 644 etc/spoold/spoold.conf 644 etc/spoold/proxy.conf 644 lib/systemd/system/spoold.service 644 lib/systemd/system/spoold-proxy.service " ] \
  && ok "modes: binary 0755, pages, configs and units 0644" || ko "modes: binary 0755, pages, configs and units 0644" "$modes"
grep -qx 'ExecStart=/usr/bin/spoold serve --config /etc/spoold/spoold.conf' "$D/lib/systemd/system/spoold.service" \
  && ok "the unit's ExecStart names the installed binary and config" \
  || ko "the unit's ExecStart names the installed binary and config" "$(grep ExecStart "$D/lib/systemd/system/spoold.service")"
grep -qx 'ExecStart=/usr/bin/spoold proxy --config /etc/spoold/proxy.conf' "$D/lib/systemd/system/spoold-proxy.service" \
  && ok "the proxy unit's ExecStart names the installed binary and proxy.conf" \
  || ko "the proxy unit's ExecStart names the installed binary and proxy.conf" "$(grep ExecStart "$D/lib/systemd/system/spoold-proxy.service")"
cmp -s "$D/usr/bin/spoold" "$ROOT/build/spoold" && ok "the installed binary is build/spoold" || ko "the installed binary is build/spoold"
# an edited configuration survives a second install and the uninstall; data is never touched
echo "listen = 127.0.0.1:9999" >>"$D/etc/spoold/spoold.conf"
echo "server = http://127.0.0.1:9999" >>"$D/etc/spoold/proxy.conf"
mkdir -p "$D/var/lib/spoold" && echo data >"$D/var/lib/spoold/spoold.db"
make --no-print-directory install DESTDIR="$D" PREFIX=/usr SYSCONFDIR=/etc UNITDIR=/lib/systemd/system >/dev/null 2>&1
grep -q 9999 "$D/etc/spoold/spoold.conf" && grep -q 9999 "$D/etc/spoold/proxy.conf" && ok "a second install keeps the edited configurations" || ko "a second install keeps the edited configurations"
make --no-print-directory uninstall DESTDIR="$D" PREFIX=/usr SYSCONFDIR=/etc UNITDIR=/lib/systemd/system >"$WORK/un.log" 2>&1
left=$(cd "$D" && find . -type f | sed 's|^\.||' | sort | tr '\n' ' ')
[ "$left" = "/etc/spoold/proxy.conf /etc/spoold/spoold.conf /var/lib/spoold/spoold.db " ] \
  && ok "make uninstall removes the installed files, keeps edited config and data" \
  || ko "make uninstall removes the installed files, keeps edited config and data" "left: $left"
rm -rf "$D"
# default prefix layout, and an unchanged configuration goes with uninstall
make --no-print-directory install DESTDIR="$D" >/dev/null 2>&1
got=$(cd "$D" && find . -type f | sed 's|^\.||' | sort)
[ "$got" = "$(expected_files /usr/local /usr/local/etc /usr/local/lib/systemd/system)" ] \
  && ok "default PREFIX=/usr/local layout" || ko "default PREFIX=/usr/local layout" "$(echo $got)"
grep -qx 'ExecStart=/usr/local/bin/spoold serve --config /usr/local/etc/spoold/spoold.conf' "$D/usr/local/lib/systemd/system/spoold.service" \
  && ok "the unit follows PREFIX and SYSCONFDIR" || ko "the unit follows PREFIX and SYSCONFDIR"
make --no-print-directory uninstall DESTDIR="$D" >/dev/null 2>&1
left=$(cd "$D" && find . -type f | wc -l)
[ "$left" = 0 ] && ok "make uninstall leaves no file of an unchanged install" || ko "make uninstall leaves no file of an unchanged install" "$(cd "$D" && find . -type f)"
rm -rf "$D"

# ---- man pages ----------------------------------------------------------------------------------
echo "== man pages"
for page in man/spoold.8 man/spoold.conf.5; do
  out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>"$WORK/man.err")
  if [ -n "$out" ] && [ ! -s "$WORK/man.err" ] && grep -q "^NAME" <<<"$out"; then
    ok "man -l $page renders without warnings"
  else
    ko "man -l $page renders without warnings" "$(head -5 "$WORK/man.err")"
  fi
done
out=$(tests/packaging/man-check.sh "$BIN" man/spoold.8 man/spoold.conf.5 dist/spoold.conf 2>&1)
[ $? -eq 0 ] && ok "every command and option of --help is in spoold(8), every key in spoold.conf(5) and spoold.conf" \
  || ko "every command and option of --help is in spoold(8), every key in spoold.conf(5) and spoold.conf" "$(tr '\n' ';' <<<"$out")"
# the check itself fails when an option is missing
grep -v 'max\\-document\\-size' man/spoold.8 >"$WORK/spoold.8"
out=$(tests/packaging/man-check.sh "$BIN" "$WORK/spoold.8" man/spoold.conf.5 dist/spoold.conf 2>&1)
[ $? -ne 0 ] && grep -q -- "--max-document-size" <<<"$out" \
  && ok "the check fails for a spoold(8) without --max-document-size" \
  || ko "the check fails for a spoold(8) without --max-document-size" "$out"

# ---- the systemd unit ---------------------------------------------------------------------------
echo "== systemd unit"
if command -v systemd-analyze >/dev/null; then
  P="$WORK/prefix"
  make --no-print-directory install PREFIX="$P" >/dev/null 2>&1
  for unit in spoold.service spoold-proxy.service; do
    out=$(MANPATH="$P/share/man" systemd-analyze verify "$P/lib/systemd/system/$unit" 2>&1)
    [ $? -eq 0 ] && [ -z "$out" ] && ok "systemd-analyze verify accepts $unit" || ko "systemd-analyze verify accepts $unit" "$out"
    out=$(systemd-analyze security --offline=true "$P/lib/systemd/system/$unit" 2>&1)
    score=$(sed -n "s/.*Overall exposure level for $unit: \([0-9.]*\).*/\1/p" <<<"$out")
    if [ -n "$score" ] && awk -v s="$score" 'BEGIN{exit !(s <= 2.0)}'; then
      ok "systemd-analyze security rates $unit $score (at most 2.0)"
    else
      ko "systemd-analyze security rates $unit at most 2.0" "score '${score}': $(tail -3 <<<"$out")"
    fi
  done
  local_missing=""
  for k in Type=notify WatchdogSec= StateDirectory=spoold User=spoold ProtectSystem=strict ProtectHome=yes \
           PrivateTmp=yes NoNewPrivileges=yes CapabilityBoundingSet= RestrictAddressFamilies= \
           SystemCallFilter=@system-service MemoryDenyWriteExecute=yes ExecReload=; do
    grep -q "^$k" "$P/lib/systemd/system/spoold.service" || local_missing="$local_missing $k"
  done
  [ -z "$local_missing" ] && ok "the unit sets Type=notify, the watchdog, StateDirectory, User and the sandbox options" \
    || ko "the unit sets Type=notify, the watchdog, StateDirectory, User and the sandbox options" "missing:$local_missing"
  local_missing=""
  for k in StateDirectory=spoold-proxy User=spoold ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
           NoNewPrivileges=yes CapabilityBoundingSet= RestrictAddressFamilies= SystemCallFilter=@system-service \
           MemoryDenyWriteExecute=yes Restart=on-failure; do
    grep -q "^$k" "$P/lib/systemd/system/spoold-proxy.service" || local_missing="$local_missing $k"
  done
  [ -z "$local_missing" ] && ok "the proxy unit sets StateDirectory=spoold-proxy, User, Restart and the sandbox options" \
    || ko "the proxy unit sets StateDirectory=spoold-proxy, User, Restart and the sandbox options" "missing:$local_missing"
else
  ko "systemd-analyze is installed (systemd)"
fi

# ---- the Debian package -------------------------------------------------------------------------
echo "== Debian package"
dpkg_retry() { # dpkg may be locked by another apt/dpkg run: wait for it (2 min at most)
  local i out
  for i in $(seq 1 60); do
    out=$("$@" 2>&1) && { echo "$out"; return 0; }
    grep -qiE 'lock|locked' <<<"$out" || { echo "$out"; return 1; }
    sleep 2
  done
  echo "$out"; return 1
}
deb_test() {
  if [ "$(id -u)" -ne 0 ]; then ko "the package test runs as root (CI does)"; return; fi
  for t in dpkg-buildpackage lintian dh fakeroot; do
    command -v $t >/dev/null || { ko "$t is installed (scripts/deps.sh)"; return; }
  done
  local S="$WORK/deb/src"
  mkdir -p "$S"
  (cd "$ROOT" && git ls-files -co --exclude-standard -z 2>/dev/null | tar --null -T - -cf -) | tar -xf - -C "$S" 2>/dev/null
  [ -f "$S/debian/control" ] || (cd "$ROOT" && tar --exclude=./build --exclude=./build-asan --exclude=node_modules --exclude=./var -cf - .) | tar -xf - -C "$S"
  if (cd "$S" && DEB_BUILD_OPTIONS="parallel=2" dpkg-buildpackage -us -uc -b >"$WORK/deb/build.log" 2>&1); then
    ok "dpkg-buildpackage -us -uc -b builds the package"
  else
    ko "dpkg-buildpackage -us -uc -b builds the package" "$(tail -15 "$WORK/deb/build.log")"; return
  fi
  local deb; deb=$(ls "$WORK"/deb/spoold_*.deb 2>/dev/null | head -1)
  [ -n "$deb" ] || { ko "the .deb exists"; return; }
  local lout lrc; lout=$(lintian --fail-on error "$WORK"/deb/*.changes 2>&1); lrc=$?
  if [ $lrc -eq 0 ] && ! grep -q '^E:' <<<"$lout"; then ok "lintian reports no errors"; else ko "lintian reports no errors" "$lout"; fi
  local files; files=$(dpkg -c "$deb" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\./|/|' | sort | tr '\n' ' ')
  local want="/etc/spoold/proxy.conf /etc/spoold/spoold.conf /lib/systemd/system/spoold-proxy.service /lib/systemd/system/spoold.service /usr/bin/spoold /usr/share/doc/spoold/changelog.gz /usr/share/doc/spoold/copyright /usr/share/man/man5/spoold.conf.5.gz /usr/share/man/man8/spoold.8.gz "
  [ "$files" = "$want" ] && ok "dpkg -c lists exactly the expected files" || ko "dpkg -c lists exactly the expected files" "$files"
  dpkg -I "$deb" conffiles 2>/dev/null | grep -qx /etc/spoold/spoold.conf && ok "/etc/spoold/spoold.conf is a conffile" || ko "/etc/spoold/spoold.conf is a conffile"
  dpkg -I "$deb" conffiles 2>/dev/null | grep -qx /etc/spoold/proxy.conf && ok "/etc/spoold/proxy.conf is a conffile" || ko "/etc/spoold/proxy.conf is a conffile"
  # the proxy unit is never started by the maintainer scripts (spoold.service is)
  local pi; pi=$(dpkg -I "$deb" postinst 2>/dev/null)
  grep -qE "deb-systemd-invoke .*'spoold.service'" <<<"$pi" && ! grep -qE "deb-systemd-invoke .*spoold-proxy" <<<"$pi" \
    && ok "postinst starts spoold.service, never spoold-proxy.service" \
    || ko "postinst starts spoold.service, never spoold-proxy.service" "$(grep -n deb-systemd <<<"$pi" | tr '\n' ';')"

  # a package left by an interrupted run goes first
  dpkg -s spoold >/dev/null 2>&1 && dpkg_retry dpkg --purge spoold >/dev/null
  local out; out=$(dpkg_retry dpkg -i "$deb")
  if [ $? -eq 0 ]; then ok "dpkg -i installs the package"; else ko "dpkg -i installs the package" "$out"; return; fi
  getent passwd spoold | grep -qE '^spoold:x:[0-9]+:[0-9]+:[^:]*:/var/lib/spoold:/usr/sbin/nologin$' \
    && [ "$(getent passwd spoold | cut -d: -f3)" -lt 1000 ] \
    && ok "the spoold system user exists (home /var/lib/spoold, no login shell)" \
    || ko "the spoold system user exists (home /var/lib/spoold, no login shell)" "$(getent passwd spoold)"
  getent group spoold >/dev/null && ok "the spoold group exists" || ko "the spoold group exists"
  [ -L /etc/systemd/system/multi-user.target.wants/spoold.service ] && [ ! -e /etc/systemd/system/multi-user.target.wants/spoold-proxy.service ] \
    && ok "spoold.service is enabled, spoold-proxy.service is not (it needs proxy.conf first)" \
    || ko "spoold.service is enabled, spoold-proxy.service is not (it needs proxy.conf first)" "$(ls -l /etc/systemd/system/multi-user.target.wants/ 2>&1 | tr '\n' ';')"
  local st; st=$(stat -c '%a %U %G' /var/lib/spoold 2>&1)
  [ "$st" = "750 spoold spoold" ] && ok "/var/lib/spoold is 0750 spoold:spoold" || ko "/var/lib/spoold is 0750 spoold:spoold" "$st"
  st=$(stat -c '%a %U %G' /etc/spoold 2>&1)
  [ "$st" = "750 root spoold" ] && ok "/etc/spoold is 0750 root:spoold" || ko "/etc/spoold is 0750 root:spoold" "$st"
  out=$(systemd-analyze verify /lib/systemd/system/spoold.service 2>&1)
  [ $? -eq 0 ] && [ -z "$out" ] && ok "systemd-analyze verify accepts the installed unit (binary, man pages)" \
    || ko "systemd-analyze verify accepts the installed unit (binary, man pages)" "$out"
  man -w spoold >/dev/null 2>&1 && man -w spoold.conf >/dev/null 2>&1 && ok "man finds spoold(8) and spoold.conf(5)" || ko "man finds spoold(8) and spoold.conf(5)"

  # ExecStart, as the spoold user, cwd /. Only the listen port differs (SPOOLD_LISTEN, so that
  # nothing else on 8080 interferes): the environment overrides the file.
  local exec; exec=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/spoold.service)
  # shellcheck disable=SC2086
  spoold_start "$WORK/deb/server" setpriv --reuid=spoold --regid=spoold --init-groups \
    env -i -C / PATH=/usr/bin:/bin SPOOLD_LISTEN=127.0.0.1:0 $exec
  SPID=$SPOOLD_PID   # spoold itself: setpriv and env exec it
  if [ "${SPOOLD_URL%%://*}" = http ]; then
    local r; r=$(curl -s --max-time 5 "$SPOOLD_URL/readyz")
    grep -q '"status":"ready"' <<<"$r" && ok "the installed spoold, run as ExecStart does, answers /readyz" \
      || ko "the installed spoold, run as ExecStart does, answers /readyz" "$r"
    local user; user=$(ps -o user= -p "$SPID" 2>/dev/null | tr -d ' ')
    [ "$user" = spoold ] && ok "it runs as the spoold user" || ko "it runs as the spoold user" "user '$user'"
    [ -f /var/lib/spoold/spoold.db ] && [ "$(stat -c %U /var/lib/spoold/spoold.db)" = spoold ] \
      && ok "its store is /var/lib/spoold/spoold.db, owned by spoold" || ko "its store is /var/lib/spoold/spoold.db, owned by spoold"
  else
    ko "the installed spoold, run as ExecStart does, answers /readyz" "$(tail -5 "$WORK/deb/server.err")"
  fi
  cleanup_server
  # the proxy's ExecStart, as spoold: it reads the installed proxy.conf, which names no server yet
  exec=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/spoold-proxy.service)
  out=$(cd / && setpriv --reuid=spoold --regid=spoold --init-groups env -i PATH=/usr/bin:/bin $exec 2>&1)
  local prc=$?
  [ $prc -eq 2 ] && grep -q -- "--server URL is required" <<<"$out" \
    && ok "the proxy's ExecStart, as spoold, reads /etc/spoold/proxy.conf (no server set yet: exit 2)" \
    || ko "the proxy's ExecStart, as spoold, reads /etc/spoold/proxy.conf (no server set yet: exit 2)" "rc $prc: $out"
  out=$(dpkg_retry dpkg --remove spoold)
  [ -d /var/lib/spoold ] && [ -f /var/lib/spoold/spoold.db ] && [ -f /etc/spoold/spoold.conf ] \
    && ok "dpkg --remove keeps the data and the configuration" || ko "dpkg --remove keeps the data and the configuration" "$out"
  out=$(dpkg_retry dpkg --purge spoold)
  [ $? -eq 0 ] && ok "dpkg --purge succeeds without a running systemd" || ko "dpkg --purge succeeds without a running systemd" "$out"
  local left=""
  for p in /usr/bin/spoold /etc/spoold /var/lib/spoold /var/lib/spoold-proxy /lib/systemd/system/spoold.service \
           /lib/systemd/system/spoold-proxy.service \
           /usr/share/man/man8/spoold.8.gz /usr/share/doc/spoold \
           /etc/systemd/system/multi-user.target.wants/spoold.service /var/lib/systemd/deb-systemd-helper-enabled/spoold.service; do
    [ -e "$p" ] && left="$left $p"
  done
  getent passwd spoold >/dev/null && left="$left user:spoold"
  getent group spoold >/dev/null && left="$left group:spoold"
  dpkg -s spoold >/dev/null 2>&1 && left="$left dpkg-status"
  [ -z "$left" ] && ok "after purge nothing is left" || ko "after purge nothing is left" "$left"
}
deb_test
finish

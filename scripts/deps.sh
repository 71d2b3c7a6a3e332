#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages spoold needs to build, run and test, when they are missing
# (clang and its runtime libraries build the libFuzzer harnesses of fuzz/).
# Runs apt-get (through sudo when not root). Safe to run repeatedly: it does nothing when
# everything is present.
set -eu

PKGS="build-essential pkg-config libmicrohttpd-dev libjansson-dev libssl-dev libsqlite3-dev
postgresql-15 libpq-dev libcups2-dev libcurl4-openssl-dev libgnutls28-dev libcriterion-dev cups-ipp-utils dbus openssl curl chromium jq
clang libclang-rt-14-dev cups-daemon cups-client ghostscript"
# sqlite3: the command-line shell tests/api/integrity.test.mjs reads and damages databases with
PKGS="$PKGS sqlite3"
# DNS-SD (--dnssd, and spoold proxy --discover): libavahi-client; their tests
# (tests/ipp/dnssd-run.sh, tests/api/proxy.test.mjs) run avahi-daemon on a private D-Bus bus,
# in a network namespace (unshare, ip; avahi-browse checks) or a mount namespace (unshare).
PKGS="$PKGS libavahi-client-dev avahi-daemon avahi-utils dbus-daemon iproute2 util-linux"
# cppcheck: the static-analysis suite of make check (scripts/check.sh).
PKGS="$PKGS cppcheck"
# packaging tests (tests/packaging/run.sh): building, checking and installing the Debian package
PKGS="$PKGS python3 debhelper devscripts dpkg-dev fakeroot lintian man-db groff-base systemd adduser"

missing=""
for p in $PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
# Node.js 18+ with npm runs the API tests; Debian's own packages are used when none is present.
if ! command -v node >/dev/null 2>&1; then missing="$missing nodejs"; fi
if ! command -v npm >/dev/null 2>&1; then missing="$missing npm"; fi

[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "spoold: installing missing packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq </dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing </dev/null >/dev/null

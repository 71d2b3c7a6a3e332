#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Registers a printer with spoold as Universal Print's printer registration does: makes the
# device's key and certificate signing request with openssl, sends POST /print/printers/create
# with an administrator's token, polls the operation, and keeps the issued certificate.
#
#   TOKEN=<administrator token> examples/register-printer.sh NAME [DIR]
#
# Prints the new printer's id on stdout. DIR (default ./printer-keys) receives
# <printer id>.key (the device's private key) and <printer id>.pem (the device certificate
# chain). SPOOLD_URL is the server (default http://127.0.0.1:8080). Needs curl, jq, openssl.
# The token needs Printer.Create (or Printer.ReadWrite.All / Printer.FullControl.All) and the
# Printer Administrator role: `spoold token --role admin` has both.
set -eu
name=${1:?usage: TOKEN=... $0 NAME [DIR]}
dir=${2:-./printer-keys}
url=${SPOOLD_URL:-http://127.0.0.1:8080}
: "${TOKEN:?set TOKEN to an administrator token (spoold token --role admin)}"
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# An RSA 2048 key and a SHA-256 PKCS#10 request (what spoold accepts: RSA >= 2048 or EC P-256).
openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "/CN=$name" \
  -keyout "$tmp/device.key" -out "$tmp/device.csr" -outform DER 2>/dev/null
csr=$(base64 -w0 "$tmp/device.csr")
pub=$(openssl pkey -in "$tmp/device.key" -pubout -outform DER | base64 -w0)
body=$(jq -n --arg name "$name" --arg csr "$csr" --arg pub "$pub" '{
  displayName: $name, manufacturer: "Example", model: "First hour", hasPhysicalDevice: false,
  certificateSigningRequest: {content: $csr, transportKey: $pub}}')

# 202 Accepted with the operation to poll in Operation-Location.
location=$(curl -sS -o "$tmp/answer" -D - -X POST "$url/v1.0/print/printers/create" \
  -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" -d "$body" |
  tr -d '\r' | sed -n 's/^[Oo]peration-[Ll]ocation: //p')
if [ -z "$location" ]; then
  echo "register-printer: the server refused the registration:" >&2
  cat "$tmp/answer" >&2; echo >&2
  exit 1
fi
# The operation URL is built on --public-url; ask the server we talk to.
op="$url/v1.0/print/operations/${location##*/}"
for _ in 1 2 3 4 5 6 7 8 9 10; do
  curl -sS -H "Authorization: Bearer $TOKEN" "$op" >"$tmp/op"
  state=$(jq -r .status.state "$tmp/op")
  case "$state" in
    succeeded)
      id=$(jq -r .printer.id "$tmp/op")
      jq -r .certificate "$tmp/op" >"$dir/$id.pem"
      mv "$tmp/device.key" "$dir/$id.key"
      chmod 600 "$dir/$id.key"
      echo "$id"
      exit 0 ;;
    failed)
      echo "register-printer: $(jq -r .status.description "$tmp/op")" >&2
      exit 1 ;;
  esac
  sleep 1
done
echo "register-printer: the operation did not finish: $(cat "$tmp/op")" >&2
exit 1

#!/usr/bin/env bash
# Installs the Debian packages FastPerf builds and tests with (idempotent; uses sudo when not root).
# --browser also installs chromium (without recommends): the HTML report test opens the report in it.
set -euo pipefail
PKGS="libuv1-dev libnghttp2-dev libsqlite3-dev libssl-dev pkg-config sqlite3 openssl nginx-light nghttp2-server nghttp2-client"
TEST_PKGS=""
[ "${1:-}" = "--browser" ] && TEST_PKGS="chromium"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
missing_test=""
for p in $TEST_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing_test="$missing_test $p"; done
if [ -n "$missing$missing_test" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  if [ -n "$missing" ]; then $SUDO apt-get install -y -qq $missing >/dev/null; fi
  if [ -n "$missing_test" ]; then $SUDO apt-get install -y -qq --no-install-recommends $missing_test >/dev/null; fi
fi
command -v swift >/dev/null || { echo "setup.sh: Swift 6 is not on PATH (https://swift.org/install)" >&2; exit 2; }

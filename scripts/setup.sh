#!/usr/bin/env bash
# Installs the Debian packages FastPerf builds and tests with (idempotent; uses sudo when not root).
set -euo pipefail
PKGS="libuv1-dev libnghttp2-dev libsqlite3-dev libssl-dev pkg-config sqlite3 openssl nginx-light nghttp2-server nghttp2-client"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq $missing >/dev/null
fi
command -v swift >/dev/null || { echo "setup.sh: Swift 6 is not on PATH (https://swift.org/install)" >&2; exit 2; }

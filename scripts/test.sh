#!/usr/bin/env bash
# Installs what the tests need (chromium included), builds, runs the whole test suite, then builds and runs the
# example plugin package.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser
swift build
swift test
scripts/example.sh

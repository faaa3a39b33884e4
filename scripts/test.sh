#!/usr/bin/env bash
# Installs what the tests need (chromium included), builds, and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser
swift build
swift test

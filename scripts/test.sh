#!/usr/bin/env bash
# Installs what the tests need (chromium included), builds, runs the whole test suite, then builds and runs the example plugin
# package, then runs the thread-handoff tests (SPSC rings, several loop threads and the writer, loop
# shutdown) again under ThreadSanitizer (tests without timing assertions: TSan slows everything down).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser
swift build
# The tests that compare measured TTFT/TPOT with the mock server's timeline run on their own afterwards, so the
# other tests' load (all run in parallel) does not deschedule the loops they time.
swift test --skip "TimingsAreMeasured"
swift test --filter "TimingsAreMeasured"
scripts/example.sh
swift test --sanitize=thread --scratch-path .build-tsan \
  --filter "SPSCRingTests|severalLoopThreadsShareTheRequests|requestLostOnAnIdleCloseIsResent|sweepWritesOnePointFolderEach"

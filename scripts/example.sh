#!/usr/bin/env bash
# Builds Examples/CustomPlugin (a package that registers its own `custom` API and dataset plugins and runs the
# fastperf command line) against this checkout, and runs it against `fastperf serve`: every request must succeed.
# Needs .build/debug/fastperf (scripts/test.sh builds it first) and sqlite3 (scripts/setup.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
# resolve first: a build alone keeps an old Package.resolved when FastPerf (a path dependency) gains a dependency.
swift package --package-path Examples/CustomPlugin resolve
swift build --package-path Examples/CustomPlugin

log=$(mktemp)
out=$(mktemp -d)
.build/debug/fastperf serve --port 0 --ttft-ms 5 --itl-ms 1 >"$log" &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null || true; rm -rf "$log" "$out"' EXIT
for _ in $(seq 100); do grep -q listening "$log" && break; sleep 0.1; done
port=$(sed -n 's/.*127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$log" | head -n 1)
[ -n "$port" ] || { echo "example.sh: fastperf serve did not start: $(cat "$log")" >&2; exit 1; }

Examples/CustomPlugin/.build/debug/custom-perf perf --url "http://127.0.0.1:$port" --api custom --dataset custom \
    --dataset-path Examples/CustomPlugin/topics.txt --parallel 2 --number 8 --max-tokens 6 \
    --outputs-dir "$out" --no-timestamp --name example

db="$out/example/parallel_2_number_8/benchmark_data.db"
ok=$(sqlite3 "$db" "select count(*) from result where success = 1 and completion_tokens = 6")
system=$(sqlite3 "$db" "select count(*) from result where request like '%team''s benchmark assistant%haiku about%'")
if [ "$ok" != 8 ] || [ "$system" != 8 ]; then
    echo "example.sh: expected 8 successful rows built by the custom plugins, got $ok ok and $system with the system prompt" >&2
    exit 1
fi
echo "example.sh: Examples/CustomPlugin ran 8 requests against fastperf serve, all successful"

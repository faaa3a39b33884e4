#!/usr/bin/env bash
# Stream scale over HTTP/2 (h2c): STREAMS concurrent streaming requests, MAXSTREAMS per connection, against
# `fastperf serve --http2` in a separate process with a long inter-token delay, so that every stream is open at once.
# Prints rows, successes, the client's peak RSS and peak RSS per open stream.
# usage: Benchmarks/scale_h2.sh [STREAMS=100000] [TOKENS=10] [ITL_MS=1000] [MAXSTREAMS=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
S=${1:-100000}; T=${2:-10}; ITL=${3:-1000}; MS=${4:-1000}; PORT=18680
W=$(mktemp -d /tmp/fastperf-scale.XXXXXX)
[ -x /usr/bin/time ] || { SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"; $SUDO apt-get install -y -qq time >/dev/null; }
swift build -c release >/dev/null
FP=.build/release/fastperf
$FP serve --http2 --port $PORT --ttft-ms $ITL --itl-ms $ITL --output-tokens $T > "$W/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$W"' EXIT
sleep 1
echo "open-files limit: soft $(ulimit -Sn), hard $(ulimit -Hn); the client raises its soft limit to the hard one"
/usr/bin/time -f "%M %e %U %S" -o "$W/time" $FP perf --url http://127.0.0.1:$PORT/v1/chat/completions \
  --http2 --max-streams $MS --parallel $S --number $S --max-tokens $T --prompt hi --db-store metrics --connect-timeout 60 \
  --outputs-dir "$W/out" --no-timestamp --name scale --sleep-interval 0 > "$W/perf.out" 2> "$W/perf.err" || { tail -5 "$W/perf.err"; exit 1; }
DB=$(ls "$W"/out/scale/*/benchmark_data.db)
read -r KIB WALL USR SYS < "$W/time"
ROWS=$(sqlite3 "$DB" "select count(*) from result")
OK=$(sqlite3 "$DB" "select count(*) from result where success=1")
MAXCONN=$(sqlite3 "$DB" "select count(distinct connection_id) from result")
grep -E "^Client" "$W/perf.out" || true
python3 - "$S" "$ROWS" "$OK" "$MAXCONN" "$KIB" "$WALL" "$USR" "$SYS" <<'PY'
import sys
s, rows, ok, conns, kib, wall, usr, sys_ = sys.argv[1:]
s, rows, ok, conns, kib = int(s), int(rows), int(ok), int(conns), int(kib)
print(f"streams {s}: rows {rows}, ok {ok}, connections {conns}, wall {float(wall):.1f} s, client CPU {float(usr)+float(sys_):.1f} s")
print(f"peak RSS {kib/1024:.1f} MiB = {kib*1024/s/1024:.1f} KiB per open stream")
PY

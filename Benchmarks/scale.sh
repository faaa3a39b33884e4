#!/usr/bin/env bash
# Connection and stream scale: STREAMS concurrent streaming requests against `fastperf serve` in a separate
# process with a long inter-token delay, so that every stream is open at once; over HTTP/1.1 (one connection
# each) or h2c (MAXSTREAMS per connection). Prints rows, successes, the client's peak RSS per open stream.
# usage: Benchmarks/scale.sh h1|h2 [STREAMS] [TOKENS=10] [ITL_MS=1000] [MAXSTREAMS=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
P=${1:?usage: Benchmarks/scale.sh h1|h2 [STREAMS] [TOKENS] [ITL_MS] [MAXSTREAMS]}
case "$P" in
  h1) S=${2:-15000}; H2FLAGS=(); SERVE_FLAGS=(); PORT=18580 ;;
  h2) S=${2:-100000}; H2FLAGS=(--http2 --max-streams "${5:-1000}"); SERVE_FLAGS=(--http2); PORT=18680 ;;
  *) echo "scale.sh: protocol must be h1 or h2 (got $P)" >&2; exit 2 ;;
esac
T=${3:-10}; ITL=${4:-1000}
W=$(mktemp -d /tmp/fastperf-scale.XXXXXX)
. Benchmarks/lib.sh
need_tools time:time sqlite3:sqlite3
build_release
$FP serve "${SERVE_FLAGS[@]}" --port $PORT --ttft-ms $ITL --itl-ms $ITL --output-tokens $T > "$W/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$W"' EXIT
sleep 1
echo "open-files limit: soft $(ulimit -Sn), hard $(ulimit -Hn); the client raises its soft limit to the hard one"
/usr/bin/time -f "%M %e %U %S" -o "$W/time" $FP perf --url http://127.0.0.1:$PORT/v1/chat/completions \
  "${H2FLAGS[@]}" --parallel $S --number $S --max-tokens $T --prompt hi --db-store metrics --connect-timeout 60 \
  --outputs-dir "$W/out" --no-timestamp --name scale --sleep-interval 0 --quiet > "$W/perf.out" 2> "$W/perf.err" || { tail -5 "$W/perf.err"; exit 1; }
DB=$(ls "$W"/out/scale/*/benchmark_data.db)
read -r KIB WALL USR SYS < "$W/time"
ROWS=$(sqlite3 "$DB" "select count(*) from result")
OK=$(sqlite3 "$DB" "select count(*) from result where success=1")
CONNS=$(sqlite3 "$DB" "select count(distinct connection_id) from result")
grep -E "^Client" "$W/perf.out" || true
python3 - "$S" "$ROWS" "$OK" "$CONNS" "$KIB" "$WALL" "$USR" "$SYS" <<'PY'
import sys
s, rows, ok, conns, kib, wall, usr, sys_ = sys.argv[1:]
s, rows, ok, conns, kib = int(s), int(rows), int(ok), int(conns), int(kib)
print(f"streams {s}: rows {rows}, ok {ok}, connections {conns}, wall {float(wall):.1f} s, client CPU {float(usr)+float(sys_):.1f} s")
print(f"peak RSS {kib/1024:.1f} MiB = {kib*1024/s/1024:.1f} KiB per open stream")
PY

#!/usr/bin/env bash
# End-to-end client benchmark over HTTP/1.1: h2load --h1, wrk and fastperf (--db-store full and metrics)
# against the same canned-SSE nginx (../shared/bench/nginx_sse.sh), one after another in one run.
# Prints req/s, client CPU per request (user+sys from /usr/bin/time), peak RSS and the ratio to h2load: the median
# of ROUNDS rounds (default 3) in which the clients take turns (Benchmarks/report.py).
# usage: [ROUNDS=3] Benchmarks/e2e_h1.sh [REQUESTS=20000] [CONNECTIONS=64] [TOKENS=64]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}; C=${2:-64}; T=${3:-64}; ROUNDS=${ROUNDS:-3}
H1=18480; H2=18481; W=$(mktemp -d /tmp/fastperf-bench.XXXXXX); chmod 755 "$W"  # nginx workers (www-data) read the body file
. Benchmarks/lib.sh
check_rounds "$ROUNDS"
need_tools nginx:nginx-light h2load:nghttp2-client wrk:wrk time:time
build_release
start_nginx_sse $H1 $H2 $T "$W"
cat > "$W/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"model":"bench-model","messages":[{"role":"user","content":"hi"}],"stream":true}'
wrk.headers["Content-Type"] = "application/json"
LUA
URL=http://127.0.0.1:$H1/v1/chat/completions
# Warm nginx up once.
h2load --h1 -n 2000 -c $C -t 1 -d "$W/body.json" -H 'Content-Type: application/json' $URL >/dev/null

for r in $(seq "$ROUNDS"); do  # the clients take turns, round after round
  measure h2load.r$r h2load --h1 -n $N -c $C -t 1 -d "$W/body.json" -H 'Content-Type: application/json' $URL
  measure wrk.r$r wrk -t 1 -c $C -d 5s -s "$W/post.lua" $URL
  for store in full metrics; do
    measure fastperf-$store.r$r $FP perf --url $URL --parallel $C --number $N --max-tokens $T --prompt hi \
      --db-store $store --outputs-dir "$W/out-fastperf-$store.r$r" --no-timestamp --name bench --sleep-interval 0
    drop_database fastperf-$store.r$r
  done
done
python3 Benchmarks/report.py "$W" "$N" "$ROUNDS" "HTTP/1.1, c=$C, $T-token SSE" "h2load=h2load --h1" wrk=wrk \
  "fastperf-full=fastperf --db-store full" "fastperf-metrics=fastperf --db-store metrics"

#!/usr/bin/env bash
# End-to-end client benchmark over HTTP/2 (h2c, prior knowledge): h2load -m STREAMS and fastperf --http2
# --max-streams STREAMS with the same connections and streams, against the same canned-SSE nginx h2c port
# (../shared/bench/nginx_sse.sh), one after another. Prints req/s, client CPU per request, peak RSS and the
# ratio to h2load (target: fastperf req/s ≥ 0.9 × h2load): the median of ROUNDS rounds (default 3) in which the
# clients take turns (Benchmarks/report.py). HTTPS is Benchmarks/e2e_https.sh.
# usage: [ROUNDS=3] Benchmarks/e2e_h2.sh [REQUESTS=20000] [CONNECTIONS=64] [STREAMS=10] [TOKENS=64]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}; C=${2:-64}; M=${3:-10}; T=${4:-64}; ROUNDS=${ROUNDS:-3}
H1=18580; H2=18581; W=$(mktemp -d /tmp/fastperf-bench.XXXXXX); chmod 755 "$W"
. Benchmarks/lib.sh
check_rounds "$ROUNDS"
need_tools nginx:nginx-light h2load:nghttp2-client time:time
build_release
start_nginx_sse $H1 $H2 $T "$W"
URL=http://127.0.0.1:$H2/v1/chat/completions
h2load -n 2000 -c $C -m $M -t 1 -d "$W/body.json" -H 'Content-Type: application/json' $URL >/dev/null  # warm up

for r in $(seq "$ROUNDS"); do  # the clients take turns, round after round
  measure h2load.r$r h2load -n $N -c $C -m $M -t 1 -d "$W/body.json" -H 'Content-Type: application/json' $URL
  for store in full metrics; do
    measure fastperf-$store.r$r $FP perf --url $URL --http2 --parallel $((C * M)) --max-streams $M --number $N \
      --max-tokens $T --prompt hi --db-store $store --outputs-dir "$W/out-fastperf-$store.r$r" --no-timestamp \
      --name bench --sleep-interval 0
    drop_database fastperf-$store.r$r
  done
done
python3 Benchmarks/report.py "$W" "$N" "$ROUNDS" "h2c, c=$C x $M streams, $T-token SSE" "h2load=h2load -c $C -m $M" \
  "fastperf-full=fastperf --http2 full" "fastperf-metrics=fastperf --http2 metrics"

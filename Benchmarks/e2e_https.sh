#!/usr/bin/env bash
# End-to-end client benchmark over HTTPS (HTTP/1.1 over TLS): h2load --h1 and fastperf against the same nginx
# serving the canned SSE body (../shared/bench/make_sse.py) on a TLS port with a self-signed certificate made
# by the openssl CLI; fastperf with --db-store full and metrics. Prints req/s, client CPU per request, peak RSS
# and the ratios to h2load, and checks rows in the DB = requests sent.
# The median of ROUNDS rounds (default 3) in which the clients take turns (Benchmarks/report.py).
# usage: [ROUNDS=3] Benchmarks/e2e_https.sh [REQUESTS=20000] [CONNECTIONS=64] [TOKENS=64]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}; C=${2:-64}; T=${3:-64}; PORT=18584; ROUNDS=${ROUNDS:-3}
W=$(mktemp -d /tmp/fastperf-https.XXXXXX); chmod 755 "$W"  # nginx workers (www-data) read the files
. Benchmarks/lib.sh
check_rounds "$ROUNDS"
need_tools nginx:nginx-light h2load:nghttp2-client openssl:openssl time:time
build_release
python3 "$BENCH_DIR/make_sse.py" "$T" > "$W/body.sse"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -addext "subjectAltName=DNS:localhost" \
  -keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null
chmod 644 "$W"/*.pem
cat > "$W/nginx.conf" <<CONF
worker_processes 1;
pid $W/nginx.pid;
error_log $W/error.log;
events { worker_connections 65535; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_body_temp_path $W/body_temp;
  server {
    listen 127.0.0.1:$PORT ssl;
    ssl_certificate $W/cert.pem;
    ssl_certificate_key $W/key.pem;
    root $W;
    location / { error_page 405 =200 /body.sse; return 405; }
    location = /body.sse { default_type text/event-stream; }
  }
}
CONF
nginx -c "$W/nginx.conf" -e "$W/error.log" 2>/dev/null || nginx -c "$W/nginx.conf"
trap 'kill "$(cat "$W/nginx.pid")" 2>/dev/null || true; rm -rf "$W"' EXIT
sleep 0.5
printf '{"model":"bench-model","messages":[{"role":"user","content":"hi"}],"stream":true}' > "$W/body.json"
URL=https://localhost:$PORT/v1/chat/completions
h2load --h1 -n 2000 -c $C -t 1 -d "$W/body.json" -H 'Content-Type: application/json' $URL >/dev/null  # warm up
for r in $(seq "$ROUNDS"); do  # the clients take turns, round after round
  measure h2load.r$r h2load --h1 -n $N -c $C -t 1 -d "$W/body.json" -H 'Content-Type: application/json' $URL
  for store in full metrics; do
    measure fastperf-$store.r$r $FP perf --url $URL --cacert "$W/cert.pem" --parallel $C --number $N --max-tokens $T \
      --prompt hi --db-store $store --outputs-dir "$W/out-fastperf-$store.r$r" --no-timestamp --name bench --sleep-interval 0
    drop_database fastperf-$store.r$r
  done
done
python3 Benchmarks/report.py "$W" "$N" "$ROUNDS" "HTTPS (HTTP/1.1 over TLS), c=$C, $T-token SSE" "h2load=h2load --h1" \
  "fastperf-full=fastperf --db-store full" "fastperf-metrics=fastperf --db-store metrics"

#!/usr/bin/env bash
# End-to-end client benchmark over HTTPS (HTTP/1.1 over TLS): h2load --h1 and fastperf against the same nginx
# serving the canned SSE body (../shared/bench/make_sse.py) on a TLS port with a self-signed certificate made
# by the openssl CLI; fastperf with --db-store full and metrics. Prints req/s, client CPU per request, peak RSS
# and the ratios to h2load, and checks rows in the DB = requests sent.
# usage: Benchmarks/e2e_https.sh [REQUESTS=20000] [CONNECTIONS=64] [TOKENS=64]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}; C=${2:-64}; T=${3:-64}; PORT=18584
W=$(mktemp -d /tmp/fastperf-https.XXXXXX); chmod 755 "$W"  # nginx workers (www-data) read the files
. Benchmarks/lib.sh
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
measure h2load h2load --h1 -n $N -c $C -t 1 -d "$W/body.json" -H 'Content-Type: application/json' $URL
for store in full metrics; do
  measure fastperf-$store $FP perf --url $URL --cacert "$W/cert.pem" --parallel $C --number $N --max-tokens $T \
    --prompt hi --db-store $store --outputs-dir "$W/out-$store" --no-timestamp --name bench --sleep-interval 0 --quiet
done
python3 - "$W" "$N" <<'PY'
import json, re, sys, glob, sqlite3
w, n = sys.argv[1], int(sys.argv[2])
def cpu(name):
    u, s, m, e = open(f"{w}/{name}.time").read().split()[-4:]
    return float(u) + float(s), int(m) / 1024
out = open(f"{w}/h2load.out").read()
h_rps = float(re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out).group(1))
h_ok = int(re.search(r"(\d+) succeeded", out).group(1))
h_cpu, h_rss = cpu("h2load")
print(f"{'client (HTTPS, HTTP/1.1)':28} {'req/s':>10} {'ok':>7} {'CPU µs/req':>11} {'peak RSS MiB':>13} {'req/s ÷ h2load':>15} {'CPU ÷ h2load':>13}")
print(f"{'h2load --h1':28} {h_rps:10.0f} {h_ok:7d} {h_cpu/max(h_ok,1)*1e6:11.1f} {h_rss:13.1f} {1:15.2f} {1:13.2f}")
lost = []
for store in ("full", "metrics"):
    point = glob.glob(f"{w}/out-{store}/bench/parallel_*")[0]
    s = json.load(open(f"{point}/benchmark_summary.json"))
    f_cpu, f_rss = cpu(f"fastperf-{store}")
    rows = sqlite3.connect(f"{point}/benchmark_data.db").execute("select count(*) from result").fetchone()[0]
    if rows != n: lost.append(f"--db-store {store}: {rows} rows for {n} requests")
    print(f"{'fastperf --db-store ' + store:28} {s['Req Throughput (req/s)']:10.0f} {s['Success Requests']:7d} {f_cpu/n*1e6:11.1f} "
          f"{f_rss:13.1f} {s['Req Throughput (req/s)']/h_rps:15.2f} {f_cpu/n/(h_cpu/max(h_ok,1)):13.2f}")
print("rows in the DB = requests sent: " + ("yes, both runs" if not lost else "NO: " + "; ".join(lost)))
sys.exit(1 if lost else 0)
PY

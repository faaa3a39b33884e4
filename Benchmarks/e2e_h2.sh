#!/usr/bin/env bash
# End-to-end client benchmark over HTTP/2 (h2c, prior knowledge): h2load -m STREAMS and fastperf --http2
# --max-streams STREAMS with the same connections and streams, against the same canned-SSE nginx h2c port
# (../shared/bench/nginx_sse.sh), one after another. Prints req/s, client CPU per request, peak RSS and the
# ratio to h2load (target: fastperf req/s ≥ 0.9 × h2load).
# (HTTPS HTTP/1.1 against `h2load --h1` over TLS is not in this script yet: the TLS client is not wired in.)
# usage: Benchmarks/e2e_h2.sh [REQUESTS=20000] [CONNECTIONS=64] [STREAMS=10] [TOKENS=64]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}; C=${2:-64}; M=${3:-10}; T=${4:-64}
H1=18580; H2=18581; W=$(mktemp -d /tmp/fastperf-bench.XXXXXX); chmod 755 "$W"
. Benchmarks/lib.sh
need_tools nginx:nginx-light h2load:nghttp2-client time:time
build_release
start_nginx_sse $H1 $H2 $T "$W"
URL=http://127.0.0.1:$H2/v1/chat/completions
h2load -n 2000 -c $C -m $M -t 1 -d "$W/body.json" -H 'Content-Type: application/json' $URL >/dev/null  # warm up

measure h2load h2load -n $N -c $C -m $M -t 1 -d "$W/body.json" -H 'Content-Type: application/json' $URL
for store in full metrics; do
  measure fastperf-$store $FP perf --url $URL --http2 --parallel $((C * M)) --max-streams $M --number $N --max-tokens $T \
    --prompt hi --db-store $store --outputs-dir "$W/out-$store" --no-timestamp --name bench --sleep-interval 0
done

python3 - "$W" "$N" "$C" "$M" <<'PY'
import json, re, sys, glob
w, n, c, m = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def cpu(name):
    u, s, mem, e = open(f"{w}/{name}.time").read().split()[-4:]
    return float(u) + float(s), int(mem) / 1024
rows = []
out = open(f"{w}/h2load.out").read()
rps = float(re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out).group(1))
ok = int(re.search(r"(\d+) succeeded", out).group(1))
cp, rss = cpu("h2load"); rows.append((f"h2load -c {c} -m {m}", rps, ok, cp / max(ok, 1), rss))
for store in ("full", "metrics"):
    s = json.load(open(glob.glob(f"{w}/out-{store}/bench/parallel_*/benchmark_summary.json")[0]))
    cp, rss = cpu(f"fastperf-{store}")
    rows.append((f"fastperf --http2 {store}", s["Req Throughput (req/s)"], s["Success Requests"], cp / max(n, 1), rss))
base_rps, base_cpu = rows[0][1], rows[0][3]
print(f"{'client (h2c)':28} {'req/s':>10} {'ok':>7} {'CPU µs/req':>11} {'peak RSS MiB':>13} {'req/s ÷ h2load':>15} {'CPU ÷ h2load':>13}")
for name, rps, ok, cp, rss in rows:
    print(f"{name:28} {rps:10.0f} {ok:7d} {cp*1e6:11.1f} {rss:13.1f} {rps/base_rps:15.2f} {cp/base_cpu:13.2f}")
PY

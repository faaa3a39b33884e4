#!/usr/bin/env bash
# End-to-end client benchmark over HTTP/1.1: h2load --h1, wrk and fastperf (--db-store full and metrics)
# against the same canned-SSE nginx (../shared/bench/nginx_sse.sh), one after another in one run.
# Prints req/s, client CPU per request (user+sys from /usr/bin/time), peak RSS and the ratio to h2load.
# usage: Benchmarks/e2e_h1.sh [REQUESTS=20000] [CONNECTIONS=64] [TOKENS=64]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}; C=${2:-64}; T=${3:-64}
H1=18480; H2=18481; W=$(mktemp -d /tmp/fastperf-bench.XXXXXX); chmod 755 "$W"  # nginx workers (www-data) read the body file
. Benchmarks/lib.sh
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

measure h2load h2load --h1 -n $N -c $C -t 1 -d "$W/body.json" -H 'Content-Type: application/json' $URL
measure wrk wrk -t 1 -c $C -d 5s -s "$W/post.lua" $URL
for store in full metrics; do
  measure fastperf-$store $FP perf --url $URL --parallel $C --number $N --max-tokens $T --prompt hi \
    --db-store $store --outputs-dir "$W/out-$store" --no-timestamp --name bench --sleep-interval 0
done

python3 - "$W" "$N" <<'PY'
import json, re, sys, glob, sqlite3
w, n = sys.argv[1], int(sys.argv[2])
def cpu(name):
    u, s, m, e = open(f"{w}/{name}.time").read().split()[-4:]
    return float(u) + float(s), int(m) / 1024, float(e)
rows = []
out = open(f"{w}/h2load.out").read()
rps = float(re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out).group(1))
ok = int(re.search(r"(\d+) succeeded", out).group(1))
c, rss, _ = cpu("h2load"); rows.append(("h2load --h1", rps, ok, c / max(ok, 1), rss))
out = open(f"{w}/wrk.out").read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
reqs = int(re.search(r"(\d+) requests in", out).group(1))
c, rss, _ = cpu("wrk"); rows.append(("wrk", rps, reqs, c / max(reqs, 1), rss))
lost = []
for store in ("full", "metrics"):
    point = glob.glob(f"{w}/out-{store}/bench/parallel_*")[0]
    s = json.load(open(f"{point}/benchmark_summary.json"))
    c, rss, _ = cpu(f"fastperf-{store}")
    ok = s["Success Requests"]
    stored = sqlite3.connect(f"{point}/benchmark_data.db").execute("select count(*) from result").fetchone()[0]
    if stored != n:
        lost.append(f"--db-store {store}: {stored} rows for {n} requests")
    rows.append((f"fastperf --db-store {store}", s["Req Throughput (req/s)"], ok, c / max(n, 1), rss))
base_rps, base_cpu = rows[0][1], rows[0][3]
print(f"{'client':28} {'req/s':>10} {'ok':>7} {'CPU µs/req':>11} {'peak RSS MiB':>13} {'req/s ÷ h2load':>15} {'CPU ÷ h2load':>13}")
for name, rps, ok, c, rss in rows:
    print(f"{name:28} {rps:10.0f} {ok:7d} {c*1e6:11.1f} {rss:13.1f} {rps/base_rps:15.2f} {c/base_cpu:13.2f}")
for store in ("full", "metrics"):  # the run's own account of its CPU (loops and writer apart)
    print(f"--db-store {store}: " + next((l.strip() for l in open(f"{w}/fastperf-{store}.out") if l.startswith("Client:")), "?"))
print("rows in the DB = requests sent: " + ("yes, both runs" if not lost else "NO: " + "; ".join(lost)))
sys.exit(1 if lost else 0)
PY

#!/usr/bin/env bash
# Open-loop benchmark against the canned-SSE nginx of ../shared/bench: fastperf sends RATE req/s on a Poisson
# schedule for SECONDS (--open-loop, --db-store metrics), then replays a 1,000-line trace (Poisson at 500/s,
# offsets in ms with µs precision). Prints the achieved rate against the target, send lag p50/p99/max, the
# connections used, rows = requests, and whether issue #5's targets hold (rate within 0.5 %, send lag p99
# <= 1 ms at RATE; trace send lag p99 <= 2 ms).
# usage: Benchmarks/open_loop.sh [RATE=20000] [SECONDS=10] [TOKENS=64]
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${1:-20000}; SECONDS_=${2:-10}; T=${3:-64}
N=$((RATE * SECONDS_))
H1=18482; H2=18483; W=$(mktemp -d /tmp/fastperf-open.XXXXXX); chmod 755 "$W"
. Benchmarks/lib.sh
need_tools nginx:nginx-light time:time sqlite3:sqlite3
build_release
start_nginx_sse $H1 $H2 $T "$W"
URL=http://127.0.0.1:$H1/v1/chat/completions

measure open $FP perf --url $URL --rate $RATE --number $N --open-loop --max-tokens $T --prompt hi --seed 7 \
  --db-store metrics --outputs-dir "$W/out-open" --no-timestamp --name bench --sleep-interval 0

python3 - "$W/trace.jsonl" <<'PY'
import json, random, sys
rng, t = random.Random(21), 0.0
with open(sys.argv[1], "w") as f:
    for k in range(1000):
        f.write(json.dumps({"timestamp": round(t, 3), "prompt": f"trace {k}", "output_length": 8, "request_id": f"r{k}"}) + "\n")
        t += rng.expovariate(500) * 1000
PY
measure trace $FP perf --url $URL --dataset workload_trace --dataset-path "$W/trace.jsonl" --number 1000 \
  --db-store metrics --outputs-dir "$W/out-trace" --no-timestamp --name bench --sleep-interval 0

python3 - "$W" "$RATE" "$N" <<'PY'
import glob, json, sqlite3, sys
w, rate, n = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
ok = True
def point(name):
    d = glob.glob(f"{w}/out-{name}/bench/*/")[0]
    s = json.load(open(d + "benchmark_summary.json"))
    db = sqlite3.connect(d + "benchmark_data.db")
    rows, conns, i0, i1, s0, s1 = db.execute("select count(*), count(distinct connection_id), min(intended_start_time), "
                                             "max(intended_start_time), min(start_time), max(start_time) from result").fetchone()
    u, sy, m, e = open(f"{w}/{name}.time").read().split()[-4:]
    return s, rows, conns, float(u) + float(sy), int(m) / 1024, (rows - 1) / (i1 - i0), (rows - 1) / (s1 - s0)
s, rows, conns, cpu, rss, scheduled, sent = point("open")
achieved, p99 = s["Achieved Rate (req/s)"], s["Send Lag P99 (ms)"]
# A Poisson sample of N arrivals has its own rate (±1/√N); "sent" over "scheduled" is the client's own error.
print(f"open loop {rate:.0f} req/s x {n} requests: schedule {scheduled:.1f} req/s, sent {sent:.1f} req/s "
      f"({(sent / scheduled - 1) * 100:+.3f} % of the schedule); achieved {achieved:.1f} req/s ({(achieved / rate - 1) * 100:+.2f} % of the target), "
      f"send lag p50 {s['Send Lag P50 (ms)']} ms, p99 {p99} ms, max {s['Send Lag Max (ms)']} ms; "
      f"{conns} connections; client CPU {cpu / n * 1e6:.1f} µs/request, peak RSS {rss:.1f} MiB; rows {rows}/{n}")
ok &= abs(achieved / rate - 1) <= 0.005 and p99 <= 1 and rows == n
t, rows, conns, _, _, _, _ = point("trace")
print(f"trace replay 1000 lines at ~500/s: send lag p50 {t['Send Lag P50 (ms)']} ms, p99 {t['Send Lag P99 (ms)']} ms, "
      f"max {t['Send Lag Max (ms)']} ms; rows {rows}/1000")
ok &= t["Send Lag P99 (ms)"] <= 2 and rows == 1000
print("targets (rate within 0.5 %, send lag p99 <= 1 ms; trace p99 <= 2 ms; rows = requests): " + ("met" if ok else "NOT met"))
PY

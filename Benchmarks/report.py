#!/usr/bin/env python3
"""Summary table of an end-to-end benchmark script (e2e_h1.sh, e2e_h2.sh, e2e_https.sh).

usage: report.py DIR REQUESTS ROUNDS TITLE NAME=LABEL ...

Each NAME was measured ROUNDS times by lib.sh's `measure NAME.rK` (K = 1..ROUNDS, the clients taking turns within
a round): DIR/NAME.rK.time holds user s, system s, peak KiB and wall s, DIR/NAME.rK.out its stdout, and
DIR/NAME.rK.server (when present) the server's CPU seconds during the run. A NAME that
starts with `h2load` or `wrk` is read from that tool's output; a `fastperf-*` NAME from the run's
benchmark_summary.json and benchmark_data.db under DIR/out-NAME.rK. The first NAME is the baseline of the ratios.

Per client: the median req/s, median CPU µs per request and median server CPU µs per request over the rounds (the lower middle one for an even count,
so that it is a round that happened; this shared machine is noisy, so every round's req/s is printed too), the
largest peak RSS, the successes of the worst round, the ratios of the medians to the baseline's, and the req/s
ratio to the baseline within each round with its median (the lower middle one). Checks that
every fastperf run stored one row per request; exits 1 when one did not.
"""
import glob
import json
import re
import sqlite3
import statistics
import sys

w, n, rounds, title = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
if rounds < 1:
    sys.exit("ROUNDS must be 1 or more")
clients = [a.split("=", 1) for a in sys.argv[5:]]


def run(name, k):
    """(req/s, requests done, CPU s, peak RSS MiB, fastperf's Client line or None, lost-rows message or None,
    successful requests, server CPU s or None)"""
    tag = f"{name}.r{k}"
    user, system, kib, _ = open(f"{w}/{tag}.time").read().split()[-4:]
    cpu, rss = float(user) + float(system), int(kib) / 1024
    try:
        server = float(open(f"{w}/{tag}.server").read())
    except (OSError, ValueError):
        server = None
    out = open(f"{w}/{tag}.out").read()
    if name.startswith("h2load"):
        rps = float(re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out).group(1))
        ok = int(re.search(r"(\d+) succeeded", out).group(1))
        return rps, ok, cpu, rss, None, None, ok, server
    if name.startswith("wrk"):
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        done = int(re.search(r"(\d+) requests in", out).group(1))
        bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        return rps, done, cpu, rss, None, None, done - (int(bad.group(1)) if bad else 0), server
    point = glob.glob(f"{w}/out-{tag}/bench/parallel_*")[0]
    summary = json.load(open(f"{point}/benchmark_summary.json"))
    try:  # counted by lib.sh's drop_database, which deleted the database
        rows = int(open(f"{w}/{tag}.rows").read())
    except OSError:
        rows = sqlite3.connect(f"{point}/benchmark_data.db").execute("select count(*) from result").fetchone()[0]
    lost = None if rows == n else f"{tag}: {rows} rows for {n} requests"
    line = next((l.strip() for l in out.splitlines() if l.startswith("Client:")), None)
    return summary["Req Throughput (req/s)"], n, cpu, rss, line, lost, summary["Success Requests"], server


table, lost, lines = [], [], []
for name, label in clients:
    runs = [run(name, k) for k in range(1, rounds + 1)]
    rps = [r[0] for r in runs]
    cpu = statistics.median_low(r[2] / max(r[1], 1) for r in runs)
    # The round with the fewest successes, as "ok/requests".
    ok = min((r[6], r[1]) for r in runs)
    servers = [r[7] / max(r[1], 1) for r in runs if r[7] is not None]
    server = statistics.median_low(servers) if servers else None
    table.append((label, statistics.median_low(rps), rps, cpu, max(r[3] for r in runs), f"{ok[0]}/{ok[1]}", server))
    lost += [r[5] for r in runs if r[5]]
    median_run = sorted(runs, key=lambda r: r[0])[(len(runs) - 1) // 2]  # the run median_low picked
    if median_run[4]:
        lines.append(f"{label} (its median run): {median_run[4]}")

base_rps, base_cpu = table[0][1], table[0][3]
print(f"{title}: median of {rounds} rounds, {n} requests each")
print(f"{'client':30} {'req/s':>8} {'ok (worst round)':>17} {'CPU µs/req':>11} {'server µs/req':>14} {'peak RSS MiB':>13} {'req/s ÷ base':>13} {'CPU ÷ base':>11}  req/s of each round")
for label, rps, each, cpu, rss, ok, server in table:
    shown = f"{server * 1e6:14.1f}" if server is not None else f"{'-':>14}"
    print(f"{label:30} {rps:8.0f} {ok:>17} {cpu * 1e6:11.1f} {shown} {rss:13.1f} {rps / base_rps:13.2f} {cpu / base_cpu:11.2f}  "
          + " ".join(f"{x:.0f}" for x in each))
# The clients take turns, so a round's figures were measured minutes apart at most: the ratio within each round
# is less exposed to the machine's slower and faster spells than the ratio of the medians.
base_each = table[0][2]
for label, _, each, *_ in table[1:]:
    ratios = [x / b for x, b in zip(each, base_each)]
    print(f"{label}: req/s ÷ base in each round " + " ".join(f"{r:.2f}" for r in ratios)
          + f", median {statistics.median_low(ratios):.2f}")
for line in lines:
    print(line)
print("rows in the DB = requests sent: " + ("yes, every fastperf run" if not lost else "NO: " + "; ".join(lost)))
sys.exit(1 if lost else 0)

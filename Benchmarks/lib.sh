# Shared set-up of the benchmark scripts (sourced from the repository root).
BENCH_DIR=${FASTPERF_BENCH_DIR:-../shared/bench}

# need_tools CMD:PACKAGE ...: installs the Debian packages whose command is missing (`time` means /usr/bin/time).
need_tools() {
  local need="" pair cmd
  for pair in "$@"; do
    cmd=${pair%%:*}
    if [ "$cmd" = time ]; then [ -x /usr/bin/time ] || need="$need ${pair#*:}"
    else command -v "$cmd" >/dev/null || need="$need ${pair#*:}"; fi
  done
  if [ -n "$need" ]; then
    local SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need >/dev/null
  fi
}

# check_rounds N: stops the script (removing its $W) unless N (the ROUNDS setting) is a whole number of 1 or more.
check_rounds() {
  case "$1" in
    ''|*[!0-9]*|0) echo "ROUNDS must be a whole number of 1 or more (got '$1')" >&2; rm -rf "${W:-}"; exit 2;;
  esac
}

# build_release: builds the release binary and sets FP to it.
build_release() {
  swift build -c release >/dev/null
  FP=.build/release/fastperf
}

# start_nginx_sse H1PORT H2PORT TOKENS DIR: the canned-SSE nginx of ../shared/bench (stopped and DIR removed
# on exit) and DIR/body.json, a chat request body for h2load and wrk.
start_nginx_sse() {
  sh "$BENCH_DIR/nginx_sse.sh" "$1" "$2" "$3" "$4" >/dev/null
  trap "kill \"\$(cat '$4/nginx.pid')\" 2>/dev/null || true; rm -rf '$4'" EXIT
  sleep 0.5
  printf '{"model":"bench-model","messages":[{"role":"user","content":"hi"}],"stream":true}' > "$4/body.json"
}

# server_ticks: CPU clock ticks (user + system, 1/CLK_TCK s) used so far by the children of the process whose pid
# is in $W/nginx.pid (nginx's workers); 0 when there is none.
server_ticks() {
  local master t=0 p
  master=$(cat "$W/nginx.pid" 2>/dev/null) || { echo 0; return; }
  for p in $(pgrep -P "$master" 2>/dev/null); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo $t
}

# drop_database NAME: counts the rows of fastperf run NAME's benchmark_data.db (into $W/NAME.rows, which
# report.py reads), then deletes the database. Each full-mode run writes ≈ 300 MiB: kept, the page cache of every
# later round grows into memory no run has touched yet, which on a VM costs the host's first touch of every page
# (the writer's pwrite copy ran 2× slower from the third round on).
drop_database() {
  local db
  db=$(ls "$W"/out-"$1"/bench/parallel_*/benchmark_data.db)
  python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from result").fetchone()[0])' \
    "$db" > "$W/$1.rows"
  rm -f "$db"
}

# measure NAME CMD...: flushes dirty pages (sync), then runs CMD under /usr/bin/time; its stdout goes to $W/NAME.out and its user s, system s,
# peak KiB and wall s to $W/NAME.time, and the server's CPU seconds during the run (server_ticks) to $W/NAME.server.
# Stops the script with the command's last lines when it fails.
measure() {
  local name=$1; shift
  sync  # the previous run's database pages go to disk now, not during this run
  local before; before=$(server_ticks)
  /usr/bin/time -f "%U %S %M %e" -o "$W/$name.time" "$@" > "$W/$name.out" 2> "$W/$name.err" || { echo "$name failed:"; tail -5 "$W/$name.err"; exit 1; }
  echo "$(( $(server_ticks) - before )) $(getconf CLK_TCK)" | awk '{printf "%.3f\n", $1 / $2}' > "$W/$name.server"
}

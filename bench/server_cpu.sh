#!/usr/bin/env bash
# Server CPU per request, herald vs redis-server: the per-core measure when the
# load generator, not the server, limits requests/s (e.g. redis-benchmark -P 1).
#
# Each server runs pinned to core 0 and redis-benchmark to core 1, alternating
# herald, redis for --rounds rounds, each started fresh. Reads the server's
# utime+stime from /proc/<pid>/stat before and after the run and prints the CPU
# seconds per run, then the medians and the ratio herald/redis (< 1: herald
# spends less CPU for the same requests).
#
# usage: bench/server_cpu.sh [--test get] [--pipeline 1] [--requests 150000] [--rounds 3]
set -euo pipefail
cd "$(dirname "$0")/.."
test=get pipeline=1 requests=150000 rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --test) test=$2; shift 2 ;;
    --pipeline) pipeline=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
. bench/lib.sh
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks_per_s=$(getconf CLK_TCK)
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for round in $(seq "$rounds"); do
  for side in herald redis; do
    port=$(free_port)
    start_server "$side" "$port" || exit 1
    before=$(cpu_ticks "$server_pid")
    timeout 300 taskset -c 1 redis-benchmark -p "$port" -t "$test" -P "$pipeline" -c 50 \
      -n "$requests" -r 100000 -q >/dev/null 2>&1
    after=$(cpu_ticks "$server_pid")
    echo "round=$round side=$side test=$test cpu_s=$(awk -v t=$((after - before)) -v hz="$ticks_per_s" 'BEGIN {printf "%.2f", t / hz}')" | tee -a "$results"
    stop_server
  done
done
python3 - "$results" <<'PY'
import sys, statistics, collections
per = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = dict(kv.split("=", 1) for kv in line.split())
    per[f["side"]].append(float(f["cpu_s"]))
h, r = statistics.median(per["herald"]), statistics.median(per["redis"])
print(f"server CPU seconds (median): herald {h:.2f}, redis {r:.2f}, herald/redis {h / r:.2f}")
PY

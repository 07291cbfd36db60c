#!/usr/bin/env bash
# Side-by-side redis-benchmark runs: herald vs redis-server, same machine, same load.
#
# Each server runs pinned to core 0 and redis-benchmark to core 1; runs alternate
# herald, redis, herald, redis, ... and each server is started fresh per run.
# Prints every run, then per test the median requests/s of each server and the
# ratio herald/redis.
#
# usage: bench/redis_benchmark.sh [--rounds N] [--tests ping_mbulk,get] [--pipeline P]
#                                 [--clients C] [--requests N] [--threads T]
# env:   HERALD_BIN (default target/release/herald)
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=5 tests=ping_mbulk pipeline=1 clients=50 requests=200000 threads=1 extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --tests) tests=$2; shift 2 ;;
    --pipeline) pipeline=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
. bench/lib.sh

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for round in $(seq "$rounds"); do
  for side in herald redis; do
    port=$(free_port)
    start_server "$side" "$port" "$threads" || exit 1
    timeout 300 taskset -c 1 redis-benchmark -p "$port" -t "$tests" -P "$pipeline" -c "$clients" \
      -n "$requests" -r 100000 --csv "${extra[@]}" 2>/dev/null | tail -n +2 |
      while IFS=, read -r name rps _; do
        name=${name//\"/}; name=${name// /_}; rps=${rps//\"/}
        echo "round=$round side=$side test=$name rps=$rps" | tee -a "$results"
      done
    stop_server
  done
done

echo
echo "tests=$tests pipeline=$pipeline clients=$clients requests=$requests threads=$threads rounds=$rounds"
python3 - "$results" <<'PY'
import sys, statistics, collections
runs = collections.defaultdict(lambda: collections.defaultdict(list))
for line in open(sys.argv[1]):
    f = dict(kv.split("=", 1) for kv in line.split())
    runs[f["test"]][f["side"]].append(float(f["rps"]))
print(f"{'test':<28}{'herald rps':>14}{'redis rps':>14}{'herald/redis':>14}")
for test, sides in runs.items():
    h = statistics.median(sides["herald"]); r = statistics.median(sides["redis"])
    print(f"{test:<28}{h:>14.0f}{r:>14.0f}{h / r:>14.2f}")
PY

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
herald_bin=${HERALD_BIN:-target/release/herald}
[ -x "$herald_bin" ] || { echo "build herald first: cargo build --release" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ping() { for _ in $(seq 100); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.05; done; return 1; }

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for round in $(seq "$rounds"); do
  for side in herald redis; do
    port=$(free_port)
    if [ "$side" = herald ]; then
      taskset -c 0 "$herald_bin" --port "$port" --threads "$threads" --log-level warn &
    else
      taskset -c 0 redis-server --port "$port" --save "" --appendonly no --loglevel warning >/dev/null &
    fi
    pid=$!
    wait_ping "$port" || { echo "$side did not start" >&2; kill "$pid"; exit 1; }
    timeout 300 taskset -c 1 redis-benchmark -p "$port" -t "$tests" -P "$pipeline" -c "$clients" \
      -n "$requests" -r 100000 --csv "${extra[@]}" 2>/dev/null | tail -n +2 |
      while IFS=, read -r name rps _; do
        name=${name//\"/}; name=${name// /_}; rps=${rps//\"/}
        echo "round=$round side=$side test=$name rps=$rps" | tee -a "$results"
      done
    kill "$pid"; wait "$pid" 2>/dev/null || true
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

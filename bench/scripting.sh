#!/usr/bin/env bash
# Lua scripts side by side: herald vs redis-server, EVALSHA under redis-benchmark.
#
# Per round and server: a fresh server pinned to core 0, both scripts loaded with
# SCRIPT LOAD (the same SHA1 on both sides), then redis-benchmark on core 1 runs
#   EVALSHA <incr-sha> 1 key:__rand_int__       one call:  INCR KEYS[1]
#   EVALSHA <ten-sha> 1 key:__rand_int__        ten calls: SET, 4 x INCR, GET,
#                                               EXPIRE, TTL, INCRBY, GET on KEYS[1]
# Rounds alternate herald, redis, herald, redis ...; medians and ratios at the end.
#
# usage: bench/scripting.sh [--rounds 5] [--requests 200000] [--pipeline 16]
#                           [--clients 50] [--keyspace 100000] [--threads 1|default]
#                           [--herald-port P] [--redis-port P]
# env:   HERALD_BIN (default target/release/herald)
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=5 requests=200000 pipeline=16 clients=50 keyspace=100000 threads=1
herald_port='' redis_port=''
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --pipeline) pipeline=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --keyspace) keyspace=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --herald-port) herald_port=$2; shift 2 ;;
    --redis-port) redis_port=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
. bench/lib.sh

incr_script="return redis.call('INCR', KEYS[1])"
ten_script="local k = KEYS[1]
redis.call('SET', k, '10')
for i = 1, 4 do redis.call('INCR', k) end
local v = redis.call('GET', k)
redis.call('EXPIRE', k, 100)
local ttl = redis.call('TTL', k)
redis.call('INCRBY', k, ttl)
return {v, redis.call('GET', k)}"

results=$(mktemp)
trap 'rm -f "$results"; [ -z "${server_pid:-}" ] || kill "$server_pid" 2>/dev/null || true' EXIT

# start SIDE PORT: like start_server, but `--threads default` runs herald with
# no --threads flag (what a user runs).
start() {
  if [ "$1" = herald ] && [ "$threads" = default ]; then
    taskset -c 0 "$herald_bin" --port "$2" --memcache-port 0 --log-level warn &
    server_pid=$!
    for _ in $(seq 100); do redis-cli -p "$2" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
    echo "herald did not start" >&2; return 1
  fi
  start_server "$1" "$2" "$threads"
}

# bench SIDE ROUND PORT NAME ARGS...: one redis-benchmark run, one result line.
bench() {
  local side=$1 round=$2 port=$3 name=$4 out rps; shift 4
  if ! out=$(timeout 300 taskset -c 1 redis-benchmark -p "$port" -P "$pipeline" -c "$clients" \
      -n "$requests" -r "$keyspace" --csv "$@" 2>&1); then
    echo "round=$round side=$side $name: redis-benchmark failed: ${out%%$'\n'*}" >&2
    return 0
  fi
  rps=$(echo "$out" | grep '^"[A-Z]' | head -1 | cut -d, -f2 | tr -d '"')
  echo "round=$round side=$side test=$name rps=$rps" | tee -a "$results"
}

for round in $(seq "$rounds"); do
  for side in herald redis; do
    if [ "$side" = herald ]; then port=${herald_port:-$(free_port)}; else port=${redis_port:-$(free_port)}; fi
    start "$side" "$port" || exit 1
    incr_sha=$(redis-cli -p "$port" script load "$incr_script")
    ten_sha=$(redis-cli -p "$port" script load "$ten_script")
    # A wrong script or a missing command shows here, not as a fast error rate.
    check=$(redis-cli -p "$port" evalsha "$ten_sha" 1 check:key | tr '\n' ' ')
    [ "$check" = "14 114 " ] || { echo "$side: ten-call script replied '$check'" >&2; exit 1; }
    redis-cli -p "$port" del check:key >/dev/null
    bench "$side" "$round" "$port" EVALSHA_INCR EVALSHA "$incr_sha" 1 key:__rand_int__
    bench "$side" "$round" "$port" EVALSHA_10_CALLS EVALSHA "$ten_sha" 1 key:__rand_int__
    stop_server
  done
done
echo
echo "requests/s; pipeline=$pipeline clients=$clients requests=$requests keyspace=$keyspace herald-threads=$threads rounds=$rounds"
python3 - "$results" <<'PY'
import sys, statistics, collections
runs = collections.defaultdict(lambda: collections.defaultdict(list))
for line in open(sys.argv[1]):
    f = dict(kv.split("=", 1) for kv in line.split())
    if f.get("rps"):
        runs[f["test"]][f["side"]].append(float(f["rps"]))
print(f"{'test':<20}{'herald':>14}{'redis':>14}{'herald/redis':>14}{'spread h/r':>16}")
for test, sides in runs.items():
    h, r = sides["herald"], sides["redis"]
    if not h or not r:
        print(f"{test:<20}{'(ran on one side only)':>58}")
        continue
    mh, mr = statistics.median(h), statistics.median(r)
    spread = f"{(max(h)-min(h))/mh*100:.0f}%/{(max(r)-min(r))/mr*100:.0f}%"
    print(f"{test:<20}{mh:>14.0f}{mr:>14.0f}{mh / mr:>14.2f}{spread:>16}")
PY

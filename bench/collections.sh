#!/usr/bin/env bash
# Hashes, sets and sorted sets side by side: herald vs redis-server, same load.
#
# Throughput: per round and server, a fresh server pinned to core 0 and
# redis-benchmark on core 1: its built-in HSET, SADD and ZADD tests (which fill
# myhash, myset and myzset with up to --keyspace members), then custom commands
# on what they filled: HGET, SISMEMBER, ZSCORE, ZRANGE 0 9 WITHSCORES.
# Rounds alternate herald, redis, herald, redis ...; medians and ratios at the end.
#
# Memory (--memory): used_memory growth for 1M small hashes (5 fields of short
# values, HSET h:<i> f1 v1 ... f5 v5) and for one 1M-member sorted set, loaded
# through redis-cli --pipe; also RSS growth, since herald's used_memory is its
# own accounting.
#
# usage: bench/collections.sh [--rounds 5] [--requests 200000] [--pipeline 16]
#                             [--clients 50] [--keyspace 100000] [--threads 1|default]
#                             [--memory] [--items 1000000]
# env:   HERALD_BIN (default target/release/herald)
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=5 requests=200000 pipeline=16 clients=50 keyspace=100000 threads=1 memory=0 items=1000000
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --pipeline) pipeline=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --keyspace) keyspace=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --memory) memory=1; shift ;;
    --items) items=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
. bench/lib.sh

results=$(mktemp)
trap 'rm -f "$results" /tmp/herald-collections-*.load; [ -z "${server_pid:-}" ] || kill "$server_pid" 2>/dev/null || true' EXIT

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
  local side=$1 round=$2 port=$3 name=$4 out; shift 4
  if ! out=$(timeout 300 taskset -c 1 redis-benchmark -p "$port" -P "$pipeline" -c "$clients" \
      -n "$requests" -r "$keyspace" --csv "$@" 2>&1); then
    echo "round=$round side=$side $name: redis-benchmark failed: ${out%%$'\n'*}" >&2
    return 0
  fi
  echo "$out" | grep '^"[A-Z]' | while IFS=, read -r test rps _; do
    test=${test//\"/}; rps=${rps//\"/}
    [ "$name" = builtin ] || test=$name
    echo "round=$round side=$side test=${test// /_} rps=$rps" | tee -a "$results"
  done
}

median_table() {
  python3 - "$1" "$2" <<'PY'
import sys, statistics, collections
runs = collections.defaultdict(lambda: collections.defaultdict(list))
for line in open(sys.argv[1]):
    f = dict(kv.split("=", 1) for kv in line.split())
    runs[f["test"]][f["side"]].append(float(f[sys.argv[2]]))
print(f"{'test':<34}{'herald':>14}{'redis':>14}{'herald/redis':>14}{'spread h/r':>16}")
for test, sides in runs.items():
    h, r = sides["herald"], sides["redis"]
    if not h or not r:
        print(f"{test:<34}{'(ran on one side only)':>58}")
        continue
    mh, mr = statistics.median(h), statistics.median(r)
    spread = f"{(max(h)-min(h))/mh*100:.0f}%/{(max(r)-min(r))/mr*100:.0f}%"
    print(f"{test:<34}{mh:>14.0f}{mr:>14.0f}{mh / mr:>14.2f}{spread:>16}")
PY
}

if [ "$memory" = 0 ]; then
  for round in $(seq "$rounds"); do
    for side in herald redis; do
      port=$(free_port)
      start "$side" "$port" || exit 1
      bench "$side" "$round" "$port" builtin -t hset,sadd,zadd
      bench "$side" "$round" "$port" HGET HGET myhash element:__rand_int__
      bench "$side" "$round" "$port" SISMEMBER SISMEMBER myset element:__rand_int__
      bench "$side" "$round" "$port" ZSCORE ZSCORE myzset element:__rand_int__
      bench "$side" "$round" "$port" ZRANGE_0_9_WITHSCORES ZRANGE myzset 0 9 WITHSCORES
      stop_server
    done
  done
  echo
  echo "requests/s; pipeline=$pipeline clients=$clients requests=$requests keyspace=$keyspace herald-threads=$threads rounds=$rounds"
  median_table "$results" rps
  exit 0
fi

# Memory: build the two loads once.
python3 - "$items" > /tmp/herald-collections-hashes.load <<'PY'
import sys
out = sys.stdout.buffer
def cmd(*args):
    out.write(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
for i in range(int(sys.argv[1])):
    cmd(b"HSET", b"h:%d" % i, b"f1", b"v1", b"f2", b"v2", b"f3", b"v3", b"f4", b"v4", b"f5", b"%d" % i)
PY
python3 - "$items" > /tmp/herald-collections-zset.load <<'PY'
import sys
out = sys.stdout.buffer
def cmd(*args):
    out.write(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
n = int(sys.argv[1])
for start in range(0, n, 100):
    args = [b"ZADD", b"bigzset"]
    for i in range(start, min(start + 100, n)):
        args += [b"%d" % ((i * 7919) % 1000003), b"member:%d" % i]
    cmd(*args)
PY
used() { redis-cli -p "$1" info memory | awk -F: '/^used_memory:/ {print $2+0}'; }
rss() { awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$1/status"; }
for round in $(seq "$rounds"); do
  for side in herald redis; do
    for load in hashes zset; do
      port=$(free_port)
      start "$side" "$port" || exit 1
      u0=$(used "$port"); r0=$(rss "$server_pid")
      taskset -c 1 redis-cli -p "$port" --pipe < "/tmp/herald-collections-$load.load" >/dev/null
      sleep 0.5
      u1=$(used "$port"); r1=$(rss "$server_pid")
      echo "round=$round side=$side test=${load}_used_bytes_per_item v=$(( (u1 - u0) / items ))" | tee -a "$results"
      echo "round=$round side=$side test=${load}_rss_bytes_per_item v=$(( (r1 - r0) / items ))" | tee -a "$results"
      stop_server
    done
  done
done
echo
echo "bytes per item (hash of 5 fields / zset member); items=$items rounds=$rounds"
median_table "$results" v

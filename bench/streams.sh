#!/usr/bin/env bash
# Streams side by side: herald (--threads 1, and its default threads) vs
# redis-server. Servers pinned to core 0, the load generator to core 1; each
# run starts a fresh server; rounds run herald-t1, redis, herald-default, ...
#
# Per round and server:
#   XADD_RAND      redis-benchmark -P PIPELINE: XADD s:__rand_int__ * f v
#   XADD_HOT       redis-benchmark -P PIPELINE: XADD s * f1 v1 f2 v2 f3 v3 (one stream)
#   XREADGROUP_ACK herald-bench streams: PRODUCERS producers XADD at depth
#                  PIPELINE, CONSUMERS consumers of one group loop
#                  XREADGROUP COUNT n BLOCK ms STREAMS s > + XACK; deliveries/s
#                  (and the same run's XADD/s as XREADGROUP_ACK_xadd); every
#                  entry checked delivered once and acknowledged.
# Besides requests/s, the server's CPU time (utime+stime from /proc) per
# request (per delivered entry for XREADGROUP_ACK): it moves less with the
# machine's load than throughput does.
#
# usage: bench/streams.sh [--rounds 5] [--requests 300000] [--pipeline 16]
#                         [--clients 50] [--keyspace 100000]
#                         [--messages 200000] [--producers 2] [--consumers 4]
#                         [--count 100] [--block-ms 100] [--sides herald-t1,redis,herald]
# env:   HERALD_BIN (default target/release/herald), BENCH_BIN (target/release/herald-bench)
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=5 requests=300000 pipeline=16 clients=50 keyspace=100000
messages=200000 producers=2 consumers=4 count=100 block_ms=100
sides=herald-t1,redis,herald
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --pipeline) pipeline=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --keyspace) keyspace=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --producers) producers=$2; shift 2 ;;
    --consumers) consumers=$2; shift 2 ;;
    --count) count=$2; shift 2 ;;
    --block-ms) block_ms=$2; shift 2 ;;
    --sides) sides=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
. bench/lib.sh
bench_bin=${BENCH_BIN:-target/release/herald-bench}
[ -x "$bench_bin" ] || { echo "build herald-bench first: cargo build --release" >&2; exit 1; }

results=$(mktemp)
trap 'rm -f "$results"; [ -z "${server_pid:-}" ] || kill "$server_pid" 2>/dev/null || true' EXIT
ticks_per_s=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# start SIDE PORT: herald-t1 (one worker thread), herald (default threads) or redis.
start() {
  case "$1" in
    herald-t1) start_server herald "$2" 1 ;;
    redis) start_server redis "$2" ;;
    herald)
      taskset -c 0 "$herald_bin" --port "$2" --memcache-port 0 --log-level warn &
      server_pid=$!
      for _ in $(seq 100); do redis-cli -p "$2" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
      echo "herald did not start" >&2; return 1 ;;
  esac
}

# record SIDE ROUND TEST RATE UNITS TICKS: one result line.
record() {
  local cpu_us
  cpu_us=$(awk -v t="$6" -v hz="$ticks_per_s" -v n="$5" 'BEGIN {printf "%.3f", t / hz * 1e6 / n}')
  echo "round=$2 side=$1 test=$3 rate=$4 cpu_us=$cpu_us" | tee -a "$results"
}

# rb SIDE ROUND PORT NAME ARGS...: one redis-benchmark run.
rb() {
  local side=$1 round=$2 port=$3 name=$4 out rps before after; shift 4
  before=$(cpu_ticks "$server_pid")
  if ! out=$(timeout 300 taskset -c 1 redis-benchmark -p "$port" -P "$pipeline" -c "$clients" \
      -n "$requests" -r "$keyspace" --csv "$@" 2>&1); then
    echo "round=$round side=$side $name: redis-benchmark failed: ${out%%$'\n'*}" >&2
    return 0
  fi
  after=$(cpu_ticks "$server_pid")
  rps=$(echo "$out" | grep '^"[A-Z]' | head -1 | cut -d, -f2 | tr -d '"')
  record "$side" "$round" "$name" "$rps" "$requests" $((after - before))
}

# group SIDE ROUND PORT: one herald-bench streams run.
group() {
  local side=$1 round=$2 port=$3 out before after
  before=$(cpu_ticks "$server_pid")
  if ! out=$(timeout 300 taskset -c 1 "$bench_bin" streams --port "$port" --producers "$producers" \
      --pipeline "$pipeline" --consumers "$consumers" --count "$count" --block-ms "$block_ms" \
      --messages "$messages" --timeout-secs 120 2>&1); then
    echo "round=$round side=$side XREADGROUP_ACK failed: $out" >&2
    return 0
  fi
  after=$(cpu_ticks "$server_pid")
  local dps xps
  dps=$(echo "$out" | tr ' ' '\n' | awk -F= '$1 == "deliveries_per_s" {print $2}')
  xps=$(echo "$out" | tr ' ' '\n' | awk -F= '$1 == "xadd_per_s" {print $2}')
  record "$side" "$round" XREADGROUP_ACK "$dps" "$messages" $((after - before))
  echo "round=$round side=$side test=XREADGROUP_ACK_xadd rate=$xps" | tee -a "$results"
}

IFS=, read -r -a side_list <<<"$sides"
for round in $(seq "$rounds"); do
  for side in "${side_list[@]}"; do
    port=$(free_port)
    start "$side" "$port" || exit 1
    rb "$side" "$round" "$port" XADD_RAND XADD 's:__rand_int__' '*' f v
    redis-cli -p "$port" flushall >/dev/null
    rb "$side" "$round" "$port" XADD_HOT XADD s '*' f1 v1 f2 v2 f3 v3
    redis-cli -p "$port" flushall >/dev/null
    group "$side" "$round" "$port"
    stop_server
    server_pid=
  done
done
echo
echo "rate = requests/s (XREADGROUP_ACK: deliveries/s); cpu_us = server CPU microseconds per request (per delivery)"
echo "pipeline=$pipeline clients=$clients requests=$requests keyspace=$keyspace messages=$messages producers=$producers consumers=$consumers count=$count block_ms=$block_ms rounds=$rounds"
python3 - "$results" "$sides" <<'PY'
import sys, statistics, collections
runs = collections.defaultdict(lambda: collections.defaultdict(lambda: ([], [])))
for line in open(sys.argv[1]):
    f = dict(kv.split("=", 1) for kv in line.split())
    if not f.get("rate"):
        continue
    rates, cpus = runs[f["test"]][f["side"]]
    rates.append(float(f["rate"]))
    if "cpu_us" in f:
        cpus.append(float(f["cpu_us"]))
sides = sys.argv[2].split(",")
heralds = [s for s in sides if s != "redis"]
med = lambda v: statistics.median(v) if v else float("nan")
spread = lambda v: f"{(max(v) - min(v)) / med(v) * 100:.0f}%" if v else "-"
head = f"{'test':<22}" + "".join(f"{s:>12}" for s in sides)
head += "".join(f"{s + '/redis':>18}" for s in heralds) + "   spreads"
print(head)
for test, by_side in runs.items():
    r = med(by_side["redis"][0])
    row = f"{test:<22}" + "".join(f"{med(by_side[s][0]):>12.0f}" for s in sides)
    row += "".join(f"{med(by_side[s][0]) / r:>18.2f}" for s in heralds)
    row += "   " + " ".join(f"{s}:{spread(by_side[s][0])}" for s in sides)
    print(row)
print()
print(f"{'server CPU us/request':<22}" + "".join(f"{s:>12}" for s in sides) + "".join(f"{s + '/redis':>18}" for s in heralds))
for test, by_side in runs.items():
    if not by_side["redis"][1]:
        continue
    r = med(by_side["redis"][1])
    row = f"{test:<22}" + "".join(f"{med(by_side[s][1]):>12.3f}" for s in sides)
    row += "".join(f"{med(by_side[s][1]) / r:>18.2f}" for s in heralds)
    print(row)
PY

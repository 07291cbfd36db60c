#!/usr/bin/env bash
# Memory per key, herald vs redis-server: load N keys with V-byte values
# (`SET key:<i> <value>`, through redis-cli --pipe), then (RSS after - RSS before) / N.
# Alternates herald, redis for --rounds rounds and prints medians and the ratio.
#
# usage: bench/memory_per_key.sh [--keys 1000000] [--value-size 16] [--rounds 3]
set -euo pipefail
cd "$(dirname "$0")/.."
keys=1000000 size=16 rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) keys=$2; shift 2 ;;
    --value-size) size=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
. bench/lib.sh
load=$(mktemp); results=$(mktemp)
trap 'rm -f "$load" "$results"' EXIT
python3 - "$keys" "$size" > "$load" <<'PY'
import sys
n, size = int(sys.argv[1]), int(sys.argv[2])
value = b"v" * size
out = sys.stdout.buffer
for i in range(n):
    key = b"key:%d" % i
    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(value), value))
PY
rss() { awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$1/status"; }
for round in $(seq "$rounds"); do
  for side in herald redis; do
    port=$(free_port)
    start_server "$side" "$port" || exit 1
    before=$(rss "$server_pid")
    taskset -c 1 redis-cli -p "$port" --pipe < "$load" >/dev/null
    n=$(redis-cli -p "$port" dbsize)
    sleep 0.5
    after=$(rss "$server_pid")
    echo "round=$round side=$side keys=$n rss_before=$before rss_after=$after bytes_per_key=$(( (after - before) / n ))" | tee -a "$results"
    stop_server
  done
done
python3 - "$results" <<'PY'
import sys, statistics, collections
per = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = dict(kv.split("=", 1) for kv in line.split())
    per[f["side"]].append(int(f["bytes_per_key"]))
h, r = statistics.median(per["herald"]), statistics.median(per["redis"])
print(f"bytes per key (median): herald {h:.0f}, redis {r:.0f}, herald/redis {h / r:.2f}")
PY

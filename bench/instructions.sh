#!/usr/bin/env bash
# User-space instructions per request, herald vs the reference server, counted
# by valgrind's callgrind: a measure that does not move with the machine's load.
#
# For each case the server runs under callgrind twice, once serving SMALL and
# once LARGE requests (plus the same fixed set-up both times); instructions per
# request = (Ir(LARGE) - Ir(SMALL)) / (LARGE - SMALL), so start-up, set-up and
# shutdown cancel. herald runs with one worker thread; both servers get the
# same load from the same generator (redis-benchmark, or herald-bench for
# pub/sub and memcached) over one connection with 16 requests in flight.
#
# usage: bench/instructions.sh [--cases get,set,lpush,publish1,publish100,mcget]
#                              (also: hset, sadd, zadd, evalsha, evalsha10)
#                              [--small N] [--large M]
# env:   HERALD_BIN (default target/release/herald), BENCH_BIN (target/release/herald-bench),
#        KEYSPACE (redis-benchmark -r, default 1000)
# Needs valgrind, redis-server, redis-benchmark, memcached. Prints one line per
# run, then a table: case, herald Ir/request, reference Ir/request, ratio.
set -euo pipefail
cd "$(dirname "$0")/.."

cases=get,set,lpush,publish1,publish100,mcget small=20000 large=60000
while [ $# -gt 0 ]; do
  case "$1" in
    --cases) cases=$2; shift 2 ;;
    --small) small=$2; shift 2 ;;
    --large) large=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
herald_bin=${HERALD_BIN:-target/release/herald}
bench_bin=${BENCH_BIN:-target/release/herald-bench}
for tool in valgrind redis-server redis-benchmark memcached "$herald_bin" "$bench_bin"; do
  command -v "$tool" >/dev/null 2>&1 || { echo "missing: $tool" >&2; exit 2; }
done
work=$(mktemp -d /tmp/herald-instructions.XXXXXX)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# mc_version PORT: true when a memcached-protocol server answers `version`.
mc_version() {
  python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
s.sendall(b"version\r\n")
sys.exit(0 if s.recv(64).startswith(b"VERSION") else 1)
PY
}

# start SIDE PORT: the server under callgrind, in the background; sets pid.
start() {
  local side=$1 port=$2 out=$3
  local vg=(valgrind --tool=callgrind --callgrind-out-file="$out" --dump-instr=no)
  case "$side" in
    herald) "${vg[@]}" "$herald_bin" --port "$port" --memcache-port "$((port + 1))" --threads 1 --log-level warn >"$out.log" 2>&1 & ;;
    redis) "${vg[@]}" redis-server --port "$port" --save "" --appendonly no --loglevel warning >"$out.log" 2>&1 & ;;
    memcached)
      local as_root=()
      [ "$(id -u)" = 0 ] && as_root=(-u root)
      "${vg[@]}" memcached -p "$((port + 1))" -U 0 -t 1 -c "$(( $(ulimit -Hn) - 12 ))" -l 127.0.0.1 "${as_root[@]}" >"$out.log" 2>&1 &
      ;;
  esac
  pid=$!
  for _ in $(seq 600); do
    if [ "$side" = memcached ]; then
      mc_version "$((port + 1))" && return 0
    elif redis-cli -p "$port" ping >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  echo "$side did not start (see $out.log)" >&2
  kill "$pid"
  return 1
}

# load CASE PORT N: N requests of CASE (after the case's fixed set-up).
load() {
  local case=$1 port=$2 n=$3
  local rb=(redis-benchmark -p "$port" -c 1 -P 16 -r "${KEYSPACE:-1000}" -q)
  case "$case" in
    get) "${rb[@]}" -t set -n 2000 >/dev/null; "${rb[@]}" -t get -n "$n" >/dev/null ;;
    set) "${rb[@]}" -t set -n "$n" >/dev/null ;;
    lpush) "${rb[@]}" -t lpush -n "$n" >/dev/null ;;
    hset) "${rb[@]}" -t hset -n "$n" >/dev/null ;;
    sadd) "${rb[@]}" -t sadd -n "$n" >/dev/null ;;
    zadd) "${rb[@]}" -t zadd -n "$n" >/dev/null ;;
    evalsha|evalsha10)
      local script=$incr_script sha
      [ "$case" = evalsha10 ] && script="$ten_call_script"
      sha=$(redis-cli -p "$port" script load "$script")
      # redis-benchmark spins forever on an empty argument: stop here instead.
      [[ "$sha" =~ ^[0-9a-f]{40}$ ]] || { echo "SCRIPT LOAD on port $port answered: $sha" >&2; return 1; }
      "${rb[@]}" -n "$n" evalsha "$sha" 1 key:__rand_int__ >/dev/null ;;
    publish1) "$bench_bin" pubsub --port "$port" --subscribers 1 --channels 1 --messages "$n" --timeout-secs 600 >/dev/null ;;
    publish100) "$bench_bin" pubsub --port "$port" --subscribers 100 --channels 1 --messages "$n" --timeout-secs 600 >/dev/null ;;
    mcget) "$bench_bin" memcache --port "$((port + 1))" --connections 1 --keys 1000 --ratio-get 1 --ratio-set 0 --pipeline 16 --requests "$n" --timeout-secs 600 >/dev/null ;;
  esac
}

# bench/scripting.sh's two scripts.
incr_script="return redis.call('INCR', KEYS[1])"
ten_call_script="local k = KEYS[1]
redis.call('SET', k, '10')
for i = 1, 4 do redis.call('INCR', k) end
local v = redis.call('GET', k)
redis.call('EXPIRE', k, 100)
local ttl = redis.call('TTL', k)
redis.call('INCRBY', k, ttl)
return {v, redis.call('GET', k)}"

# instructions CASE SIDE N: total Ir of one server run.
instructions() {
  local case=$1 side=$2 n=$3 port out
  port=$(free_port)
  out="$work/$case-$side-$n.out"
  start "$side" "$port" "$out"
  load "$case" "$port" "$n"
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

printf 'callgrind Ir per request; small=%s large=%s; logs in %s\n' "$small" "$large" "$work"
rows=()
IFS=, read -r -a wanted <<<"$cases"
for case in "${wanted[@]}"; do
  ref=redis
  [ "$case" = mcget ] && ref=memcached
  s=$small l=$large per=1
  # 100 deliveries per PUBLISH: fewer publishes, and the figure is per delivered message.
  [ "$case" = publish100 ] && { s=$((small / 10)); l=$((large / 10)); per=100; }
  line="$case"
  for side in herald "$ref"; do
    a=$(instructions "$case" "$side" "$s")
    b=$(instructions "$case" "$side" "$l")
    value=$(python3 -c "print(f'{($b - $a) / (($l - $s) * $per):.0f}')")
    echo "run case=$case side=$side Ir($s)=$a Ir($l)=$b per_unit=$value"
    line="$line $value"
  done
  rows+=("$line")
done
echo
printf '%-12s %14s %14s %8s\n' case herald reference ratio
for row in "${rows[@]}"; do
  read -r case h r <<<"$row"
  printf '%-12s %14s %14s %8s\n' "$case" "$h" "$r" "$(python3 -c "print(f'{$h / $r:.2f}')")"
done

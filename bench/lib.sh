# What the redis-side benchmark scripts share; sourced, not run.
#
# Fairness rules (see BENCHMARKS.md): each server runs pinned to core 0 and the
# load generator to core 1; each run starts a fresh server; scripts alternate
# herald, redis, herald, redis, ... and report medians and ratios.

herald_bin=${HERALD_BIN:-target/release/herald}
[ -x "$herald_bin" ] || { echo "build herald first: cargo build --release" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_server SIDE PORT [HERALD_THREADS]: herald (one worker thread unless
# told) or redis-server on PORT, pinned to core 0, in the background; sets
# server_pid and returns once it answers PING.
start_server() {
  local side=$1 port=$2 threads=${3:-1}
  if [ "$side" = herald ]; then
    taskset -c 0 "$herald_bin" --port "$port" --memcache-port 0 --threads "$threads" --log-level warn &
  else
    taskset -c 0 redis-server --port "$port" --save "" --appendonly no --loglevel warning >/dev/null &
  fi
  server_pid=$!
  for _ in $(seq 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "$side did not start" >&2
  kill "$server_pid"
  return 1
}

# stop_server: end the server start_server started (by its PID) and reap it.
stop_server() {
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
}

#!/usr/bin/env bash
# Side-by-side benchmark of two servers on a 2-core machine.
#
#   bench/side_by_side.sh [--rounds N] [--messages M] [--requests R] [--timeout S] pubsub
#   bench/side_by_side.sh [--rounds N] [--requests R] [--timeout S] memcache
#
# Fairness rules: the server runs pinned to core 0 (taskset -c 0), the load
# generator (herald-bench, 1 tokio worker) pinned to core 1 (taskset -c 1).
# Every run starts a fresh server on a free port, waits until it answers, runs
# one bounded benchmark and kills exactly the PID it started. Runs alternate
# A, B, A, B, ... per scenario; the summary gives per-scenario medians over the
# runs that passed their correctness checks (ok=true) and the ratio A/B.
#
# Sides (env):
#   SIDE_A   default herald
#   SIDE_B   default redis (pubsub) / memcached (memcache)
#            kinds: herald | redis | memcached   (e.g. SIDE_A=redis SIDE_B=redis
#            to check the A/B machinery itself)
#   HERALD_BIN  default target/release/herald   (started as `$HERALD_BIN --port P`,
#               memcache mode: `$HERALD_BIN --port P --memcache-port Q`)
#   BENCH_BIN   default target/release/herald-bench
# Relative defaults are taken from the repository root (the parent of bench/).
# If herald is a side and HERALD_BIN is missing, the other side runs alone.
#
# Exit status: 0 if every run passed, 1 if any run failed, 2 on usage/setup error.
set -u -o pipefail

ROUNDS=5
MESSAGES=""
REQUESTS=""
TIMEOUT=30
MODE=""

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS="$2"; shift 2 ;;
        --messages) MESSAGES="$2"; shift 2 ;;
        --requests) REQUESTS="$2"; shift 2 ;;
        --timeout) TIMEOUT="$2"; shift 2 ;;
        pubsub|memcache) MODE="$1"; shift ;;
        -h|--help) usage ;;
        *) echo "unknown argument: $1" >&2; usage ;;
    esac
done
[ -n "$MODE" ] || usage
case "$ROUNDS$TIMEOUT" in *[!0-9]*) echo "--rounds/--timeout must be integers" >&2; exit 2 ;; esac

abspath() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }
[ -n "${HERALD_BIN:-}" ] && HERALD_BIN=$(abspath "$HERALD_BIN")
[ -n "${BENCH_BIN:-}" ] && BENCH_BIN=$(abspath "$BENCH_BIN")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
HERALD_BIN=${HERALD_BIN:-$ROOT/target/release/herald}
BENCH_BIN=${BENCH_BIN:-$ROOT/target/release/herald-bench}
SIDE_A=${SIDE_A:-herald}
if [ "$MODE" = pubsub ]; then SIDE_B=${SIDE_B:-redis}; else SIDE_B=${SIDE_B:-memcached}; fi

die() { echo "side_by_side: $*" >&2; exit 2; }
command -v taskset >/dev/null || die "taskset not found (util-linux)"
command -v timeout >/dev/null || die "timeout not found (coreutils)"
[ -x "$BENCH_BIN" ] || die "load generator missing: $BENCH_BIN (cargo build --release --bin herald-bench)"

# ---------------------------------------------------------------- sides
side_usable() { # kind -> 0 if it can run in this mode, else prints why
    case "$1" in
        herald)
            [ -x "$HERALD_BIN" ] || { echo "herald missing: $HERALD_BIN not found (cargo build --release)"; return 1; } ;;
        redis)
            [ "$MODE" = pubsub ] || { echo "redis has no memcache mode"; return 1; }
            command -v redis-server >/dev/null || { echo "redis-server not installed"; return 1; } ;;
        memcached)
            [ "$MODE" = memcache ] || { echo "memcached has no pubsub mode"; return 1; }
            command -v memcached >/dev/null || { echo "memcached not installed"; return 1; } ;;
        *) echo "unknown server kind '$1' (herald|redis|memcached)"; return 1 ;;
    esac
}

SIDES=()
for s in A B; do
    kind=$([ $s = A ] && echo "$SIDE_A" || echo "$SIDE_B")
    if why=$(side_usable "$kind"); then
        SIDES+=("$s")
    else
        echo "NOTE: side $s ($kind) skipped: $why"
    fi
done
[ ${#SIDES[@]} -gt 0 ] || die "no runnable server"
kind_of() { if [ "$1" = A ]; then echo "$SIDE_A"; else echo "$SIDE_B"; fi; }

# ---------------------------------------------------------------- servers
WORK=$(mktemp -d "${TMPDIR:-/tmp}/side_by_side.XXXXXX")
RESULTS="$WORK/results.tsv"
: >"$RESULTS"
SERVER_PID=""

free_port() {
    if command -v python3 >/dev/null; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
        return
    fi
    local p
    for _ in $(seq 200); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
    done
    return 1
}

resp_ping() { # port
    if command -v redis-cli >/dev/null; then
        [ "$(timeout 2 redis-cli -p "$1" ping 2>/dev/null)" = PONG ]
        return
    fi
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "PING\r\n" >&3; IFS= read -r line <&3; [[ "$line" == +PONG* ]]' _ "$1" 2>/dev/null
}

mc_ping() { # port
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "version\r\n" >&3; IFS= read -r line <&3; [[ "$line" == VERSION* ]]' _ "$1" 2>/dev/null
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    local pid=$SERVER_PID
    SERVER_PID=""
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "NOTE: server pid $pid ignored SIGTERM, sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    return 0
}

# shellcheck disable=SC2317 # invoked by trap
cleanup() { stop_server; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

# start_server kind log -> sets SERVER_PID, RPORT (RESP) and MPORT (memcache)
start_server() {
    local kind=$1 log=$2
    RPORT=$(free_port) || return 1
    MPORT=$(free_port) || return 1
    while [ "$MPORT" = "$RPORT" ]; do MPORT=$(free_port) || return 1; done
    local -a cmd
    case "$kind/$MODE" in
        herald/pubsub) cmd=("$HERALD_BIN" --port "$RPORT" --threads "${HERALD_THREADS:-1}" --log-level warn) ;;
        herald/memcache) cmd=("$HERALD_BIN" --port "$RPORT" --memcache-port "$MPORT" --threads "${HERALD_THREADS:-1}" --log-level warn) ;;
        redis/pubsub) cmd=(redis-server --port "$RPORT" --save "" --appendonly no) ;;
        memcached/memcache)
            cmd=(memcached -p "$MPORT" -t 1 -U 0 -l 127.0.0.1)
            # memcached refuses to start as root without -u.
            [ "$(id -u)" = 0 ] && cmd+=(-u root) ;;
        *) echo "cannot start $kind in $MODE mode" >&2; return 1 ;;
    esac
    echo "# start: taskset -c 0 ${cmd[*]}" >"$log"
    taskset -c 0 "${cmd[@]}" >>"$log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "server $kind exited during startup; log $log:" >&2
            tail -5 "$log" >&2
            wait "$SERVER_PID" 2>/dev/null
            SERVER_PID=""
            return 1
        fi
        case "$kind/$MODE" in
            */pubsub) resp_ping "$RPORT" && return 0 ;;
            herald/memcache) resp_ping "$RPORT" && mc_ping "$MPORT" && return 0 ;;
            */memcache) mc_ping "$MPORT" && return 0 ;;
        esac
        sleep 0.1
    done
    echo "server $kind did not answer within 10s; log $log" >&2
    stop_server
    return 1
}

# ---------------------------------------------------------------- scenarios
# name|herald-bench arguments
if [ "$MODE" = pubsub ]; then
    SCENARIOS=(
        "10ch_x_10sub|--channels 10 --subscribers 100 --messages ${MESSAGES:-50000}"
        "1ch_x_100sub|--channels 1 --subscribers 100 --messages ${MESSAGES:-20000}"
        "100ch_x_1sub|--channels 100 --subscribers 100 --messages ${MESSAGES:-100000}"
        "10ch_x_10sub_patterns|--channels 10 --subscribers 100 --patterns --messages ${MESSAGES:-50000}"
    )
    METRICS=(publish_per_s deliveries_per_s p50_us p99_us)
else
    SCENARIOS=(
        "get10_set1_p1|--connections 50 --keys 100000 --value-size 100 --ratio-get 10 --ratio-set 1 --pipeline 1 --requests ${REQUESTS:-200000}"
        "get10_set1_p16|--connections 50 --keys 100000 --value-size 100 --ratio-get 10 --ratio-set 1 --pipeline 16 --requests ${REQUESTS:-400000}"
    )
    METRICS=(ops_per_s p50_us p99_us)
fi

echo "side_by_side mode=$MODE rounds=$ROUNDS timeout=${TIMEOUT}s A=$SIDE_A B=$SIDE_B"
echo "  server on core 0, herald-bench on core 1; bench=$BENCH_BIN; herald=$HERALD_BIN; logs=$WORK"
for s in "${SIDES[@]}"; do
    case "$(kind_of "$s")" in
        herald) echo "  $s: herald $HERALD_BIN" ;;
        redis) echo "  $s: $(redis-server --version | head -1)" ;;
        memcached) echo "  $s: $(memcached -V)" ;;
    esac
done

FAILED=0
run_no=0
for sc in "${SCENARIOS[@]}"; do
    name=${sc%%|*}
    args=${sc#*|}
    for round in $(seq "$ROUNDS"); do
        for s in "${SIDES[@]}"; do
            kind=$(kind_of "$s")
            run_no=$((run_no + 1))
            log="$WORK/run$run_no-$name-$s-$kind.log"
            if ! start_server "$kind" "$log"; then
                line="$MODE start_failed=true ok=false"
                rc=255
            else
                port=$RPORT
                [ "$MODE" = memcache ] && port=$MPORT
                # shellcheck disable=SC2086 # $args is a word list on purpose
                out=$(timeout -k 5 $((TIMEOUT + 20)) taskset -c 1 "$BENCH_BIN" --threads 1 \
                    "$MODE" --port "$port" --timeout-secs "$TIMEOUT" $args 2>>"$log")
                rc=$?
                stop_server
                line=$(printf '%s\n' "$out" | grep -E "^$MODE " | tail -1)
                [ -n "$line" ] || line="$MODE no_output=true ok=false"
            fi
            case " $line " in *" ok=true "*) [ "$rc" = 0 ] || FAILED=1 ;; *) FAILED=1 ;; esac
            printf 'run scenario=%s round=%s side=%s server=%s rc=%s %s\n' \
                "$name" "$round" "$s" "$kind" "$rc" "$line"
            printf '%s\t%s\t%s\t%s\n' "$name" "$s" "$rc" "$line" >>"$RESULTS"
        done
    done
done

# ---------------------------------------------------------------- summary
median() { # numbers on stdin -> median or NA
    sort -g | awk '{v[NR]=$1} END {
        if (NR == 0) print "NA";
        else if (NR % 2) print v[(NR + 1) / 2];
        else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
metric_values() { # scenario side metric -> values of ok runs
    awk -F '\t' -v sc="$1" -v sd="$2" -v m="$3" '
        $1 == sc && $2 == sd && $3 == 0 && $4 ~ / ok=true/ {
            n = split($4, kv, " ");
            for (i = 1; i <= n; i++) if (index(kv[i], m "=") == 1) print substr(kv[i], length(m) + 2)
        }' "$RESULTS"
}
count_runs() { # scenario side -> "ok/total"
    awk -F '\t' -v sc="$1" -v sd="$2" '$1 == sc && $2 == sd { t++; if ($3 == 0 && $4 ~ / ok=true/) o++ }
        END { printf "%d/%d", o, t }' "$RESULTS"
}

echo
echo "== summary: medians over passing runs; A=$SIDE_A B=$SIDE_B; ratio=A/B (throughput: >1 means A faster; latency: <1 means A faster) =="
for sc in "${SCENARIOS[@]}"; do
    name=${sc%%|*}
    okA=$(count_runs "$name" A)
    okB=$(count_runs "$name" B)
    for m in "${METRICS[@]}"; do
        a=$(metric_values "$name" A "$m" | median)
        b=$(metric_values "$name" B "$m" | median)
        ratio=$(awk -v a="$a" -v b="$b" 'BEGIN {
            if (a == "NA" || b == "NA" || b + 0 == 0) print "NA"; else printf "%.3f", a / b }')
        printf 'summary scenario=%s metric=%s A_%s=%s B_%s=%s ratio_A_B=%s ok_A=%s ok_B=%s\n' \
            "$name" "$m" "$SIDE_A" "$a" "$SIDE_B" "$b" "$ratio" "$okA" "$okB"
    done
done
for s in A B; do
    case " ${SIDES[*]} " in *" $s "*) ;; *) echo "NOTE: side $s ($(kind_of $s)) was not run" ;; esac
done
if [ "$FAILED" != 0 ]; then
    echo "RESULT: some runs FAILED (see run lines; logs in $WORK)"
    exit 1
fi
echo "RESULT: all runs ok"
exit 0

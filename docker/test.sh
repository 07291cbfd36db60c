#!/usr/bin/env bash
# docker/test.sh: builds the herald image from docker/Dockerfile, unchanged, on a
# machine whose Docker engine can pull nothing, and tests it as a user runs it.
#
#   1. docker/prepare-base-images.sh makes local stand-ins for the public base
#      images (debootstrap + docker import; cached, so reruns take seconds).
#   2. docker build -f docker/Dockerfile --build-arg RUST_IMAGE=... \
#        --build-arg RUNTIME_IMAGE=... -t herald:test   (and the examples image)
#   3. docker run with both ports published on 127.0.0.1 (free ports Docker
#      picks): time to the first PONG and to health "healthy"; redis-cli PING,
#      SET/GET, INFO; a memcached client (libmemcached's memccp/memccat) on the
#      memcached port, and the keyspace shared by both protocols; a second
#      container with HERALD_REQUIREPASS set (healthy, NOAUTH without AUTH).
#   4. docker stop with a subscriber connected: ends within 5 s, exit code 0.
#   5. docker/compose.yaml: redis_sub.py and redis_pub.py in two containers
#      exchange messages through herald on the compose network; --profile
#      sharded: pymemcache_sharding.py over three herald containers.
#
# Everything it creates (containers, compose projects and their networks) is
# removed at the end by name or id; the images are kept as the build cache.
# Needs root or sudo for debootstrap and apt-get (redis-tools,
# libmemcached-tools, debootstrap when missing). Prints "N passed, M failed"
# last and exits non-zero when a check failed.
set -euo pipefail
cd "$(dirname "$0")/.."

TAG=${HERALD_TEST_IMAGE:-herald:test}
BUILD_STAGE_TAG=${TAG}-build-stage
EXAMPLES_TAG=${HERALD_TEST_EXAMPLES_IMAGE:-herald-examples:test}
ID="herald-docker-test-$$"
STOP_LIMIT_MS=5000
HEALTHY_LIMIT_S=60

started=$(date +%s)
size_mb="?" build_s="?" stop_ms="?" healthy1="?" pong1="?"
now_ms() { date +%s%3N; }
step() { printf '\n== %s (%ss)\n' "$*" "$(( $(date +%s) - started ))"; }
passed=0 failed=0 pending=()
ok() { passed=$((passed + 1)); echo "ok      $*"; }
bad() { failed=$((failed + 1)); echo "FAILED  $*"; }
check() { # check DESCRIPTION EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: expected '$2', got '$3'"; fi
}

containers=() projects=() pids=() tmp=$(mktemp -d)
cleanup() {
  local p c
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${projects[@]}"; do
    "${COMPOSE[@]}" -p "$p" -f docker/compose.yaml --profile sharded down --remove-orphans -t 5 \
      >/dev/null 2>&1 || true
    # Anything of the project that down left behind, by the project's label.
    for c in $(docker ps -aq --filter "label=com.docker.compose.project=$p"); do
      docker rm -f "$c" >/dev/null 2>&1 || true
    done
    for c in $(docker network ls -q --filter "label=com.docker.compose.project=$p"); do
      docker network rm "$c" >/dev/null 2>&1 || true
    done
  done
  for c in "${containers[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
apt_install() {
  echo "docker/test.sh: apt-get install $*"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# ---------------------------------------------------------------------------
step "tools"
docker info >/dev/null 2>&1 || { echo "docker/test.sh: no usable Docker engine (docker info failed)"; exit 1; }
if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  COMPOSE=(docker-compose)
else
  apt_install docker-compose
  COMPOSE=(docker-compose)
fi
need=()
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
command -v memccat >/dev/null 2>&1 || need+=(libmemcached-tools)
[ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"
echo "docker: client $(docker version -f '{{.Client.Version}}'), engine $(docker version -f '{{.Server.Version}}'); compose: ${COMPOSE[*]} ($("${COMPOSE[@]}" version --short 2>/dev/null || true))"

# ---------------------------------------------------------------------------
step "base images (no registry: local stand-ins)"
t=$(date +%s)
while IFS='=' read -r k v; do
  case $k in RUNTIME_IMAGE|RUST_IMAGE|PYTHON_IMAGE) printf -v "$k" '%s' "$v" ;; esac
done < <(bash docker/prepare-base-images.sh)
if [ -z "${RUNTIME_IMAGE:-}" ] || [ -z "${RUST_IMAGE:-}" ] || [ -z "${PYTHON_IMAGE:-}" ]; then
  echo "docker/prepare-base-images.sh failed"
  echo "docker/test.sh: $passed passed, 1 failed"
  exit 1
fi
echo "RUST_IMAGE=$RUST_IMAGE RUNTIME_IMAGE=$RUNTIME_IMAGE PYTHON_IMAGE=$PYTHON_IMAGE ($(( $(date +%s) - t ))s)"

# ---------------------------------------------------------------------------
step "docker build -f docker/Dockerfile (unchanged; base images as build args)"
# The build context is the repository's files (tracked and untracked, less what
# .gitignore names: target/, .venv/ ...), as a fresh clone would send.
if git rev-parse --git-dir >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
    | tar --null -T - -cf "$tmp/context.tar"
else
  tar --exclude=./target --exclude=./.git --exclude=./.venv --exclude=./fuzz/target -cf "$tmp/context.tar" .
fi
image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }
# build TAG LOG docker-build-args...: the image this tag named before is removed
# when the tag moves, so repeated runs leave no stale images behind.
build() {
  local tag=$1 log=$2 old rc=0
  shift 2
  old=$(image_id "$tag")
  timeout 1500 docker build --force-rm -t "$tag" "$@" - <"$tmp/context.tar" >"$log" 2>&1 || rc=$?
  if [ $rc -ne 0 ]; then
    tail -40 "$log"
    return $rc
  fi
  if [ -n "$old" ] && [ "$old" != "$(image_id "$tag")" ]; then docker rmi "$old" >/dev/null 2>&1 || true; fi
}
args=(-f docker/Dockerfile --build-arg "RUST_IMAGE=$RUST_IMAGE" --build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE")
t=$(date +%s)
# The build stage gets a tag of its own, so that its (large) layers are
# replaced, not piled up, when the sources change; the full build reuses it.
if build "$BUILD_STAGE_TAG" "$tmp/build-stage.log" "${args[@]}" --target build \
   && build "$TAG" "$tmp/build.log" "${args[@]}"; then
  build_s=$(( $(date +%s) - t ))
  grep -h 'Finished .release' "$tmp/build-stage.log" | sed 's/\x1b\[[0-9;]*m//g; s/^ */cargo: /' || true
  ok "docker build -t $TAG (${build_s}s)"
else
  bad "docker build -t $TAG"
  echo "$passed passed, $failed failed"
  exit 1
fi
size_bytes=$(docker image inspect -f '{{.Size}}' "$TAG")
size_mb=$(awk -v b="$size_bytes" 'BEGIN { printf "%.1f", b / 1000000 }')
base_mb=$(awk -v b="$(docker image inspect -f '{{.Size}}' "$RUNTIME_IMAGE")" 'BEGIN { printf "%.1f", b / 1000000 }')
bin_bytes=$(docker run --rm --entrypoint stat "$TAG" -c %s /usr/local/bin/herald)
echo "image $TAG: ${size_mb} MB (base $RUNTIME_IMAGE ${base_mb} MB; herald binary $(( bin_bytes / 1000 )) kB)"
check "image runs as the unprivileged user herald" "herald" "$(docker image inspect -f '{{.Config.User}}' "$TAG")"
check "image stop signal" "SIGTERM" "$(docker image inspect -f '{{.Config.StopSignal}}' "$TAG")"
check "image exposes 6379 and 11211" "11211/tcp 6379/tcp" \
  "$(docker image inspect -f '{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}' "$TAG" | xargs -n1 | sort | xargs)"
check "herald --version in the image" "herald $(awk -F'"' '/^version/ {print $2; exit}' Cargo.toml)" \
  "$(docker run --rm "$TAG" --version)"

t=$(date +%s)
if build "$EXAMPLES_TAG" "$tmp/examples.log" -f docker/examples.Dockerfile --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE"; then
  ok "docker build -f docker/examples.Dockerfile -t $EXAMPLES_TAG ($(( $(date +%s) - t ))s)"
else
  bad "docker build -f docker/examples.Dockerfile"
fi

# ---------------------------------------------------------------------------
step "docker run: health, redis-cli, memcached client"
published() { docker port "$1" "$2/tcp" | head -1 | sed 's/.*://'; }
# wait_healthy CONTAINER PORT: sets first_pong_ms and healthy_ms (from $t0).
wait_healthy() {
  local cid=$1 port=$2 deadline=$(( $(date +%s) + HEALTHY_LIMIT_S )) status
  first_pong_ms="" healthy_ms=""
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if [ -z "$first_pong_ms" ] && [ -n "$port" ] \
       && redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -qx 'PONG\|NOAUTH.*'; then
      first_pong_ms=$(( $(now_ms) - t0 ))
    fi
    status=$(docker inspect -f '{{.State.Health.Status}}' "$cid")
    if [ "$status" = healthy ]; then healthy_ms=$(( $(now_ms) - t0 )); return 0; fi
    [ "$(docker inspect -f '{{.State.Running}}' "$cid")" = true ] || break
    sleep 0.1
  done
  docker logs --tail 20 "$cid" 2>&1 || true
  return 1
}

name="$ID-single"
t0=$(now_ms)
cid=$(docker run -d --name "$name" -p 127.0.0.1::6379 -p 127.0.0.1::11211 "$TAG")
containers+=("$cid")
rport=$(published "$cid" 6379)
mport=$(published "$cid" 11211)
echo "published: RESP 127.0.0.1:$rport, memcached 127.0.0.1:$mport"
if wait_healthy "$cid" "$rport"; then
  healthy1=$healthy_ms pong1=${first_pong_ms:-?}
  ok "health 'healthy' ${healthy1} ms after docker run (first PONG after ${pong1} ms)"
else
  bad "container not healthy within ${HEALTHY_LIMIT_S}s"
fi
check "first log line is JSON 'herald ready'" 1 \
  "$(docker logs "$cid" 2>&1 | head -1 | grep -c '^{.*"herald ready"')"
check "runs as uid 10001" 10001 "$(docker exec "$cid" id -u)"

rc() { redis-cli -h 127.0.0.1 -p "$rport" "$@" 2>&1; }
check "redis-cli PING" PONG "$(rc ping)"
check "redis-cli SET" OK "$(rc set docker:greeting 'hello from docker')"
check "redis-cli GET" "hello from docker" "$(rc get docker:greeting)"
check "redis-cli INFO server names herald" 1 "$(rc info server | grep -c '^herald_version:')"
check "redis-cli PUBLISH with no subscriber" 0 "$(rc publish docker:nobody hi)"

version=$( (exec 3<>"/dev/tcp/127.0.0.1/$mport" && printf 'version\r\n' >&3 && timeout 3 head -1 <&3) 2>/dev/null | tr -d '\r' || true)
if [ "${version%% *}" = VERSION ]; then
  ok "memcached port answers version: $version"
  mc=(--servers="127.0.0.1:$mport")
  printf 'stored by memccp' >"$tmp/docker-mc-key"
  if memccp "${mc[@]}" "$tmp/docker-mc-key" 2>&1; then ok "memccp (libmemcached) stores a key"; else bad "memccp"; fi
  check "memccat reads it back" "stored by memccp" "$(memccat "${mc[@]}" docker-mc-key 2>&1)"
  check "memcached client reads a key set with redis-cli" "hello from docker" \
    "$(memccat "${mc[@]}" docker:greeting 2>&1)"
  check "redis-cli reads a key stored by memccp" "stored by memccp" "$(rc get docker-mc-key)"
  check "memcstat reports curr_items" 1 "$(memcstat "${mc[@]}" 2>&1 | grep -c 'curr_items')"
else
  pending+=("memcached port did not answer 'version' (got '${version}'): memcached checks pending")
  echo "PENDING memcached port did not answer 'version': memcached checks skipped"
fi

step "docker run with HERALD_REQUIREPASS"
t0=$(now_ms)
cid2=$(docker run -d --name "$ID-auth" -e HERALD_REQUIREPASS=docker-test-secret -p 127.0.0.1::6379 "$TAG")
containers+=("$cid2")
aport=$(published "$cid2" 6379)
if wait_healthy "$cid2" "$aport"; then ok "with a password set: healthy after ${healthy_ms} ms"; else bad "with a password set: not healthy"; fi
check "no AUTH: NOAUTH" "NOAUTH Authentication required." "$(redis-cli -h 127.0.0.1 -p "$aport" get x 2>&1)"
check "with AUTH: PONG" PONG "$(redis-cli --no-auth-warning -a docker-test-secret -h 127.0.0.1 -p "$aport" ping 2>&1)"
docker rm -f "$cid2" >/dev/null

# ---------------------------------------------------------------------------
step "docker stop (SIGTERM) with a subscriber connected"
redis-cli -h 127.0.0.1 -p "$rport" subscribe docker:stop >"$tmp/subscriber.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ "$(rc pubsub numsub docker:stop | tail -1)" = 1 ] && break; sleep 0.1; done
check "subscriber connected before stop" 1 "$(rc pubsub numsub docker:stop | tail -1)"
t=$(now_ms)
docker stop -t 10 "$cid" >/dev/null
stop_ms=$(( $(now_ms) - t ))
exit_code=$(docker inspect -f '{{.State.ExitCode}}' "$cid")
check "exit code after docker stop" 0 "$exit_code"
if [ "$stop_ms" -le "$STOP_LIMIT_MS" ]; then ok "docker stop took ${stop_ms} ms (limit ${STOP_LIMIT_MS})"; else bad "docker stop took ${stop_ms} ms (limit ${STOP_LIMIT_MS})"; fi
check "log shows the graceful shutdown" 1 "$(docker logs "$cid" 2>&1 | grep -c '"bye"')"
docker rm -f "$cid" >/dev/null

# ---------------------------------------------------------------------------
step "compose: redis_sub.py and redis_pub.py in two containers (docker/compose.yaml)"
project="$ID-compose"
projects+=("$project")
export HERALD_IMAGE="$TAG" EXAMPLES_IMAGE="$EXAMPLES_TAG" \
  HERALD_RESP_PUBLISH=127.0.0.1: HERALD_MEMCACHE_PUBLISH=127.0.0.1:
compose() { timeout 300 "${COMPOSE[@]}" -p "$project" -f docker/compose.yaml "$@"; }
if compose up -d --no-build sub >"$tmp/compose-up.log" 2>&1; then
  ok "compose up sub (herald healthy first)"
else
  cat "$tmp/compose-up.log"; bad "compose up sub"
fi
herald_cid=$(compose ps -q herald 2>/dev/null || true)
sub_cid=$(compose ps -q sub 2>/dev/null || true)
if [ -n "$herald_cid" ] && [ -n "$sub_cid" ]; then
  cport=$(published "$herald_cid" 6379)
  for _ in $(seq 150); do
    [ "$(redis-cli -h 127.0.0.1 -p "$cport" pubsub numsub catA catC 2>/dev/null | xargs)" = "catA 1 catC 1" ] && break
    sleep 0.2
  done
  check "redis_sub.py subscribed to catA and catC (PUBSUB NUMSUB)" "catA 1 catC 1" \
    "$(redis-cli -h 127.0.0.1 -p "$cport" pubsub numsub catA catC 2>&1 | xargs)"
  # redis_pub.py publishes ten random cats, of which the subscriber hears catA
  # and catC: run it again (at most 3 times) should none of the ten be one of those.
  : >"$tmp/pub.out"
  for _ in 1 2 3; do
    compose run --rm -T pub >>"$tmp/pub.out" 2>"$tmp/pub.err" || { cat "$tmp/pub.err"; bad "compose run pub"; break; }
    grep -q '^Publish: cat[AC] ' "$tmp/pub.out" && break
  done
  sed 's/^/  pub | /' "$tmp/pub.out"
  expected=$(sed -n "s/^Publish: \(cat[AC]\) wears a \(.*\)$/Subscribe: b'\1' wears a b'\2'/p" "$tmp/pub.out")
  want=$(printf '%s\n' "$expected" | grep -c . || true)
  got=""
  for _ in $(seq 200); do   # redis_sub.py sleeps 1 s after every message
    got=$(docker logs "$sub_cid" 2>&1 | grep '^Subscribe: ' || true)
    [ "$(printf '%s\n' "$got" | grep -c . || true)" -ge "$want" ] && break
    sleep 0.2
  done
  printf '%s\n' "$got" | sed 's/^/  sub | /'
  if [ "$want" -gt 0 ] && [ "$got" = "$expected" ]; then
    ok "redis_sub.py received all $want catA/catC messages redis_pub.py published, in order, across containers"
  else
    bad "pub/sub across containers: expected $want messages, got: $got"
  fi
else
  bad "compose: herald or sub container missing"
fi

step "compose --profile sharded: pymemcache_sharding.py over three herald containers"
if [ ${#pending[@]} -eq 0 ]; then
  if compose --profile sharded run --rm -T shard-demo >"$tmp/shard.out" 2>"$tmp/shard.err"; then
    sed 's/^/  shard-demo | /' "$tmp/shard.out"
    check "client-side sharding over herald-shard-1..3" 1 "$(grep -c '^OK: ' "$tmp/shard.out")"
  else
    cat "$tmp/shard.out" "$tmp/shard.err"
    bad "compose --profile sharded run shard-demo"
  fi
else
  pending+=("sharded profile (memcached clients) not run")
  echo "PENDING sharded profile needs the memcached port"
fi

step "clean-up"
compose --profile sharded down --remove-orphans -t 5 >/dev/null 2>&1 || true
check "no container of the compose project left" "" "$(docker ps -aq --filter "label=com.docker.compose.project=$project")"
check "no network of the compose project left" "" "$(docker network ls -q --filter "label=com.docker.compose.project=$project")"

# ---------------------------------------------------------------------------
echo
echo "summary: image $TAG ${size_mb} MB; build ${build_s}s; first PONG ${pong1} ms and healthy ${healthy1} ms after docker run; docker stop ${stop_ms} ms; total $(( $(date +%s) - started ))s"
for p in "${pending[@]}"; do echo "pending: $p"; done
echo "docker/test.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Local stand-ins for the public base images, for a machine whose Docker engine
# can pull nothing (no image registry), so that docker/Dockerfile builds there
# unchanged with --build-arg RUST_IMAGE=... --build-arg RUNTIME_IMAGE=...
#
#   runtime  herald-local/debian:bookworm-slim      for debian:bookworm-slim
#            `debootstrap --variant=minbase bookworm`, trimmed like the slim image
#            (no apt lists, docs, man pages or locales), loaded with `docker import`.
#   build    herald-local/rust:<ver>-slim-bookworm  for rust:<ver>-slim-bookworm
#            the same minbase plus what rust:slim adds (ca-certificates, gcc,
#            libc6-dev; no make, as there), with this machine's Rust toolchain
#            (`rustup which rustc`, less its docs) copied in, and CARGO_HOME
#            holding the crates of Cargo.lock (`cargo fetch --locked` on the host)
#            with CARGO_NET_OFFLINE=true: the build needs no crates.io access.
#   python   herald-local/python:3.11-slim-bookworm  for python:3.11-slim-bookworm
#            minbase plus python3 and pip, with examples/python/requirements.txt
#            pre-installed from wheels downloaded on the host, so that
#            docker/examples.Dockerfile's `pip install -r` is already satisfied.
#
# Needs root (debootstrap), debootstrap (installed with apt-get when missing),
# a Debian mirror, and for the first run crates.io and PyPI from the host.
# Everything is cached under $HERALD_DOCKER_CACHE (default /var/cache/herald-docker)
# and each image carries a label with the hash of its inputs: a rerun with the
# same inputs does nothing. Prints KEY=VALUE lines (RUNTIME_IMAGE, RUST_IMAGE,
# PYTHON_IMAGE) on stdout; progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${HERALD_DOCKER_CACHE:-/var/cache/herald-docker}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
PREP_VERSION=1   # bump to rebuild every image after changing this script
LABEL=herald.prepare

log() { echo "prepare-base-images: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
hash_of() { sha256sum | cut -c1-16; }

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
mkdir -p "$CACHE" 2>/dev/null || { $sudo mkdir -p "$CACHE"; $sudo chown "$(id -u):$(id -g)" "$CACHE"; }

image_key() { docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null || true; }

# After re-tagging, the image the tag used to name (made by an earlier run of
# this script) is removed if nothing else uses it.
drop_old() {
  local old=$1 tag=$2 new
  new=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
  if [ -n "$old" ] && [ "$old" != "$new" ]; then
    docker rmi "$old" >/dev/null 2>&1 || true
  fi
}

# rootfs NAME "pkg,pkg" -> path of a cached tarball of a trimmed minbase rootfs.
rootfs() {
  local name=$1 include=$2 key tar dir
  key=$(printf '%s\n' "$PREP_VERSION" "$SUITE" "$MIRROR" "$include" | hash_of)
  tar="$CACHE/rootfs-$name-$key.tar"
  if [ -s "$tar" ]; then echo "$tar"; return; fi
  if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap (apt-get)"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq debootstrap >&2
  fi
  dir=$(mktemp -d "$CACHE/rootfs-$name.XXXXXX")
  log "debootstrap --variant=minbase $SUITE ($name${include:+, +$include}) ..."
  mkdir -p "$CACHE/debs"
  if ! $sudo debootstrap --variant=minbase --cache-dir="$CACHE/debs" ${include:+--include="$include"} \
      "$SUITE" "$dir" "$MIRROR" >"$CACHE/debootstrap-$name.log" 2>&1; then
    tail -20 "$CACHE/debootstrap-$name.log" >&2
    $sudo rm -rf "$dir"
    die "debootstrap failed (log: $CACHE/debootstrap-$name.log)"
  fi
  # Trim as the slim images are trimmed, and keep later apt installs slim too.
  $sudo rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/cache/apt/*.bin \
    "$dir"/var/lib/apt/lists/* "$dir"/var/log/* "$dir"/tmp/* \
    "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/usr/share/locale/* \
    "$dir"/usr/share/lintian "$dir"/usr/share/linda
  $sudo find "$dir"/usr/share/doc -mindepth 1 -not -type d -not -name copyright -delete
  $sudo tee "$dir"/etc/dpkg/dpkg.cfg.d/docker-slim >/dev/null <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
  $sudo tee "$dir"/etc/apt/apt.conf.d/docker-clean >/dev/null <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
EOF
  $sudo rm -f "$dir"/etc/apt/sources.list
  $sudo tee "$dir"/etc/apt/sources.list.d/debian.sources >/dev/null <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  echo "herald-local" | $sudo tee "$dir"/etc/hostname >/dev/null
  $sudo tar -C "$dir" --numeric-owner -cf "$tar.tmp" .
  $sudo rm -rf "$dir"
  mv "$tar.tmp" "$tar"
  # Older tarballs of this name (other inputs) are of no further use.
  find "$CACHE" -maxdepth 1 -name "rootfs-$name-*.tar" ! -name "$(basename "$tar")" -delete
  echo "$tar"
}

# import TAG KEY TARBALL|- [--change ...]: docker import unless TAG already has KEY.
import_image() {
  local tag=$1 key=$2 src=$3 old
  shift 3
  old=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
  if [ -n "$old" ] && [ "$(image_key "$tag")" = "$key" ]; then
    log "$tag is up to date"
    if [ "$src" = - ]; then cat >/dev/null; fi
    return 0
  fi
  log "docker import -> $tag"
  docker import --change "LABEL $LABEL=$key" "$@" "$src" "$tag" >/dev/null
  drop_old "$old" "$tag"
}

# build_image TAG KEY CONTEXT_DIR: docker build unless TAG already has KEY.
build_image() {
  local tag=$1 key=$2 ctx=$3 old
  old=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
  if [ -n "$old" ] && [ "$(image_key "$tag")" = "$key" ]; then
    log "$tag is up to date"
    return
  fi
  log "docker build -> $tag"
  if ! docker build -q --force-rm --label "$LABEL=$key" -t "$tag" "$ctx" >"$CACHE/build.log" 2>&1; then
    cat "$CACHE/build.log" >&2
    die "docker build of $tag failed"
  fi
  drop_old "$old" "$tag"
}

base_env='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

# --- runtime: debian:bookworm-slim -------------------------------------------
RUNTIME_IMAGE=herald-local/debian:bookworm-slim
tar=$(rootfs runtime "")
import_image "$RUNTIME_IMAGE" "$(basename "$tar")" "$tar" --change "$base_env" --change 'CMD ["bash"]'

# --- build: rust:<ver>-slim-bookworm ------------------------------------------
if command -v rustup >/dev/null 2>&1; then
  rustc_path=$(rustup which rustc)
else
  rustc_path=$(command -v rustc) || die "no rustc on this machine"
fi
toolchain=$(dirname "$(dirname "$(readlink -f "$rustc_path")")")
rust_version=$("$toolchain/bin/rustc" -V | awk '{print $2}')
host_triple=$("$toolchain/bin/rustc" -vV | awk '/^host:/ {print $2}')
RUST_IMAGE=herald-local/rust:${rust_version}-slim-bookworm
toolchain_image=herald-local/rust-toolchain:$rust_version

tar=$(rootfs build "ca-certificates,gcc,libc6-dev")
key=$( { basename "$tar"; "$toolchain/bin/rustc" -vV; "$toolchain/bin/cargo" -V; } | hash_of)
tc_dir=/usr/local/rustup/toolchains/$rust_version-$host_triple
if [ "$(image_key "$toolchain_image")" != "$key" ]; then
  stage=$(mktemp -d "$CACHE/stage.XXXXXX")
  trap '$sudo rm -rf "$stage"' EXIT
  log "staging the build rootfs with the toolchain from $toolchain"
  $sudo tar -C "$stage" -xf "$tar"
  $sudo mkdir -p "$stage$tc_dir" "$stage/usr/local/cargo/bin"
  # bin, lib and libexec: the compiler, cargo and the standard library; share/ is docs.
  $sudo cp -a "$toolchain/bin" "$toolchain/lib" "$toolchain/libexec" "$stage$tc_dir/"
  $sudo chmod -R a+rX "$stage/usr/local/rustup" "$stage/usr/local/cargo"
  $sudo tar -C "$stage" --numeric-owner -c . | import_image "$toolchain_image" "$key" - \
    --change "ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo PATH=/usr/local/cargo/bin:$tc_dir/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin RUST_VERSION=$rust_version" \
    --change 'CMD ["bash"]'
  $sudo rm -rf "$stage"
  trap - EXIT
else
  log "$toolchain_image is up to date"
fi

# The crates of Cargo.lock, fetched on the host, in the image's CARGO_HOME.
host_cargo_home=${CARGO_HOME:-$HOME/.cargo}
log "cargo fetch --locked (host)"
"$toolchain/bin/cargo" fetch --locked --quiet >&2
key2=$( { echo "$key"; cat Cargo.lock; } | hash_of)
if [ "$(image_key "$RUST_IMAGE")" != "$key2" ]; then
  ctx=$(mktemp -d)
  mkdir -p "$ctx/registry"
  cp -a "$host_cargo_home/registry/index" "$host_cargo_home/registry/cache" "$ctx/registry/"
  cat >"$ctx/Dockerfile" <<EOF
FROM $toolchain_image
COPY registry /usr/local/cargo/registry
RUN chmod -R a+rwX /usr/local/cargo && cargo --version && rustc --version
ENV CARGO_NET_OFFLINE=true
EOF
  build_image "$RUST_IMAGE" "$key2" "$ctx"
  rm -rf "$ctx"
else
  log "$RUST_IMAGE is up to date"
fi

# --- python: python:3.11-slim-bookworm with the examples' clients --------------
PYTHON_IMAGE=herald-local/python:3.11-slim-bookworm
python_base=herald-local/python-base:bookworm
tar=$(rootfs python "python3,python3-pip,python-is-python3")
# python:slim has no EXTERNALLY-MANAGED marker: pip installs system-wide there.
import_image "$python_base" "$(basename "$tar")" "$tar" --change "$base_env" \
  --change 'ENV PIP_BREAK_SYSTEM_PACKAGES=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1' \
  --change 'CMD ["python3"]'
reqs=examples/python/requirements.txt
key3=$( { basename "$tar"; cat "$reqs"; } | hash_of)
wheels="$CACHE/wheels-$(hash_of <"$reqs")"
if [ ! -d "$wheels" ]; then
  rm -rf "$wheels.tmp"
  mkdir -p "$wheels.tmp"
  cp "$reqs" "$wheels.tmp/requirements.txt"
  log "pip download (host) of $reqs"
  python3 -m pip download -q --disable-pip-version-check --only-binary=:all: \
    --python-version 3.11 -d "$wheels.tmp" -r "$reqs" >&2
  # The host's pip judges environment markers by the host's Python, and the
  # image's Python (bookworm's 3.11.2) may need more (redis-py wants
  # async-timeout below 3.11.3). The image's own pip names what is missing,
  # offline; the host downloads it; until nothing is missing.
  for _ in 1 2 3 4 5 6; do
    missing=$(docker run --rm --network none -v "$wheels.tmp:/wheels" "$python_base" \
      pip install --dry-run --no-index --find-links /wheels -r /wheels/requirements.txt 2>&1 \
      | sed -n 's/^ERROR: No matching distribution found for \([^;]*\).*/\1/p' | head -1) || true
    [ -n "$missing" ] || break
    log "the image's Python also needs $missing: pip download (host)"
    python3 -m pip download -q --disable-pip-version-check --only-binary=:all: \
      --python-version 3.11 -d "$wheels.tmp" "$missing" >&2
  done
  docker run --rm --network none -v "$wheels.tmp:/wheels" "$python_base" \
    pip install -q --dry-run --no-index --find-links /wheels -r /wheels/requirements.txt >&2 \
    || die "wheels for $reqs are incomplete"
  rm -f "$wheels.tmp/requirements.txt"
  mv "$wheels.tmp" "$wheels"
fi
if [ "$(image_key "$PYTHON_IMAGE")" != "$key3" ]; then
  ctx=$(mktemp -d)
  cp -a "$wheels" "$ctx/wheels"
  cp "$reqs" "$ctx/requirements.txt"
  cat >"$ctx/Dockerfile" <<EOF
FROM $python_base
COPY wheels /tmp/wheels
COPY requirements.txt /tmp/requirements.txt
RUN pip install -q --no-index --find-links /tmp/wheels -r /tmp/requirements.txt \
 && rm -rf /tmp/wheels /tmp/requirements.txt /root/.cache \
 && python -c 'import redis, pymemcache, memcache; print("redis-py", redis.__version__)'
EOF
  build_image "$PYTHON_IMAGE" "$key3" "$ctx"
  rm -rf "$ctx"
else
  log "$PYTHON_IMAGE is up to date"
fi

echo "RUNTIME_IMAGE=$RUNTIME_IMAGE"
echo "RUST_IMAGE=$RUST_IMAGE"
echo "PYTHON_IMAGE=$PYTHON_IMAGE"

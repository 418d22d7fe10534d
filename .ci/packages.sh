#!/usr/bin/env bash
# Install what .ci/run needs on Debian 12, without upgrading anything that is
# already there. Sourced by .ci/run, not executed.
#
#   ensure_debian_packages  Debian 12's own packages, only the missing ones:
#                           the legacy engine (docker.io 20.10, runc 1.1.5,
#                           containerd 1.6) with Compose v1.29.2 and the tools
#                           the tests drive.
#   ensure_docker26         Docker 26 + containerd 1.7 + the Compose v2 and
#                           buildx plugins from Debian 13, pinned, unpacked
#                           into /opt/docker26 (never installed with dpkg, so
#                           nothing else on the machine changes).
#   ensure_dev_user         the regular user the non-root e2e tests switch to.

CCTL_STATE_DIR=${CCTL_STATE_DIR:-/var/tmp/cctl-ci}
DOCKER26_ROOT=${DOCKER26_ROOT:-/opt/docker26}
# The Docker client looks here for plugins, for every user.
CLI_PLUGIN_DIR=${CLI_PLUGIN_DIR:-/usr/local/lib/docker/cli-plugins}

# Debian 13 ("trixie") packages, exact versions. Their Go binaries run on
# Debian 12; trixie's runc needs glibc 2.38, so Debian 12's runc is used.
DOCKER26_PINS=(
  "docker.io=26.1.5+dfsg1-9+deb13u1+b1"
  "containerd=1.7.24~ds1-6+deb13u1"
  "docker-compose=2.26.1-4"
  "docker-buildx=0.13.1+ds1-3"
)

# Package names, one per command or file they provide. chromium is for the
# browser tests; tini gives docker-init (`init: true`) to both engines;
# busybox is the tar of Alpine-based images, for the restore script's test.
# zsh parses the zsh completion script in a test.
DEBIAN_PACKAGES=(
  docker.io docker-compose containerd runc tini iptables
  debootstrap shellcheck tmux openssh-client curl git ca-certificates chromium busybox zsh
  # The ledger's store tests start a real Postgres (initdb, pg_ctl) in a temporary folder.
  postgresql
)

installed() { dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

ensure_debian_packages() {
  local missing=() pkg
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    installed "$pkg" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "ci: Debian packages present ($(dpkg-query -W -f '${Version}' docker.io) docker.io, $(dpkg-query -W -f '${Version}' docker-compose) docker-compose)"
    return 0
  fi
  echo "ci: installing ${missing[*]}"
  # Keep the packages' services from starting: this run starts its own
  # engines, one at a time, with data roots of their own. policy-rc.d is
  # what invoke-rc.d and deb-systemd-invoke ask; an existing one is kept.
  local policy=/usr/sbin/policy-rc.d own_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy" && own_policy=1
  fi
  local status=0
  apt-get update -qq || status=$?
  if [ "$status" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-upgrade "${missing[@]}" >/dev/null || status=$?
  fi
  [ -n "$own_policy" ] && rm -f "$policy"
  if [ "$status" -ne 0 ]; then
    echo "ci: apt-get failed (exit $status) installing: ${missing[*]}" >&2
    return 1
  fi
  # With systemd, the units stay enabled and would start Debian's engine on
  # /var/run/docker.sock at the next boot, or a system containerd that
  # dockerd would then use instead of its own. Only units this run installed.
  if [ -d /run/systemd/system ]; then
    local units=()
    for pkg in "${missing[@]}"; do
      case "$pkg" in
        docker.io) units+=(docker.socket docker.service) ;;
        containerd) units+=(containerd.service) ;;
      esac
    done
    [ ${#units[@]} -gt 0 ] && systemctl disable --now "${units[@]}" >/dev/null 2>&1
  fi
  return 0
}

# The pins, one "name=version" per line: what /opt/docker26 was unpacked from.
docker26_stamp() { printf '%s\n' "${DOCKER26_PINS[@]}"; }

# Download the pinned .debs from trixie with an apt state of their own (its
# own sources, lists, cache and an empty dpkg status), so the machine's apt
# sources, preferences and installed packages are never touched.
download_docker26_debs() {
  local debs=$1 apt_dir="$CCTL_STATE_DIR/apt-trixie"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$debs"
  cat >"$apt_dir/trixie.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  local apt=(apt-get -q
    -o "Dir::Etc::sourcelist=$apt_dir/trixie.sources"
    -o Dir::Etc::sourceparts=/dev/null
    -o Dir::Etc::preferences=/dev/null
    -o Dir::Etc::preferencesparts=/dev/null
    -o "Dir::State::Lists=$apt_dir/lists"
    -o "Dir::Cache=$apt_dir/cache"
    -o "Dir::Cache::Archives=$apt_dir/cache/archives"
    -o Dir::State::status=/dev/null)
  echo "ci: downloading the Docker 26 stack from Debian 13 (${DOCKER26_PINS[*]})"
  "${apt[@]}" update >"$apt_dir/update.log" 2>&1 \
    || { tail -5 "$apt_dir/update.log" >&2; echo "ci: apt-get update for trixie failed" >&2; return 1; }
  # apt checks each file against the signed index. The _apt sandbox user
  # needs a folder it may write to.
  chown _apt "$debs" 2>/dev/null || true
  (cd "$debs" && "${apt[@]}" download "${DOCKER26_PINS[@]}") >"$apt_dir/download.log" 2>&1 || {
    tail -5 "$apt_dir/download.log" >&2
    echo "ci: a pinned version is no longer in the trixie archive; choose the current one" \
      "(apt-cache policy with the options in .ci/packages.sh) and update DOCKER26_PINS" >&2
    return 1
  }
}

# Each .deb's control fields must name exactly the pinned package and version.
verify_docker26_debs() {
  local debs=$1 pin name version deb found
  for pin in "${DOCKER26_PINS[@]}"; do
    name=${pin%%=*} version=${pin#*=} found=""
    for deb in "$debs"/*.deb; do
      [ -f "$deb" ] || continue
      [ "$(dpkg-deb -f "$deb" Package)" = "$name" ] || continue
      if [ "$(dpkg-deb -f "$deb" Version)" = "$version" ]; then found=$deb; break; fi
    done
    [ -n "$found" ] || { echo "ci: no $name $version among the downloaded packages" >&2; return 1; }
  done
}

# expect_version WHAT PATTERN COMMAND...: the command's output matches.
expect_version() {
  local what=$1 pattern=$2 out
  shift 2
  out=$("$@" 2>&1)
  # shellcheck disable=SC2053 # the pattern is a glob on purpose
  if [[ $out != $pattern ]]; then
    echo "ci: $what is not the pinned version: $out" >&2
    return 1
  fi
}

# The unpacked binaries report the pinned upstream versions.
verify_docker26_binaries() {
  local root=$1 plugins=$1/usr/libexec/docker/cli-plugins
  expect_version dockerd '* 26.1.5+dfsg1,*' "$root/usr/sbin/dockerd" --version &&
    expect_version containerd '* 1.7.24~ds1-6+deb13u1*' "$root/usr/bin/containerd" --version &&
    expect_version 'the compose plugin' '* 2.26.1-4*' "$plugins/docker-compose" version &&
    expect_version 'the buildx plugin' '* 0.13.1+ds1-3*' "$plugins/docker-buildx" version
}

link_cli_plugins() {
  mkdir -p "$CLI_PLUGIN_DIR"
  local plugin
  for plugin in docker-compose docker-buildx; do
    ln -sfn "$DOCKER26_ROOT/usr/libexec/docker/cli-plugins/$plugin" "$CLI_PLUGIN_DIR/$plugin"
  done
}

ensure_docker26() {
  local stamp="$DOCKER26_ROOT/.cctl-pins"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(docker26_stamp)" ] && verify_docker26_binaries "$DOCKER26_ROOT"; then
    link_cli_plugins
    echo "ci: Docker 26 stack present in $DOCKER26_ROOT"
    return 0
  fi
  local debs="$CCTL_STATE_DIR/debs-trixie" staging="$DOCKER26_ROOT.new"
  rm -rf "$staging"
  # The .debs of an earlier run are reused when they are exactly the pins.
  if ! verify_docker26_debs "$debs" 2>/dev/null; then
    rm -rf "$debs"
    download_docker26_debs "$debs" || return 1
    verify_docker26_debs "$debs" || return 1
  fi
  mkdir -p "$staging"
  local deb
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$staging" || return 1; done
  verify_docker26_binaries "$staging" || return 1
  docker26_stamp >"$staging/.cctl-pins"
  if [ -d "$DOCKER26_ROOT" ] && diff -rq --no-dereference -x .cctl-pins "$staging" "$DOCKER26_ROOT" >/dev/null 2>&1; then
    # Same content as what is there (maybe running): keep it, record the pins.
    cp "$staging/.cctl-pins" "$stamp"
    rm -rf "$staging"
    echo "ci: $DOCKER26_ROOT holds exactly the pinned packages; pins recorded"
  else
    # A swap, not an unpack over it: a running dockerd keeps its binaries.
    rm -rf "$DOCKER26_ROOT.old"
    [ -d "$DOCKER26_ROOT" ] && mv "$DOCKER26_ROOT" "$DOCKER26_ROOT.old"
    mv "$staging" "$DOCKER26_ROOT"
    rm -rf "$DOCKER26_ROOT.old"
    echo "ci: Docker 26 stack unpacked into $DOCKER26_ROOT and verified"
  fi
  link_cli_plugins
}

ensure_dev_user() {
  getent group docker >/dev/null || groupadd --system docker || return 1
  if ! getent passwd dev >/dev/null; then
    if getent passwd 1500 >/dev/null; then
      echo "ci: UID 1500 belongs to $(getent passwd 1500 | cut -d: -f1); the tests expect user dev there" >&2
      return 1
    fi
    useradd -m -u 1500 -G docker -s /bin/bash dev || return 1
    echo "ci: created user dev (UID 1500, group docker)"
  elif [ "$(id -u dev)" != 1500 ]; then
    echo "ci: user dev has UID $(id -u dev), the tests expect 1500" >&2
    return 1
  elif ! id -nG dev | tr ' ' '\n' | grep -qx docker; then
    usermod -aG docker dev || return 1
  fi
}

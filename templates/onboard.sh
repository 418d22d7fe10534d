#!/bin/sh
# Onboarding for this project's Claude Code environment. Run it once after
# cloning; running it again is safe and changes nothing when all is well.
#
#   scripts/onboard.sh          asks before fetching cctl or building
#   scripts/onboard.sh --yes    never asks (automation, CI)
#
# Steps: prerequisites, cctl, doctor, up, verify. A failure exits non-zero
# and names its step. Environment:
#   CCTL          the cctl command line to use (default: "cctl" on PATH when it
#                 is version __CCTL_VERSION__, else "npx --yes <source>")
#   CCTL_PACKAGE  a source you name yourself for npx (overrides the project's)
# The source is the project's cctl-source setting (__CCTL_SOURCE_SHOWN__). With
# none, the script never fetches cctl: it stops and says how to install it.
#   CCTL_COMPOSE  the compose command ("docker compose" or docker-compose)
#
# Written by cctl __CCTL_VERSION__ ("cctl init" rewrites it when cctl changes).
# Edits are overwritten: keep team-specific steps in a separate script.
set -eu

CCTL_VERSION=__CCTL_VERSION__
CCTL_SOURCE='__CCTL_SOURCE__'
NODE_MIN=20.19.0
# Compose v1 gained profiles in 1.28; every v2 has them.
COMPOSE_MIN=1.28.0

step=start
yes=0

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
}

fail() {
  printf 'onboard: step "%s" failed: %s\n' "$step" "$*" >&2
  exit 1
}

begin() {
  step=$1
  printf '\n==> %s\n' "$2"
}

say() {
  printf '    %s\n' "$*"
}

# version_ge A B: true when the dotted version A is at least B.
version_ge() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    split(a, x, "."); split(b, y, ".")
    for (i = 1; i <= 3; i++) {
      if (x[i] + 0 > y[i] + 0) exit 0
      if (x[i] + 0 < y[i] + 0) exit 1
    }
    exit 0
  }'
}

# confirm QUESTION: yes with --yes; asks on a terminal; fails without one,
# since a script that silently assumes an answer is worse than one that stops.
confirm() {
  if [ "$yes" = 1 ]; then
    return 0
  fi
  if [ ! -t 0 ]; then
    fail "no terminal to ask \"$1\"; run again with --yes"
  fi
  printf '%s [Y/n] ' "$1"
  answer=
  read -r answer || answer=n
  case $answer in
    '' | y | Y | yes | Yes | YES) return 0 ;;
    *) fail "stopped at your answer" ;;
  esac
}

while [ "$#" -gt 0 ]; do
  case $1 in
    -y | --yes) yes=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      printf 'onboard: unknown option "%s" (see --help)\n' "$1" >&2
      exit 2
      ;;
  esac
  shift
done

# The project is the folder above scripts/, wherever this is run from.
root=$(cd -- "$(dirname -- "$0")/.." && pwd -P) || {
  step=start
  fail "cannot find the project folder from $0"
}
cd "$root"

begin prerequisites "Checking Docker, Compose and Node"
command -v docker >/dev/null 2>&1 ||
  fail "docker is not installed: https://docs.docker.com/get-docker/"
server=$(docker version --format '{{.Server.Version}}' 2>/dev/null) ||
  fail "the Docker engine is not reachable${DOCKER_HOST:+ at $DOCKER_HOST}: start Docker, or point DOCKER_HOST or \"docker context use\" at a running engine"

if [ -n "${CCTL_COMPOSE:-}" ]; then
  compose=$CCTL_COMPOSE
elif docker compose version --short >/dev/null 2>&1; then
  compose="docker compose"
elif command -v docker-compose >/dev/null 2>&1; then
  compose=docker-compose
else
  fail "Docker Compose is missing: install the \"docker compose\" plugin (https://docs.docker.com/compose/install/) or docker-compose 1.28 or later"
fi
# CCTL_COMPOSE and "docker compose" are command lines: split them on purpose.
# shellcheck disable=SC2086
compose_version=$($compose version --short 2>/dev/null | sed 's/^v//')
[ -n "$compose_version" ] || fail "\"$compose version --short\" failed"
version_ge "$compose_version" "$COMPOSE_MIN" ||
  fail "Compose $compose_version is too old: cctl needs profiles (Compose $COMPOSE_MIN or later, or v2)"

command -v node >/dev/null 2>&1 ||
  fail "Node.js is not installed: cctl needs Node $NODE_MIN or later (https://nodejs.org)"
node_version=$(node -p process.versions.node)
version_ge "$node_version" "$NODE_MIN" ||
  fail "Node $node_version is too old: cctl needs $NODE_MIN or later"
say "Docker $server, Compose $compose_version ($compose), Node $node_version"

begin cctl "Finding cctl $CCTL_VERSION"
if [ -n "${CCTL:-}" ]; then
  cctl_cmd=$CCTL
elif command -v cctl >/dev/null 2>&1 &&
  [ "$(cctl --version 2>/dev/null | sed -n 's|^cctl/\([^ ]*\).*|\1|p')" = "$CCTL_VERSION" ]; then
  cctl_cmd=cctl
else
  # Only a source someone named: an unscoped name on a public registry is
  # whoever claimed it, and would run on every new member's machine.
  source=${CCTL_PACKAGE:-$CCTL_SOURCE}
  [ -n "$source" ] ||
    fail "cctl $CCTL_VERSION is not on PATH, and this project names no source to install it from. Install cctl $CCTL_VERSION the way your team does (ask who set up this project; cctl's README, \"Installing cctl\", lists the ways), or run this script again with CCTL set to a command that runs cctl, e.g. from a clone where npm install ran: CCTL=\"node $HOME/src/cctl/bin/cctl.js\" sh scripts/onboard.sh --yes. A maintainer can name the source once: cctl init --set cctl-source=@your-team/cctl (or a git+https:// URL), and commit scripts/onboard.sh"
  case $source in
    @*/*@*) ;;
    @*/*) source="$source@$CCTL_VERSION" ;;
  esac
  command -v npx >/dev/null 2>&1 ||
    fail "cctl $CCTL_VERSION is not installed and npx (part of npm) is missing to fetch it from $source"
  confirm "cctl $CCTL_VERSION is not installed. Fetch it with npx from $source?"
  cctl_cmd="npx --yes $source"
fi

# CCTL may be a command line ("node /path/to/cctl.js"): split it on purpose.
run_cctl() {
  # shellcheck disable=SC2086
  $cctl_cmd "$@"
}

cctl_version=$(run_cctl --version 2>/dev/null) || fail "\"$cctl_cmd --version\" failed"
say "$cctl_version ($cctl_cmd)"

# Everything a no-op run must leave alone: the files cctl writes here, and the
# containers (recreating one gives it a new id, restarting a new start time).
fingerprint() {
  for f in compose.yaml compose.yml docker-compose.yaml docker-compose.yml scripts/onboard.sh; do
    if [ -f "$f" ]; then cksum "$f"; fi
  done
  if [ -d .cctl ]; then find .cctl -type f -exec cksum {} + | sort; fi
  # A failure here only makes the no-op report less sure, never stops the run.
  ids=$(docker ps -aq --no-trunc --filter "label=com.docker.compose.project.working_dir=$root" | sort) || ids=
  if [ -n "$ids" ]; then
    # shellcheck disable=SC2086
    docker inspect --format '{{.Id}} {{.Image}} {{.State.StartedAt}}' $ids || :
  fi
}

# True when cctl reports every claude service running and healthy.
healthy() {
  run_cctl status --json 2>/dev/null | node -e '
    let text = "";
    process.stdin.on("data", (d) => (text += d)).on("end", () => {
      try {
        const { services } = JSON.parse(text);
        const ok = services.length > 0 && services.every((s) => s.state === "running" && ["healthy", "none"].includes(s.health));
        process.exit(ok ? 0 : 1);
      } catch {
        process.exit(1);
      }
    });'
}

before=$(fingerprint)
was_healthy=0
if healthy; then
  was_healthy=1
fi

begin doctor "Checking the setup (cctl doctor)"
if run_cctl doctor; then
  :
elif [ "$was_healthy" = 1 ]; then
  fail "cctl doctor found problems with a running environment (see above)"
else
  say "Checks about the image, the volume and the running proxy fail until the"
  say "first start; \"cctl up\" is next, and doctor runs again after it."
fi

begin up "Starting the environment (cctl up)"
if [ "$was_healthy" != 1 ]; then
  confirm "Build the image (the first time takes a few minutes) and start the claude services?"
fi
run_cctl up || fail "cctl up failed (see above); \"cctl logs\" and \"cctl doctor\" tell more"

begin verify "Checking again (cctl doctor)"
run_cctl doctor || fail "cctl doctor still finds problems after cctl up (see above)"

after=$(fingerprint)
printf '\n'
if [ "$was_healthy" = 1 ] && [ "$before" = "$after" ]; then
  echo "Nothing to do: the environment was already healthy and current, and this run changed nothing."
else
  echo "Done: the Claude environment is up and healthy."
fi
case $cctl_cmd in
  cctl) ;;
  'npx '*)
    printf '\n(Below, "cctl" stands for: %s. To have the word itself: npm install -g %s)\n' "$cctl_cmd" "$source"
    ;;
  *) printf '\n(Below, "cctl" stands for: %s.)\n' "$cctl_cmd" ;;
esac
cat <<'EOF'

Next steps:
__NEXT_STEPS__
EOF

#!/bin/sh
# Measures the claude-cli image (docker/Dockerfile):
#   1. image size next to the payload it must carry (goal: <= 1.15x);
#   2. a rebuild with nothing changed (goal: fully cached, a few seconds);
#   3. which build steps a Claude Code version bump re-runs (goal: not the
#      Python/monitor step).
#   4. which build steps a change of the `packages` setting re-runs (goal:
#      only its own step; Claude Code, ccusage and the monitor stay cached).
#
# Goals, each printed as met or MISSED with by how much; with --check a miss
# makes the exit status 1 (--goal ID=LIMIT replaces one limit, repeatable: how
# a test shows the check can fail):
#   size-ratio          image size / payload <= 1.15 (relative)
#   noop-rebuilt-steps  RUN/COPY steps re-run by a rebuild with nothing changed <= 0
#   bump-monitor-steps  monitor/Python steps re-run by a Claude Code bump <= 0
#   packages-other-steps  steps besides its own re-run by a packages change <= 0
#
# Usage: bench/image.sh [--check] [--goal ID=LIMIT]...
# Environment:
#   BASE_IMAGE        base to build on (default: $CCTL_TEST_BASE_IMAGE or
#                     cctl-base:bookworm-node22, the stand-in base CI prepares)
#   INSTALL_MONITOR   1 or 0 (default 0: PyPI is unreachable in CI)
#   BUILDER           classic (default) or buildkit
#   DOCKER            docker client to use (default docker; for BuildKit on a
#                     client without buildx, /usr/bin/docker from docker.io)
#   BUMP_VERSION      Claude Code version spec for step 3 (default: a range
#                     unique to this run that resolves to the previous patch)
#   COLD=1            also time a --no-cache build first
#   PACKAGES_BUMP     package list for step 4 (default: make)
#   CA_CERT           extra CA (default: $CCTL_TEST_CA_CERT or $NODE_EXTRA_CA_CERTS)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/goals.sh
. "$here/goals.sh"
goal_args "$@"

docker_dir=$(cd "$here/../docker" && pwd)
BASE_IMAGE=${BASE_IMAGE:-${CCTL_TEST_BASE_IMAGE:-cctl-base:bookworm-node22}}
INSTALL_MONITOR=${INSTALL_MONITOR:-0}
BUILDER=${BUILDER:-classic}
DOCKER=${DOCKER:-docker}
CA_CERT=${CA_CERT:-${CCTL_TEST_CA_CERT:-${NODE_EXTRA_CA_CERTS:-}}}
IMAGE=cctl-bench-image:$BUILDER
BUMP_IMAGE=cctl-bench-image:$BUILDER-bump

case "$BUILDER" in
  classic) DOCKER_BUILDKIT=0; progress="" ;;
  buildkit) DOCKER_BUILDKIT=1; progress="--progress=plain" ;;
  *) echo "BUILDER must be classic or buildkit" >&2; exit 2 ;;
esac
export DOCKER_BUILDKIT

pin() { sed -n "s/^ARG $1=//p" "$docker_dir/Dockerfile"; }
claude_pin=$(pin CLAUDE_CODE_VERSION)
# What a bump invalidates depends on the build arg's value changing, not on
# which version it names. A value no earlier run has used guarantees a real
# cache miss on every run (a fixed older version would be cached after the
# first): an npm range unique to this run that resolves to the release
# before the pin, so the binary really changes.
if [ -z "${BUMP_VERSION:-}" ]; then
  patch=${claude_pin##*.}
  BUMP_VERSION="${claude_pin%.*}.$((patch - 1)) || 0.0.$(date +%s)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cctl-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
cp -R "$docker_dir" "$work/context"
rm -f "$work/context/certs/extra-ca.crt"
if [ -n "$CA_CERT" ] && [ -f "$CA_CERT" ]; then
  cp "$CA_CERT" "$work/context/certs/extra-ca.crt"
fi

now_ms() { node -p 'Date.now()'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

# build TAG LOG [extra build args...]: prints the wall time in seconds.
build() {
  tag=$1 log=$2
  shift 2
  start=$(now_ms)
  # shellcheck disable=SC2086 # $progress is empty or one flag
  if ! "$DOCKER" build $progress \
    --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    --build-arg "INSTALL_MONITOR=$INSTALL_MONITOR" \
    "$@" -t "$tag" "$work/context" >"$log" 2>&1; then
    tail -30 "$log" >&2
    echo "bench: build of $tag failed (log above)" >&2
    exit 1
  fi
  end=$(now_ms)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", (b - a) / 1000 }'
}

# steps LOG: one line per build step, "cached" or "REBUILT" then the step.
steps() {
  if [ "$BUILDER" = classic ]; then
    awk '
      function flush() { if (step != "") printf "%s  %s\n", (cached ? "cached" : "REBUILT"), step }
      /^Step [0-9]+\/[0-9]+ : / { flush(); step = substr($0, index($0, ": ") + 2); cached = 0; next }
      /^ ---> Using cache/ { cached = 1 }
      END { flush() }' "$1"
  else
    # BuildKit plain progress: "#N [stage i/n] INSTR" then "#N CACHED" or "#N DONE".
    awk '
      /^#[0-9]+ \[[^]]*\] / { id = $1; if (!(id in desc)) { desc[id] = substr($0, length(id) + 2); order[++n] = id } next }
      /^#[0-9]+ CACHED/ { cached[$1] = 1 }
      END { for (i = 1; i <= n; i++) printf "%s  %s\n", (cached[order[i]] ? "cached" : "REBUILT"), desc[order[i]] }' "$1"
  fi
}

echo "== cctl image bench: builder=$BUILDER base=$BASE_IMAGE monitor=$INSTALL_MONITOR claude=$claude_pin"

if [ "${COLD:-0}" = 1 ]; then
  cold=$(build "$IMAGE" "$work/build0.log" --no-cache)
  echo "cold build (--no-cache, packages and tools downloaded): ${cold} s"
fi
first=$(build "$IMAGE" "$work/build1.log")
echo "build with the cache as it stands: ${first} s"
again=$(build "$IMAGE" "$work/build2.log")
rebuilt=$(steps "$work/build2.log" | grep -cE '^REBUILT  (\[[^]]*\] )?(RUN|COPY)' || true)
echo "rebuild, nothing changed: ${again} s ($rebuilt RUN/COPY steps re-run)"
goal noop-rebuilt-steps "RUN/COPY steps re-run by a rebuild with nothing changed" "$rebuilt" 0

# --- size against payload -------------------------------------------------
image_bytes=$("$DOCKER" image inspect --format '{{.Size}}' "$IMAGE")
base_bytes=$("$DOCKER" image inspect --format '{{.Size}}' "$BASE_IMAGE")
# The payload: the base (Node runtime), the Claude binary, ccusage's binary,
# and Python + the monitor's venv when the monitor is on. Everything else in
# the image is overhead: runtime packages (git, tzdata, ...), npm metadata,
# the user, the scripts.
# shellcheck disable=SC2016 # expanded inside the container, not here
payload_script='
claude=$(du -sb /opt/claude-code/lib/node_modules/@anthropic-ai/claude-code/bin/claude.exe | cut -f1)
ccusage=$(find /opt/ccusage -type f -path "*/bin/ccusage" -size +1M -exec du -sb {} + | awk "{ s += \$1 } END { print s + 0 }")
monitor=0; python=0
if [ -x /opt/monitor/bin/claude-monitor ]; then
  monitor=$(du -sb /opt/monitor | cut -f1)
  python=$(du -scb /usr/lib/python3* /usr/bin/python3* 2>/dev/null | tail -1 | cut -f1)
fi
echo "$claude $ccusage $monitor $python"'
# shellcheck disable=SC2046 # word splitting of four numbers is intended
set -- $("$DOCKER" run --rm --network none --user root --entrypoint sh "$IMAGE" -c "$payload_script")
claude_bytes=$1 ccusage_bytes=$2 monitor_bytes=$3 python_bytes=$4
payload=$((base_bytes + claude_bytes + ccusage_bytes + monitor_bytes + python_bytes))
ratio=$(awk -v i="$image_bytes" -v p="$payload" 'BEGIN { printf "%.3f", i / p }')
echo "image size: $(mib "$image_bytes")"
echo "payload:    $(mib "$payload") = base $(mib "$base_bytes") + claude $(mib "$claude_bytes") + ccusage $(mib "$ccusage_bytes") + monitor $(mib "$monitor_bytes") + python $(mib "$python_bytes")"
goal size-ratio "image size / payload" "$ratio" 1.15
echo "layers above the base (size, instruction):"
"$DOCKER" history --no-trunc --format '{{.Size}}\t{{.CreatedBy}}' "$IMAGE" \
  | awk -F '\t' '$1 != "0B" { sub(/^\/bin\/sh -c (#\(nop\) *)?/, "", $2); printf "  %-9s %s\n", $1, substr($2, 1, 90) }' \
  | sed '$d'

# --- Claude Code bump -------------------------------------------------------
echo "Claude Code bump $claude_pin -> $BUMP_VERSION:"
bump=$(build "$BUMP_IMAGE" "$work/bump.log" --build-arg "CLAUDE_CODE_VERSION=$BUMP_VERSION")
steps "$work/bump.log" | grep -E '^(cached|REBUILT)  (\[[^]]*\] )?(RUN|COPY)' | cut -c1-110 | sed 's/^/  /'
if ! steps "$work/bump.log" | grep -q 'claude-monitor=='; then
  echo "bench: no build step installs claude-monitor== any more; update this bench's step match" >&2
  exit 1
fi
monitor_rerun=$(steps "$work/bump.log" | grep -c '^REBUILT.*claude-monitor==' || true)
goal bump-monitor-steps "monitor/Python steps re-run by the Claude Code bump" "$monitor_rerun" 0
echo "bump build: ${bump} s"
"$DOCKER" rmi "$BUMP_IMAGE" >/dev/null

# --- packages setting -------------------------------------------------------
# A change of the `packages` setting (the PACKAGES build arg) must re-run only
# its own step, over the finished image: Claude Code, ccusage and the monitor
# come from the cache.
packages_bump=${PACKAGES_BUMP:-make}
echo "packages change (PACKAGES=$packages_bump):"
pkgs=$(build "$BUMP_IMAGE" "$work/packages.log" --build-arg "PACKAGES=$packages_bump")
steps "$work/packages.log" | grep -E '^(cached|REBUILT)  (\[[^]]*\] )?(RUN|COPY)' | cut -c1-110 | sed 's/^/  /'
others=$(steps "$work/packages.log" | grep -E '^REBUILT  (\[[^]]*\] )?(RUN|COPY)' | grep -vc 'PACKAGES' || true)
goal packages-other-steps "steps re-run besides the packages step" "$others" 0
echo "packages build: ${pkgs} s (against the Claude Code bump above: ${bump} s)"
"$DOCKER" rmi "$BUMP_IMAGE" >/dev/null

goals_finish bench/image.sh

#!/usr/bin/env bash
# Start and stop the two Docker engines .ci/run tests on, one at a time.
# Sourced by .ci/run, not executed.
#
#   26  Debian 13's dockerd 26.1.5 and containerd 1.7, unpacked in
#       /opt/docker26 (.ci/packages.sh), with Debian 12's runc.
#   20  Debian 12's dockerd 20.10.24, containerd 1.6 and runc.
#
# Each engine has its own data root (so each keeps its own build cache across
# runs) and pidfile under $CCTL_STATE_DIR. They share /var/run/docker.sock,
# the exec root and the default bridge docker0, which is why only one may run:
# a second daemon changing docker0 breaks the first one's builds and runs.

CCTL_STATE_DIR=${CCTL_STATE_DIR:-/var/tmp/cctl-ci}
DOCKER26_ROOT=${DOCKER26_ROOT:-/opt/docker26}
# A PATH without /opt/docker26, so each engine finds its own containerd.
SYSTEM_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
DOCKER20_DOCKERD=${DOCKER20_DOCKERD:-/usr/sbin/dockerd}
# The containerd that dockerd starts for itself writes its pid here.
MANAGED_CONTAINERD_PIDFILE=${MANAGED_CONTAINERD_PIDFILE:-/var/run/docker/containerd/containerd.pid}

# The engine this run started and has not stopped yet ("" when none).
STARTED_ENGINE=""

engine_pidfile() { echo "$CCTL_STATE_DIR/dockerd$1.pid"; }
engine_expected_version() { case "$1" in 26) echo 26.1.5 ;; 20) echo 20.10.24 ;; esac; }

# The engine's command line: exactly how the lead started the shared engine 26.
engine_command() {
  local pidfile
  pidfile=$(engine_pidfile "$1")
  case "$1" in
    26) echo env "PATH=$DOCKER26_ROOT/usr/sbin:$DOCKER26_ROOT/usr/bin:$SYSTEM_PATH" \
          "$DOCKER26_ROOT/usr/sbin/dockerd" --data-root "$CCTL_STATE_DIR/docker26" --pidfile "$pidfile" ;;
    20) echo env "PATH=$SYSTEM_PATH" \
          "$DOCKER20_DOCKERD" --data-root "$CCTL_STATE_DIR/docker20" --pidfile "$pidfile" ;;
  esac
}

# A zombie still answers kill -0, so the state in /proc decides.
# Fields of /proc/PID/stat after the command name: 1 = state, 2 = parent pid.
proc_stat() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f"$2"; }

# A zombie still answers kill -0, so the state in /proc decides.
alive() {
  [ -n "$1" ] && [ -r "/proc/$1/stat" ] && [ "$(proc_stat "$1" 1)" != Z ]
}

# Prints the pid of engine NAME when its pidfile names a live dockerd.
engine_pid() {
  local pidfile pid
  pidfile=$(engine_pidfile "$1")
  [ -s "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  alive "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || return 1
  echo "$pid"
}

engine_answers() { timeout 20 docker info >/dev/null 2>&1; }
server_version() { timeout 20 docker version --format '{{.Server.Version}}' 2>/dev/null; }

# 26 or 20 when one of this script's engines runs; "foreign" when some other
# engine answers on the socket; "none" otherwise.
running_engine() {
  local name
  for name in 26 20; do
    engine_pid "$name" >/dev/null && { echo "$name"; return; }
  done
  if engine_answers; then echo foreign; else echo none; fi
}

# wait_for SECONDS COMMAND...: polls every half second.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.5
  done
}

# 0 when the API answers and the default bridge exists (a stopped engine
# leaves docker0 behind; one that lost it recreates it on start); 2 when the
# daemon is gone (no need to wait any longer); 1 otherwise.
engine_ready() {
  local name=$1 pid=$2
  engine_answers && [ -e /sys/class/net/docker0 ] && return 0
  engine_pid "$name" >/dev/null || alive "$pid" || return 2
  return 1
}

# start_engine NAME: reuses engine NAME when it already runs, else starts it
# detached (its own session, so a Ctrl-C at the terminal reaches this script,
# which then stops it in order, and a restored engine outlives the run).
start_engine() {
  local name=$1 pid log="$CCTL_STATE_DIR/dockerd$1.log"
  if pid=$(engine_pid "$name"); then
    echo "ci: reusing the running engine $name (pid $pid)"
  else
    if [ "$(running_engine)" != none ]; then
      echo "ci: cannot start engine $name: another engine is running ($(running_engine))" >&2
      return 1
    fi
    mkdir -p "$CCTL_STATE_DIR"
    rm -f "$(engine_pidfile "$name")"
    echo "ci: starting engine $name (log: $log)"
    echo "=== .ci/run starts engine $name at $(date -u +%FT%TZ)" >>"$log"
    # shellcheck disable=SC2046 # engine_command prints words on purpose (no spaces in them)
    setsid $(engine_command "$name") </dev/null >>"$log" 2>&1 &
    pid=$!
    STARTED_ENGINE=$name
  fi
  local status=1 deadline=$((SECONDS + 60))
  while [ "$SECONDS" -lt "$deadline" ]; do
    engine_ready "$name" "$pid" && { status=0; break; }
    [ $? -eq 2 ] && break
    sleep 0.5
  done
  if [ "$status" -ne 0 ]; then
    echo "ci: engine $name did not become ready (log tail below)" >&2
    tail -20 "$log" >&2
    return 1
  fi
  local version expected
  version=$(server_version)
  expected=$(engine_expected_version "$name")
  if [[ $version != "$expected"* ]]; then
    echo "ci: the engine that answers is $version, expected $expected" >&2
    return 1
  fi
  echo "ci: engine $name ready: dockerd $version (pid $(engine_pid "$name" || echo "$pid"))"
}

# stop_engine NAME: TERM to the pid in its pidfile, then wait until it, and
# the containerd it ran, are gone and the socket no longer answers.
stop_engine() {
  local name=$1 pid containerd=""
  pid=$(engine_pid "$name") || { [ "$STARTED_ENGINE" = "$name" ] && STARTED_ENGINE=""; return 0; }
  # Only the containerd this dockerd started (its child), never a system one.
  if [ -s "$MANAGED_CONTAINERD_PIDFILE" ]; then
    containerd=$(cat "$MANAGED_CONTAINERD_PIDFILE")
    [ "$(proc_stat "$containerd" 2)" = "$pid" ] || containerd=""
  fi
  echo "ci: stopping engine $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null
  # dockerd gives running containers 15 s to stop, then exits.
  if ! wait_for 60 eval "! alive $pid"; then
    echo "ci: engine $name did not stop within 60 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null
    wait_for 10 eval "! alive $pid"
  fi
  if alive "$containerd"; then
    wait_for 15 eval "! alive $containerd" || { kill -TERM "$containerd"; wait_for 10 eval "! alive $containerd"; }
  fi
  if ! wait_for 15 eval '! engine_answers'; then
    echo "ci: an engine still answers after engine $name stopped" >&2
    return 1
  fi
  [ "$STARTED_ENGINE" = "$name" ] && STARTED_ENGINE=""
  echo "ci: engine $name stopped"
}

# The symptom of a lost or foreign docker0 is a container that cannot start
# on the default bridge ("could not find bridge docker0"): try one, once.
engine_smoke_test() {
  local out
  if ! out=$(timeout 60 docker run --rm --network bridge "$1" true 2>&1); then
    echo "ci: the engine cannot run a container on the default bridge: $out" >&2
    return 1
  fi
}

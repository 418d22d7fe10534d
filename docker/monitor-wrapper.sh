#!/bin/sh
# Starts the Claude Code Usage Monitor (claude-monitor) with the image's data
# path, a writable home, and plan/timezone defaults from the environment.
# Flags given on the command line win over those defaults.
set -eu

# CCTL_MONITOR_BIN exists for the unit tests, which run this script outside
# the image against a stand-in executable.
MONITOR_BIN=${CCTL_MONITOR_BIN:-/opt/monitor/bin/claude-monitor}

if [ ! -x "$MONITOR_BIN" ]; then
  {
    echo "monitor: the Claude Code Usage Monitor is not installed in this image"
    echo "(it was built with INSTALL_MONITOR=0, for example where PyPI is unreachable)."
    echo "To add it: cctl init --monitor && cctl up --build"
    echo "Meanwhile, usage reports work: cctl usage blocks --active from the host,"
    echo "or ccusage blocks --active inside the claude-cli container."
  } >&2
  exit 1
fi

: "${CLAUDE_CONFIG_DIR:=${CLAUDE_HOME:-$HOME/.claude}}"
export CLAUDE_CONFIG_DIR

# The monitor keeps ~/.claude-monitor/last_used.json and, before v4, only
# reads ~/.claude/projects. When the home is not writable (a volume owned by
# another uid, a read-only mount), give it a private home whose .claude points
# at the real data.
if ! [ -w "$HOME" ]; then
  tmp_home=$(mktemp -d "${TMPDIR:-/tmp}/monitor-home.XXXXXX")
  ln -s "$CLAUDE_CONFIG_DIR" "$tmp_home/.claude"
  echo "monitor: $HOME is not writable; using $tmp_home for the monitor's settings" >&2
  HOME=$tmp_home
  export HOME
fi

has_flag() {
  flag=$1
  shift
  for arg in "$@"; do
    case "$arg" in
      "$flag" | "$flag"=*) return 0 ;;
    esac
  done
  return 1
}

# Defaults go first, so that any later flag of the same name overrides them
# even for parsers that take the last occurrence; they are left out entirely
# when the caller passes the flag, for parsers that reject repeats.
defaults=""
if [ -n "${CLAUDE_PLAN:-}" ] && ! has_flag --plan "$@"; then
  set -- --plan "$CLAUDE_PLAN" "$@"
  defaults="$defaults --plan $CLAUDE_PLAN"
fi
if [ -n "${TZ:-}" ] && ! has_flag --timezone "$@"; then
  set -- --timezone "$TZ" "$@"
  defaults="$defaults --timezone $TZ"
fi

if [ "${CCTL_DEBUG:-}" = 1 ]; then
  printf 'monitor-wrapper: HOME=%s CLAUDE_CONFIG_DIR=%s defaults:%s\n' \
    "$HOME" "$CLAUDE_CONFIG_DIR" "${defaults:- none}" >&2
fi

exec "$MONITOR_BIN" "$@"

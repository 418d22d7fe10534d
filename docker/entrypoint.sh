#!/bin/sh
# Entry point of the claude-cli image: the first word picks the tool.
#
#   (nothing) | claude | -flags   Claude Code, through claude-wrapper.sh
#   monitor | claude-monitor | cmonitor | ccmonitor | ccm
#                                 the Usage Monitor, through monitor-wrapper.sh
#   ccusage | usage               ccusage
#   shell                         an interactive login shell
#   bash | sh                     that shell, with the remaining arguments
#   idle                          wait for `docker exec`; exits 0 on SIGTERM
#   healthcheck                   healthcheck.sh
#   anything else                 run as a command
#
# CCTL_DEBUG=1 prints the route taken on stderr.
set -eu

route() {
  if [ "${CCTL_DEBUG:-}" = 1 ]; then
    printf 'entrypoint: %s\n' "$1" >&2
  fi
}

# Prefer bash (Claude Code's own choice); Alpine without bash still has sh.
login_shell() {
  if command -v bash >/dev/null 2>&1; then
    echo bash
  else
    echo sh
  fi
}

# ccusage and the monitor refuse a config dir without projects/, which Claude
# Code only creates on its first session. The image seeds it into a fresh
# volume; a volume made by an older image gets it here, owned by claude even
# when this runs as root. Best effort: a read-only or foreign config dir must
# not keep the container from starting (the health check names that problem).
ensure_projects_dir() {
  [ -d "$1/projects" ] && return 0
  created=$1
  [ -d "$1" ] && created=$1/projects
  mkdir -p "$1/projects" 2>/dev/null || return 0
  [ "$created" = "$1" ] && chmod 0700 "$1"
  if [ "$(id -u)" = 0 ]; then
    chown -R claude:claude "$created" 2>/dev/null || :
  fi
}

# CLAUDE_CONFIG_DIR may list several dirs, comma-separated (as ccusage reads it).
old_ifs=$IFS
IFS=,
for config_dir in ${CLAUDE_CONFIG_DIR:-${HOME:-/home/claude}/.claude}; do
  [ -n "$config_dir" ] && ensure_projects_dir "$config_dir"
done
IFS=$old_ifs

if [ "$#" -eq 0 ]; then
  route claude
  exec claude-wrapper.sh
fi

word=$1
case "$word" in
  claude)
    shift
    route claude
    exec claude-wrapper.sh "$@"
    ;;
  -*)
    # `docker run IMAGE --version` means Claude's flag, as in the seed image.
    route claude
    exec claude-wrapper.sh "$@"
    ;;
  monitor | claude-monitor | cmonitor | ccmonitor | ccm)
    shift
    route monitor
    exec monitor-wrapper.sh "$@"
    ;;
  ccusage | usage)
    shift
    route ccusage
    exec ccusage "$@"
    ;;
  shell)
    shift
    route shell
    sh_bin=$(login_shell)
    exec "$sh_bin" -l "$@"
    ;;
  bash | sh)
    shift
    route shell
    if [ "$word" = bash ] && ! command -v bash >/dev/null 2>&1; then
      word="sh"
    fi
    exec "$word" "$@"
    ;;
  idle)
    route idle
    # Without an init process this shell is PID 1, which ignores signals it
    # has no handler for; the trap makes `docker stop` take effect at once.
    # sleep runs in the background so that `wait` can be interrupted.
    trap 'exit 0' TERM INT HUP
    while :; do
      sleep 3600 &
      wait $! || :
    done
    ;;
  healthcheck)
    shift
    route healthcheck
    exec healthcheck.sh "$@"
    ;;
  *)
    route command
    exec "$@"
    ;;
esac

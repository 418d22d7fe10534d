#!/bin/sh
# Starts Claude Code with the environment the image promises, whatever the
# caller left out: config dir in the home volume, the gateway as base URL,
# and the project mounted at /workspace as the working directory.
set -eu

: "${CLAUDE_CONFIG_DIR:=${CLAUDE_HOME:-$HOME/.claude}}"
: "${CLAUDE_HOME:=$CLAUDE_CONFIG_DIR}"
: "${ANTHROPIC_BASE_URL:=http://proxy:3000}"
export CLAUDE_CONFIG_DIR CLAUDE_HOME ANTHROPIC_BASE_URL

# With CLAUDE_CONFIG_DIR set, Claude Code keeps .claude.json (the login) in
# that directory instead of $HOME, so it lives in the volume too.
if ! mkdir -p "$CLAUDE_CONFIG_DIR" 2>/dev/null || [ ! -w "$CLAUDE_CONFIG_DIR" ]; then
  echo "claude-wrapper: $CLAUDE_CONFIG_DIR is not writable by $(id -un) (uid $(id -u));" \
    "logins and history will not be saved. Is the home volume owned by another uid?" >&2
fi

# `docker exec` starts in the image's WORKDIR, but `docker run -w /` or an
# exec from elsewhere should still land in the project when there is one.
if [ "$(pwd)" = / ] && [ -d /workspace ]; then
  cd /workspace
fi

if [ "${CCTL_DEBUG:-}" = 1 ]; then
  printf 'claude-wrapper: cwd=%s CLAUDE_CONFIG_DIR=%s ANTHROPIC_BASE_URL=%s\n' \
    "$(pwd)" "$CLAUDE_CONFIG_DIR" "$ANTHROPIC_BASE_URL" >&2
fi

exec claude "$@"

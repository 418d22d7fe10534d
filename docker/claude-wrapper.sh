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

# Team-key mode (cctl sets CCTL_SKIP_ONBOARDING=1): the gateway holds the
# credential, so there is no login to onboard. Claude Code's first interactive
# run checks api.anthropic.com directly, ignoring ANTHROPIC_BASE_URL, and exits
# with "Unable to connect to Anthropic services" when that host is out of
# reach, as it is from an isolated stack. Onboarding marked done skips it.
if [ "${CCTL_SKIP_ONBOARDING:-}" = 1 ]; then
  state=$CLAUDE_CONFIG_DIR/.claude.json
  if ! grep -qE '"hasCompletedOnboarding": ?true' "$state" 2>/dev/null; then
    node -e '
      const fs = require("fs"), file = process.argv[1];
      let data = {};
      try { data = JSON.parse(fs.readFileSync(file, "utf8")); } catch (e) {
        if (e.code !== "ENOENT") { console.error("claude-wrapper: " + file + " is not valid JSON; onboarding left as it is"); process.exit(1); }
      }
      data.hasCompletedOnboarding = true;
      fs.writeFileSync(file + ".cctl-tmp", JSON.stringify(data, null, 2) + "\n", { mode: 0o600 });
      fs.renameSync(file + ".cctl-tmp", file);
    ' "$state" || :
  fi
fi

if [ "${CCTL_DEBUG:-}" = 1 ]; then
  printf 'claude-wrapper: cwd=%s CLAUDE_CONFIG_DIR=%s ANTHROPIC_BASE_URL=%s\n' \
    "$(pwd)" "$CLAUDE_CONFIG_DIR" "$ANTHROPIC_BASE_URL" >&2
fi

exec claude "$@"

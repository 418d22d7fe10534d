#!/bin/sh
# Readiness of the claude-cli container for `docker exec`, checked without
# starting Claude Code (a 400 MB binary) or ccusage: only the filesystem.
#   - the home is a mount (the claude-home volume), so data will persist;
#   - the config dir in it is writable by the current user (claude);
#   - the claude and ccusage executables are in place.
# Exit 0 when ready, 1 with one line per problem otherwise.
set -u

home=${CCTL_HOME_DIR:-/home/claude}
config=${CLAUDE_CONFIG_DIR:-$home/.claude}
status=0

fail() {
  echo "unhealthy: $*" >&2
  status=1
}

# Field 5 of mountinfo is the mount point; spaces in it are escaped as \040,
# which /home/claude does not have.
if ! awk -v dir="$home" '$5 == dir { found = 1 } END { exit !found }' /proc/self/mountinfo; then
  fail "$home is not a mounted volume; data written there would be lost with the container"
fi

probe="$config/.cctl-healthcheck.$$"
# touch, not `: >file`: a failed redirection on a special builtin makes
# a POSIX shell exit on the spot, before the reason is printed.
if ! touch "$probe" 2>/dev/null; then
  fail "$config is not writable by uid $(id -u)"
else
  rm -f "$probe"
fi

for tool in claude ccusage; do
  # -x follows the symlink, so a dangling link to a removed install fails.
  if [ ! -x "/usr/local/bin/$tool" ]; then
    fail "$tool is missing from /usr/local/bin"
  fi
done

if [ "$status" -eq 0 ]; then
  echo ok
fi
exit "$status"

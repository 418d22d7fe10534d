#!/usr/bin/env bash
# What .ci/run counts as a passing phase. Sourced by .ci/run (and by
# test/unit/ci-guard.test.ts, which drives these functions on real ava runs),
# not executed.
#
#   ci_phases VALUE     the phases to run, one per line, from CCTL_CI_PHASES;
#                       fails (status 2, saying why) on an empty value or a
#                       word that is not a phase, so a typo never runs nothing
#   run_suite LABEL COMMAND...
#                       runs the tests, echoing their output, appends one
#                       count line to RESULTS and sets overall=1 when the
#                       command failed, a test failed, a test was skipped, or
#                       no test ran at all
#
# Expects CCTL_STATE_DIR (the test logs go there) and the arrays/variables
# RESULTS and overall of the caller.
# shellcheck disable=SC2034 # RESULTS and overall are the caller's

CI_KNOWN_PHASES="1 2"

ci_phases() {
  local value=$1 word words=() seen=()
  # Words are separated by blanks only: "1,2" is one word, and not a phase.
  read -ra words <<<"$value"
  if [ ${#words[@]} -eq 0 ]; then
    echo "ci: CCTL_CI_PHASES=\"$value\" names no phase; use \"1\", \"2\" or \"1 2\" (blank-separated), or leave it unset for both" >&2
    return 2
  fi
  for word in "${words[@]}"; do
    if [[ " $CI_KNOWN_PHASES " != *" $word "* ]]; then
      echo "ci: CCTL_CI_PHASES names an unknown phase \"$word\" (in \"$value\"); the phases are: $CI_KNOWN_PHASES, blank-separated (\"1 2\", not \"1,2\")" >&2
      return 2
    fi
    [[ " ${seen[*]} " == *" $word "* ]] || seen+=("$word")
  done
  printf '%s\n' "${seen[@]}"
}

run_suite() {
  local label=$1 log status
  shift
  log="$CCTL_STATE_DIR/tests-$(echo "$label" | tr -c 'a-z0-9.\n' '-').log"
  local phase_start=$SECONDS
  "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  count() { grep -Eo "[0-9]+ (tests?|known failures?) $1" "$log" | tail -1 | grep -Eo '^[0-9]+' || echo 0; }
  local passed failed skipped todo
  passed=$(count passed)
  failed=$(count failed)
  skipped=$(count skipped)
  todo=$(grep -Eo '[0-9]+ tests? todo' "$log" | tail -1 | grep -Eo '^[0-9]+' || echo 0)
  # ava prints "N tests passed" only when nothing failed; otherwise count its ✔ lines.
  if [ "$passed" = 0 ]; then passed=$(grep -c '✔' "$log" || true); fi
  # A non-zero exit with no failed test (a type error, an uncaught exception)
  # still counts as a failure.
  if [ "$status" -ne 0 ] && [ "$failed" = 0 ]; then failed=1; fi
  local line="tests ($label): ${passed} passed, ${failed} failed, ${skipped} skipped ($((SECONDS - phase_start)) s)"
  # A phase proves something only when tests ran and none stood aside: under
  # CI=true a missing tool or engine is a failure, so a skip here means a test
  # that cannot fail, and zero passed tests means the phase tested nothing.
  local why=()
  [ "$passed" -gt 0 ] || why+=("no test passed")
  [ "$skipped" = 0 ] || why+=("$skipped skipped")
  [ "$todo" = 0 ] || why+=("$todo todo")
  if [ ${#why[@]} -gt 0 ]; then
    local reasons
    reasons=$(printf '%s, ' "${why[@]}")
    line+=": FAILED, ${reasons%, } (a phase must run tests, and skip none)"
    overall=1
  fi
  RESULTS+=("$line")
  [ "$status" -eq 0 ] || overall=1
}

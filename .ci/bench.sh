#!/usr/bin/env bash
# The engine-free benchmarks' part of a CI run. Sourced by .ci/run (and by
# test/unit/ci-bench.test.ts, which drives it on real and stand-in commands),
# not executed.
#
#   run_bench_check COMMAND...
#                       runs COMMAND (npm run --silent bench:check in CI),
#                       echoing its output, and appends one line to RESULTS:
#                       bench/check.ts's summary, which names the bench, the
#                       goal, the figure and the limit of every miss (a CI log
#                       shows only its tail, and a missed goal must be read
#                       there); sets overall=1 when COMMAND failed
#
# Expects CCTL_STATE_DIR (the summary file goes there) and the arrays/variables
# RESULTS and overall of the caller.
# shellcheck disable=SC2034 # RESULTS and overall are the caller's

run_bench_check() {
  local summary="$CCTL_STATE_DIR/bench-check-summary.txt" start=$SECONDS status text
  rm -f "$summary"
  CCTL_BENCH_SUMMARY="$summary" "$@"
  status=$?
  text=$(head -c 2000 "$summary" 2>/dev/null | tr '\n' ' ' | sed 's/ *$//')
  if [ -z "$text" ]; then text="no summary written: the command itself failed (exit $status, see above)"; fi
  if [ "$status" -eq 0 ]; then
    RESULTS+=("benchmarks (npm run bench:check): $text ($((SECONDS - start)) s)")
  else
    RESULTS+=("benchmarks (npm run bench:check): FAILED, exit $status ($((SECONDS - start)) s): ${text#FAILED: }")
    overall=1
  fi
}

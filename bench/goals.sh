#!/bin/sh
# bench/goals.ts for shell benches (bench/image.sh): the same flags and lines.
# Sourced, not executed. Every goal here is "MEASURED <= LIMIT".
#
#   goal_args "$@"            reads --check and --goal ID=LIMIT (repeatable)
#   goal ID WHAT MEASURED LIMIT
#                             prints "goal ID: WHAT = M, goal <= L: met" or
#                             "...: MISSED by D"; --goal ID=X replaces L
#   goals_finish NAME         prints the summary; exits 1 under --check when a
#                             goal was missed or --goal named no goal

GOAL_CHECK=0
GOAL_OVERRIDES=""
GOALS_SEEN=""
GOALS_MISSED=""

goal_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --check) GOAL_CHECK=1 ;;
      --goal)
        [ $# -ge 2 ] || { echo "bench: --goal needs ID=LIMIT" >&2; exit 2; }
        case "$2" in
          [a-z]*=[0-9]*) GOAL_OVERRIDES="$GOAL_OVERRIDES $2" ;;
          *) echo "bench: --goal takes ID=LIMIT (e.g. size-ratio=1.0), not \"$2\"" >&2; exit 2 ;;
        esac
        shift ;;
      *) echo "bench: unknown argument \"$1\" (takes --check and --goal ID=LIMIT)" >&2; exit 2 ;;
    esac
    shift
  done
}

goal() {
  goal_id=$1 goal_what=$2 goal_measured=$3 goal_limit=$4 goal_stated=$4
  for goal_o in $GOAL_OVERRIDES; do
    [ "${goal_o%%=*}" = "$goal_id" ] && goal_limit=${goal_o#*=}
  done
  GOALS_SEEN="$GOALS_SEEN $goal_id"
  goal_note=""
  [ "$goal_limit" != "$goal_stated" ] && goal_note=" [--goal, stated <= $goal_stated]"
  if awk -v m="$goal_measured" -v l="$goal_limit" 'BEGIN { exit !(m + 0 == m && m <= l) }'; then
    echo "goal $goal_id: $goal_what = $goal_measured, goal <= $goal_limit$goal_note: met"
  else
    goal_by=$(awk -v m="$goal_measured" -v l="$goal_limit" 'BEGIN { printf "%g", m - l }')
    echo "goal $goal_id: $goal_what = $goal_measured, goal <= $goal_limit$goal_note: MISSED by $goal_by"
    GOALS_MISSED="$GOALS_MISSED $goal_id"
  fi
}

goals_finish() {
  for goal_o in $GOAL_OVERRIDES; do
    case " $GOALS_SEEN " in
      *" ${goal_o%%=*} "*) ;;
      *) echo "bench: --goal names no goal of this bench: ${goal_o%%=*} (its goals:$GOALS_SEEN)"; GOALS_MISSED="$GOALS_MISSED ${goal_o%%=*}" ;;
    esac
  done
  if [ -n "$GOALS_MISSED" ]; then
    echo "$1: goals missed:$GOALS_MISSED"
    [ "$GOAL_CHECK" = 1 ] && exit 1
  else
    echo "$1: all goals met"
  fi
  return 0
}

#!/usr/bin/env bash
# Leaping gives the timeline and report of stepping: a scenario run with simulation.leaps on (the
# default) and off, with a row per iteration (output.iterations: all), every table's rows and the
# report compared (but the engine's event counts),
# and leaps must have saved events where the scenario has steady decode stretches.
# Usage: leaps.sh WINDTUNNEL COMPARE_TIMELINES SCENARIO MIN_SAVED_PERCENT [--set k=v ...]
set -euo pipefail
wt=$1 compare=$2 scenario=$3 min_saved=$4
shift 4
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
run() { # name leaps [--set k=v ...]
  local name=$1 leaps=$2
  shift 2
  "$wt" run "$scenario" "$@" --set "simulation.leaps=$leaps" --set output.iterations=all \
    --quiet -o "$dir/$name.h5" \
    >"$dir/$name.out"
  "$wt" report "$dir/$name.h5" --json --no-wall | sed -e 's/"events":[0-9]*//' >"$dir/$name.json"
}
run step false "$@"
run leap true "$@"
"$compare" "$dir/step.h5" "$dir/leap.h5"
if ! cmp -s "$dir/step.json" "$dir/leap.json"; then
  echo "report differs between stepping and leaping:" >&2
  diff "$dir/step.json" "$dir/leap.json" >&2 || true
  exit 1
fi
events() { sed -n 's/^engine: \([0-9]*\) events.*/\1/p' "$dir/$1.out"; }
saved=$(( (100 * ($(events step) - $(events leap))) / $(events step) ))
echo "identical; events $(events step) stepping, $(events leap) leaping ($saved% saved)"
if ((saved < min_saved)); then
  echo "leaps saved $saved% of events, expected at least $min_saved%" >&2
  exit 1
fi

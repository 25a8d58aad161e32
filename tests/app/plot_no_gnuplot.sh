#!/usr/bin/env bash
# Without gnuplot, `windtunnel plot` fails with a message that says what is missing and where the
# data and script were left, and `windtunnel trace` refuses bad filters with a clear message.
# Usage: plot_no_gnuplot.sh WINDTUNNEL SCENARIO
set -euo pipefail
wt=$1 scenario=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$wt" run "$scenario" --set workload.max_requests=50 --quiet -o "$dir/run.h5" >/dev/null
expect_failure() { # MESSAGE COMMAND...
  local message=$1 status=0
  shift
  "$@" >"$dir/out" 2>"$dir/err" || status=$?
  if [ "$status" = 0 ] || ! grep -qF -- "$message" "$dir/err"; then
    echo "expected a failure saying '$message' from: $*; got status $status and:" >&2
    cat "$dir/err" >&2
    exit 1
  fi
  echo "refused: $(head -n 1 "$dir/err")"
}
expect_failure "cannot run /nonexistent/gnuplot" "$wt" plot "$dir/run.h5" -o "$dir/p" \
  --gnuplot /nonexistent/gnuplot
expect_failure "install gnuplot" env WT_GNUPLOT=/nonexistent/gnuplot "$wt" plot "$dir/run.h5" \
  -o "$dir/p"
[ -s "$dir/p/plots.gp" ] || { echo "plots.gp was not left for the user" >&2; exit 1; }
expect_failure "--format is png or svg" "$wt" plot "$dir/run.h5" --format jpg
expect_failure "--instances expects a list" "$wt" trace "$dir/run.h5" --instances 1-x
expect_failure "the timeline has instances 0 to 15" "$wt" trace "$dir/run.h5" --instances 99
expect_failure "--from:" "$wt" trace "$dir/run.h5" --from 10parsecs
expect_failure "--to is before --from" "$wt" trace "$dir/run.h5" --from 2s --to 1s
if [ -e "$dir/run.json" ]; then
  echo "a refused trace left a file" >&2
  exit 1
fi

#!/usr/bin/env bash
# Runs `windtunnel ARGS...` on RANKS ranks and fails unless it exits non-zero, without hanging, having
# printed a line matching PATTERN (an extended regular expression) on stderr exactly once, as rank 0
# alone explains, and no simulation result.
# Usage: rejects.sh WINDTUNNEL RANKS PATTERN ARGS...
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
windtunnel=$1 ranks=$2 pattern=$3
shift 3

run_windtunnel "$windtunnel" "$ranks" "$@"
matches=$(grep -cE -- "$pattern" <<<"$run_err" || true)
label="windtunnel $* on $ranks rank(s)"
if [ "$run_status" = 0 ] || [ "$run_status" = 124 ] || [ "$run_status" = 137 ]; then
  echo "FAIL: $label exited with status $run_status, expected a refusal"
elif [ "$matches" != 1 ]; then
  echo "FAIL: $label printed /$pattern/ $matches times on stderr, expected once"
elif [ -n "$(phold_summary "$run_out")" ]; then
  echo "FAIL: $label printed a result"
else
  echo "$label: refused (status $run_status): $(grep -E -- "$pattern" <<<"$run_err")"
  exit 0
fi
show_run "$label"
exit 1

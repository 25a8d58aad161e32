#!/usr/bin/env bash
# Runs `windtunnel phold OPTIONS...` at 1, 2 and 4 ranks x 1 and 2 threads and fails unless every run
# reports the same events and checksum: results must not depend on where LPs run. With
# WT_TEST_QUICK (sanitizer builds) only at 1 x 1, 4 x 1 and 2 x 2.
# Usage: phold_determinism.sh WINDTUNNEL OPTIONS...
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
windtunnel=$1
shift

configs=("1 1" "1 2" "2 1" "2 2" "4 1" "4 2")
[ -n "${WT_TEST_QUICK:-}" ] && configs=("1 1" "4 1" "2 2")
reference="" reference_label="" failures=0 runs=0
for config in "${configs[@]}"; do
  read -r ranks threads <<<"$config"
  runs=$((runs + 1))
  {
    label="$ranks rank(s) x $threads thread(s)"
    # Binding threads to cores makes no sense when ranks x threads exceed the cores.
    run_windtunnel "$windtunnel" "$ranks" phold "$@" --threads "$threads" --no-bind
    summary=$(phold_summary "$run_out")
    if [ "$run_status" != 0 ] || [ -z "$summary" ]; then
      echo "FAIL: $label: the run failed or printed no 'phold events=' line"
      show_run "$label"
      failures=$((failures + 1))
      continue
    fi
    echo "$label: $summary"
    if [ -z "$reference" ]; then
      reference=$summary reference_label=$label
    elif [ "$summary" != "$reference" ]; then
      echo "FAIL: $label differs from $reference_label:"
      diff -u --label "$reference_label" --label "$label" <(tr ' ' '\n' <<<"$reference") \
        <(tr ' ' '\n' <<<"$summary") || true
      failures=$((failures + 1))
    fi
  }
done
if [ "$failures" != 0 ]; then
  echo "phold_determinism: $failures of $runs runs failed or differ (options: $*)"
  exit 1
fi
echo "phold_determinism: all $runs runs agree (options: $*)"

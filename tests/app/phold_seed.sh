#!/usr/bin/env bash
# Runs `windtunnel phold OPTIONS...` on RANKS ranks with --seed 1 and --seed 2 and fails unless the
# checksums differ: the checksum really depends on the random streams, so equal ones mean something.
# Usage: phold_seed.sh WINDTUNNEL RANKS OPTIONS...
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
windtunnel=$1 ranks=$2
shift 2

checksums=()
for seed in 1 2; do
  run_windtunnel "$windtunnel" "$ranks" phold "$@" --seed "$seed"
  summary=$(phold_summary "$run_out")
  if [ "$run_status" != 0 ] || [ -z "$summary" ]; then
    echo "FAIL: seed $seed: the run failed or printed no 'phold events=' line"
    show_run "$ranks rank(s), seed $seed"
    exit 1
  fi
  echo "$ranks rank(s), seed $seed: $summary"
  checksums+=("${summary#*checksum=}")
done
if [ "${checksums[0]}" = "${checksums[1]}" ]; then
  echo "FAIL: seeds 1 and 2 give the same checksum ${checksums[0]} on $ranks rank(s)"
  exit 1
fi
echo "phold_seed: the seed changes the checksum"

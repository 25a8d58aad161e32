#!/usr/bin/env bash
# A global router that hears nothing back (router.pods with round_robin, an open workload, no
# regions or scaling) is replicated beside every partition: at 2 ranks with its pods split, nothing
# is cut and the run is one window (no flush of output asks for more in this short run); with
# least_requests, which reads the pods' completions, the pods' hop is cut and windows follow it.
# Usage: replicated_router.sh WINDTUNNEL SCENARIO [--set k=v ...]
set -euo pipefail
wt=$1 scenario=$2
shift 2
run() { # POLICY: the placement lines and the rank rows of --stats at 2 ranks
  mpirun --allow-run-as-root --oversubscribe -np 2 "$wt" run "$scenario" "$@" --stats --quiet \
    --set simulation.placement=topology -o "$dir/run.h5"
}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
out=$(run "$@" "--set=router.pods={nodes: 1, policy: round_robin}")
grep -q '^placement: nothing is cut: one window' <<<"$out" ||
  { echo "round_robin: the pods are cut from the global router:" >&2; echo "$out" >&2; exit 1; }
windows=$(awk '$1 ~ /^[0-9]+$/ && NF == 11 { w = $4 > w ? $4 : w } END { print w + 0 }' <<<"$out")
[ "$windows" -eq 1 ] || { echo "round_robin: $windows windows, expected 1" >&2; exit 1; }
out=$(run "$@" "--set=router.pods={nodes: 1, policy: least_requests}")
grep -q 'lookahead .*global router to pods' <<<"$out" ||
  { echo "least_requests: no cut at the pods' hop:" >&2; echo "$out" >&2; exit 1; }
echo "replicated with round_robin (1 window), cut with least_requests"

#!/usr/bin/env bash
# A global router that hears nothing back (router.pods with round_robin or weighted_round_robin,
# an open workload, no regions or scaling) is replicated beside every partition: at 2 ranks with
# its pods split, nothing is cut and the run is one window (no flush of output asks for more in
# this short run), and weighted_round_robin gives the pods of larger capacity more requests; with
# least_requests, which reads the pods' completions, the pods' hop is cut.
# Usage: replicated_router.sh WINDTUNNEL SCENARIO   (tests/serving/pods_weighted.yaml: a B200 and
# an H100 pool, a pod per node)
set -euo pipefail
wt=$1 scenario=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
run() { # --set options: --stats at 2 ranks, the pods split
  mpirun --allow-run-as-root --oversubscribe -np 2 "$wt" run "$scenario" "$@" --stats --quiet \
    --set simulation.placement=topology -o "$dir/run.h5"
}
for policy in round_robin weighted_round_robin; do
  out=$(run --set "router.pods.policy=$policy")
  grep -q '^placement: nothing is cut: one window' <<<"$out" ||
    { echo "$policy: the pods are cut from the global router:" >&2; echo "$out" >&2; exit 1; }
  windows=$(awk '$1 ~ /^[0-9]+$/ && NF == 11 { w = $4 > w ? $4 : w } END { print w + 0 }' <<<"$out")
  [ "$windows" -eq 1 ] || { echo "$policy: $windows windows, expected 1" >&2; exit 1; }
  pools=$("$wt" report "$dir/run.h5" | awk '/^per pool:/ { on = 1; next } /^per / { on = 0 }
                                            on && ($1 == "h100" || $1 == "b200") { print $1, $3 }')
  h100=$(awk '$1 == "h100" { print $2 }' <<<"$pools") b200=$(awk '$1 == "b200" { print $2 }' <<<"$pools")
  echo "$policy: requests to the h100 pods $h100, to the b200 pods $b200"
  if [ "$policy" = round_robin ]; then
    [ "$h100" -eq "$b200" ] || { echo "round_robin: the pods' shares differ" >&2; exit 1; }
  else
    [ "$b200" -gt $((h100 * 5 / 4)) ] || { echo "weighted: the b200 pods take too few" >&2; exit 1; }
  fi
done
out=$(run --set router.pods.policy=least_requests)
grep -q 'lookahead .*global router to pods' <<<"$out" ||
  { echo "least_requests: no cut at the pods' hop:" >&2; echo "$out" >&2; exit 1; }
echo "replicated with round robin and weighted round robin (1 window), cut with least_requests"

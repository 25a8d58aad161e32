#!/usr/bin/env bash
# An engine profile adds nothing of its own where its values are the default's: the default
# scenario, and the same with `engine: vllm-v0` (host work in series, vLLM's memory rule) whose host
# work, fraction, scheduler limits and output lag are set back to the default ones, give the same
# rows in every table and the same report; and a profile that differs (the host work overlapped)
# changes them, so the comparison can fail.
# Usage: engine_neutral.sh WINDTUNNEL COMPARE_TIMELINES SCENARIO [--set k=v ...]
set -euo pipefail
wt=$1 compare=$2 scenario=$3
shift 3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
run() { # name [--set k=v ...]
  local name=$1
  shift
  "$wt" run "$scenario" --set output.iterations=all --quiet -o "$dir/$name.h5" "$@" >/dev/null
  "$wt" report "$dir/$name.h5" --json --no-wall >"$dir/$name.json"
}
# The H100's fitted host work (hw/data/efficiency.csv) and vLLM v1's limits on an H100.
neutral=("--set=deployments.0.engine={name: vllm-v0, output_lag: false}"
  "--set=deployments.0.efficiency={cpu: {fixed: 1306600ns, per_seq: 43168.7ns}}"
  "--set=deployments.0.scheduler={max_num_batched_tokens: 8192, max_num_seqs: 1024, block_size: 16, prefix_caching: true}")
run default "$@"
run neutral "$@" "${neutral[@]}"
"$compare" "$dir/default.h5" "$dir/neutral.h5"
cmp -s "$dir/default.json" "$dir/neutral.json" || {
  echo "report differs with a neutral engine profile:" >&2
  diff "$dir/default.json" "$dir/neutral.json" >&2 || true
  exit 1
}
run overlapped "$@" "${neutral[@]}" "--set=deployments.0.engine={name: vllm-v1, async_scheduling: true}"
if "$compare" "$dir/default.h5" "$dir/overlapped.h5" >/dev/null 2>&1; then
  echo "an overlapped engine gave the default's timeline: the comparison cannot fail" >&2
  exit 1
fi
echo "neutral engine profile: identical to the default; overlapped: differs"

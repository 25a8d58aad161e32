#!/usr/bin/env bash
# examples/analyse.py, which loads the timeline into pandas, reproduces every figure of
# `windtunnel report --json --no-wall` exactly (bit for bit), on colocated, disaggregated, KV-tier
# and power-budget runs, at 1 and 2 ranks (whose row order differs), and one that ends
# mid-interval.
# Usage: analyse.sh WINDTUNNEL PYTHON EXAMPLES_DIR
set -euo pipefail
wt=$1 python=$2 examples=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mpi=(timeout --kill-after=5 120 mpirun --allow-run-as-root --oversubscribe)
cap=(--set workload.max_requests=200 --quiet)
runs=(
  "default|1|$examples/default.yaml --set power.rack_budget=3kW --set power.site_budget=8kW"
  "default_end|1|$examples/default.yaml --set simulation.end=20s --set power.interval=7s"
  "disaggregated|2|$examples/disaggregated.yaml --set simulation.placement=block"
  "disaggregated_1|1|$examples/disaggregated.yaml"
  "kv_tier|1|$examples/default.yaml --set workload.rate_scale=20 --set deployments.0.scheduler.kv_blocks=600 --set cluster.nodes.0.kv_tier.kind=cxl --set cluster.nodes.0.kv_tier.capacity=400MiB"
  "colocated|2|$examples/colocated.yaml --set simulation.placement=block"
)
for run in "${runs[@]}"; do
  IFS='|' read -r name ranks args <<<"$run"
  # shellcheck disable=SC2086 # the scenario and its --set words
  "${mpi[@]}" -np "$ranks" "$wt" run $args "${cap[@]}" -o "$dir/$name.h5" >/dev/null
  "$wt" report "$dir/$name.h5" --json --no-wall >"$dir/$name.report.json"
  "$python" "$examples/analyse.py" --json "$dir/$name.h5" >"$dir/$name.analyse.json"
  "$python" - "$dir/$name.report.json" "$dir/$name.analyse.json" "$name" <<'PY'
import json, sys
report, analysed = (json.load(open(p)) for p in sys.argv[1:3])
for section in ("pools", "models", "racks"):  # the breakdown, not the headline figures
    report.pop(section, None)
def compare(r, a, where):
    if isinstance(r, dict):
        assert isinstance(a, dict) and set(r) == set(a), f"{where}: keys {sorted(r)} != {sorted(a)}"
        for k in r:
            compare(r[k], a[k], f"{where}.{k}")
    else:
        assert r == a, f"{where}: report {r!r} != analyse.py {a!r}"
compare(report, analysed, sys.argv[3])
print(f"{sys.argv[3]}: {sum(1 for _ in json.dumps(report).split(','))} figures identical")
PY
done
# The human-readable views run too.
"$python" "$examples/analyse.py" "$dir/disaggregated.h5" | grep -q 'KV transfers' ||
  { echo "FAIL: analyse.py's views lack the KV transfers" >&2; exit 1; }
echo "PASS: analyse.py reproduces the report exactly"

#!/usr/bin/env bash
# Instance lifecycle and autoscaling (deployments.N.scaling), on tests/serving/autoscale.yaml (a
# load rising and falling over ten minutes, a warm pool, cold starts), read back through
# `windtunnel report --csv` and checked row by row:
#   first_request_after_start   an instance started by the controller serves its first request only
#                               after provisioning plus weight loading (and the start decision)
#   draining_accepts_nothing    a draining instance receives no request; the ones it held finish
#                               before it stops
#   gpu_hours_add_up            each instance's state times (/instances) equal its /lifecycle rows
#                               replayed, and used + idle + wasted GPU-hours (report --json) equal
#                               the sum of lifetimes x accelerators
#   forecast_uses_no_future     a forecast-driven run whose load differs only from 5 min on makes
#                               the same lifecycle changes before 5 min, and other ones after
#   scales_on_its_model         (autoscale_two_models.yaml) a forecast scales each model's deployment
#                               on the requests aimed at its model: more requests of the other
#                               model change no lifecycle row of the first model's instances
#   held_model_holds_back_none  (autoscale_two_models.yaml) the first model's deployment starts with
#                               none serving: its requests wait at the router, the other model's
#                               go at once (within the routing hops, not 100 ms later)
#   batch_counts_when_it_goes   (autoscale_two_models.yaml, the second stream batch) with router.batch
#                               a batch request counts for the forecast when it leaves the queue:
#                               with a lead past every deadline each goes at once, and the run
#                               equals the one without router.batch
#   spot_loses_no_request       spot instances interrupted with a 1 s notice stop mid-request; their
#                               requests are served elsewhere: every request completes, and no
#                               instance finishes one while it is off
# Usage: lifecycle.sh WINDTUNNEL SCENARIO RANKS CASE [--set k=v ...] (every run takes the sets:
# router.pods or a regions scenario put the instances behind pod routers)
set -euo pipefail
wt=$1 scenario=$2 ranks=$3 case=$4
shift 4
extra=("$@")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mpi=(timeout --kill-after=5 120)
((ranks > 1)) && mpi+=(mpirun --allow-run-as-root --oversubscribe -np "$ranks")
run() { # name [--set ...]
  local name=$1
  shift
  "${mpi[@]}" "$wt" run "$scenario" --set simulation.placement=block ${extra[@]+"${extra[@]}"} "$@" --quiet \
    -o "$dir/$name.h5" >/dev/null
  for table in lifecycle requests instances; do
    "$wt" report "$dir/$name.h5" --csv "$table" -o "$dir/$name.$table.csv"
  done
  "$wt" report "$dir/$name.h5" --json --no-wall >"$dir/$name.json"
}
forecast='--set=deployments.0.scaling.controller={kind: forecast, interval: 2min, bin: 30s, season: 4min, capacity: 3/s}'
case $case in
forecast_uses_no_future)
  run base "$forecast"
  run changed "$forecast" "--set=workload.synthetic.rate_curve.3={at: 6min, rate: 30/s}"
  ;;
scales_on_its_model)
  run base
  run changed "--set=workload.streams.1.synthetic.rate_curve.0={at: 0s, rate: 8/s}"
  ;;
held_model_holds_back_none)
  run base --set deployments.0.scaling.initial=0 --set deployments.0.scaling.min=0
  ;;
batch_counts_when_it_goes)
  batch=(--set workload.streams.1.tier=batch --set workload.streams.1.deadline=1h
    "--set=workload.streams.1.synthetic.rate_curve.0={at: 0s, rate: 8/s}")
  run base "${batch[@]}"
  run changed "${batch[@]}" "--set=router.batch={spare: 1, lead: 2h}"
  ;;
spot_loses_no_request)
  run base --set deployments.0.scaling.spot=3 --set deployments.0.scaling.spot_interruptions=20/h \
    --set deployments.0.scaling.spot_notice=1s
  ;;
*) run base ;;
esac
python3 - "$dir" "$case" <<'PY'
import csv, json, sys
d, case = sys.argv[1], sys.argv[2]
def table(name, t):
    return list(csv.DictReader(open(f"{d}/{name}.{t}.csv")))
def ints(rows):
    return [{k: int(v) if v.lstrip("-").isdigit() else v for k, v in r.items()} for r in rows]
OFF, PROVISIONING, LOADING, WARM, SERVING, DRAINING = range(6)
SCALE_UP, SCALE_DOWN, LOADED, DRAINED, INTERRUPTED = 1, 2, 5, 6, 7
life = sorted(ints(table("base", "lifecycle")), key=lambda r: (r["instance"], r["seq"]))
reqs = ints(table("base", "requests"))
insts = ints(table("base", "instances"))
by = {}
for r in life:
    by.setdefault(r["instance"], []).append(r)
provision_ns = 20 * 10**9
fails = []
if case == "first_request_after_start":
    cold = warm = 0
    for i, rows in by.items():
        for k, r in enumerate(rows):
            if r["to"] != SERVING or r["reason"] == 0:  # not the ones serving from t=0
                continue
            if r["from"] == LOADING:  # a cold start: off, provisioning, loading, serving
                prov, loading = rows[k - 2], rows[k - 1]
                start = prov["time_ns"]
                if prov["from"] != OFF or loading["time_ns"] - start != provision_ns:
                    fails.append(f"instance {i}: provisioning took {loading['time_ns'] - start} ns")
                if r["time_ns"] <= loading["time_ns"] or r["reason"] != LOADED:
                    fails.append(f"instance {i}: no loading time before serving: {rows[k - 2:k + 1]}")
                cold += 1
            else:  # from the warm pool: at once
                start = r["time_ns"]
                warm += r["from"] == WARM
            first = min((q["dispatch_ns"] for q in reqs
                         if q["instance"] == i and q["dispatch_ns"] >= start), default=None)
            if first is None or first < r["time_ns"]:
                fails.append(f"instance {i}: first request at {first}, serving from {r['time_ns']}")
    if cold < 1 or warm < 1:
        fails.append(f"{cold} cold starts and {warm} warm ones to check: want both")
    print(f"{cold} cold starts, {warm} from the warm pool: none served before it could")
elif case == "draining_accepts_nothing":
    checked = 0
    for i, rows in by.items():
        for k, r in enumerate(rows):
            if r["to"] != DRAINING:
                continue
            end = rows[k + 1]
            assert end["reason"] == DRAINED and end["to"] in (OFF, WARM), rows[k:k + 2]
            later = [q for q in reqs if q["instance"] == i and r["time_ns"] <= q["dispatch_ns"]
                     and (k + 2 >= len(rows) or q["dispatch_ns"] < rows[k + 2]["time_ns"])]
            if later:
                fails.append(f"instance {i} received request {later[0]['id']} while draining")
            held = [q for q in reqs if q["instance"] == i and q["dispatch_ns"] < r["time_ns"]
                    and q["done_ns"] > r["time_ns"]]
            for q in held:
                if q["fate"] != 0 or q["done_ns"] > end["time_ns"]:
                    fails.append(f"instance {i}: request {q['id']} unfinished at its stop")
            checked += len(held)
    if checked < 1:
        fails.append("no drain with requests running to check")
elif case == "gpu_hours_add_up":
    rep = json.load(open(f"{d}/base.json"))
    names = ["off_ns", "provisioning_ns", "loading_ns", "warm_ns", "serving_ns", "draining_ns"]
    total_ns = {sum(q[n] for n in names) for q in insts}
    if len(total_ns) != 1:
        fails.append(f"instances' state times add up to different totals: {total_ns}")
    end_ns = total_ns.pop()
    lifetimes = 0
    for q in insts:
        i, spent = q["instance"], [0] * 6
        state, since = OFF, 0
        for r in by.get(i, []):
            assert r["from"] == state, (i, r)
            spent[state] += r["time_ns"] - since
            state, since = r["to"], r["time_ns"]
        spent[state] += end_ns - since
        if spent != [q[n] for n in names]:
            fails.append(f"instance {i}: rows give {spent}, /instances {[q[n] for n in names]}")
        if not q["serving_busy_ns"] <= q["serving_ns"]:
            fails.append(f"instance {i}: busy {q['serving_busy_ns']} past serving {q['serving_ns']}")
        lifetimes += (end_ns - spent[OFF]) * q["accelerators"]
    pool = rep["pools"][0]
    hours = pool["gpu_hours_used"] + pool["gpu_hours_idle"] + pool["gpu_hours_wasted"]
    if abs(hours - lifetimes / 3.6e12) > 1e-9 * hours:
        fails.append(f"GPU-hours {hours} != lifetimes {lifetimes / 3.6e12}")
    if not (pool["gpu_hours_wasted"] > 0 and pool["gpu_hours_idle"] > 0 and lifetimes < end_ns * len(insts)):
        fails.append(f"the scenario should scale: {pool}")
    print(f"GPU-hours {hours:.6f} = lifetimes {lifetimes / 3.6e12:.6f}")
elif case == "forecast_uses_no_future":
    cut = 5 * 60 * 10**9
    other = sorted(ints(table("changed", "lifecycle")), key=lambda r: (r["instance"], r["seq"]))
    before = lambda rows: [r for r in rows if r["time_ns"] < cut]
    if before(life) != before(other):
        fails.append("lifecycle changes before the load differs are not the same")
    if life == other:
        fails.append("the changed load changed no decision: the test proves nothing")
    print(f"{len(before(life))} changes before 5 min identical; {len(life)} vs {len(other)} in all")
elif case == "scales_on_its_model":
    other = sorted(ints(table("changed", "lifecycle")), key=lambda r: (r["instance"], r["seq"]))
    first = lambda rows: [r for r in rows if r["instance"] < 5]  # llama's; qwen's are 5-9
    if first(life) != first(other):
        fails.append("the first model's instances scaled differently when the other model's load changed")
    if life == other:
        fails.append("the other model's load changed no decision: the test proves nothing")
    print(f"{len(first(life))} changes of the first model's instances identical; "
          f"{len(life) - len(first(life))} vs {len(other) - len(first(other))} of the other's")
elif case == "held_model_holds_back_none":
    # held: longer than the hops (dispatch and pod latency, 1 ms each) by far; they wait minutes
    waited = lambda q: q["dispatch_ns"] - q["arrival_ns"] > 10**8
    first = [q for q in reqs if 0 <= q["instance"] < 5]
    other = [q for q in reqs if q["instance"] >= 5]
    if not any(waited(q) for q in first):
        fails.append("no request of the first model waited: the test proves nothing")
    late = [q["id"] for q in other if waited(q)]
    if late:
        fails.append(f"{len(late)} requests of the other model waited behind held ones, first {late[0]}")
    print(f"{sum(map(waited, first))} of {len(first)} requests of the first model waited; "
          f"{len(other)} of the other went at once")
elif case == "batch_counts_when_it_goes":
    other = sorted(ints(table("changed", "lifecycle")), key=lambda r: (r["instance"], r["seq"]))
    if life != other:
        fails.append("batch requests going at once counted otherwise than as they arrive")
    if not [r for r in life if r["instance"] >= 5 and r["reason"] != 0]:
        fails.append("the batch model's deployment never scaled: the test proves nothing")
    print(f"{len(life)} lifecycle changes identical with and without router.batch")
elif case == "spot_loses_no_request":
    unfinished = [q["id"] for q in reqs if q["fate"] != 0]
    if unfinished:
        fails.append(f"{len(unfinished)} requests unfinished, first {unfinished[0]}")
    kills = [r for r in life if r["reason"] == INTERRUPTED and r["to"] == OFF and r["from"] == DRAINING]
    for r in kills:
        rows = by[r["instance"]]
        back = next((x["time_ns"] for x in rows if x["seq"] > r["seq"] and x["to"] == SERVING), 1 << 62)
        done = [q for q in reqs if q["instance"] == r["instance"] and r["time_ns"] < q["done_ns"] < back]
        if done:
            fails.append(f"instance {r['instance']} finished request {done[0]['id']} while off")
    # One instance always serves (min 1), so nothing waits at the router: a request dispatched
    # later than the dispatch latency after its arrival went to an instance that stopped first.
    retried = [q for q in reqs if q["dispatch_ns"] - q["arrival_ns"] > 10**6]
    print(f"{len(kills)} instances stopped mid-drain, {len(retried)} requests served again "
          f"elsewhere; every one of {len(reqs)} requests completed")
    if not retried:
        fails.append("no request was cut by an interruption: the test proves nothing")
    if len(kills) < 2:
        fails.append(f"only {len(kills)} interruptions stopped a draining instance")
if fails:
    print("\n".join(fails), file=sys.stderr)
    sys.exit(1)
print(f"PASS: {case}")
PY

#!/usr/bin/env bash
# `windtunnel report` on real timelines: one CASE per ctest test, each named for what it proves.
# Usage: report.sh WINDTUNNEL PYTHON EXAMPLES_DIR CASE
#   PYTHON: an interpreter with h5py (Debian's python3-h5py), used to damage copies of a timeline.
set -euo pipefail
wt=$1 python=$2 examples=$3 case=$4
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mpi=(timeout --kill-after=5 120 mpirun --allow-run-as-root --oversubscribe)
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
small=(--set workload.max_requests=150 --quiet)

# json FILE EXPR: evaluates a Python expression over the JSON object d read from FILE.
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

case $case in
rack_mean_power_stays_within_peak_when_the_run_ends_mid_interval)
  # The run ends inside its first power interval: each rack's mean is its energy over the
  # simulated time, never the short interval's average as if it lasted a whole interval.
  "$wt" run --set simulation.end=2s --set power.interval=10s -o "$dir/a.h5" --quiet >/dev/null
  "$wt" report "$dir/a.h5" --json >"$dir/a.json"
  # Rounding may put a mean one ulp above an equal peak: 1e-12 relative is allowed, no more.
  ok=$(json "$dir/a.json" "all(r['power_avg_w'] <= r['power_peak_w'] * (1 + 1e-12) and
        abs(r['power_avg_w'] * d['sim']['simulated_s'] - r['energy_j']) <= 1e-9 * r['energy_j']
        for r in d['racks']) and d['power']['rack_avg_w_max'] <= d['power']['rack_peak_w'] *
        (1 + 1e-12) and len(d['racks']) == d['power']['racks'] > 0")
  [ "$ok" = True ] || fail "a rack's mean power exceeds its peak or its energy: $(cat "$dir/a.json")"
  ;;
sums_a_site_energy_past_int64_nanojoules)
  # 200 nodes for 72 h draw about 1.45e20 nJ, past INT64_MAX (9.2e18 nJ, 2,562 kWh): the report's
  # site energy is still the sum of the nodes' (it once wrapped to a negative figure).
  cat >"$dir/long.yaml" <<'YAML'
cluster:
  nodes:
    - {accelerator: H200-SXM-141GB, count: 200}
deployments:
  - {model: Qwen3-8B, accelerator: H200-SXM-141GB, count: 1}
workload:
  synthetic:
    arrival: poisson
    rate_curve: [{at: 0s, rate: 0.001/s}, {at: 72h, rate: 0.001/s}]
    input: {kind: lognormal, median: 100, sigma: 0.5, min: 1, max: 1000}
    output: {kind: lognormal, median: 10, sigma: 0.5, min: 1, max: 100}
  to: 72h
simulation:
  end: 72h
power:
  interval: 1h
YAML
  "$wt" run "$dir/long.yaml" -o "$dir/a.h5" --quiet >/dev/null
  "$wt" report "$dir/a.h5" --json >"$dir/a.json"
  "$wt" report "$dir/a.h5" --csv nodes >"$dir/nodes.csv"
  nodes_j=$(python3 -c "import csv,sys; print(sum(float(r['energy_j']) for r in csv.DictReader(open(sys.argv[1]))))" "$dir/nodes.csv")
  ok=$(json "$dir/a.json" "d['energy']['it_j'] > 9.3e9 and abs(d['energy']['it_j'] - $nodes_j) <= 1e-9 * $nodes_j
        and d['energy']['accelerators_j'] > 0 and d['power']['avg_w'] > 0")
  [ "$ok" = True ] || fail "site energy is not the nodes' $nodes_j J: $(cat "$dir/a.json")"
  ;;
refuses_timelines_it_cannot_read_right)
  "$wt" run "${small[@]}" -o "$dir/a.h5" >/dev/null
  # damage NAME PYTHON-STATEMENTS-ON-f EXPECTED-MESSAGE
  damage() {
    cp "$dir/a.h5" "$dir/$1.h5"
    "$python" -c "import h5py, numpy as np
f = h5py.File('$dir/$1.h5', 'r+')
$2
f.close()"
    status=0
    "$wt" report "$dir/$1.h5" >"$dir/$1.out" 2>"$dir/$1.err" || status=$?
    [ "$status" = 1 ] || fail "$1: report exited $status, expected 1: $(cat "$dir/$1.err")"
    grep -qE -- "$3" "$dir/$1.err" || fail "$1: expected /$3/, got: $(cat "$dir/$1.err")"
    [ ! -s "$dir/$1.out" ] || fail "$1: printed a summary: $(head -3 "$dir/$1.out")"
    echo "$1: $(cat "$dir/$1.err")"
  }
  damage other_schema "f.attrs['schema'] = 'someone.else'" 'not a Windtunnel serving timeline'
  damage newer "f.attrs['schema_version'] = np.int64(f.attrs['schema_version'] + 1)" \
    'is newer than this windtunnel reads'
  damage older "f.attrs['schema_version'] = np.int64(1)" 'is older than this windtunnel reads'
  damage zero_interval "f.attrs['power_interval_ns'] = np.int64(0)" \
    'power_interval_ns is 0: expected at least 1 ns'
  damage dangling_instance "r = f['requests'][:]; r['instance'][0] = 999; f['requests'][:] = r" \
    'names its instance 999, which /instances lacks'
  damage dangling_decode "r = f['requests'][:]; r['decode_instance'][3] = 77; f['requests'][:] = r" \
    'names decode instance 77, which /instances lacks'
  # The undamaged file still reports.
  "$wt" report "$dir/a.h5" >/dev/null || fail "the undamaged timeline no longer reports"
  ;;
compares_two_runs_with_the_deltas_of_their_reports)
  "$wt" run "$examples/colocated.yaml" "${small[@]}" -o "$dir/a.h5" >/dev/null
  "$wt" run "$examples/disaggregated.yaml" "${small[@]}" -o "$dir/b.h5" >/dev/null
  "$wt" report "$dir/a.h5" --json >"$dir/a.json"
  "$wt" report "$dir/b.h5" --json >"$dir/b.json"
  "$wt" report "$dir/a.h5" "$dir/b.h5" --json >"$dir/ab.json"
  "$wt" report "$dir/a.h5" "$dir/b.h5" >"$dir/ab.txt"
  ok=$(python3 -c "import json
a, b, ab = (json.load(open('$dir/' + n + '.json')) for n in ('a', 'b', 'ab'))
d = ab['delta']
print(d['ttft_ms_p99'] == b['ttft_ms']['p99'] - a['ttft_ms']['p99'] and
      d['output_tok_s'] == b['throughput']['output_tok_s'] - a['throughput']['output_tok_s'] and
      d['kv_transfers'] == b['kv']['transfers'] - a['kv']['transfers'] != 0 and
      ab['a']['summary']['ttft_ms'] == a['ttft_ms'] and ab['b']['path'] == '$dir/b.h5' and
      len(d) >= 20)")
  [ "$ok" = True ] || fail "report A B --json deltas are not B - A: $(cat "$dir/ab.json")"
  grep -qE '^  ttft_ms_p99 \(ms\) +[0-9.e+-]+ +[0-9.e+-]+ +[+-][0-9.e+-]+ +[+-][0-9.]+%$' \
    "$dir/ab.txt" || fail "the text comparison lacks a ttft_ms_p99 row: $(cat "$dir/ab.txt")"
  cat "$dir/ab.txt"
  ;;
breaks_the_report_down_per_pool_model_and_rack)
  "$wt" run "$examples/disaggregated.yaml" "${small[@]}" -o "$dir/b.h5" >/dev/null
  "$wt" report "$dir/b.h5" --json >"$dir/b.json"
  "$wt" report "$dir/b.h5" >"$dir/b.txt"
  "$python" - "$dir/b.h5" "$dir/b.json" <<'PY' || fail "the breakdown disagrees with the rows"
import json, sys
import h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
d = json.load(open(sys.argv[2]))
inst, req = f["instances"][:], f["requests"][:]
pools = {p["name"]: p for p in d["pools"]}
assert sum(p["instances"] for p in d["pools"]) == len(inst) == d["instances"]["count"]
assert {p["role"] for p in d["pools"]} == {"prefill", "decode"}, pools
for name, p in pools.items():
    ids = inst["instance"][inst["deployment"] == name.encode()]
    ran = np.isin(req["instance"], ids) | np.isin(req["decode_instance"], ids)
    assert p["requests"] == ran.sum(), (name, p["requests"], ran.sum())
    assert p["completed"] == (ran & (req["fate"] == 0)).sum()
    energy = inst["energy_j"][inst["deployment"] == name.encode()].sum()
    assert abs(p["energy_j"] - energy) <= 1e-9 * energy
models = d["models"]
assert len(models) == 1 and models[0]["instances"] == len(inst)
assert models[0]["completed"] == d["requests"]["completed"]
assert models[0]["ttft_ms"]["p99"] == d["ttft_ms"]["p99"]
racks = d["racks"]
assert len(racks) == d["power"]["racks"]
assert sum(r["instances"] for r in racks) == len(inst)
assert abs(sum(r["energy_j"] for r in racks) - d["energy"]["it_j"]) <= 1e-9 * d["energy"]["it_j"]
print("pools", sorted(pools), "racks", len(racks))
PY
  for section in "per pool:" "per model:" "per rack (IT power):"; do
    grep -qF "$section" "$dir/b.txt" || fail "the text report lacks '$section'"
  done
  ;;
csv_has_every_field_and_the_same_rows_at_any_rank_count)
  for ranks in 1 2 4; do
    "${mpi[@]}" -np $ranks "$wt" run "$examples/disaggregated.yaml" "${small[@]}" \
      --set simulation.placement=block -o "$dir/r$ranks.h5" >/dev/null
    for table in requests instances transfers power; do
      "$wt" report "$dir/r$ranks.h5" --csv $table -o "$dir/r$ranks.$table.csv"
    done
  done
  for table in requests instances transfers power; do
    for ranks in 2 4; do
      cmp -s "$dir/r1.$table.csv" "$dir/r$ranks.$table.csv" ||
        fail "/$table as CSV differs between 1 and $ranks ranks"
    done
  done
  "$python" - "$dir/r2.h5" "$dir" <<'PY' || fail "a CSV is not its table"
import csv, sys
import h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
for table in ("requests", "instances", "transfers", "power"):
    rows = list(csv.reader(open(f"{sys.argv[2]}/r1.{table}.csv")))
    data = f[table][:]
    assert rows[0] == list(data.dtype.names), (table, rows[0], data.dtype.names)
    assert len(rows) - 1 == len(data) > 0, (table, len(rows), len(data))
    key = data.dtype.names[0]
    column = np.array([int(r[0]) for r in rows[1:]])
    assert (np.diff(column) >= 0).all(), f"{table} not sorted by {key}"
    assert sorted(column.tolist()) == sorted(data[key].tolist())
print("csv ok")
PY
  # An unknown table is refused with the list of tables, and no file is left.
  status=0
  "$wt" report "$dir/r1.h5" --csv bogus -o "$dir/bogus.csv" 2>"$dir/err" || status=$?
  if [ "$status" != 1 ] || [ -e "$dir/bogus.csv" ] ||
    ! grep -q "no table 'bogus'; the tables are requests iterations" "$dir/err"; then
    fail "--csv bogus: status $status, $(cat "$dir/err")"
  fi
  ;;
*) fail "unknown case $case" ;;
esac
echo "PASS: $case"

#!/usr/bin/env bash
# `windtunnel sweep` end to end, on the real binary under mpirun. Usage: sweep.sh WINDTUNNEL CHECK
# where CHECK is one of:
#   ranks    a small grid gives the same results file (rows by configuration, wall time aside) at
#            1 rank, 2 ranks, and 4 ranks in 2 groups of 2
#   failure  a configuration with an invalid value is recorded as failed with its error, the
#            others complete, and the sweep exits 1 (at 2 ranks); an unwritable results file is
#            refused before anything runs
#   restart  a rerun with the same results file runs nothing and leaves the rows as they were; a
#            study with one more value runs only the new configuration
#   max_rate the rate found passes the SLO target, the lowest failing rate found fails it and is
#            within the tolerance of it, and so does the found rate plus the tolerance
#   min_count the count found meets the limit, one fewer does not (checked by plain runs), and
#            the bisection ran the runs it says
#   pareto   the pareto column marks exactly the rows that no other ok row dominates (recomputed
#            here), and the sweep prints them
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
windtunnel=$1 check=$2
examples=$(cd "$(dirname "$0")/../../examples" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

fail() {
  echo "FAIL: $*"
  show_run "last run"
  exit 1
}

# sweep RANKS ARGS...: runs the sweep; fails the test unless it exits with $expect (default 0).
sweep() {
  local ranks=$1
  shift
  run_windtunnel "$windtunnel" "$ranks" sweep "$@"
  [ "$run_status" = "${expect:-0}" ] ||
    fail "windtunnel sweep $* at $ranks rank(s) exited $run_status, expected ${expect:-0}"
}

# csv STUDY RESULTS [--no-wall]: the results file as CSV.
csv() { "$windtunnel" sweep "$1" -o "$2" --csv "${@:3}"; }

# column CSVFILE NAME: the values of one column, a line each.
column() {
  python3 -c 'import csv, sys
for r in csv.DictReader(open(sys.argv[1])): print(r[sys.argv[2]])' "$1" "$2"
}

cat >"$dir/grid.yaml" <<EOF
base: $examples/default.yaml
set: {workload.max_requests: 200, workload.rate_scale: 16}
axes:
  - grid: {router.policy: [round_robin, least_kv], deployments.0.count: [1, 2]}
  - zip: {deployments.0.scheduler.max_num_seqs: [64, 256], output.iterations: [none, aggregated]}
EOF

case $check in
ranks)
  sweep 1 "$dir/grid.yaml" -o "$dir/r1.h5"
  sweep 2 "$dir/grid.yaml" -o "$dir/r2.h5"
  sweep 4 "$dir/grid.yaml" -o "$dir/r4.h5" --group-ranks 2
  csv "$dir/grid.yaml" "$dir/r1.h5" --no-wall >"$dir/r1.csv"
  csv "$dir/grid.yaml" "$dir/r2.h5" --no-wall >"$dir/r2.csv"
  csv "$dir/grid.yaml" "$dir/r4.h5" --no-wall >"$dir/r4.csv"
  rows=$(($(wc -l <"$dir/r1.csv") - 1))
  [ "$rows" = 8 ] || fail "expected 8 configurations (2 x 2 x 2), got $rows rows"
  [ "$(column "$dir/r1.csv" status | sort -u)" = ok ] || fail "a configuration failed"
  # Configurations differ: the rows are not all the same run.
  [ "$(column "$dir/r1.csv" ttft_ms_p99 | sort -u | wc -l)" -gt 1 ] ||
    fail "every configuration gave the same TTFT p99"
  cmp "$dir/r1.csv" "$dir/r2.csv" || fail "results at 2 ranks differ from 1 rank"
  cmp "$dir/r1.csv" "$dir/r4.csv" || fail "results at 4 ranks (2 groups of 2) differ from 1 rank"
  echo "same 8 rows at 1 rank, 2 ranks and 2 groups of 2 ranks"
  ;;
failure)
  cat >"$dir/bad.yaml" <<EOF
base: $examples/default.yaml
set: {workload.max_requests: 100}
axes:
  - list: [{router.policy: round_robin}, {router.policy: no_such_policy}, {router.policy: least_kv}]
EOF
  expect=1 sweep 2 "$dir/bad.yaml" -o "$dir/bad.h5"
  grep -q "1 configuration(s) failed" <<<"$run_err" || fail "no count of failed configurations"
  csv "$dir/bad.yaml" "$dir/bad.h5" >"$dir/bad.csv"
  [ "$(column "$dir/bad.csv" status | tr '\n' ' ')" = "ok failed ok " ] ||
    fail "statuses $(column "$dir/bad.csv" status | tr '\n' ' '), expected ok failed ok"
  column "$dir/bad.csv" error | sed -n 2p | grep -q "unknown value 'no_such_policy'" ||
    fail "the failed row's error does not name the bad value"
  [ "$(column "$dir/bad.csv" completed | tr '\n' ' ')" = "100 0 100 " ] ||
    fail "completed requests $(column "$dir/bad.csv" completed | tr '\n' ' ')"
  # An unwritable results file is refused before any configuration runs.
  expect=1 sweep 2 "$dir/bad.yaml" -o "$dir/no/such/dir/r.h5"
  grep -q "cannot create" <<<"$run_err" || fail "no message for an unwritable results file"
  grep -q "^sweep: [0-9]*/" <<<"$run_err" && fail "configurations ran for an unwritable file"
  echo "the invalid configuration is recorded as failed; the others completed"
  ;;
restart)
  sweep 1 "$dir/grid.yaml" -o "$dir/r.h5"
  csv "$dir/grid.yaml" "$dir/r.h5" >"$dir/before.csv"
  sweep 2 "$dir/grid.yaml" -o "$dir/r.h5"
  grep -q "8 configurations, 8 already in" <<<"$run_err" || fail "the rerun did not skip all 8"
  grep -q "^sweep: [0-9]*/" <<<"$run_err" && fail "the rerun ran a configuration"
  csv "$dir/grid.yaml" "$dir/r.h5" >"$dir/after.csv"
  cmp "$dir/before.csv" "$dir/after.csv" || fail "the rerun changed the rows (wall_s included)"
  sed 's/deployments.0.count: \[1, 2\]/deployments.0.count: [1, 2, 4]/' "$dir/grid.yaml" \
    >"$dir/grid3.yaml"
  sweep 1 "$dir/grid3.yaml" -o "$dir/r.h5"
  grep -q "12 configurations, 8 already in" <<<"$run_err" || fail "the wider study did not skip 8"
  [ "$(grep -c "^sweep: [0-9]*/4 done" <<<"$run_err")" = 4 ] || fail "expected 4 runs"
  csv "$dir/grid3.yaml" "$dir/r.h5" --no-wall >"$dir/wide.csv"
  sweep 1 "$dir/grid3.yaml" -o "$dir/fresh.h5"
  csv "$dir/grid3.yaml" "$dir/fresh.h5" --no-wall >"$dir/fresh.csv"
  cmp "$dir/wide.csv" "$dir/fresh.csv" || fail "the restarted results differ from a fresh sweep"
  echo "a rerun skips done configurations; a wider study runs only the new ones"
  ;;
max_rate)
  cat >"$dir/rate.yaml" <<EOF
base: $examples/default.yaml
set: {workload.max_requests: 300, deployments.0.count: 1}
mode: max_rate
max_rate: {key: workload.rate_scale, low: 1, high: 64, tolerance: 0.25, goodput_share: 0.9}
axes:
  - grid: {router.policy: [round_robin]}
EOF
  sweep 2 "$dir/rate.yaml" -o "$dir/rate.h5"
  csv "$dir/rate.yaml" "$dir/rate.h5" >"$dir/rate.csv"
  found=$(column "$dir/rate.csv" max_rate)
  failing=$(column "$dir/rate.csv" max_rate_lowest_failing)
  runs=$(column "$dir/rate.csv" runs)
  note=$(column "$dir/rate.csv" max_rate_note)
  [ "$note" = bisected ] || fail "the bisection ended with '$note'"
  grep -q "in $runs runs" <<<"$run_err" || fail "the number of runs ($runs) is not printed"
  python3 -c "import sys; f, h = float(sys.argv[1]), float(sys.argv[2]); sys.exit(not 0 < h - f <= 0.25)" \
    "$found" "$failing" || fail "found $found, lowest failing $failing: not within 0.25"
  above=$(python3 -c "import sys; print(float(sys.argv[1]) + 0.25)" "$found")
  cat >"$dir/check.yaml" <<EOF
base: $examples/default.yaml
set: {workload.max_requests: 300, deployments.0.count: 1, router.policy: round_robin}
axes:
  - list: [{workload.rate_scale: $found}, {workload.rate_scale: $failing}, {workload.rate_scale: $above}]
EOF
  sweep 1 "$dir/check.yaml" -o "$dir/check.h5"
  csv "$dir/check.yaml" "$dir/check.h5" >"$dir/check.csv"
  column "$dir/check.csv" goodput_share >"$dir/shares"
  python3 - "$dir/shares" <<'EOF' || fail "shares at found, lowest failing, found + tolerance: $(tr '\n' ' ' <"$dir/shares")"
import sys
at_found, at_failing, above = (float(x) for x in open(sys.argv[1]))
sys.exit(not (at_found >= 0.9 and at_failing < 0.9 and above < 0.9))
EOF
  echo "max rate $found in $runs runs: passes; $failing and $above fail ($(tr '\n' ' ' <"$dir/shares"))"
  ;;
min_count)
  cat >"$dir/count.yaml" <<EOF
base: $examples/default.yaml
set: {workload.max_requests: 300, workload.rate_scale: 16}
mode: min_count
min_count: {key: deployments.0.count, low: 1, high: 8, limits: {ttft_ms_p90: 1000}}
axes:
  - grid: {router.policy: [round_robin]}
EOF
  sweep 2 "$dir/count.yaml" -o "$dir/count.h5"
  csv "$dir/count.yaml" "$dir/count.h5" >"$dir/count.csv"
  found=$(column "$dir/count.csv" min_count)
  failing=$(column "$dir/count.csv" min_count_highest_failing)
  runs=$(column "$dir/count.csv" runs)
  [ "$(column "$dir/count.csv" min_count_note)" = bisected ] || fail "the search did not bisect"
  grep -q "min deployments.0.count $found (bisected) in $runs runs" <<<"$run_err" ||
    fail "the count found ($found) and the runs ($runs) are not printed"
  [ "$failing" = "$((found - 1))" ] || fail "found $found, highest failing $failing: not adjacent"
  cat >"$dir/check.yaml" <<EOF
base: $examples/default.yaml
set: {workload.max_requests: 300, workload.rate_scale: 16, router.policy: round_robin}
axes:
  - list: [{deployments.0.count: $found}, {deployments.0.count: $failing}]
EOF
  sweep 1 "$dir/check.yaml" -o "$dir/check.h5"
  csv "$dir/check.yaml" "$dir/check.h5" >"$dir/check.csv"
  column "$dir/check.csv" ttft_ms_p90 >"$dir/p90"
  python3 - "$dir/p90" <<'EOF' || fail "TTFT p90 at the count found and one fewer: $(tr '\n' ' ' <"$dir/p90")"
import sys
at_found, at_fewer = (float(x) for x in open(sys.argv[1]))
sys.exit(not (at_found <= 1000 < at_fewer))
EOF
  echo "min count $found in $runs runs: TTFT p90 $(tr '\n' ' ' <"$dir/p90")ms at $found and $failing"
  ;;
pareto)
  cat >"$dir/front.yaml" <<EOF
base: $examples/default.yaml
set: {workload.max_requests: 200, workload.rate_scale: 16}
objectives: [ttft_ms_p90, {max: output_tok_s}]
axes:
  - grid: {deployments.0.count: [1, 2, 3], router.policy: [round_robin, least_kv]}
EOF
  sweep 2 "$dir/front.yaml" -o "$dir/front.h5"
  csv "$dir/front.yaml" "$dir/front.h5" >"$dir/front.csv"
  python3 - "$dir/front.csv" "$run_out" <<'EOF' || fail "the pareto column or the printed front is wrong"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
key = lambda r: (float(r["ttft_ms_p90"]), -float(r["output_tok_s"]))
def dominated(r):
    return any(all(a <= b for a, b in zip(key(o), key(r))) and key(o) != key(r) for o in rows)
expect = ["0" if dominated(r) else "1" for r in rows]
got = [r["pareto"] for r in rows]
print("pareto column", got, "recomputed", expect)
on = [r for r in rows if r["pareto"] == "1"]
printed = [l for l in sys.argv[2].splitlines() if l.startswith("  [")]
ok = got == expect and 0 < len(on) < len(rows) and len(printed) == len(on)
ok = ok and all(l.startswith("  [%s] %s:" % (r["index"], r["config"])) for l, r in zip(printed, on))
sys.exit(not ok)
EOF
  ;;
*)
  echo "sweep.sh: unknown check '$check'"
  exit 2
  ;;
esac

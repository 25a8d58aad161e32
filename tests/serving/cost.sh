#!/usr/bin/env bash
# Cost figures of `windtunnel report` against hand-computed ones on a one-request scenario: the
# fleet's hour is its accelerators at their price plus its facility energy at the kWh price, and
# cost per million tokens is that hour over an hour's tokens; an accelerator without a price gives
# "no price", never a number.
# Usage: cost.sh WINDTUNNEL SCENARIO CASE
set -euo pipefail
wt=$1 scenario=$2 case=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
# check FILE EXPR: EXPR over the report's JSON object d must be True.
check() {
  local ok
  ok=$(python3 -c "import json,sys,math; d=json.load(open(sys.argv[1])); print($2)" "$1")
  [ "$ok" = True ] || fail "$2 is not true of $(cat "$1")"
}
run() {
  "$wt" run "$scenario" -o "$dir/a.h5" --quiet "$@" >/dev/null
  "$wt" report "$dir/a.h5" --json >"$dir/a.json"
  "$wt" report "$dir/a.h5" >"$dir/a.txt"
}
# The hand computation uses the report's energy, time and request counts (not its cost figures):
# hour = accelerators x price + facility energy / simulated time (kW) x kWh price.
case $case in
set_prices_give_the_hand_computed_fleet_cost)
  # 2 instances of 1 H100 at 3 USD/h, energy at 0.25 USD/kWh, PUE 1.5.
  run --set deployments.0.count=2 --set cost.accelerator_hour.H100-SXM-80GB=3 \
    --set cost.energy_per_kwh=0.25 --set power.pue=1.5
  python3 - "$dir/a.json" <<'PY' || fail "cost figures differ from the hand computation: $(cat "$dir/a.json")"
import json, sys
d = json.load(open(sys.argv[1]))
e, s, c, t = d["energy"]["total_j"], d["sim"]["simulated_s"], d["cost"], d["throughput"]
assert d["energy"]["pue"] == 1.5 and e > 0 and s > 0
accel = 2 * 3.0
energy = e / s / 1000 * 0.25
fleet = accel + energy
def near(a, b):
    return abs(a - b) <= 1e-9 * abs(b)
assert c["accelerators"] == 2, c
assert near(c["accelerators_usd_per_h"], accel), c
assert near(c["energy_usd_per_h"], energy), c
assert near(c["fleet_usd_per_h"], fleet), c
assert near(c["run_usd"], fleet * s / 3600), c
tin = d["requests"]["completed"] * 1000  # each request: 1000 prompt tokens, 1 output token
tout = d["requests"]["completed"] * 1
assert near(c["usd_per_m_input_tokens"], fleet * s / 3600 / tin * 1e6), c
assert near(c["usd_per_m_output_tokens"], fleet * s / 3600 / tout * 1e6), c
assert c["unpriced"] == ""
PY
  grep -q '^cost: fleet \$6\.' "$dir/a.txt" || fail "the text report lacks the fleet cost: $(cat "$dir/a.txt")"
  ;;
default_table_prices_the_h100_at_its_sourced_price)
  # hw/data/prices.csv: H100-SXM-80GB 4.25 USD/h (Vidur's CoreWeave figure); energy 0.0806 USD/kWh.
  run --set deployments.0.count=3
  check "$dir/a.json" "abs(d['cost']['accelerators_usd_per_h'] - 3 * 4.25) < 1e-12 and d['cost']['energy_usd_per_kwh'] == 0.0806"
  ;;
an_unpriced_accelerator_gives_no_price)
  run --set deployments.0.accelerator=MI300X
  check "$dir/a.json" "d['cost']['fleet_usd_per_h'] is None and d['cost']['usd_per_m_output_tokens'] is None and d['cost']['unpriced'] == 'MI300X' and d['cost']['energy_usd_per_h'] > 0"
  grep -q 'no price for MI300X' "$dir/a.txt" || fail "the text report does not say 'no price': $(cat "$dir/a.txt")"
  # A price in the scenario prices it.
  run --set deployments.0.accelerator=MI300X --set cost.accelerator_hour.MI300X=2.5
  check "$dir/a.json" "d['cost']['accelerators_usd_per_h'] == 2.5 and d['cost']['unpriced'] == ''"
  ;;
*) fail "unknown case $case" ;;
esac
echo "ok: $case"

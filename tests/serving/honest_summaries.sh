#!/usr/bin/env bash
# What a summary leaves out is said, on every rank count: skipped malformed rows, arrivals dropped
# past the representable end and empty workloads get one warning on stderr (rank 0's) and their
# counts on stdout and in report --json (check warns too); SLO attainment is over all requests, unfinished ones
# counting as misses. Runs the real binary under mpirun.
# Usage: honest_summaries.sh WINDTUNNEL RANKS CASE, CASE one of skipped, dropped, empty, slo.
set -euo pipefail
# shellcheck source=../app/common.sh
source "$(dirname "$0")/../app/common.sh"
wt=$1 ranks=$2 case=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
header='TIMESTAMP,ContextTokens,GeneratedTokens'
cat >"$dir/s.yaml" <<EOF
deployments:
  - {model: Llama-3.1-8B, accelerator: H100-SXM-80GB, count: 2}
workload:
  trace: t.csv
EOF
fail() {
  echo "FAIL ($case, $ranks ranks): $1"
  show_run "windtunnel"
  exit 1
}
# expect_warning PATTERN: exactly one stderr line matches (rank 0 alone warns).
expect_warning() {
  local n
  n=$(grep -cE -- "$1" <<<"$run_err" || true)
  [ "$n" = 1 ] || fail "stderr has /$1/ $n times, expected once"
}
# json_has TEXT: the report's JSON holds TEXT.
json_has() {
  local json
  json=$("$wt" report "$dir/out.h5" --json)
  grep -qF -- "$1" <<<"$json" || fail "report --json lacks '$1': $json"
}
run() {
  run_windtunnel "$wt" "$ranks" run "$dir/s.yaml" --quiet -o "$dir/out.h5" "$@"
  [ "$run_status" = 0 ] || fail "exit status $run_status"
}
case $case in
skipped)
  printf '%s\n2023-11-16 18:15:46.68,374,44\n2023-11-16 18:15:47.0,abc,44\n%s\n%s\n' "$header" \
    '2023-11-16 18:15:50.99,396,109' '2023-11-16 18:15:52.0,396,-1' >"$dir/t.csv"
  run --set workload.skip_bad_rows=true
  expect_warning "warning: .*t.csv: 2 malformed rows skipped .*t.csv:3: ContextTokens 'abc'"
  grep -q '^requests: 2 total' <<<"$run_out" || fail "expected 2 requests"
  grep -q '2 malformed workload rows skipped' <<<"$run_out" || fail "stdout lacks the count"
  json_has '"skipped_rows":2,"dropped_arrivals":0'
  ;;
dropped)
  printf '%s\n2023-11-16 18:15:46.68,374,44\n2023-11-16 18:15:50.99,396,109\n%s\n' "$header" \
    '2023-11-16 18:15:52.0,396,10' >"$dir/t.csv"
  run --set workload.rate_scale=1e-300
  expect_warning "warning: .*t.csv: 2 requests dropped: they would arrive past the last"
  grep -q '^requests: 1 total' <<<"$run_out" || fail "expected 1 request"
  grep -q '2 arrivals past the representable end dropped' <<<"$run_out" || fail "no count"
  json_has '"skipped_rows":0,"dropped_arrivals":2'
  run_windtunnel "$wt" "$ranks" check "$dir/s.yaml" --set workload.rate_scale=1e-300
  [ "$run_status" = 0 ] || fail "check: exit status $run_status"
  expect_warning "warning: .*t.csv: 2 requests dropped: they would arrive past the last"
  ;;
empty)
  echo "$header" >"$dir/t.csv"
  run
  expect_warning "warning: .*t.csv: the workload has no requests"
  ;;
slo)
  # 13 requests arrive in the first 10 s of the conversation hour; one is unfinished at the end.
  cp "$(dirname "$0")/../../examples/traces/AzureLLMInferenceTrace_conv.csv" "$dir/t.csv"
  run --set simulation.end=10s --set workload.max_requests=200
  json=$("$wt" report "$dir/out.h5" --json)
  # attainment x total must be the requests that met the SLO: goodput x simulated seconds.
  field() { grep -o "\"$1\":[0-9.e+-]*" <<<"$json" | head -n 1 | cut -d: -f2; }
  awk -v total="$(field total)" -v unfinished="$(field unfinished)" \
    -v attainment="$(field attainment)" -v goodput="$(field goodput_req_s)" \
    -v simulated="$(field simulated_s)" 'BEGIN {
      good = goodput * simulated; d = attainment * total - good
      exit !(unfinished > 0 && d < 1e-6 && d > -1e-6) }' ||
    fail "attainment x total is not the requests that met the SLO (goodput x time): $json"
  grep -q '% of all requests attained (unfinished ones miss)' <<<"$run_out" ||
    fail "the report does not say attainment is over all requests"
  ;;
*)
  echo "unknown case $case" >&2
  exit 2
  ;;
esac
echo "$case at $ranks ranks: ok"

#!/usr/bin/env bash
# Output that never destroys input: at RANKS ranks, `run -o` naming the scenario (by its name and by
# a hard link), the trace or the empirical length file is refused with one message and the input
# stays byte for byte; a directory and a missing folder are refused; a run that succeeds leaves the
# timeline at the target and no temporary file beside it.
# Usage: output_safety.sh WINDTUNNEL RANKS EXAMPLES_DIR
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
windtunnel=$1 ranks=$2 examples=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/traces"
cp "$examples/traces/AzureLLMInferenceTrace_conv.csv" "$examples/traces/AzureLLMInferenceTrace_code.csv" \
  "$dir/traces/"
cp "$examples/default.yaml" "$dir/study.yaml"
ln "$dir/study.yaml" "$dir/study_link.yaml"
# The same study with synthetic arrivals and (input, output) pairs drawn from a trace's rows.
sed 's|^  trace: traces/AzureLLMInferenceTrace_conv.csv|  synthetic: {arrival: poisson, rate: 10/s, empirical: {trace: traces/AzureLLMInferenceTrace_code.csv, format: auto}}|; /^  format: auto/d' \
  "$examples/default.yaml" >"$dir/synthetic.yaml"
cp -r "$dir" "$dir.orig"
trap 'rm -rf "$dir" "$dir.orig"' EXIT
small=(--quiet --set workload.max_requests=20)
failures=0

# refused LABEL PATTERN ARGS...: the run must fail with PATTERN once on stderr, and every input
# must be as it was.
refused() {
  local label=$1 pattern=$2
  shift 2
  run_windtunnel "$windtunnel" "$ranks" run "$@"
  local matches
  matches=$(grep -cE -- "$pattern" <<<"$run_err" || true)
  if [ "$run_status" = 0 ] || [ "$run_status" -ge 124 ] || [ "$matches" != 1 ]; then
    echo "FAIL: $label: status $run_status, /$pattern/ $matches times (expected a refusal, once)"
    show_run "$label"
    failures=$((failures + 1))
  elif ! diff -r "$dir.orig" "$dir" >/dev/null; then
    echo "FAIL: $label: an input changed"
    diff -r "$dir.orig" "$dir" || true
    failures=$((failures + 1))
  else
    echo "$label: refused: $(grep -E -- "$pattern" <<<"$run_err")"
  fi
}

refused "output is the scenario" "is the run's scenario file" \
  "$dir/study.yaml" "${small[@]}" -o "$dir/study.yaml"
refused "output is a hard link to the scenario" "is the run's scenario file" \
  "$dir/study.yaml" "${small[@]}" -o "$dir/study_link.yaml"
refused "output is the trace" "is the run's trace" \
  "$dir/study.yaml" "${small[@]}" -o "$dir/traces/AzureLLMInferenceTrace_conv.csv"
refused "output is the empirical length file" "is the run's empirical length file" \
  "$dir/synthetic.yaml" "${small[@]}" -o "$dir/traces/../traces/AzureLLMInferenceTrace_code.csv"
refused "output is a directory" "is a directory" "$dir/study.yaml" "${small[@]}" -o "$dir"
refused "output folder is missing" "folder '$dir/missing': No such file or directory" \
  "$dir/study.yaml" "${small[@]}" -o "$dir/missing/run.h5"

run_windtunnel "$windtunnel" "$ranks" run "$dir/study.yaml" "${small[@]}" -o "$dir/run.h5"
leftover=$(find "$dir" -name '.*partial*')
if [ "$run_status" != 0 ] || [ ! -s "$dir/run.h5" ] || [ -n "$leftover" ]; then
  echo "FAIL: a good run: status $run_status, leftover '$leftover'"
  ls -la "$dir"
  show_run "good run"
  failures=$((failures + 1))
else
  echo "a good run writes $dir/run.h5 and leaves no temporary file"
fi
exit $((failures > 0))

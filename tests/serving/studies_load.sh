#!/usr/bin/env bash
# The example studies load: `sweep --list` expands each into the configurations written, and every
# configuration is a valid scenario (`windtunnel check` of the base with its sets), except those the
# study expects to fail: in study-capacity.yaml, TP 1 of Llama-3.1-70B fits neither device.
# Usage: studies_load.sh WINDTUNNEL EXAMPLES_DIR
set -euo pipefail
wt=$1 examples=$2
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# study FILE BASE COUNT EXPECTED_FAILURES FAILURE_MESSAGE [KEY=VALUE...]: the study's own `set`
# entries follow (--list prints only the axes).
study() {
  local file=$1 base=$2 count=$3 expect_failed=$4 message=$5 failed=0 n=0 fixed=()
  shift 5
  for pair in "$@"; do fixed+=(--set "$pair"); done
  "$wt" sweep "$examples/$file" -o "$dir/unused.h5" --list >"$dir/list" ||
    fail "$file: sweep --list failed"
  [ "$(wc -l <"$dir/list")" -eq "$count" ] || fail "$file: expected $count configurations"
  while IFS= read -r line; do
    n=$((n + 1))
    local sets=("${fixed[@]}") config=${line#*: }
    IFS=',' read -ra pairs <<<"$config"
    for pair in "${pairs[@]}"; do sets+=(--set "${pair# }"); done
    if ! "$wt" check "$examples/$base" "${sets[@]}" >"$dir/out" 2>&1; then
      grep -q "$message" "$dir/out" || fail "$file: '$config' fails unexpectedly: $(cat "$dir/out")"
      failed=$((failed + 1))
    fi
  done <"$dir/list"
  [ "$n" -eq "$count" ] && [ "$failed" -eq "$expect_failed" ] ||
    fail "$file: $failed of $n configurations failed, expected $expect_failed"
  echo "ok: $file: $n configurations, $failed refused as expected"
}
grep -q '^  deployments.0.model: Llama-3.1-70B$' "$examples/study-capacity.yaml" ||
  fail "study-capacity.yaml's set changed: update this test"
study study-capacity.yaml default.yaml 72 24 "model does not fit" deployments.0.model=Llama-3.1-70B
study study-pd-ratio.yaml disaggregated.yaml 24 0 "-"

#!/usr/bin/env bash
# calibrate says what it leaves out: a shape that is not a size above 0 (negative or zero; infinite
# was already refused as not a number) refuses its table at path:line, and rows without a positive time are counted in the dataset's
# note instead of silently dropped; an empty data folder is reported, not a crash.
# Usage: bad_rows.sh WINDTUNNEL SAMPLE_DATA_DIR
set -euo pipefail
wt=$1 sample=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
gemm=aiconfigurator/kernels/h100_sxm_gemm_vllm_0.19.0_gemm_perf.csv
fail() {
  echo "FAIL: $1"
  echo "--- calibrate's output:"
  grep -F "$gemm" -A1 "$dir/out" || cat "$dir/out"
  exit 1
}
fresh() { # only the AIConfigurator tables: the other datasets become quick skipped rows
  rm -rf "$dir/data" && mkdir -p "$dir/data" && cp -r "$sample/aiconfigurator" "$dir/data/" &&
    chmod -R u+w "$dir/data"
}
calibrate() {
  "$wt" calibrate --data "$dir/data" >"$dir/out" 2>&1 || true
}
for bad in -3 0; do
  fresh
  # line 3 of the table: its second record (an fp8 GEMM), m
  awk -F, -v OFS=, -v m="$bad" 'NR == 3 { $2 = m } { print }' "$sample/$gemm" >"$dir/data/$gemm"
  calibrate
  grep -qF "op=gemm_fp8 skipped: $dir/data/$gemm:3: column 'm': '$bad' is not a" \
    "$dir/out" || fail "m=$bad was not refused at its line"
done
fresh
# lines 4, 5 and 8: fp8_block GEMMs with a zero, a missing and a negative time
awk -F, -v OFS=, 'NR == 4 { $5 = 0 } NR == 5 { $5 = "" } NR == 8 { $5 = -1 } { print }' "$sample/$gemm" \
  >"$dir/data/$gemm"
calibrate
grep -F "dataset=$gemm op=gemm_fp8_block points=" -A1 "$dir/out" | grep -qF "3 rows dropped: no positive time" ||
  fail "3 rows without a positive time were not counted"
mkdir -p "$dir/empty"
status=0
"$wt" calibrate --data "$dir/empty" >"$dir/out" 2>&1 || status=$?
# Every dataset is a skipped row there: exit 0, and nothing from a sanitizer (qsort(NULL, 0)).
[ "$status" = 0 ] || fail "calibrate on an empty folder exited with status $status"
! grep -q "runtime error" "$dir/out" || fail "calibrate on an empty folder: $(grep "runtime error" "$dir/out")"
echo "ok: bad shapes refused at their line, rows without a time counted, an empty folder survived"

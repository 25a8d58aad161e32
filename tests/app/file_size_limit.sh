#!/usr/bin/env bash
# A write that fails on some ranks only must stop the run, not hang it: with a file-size limit of
# 100 KiB on every rank (`ulimit -f`, as a batch system may set; windtunnel ignores SIGXFSZ, so the
# write returns EFBIG), the parallel bench's datacenter (3,000 requests) split over RANKS ranks
# fails when its timeline reaches the limit at some ranks' offsets, past the free-space check.
# HDF5 may then leave the other ranks inside its collective write (before the fix: a hang at 2
# and 4 ranks); the run must end with a non-zero status and the message of the failed write, no
# crash, no temporary file, and the timeline it would have replaced intact.
# Usage: file_size_limit.sh WINDTUNNEL RANKS
set -uo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
windtunnel=$1 ranks=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
run_windtunnel "$windtunnel" 1 run --quiet --set workload.max_requests=20 -o "$dir/run.h5"
if [ "$run_status" != 0 ]; then
  show_run "the small run"
  exit 1
fi
before=$(md5sum <"$dir/run.h5")

# Shared-memory transport needs files larger than the limit: TCP between the ranks instead.
run_status=0
"${MPIRUN[@]}" --mca btl self,tcp -np "$ranks" bash -c 'ulimit -f 100; exec "$@"' \
  limited "$windtunnel" run "$(dirname "$0")/../bench/parallel.yaml" \
  --set workload.max_requests=3000 -o "$dir/run.h5" \
  >"$dir/out" 2>"$dir/err" || run_status=$?
run_out=$(cat "$dir/out") run_err=$(cat "$dir/err")
fail() {
  echo "FAIL: file-size limit at $ranks rank(s): $1"
  show_run "the limited run"
  exit 1
}
[ "$run_status" = 124 ] || [ "$run_status" = 137 ] && fail "it hung ($RUN_TIMEOUT_S s)"
[ "$run_status" != 0 ] || fail "it succeeded"
grep -q "cannot write [0-9]* rows to table '[a-z_]*': " <<<"$run_err" ||
  fail "no message of the failed write"
grep -qi "segmentation\|signal [0-9]" <<<"$run_err" && fail "a crash"
[ "$(md5sum <"$dir/run.h5")" = "$before" ] || fail "the existing timeline changed"
leftover=$(find "$dir" -mindepth 1 ! -name run.h5 ! -name out ! -name err)
[ -z "$leftover" ] || fail "files left behind: $leftover"
echo "file-size limit at $ranks rank(s): status $run_status, $(grep -o "cannot write.*" <<<"$run_err" | head -1)"

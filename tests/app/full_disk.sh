#!/usr/bin/env bash
# A run that fails leaves the timeline it would replace intact: on a 5 MiB tmpfs, a small run
# writes a timeline; the whole default study then needs more room than there is and must fail at
# RANKS ranks with one clear message (no crash), leaving the first timeline byte for byte and
# readable, and no temporary file; so must a run into a new file there. Skipped (exit 77) where
# this user may not mount a tmpfs.
# Usage: full_disk.sh WINDTUNNEL RANKS
set -uo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
windtunnel=$1 ranks=$2
dir=$(mktemp -d)
if ! mount -t tmpfs -o size=5m tmpfs "$dir" 2>/dev/null; then
  rmdir "$dir"
  echo "full_disk: cannot mount a tmpfs here: skipped"
  exit 77
fi
trap 'umount "$dir"; rmdir "$dir"' EXIT
failures=0
run_windtunnel "$windtunnel" "$ranks" run --quiet --set workload.max_requests=20 -o "$dir/run.h5"
if [ "$run_status" != 0 ]; then
  show_run "the small run"
  exit 1
fi
before=$(md5sum <"$dir/run.h5")

# fails LABEL TARGET: the whole study into TARGET must fail, once, for want of space, no crash.
fails() {
  run_windtunnel "$windtunnel" "$ranks" run --quiet -o "$2"
  local matches
  matches=$(grep -c "windtunnel: no space left for timeline '$2'" <<<"$run_err" || true)
  if [ "$run_status" = 0 ] || [ "$run_status" -ge 124 ] || [ "$matches" != 1 ] ||
    grep -qi "segmentation\|signal" <<<"$run_err"; then
    echo "FAIL: $1: status $run_status, the message $matches times (expected once, no crash)"
    show_run "$1"
    failures=$((failures + 1))
  else
    echo "$1: $(grep "no space left" <<<"$run_err")"
  fi
}
fails "replacing a timeline on a full disk" "$dir/run.h5"
if [ "$(md5sum <"$dir/run.h5")" != "$before" ]; then
  echo "FAIL: the existing timeline changed"
  failures=$((failures + 1))
elif ! "$windtunnel" report "$dir/run.h5" >/dev/null; then
  echo "FAIL: the existing timeline no longer reads"
  failures=$((failures + 1))
else
  echo "the existing timeline is intact and reads"
fi
fails "a new timeline on a full disk" "$dir/new.h5"
leftover=$(find "$dir" -mindepth 1 ! -name run.h5)
if [ -n "$leftover" ]; then
  echo "FAIL: files left behind: $leftover"
  failures=$((failures + 1))
fi
exit $((failures > 0))

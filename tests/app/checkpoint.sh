#!/usr/bin/env bash
# Checkpoint and restart give the uninterrupted run's results: every table of the timeline
# (compare_timelines) and the report, whatever the ranks that wrote the checkpoint and those that
# continue from it.
#   periodic W R EVERY: a run at W ranks writes a checkpoint every EVERY of simulated time (the
#     last one stays); R ranks continue from it.
#   sigterm EVERY: a run at 2 ranks writing a checkpoint every EVERY is sent SIGTERM (its last rank
#     alone) once its first checkpoint exists, so mid-run; it stops with status 143, writes a
#     checkpoint at the stop and says how to continue; 2 ranks and then 1 rank continue from it.
#   refusals EVERY: a damaged checkpoint (cut short, a byte changed, no header or one cut short), another
#     scenario or seed, a --checkpoint folder that is not a checkpoint or is the scenario, and an
#     output inside the checkpoint continued from are refused with a message on every rank, no
#     crash and no hang.
# Usage: checkpoint.sh WINDTUNNEL COMPARE_TIMELINES SCENARIO HOW [ARGS...] [-- RUN OPTIONS...]
set -uo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
windtunnel=$1 compare=$2 scenario=$3 how=$4
shift 4
args=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
  args+=("$1")
  shift
done
[ $# -gt 0 ] && shift
opts=(--quiet "$@")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
label="checkpoint $how ${args[*]} $(basename "$scenario") ${opts[*]}"
fail() {
  echo "FAIL: $label: $1"
  show_run "$label"
  exit 1
}

# The report without the lines that measure the run rather than the model (wall time, events).
report_of() {
  "$windtunnel" report "$1" | grep -v -e 'wall' -e 'events' -e '^timeline' -e "$dir"
}

# reference: the uninterrupted run at 1 rank, without checkpoints
run_windtunnel "$windtunnel" 1 run "$scenario" "${opts[@]}" -o "$dir/ref.h5"
[ "$run_status" = 0 ] || fail "the uninterrupted run failed"

# same_as_ref H5 WHAT: its tables and report are the reference's.
same_as_ref() {
  "$compare" "$dir/ref.h5" "$1" >"$dir/compare" 2>&1 || fail "$2: $(cat "$dir/compare")"
  diff <(report_of "$dir/ref.h5") <(report_of "$1") >"$dir/report_diff" ||
    fail "$2: the report differs: $(cat "$dir/report_diff")"
}

# restart_from CKPT RANKS OUT: continues from CKPT; its start is mid-run.
restart_from() {
  run_windtunnel "$windtunnel" "$2" run --restart "$1" --quiet -o "$3"
  [ "$run_status" = 0 ] || fail "the restart at $2 rank(s) failed"
  at=$(sed -n 's/^windtunnel: continuing from checkpoint .* at simulated time \([0-9.]*\) s.*/\1/p' \
    <<<"$run_err")
  [ -n "$at" ] && awk -v t="$at" 'BEGIN { exit !(t > 0) }' ||
    fail "the restart at $2 rank(s) does not say it continues from a time past 0"
}

case $how in
periodic)
  writers=${args[0]} readers=${args[1]} every=${args[2]}
  run_windtunnel "$windtunnel" "$writers" run "$scenario" "${opts[@]}" -o "$dir/full.h5" \
    --checkpoint "$dir/ckpt" --checkpoint-every "$every"
  [ "$run_status" = 0 ] || fail "the run writing checkpoints failed"
  [ -f "$dir/ckpt/header" ] || fail "no checkpoint was written"
  [ -z "$(find "$dir" -name '*.partial*')" ] || fail "a temporary file or folder was left"
  same_as_ref "$dir/full.h5" "writing checkpoints changed the results"
  restart_from "$dir/ckpt" "$readers" "$dir/restarted.h5"
  same_as_ref "$dir/restarted.h5" "written at $writers rank(s), continued at $readers"
  echo "$label: identical to the uninterrupted run (from simulated time $at s)"
  ;;
sigterm)
  every=${args[0]}
  "${MPIRUN[@]}" -np 2 "$windtunnel" run "$scenario" "${opts[@]}" -o "$dir/stopped.h5" \
    --checkpoint "$dir/ckpt" --checkpoint-every "$every" >"$dir/out" 2>"$dir/err" &
  launcher=$!
  for _ in $(seq 600); do
    [ -f "$dir/ckpt/header" ] && break
    sleep 0.05
  done
  mpirun_pid=$(pgrep -P "$launcher" mpirun)
  for pid in $(pgrep -P "$mpirun_pid"); do
    rank=$(tr '\0' '\n' <"/proc/$pid/environ" | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')
    [ "$rank" = 1 ] && kill -TERM "$pid"
  done
  run_status=0
  wait "$launcher" || run_status=$?
  run_out=$(cat "$dir/out") run_err=$(cat "$dir/err")
  [ "$run_status" = 143 ] || fail "exit status $run_status, expected 143 (SIGTERM mid-run)"
  grep -q "^windtunnel: checkpoint '$dir/ckpt' holds the run .* windtunnel run --restart $dir/ckpt" \
    <<<"$run_err" || fail "no line saying where the checkpoint is and how to continue"
  restart_from "$dir/ckpt" 2 "$dir/restarted2.h5"
  same_as_ref "$dir/restarted2.h5" "stopped by SIGTERM at 2 ranks, continued at 2"
  restart_from "$dir/ckpt" 1 "$dir/restarted1.h5"
  same_as_ref "$dir/restarted1.h5" "stopped by SIGTERM at 2 ranks, continued at 1"
  echo "$label: identical to the uninterrupted run (from simulated time $at s)"
  ;;
refusals)
  run_windtunnel "$windtunnel" 2 run "$scenario" "${opts[@]}" -o "$dir/full.h5" \
    --checkpoint "$dir/ckpt" --checkpoint-every "${args[0]}"
  [ "$run_status" = 0 ] || fail "the run writing checkpoints failed"
  # refused RANKS WHY PATTERN ARGS...: run ARGS is refused (status 1) saying PATTERN.
  refused() {
    local ranks=$1 why=$2 pattern=$3
    shift 3
    run_windtunnel "$windtunnel" "$ranks" run "$@" "${opts[@]}" -o "$dir/refused.h5"
    [ "$run_status" = 1 ] || fail "$why at $ranks rank(s): exit status $run_status, expected 1"
    grep -q "^windtunnel: .*$pattern" <<<"$run_err" || fail "$why: no message saying '$pattern'"
    ! grep -q "Sanitizer\|runtime error" <<<"$run_err" || fail "$why: a sanitizer report"
    [ ! -e "$dir/refused.h5" ] || fail "$why: a timeline was written"
  }
  cp -r "$dir/ckpt" "$dir/cut"
  truncate -s -9 "$dir/cut/rank-1"
  cp -r "$dir/ckpt" "$dir/flipped"
  printf '\x5a' | dd of="$dir/flipped/rank-0" bs=1 seek=100 conv=notrunc status=none
  cp -r "$dir/ckpt" "$dir/headless"
  rm "$dir/headless/header"
  cp -r "$dir/ckpt" "$dir/torn"
  head -c 40 "$dir/ckpt/header" >"$dir/torn/header"
  refused 2 "a rank file cut short" "damaged" --restart "$dir/cut"
  refused 2 "a byte changed" "damaged" --restart "$dir/flipped"
  refused 1 "no header" "not a checkpoint" --restart "$dir/headless"
  refused 1 "a header cut short" "damaged" --restart "$dir/torn"
  refused 2 "another seed" "is not checkpoint .*seed: 12345" --restart "$dir/ckpt" "$scenario" \
    --set simulation.seed=12345
  refused 1 "another scenario" "is not checkpoint" --restart "$dir/ckpt" \
    "$(dirname "$0")/long.yaml"
  mkdir "$dir/precious" && touch "$dir/precious/notes"
  refused 1 "a --checkpoint folder that is not one" "not a checkpoint: refusing" "$scenario" \
    --checkpoint "$dir/precious"
  [ -f "$dir/precious/notes" ] || fail "the folder that is not a checkpoint was touched"
  refused 1 "the scenario as --checkpoint" "is the run's scenario file" "$scenario" \
    --checkpoint "$scenario"
  run_windtunnel "$windtunnel" 1 run --restart "$dir/ckpt" "${opts[@]}" -o "$dir/ckpt/out.h5"
  [ "$run_status" = 1 ] && grep -q "is inside the checkpoint" <<<"$run_err" ||
    fail "an output inside the checkpoint it continues from was not refused"
  echo "$label: every damaged or mismatched checkpoint refused"
  ;;
*) echo "unknown HOW '$how'" && exit 2 ;;
esac

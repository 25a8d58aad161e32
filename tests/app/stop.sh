#!/usr/bin/env bash
# A run stopped early writes a partial timeline: at RANKS ranks, a long study is stopped once it
# is under way, by HOW: `sigterm` (SIGTERM to the last rank alone, as a batch system's warning
# would reach one task: the others learn it at the window boundary), `sigusr1` (SIGUSR1 to
# mpirun, which forwards it to every rank) or `maxwall` (--max-wall 4s, no signal). The run must
# exit with its documented status (128+signal, or 3), say why on stderr, and leave a readable
# timeline at the target with complete=0, that `report` refuses and `report --partial` summarises
# with a warning, and no temporary file.
# Usage: stop.sh WINDTUNNEL RANKS HOW [RUN OPTIONS...]
set -uo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
windtunnel=$1 ranks=$2 how=$3
shift 3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# A study of minutes (long.yaml, beside this script), so that the stop falls in the middle.
long=("$(dirname "$0")/long.yaml" "$@")
case $how in
sigterm) signal=TERM want_status=143 reason=SIGTERM ;;
sigusr1) signal=USR1 want_status=138 reason=SIGUSR1 ;;
maxwall) long+=(--max-wall 4s) want_status=3 reason=max_wall ;;
*) echo "unknown HOW '$how'" && exit 2 ;;
esac

timeout --kill-after=5 "$RUN_TIMEOUT_S" mpirun --allow-run-as-root --oversubscribe -np "$ranks" \
  "$windtunnel" run "${long[@]}" -o "$dir/run.h5" >"$dir/out" 2>"$dir/err" &
launcher=$!
if [ "$how" != maxwall ]; then
  # Under way: rank 0 has printed a progress line (about a second of simulation).
  for _ in $(seq 300); do
    grep -q '^windtunnel: simulated' "$dir/err" 2>/dev/null && break
    sleep 0.1
  done
  mpirun_pid=$(pgrep -P "$launcher" mpirun)
  if [ "$how" = sigusr1 ]; then
    kill -USR1 "$mpirun_pid"
  else
    for pid in $(pgrep -P "$mpirun_pid"); do
      rank=$(tr '\0' '\n' <"/proc/$pid/environ" | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')
      [ "$rank" = $((ranks - 1)) ] && kill -"$signal" "$pid"
    done
  fi
fi
run_status=0
wait "$launcher" || run_status=$?
run_out=$(cat "$dir/out") run_err=$(cat "$dir/err")
label="stopped by $how at $ranks rank(s)"
fail() {
  echo "FAIL: $label: $1"
  show_run "$label"
  exit 1
}
[ "$run_status" = "$want_status" ] || fail "exit status $run_status, expected $want_status"
grep -q "^windtunnel: stopped by .*partial timeline (complete=0)" <<<"$run_err" ||
  fail "no line saying it stopped"
grep -q "^PARTIAL TIMELINE: the run was stopped ($reason)" <<<"$run_out" ||
  fail "the summary does not say it is partial"
[ -z "$(find "$dir" -name '.*partial*')" ] || fail "a temporary file was left"
if "$windtunnel" report "$dir/run.h5" >/dev/null 2>"$dir/report_err"; then
  fail "report summarised a partial timeline without --partial"
fi
grep -q "is partial: its run was stopped ($reason).*--partial" "$dir/report_err" ||
  fail "report's refusal does not explain: $(cat "$dir/report_err")"
report=$("$windtunnel" report --partial "$dir/run.h5" 2>"$dir/report_err") ||
  fail "report --partial failed: $(cat "$dir/report_err")"
grep -q "warning: .* is a partial timeline" "$dir/report_err" || fail "report --partial: no warning"
grep -q "^requests: [1-9][0-9]* total" <<<"$report" || fail "report --partial: no requests: $report"
json=$("$windtunnel" report --partial --json "$dir/run.h5" 2>/dev/null)
grep -q "\"complete\":false,\"end_reached_s\":[0-9.e+]*,\"stop_reason\":\"$reason\"[,}]" <<<"$json" ||
  fail "report --partial --json: $json"
echo "$label: $(grep '^windtunnel: stopped' <<<"$run_err")"

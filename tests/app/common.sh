# Sourced by the MPI test scripts: launching windtunnel under mpirun, and reading its PHOLD summary.
# shellcheck shell=bash

# Root-safe and oversubscribed: CI containers run as root on fewer cores than ranks x threads.
# `timeout` turns a hang into a clear failure well before ctest's own TIMEOUT.
RUN_TIMEOUT_S=60
MPIRUN=(timeout --kill-after=5 "$RUN_TIMEOUT_S" mpirun --allow-run-as-root --oversubscribe)

# run_windtunnel WINDTUNNEL RANKS ARGS...: stdout and stderr of the run in $run_out and $run_err,
# its exit status in $run_status. Never fails itself.
run_windtunnel() {
  local windtunnel=$1 ranks=$2
  shift 2
  local out err
  out=$(mktemp) err=$(mktemp)
  run_status=0
  "${MPIRUN[@]}" -np "$ranks" "$windtunnel" "$@" >"$out" 2>"$err" || run_status=$?
  run_out=$(cat "$out") run_err=$(cat "$err")
  rm -f "$out" "$err"
  if [ "$run_status" = 124 ] || [ "$run_status" = 137 ]; then
    echo "TIMEOUT: mpirun -np $ranks windtunnel $* did not finish in $RUN_TIMEOUT_S s" >&2
  fi
}

# phold_summary TEXT: the "events=<n> checksum=<hex>" fields of the last "phold events=" line (the
# wall time and rate that follow differ from run to run), or nothing.
phold_summary() {
  grep '^phold events=' <<<"$1" | tail -n 1 | grep -o 'events=[0-9]* checksum=[0-9a-f]*' || true
}

# show_run LABEL: the captured output of the last run, indented, for a failure report.
show_run() {
  echo "--- $1: exit status $run_status, stdout:"
  echo "    ${run_out//$'\n'/$'\n'    }"
  echo "--- stderr:"
  echo "    ${run_err//$'\n'/$'\n'    }"
}

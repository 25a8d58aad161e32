#!/usr/bin/env bash
# windtunnel validate on the committed sample (tests/calib/e2e): MODE ranks checks the committed
# figures at 1, 2 and 4 ranks and that every rank count prints the same lines; MODE bench checks that
# a bench_serving result given with --scenario (examples/validate-h200-llama70b-tp4.yaml, the setup
# of the DataCrunch Llama-3.3-70B runs) predicts exactly what the dataset reader predicts for it.
# Usage: validate.sh MODE WINDTUNNEL SOURCE_DIR [RANKS...]
set -euo pipefail
mode=$1 windtunnel=$2 src=$3
shift 3
# shellcheck source=../app/common.sh
source "$src/tests/app/common.sh"
# Each run replays about 30 cases, every one a collective simulation at 4 ranks on 2 busy cores.
RUN_TIMEOUT_S=150
MPIRUN=(timeout --kill-after=5 "$RUN_TIMEOUT_S" mpirun --allow-run-as-root --oversubscribe)
sample=$src/tests/calib/e2e
# The committed sample figures were written with this cap (CMakeLists.txt says so too).
cap=(--max-requests 200)
fail() {
  echo "FAIL: $*" >&2
  show_run "last run" >&2
  exit 1
}

if [ "$mode" = ranks ]; then
  reference=""
  for ranks in "$@"; do
    run_windtunnel "$windtunnel" "$ranks" validate --data "$sample" "${cap[@]}" --check \
      --expected "$src/tests/calib/validate_sample.csv"
    [ "$run_status" = 0 ] || fail "validate --check at $ranks ranks exited $run_status"
    grep -q '^validation dataset=.* metric=.* err_pct=' <<<"$run_out" ||
      fail "no validation lines at $ranks ranks"
    grep -q '^summary dataset=' <<<"$run_out" || fail "no summary at $ranks ranks"
    grep -q 'skipped: ' <<<"$run_out" || fail "no skipped case listed at $ranks ranks"
    if [ -z "$reference" ]; then
      reference=$run_out
    elif [ "$run_out" != "$reference" ]; then
      diff <(echo "$reference") <(echo "$run_out") | head -20 >&2
      fail "validate at $ranks ranks printed other figures than at $1"
    fi
  done
  echo "validate: committed figures hold and the output is the same at ranks $*"
elif [ "$mode" = bench ]; then
  result=$sample/datacrunch_h200_sglang/llama_3_3_70b_online_output.jsonl
  run_windtunnel "$windtunnel" 1 validate --scenario "$src/examples/validate-h200-llama70b-tp4.yaml" \
    --bench "$result"
  [ "$run_status" = 0 ] || fail "validate --bench exited $run_status"
  user=$(grep '^validation dataset=user .* metric=' <<<"$run_out" | sed 's/dataset=user //')
  [ -n "$user" ] || fail "no validation lines for the bench result"
  run_windtunnel "$windtunnel" 1 validate --data "$sample" --dataset datacrunch_h200_sglang
  [ "$run_status" = 0 ] || fail "validate --dataset datacrunch_h200_sglang exited $run_status"
  reader=$(grep '^validation dataset=datacrunch_h200_sglang .* metric=' <<<"$run_out" |
    sed 's/dataset=datacrunch_h200_sglang //')
  if [ "$user" != "$reader" ]; then
    diff <(echo "$reader") <(echo "$user") >&2 || true
    fail "the bench result with its scenario predicts other figures than the dataset reader"
  fi
  echo "validate --bench: $(wc -l <<<"$user") figures, the same as the dataset reader's"
else
  echo "usage: validate.sh ranks|bench WINDTUNNEL SOURCE_DIR [RANKS...]" >&2
  exit 2
fi

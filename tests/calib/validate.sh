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
elif [ "$mode" = vllm ]; then
  # vLLM's result JSON (nested itls, texts, nulls): every figure it has is compared.
  run_windtunnel "$windtunnel" 1 validate --scenario "$src/tests/calib/bench/a100-llama70b-tp2.yaml" \
    --bench "$src/tests/calib/bench/vllm_result_llmd_exp0.json"
  [ "$run_status" = 0 ] || fail "validate --bench on vLLM's layout exited $run_status"
  got=$(grep '^validation ' <<<"$run_out" | grep -o ' metric=[a-z0-9_]*' | sort | tr -d ' ' | tr '\n' ' ')
  want="metric=e2e_mean_ms metric=e2e_p50_ms metric=output_tok_s metric=tpot_mean_ms \
metric=tpot_p50_ms metric=ttft_mean_ms metric=ttft_p50_ms metric=ttft_p99_ms "
  [ "$got" = "$want" ] || fail "compared figures: got '$got', want '$want'"
  grep -q 'case=vllm_result_llmd_exp0/0_rate0.5 requests=20 note: Poisson' <<<"$run_out" ||
    fail "the 20 listed requests at 0.5 req/s were not replayed"
  echo "validate --bench on vLLM's result JSON: the 8 figures it has compared"
elif [ "$mode" = trtllm ]; then
  # TensorRT-LLM max-throughput rows get trtllm-bench's limits (tensorrt_llm/bench/build/tuning.py),
  # worked by hand for Llama-3.1-8B FP8 on one H100 (80 GiB, 8.03 G parameters of 1 byte, an fp8
  # KV cache of 2 x 32 layers x 8 heads x 128 x 1 byte = 64 KiB a token, 0.95 of the 72.5 GiB the
  # weights leave): 1000/1000 fits 564 requests -> 640 sequences, 564 x 2 = 1,128 tokens -> 2,048;
  # 2048/128 fits 519 -> 640, 519 x 17 = 8,821 -> 9,216.
  run_windtunnel "$windtunnel" 1 validate --data "$sample" --dataset trtllm_perf_overview \
    --case 'v0.17/LLaMA v3.1 8B/FP8/H100 80GB HBM3/*' --max-requests 10
  [ "$run_status" = 0 ] || fail "validate on the TensorRT-LLM rows exited $run_status"
  for want in "tp1-pp1/1000-1000 requests=10 note: trtllm-bench's limits: max_batch_size 640, max_num_tokens 2048, KV cache in fp8" \
    "tp1-pp1/2048-128 requests=10 note: trtllm-bench's limits: max_batch_size 640, max_num_tokens 9216, KV cache in fp8"; do
    grep -qF "$want" <<<"$run_out" || fail "no '$want'"
  done
  echo "validate: TensorRT-LLM rows replayed with trtllm-bench's limits and fp8 KV cache"
else
  echo "usage: validate.sh ranks|bench|vllm|trtllm WINDTUNNEL SOURCE_DIR [RANKS...]" >&2
  exit 2
fi

#!/usr/bin/env bash
# `windtunnel calibrate PROFILE_DIR`: the device named by the folder (RTXPRO6000_...) or by
# --device, every table recognised or listed as not mapped with its reason, the fit better than
# the default efficiencies on what it fitted, --write --out writing only that device's rows,
# --write replacing its rows of hw/data/efficiency.csv and nothing else, and a scenario pricing
# with the written file (efficiency_file:) and refusing a bad one at its line.
# Usage: device_fit.sh WINDTUNNEL SAMPLE_DIR VIDUR_PROFILING_DIR REPO_ROOT
set -euo pipefail
wt=$(realpath "$1") sample=$(realpath "$2") vidur=$(realpath "$3") repo=$(realpath "$4")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$wt" calibrate "$sample" >"$dir/out.txt"
grep -q "^profile: RTXPRO6000_meta-llama_Llama-3.1-8B/tp1/dense.csv device=RTX PRO 6000 Blackwell Server layout=llmservingsim-layers gemm=24 elementwise=30$" "$dir/out.txt" ||
  fail "dense.csv not read as 24 GEMM and 30 elementwise points"
grep -q "^profile: RTXPRO6000_meta-llama_Llama-3.1-8B/tp1/attention.csv device=RTX PRO 6000 Blackwell Server layout=llmservingsim-attention attn_prefill=[0-9]* attn_decode=[0-9]* (6 rows without a fitted operator" "$dir/out.txt" ||
  fail "attention.csv: pure rows as points, the six mixed rows counted"
grep -q "^not mapped: RTXPRO6000_meta-llama_Llama-3.1-8B/tp1/skew_fit.csv: decode-skew table" "$dir/out.txt" || fail "skew_fit.csv not listed"
grep -q "^not mapped: notes.txt: not a CSV table" "$dir/out.txt" || fail "notes.txt not listed"
grep -q "README.md" "$dir/out.txt" && fail "documentation listed"
# The fit does better than the default (H100-fitted) efficiencies on the elementwise kernels.
line=$(grep "^device-fit device=RTX PRO 6000 Blackwell Server op=elementwise points=30 " "$dir/out.txt") ||
  fail "no elementwise fit"
before=$(sed -E 's/.*before: median_abs_pct=([0-9.]+).*/\1/' <<<"$line")
after=$(sed -E 's/.*after: median_abs_pct=([0-9.]+).*/\1/' <<<"$line")
awk -v b="$before" -v a="$after" 'BEGIN { exit !(a < b / 2) }' || fail "elementwise $before% -> $after%"
grep -q "op=allreduce no data: keeps the default efficiencies" "$dir/out.txt" || fail "unfitted op not said"
# LLMServingSim profiles no residual add: its HBM fraction is kept, not run off (it went to 0.001).
grep -q "^device-fit device=RTX PRO 6000 Blackwell Server op=elementwise .*kept (no points place them): add_frac$" "$dir/out.txt" ||
  fail "add_frac not kept"
[ -e "$dir/eff.csv" ] && fail "wrote without --write"

# --device: names a folder's device that its name does not give; an unknown one is refused.
mkdir -p "$dir/mine/a/b" && cp "$vidur/network/a100_dgx/send_recv.csv" "$dir/mine/a/b/"
"$wt" calibrate "$dir/mine" --device rtx_pro_6000 | grep -q "^profile: a/b/send_recv.csv device=RTX PRO 6000 Blackwell Server layout=vidur-send_recv sendrecv=" ||
  fail "--device rtx_pro_6000"
if "$wt" calibrate "$dir/mine" >"$dir/unnamed.txt" 2>&1; then fail "nothing recognised, exit 0"; fi
grep -q "^not mapped: a/b/send_recv.csv: no catalogued accelerator" "$dir/unnamed.txt" || fail "unnamed device"
grep -q "mine: no table of a catalogued device" "$dir/unnamed.txt" || fail "no 'nothing recognised' message"
if "$wt" calibrate "$dir/mine" --device no-such-gpu 2>"$dir/err.txt" >/dev/null; then fail "unknown --device accepted"; fi
grep -q "no-such-gpu: not an accelerator of the catalogue" "$dir/err.txt" || fail "message: $(cat "$dir/err.txt")"
# Names as PyTorch gives them (profile_gpu.py's default --gpu) map; a longer model number does not
# pass for a shorter one (RTX A1000 is no A100).
for name in "NVIDIA H100 80GB HBM3:H100-SXM-80GB" "NVIDIA A100-SXM4-80GB:A100-SXM-80GB" \
  "NVIDIA A100-SXM4-40GB:A100-SXM-40GB" \
  "NVIDIA_RTX_PRO_6000_Blackwell_Server_Edition:RTX PRO 6000 Blackwell Server" \
  "AMD Instinct MI300X:MI300X" "NVIDIA RTX A1000:" "a40:"; do
  folder=${name%%:*} device=${name#*:}
  rm -rf "$dir/names" && mkdir -p "$dir/names/$folder" && cp "$vidur/network/a100_dgx/send_recv.csv" "$dir/names/$folder/"
  "$wt" calibrate "$dir/names" >"$dir/names.txt" 2>&1 || true
  if [ -n "$device" ]; then
    grep -q "^profile: $folder/send_recv.csv device=$device layout" "$dir/names.txt" || fail "$folder: $(cat "$dir/names.txt")"
  else
    grep -q "^not mapped: $folder/send_recv.csv: no catalogued accelerator" "$dir/names.txt" || fail "$folder mapped"
  fi
done

# Vidur's folders: a100 and h100 mapped, a40 (not catalogued) listed.
"$wt" calibrate "$vidur" >"$dir/vidur.txt"
grep -q "^profile: compute/a100/meta-llama/Llama-2-7b-hf/mlp.csv device=A100-SXM-80GB layout=vidur-mlp" "$dir/vidur.txt" || fail "vidur a100"
grep -q "^profile: network/h100_dgx/all_reduce.csv device=H100-SXM-80GB" "$dir/vidur.txt" || fail "vidur h100_dgx"
grep -q "^not mapped: compute/a40/meta-llama/Llama-2-7b-hf/mlp.csv: no catalogued accelerator" "$dir/vidur.txt" || fail "vidur a40"

# --write --out: only the device's rows, every operator the catalogue prices.
"$wt" calibrate "$sample" --write --out "$dir/eff.csv" | grep -q "^wrote: $dir/eff.csv (1 device)$" || fail "--out"
[ "$(grep -c '^RTX PRO 6000 Blackwell Server,' "$dir/eff.csv")" -ge 40 ] || fail "too few rows"
grep -q -v '^#\|^device,\|^RTX PRO 6000 Blackwell Server,' "$dir/eff.csv" && fail "rows of another device"
grep -q '^RTX PRO 6000 Blackwell Server,elementwise,norm_frac,.*tp1/dense.csv",30,' "$dir/eff.csv" || fail "fitted_from"
grep -q '^RTX PRO 6000 Blackwell Server,cpu,fixed_ns,.*"kept: the default efficiencies' "$dir/eff.csv" || fail "kept rows"

# --efficiency: the written file's error on the tables it was fitted to is what the fit said.
fitted=$(grep "op=elementwise" "$dir/out.txt" | sed -E 's/.*after: (median_abs_pct=[0-9.]+ p90_abs_pct=[0-9.]+).*/\1/')
"$wt" calibrate "$sample" --efficiency "$dir/eff.csv" >"$dir/check.txt"
grep -q "op=elementwise points=30 before: $fitted (eff.csv efficiencies)" "$dir/check.txt" ||
  fail "--efficiency: $(grep op=elementwise "$dir/check.txt"), fitted $fitted"

# --write: the catalogue's file with the device's rows replaced (twice: still once), the rest as it was.
mkdir -p "$dir/root/hw/data" && cp "$repo/hw/data/efficiency.csv" "$dir/root/hw/data/"
(cd "$dir/root" && "$wt" calibrate "$sample" --write >/dev/null && "$wt" calibrate "$sample" --write >/dev/null)
diff <(grep -v '^RTX PRO 6000' "$repo/hw/data/efficiency.csv") <(grep -v '^RTX PRO 6000' "$dir/root/hw/data/efficiency.csv") ||
  fail "other rows changed"
cmp <(grep '^RTX PRO 6000' "$dir/eff.csv" | sort) <(grep '^RTX PRO 6000' "$dir/root/hw/data/efficiency.csv" | sort) ||
  fail "rows differ from --out's"

# A device with rows already (A100): only the fitted operator's rows are replaced; the others keep
# their values and provenance.
mkdir -p "$dir/root2/hw/data" && cp "$repo/hw/data/efficiency.csv" "$dir/root2/hw/data/"
(cd "$dir/root2" && "$wt" calibrate "$dir/mine" --device a100 --write >/dev/null)
diff <(grep -v '^A100-SXM-80GB,sendrecv,' "$repo/hw/data/efficiency.csv") \
  <(grep -v '^A100-SXM-80GB,sendrecv,' "$dir/root2/hw/data/efficiency.csv") || fail "A100's other rows changed"
[ "$(grep -c '^A100-SXM-80GB,sendrecv,.*/mine/a/b/send_recv.csv",' "$dir/root2/hw/data/efficiency.csv")" = 2 ] ||
  fail "A100's send/recv rows not refitted"

# A scenario prices with the file: a different TPOT than the default efficiencies give.
cat >"$dir/scenario.yaml" <<YAML
accelerators:
  RTX PRO 6000 Blackwell Server:
    efficiency_file: eff.csv
cluster:
  nodes:
    - {name: rtx, accelerator: RTX PRO 6000 Blackwell Server, count: 1}
deployments:
  - {name: llama, model: Llama-3.1-8B, accelerator: RTX PRO 6000 Blackwell Server, count: 2}
workload:
  trace: $repo/examples/traces/AzureLLMInferenceTrace_conv.csv
  max_requests: 200
YAML
tpot() { grep -E '^ *tpot ' | awk '{print $2}'; }
"$wt" run "$dir/scenario.yaml" -o "$dir/a.h5" >"$dir/run.txt" 2>&1 || fail "run: $(cat "$dir/run.txt")"
with=$(tpot <"$dir/run.txt")
sed -i 's/^    efficiency_file: eff.csv$/    source: "default efficiencies"/' "$dir/scenario.yaml"
"$wt" run "$dir/scenario.yaml" -o "$dir/b.h5" >"$dir/run0.txt" 2>&1 || fail "run without the file"
without=$(tpot <"$dir/run0.txt")
[ -n "$with" ] && [ "$with" != "$without" ] || fail "TPOT $with with the file, $without without"
# ... and a sane one: the same device's kernels, refitted, move a decode step by percents, not by
# the 20x that an unplaced parameter once gave.
awk -v a="$with" -v b="$without" 'BEGIN { exit !(a < 1.5 * b && b < 1.5 * a) }' ||
  fail "TPOT $with ms with the file, $without ms without"
# A bad file is refused at the scenario's line and the file's.
sed -i 's/^    source: "default efficiencies"$/    efficiency_file: bad.csv/' "$dir/scenario.yaml"
printf 'device,op,param,value\nRTX PRO 6000 Blackwell Server,gemm,warp_frac,0.5\n' >"$dir/bad.csv"
if "$wt" check "$dir/scenario.yaml" 2>"$dir/err.txt" >/dev/null; then fail "bad file accepted"; fi
grep -q "scenario.yaml:3:.*bad.csv:2: unknown parameter gemm.warp_frac" "$dir/err.txt" || fail "message: $(cat "$dir/err.txt")"
echo "ok: TPOT mean $with ms with the fitted file, $without ms with the default efficiencies"

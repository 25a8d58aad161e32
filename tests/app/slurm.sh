#!/usr/bin/env bash
# The Slurm examples, their commands run directly: a stand-in srun (mpirun with SLURM_NTASKS
# ranks) and the variables Slurm sets. serving.slurm writes its timeline and reports into the submit
# folder; sweep.slurm, as array tasks 0 and 1, runs one value each, and the two compare.
# Usage: slurm.sh WINDTUNNEL EXAMPLES_DIR
set -euo pipefail
wt=$1 examples=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
mkdir "$dir/bin" "$dir/submit"
cat >"$dir/bin/srun" <<'SRUN'
#!/usr/bin/env bash
# srun's options are dropped; the command runs on SLURM_NTASKS ranks.
while [[ "$1" == -* ]]; do shift; done
exec timeout --kill-after=5 120 mpirun --allow-run-as-root --oversubscribe -np "${SLURM_NTASKS:-1}" "$@"
SRUN
chmod +x "$dir/bin/srun"
export PATH=$dir/bin:$PATH SLURM_SUBMIT_DIR=$dir/submit SLURM_NTASKS=2 SLURM_CPUS_PER_TASK=1
export WINDTUNNEL=$wt WINDTUNNEL_ARGS="--set workload.max_requests=60"
# From another folder, as a job starts: the scripts go to the submit folder themselves.
cd "$dir"
SLURM_JOB_ID=42 bash "$examples/serving.slurm" >"$dir/serving.log" 2>&1 ||
  fail "serving.slurm: $(tail -20 "$dir/serving.log")"
for file in serving-42.h5 serving-42.report.txt serving-42.report.json; do
  [ -s "$dir/submit/$file" ] || fail "serving.slurm left no $file in the submit folder"
done
grep -q '^requests: 60 total' "$dir/submit/serving-42.report.txt" ||
  fail "serving.slurm's report: $(head -3 "$dir/submit/serving-42.report.txt")"
grep -q '"ranks":2' "$dir/submit/serving-42.report.json" || fail "serving.slurm did not use 2 ranks"
for task in 0 1; do
  SLURM_ARRAY_JOB_ID=7 SLURM_ARRAY_TASK_ID=$task VALUES="1 3" bash "$examples/sweep.slurm" \
    >"$dir/sweep$task.log" 2>&1 || fail "sweep.slurm task $task: $(tail -20 "$dir/sweep$task.log")"
  [ -s "$dir/submit/sweep-7-$task.report.json" ] || fail "sweep task $task left no report"
done
grep -q "workload.rate_scale=3" "$dir/sweep1.log" || fail "task 1 did not take the second value"
"$wt" report "$dir/submit/sweep-7-0.h5" "$dir/submit/sweep-7-1.h5" >"$dir/compare.txt"
# Three times the rate: the same 60 requests arrive in a third of the time.
grep -qE '^  simulated_s \(s\) .* -[0-9.]+%$' "$dir/compare.txt" ||
  fail "the sweep's two runs do not differ as expected: $(cat "$dir/compare.txt")"
if SLURM_ARRAY_TASK_ID=5 VALUES="1 3" bash "$examples/sweep.slurm" >"$dir/bad.log" 2>&1; then
  fail "sweep.slurm accepted array task 5 of 2 values"
fi
echo "PASS: serving.slurm and sweep.slurm ran as Slurm would run them"

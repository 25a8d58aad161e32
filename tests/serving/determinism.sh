#!/usr/bin/env bash
# The serving simulation gives the same timeline content and report at 1, 2 and 4 ranks and 1 and 2
# threads (with WT_TEST_QUICK, in sanitizer builds: 1 x 1 against 2 ranks x 2 threads).
# Usage: determinism.sh WINDTUNNEL COMPARE_TIMELINES SCENARIO [--set k=v ...]
set -euo pipefail
wt=$1 compare=$2 scenario=$3
shift 3
extra=("$@") # --set overrides
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mpi=(mpirun --allow-run-as-root --oversubscribe)
run() { # ranks threads
  "${mpi[@]}" -np "$1" "$wt" run "$scenario" "${extra[@]}" --threads "$2" --quiet \
    -o "$dir/r$1t$2.h5" >/dev/null
  "$wt" report "$dir/r$1t$2.h5" --json --no-wall |
    sed -e 's/"ranks":[0-9]*,"threads":[0-9]*//' >"$dir/r$1t$2.json"
}
configs=(r2t1 r4t1 r1t2 r2t2)
[ -n "${WT_TEST_QUICK:-}" ] && configs=(r2t2)
run 1 1
for config in "${configs[@]}"; do
  ranks=${config#r} ranks=${ranks%t*}
  run "$ranks" "${config#*t}"
done
for config in "${configs[@]}"; do
  "$compare" "$dir/r1t1.h5" "$dir/$config.h5"
  if ! cmp -s "$dir/r1t1.json" "$dir/$config.json"; then
    echo "report differs between 1 rank and $config:" >&2
    diff "$dir/r1t1.json" "$dir/$config.json" >&2 || true
    exit 1
  fi
done
echo "identical at r1t1 and ${configs[*]}: $(head -c 200 "$dir/r1t1.json")"

#!/usr/bin/env bash
# The price cache changes nothing but speed: a scenario run with simulation.price_cache off (one
# rank, one thread) and on (at each rank x thread config given, the caches then split by thread),
# with a row per iteration (output.iterations: all), gives the same rows in every table and the
# same report; and the cache must have been used (hits or misses in --stats).
# Usage: price_cache.sh WINDTUNNEL COMPARE_TIMELINES SCENARIO CONFIGS [--set k=v ...]
#   CONFIGS: comma-separated rRtT (R ranks, T threads) for the cached runs, e.g. r1t1,r2t1,r4t1
#   (with WT_TEST_QUICK, in sanitizer builds: the last of them only)
set -euo pipefail
wt=$1 compare=$2 scenario=$3 configs=$4
shift 4
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mpi=(mpirun --allow-run-as-root --oversubscribe)
run() { # name price_cache ranks threads [--set k=v ...]
  local name=$1 cache=$2 ranks=$3 threads=$4
  shift 4
  local launch=()
  ((ranks > 1)) && launch=("${mpi[@]}" -np "$ranks")
  "${launch[@]}" "$wt" run "$scenario" "$@" --set "simulation.price_cache=$cache" \
    --set output.iterations=all --threads "$threads" --stats --quiet -o "$dir/$name.h5" \
    >"$dir/$name.out"
  "$wt" report "$dir/$name.h5" --json --no-wall |
    sed -e 's/"ranks":[0-9]*,"threads":[0-9]*//' >"$dir/$name.json"
}
run off false 1 1 "$@"
IFS=, read -ra list <<<"$configs"
[ -n "${WT_TEST_QUICK:-}" ] && list=("${list[-1]}") # sanitizer builds: the last config only
for config in "${list[@]}"; do
  ranks=${config#r} ranks=${ranks%t*} threads=${config#*t}
  run "$config" true "$ranks" "$threads" "$@"
  "$compare" "$dir/off.h5" "$dir/$config.h5"
  if ! cmp -s "$dir/off.json" "$dir/$config.json"; then
    echo "report differs between the price cache off and on ($config):" >&2
    diff "$dir/off.json" "$dir/$config.json" >&2 || true
    exit 1
  fi
  looked_up=$(sed -n 's/^price cache: on; \([0-9]*\) hits, \([0-9]*\) misses.*/\1 + \2/p' \
    "$dir/$config.out")
  if [ -z "$looked_up" ] || (($looked_up == 0)); then
    echo "the price cache was not used ($config):" >&2
    grep '^price cache' "$dir/$config.out" >&2 || true
    exit 1
  fi
  echo "identical ($config): $(grep '^price cache' "$dir/$config.out")"
done
if ! grep -q '^price cache: off; 0 hits' "$dir/off.out"; then
  echo "the price cache was used with simulation.price_cache false" >&2
  exit 1
fi

#!/usr/bin/env bash
# `windtunnel plot` on a sweep's results file, for the example studies: every picture of the
# headline metrics against the swept key is drawn (a PNG with its signature, not a blank one; an
# SVG with its root element), one line per value of the second axis, with as many points as
# configurations ran, the max_rate picture only for a max_rate study; a failed configuration is
# left out with a note on stderr and its value marked on the axis of texts; and the data drawn from
# a sweep run at RANKS ranks are byte for byte those of a one-rank sweep.
# Usage: plot_sweep.sh WINDTUNNEL RANKS EXAMPLES
set -euo pipefail
wt=$(realpath "$1") ranks=$2 examples=$(realpath "$3")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
trap 'echo "plot_sweep.sh: line $LINENO failed (status $?): $BASH_COMMAND" >&2' ERR
grid=(sweep_goodput sweep_slo sweep_ttft_p99 sweep_tpot_p99 sweep_output_tokens sweep_energy)

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

sweep() { # NRANKS STUDY RESULTS EXPECTED_STATUS
  run_windtunnel "$wt" "$1" sweep "$2" -o "$3" --quiet
  if [ "$run_status" != "$4" ]; then
    show_run "sweep $2 at $1 ranks"
    fail "sweep exited $run_status, expected $4"
  fi
}

check_pictures() { # PLOTDIR FORMAT PICTURE...
  local plots=$1 format=$2 p
  shift 2
  for p in "$@"; do
    local f=$plots/$p.$format
    if [ "$format" = png ]; then
      [ -s "$f" ] && [ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
        fail "$f missing or not a PNG"
      [ "$(stat -c %s "$f")" -ge 10000 ] || fail "$f is only $(stat -c %s "$f") bytes: blank?"
    else
      grep -q '<svg' "$f" || fail "$f missing or not an SVG"
    fi
  done
}

# series PLOTDIR: how many lines the pictures draw; points PLOTDIR: how many points in all.
series() { grep -c '^# series' "$1/sweep.dat"; }
points() { grep -vc -e '^#' -e '^$' "$1/sweep.dat"; }

# Router policy x instance count: 3 lines (policies) of 3 points (counts).
sweep "$ranks" "$examples/study-routers.yaml" "$dir/routers.h5" 0
"$wt" plot "$dir/routers.h5" -o "$dir/routers" >"$dir/routers.out"
check_pictures "$dir/routers" png "${grid[@]}"
[ "$(wc -l <"$dir/routers.out")" = ${#grid[@]} ] || fail "plot printed $(cat "$dir/routers.out")"
[ ! -e "$dir/routers/sweep_max_rate.png" ] || fail "a max_rate picture for a grid study"
[ "$(series "$dir/routers")" = 3 ] && [ "$(points "$dir/routers")" = 9 ] ||
  fail "routers: $(series "$dir/routers") lines, $(points "$dir/routers") points; expected 3 and 9"
grep -q "set xlabel \"deployments.0.count (instances)\"" "$dir/routers/plots.gp" ||
  fail "the instance count is not on x"
"$wt" plot "$dir/routers.h5" -o "$dir/routers-svg" --format svg >/dev/null
check_pictures "$dir/routers-svg" svg "${grid[@]}"
echo "routers: ${#grid[@]} pictures, 3 lines of 3 points"

# Capacity search: one line, and the highest passing rate between the bounds.
sweep "$ranks" "$examples/study-max-rate.yaml" "$dir/max-rate.h5" 0
"$wt" plot "$dir/max-rate.h5" -o "$dir/max-rate" >/dev/null
check_pictures "$dir/max-rate" png "${grid[@]}" sweep_max_rate
[ "$(series "$dir/max-rate")" = 1 ] && [ "$(points "$dir/max-rate")" = 2 ] ||
  fail "max-rate: $(series "$dir/max-rate") lines, $(points "$dir/max-rate") points"
awk '!/^#/ && NF { if (!($8 >= 1 && $8 < $9 && $9 <= 64)) bad = 1 } END { exit bad }' \
  "$dir/max-rate/sweep.dat" || fail "max_rate outside its bracket: $(cat "$dir/max-rate/sweep.dat")"
echo "max-rate: $((${#grid[@]} + 1)) pictures"

# A failed configuration on an axis of texts: left out, said on stderr, marked on the axis.
cat >"$dir/bad.yaml" <<YAML
base: $examples/default.yaml
set: {workload.max_requests: 100}
axes:
  - list: [{router.policy: round_robin}, {router.policy: no_such_policy}, {router.policy: least_kv}]
YAML
sweep "$ranks" "$dir/bad.yaml" "$dir/bad.h5" 1
"$wt" plot "$dir/bad.h5" -o "$dir/bad" >/dev/null 2>"$dir/bad.err"
check_pictures "$dir/bad" png "${grid[@]}"
grep -q "configuration 1 (router.policy=no_such_policy) failed, left out" "$dir/bad.err" ||
  fail "no note of the failed configuration: $(cat "$dir/bad.err")"
[ "$(points "$dir/bad")" = 2 ] || fail "bad: $(points "$dir/bad") points, expected the 2 that ran"
grep -q 'set xtics ("round_robin" 0, "no_such_policy\\n(failed)" 1, "least_kv" 2)' \
  "$dir/bad/plots.gp" || fail "the policies are not the x ticks: $(grep xtics "$dir/bad/plots.gp")"
echo "a failed configuration is left out and marked"

if [ "$ranks" -gt 1 ]; then
  sweep 1 "$examples/study-routers.yaml" "$dir/one.h5" 0
  "$wt" plot "$dir/one.h5" -o "$dir/one" >/dev/null
  cmp "$dir/one/sweep.dat" "$dir/routers/sweep.dat" ||
    fail "the data drawn differ between a sweep at 1 and at $ranks ranks"
  echo "the data drawn are the same at 1 and $ranks ranks"
fi

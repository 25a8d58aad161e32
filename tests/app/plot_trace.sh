#!/usr/bin/env bash
# `windtunnel plot` and `windtunnel trace` on a timeline written at RANKS ranks: every picture is
# drawn (a PNG with its signature, an SVG with its root element), the trace is valid trace-event
# JSON holding every request, iteration and transfer (tests/app/check_trace.py), with and
# without per-iteration rows, and, at more than one rank, the plot data and the trace are byte for
# byte those of a one-rank run. SVGs are drawn once, for the first timeline.
# Usage: plot_trace.sh WINDTUNNEL CHECK_TRACE RANKS SCENARIO disaggregated|colocated [--set k=v ...]
set -euo pipefail
wt=$(realpath "$1") check=$(realpath "$2") ranks=$3 scenario=$(realpath "$4") kind=$5
shift 5
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
trap 'echo "plot_trace.sh: line $LINENO failed (status $?): $BASH_COMMAND" >&2' ERR
pictures=(latency_cdf throughput queue utilisation_heatmap kv_heatmap power)
[ "$kind" = disaggregated ] && pictures+=(kv_transfers link_utilisation)

run() { # NAME RANKS [--set k=v ...]: the timeline $dir/NAME/run.h5
  local name=$1 n=$2
  shift 2
  mkdir -p "$dir/$name"
  # placement block: every rank writes rows (auto keeps a small run on one partition)
  run_windtunnel "$wt" "$n" run "$scenario" "$@" --set simulation.placement=block --quiet \
    -o "$dir/$name/run.h5"
  if [ "$run_status" != 0 ]; then
    show_run "run $name at $n ranks"
    exit 1
  fi
  "$wt" report "$dir/$name/run.h5" --json >"$dir/$name/report.json"
}

check_pictures() { # NAME
  local name=$1 p
  (cd "$dir/$name" && "$wt" plot run.h5 -o plots >plot.out)
  [ "$name" = aggregated ] && (cd "$dir/$name" && "$wt" plot run.h5 -o svg --format svg >/dev/null)
  for p in "${pictures[@]}"; do
    local png=$dir/$name/plots/$p.png svg=$dir/$name/svg/$p.svg
    if [ ! -s "$png" ] || [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" != 89504e470d0a1a0a ]; then
      echo "$name: $p.png missing or not a PNG" >&2
      exit 1
    fi
    if [ "$(stat -c %s "$png")" -lt 10000 ]; then
      echo "$name: $p.png is only $(stat -c %s "$png") bytes: an empty picture?" >&2
      exit 1
    fi
    if [ "$name" = aggregated ] && ! grep -q '<svg' "$svg"; then
      echo "$name: $p.svg missing or not an SVG" >&2
      exit 1
    fi
  done
  if [ "$kind" != disaggregated ] && ls "$dir/$name/plots/" | grep -q kv_transfers; then
    echo "$name: a KV-transfer picture for a run without transfers" >&2
    exit 1
  fi
  echo "$name: ${#pictures[@]} pictures drawn"
}

check_trace() { # NAME [check_trace.py options]
  local name=$1
  shift
  (cd "$dir/$name" && "$wt" trace run.h5 -o run.json >/dev/null 2>&1)
  python3 "$check" "$dir/$name/run.json" "$dir/$name/report.json" "$@"
}

iterations() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["instances"]["iterations"])' "$1"; }

run aggregated "$ranks" "$@"
check_pictures aggregated
check_trace aggregated
run all "$ranks" "$@" --set output.iterations=all
check_pictures all
check_trace all --iterations "$(iterations "$dir/all/report.json")"
# A window and two instances: only what overlaps them, still valid.
(cd "$dir/all" && "$wt" trace run.h5 -o window.json --from 5s --to 15s --instances 0,1 >/dev/null)
python3 "$check" "$dir/all/window.json" "$dir/all/report.json" --window 5000000 15000000 \
  --instances 0,1

if [ "$ranks" -gt 1 ]; then
  run one 1 "$@" --set output.iterations=all
  check_pictures one >/dev/null
  check_trace one >/dev/null
  for f in "$dir"/one/plots/*.dat "$dir/one/run.json"; do
    other=$dir/all/${f#"$dir"/one/}
    if ! cmp -s "$f" "$other"; then
      echo "$(basename "$f") differs between 1 and $ranks ranks" >&2
      diff "$f" "$other" | head -5 >&2 || true
      exit 1
    fi
  done
  echo "plot data and trace identical at 1 and $ranks ranks"
fi

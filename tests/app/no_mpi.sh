#!/usr/bin/env bash
# Commands that need no MPI run without initialising it: with an Open MPI setting that makes
# MPI_Init fail (a point-to-point layer that does not exist), version, help, check, report and
# calibrate --help still work, and run (which needs MPI) fails. Under mpirun -np 2, rank 0 alone
# prints. Also: version names the git commit and the build type.
# Usage: no_mpi.sh WINDTUNNEL
set -euo pipefail
wt=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
"$wt" run --set workload.max_requests=20 --quiet -o "$dir/a.h5" >/dev/null
broken=(env OMPI_MCA_pml=no_such_layer)
for command in "version" "help" "check" "check --json" "report $dir/a.h5" \
  "report $dir/a.h5 --csv instances" "calibrate --help" "check --help" "report --help"; do
  # shellcheck disable=SC2086 # the command's words
  "${broken[@]}" "$wt" $command >"$dir/out" 2>"$dir/err" ||
    fail "'windtunnel $command' needs MPI: $(head -5 "$dir/err")"
  [ -s "$dir/out" ] || fail "'windtunnel $command' printed nothing"
done
if "${broken[@]}" "$wt" run --set workload.max_requests=20 --quiet -o "$dir/b.h5" \
  >/dev/null 2>&1; then
  fail "run succeeded with MPI broken: this test no longer proves anything"
fi
version=$("$wt" version)
commit='([0-9a-f]{7,}(-dirty)?|unknown)'
pattern="^windtunnel [0-9]+\.[0-9]+\.[0-9]+ \(commit $commit, [A-Za-z]+ build\)$"
grep -qE "$pattern" <<<"$version" || fail "version lacks the commit and build type: $version"
lines=$(timeout 60 mpirun --allow-run-as-root --oversubscribe -np 2 "$wt" report "$dir/a.h5" |
  grep -c '^requests:')
[ "$lines" = 1 ] || fail "report under mpirun -np 2 printed its summary $lines times"
echo "PASS: $version; version, help, check, report and calibrate --help run without MPI"

#!/usr/bin/env bash
# `cmake --install` into a temporary prefix: the installed binary, run from another folder and
# after the prefix is moved, finds the default scenario's trace by its own place (no path fixed
# at build time) or by WINDTUNNEL_DATA; the engine library builds a program through pkg-config
# and through find_package(windtunnel).
# Usage: install.sh BUILD_DIR CONSUMER_SOURCE_DIR [FLAGS]
#   FLAGS: compiler flags the build used that a consumer must use too (the sanitizers)
set -euo pipefail
build=$1 consumer=$2 flags=${3:-}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
unset WINDTUNNEL_DATA # the suite sets it for test programs; an installed binary must not need it
cmake --install "$build" --prefix "$dir/prefix" >"$dir/install.log" ||
  fail "cmake --install failed: $(tail -5 "$dir/install.log")"
for file in bin/windtunnel share/windtunnel/examples/default.yaml \
  share/windtunnel/examples/traces/AzureLLMInferenceTrace_conv.csv \
  share/windtunnel/examples/analyse.py include/windtunnel/core.h lib/libwt_core.a \
  lib/cmake/windtunnel/windtunnelConfig.cmake lib/pkgconfig/windtunnel-core.pc; do
  [ -e "$dir/prefix/$file" ] || fail "cmake --install did not install $file"
done
mkdir "$dir/elsewhere"
run_default() { # WINDTUNNEL: runs the built-in default scenario, briefly, from elsewhere/
  (cd "$dir/elsewhere" && "$1" run --set workload.max_requests=40 --quiet -o out.h5 \
    >run.out 2>&1) ||
    fail "$1 run from another folder: $(cat "$dir/elsewhere/run.out")"
  grep -q '^requests: 40 total' "$dir/elsewhere/run.out" ||
    fail "$1 did not run 40 requests: $(cat "$dir/elsewhere/run.out")"
  rm -f "$dir/elsewhere/out.h5"
}
run_default "$dir/prefix/bin/windtunnel"
mv "$dir/prefix" "$dir/moved"
run_default "$dir/moved/bin/windtunnel"
# A copy of the binary alone finds nothing next to itself: it says so and names WINDTUNNEL_DATA,
# which then points it at the data.
cp "$dir/moved/bin/windtunnel" "$dir/elsewhere/windtunnel"
if (cd "$dir/elsewhere" && ./windtunnel check >check.out 2>&1); then
  fail "a lone binary found data it should not have: $(cat "$dir/elsewhere/check.out")"
fi
grep -q 'set WINDTUNNEL_DATA' "$dir/elsewhere/check.out" ||
  fail "a lone binary's message does not name WINDTUNNEL_DATA: $(cat "$dir/elsewhere/check.out")"
WINDTUNNEL_DATA=$dir/moved/share/windtunnel run_default "$dir/elsewhere/windtunnel"
"$dir/moved/bin/windtunnel" version | grep -q 'commit' || fail "installed version lacks the commit"
# The engine library: pkg-config (the .pc names the prefix it was installed to), and CMake.
mv "$dir/moved" "$dir/prefix"
PKG_CONFIG_PATH=$dir/prefix/lib/pkgconfig
export PKG_CONFIG_PATH
# shellcheck disable=SC2046,SC2086 # pkg-config and $flags give several flags
cc $flags -o "$dir/consumer_pc" "$consumer/consumer.c" \
  $(pkg-config --cflags --libs windtunnel-core) ||
  fail "consumer.c does not build with pkg-config windtunnel-core"
"$dir/consumer_pc" | grep -q '^lps=7$' || fail "the pkg-config consumer gives the wrong answer"
cmake -S "$consumer" -B "$dir/consumer_build" -DCMAKE_PREFIX_PATH="$dir/prefix" \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
  >"$dir/cmake.log" 2>&1 || fail "find_package(windtunnel) failed: $(tail -20 "$dir/cmake.log")"
cmake --build "$dir/consumer_build" >"$dir/build.log" 2>&1 ||
  fail "consumer does not build with windtunnel::core: $(tail -20 "$dir/build.log")"
"$dir/consumer_build/consumer" | grep -q '^lps=7$' ||
  fail "the CMake consumer gives the wrong answer"
echo "PASS: installed, ran from another folder and after a move, built two consumers"

#!/bin/bash
# Builds the policy parsers' libFuzzer targets with clang (ASan + UBSan) in a
# build directory of their own and runs each for SECONDS (default 20) from the
# seeds in tests/fuzz/corpus/<target>/. New inputs and crash files stay in the
# build directory. Exit status: 0 when every target ran clean.
#   run-fuzzers.sh [SECONDS]    env: FUZZ_BUILD_DIR (default <repo>/build-fuzz)
set -euo pipefail
secs=${1:-20}
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$src/build-fuzz}
targets=(fuzz_mxc_policy fuzz_policy_yaml fuzz_mxc_wire)

if ! command -v clang++ >/dev/null; then
  echo "SKIP: clang++ is not installed"
  exit 77
fi

# The libraries the targets link are instrumented too (fuzzer-no-link), so the
# fuzzer sees coverage of the parsers and ASan checks their memory accesses.
# Shared libstdc++: sanitizer runtimes and a static libstdc++ do not mix.
mkdir -p "$build"
cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMXC_FUZZ=ON -DMXC_WERROR=OFF -DMXC_STATIC_LIBSTDCXX=OFF \
  "-DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" \
  >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j2 --target "${targets[@]}" >"$build/build.log" 2>&1 ||
  { tail -50 "$build/build.log"; exit 1; }

status=0
for t in "${targets[@]}"; do
  work=$build/fuzz-work/$t
  mkdir -p "$work/corpus"
  echo "== $t: ${secs}s"
  if ! "$build/bin/$t" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" "$src/tests/fuzz/corpus/$t" \
    >"$work/log" 2>&1; then
    echo "FAIL: $t found a crash (artifacts in $work/):"
    grep -E "ERROR|SUMMARY|Test unit written|==[0-9]+==" "$work/log" | head -20
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::new_units_added" "$work/log" | tr '\n' ' '
    echo
  fi
done
exit $status

#!/usr/bin/env bash
# Configures and builds into build/ (BUILD_DIR to change it).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$top/build}
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-MinSizeRel} >/dev/null
cmake --build "$build" -j"$(nproc)"

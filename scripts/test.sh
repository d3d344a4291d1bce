#!/usr/bin/env bash
# Installs what is missing, builds everything (tests and benchmarks) and runs every test.
# Usage: bash scripts/test.sh            (build dir: build/test, override with OTPD_BUILD_DIR)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/deps.sh"
build=${OTPD_BUILD_DIR:-$root/build/test}
jobs=$(nproc)
mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DOTPD_BUILD_TESTS=ON -DOTPD_BUILD_BENCH=ON \
  >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j "$jobs"
ctest --test-dir "$build" -j "$jobs" --output-on-failure --timeout 300

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
# Each libFuzzer target for a bounded time on its committed corpus (docs/hardening.md).
OTPD_FUZZ_SECONDS=${OTPD_FUZZ_SECONDS:-15} bash "$root/scripts/fuzz.sh"
# The sanitizer builds take 30+ minutes cold on 2 cores, beyond the suite's time budget: they run
# when asked for, e.g. OTPD_SANITIZE=asan (or tsan, or all) bash scripts/test.sh.
if [ -n "${OTPD_SANITIZE:-}" ]; then
  bash "$root/scripts/sanitize.sh" "$OTPD_SANITIZE"
fi

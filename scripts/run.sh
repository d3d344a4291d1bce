#!/usr/bin/env bash
# Installs what is missing, builds otpd in Release and shows it working on the demo tokens.
# Usage: bash scripts/run.sh             (build dir: build/release, data dir: ./data)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/deps.sh"
build=${OTPD_BUILD_DIR:-$root/build/release}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DOTPD_BUILD_TESTS=OFF \
  -DOTPD_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target otpctl

echo "Current code of the demo token DEMO0001 (alice@example.com):"
"$build/tools/otpctl" code --secret-file "$root/fixtures/demo/alice.b32"

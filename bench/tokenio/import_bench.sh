#!/usr/bin/env bash
# Import benchmark: N tokens (default 100 000) from an Entra CSV file and from a pre-shared-key
# PSKC file, each into a fresh data directory, with wall time and peak RSS.
# Usage: bash bench/tokenio/import_bench.sh [N] [BUILD_DIR]   (a Release build with benchmarks)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-100000}
build=${2:-$root/build/release-bench}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DOTPD_BUILD_TESTS=OFF \
  -DOTPD_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target otpctl make_token_files >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/bench/tokenio/make_token_files" "$n" "$work"
chmod 600 "$work/batch.psk"  # a key file others may read is refused
ls -l "$work"/batch.csv "$work"/batch.pskc | awk '{print $5, $9}'
for f in batch.csv batch.pskc; do
  extra=()
  [ "$f" = batch.pskc ] && extra=(--psk-file "$work/batch.psk")
  "$build/tools/otpctl" init --data-dir "$work/data-$f" --key-file "$work/data-$f.key" >/dev/null
  /usr/bin/time -f "$f: %e s wall, %M KiB peak RSS" \
    "$build/tools/otpctl" import "$work/$f" --data-dir "$work/data-$f" \
    --key-file "$work/data-$f.key" "${extra[@]}"
done

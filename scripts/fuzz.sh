#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (ASan + UBSan) and runs each for a bounded
# time, starting from the committed seed corpus fuzz/corpus/<target>/. New inputs go to
# <build>/work/<target>/ (the committed corpus is not modified); a crash, leak, timeout or
# invariant violation fails the script, and its input is left in <build>/artifacts/.
# Usage: bash scripts/fuzz.sh [target...]   (default: all)
#   OTPD_FUZZ_SECONDS    seconds per target (default 30)
#   OTPD_FUZZ_BUILD_DIR  build to use (default build/fuzz); scripts/test.sh passes its own
# To turn a crash into a regression test: copy the artifact into the target's corpus and add a
# case with its bytes to tests/hardening/fuzz_regression_test.cc (docs/hardening.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${OTPD_FUZZ_BUILD_DIR:-$root/build/fuzz}
seconds=${OTPD_FUZZ_SECONDS:-30}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(protocol_fuzzer admin_request_fuzzer validate_request_fuzzer codec_fuzzer otpauth_fuzzer entra_csv_fuzzer oath_csv_fuzzer
           pskc_fuzzer pskc_encrypted_fuzzer)
fi
start=$SECONDS
# A build made by scripts/test.sh already has the targets; otherwise configure a fuzz-only one.
if ! grep -q '^OTPD_BUILD_FUZZ:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
  mkdir -p "$build"
  cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOTPD_BUILD_FUZZ=ON -DOTPD_BUILD_TESTS=OFF -DOTPD_BUILD_BENCH=OFF \
    >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
fi
cmake --build "$build" -j "$(nproc)" --target "${targets[@]}"
echo "fuzz build: $((SECONDS - start)) s"

failed=()
for t in "${targets[@]}"; do
  work=$build/work/$t
  mkdir -p "$work" "$build/artifacts"
  # -timeout: one input may take at most 10 s; -rss_limit_mb bounds memory per input.
  if ! "$build/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" \
      "$work" "$root/fuzz/corpus/$t" >"$build/$t.log" 2>&1; then
    failed+=("$t")
    tail -40 "$build/$t.log"
  fi
  runs=$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$build/$t.log" | grep -o '[0-9]*$' || echo 0)
  echo "fuzz $t: $runs inputs in ${seconds} s"
done
echo "fuzz total: $((SECONDS - start)) s"
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: FAILED ${failed[*]} (inputs in $build/artifacts/)" >&2
  exit 1
fi

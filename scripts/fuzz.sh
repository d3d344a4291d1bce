#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (ASan + UBSan) and runs each for a bounded
# time, starting from the committed seed corpus fuzz/corpus/<target>/. New inputs go to
# build/fuzz/work/<target>/ (the committed corpus is not modified); a crash, leak, timeout or
# invariant violation fails the script, and its input is left in build/fuzz/artifacts/.
# Usage: bash scripts/fuzz.sh [target...]   (default: all)
#   OTPD_FUZZ_SECONDS  seconds per target (default 30)
# To turn a crash into a regression test: copy the artifact into the target's corpus and add a
# case with its bytes to tests/hardening/fuzz_regression_test.cc (docs/hardening.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build/fuzz
seconds=${OTPD_FUZZ_SECONDS:-30}
# Let ccache reuse objects built in another checkout of the same sources (CI clones into a fresh
# folder): paths are hashed relative to the tree, and the working directory is not hashed (the
# debug info of these throw-away builds may then name the other checkout's paths).
export CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=1
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(protocol_fuzzer codec_fuzzer otpauth_fuzzer entra_csv_fuzzer oath_csv_fuzzer
           pskc_fuzzer pskc_encrypted_fuzzer)
fi
start=$SECONDS
mkdir -p "$build"
# clang warns where gcc does not; see scripts/sanitize.sh.
CC=clang CXX=clang++ cmake -S "$root/fuzz" -B "$build" \
  -DCMAKE_CXX_FLAGS="-Wno-error=unused-private-field" >"$build/configure.log" 2>&1 \
  || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc)" --target "${targets[@]}"
echo "fuzz build: $((SECONDS - start)) s"

failed=()
for t in "${targets[@]}"; do
  work=$build/work/$t
  mkdir -p "$work" "$build/artifacts"
  # -timeout: one input may take at most 10 s; -rss_limit_mb bounds memory per input.
  if ! "$build/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
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

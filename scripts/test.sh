#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test (what CI runs: .ci/run).
#   1. One clang build with AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer on) and
#      libFuzzer's coverage instrumentation: libraries, tools, tests, benchmarks and fuzz targets
#      (build/test). The whole GoogleTest suite runs there, and the otpd and otpctl processes
#      that the end-to-end tests start are instrumented too.
#   2. Each libFuzzer target for a bounded time on its committed corpus (scripts/fuzz.sh, same
#      build).
#   3. A clang build with ThreadSanitizer of the server, commit-pipeline and sign-in tests
#      (build/tsan): server_test, hooks_test, storage_test and service_test (the fence and replay
#      races);
#      OTPD_TSAN=all adds e2e_test and tools_test.
#   4. A GCC build of everything in Release (build/gcc-release), the way a packager builds, so
#      that GCC-only warnings cannot creep in.
#   5. The README's blocks after "Using it", run in order on that build as a reader would
#      (tests/docs/readme_test.sh).
#   6. The Debian package made from that build, installed, started, upgraded, removed and purged
#      on this machine (scripts/package_test.sh, docs/install.md).
# Every build here treats warnings as errors (OTPD_WERROR); a plain cmake build does not.
# Usage: bash scripts/test.sh
#   OTPD_BUILD_DIR, OTPD_TSAN_BUILD_DIR  build directories (default build/test, build/tsan)
#   OTPD_GCC_BUILD_DIR                   (default build/gcc-release)
#   OTPD_FUZZ_SECONDS                    seconds per fuzz target (default 15)
#   OTPD_TSAN                            "all" for the wider ThreadSanitizer set
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/deps.sh"
jobs=$(nproc)
build=${OTPD_BUILD_DIR:-$root/build/test}
tsan_build=${OTPD_TSAN_BUILD_DIR:-$root/build/tsan}
gcc_build=${OTPD_GCC_BUILD_DIR:-$root/build/gcc-release}
start=$SECONDS
# Let ccache reuse objects built in another checkout of the same sources (CI clones into a fresh
# folder): paths are hashed relative to the tree, and the working directory is not hashed.
export CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=1

configure() {  # dir cmake-args...
  local dir=$1
  shift
  mkdir -p "$dir"
  cmake -S "$root" -B "$dir" "$@" >"$dir/configure.log" 2>&1 || { cat "$dir/configure.log"; exit 1; }
}
stage() { echo "== test.sh: $1 ($((SECONDS - start)) s)"; }

# -O0 (Debug): with the sanitizers, -O1 doubles the compile time and gains less at run time.
stage "ASan + UBSan build"
configure "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
  -DOTPD_BUILD_FUZZ=ON -DOTPD_BUILD_TESTS=ON -DOTPD_BUILD_BENCH=ON -DOTPD_WERROR=ON
cmake --build "$build" -j "$jobs"

# halt_on_error: the first report fails the test, also inside the otpd children of the e2e tests
# (they inherit the environment). Memory bounds are reported but not asserted in sanitized builds
# (tests/testing/sanitized.h).
stage "test suite under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
LSAN_OPTIONS=suppressions=$root/scripts/lsan.supp \
  ctest --test-dir "$build" -j "$jobs" --output-on-failure --timeout 300

stage "fuzzing"
OTPD_FUZZ_BUILD_DIR=$build OTPD_FUZZ_SECONDS=${OTPD_FUZZ_SECONDS:-15} bash "$root/scripts/fuzz.sh"

# clang: gcc 12's TSan cannot unwind through Debian's RocksDB (built without frame pointers), so
# races inside it cannot be matched to scripts/tsan.supp there.
stage "TSan build"
tsan_tests=(storage_test server_test hooks_test service_test)
skip="base;engine;tokenio;tools;e2e;hardening;pam;browser;graph_sdk"
if [ "${OTPD_TSAN:-}" = all ]; then
  tsan_tests+=(e2e_test tools_test)
  skip="base;engine;tokenio;hardening;pam;browser;graph_sdk"
fi
configure "$tsan_build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=-O1 -DCMAKE_CXX_FLAGS=-O1 \
  -DOTPD_SANITIZE=thread -DOTPD_BUILD_TESTS=ON -DOTPD_BUILD_BENCH=OFF -DOTPD_WERROR=ON \
  -DOTPD_SKIP_TEST_DIRS="$skip"
cmake --build "$tsan_build" -j "$jobs" --target "${tsan_tests[@]}"

# RocksDB, OpenSSL and the other Debian libraries are not instrumented: scripts/tsan.supp holds
# the few reports whose frames are only theirs (docs/hardening.md).
stage "server, commit-pipeline and sign-in tests under TSan"
TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/scripts/tsan.supp" \
  ctest --test-dir "$tsan_build" -j "$jobs" --output-on-failure --timeout 300
stage "GCC Release build"
# Installed under /usr, as the package installs it (the prefix changes no compiled object).
configure "$gcc_build" -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=Release \
  -DOTPD_BUILD_TESTS=ON -DOTPD_BUILD_BENCH=ON -DOTPD_WERROR=ON -DCMAKE_INSTALL_PREFIX=/usr
cmake --build "$gcc_build" -j "$jobs"

# The README, followed in order as written (on the Release build: it starts otpd as a reader
# would, with fixed ports, so it runs alone here rather than inside the parallel ctest).
stage "README blocks in order"
timeout 600 bash "$root/tests/docs/readme_test.sh" "$gcc_build"

# The package of that build: built, linted, installed and exercised as root, then purged (the
# machine is left as it was). Bounded: it takes about a minute.
stage "Debian package"
timeout 900 bash "$root/scripts/package_test.sh" "$gcc_build"
stage "all passed"

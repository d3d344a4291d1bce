# Shared by the daemon benchmarks that run sign-ins beside other work (admin_bench.sh,
# password_bench.sh); sourced, not run, with the script's arguments [N] [SECONDS] [BUILD_DIR]:
# sets $root, $n (tokens to seed, default 100 000), $seconds (per run, default 15) and $build
# (default build/release-bench). bench_prepare builds the release binaries and the given extra
# targets and seeds $n activated HOTP tokens into a fresh data directory under $work. Also:
#   start_otpd            starts otpd (durability sync) and waits until it serves
#   loadgen DUR RATE [MAX] 64 connections x 16 deep of valid codes, paced at RATE/s (0: as fast as
#                         it answers); the tokens' next codes are kept for the next run
# The daemon is killed and $work removed on exit.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
n=${1:-100000}
seconds=${2:-15}
build=${3:-$root/build/release-bench}

bench_prepare() {  # extra build targets...
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DOTPD_BUILD_TESTS=OFF \
    -DOTPD_BUILD_BENCH=ON >/dev/null
  cmake --build "$build" -j "$(nproc)" --target otpd otpctl otpd-loadgen "$@" >/dev/null
  work=$(mktemp -d "${TMPDIR:-/var/tmp}/otpd-bench-XXXXXX")
  pid=
  trap 'bench_cleanup' EXIT
  "$build/tools/otpctl" init --data-dir "$work/data" --key-file "$work/master.key" >/dev/null
  "$build/tools/otpctl" seed-load --count "$n" --data-dir "$work/data" \
    --key-file "$work/master.key" --tokens-out "$work/tokens.csv"
  cp "$work/tokens.csv" "$work/upns.csv"
}

bench_cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}

start_otpd() {  # extra otpd arguments...
  "$build/tools/otpd" --data-dir "$work/data" --key-file "$work/master.key" "$@" \
    2>"$work/otpd.log" &
  pid=$!
  for _ in $(seq 300); do grep -q started "$work/otpd.log" && return 0; sleep 0.2; done
  echo "otpd did not start:" >&2
  cat "$work/otpd.log" >&2
  return 1
}

loadgen() {  # duration rate [max_requests]
  "$build/bench/server/otpd-loadgen" --unix "$work/data/verify.sock" --connections 64 \
    --depth 16 --duration "$1" --rate "$2" --max-requests "${3:-0}" \
    --tokens "$work/tokens.csv" --save-tokens "$work/next.csv" | grep -v '^reason note'
  mv "$work/next.csv" "$work/tokens.csv"
}

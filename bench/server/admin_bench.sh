#!/usr/bin/env bash
# Admin API benchmark against the real daemon: seeds N activated HOTP tokens (default 100 000),
# starts otpd (durability sync), loads every user once, then measures
#   1. sign-ins alone, paced at 30 000 valid codes/s (otpd-loadgen --rate);
#   2. admin reads alone, then admin writes alone (otpd-adminload, 4 connections, admin.sock);
#   3. the same sign-ins with admin reads running, then with admin writes running.
# Prints each run's line. Usage: bash bench/server/admin_bench.sh [N] [SECONDS] [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-100000}
seconds=${2:-15}
build=${3:-$root/build/release-bench}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DOTPD_BUILD_TESTS=OFF \
  -DOTPD_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target otpd otpctl otpd-loadgen otpd-adminload >/dev/null
work=$(mktemp -d "${TMPDIR:-/var/tmp}/otpd-admin-bench-XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$build/tools/otpctl" init --data-dir "$work/data" --key-file "$work/master.key" >/dev/null
"$build/tools/otpctl" seed-load --count "$n" --data-dir "$work/data" --key-file "$work/master.key" \
  --tokens-out "$work/tokens.csv"
cp "$work/tokens.csv" "$work/upns.csv"
"$build/tools/otpd" --data-dir "$work/data" --key-file "$work/master.key" 2>"$work/otpd.log" &
pid=$!
for _ in $(seq 300); do grep -q started "$work/otpd.log" && break; sleep 0.2; done

loadgen() {  # duration rate [max_requests]
  "$build/bench/server/otpd-loadgen" --unix "$work/data/verify.sock" --connections 64 \
    --depth 16 --duration "$1" --rate "$2" --max-requests "${3:-0}" \
    --tokens "$work/tokens.csv" --save-tokens "$work/next.csv" | grep -v '^reason note'
  mv "$work/next.csv" "$work/tokens.csv"
}
adminload() {  # mix
  "$build/bench/server/otpd-adminload" --unix "$work/data/admin.sock" --connections 4 \
    --duration "$seconds" --mix "$1" --tokens "$work/upns.csv"
}

echo "== warm-up: loading every user"
loadgen 600 0 $((n * 6 / 5)) >/dev/null
echo "== sign-ins alone, paced at 30 000/s"
loadgen "$seconds" 30000
for mix in read write; do
  echo "== admin ${mix}s alone"
  adminload "$mix"
done
for mix in read write; do
  echo "== sign-ins paced at 30 000/s with admin ${mix}s"
  adminload "$mix" &
  admin=$!
  loadgen "$seconds" 30000
  wait "$admin"
done

#!/usr/bin/env bash
# Admin API benchmark against the real daemon: seeds N activated HOTP tokens (default 100 000),
# starts otpd (durability sync), loads every user once, then measures
#   1. sign-ins alone, paced at 30 000 valid codes/s (otpd-loadgen --rate);
#   2. admin reads alone, then admin writes alone (otpd-adminload, 4 connections, admin.sock);
#   3. the same sign-ins with admin reads running, then with admin writes running.
# Prints each run's line. Usage: bash bench/server/admin_bench.sh [N] [SECONDS] [BUILD_DIR]
set -euo pipefail
# shellcheck source=bench/server/daemon_env.sh
. "$(dirname "$0")/daemon_env.sh"
bench_prepare otpd-adminload
start_otpd

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

#!/usr/bin/env bash
# Passwords beside sign-ins: scrypt is slow on purpose (about 32 MiB and tens of milliseconds a
# hash at the default cost), so PASSWORD runs on a small hashing pool of its own at a lower
# priority. This shows what that leaves the sign-ins. Seeds N activated HOTP tokens (default
# 100 000), gives 8 of the users a password, starts otpd (durability sync), loads every user once,
# then measures
#   1. sign-ins alone: paced at 30 000 valid codes/s, then as fast as otpd answers;
#   2. PASSWORD alone, 16 connections, as fast as otpd answers (scrypt at its own maximum);
#   3. both sign-in runs again with PASSWORD running at its maximum beside them.
# Usage: bash bench/server/password_bench.sh [N] [SECONDS] [BUILD_DIR]
set -euo pipefail
# shellcheck source=bench/server/daemon_env.sh
. "$(dirname "$0")/daemon_env.sh"
bench_prepare

users=$(sed -n '2,9p' "$work/upns.csv" | cut -d, -f1 | paste -sd, -)
(umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$work/password")
for user in ${users//,/ }; do
  "$build/tools/otpctl" user --data-dir "$work/data" --key-file "$work/master.key" \
    reset-password "$user" --password-file "$work/password" >/dev/null
done
start_otpd

passwords() {
  python3 "$root/bench/server/password_load.py" --unix "$work/data/verify.sock" \
    --users "$users" --password-file "$work/password" --connections 16 --duration "$seconds"
}

echo "== warm-up: loading every user"
loadgen 600 0 $((n * 6 / 5)) >/dev/null
echo "== sign-ins alone, paced at 30 000/s"
loadgen "$seconds" 30000
echo "== sign-ins alone, as fast as otpd answers"
loadgen "$seconds" 0
echo "== PASSWORD alone"
passwords
for rate in 30000 0; do
  echo "== sign-ins at rate=$rate (0: as fast as otpd answers) with PASSWORD at its maximum"
  passwords &
  background=$!
  loadgen "$seconds" "$rate"
  wait "$background"
done

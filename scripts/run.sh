#!/usr/bin/env bash
# Installs what is missing, builds otpd in Release, and starts it on its embedded default: RocksDB
# under ./data with its master key in ./master.key (outside the data directory, git-ignored), the
# demo tokens imported, one demo token activated, and one sample verification over the verify
# socket. otpd keeps running in the background; stop it with
#   kill "$(cat data/otpd.pid)"
# Usage: bash scripts/run.sh
#   (OTPD_BUILD_DIR, OTPD_DATA_DIR and OTPD_KEY_FILE override the defaults)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/deps.sh"
build=${OTPD_BUILD_DIR:-$root/build/release}
data=${OTPD_DATA_DIR:-$root/data}
key=${OTPD_KEY_FILE:-$root/master.key}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DOTPD_BUILD_TESTS=OFF \
  -DOTPD_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target otpd otpctl
otpctl="$build/tools/otpctl"

# A daemon from an earlier run holds the data directory: stop it first.
if [ -f "$data/otpd.pid" ] && kill -0 "$(cat "$data/otpd.pid")" 2>/dev/null; then
  kill "$(cat "$data/otpd.pid")"
  for _ in $(seq 50); do kill -0 "$(cat "$data/otpd.pid")" 2>/dev/null || break; sleep 0.1; done
fi

# Every otpctl command below reads the data directory and the key file from these.
export OTPD_DATA_DIR=$data OTPD_KEY_FILE=$key
# A data directory from an earlier version kept its key inside: move it out, as otpctl advises.
if [ -f "$data/master.key" ] && [ ! -e "$key" ]; then
  echo "== moving $data/master.key to $key (the key must not live in the data directory)"
  mv "$data/master.key" "$key"
fi
if [ ! -e "$data/CURRENT" ]; then
  echo "== creating the data directory $data (master key: $key)"
  "$otpctl" init
fi
echo "== importing the demo tokens (fixtures/demo/tokens.csv) into $data"
"$otpctl" import "$root/fixtures/demo/tokens.csv" || true
if ! "$otpctl" token show DEMO0001 | grep -q 'status: *activated'; then
  echo "== activating DEMO0001 (alice@example.com) with the code it shows now"
  # The code goes through standard input, not the command line (where ps would show it).
  "$otpctl" code --secret-file "$root/fixtures/demo/alice.b32" | "$otpctl" token activate DEMO0001
fi
"$otpctl" token list

echo "== starting otpd (log: $data/otpd.log)"
setsid nohup "$build/tools/otpd" --data-dir "$data" --key-file "$key" >"$data/otpd.log" 2>&1 \
  </dev/null &
echo $! >"$data/otpd.pid"
for _ in $(seq 100); do [ -S "$data/verify.sock" ] && break; sleep 0.1; done
if ! kill -0 "$(cat "$data/otpd.pid")" 2>/dev/null; then
  cat "$data/otpd.log"
  exit 1
fi

code=$("$otpctl" code --secret-file "$root/fixtures/demo/alice.b32" --time $(($(date +%s) + 30)))
echo "== VERIFY alice@example.com with the code her token shows next"
"$otpctl" verify --socket "$data/verify.sock" --user alice@example.com "$code" || true
echo "== the same code again (replay protection)"
"$otpctl" verify --socket "$data/verify.sock" --user alice@example.com "$code" || true
echo "otpd is running (pid $(cat "$data/otpd.pid")); stop it with: kill \$(cat $data/otpd.pid)"

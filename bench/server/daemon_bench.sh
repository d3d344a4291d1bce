#!/usr/bin/env bash
# Verify-socket benchmark against the real daemon: seeds N activated HOTP tokens (default
# 1 000 000) into a fresh data directory, starts otpd (durability sync), measures each user's
# first sign-in (cold), loads every user into its cache once, then runs otpd-loadgen over the
# Unix socket:
#   64 connections, depth 1, 2 and 16, valid codes (accepted) and wrong codes (rejected, also at
#   depth 3 and 4); 1 connection, strict request/response; and paced runs at the goal rates
#   (30 000 accepted/s, 60 000 rejected/s; otpd-loadgen --rate).
# The valid-code runs come first: wrong codes count failures, and a user with five is locked out
# (a cheap answer that would flatter the later runs).
#
# Every run is repeated, with the same otpd-loadgen arguments (for at most 5 s), against
# otpd-null: otpd's own verify server answering OK to every request without doing anything
# (bench/server/null_server.cc), the ceiling of the listener, the protocol and the load generator
# on this machine at this moment. Each row reports otpd's rate (accepted/s for valid codes,
# answered/s for wrong ones), the null's answered/s, otpd's rate as a percentage of it, and
# otpd's p99. The null answers OK to wrong codes too: their rows are still compared with its rate,
# the transport's ceiling, not with a server that rejects.
#
# Prints each run, a summary line per run, the table of them all at the end, the daemon's RSS,
# and the disk's fdatasync latency measured right after.
# Usage: bash bench/server/daemon_bench.sh [N] [SECONDS_PER_RUN] [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-1000000}
seconds=${2:-15}
build=${3:-$root/build/release-bench}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DOTPD_BUILD_TESTS=OFF \
  -DOTPD_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target otpd otpctl otpd-loadgen otpd-null >/dev/null
work=$(mktemp -d "${TMPDIR:-/var/tmp}/otpd-bench-XXXXXX")
pid=
null_pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  [ -n "$null_pid" ] && kill "$null_pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

wait_started() {  # log pid
  for _ in $(seq 300); do
    grep -q started "$1" && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.2
  done
  echo "$(basename "$1" .log) did not start:" >&2
  cat "$1" >&2
  return 1
}

# The master key lives next to the data directory, never in it (docs/operations.md).
"$build/tools/otpctl" init --data-dir "$work/data" --key-file "$work/master.key" >/dev/null
"$build/tools/otpctl" seed-load --count "$n" --data-dir "$work/data" --key-file "$work/master.key" \
  --tokens-out "$work/tokens.csv"
"$build/tools/otpd" --data-dir "$work/data" --key-file "$work/master.key" 2>"$work/otpd.log" &
pid=$!
wait_started "$work/otpd.log" "$pid"
"$build/bench/server/otpd-null" --unix "$work/null.sock" 2>"$work/null.log" &
null_pid=$!
wait_started "$work/null.log" "$null_pid"
rss() { awk '/VmRSS/ {print $2 " KiB"}' "/proc/$pid/status"; }
echo "otpd up with $n tokens, RSS $(rss); otpd-null up"

# The rate otpd reached: accepted/s for valid codes, answered/s for wrong ones; then otpd's p99.
rate_of() {  # loadgen_output wrong_ratio
  awk -v wrong="$2" '
    /^connections=/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
    /^latency_us/ { split($4, kv, "="); p99 = kv[2] }
    /^reason ok=/ { split($2, kv, "="); ok = kv[2] }
    END {
      rate = wrong > 0 ? f["throughput_rps"] : ok / f["duration_s"]
      printf "%.0f %d\n", rate, p99
    }' "$1"
}

summary=()
# Runs otpd-loadgen against otpd (the tokens' next codes kept for the next run), then with the
# same arguments against otpd-null, and prints the row's summary line.
row() {  # label connections depth wrong_ratio duration [rate [max_requests]]
  local label=$1
  shift
  local args=(--connections "$1" --depth "$2" --wrong-ratio "$3" --rate "${5:-0}"
    --max-requests "${6:-0}" --tokens "$work/tokens.csv")
  local null_duration
  null_duration=$(awk -v d="$4" 'BEGIN { print (d < 5 ? d : 5) }')
  "$build/bench/server/otpd-loadgen" --unix "$work/data/verify.sock" "${args[@]}" \
    --duration "$4" --save-tokens "$work/next.csv" | grep -v '^reason note' | tee "$work/run.out"
  "$build/bench/server/otpd-loadgen" --unix "$work/null.sock" "${args[@]}" \
    --duration "$null_duration" >"$work/null.out"
  mv "$work/next.csv" "$work/tokens.csv"
  local otpd_rate p99 null_rate
  read -r otpd_rate p99 < <(rate_of "$work/run.out" "$3")
  null_rate=$(awk -F'throughput_rps=' '/^connections=/ { split($2, v, " "); print v[1] }' \
    "$work/null.out")
  local line
  line=$(awk -v l="$label" -v o="$otpd_rate" -v z="$null_rate" -v p="$p99" -v w="$3" 'BEGIN {
    printf "| %s | %s | %d | %d | %.1f%% | %.1f ms |", l, (w > 0 ? "answered" : "accepted"), o, z,
      (z > 0 ? 100 * o / z : 0), p / 1000 }')
  echo "-- $line"
  summary+=("$line")
}

# Each user's first sign-in after the start: loads it from the store into the cache. Connection
# i walks tokens i, i + 64, ... round robin, so no user is reached twice while no connection sends
# more than its N / 64 tokens; at most 0.9 N requests leave room for connections running unevenly.
# A user whose counter moved twice was reached twice: the row then also measured cached users.
echo "== cold: each user's first sign-in, connections=64 depth=1"
cp "$work/tokens.csv" "$work/before-cold.csv"
row "cold 64x1" 64 1 0 4 0 $((n * 9 / 10))
twice=$(awk -F, 'FNR == 1 { next } NR == FNR { before[FNR] = $3; next }
  $3 - before[FNR] > 1 { t++ } END { print t + 0 }' "$work/before-cold.csv" "$work/tokens.csv")
if [ "$twice" -gt 0 ]; then
  echo "WARNING: the cold run reached $twice users more than once: seed more tokens than $n"
fi

# Every user once, so the runs below measure the steady state, not first loads. Each connection
# walks its share of the tokens round robin, so 1.2 N requests reach every user.
echo "== warm-up: loading every user"
row "warm-up 64x16" 64 16 0 600 0 $((n * 6 / 5))
echo "RSS after warm-up: $(rss)"
# A fourth field R: paced at R requests/s (open loop, latency from when each request was due), up
# to 64 x 16 in flight. Wrong codes start with depth 3 and 4, the closed-loop runs that meet
# 60 000/s; every wrong code is a failure, and after about five runs some users are locked
# (answered `locked`, cheaply: the reason counts show it).
for run in "64 16 0 30000" "64 1 0" "64 2 0" "64 16 0" "1 1 0" "64 3 1" "64 4 1" "64 16 1 60000" \
    "64 1 1" "64 2 1" "64 16 1"; do
  set -- $run
  echo "== connections=$1 depth=$2 wrong_ratio=$3${4:+ rate=$4}"
  row "$1x$2 $([ "$3" = 0 ] && echo valid || echo wrong)${4:+ paced $4/s}" "$1" "$2" "$3" \
    "$seconds" "${4:-0}"
done
echo "RSS at the end: $(rss)"
echo "== otpd against otpd-null (the same loadgen arguments, null runs of at most 5 s)"
echo "| run | otpd counts | otpd /s | null /s | otpd / null | otpd p99 |"
echo "|---|---|---:|---:|---:|---:|"
printf '%s\n' "${summary[@]}"
python3 - "$work/fsync.probe" <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
t = []
for _ in range(200):
    s = time.perf_counter(); os.write(fd, b"x" * 200); os.fdatasync(fd); t.append(time.perf_counter() - s)
t.sort()
print("disk fdatasync: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms" % (t[100] * 1e3, t[180] * 1e3, t[198] * 1e3))
PY

#!/usr/bin/env bash
# Side by side (docs/benchmarks-peers.md): sign-ins with valid HOTP codes for distinct users,
#   1. otpd's verify socket, driven by otpd-loadgen (pipelined clients over the Unix socket);
#   2. otpd through a process per sign-in (`otpctl verify`), the shape pamtester has;
#   3. pam_oath (libpam-oath, one usersfile) through pamtester;
#   4. pam_google_authenticator (libpam-google-authenticator, one secret file per user) through
#      pamtester;
#   5. pam_permit through pamtester: what pamtester and PAM cost without any OTP check;
#   6. pam_otpd (this repository's PAM module) through pamtester, asking the same otpd over its
#      Unix socket: what the module adds to pam_permit's cost, measured apart and then paired
#      with pam_permit (bench/peers/paired_driver.py: sign-ins of both interleaved, so both see
#      the same background load), also against otpd with `--durability relaxed` to tell the
#      module's own cost from otpd's fsync;
# then otpd's memory and latency with 10 000, 100 000 and 1 000 000 tokens.
#
# Usage: bash bench/peers/run.sh
#   OTPD_PEERS_SIGNINS   sign-ins per contender (default 2000)
#   OTPD_PEERS_PARALLEL  concurrent sign-ins (default: nproc)
#   OTPD_PEERS_SCALE     token counts for the scale runs (default "10000 100000 1000000"; "none"
#                        skips them)
#   OTPD_PEERS_SECONDS   seconds of load per scale run (default 10)
#   OTPD_PEERS_SOCKET_SECONDS  seconds of each otpd-loadgen run against the same users (default 5)
#   OTPD_PEERS_BUILD     build dir (default build/peers, Release)
# Needs root: it installs the Debian packages and writes PAM service files
# /etc/pam.d/otpd-bench-{oath,ga,permit,otpd}, removed on exit. The PAM users need not exist as
# system users (neither module looks them up with user=root / usersfile=); none are created.
# Everything runs on loopback and in a temp dir; seeds and codes are never printed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/bench/peers
signins=${OTPD_PEERS_SIGNINS:-2000}
parallel=${OTPD_PEERS_PARALLEL:-$(nproc)}
scale=${OTPD_PEERS_SCALE:-"10000 100000 1000000"}
[ "$scale" = none ] && scale=""
seconds=${OTPD_PEERS_SECONDS:-10}
socket_seconds=${OTPD_PEERS_SOCKET_SECONDS:-5}
build=${OTPD_PEERS_BUILD:-$root/build/peers}

bash "$root/scripts/deps.sh"
missing=()
for p in libpam-oath libpam-google-authenticator pamtester python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -ne 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DOTPD_BUILD_TESTS=OFF \
  -DOTPD_BUILD_BENCH=ON >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc)" --target otpd otpctl otpd-loadgen pam_otpd >"$build/build.log" 2>&1 \
  || { tail -40 "$build/build.log"; exit 1; }
otpd=$build/tools/otpd otpctl=$build/tools/otpctl loadgen=$build/bench/server/otpd-loadgen
pam_otpd=$build/pam/pam_otpd.so

tmp=$(mktemp -d /tmp/otpd-peers.XXXXXX)
daemon_pid=
cleanup() {
  if [ -n "$daemon_pid" ]; then
    kill "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  rm -f /etc/pam.d/otpd-bench-oath /etc/pam.d/otpd-bench-ga /etc/pam.d/otpd-bench-permit \
    /etc/pam.d/otpd-bench-otpd
  rm -rf "$tmp"
}
trap cleanup EXIT

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# Each data directory D gets its master key in D.key, next to it (never inside it).
seed_load() {  # data_dir count tokens_out
  "$otpctl" init --data-dir "$1" --key-file "$1.key" >/dev/null
  "$otpctl" seed-load --data-dir "$1" --key-file "$1.key" --count "$2" --tokens-out "$3" >/dev/null
}
start_otpd() {  # data_dir [otpd options...]
  "$otpd" --data-dir "$1" --key-file "$1.key" --socket "$1/verify.sock" --log-level warn "${@:2}" \
    2>"$1/otpd.log" &
  daemon_pid=$!
  for _ in $(seq 1 600); do
    [ -S "$1/verify.sock" ] && return 0
    kill -0 "$daemon_pid" 2>/dev/null || { cat "$1/otpd.log"; exit 1; }
    sleep 0.1
  done
  echo "otpd did not start" >&2
  exit 1
}
stop_otpd() {
  kill -TERM "$daemon_pid"
  wait "$daemon_pid" || true
  daemon_pid=
}

echo "# machine: $(nproc) cores, $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) MiB;" \
     "$(dpkg-query -W -f='libpam-oath ${Version}, ' libpam-oath)$(dpkg-query -W -f='libpam-google-authenticator ${Version}, ' libpam-google-authenticator)$(dpkg-query -W -f='pamtester ${Version}' pamtester)"
echo "# $signins sign-ins per contender, $parallel at a time"

# --- otpd: the verify socket, then a process per sign-in ---------------------------------------
data=$tmp/otpd
seed_load "$data" "$((8 * signins))" "$tmp/tokens.csv"
# Eight slices of $signins users each: the socket runs, the process-per-sign-in run, and pam_otpd
# through pamtester at $parallel and one at a time: apart, paired with pam_permit, and paired
# against otpd with relaxed durability.
slice() {  # k (1-based) out.csv
  { head -1 "$tmp/tokens.csv"; sed -n "$(((${1} - 1) * signins + 2)),$((${1} * signins + 1))p" \
      "$tmp/tokens.csv"; } >"$2"
}
slice 1 "$tmp/socket.csv"
slice 2 "$tmp/proc.csv"
slice 3 "$tmp/pam_otpd.csv"
slice 4 "$tmp/pam_otpd1.csv"
slice 5 "$tmp/pam_otpd2.csv"
slice 6 "$tmp/pam_otpd3.csv"
slice 7 "$tmp/pam_otpd4.csv"
slice 8 "$tmp/pam_otpd5.csv"
python3 "$here/otpd_jobs.py" "$tmp/proc.csv" "$signins" "$tmp/otpd.jobs"
python3 "$here/otpd_jobs.py" "$tmp/pam_otpd.csv" "$signins" "$tmp/pam_otpd.jobs"
for k in 1 2 3 4 5; do
  python3 "$here/otpd_jobs.py" "$tmp/pam_otpd$k.csv" "$signins" "$tmp/pam_otpd$k.jobs"
done
start_otpd "$data"
# otpd-loadgen runs for a time, not a count (with --tokens its --max-requests keeps it waiting
# for --duration): $socket_seconds s over the same $signins users, each signing in with
# successive counters, one request in flight per connection.
echo "## otpd verify socket (otpd-loadgen, $parallel connections, one request in flight each, ${socket_seconds} s)"
"$loadgen" --unix "$data/verify.sock" --tokens "$tmp/socket.csv" --connections "$parallel" \
  --depth 1 --duration "$socket_seconds" --save-tokens "$tmp/socket2.csv"
echo "## otpd verify socket, pipelined (otpd-loadgen, $parallel connections x 16 in flight, ${socket_seconds} s)"
"$loadgen" --unix "$data/verify.sock" --tokens "$tmp/socket2.csv" --connections "$parallel" \
  --depth 16 --duration "$socket_seconds"
echo "## contenders through a process per sign-in"
python3 "$here/signin_driver.py" otpd-otpctl-verify "$tmp/otpd.jobs" "$parallel" \
  "$otpctl" verify --socket "$data/verify.sock" --user "{user}" "{code}"
# otpd keeps running (idle) for pam_otpd below.

# --- PAM modules through pamtester ---------------------------------------------------------------
python3 "$here/make_users.py" "$signins" "$tmp/pam"
echo "auth requisite pam_oath.so usersfile=$tmp/pam/users.oath window=10 digits=6" \
  >/etc/pam.d/otpd-bench-oath
echo "auth requisite pam_google_authenticator.so secret=$tmp/pam/ga/\${USER} user=root" \
  >/etc/pam.d/otpd-bench-ga
echo "auth requisite pam_permit.so" >/etc/pam.d/otpd-bench-permit
# pam_oath rewrites its one usersfile under a lock on every sign-in: concurrent sign-ins fail
# (counted in "failed"), so it also runs one at a time, on fresh users.
python3 "$here/signin_driver.py" pam_oath "$tmp/pam/oath.jobs" "$parallel" \
  pamtester otpd-bench-oath "{user}" authenticate
python3 "$here/signin_driver.py" pam_google_authenticator "$tmp/pam/ga.jobs" "$parallel" \
  pamtester otpd-bench-ga "{user}" authenticate
python3 "$here/make_users.py" "$signins" "$tmp/pam1"
echo "auth requisite pam_oath.so usersfile=$tmp/pam1/users.oath window=10 digits=6" \
  >/etc/pam.d/otpd-bench-oath
echo "auth requisite pam_google_authenticator.so secret=$tmp/pam1/ga/\${USER} user=root" \
  >/etc/pam.d/otpd-bench-ga
python3 "$here/signin_driver.py" pam_oath-serial "$tmp/pam1/oath.jobs" 1 \
  pamtester otpd-bench-oath "{user}" authenticate
python3 "$here/signin_driver.py" pam_google_authenticator-serial "$tmp/pam1/ga.jobs" 1 \
  pamtester otpd-bench-ga "{user}" authenticate
python3 "$here/signin_driver.py" pam_permit "$tmp/pam/oath.jobs" "$parallel" \
  pamtester otpd-bench-permit "{user}" authenticate
# pam_otpd against the same otpd (sync durability: each accepted code is fsynced before the
# answer), next to pam_permit at the same concurrency, then both one at a time.
echo "auth requisite $pam_otpd socket=$data/verify.sock" >/etc/pam.d/otpd-bench-otpd
python3 "$here/signin_driver.py" pam_otpd "$tmp/pam_otpd.jobs" "$parallel" \
  pamtester otpd-bench-otpd "{user}" authenticate
python3 "$here/signin_driver.py" pam_permit-serial "$tmp/pam/oath.jobs" 1 \
  pamtester otpd-bench-permit "{user}" authenticate
python3 "$here/signin_driver.py" pam_otpd-serial "$tmp/pam_otpd1.jobs" 1 \
  pamtester otpd-bench-otpd "{user}" authenticate
echo "## pam_permit and pam_otpd paired: interleaved sign-ins, the same background load"
python3 "$here/paired_driver.py" "$parallel" pam_permit "$tmp/pam/oath.jobs" \
  pam_otpd "$tmp/pam_otpd2.jobs" \
  -- pamtester otpd-bench-permit "{user}" authenticate \
  -- pamtester otpd-bench-otpd "{user}" authenticate
python3 "$here/paired_driver.py" 1 pam_permit-serial "$tmp/pam/oath.jobs" \
  pam_otpd-serial "$tmp/pam_otpd3.jobs" \
  -- pamtester otpd-bench-permit "{user}" authenticate \
  -- pamtester otpd-bench-otpd "{user}" authenticate
# Replays must fail: the same codes again through pam_otpd ("failed" should equal "signins").
python3 "$here/signin_driver.py" pam_otpd-replay "$tmp/pam_otpd1.jobs" "$parallel" \
  pamtester otpd-bench-otpd "{user}" authenticate
stop_otpd
# The same data dir with relaxed durability (no fsync before the answer): what is left of
# pam_otpd's cost is the module, the socket round trip and otpd's check itself.
start_otpd "$data" --durability relaxed
echo "## pam_permit and pam_otpd paired, otpd with --durability relaxed"
python3 "$here/paired_driver.py" "$parallel" pam_permit "$tmp/pam/oath.jobs" \
  pam_otpd-relaxed "$tmp/pam_otpd4.jobs" \
  -- pamtester otpd-bench-permit "{user}" authenticate \
  -- pamtester otpd-bench-otpd "{user}" authenticate
python3 "$here/paired_driver.py" 1 pam_permit-serial "$tmp/pam/oath.jobs" \
  pam_otpd-relaxed-serial "$tmp/pam_otpd5.jobs" \
  -- pamtester otpd-bench-permit "{user}" authenticate \
  -- pamtester otpd-bench-otpd "{user}" authenticate
stop_otpd
# Replays must fail: the same codes again against pam_oath ("failed" should equal "signins").
python3 "$here/signin_driver.py" pam_oath-replay "$tmp/pam1/oath.jobs" 1 \
  pamtester otpd-bench-oath "{user}" authenticate

# --- otpd with many tokens ------------------------------------------------------------------------
# The same 10 000 active users, drawn at random from all the tokens, at every size: first their
# cold start (each user's first sign-in loads and decrypts its token), then the steady state.
# Latency must not grow with the number of tokens.
active=10000
for count in $scale; do
  d=$tmp/scale-$count
  start=$SECONDS
  seed_load "$d" "$count" "$d.csv"
  load_s=$((SECONDS - start))
  { head -1 "$d.csv"; tail -n +2 "$d.csv" | shuf -n "$active" --random-source=<(yes); } \
    >"$d.active.csv"
  start_otpd "$d"
  echo "## $count tokens (seed-load ${load_s} s, data dir $(du -sm "$d" | cut -f1) MiB, rss idle $(rss_kib "$daemon_pid") KiB)"
  echo "# cold: first sign-ins of $active random users"
  "$loadgen" --unix "$d/verify.sock" --tokens "$d.active.csv" --connections 4 --depth 8 \
    --duration 5 --save-tokens "$d.active2.csv"
  echo "rss_kib=$(rss_kib "$daemon_pid")"
  echo "# warm: the same users, ${seconds} s"
  "$loadgen" --unix "$d/verify.sock" --tokens "$d.active2.csv" --connections 4 --depth 8 \
    --duration "$seconds"
  echo "rss_kib=$(rss_kib "$daemon_pid")"
  stop_otpd
  rm -rf "$d" "$d.key" "$d.csv" "$d.active.csv" "$d.active2.csv"
done

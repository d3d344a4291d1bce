#!/usr/bin/env bash
# Side by side (docs/benchmarks-peers.md): sign-ins with valid HOTP codes for distinct users,
#   1. otpd's verify socket, driven by otpd-loadgen (pipelined clients over the Unix socket);
#   2. otpd through a process per sign-in (`otpctl verify`), the shape pamtester has;
#   3. pam_oath (libpam-oath, one usersfile) through pamtester;
#   4. pam_google_authenticator (libpam-google-authenticator, one secret file per user) through
#      pamtester;
#   5. pam_permit through pamtester: what pamtester and PAM cost without any OTP check;
# then otpd's memory and latency with 10 000, 100 000 and 1 000 000 tokens.
#
# Usage: bash bench/peers/run.sh
#   OTPD_PEERS_SIGNINS   sign-ins per contender (default 2000)
#   OTPD_PEERS_PARALLEL  concurrent sign-ins (default: nproc)
#   OTPD_PEERS_SCALE     token counts for the scale runs (default "10000 100000 1000000")
#   OTPD_PEERS_SECONDS   seconds of load per scale run (default 10)
#   OTPD_PEERS_SOCKET_SECONDS  seconds of each otpd-loadgen run against the same users (default 5)
#   OTPD_PEERS_BUILD     build dir (default build/peers, Release)
# Needs root: it installs the Debian packages and writes PAM service files
# /etc/pam.d/otpd-bench-{oath,ga,permit}, removed on exit. The PAM users need not exist as
# system users (neither module looks them up with user=root / usersfile=); none are created.
# Everything runs on loopback and in a temp dir; seeds and codes are never printed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/bench/peers
signins=${OTPD_PEERS_SIGNINS:-2000}
parallel=${OTPD_PEERS_PARALLEL:-$(nproc)}
scale=${OTPD_PEERS_SCALE:-"10000 100000 1000000"}
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
cmake --build "$build" -j "$(nproc)" --target otpd otpctl otpd-loadgen >"$build/build.log" 2>&1 \
  || { tail -40 "$build/build.log"; exit 1; }
otpd=$build/tools/otpd otpctl=$build/tools/otpctl loadgen=$build/bench/server/otpd-loadgen

tmp=$(mktemp -d /tmp/otpd-peers.XXXXXX)
daemon_pid=
cleanup() {
  if [ -n "$daemon_pid" ]; then
    kill "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  rm -f /etc/pam.d/otpd-bench-oath /etc/pam.d/otpd-bench-ga /etc/pam.d/otpd-bench-permit
  rm -rf "$tmp"
}
trap cleanup EXIT

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# Each data directory D gets its master key in D.key, next to it (never inside it).
seed_load() {  # data_dir count tokens_out
  "$otpctl" init --data-dir "$1" --key-file "$1.key" >/dev/null
  "$otpctl" seed-load --data-dir "$1" --key-file "$1.key" --count "$2" --tokens-out "$3" >/dev/null
}
start_otpd() {  # data_dir
  "$otpd" --data-dir "$1" --key-file "$1.key" --socket "$1/verify.sock" --log-level warn \
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
seed_load "$data" "$((2 * signins))" "$tmp/tokens.csv"
# The first half of the users for the socket run, the second for the process-per-sign-in run.
head -1 "$tmp/tokens.csv" >"$tmp/socket.csv"
sed -n "2,$((signins + 1))p" "$tmp/tokens.csv" >>"$tmp/socket.csv"
{ head -1 "$tmp/tokens.csv"; sed -n "$((signins + 2)),\$p" "$tmp/tokens.csv"; } >"$tmp/proc.csv"
python3 "$here/otpd_jobs.py" "$tmp/proc.csv" "$signins" "$tmp/otpd.jobs"
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
stop_otpd

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

#!/usr/bin/env bash
# Sign-ins per second and latency through otpd's privacyIDEA-compatible validate API
# (docs/validate-api.md), and through FreeRADIUS 3.2 with the shipped configuration
# (contrib/freeradius, docs/radius.md) in front of it:
#   1. /validate/check, HOTP users each signing in once with their next code, driven by
#      validate_driver.py (Python http.client, one kept-alive connection per thread);
#   2. the same through /validate/radiuscheck;
#   3. radclient -> FreeRADIUS (rlm_rest) -> /validate/radiuscheck, PAP Access-Requests, many
#      in flight (radclient -p), timed as a whole.
# Usage: bash bench/peers/validate_bench.sh
#   OTPD_VALIDATE_SIGNINS   sign-ins per run (default 2000)
#   OTPD_PEERS_PARALLEL     driver threads (default nproc)
#   OTPD_RADIUS_INFLIGHT    radclient's requests in flight (default 32)
#   OTPD_PEERS_BUILD        Release build directory (default build/peers)
# Everything runs on loopback and in a temp dir; seeds, codes and keys are never printed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/bench/peers
signins=${OTPD_VALIDATE_SIGNINS:-2000}
parallel=${OTPD_PEERS_PARALLEL:-$(nproc)}
inflight=${OTPD_RADIUS_INFLIGHT:-32}
build=${OTPD_PEERS_BUILD:-$root/build/peers}

bash "$root/scripts/deps.sh"
mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DOTPD_BUILD_TESTS=OFF \
  -DOTPD_BUILD_BENCH=ON >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc)" --target otpd otpctl >"$build/build.log" 2>&1 \
  || { tail -40 "$build/build.log"; exit 1; }
otpd=$build/tools/otpd otpctl=$build/tools/otpctl

tmp=$(mktemp -d /tmp/otpd-validate-bench.XXXXXX)
daemon_pid= radius_pid=
cleanup() {
  [ -n "$radius_pid" ] && { kill "$radius_pid" 2>/dev/null || true; wait "$radius_pid" 2>/dev/null || true; }
  [ -n "$daemon_pid" ] && { kill "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; }
  rm -rf "$tmp"
}
trap cleanup EXIT
free_port() {  # tcp|udp
  python3 -c "import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_STREAM if sys.argv[1]=='tcp' else socket.SOCK_DGRAM); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])" "$1"
}

data=$tmp/otpd
"$otpctl" init --data-dir "$data" --key-file "$data.key" >/dev/null
"$otpctl" seed-load --data-dir "$data" --key-file "$data.key" --count "$((3 * signins))" \
  --tokens-out "$tmp/tokens.csv" >/dev/null
slice() {  # k (1-based) out.csv
  { head -1 "$tmp/tokens.csv"; sed -n "$(((${1} - 1) * signins + 2)),$((${1} * signins + 1))p" \
      "$tmp/tokens.csv"; } >"$2"
}
for k in 1 2 3; do
  slice "$k" "$tmp/slice$k.csv"
  python3 "$here/otpd_jobs.py" "$tmp/slice$k.csv" "$signins" "$tmp/jobs$k"
done
head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$tmp/client.key"
chmod 600 "$tmp/client.key"
printf '[clients.bench]\nkey_file = "%s"\n' "$tmp/client.key" >"$tmp/otpd.toml"
vport=$(free_port tcp)
"$otpd" --config "$tmp/otpd.toml" --data-dir "$data" --key-file "$data.key" \
  --socket "$data/verify.sock" --validate-listen "127.0.0.1:$vport" --log-level warn \
  2>"$tmp/otpd.log" &
daemon_pid=$!
for _ in $(seq 1 600); do
  [ -S "$data/verify.sock" ] && break
  kill -0 "$daemon_pid" 2>/dev/null || { cat "$tmp/otpd.log"; exit 1; }
  sleep 0.1
done

echo "# machine: $(nproc) cores; $signins sign-ins per run; $(dpkg-query -W -f='freeradius ${Version}' freeradius)"
python3 "$here/validate_driver.py" "$vport" bench "$tmp/client.key" "$tmp/jobs1" "$parallel"
python3 "$here/validate_driver.py" "$vport" bench "$tmp/client.key" "$tmp/jobs2" "$parallel" \
  /validate/radiuscheck

# FreeRADIUS with the shipped module and site, from a config dir of its own.
rport=$(free_port udp)
raddb=$tmp/raddb
mkdir -p "$raddb/mods-enabled" "$raddb/sites-enabled"
: >"$raddb/dictionary"
cat >"$raddb/radiusd.conf" <<CONF
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = $tmp
sbindir = /usr/sbin
logdir = $tmp
raddbdir = $raddb
radacctdir = $tmp
name = freeradius
confdir = \${raddbdir}
modconfdir = \${confdir}/mods-config
run_dir = $tmp
db_dir = $tmp
libdir = /usr/lib/freeradius
pidfile = \${run_dir}/freeradius.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 65536
hostname_lookups = no
log {
	destination = stdout
	auth = no
}
security {
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = no
}
thread pool {
	start_servers = 8
	max_servers = 32
	min_spare_servers = 4
	max_spare_servers = 16
	max_requests_per_server = 0
	auto_limit_acct = no
}
client localhost {
	ipaddr = 127.0.0.1
	secret = bench-secret
}
modules {
	expr {
	}
	always reject {
		rcode = reject
	}
	always ok {
		rcode = ok
	}
	\$INCLUDE mods-enabled/
}
instantiate {
}
policy {
}
\$INCLUDE sites-enabled/
CONF
sed -e "s#http://127.0.0.1:7735#http://127.0.0.1:$vport#" \
  -e "s#CHANGE-ME-otpd-client-key#$(cat "$tmp/client.key")#" -e 's/username = "freeradius"/username = "bench"/' \
  "$root/contrib/freeradius/mods-available/otpd" >"$raddb/mods-enabled/otpd"
sed -e "s/port = 0/port = $rport/" -e 's/ipaddr = \*/ipaddr = 127.0.0.1/' \
  "$root/contrib/freeradius/sites-available/otpd" >"$raddb/sites-enabled/otpd"
freeradius -f -d "$raddb" -l stdout >"$tmp/freeradius.log" 2>&1 &
radius_pid=$!
for _ in $(seq 1 200); do
  grep -q "Ready to process requests" "$tmp/freeradius.log" && break
  kill -0 "$radius_pid" 2>/dev/null || { cat "$tmp/freeradius.log"; exit 1; }
  sleep 0.1
done
awk -F'\t' '{printf "User-Name = \"%s\", User-Password = \"%s\"\n\n", $1, $2}' "$tmp/jobs3" \
  >"$tmp/radius.requests"
start=$(date +%s.%N)
radclient -q -s -p "$inflight" -r 1 -t 10 -f "$tmp/radius.requests" "127.0.0.1:$rport" auth \
  bench-secret >"$tmp/radclient.out" 2>&1 || true
end=$(date +%s.%N)
accepted=$(awk '/Accepted/ {print $NF}' "$tmp/radclient.out")
python3 -c "import sys; n,a,s=int(sys.argv[1]),int(sys.argv[2] or 0),float(sys.argv[3]); print('radclient -> FreeRADIUS -> /validate/radiuscheck: %d sign-ins, %s in flight: %.0f/s, mean %.2f ms per sign-in in flight, failed %d' % (n, sys.argv[4], n/s, s/n*int(sys.argv[4])*1000, n-a))" \
  "$signins" "$accepted" "$(echo "$end - $start" | bc)" "$inflight"

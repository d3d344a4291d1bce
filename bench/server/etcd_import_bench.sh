#!/usr/bin/env bash
# Import benchmark on etcd (docs/scale-out.md, "Sizing"): one vendor file of N hardware tokens
# (default 10 000; Entra's CSV, TOTP, 20-byte seeds, every 100th assigned to a new user) imported
# through one otpd node's admin socket into a 3-member etcd cluster running with etcd's default
# limits (128 operations and 1.5 MiB a transaction), all on loopback. Reports the import's wall
# time, and etcd's database size before, after, and after compaction and defrag, with the bytes
# per token that gives.
# Usage: bash bench/server/etcd_import_bench.sh [N] [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-10000}
build=${2:-$root/build/gcc-release}
source "$root/bench/server/etcd_env.sh"
etcd_bench_prepare
etcd_start
openssl rand -hex 32 >"$work/master.key"
chmod 600 "$work/master.key"
mkdir -p "$work/a"
"$build/tools/otpd" --store etcd --etcd-endpoints "$endpoints" --etcd-prefix /bench/ \
  --key-file "$work/master.key" --data-dir "$work/a" --admin-socket "$work/a/admin.sock" \
  2>"$work/a.log" &
pids+=($!)
for _ in $(seq 300); do grep -q started "$work/a.log" && break; sleep 0.1; done
grep started "$work/a.log"

python3 - "$n" >"$work/tokens.csv" <<'PY'
import base64, hashlib, sys
n = int(sys.argv[1])
print("upn,serial number,secret key,time interval,manufacturer,model")
for i in range(1, n + 1):
    seed = hashlib.sha1(b"import bench %d" % i).digest()
    upn = f"ib{i}@example.com" if i % 100 == 0 else ""
    print(f"{upn},IB{i:07d},{base64.b32encode(seed).decode().rstrip('=')},30,Bench,TOTP-6")
PY
before=$(db_size)
start=$(date +%s.%N)
curl -sS --max-time 3600 --unix-socket "$work/a/admin.sock" -H 'Content-Type: text/csv' \
  --data-binary @"$work/tokens.csv" \
  "http://localhost/v1.0/directory/authenticationMethodDevices/hardwareOathDevices?format=entra-csv" \
  >"$work/report.json"
end=$(date +%s.%N)
python3 - "$work/report.json" "$n" "$start" "$end" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
n, wall = int(sys.argv[2]), float(sys.argv[4]) - float(sys.argv[3])
print(f"imported {r['imported']} of {n} tokens ({r['failed']} failed, {r['usersCreated']} users "
      f"created) in {wall:.1f} s: {r['imported'] / wall:.0f} tokens/s")
PY
after=$(db_size)
etcd_compact
compacted=$(db_size)
python3 - "$n" "$before" "$after" "$compacted" <<'PY'
import sys
n = int(sys.argv[1])
b, a, c = (max(int(x) for x in s.split()) for s in sys.argv[2:5])
print(f"etcd dbSize (largest member): before {b / 2**20:.1f} MiB, after the import "
      f"{a / 2**20:.1f} MiB, after compaction and defrag {c / 2**20:.1f} MiB: "
      f"{(c - b) / n:.0f} bytes a token, {2**30 * n / max(c - b, 1):,.0f} tokens a GiB")
PY

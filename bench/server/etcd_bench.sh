#!/usr/bin/env bash
# Scale-out benchmark (docs/scale-out.md): two otpd nodes over a 3-member etcd cluster beside one
# otpd on RocksDB, in the same run, on this machine, all on loopback.
#   - etcd: 3 members of /usr/bin/etcd, data on disk under $TMPDIR (default /var/tmp), ports
#     42379.. (clients) and 42479.. (peers), --max-txn-ops 1024;
#   - N users (default 20 000), each with one activated HOTP token, seeded into etcd
#     (otpd-etcd-seed) and into a RocksDB data directory (otpctl seed-load);
#   - node A and node B, each serving half of the users over its Unix socket (a front end that
#     spreads users over nodes); every user loaded once (warm-up), then 32 + 32 connections of
#     otpd-loadgen, valid codes, at depths 1, 4 and 8, run at the same time;
#   - the single RocksDB node: 64 connections, valid codes, the same depths.
# During each two-node run, the CPU time the etcd members and the otpd nodes used (from
# /proc/PID/stat) and how busy the whole machine was (/proc/stat), in cores: where the CPU went;
# and the etcd members' CPU per accepted sign-in, the figure faster commits drive down. After
# the runs, etcd's own `etcdctl check perf --load=l` (60 s of single-key writes from many clients)
# on the same cluster: what it commits one key a transaction, beside what otpd's grouped
# transactions carry.
# Then etcd's database size (etcdctl endpoint status) before and after compaction+defrag, for
# the sizing guide.
# Also per run: etcd's committed proposals (its /metrics, etcd_server_proposals_committed_total)
# per accepted sign-in, i.e. how many sign-ins one etcd transaction carried.
# Usage: bash bench/server/etcd_bench.sh [N] [SECONDS_PER_RUN] [BUILD_DIR]
# Environment: OTPD_NODE_ARGS, more flags for the two etcd nodes (e.g.
# "--etcd-commits-in-flight 1"); OTPD_ETCD_CONNECTIONS, connections per node (default 32);
# OTPD_ETCD_ONLY=1 skips check perf, the sizing and the RocksDB node.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-20000}
seconds=${2:-15}
build=${3:-$root/build/gcc-release}
source "$root/bench/server/etcd_env.sh"
etcd_bench_prepare otpctl otpd-loadgen otpd-etcd-seed
bin=$build/tools
lg=$build/bench/server/otpd-loadgen

# ---- etcd ---------------------------------------------------------------------------------------
etcd_start --max-txn-ops 1024

openssl rand -hex 32 >"$work/master.key"
chmod 600 "$work/master.key"
store_args=(--store etcd --etcd-endpoints "$endpoints" --etcd-prefix /bench/
            --etcd-max-txn-ops 1024 --key-file "$work/master.key")
"$build/bench/server/otpd-etcd-seed" --count "$n" --chunk 100 --tokens-out "$work/all.csv" \
  -- "${store_args[@]}"
echo "etcd dbSize after seeding $n users (bytes, per member): $(db_size)"

# Half of the users for each node.
head -1 "$work/all.csv" | tee "$work/a.csv" >"$work/b.csv"
tail -n +2 "$work/all.csv" | awk -v a="$work/a.csv" -v b="$work/b.csv" \
  'NR % 2 { print >> a; next } { print >> b }'

start_node() {  # name
  mkdir -p "$work/$1"
  # shellcheck disable=SC2086 # OTPD_NODE_ARGS is a list of flags
  "$bin/otpd" "${store_args[@]}" ${OTPD_NODE_ARGS:-} --data-dir "$work/$1" 2>"$work/$1.log" &
  pids+=($!)
  for _ in $(seq 300); do grep -q started "$work/$1.log" && break; sleep 0.1; done
  grep started "$work/$1.log"
}
start_node a
start_node b
node_pids=("${pids[@]:3}")

ticks() {  # pid...: user+system clock ticks used so far
  local sum=0 t
  for p in "$@"; do
    t=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)
    sum=$((sum + t))
  done
  echo "$sum"
}
busy_ticks() {  # the whole machine's non-idle ticks (all CPUs)
  awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat
}
hz=$(getconf CLK_TCK)
proposals() {  # proposals the first member has seen committed
  curl -s "http://127.0.0.1:42379/metrics" |
    awk '/^etcd_server_proposals_committed_total / { print $2 + 0 }'
}

run() {  # node tokens connections depth duration [max_requests]
  "$lg" --unix "$work/$1/verify.sock" --tokens "$work/$2.csv" --save-tokens "$work/$2.next" \
    --connections "$3" --depth "$4" --duration "$5" --max-requests "${6:-0}" |
    grep -v '^reason note'
  mv "$work/$2.next" "$work/$2.csv"
}

echo "== warm-up: every user loaded once on its node"
run a a 32 4 120 $((n * 6 / 10)) >/dev/null
run b b 32 4 120 $((n * 6 / 10)) >/dev/null
conns=${OTPD_ETCD_CONNECTIONS:-32}
for depth in 1 4 8; do
  echo "== two etcd nodes, $conns + $conns connections, depth $depth, valid codes, ${seconds} s"
  e0=$(ticks "${etcd_pids[@]}") o0=$(ticks "${node_pids[@]}") m0=$(busy_ticks) t0=$(date +%s.%N)
  p0=$(proposals)
  run a a "$conns" "$depth" "$seconds" >"$work/ra.txt" &
  ra=$!
  run b b "$conns" "$depth" "$seconds" >"$work/rb.txt" &
  rb=$!
  wait "$ra" "$rb"
  e1=$(ticks "${etcd_pids[@]}") o1=$(ticks "${node_pids[@]}") m1=$(busy_ticks) t1=$(date +%s.%N)
  p1=$(proposals)
  echo "node A: $(tr '\n' ' ' <"$work/ra.txt")"
  echo "node B: $(tr '\n' ' ' <"$work/rb.txt")"
  accepted=$(cat "$work/ra.txt" "$work/rb.txt" | awk -F= '/^reason ok=/ { s += $2 } END { print s + 0 }')
  python3 -c "
e, o, m, hz, wall, ok = $((e1 - e0)), $((o1 - o0)), $((m1 - m0)), $hz, $t1 - $t0, $accepted
proposals = $p1 - $p0
print(f'cpu (cores): etcd members {e / hz / wall:.2f}, otpd nodes {o / hz / wall:.2f}, '
      f'the rest (load generators, other jobs) {(m - e - o) / hz / wall:.2f}, '
      f'machine {m / hz / wall:.2f} of $(nproc)')
print(f'etcd members cpu per accepted sign-in: {e / hz / max(ok, 1) * 1e6:.0f} us ({ok} accepted)')
print(f'etcd proposals committed: {proposals:.0f}, {proposals / wall:.0f}/s, '
      f'{ok / max(proposals, 1):.1f} accepted sign-ins each')"
done
if [ "${OTPD_ETCD_ONLY:-0}" = 1 ]; then exit 0; fi
echo "== etcdctl check perf --load=l on the same cluster (otpd nodes idle)"
etcdctl --endpoints "$endpoints" --command-timeout 120s check perf --load=l 2>&1 | tr '\r' '\n' |
  grep -E '^(PASS|FAIL)' || true
echo "etcd dbSize after the runs: $(db_size)"
etcd_compact
echo "etcd dbSize after compaction and defrag: $(db_size)"
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
pids=()

# ---- the single RocksDB node ------------------------------------------------------------------
"$bin/otpctl" init --data-dir "$work/data" --key-file "$work/rocks.key" >/dev/null
"$bin/otpctl" seed-load --count "$n" --data-dir "$work/data" --key-file "$work/rocks.key" \
  --tokens-out "$work/r.csv"
"$bin/otpd" --data-dir "$work/data" --key-file "$work/rocks.key" 2>"$work/r.log" &
pids+=($!)
for _ in $(seq 300); do grep -q started "$work/r.log" && break; sleep 0.1; done
mkdir -p "$work/r"
ln -s "$work/data/verify.sock" "$work/r/verify.sock"
echo "== warm-up: every user loaded once"
run r r 64 4 120 $((n * 6 / 5)) >/dev/null
for depth in 1 4 8; do
  echo "== one RocksDB node, 64 connections, depth $depth, valid codes, ${seconds} s"
  run r r 64 "$depth" "$seconds"
done

# Shared by the etcd benchmarks (etcd_bench.sh, etcd_import_bench.sh); sourced, not run.
#   etcd_bench_prepare TARGET...  builds the targets (and otpd) in $build (GCC, Release, with the
#                              benchmarks), makes the scratch folder $work and the pids array; on
#                              exit every process in pids is killed and $work removed
#   etcd_start [ETCD_ARGS...]  starts a 3-member cluster of /usr/bin/etcd on loopback, data on disk
#                              under $work, ports 42379.. (clients) and 42479.. (peers), with the
#                              extra arguments given to each member (none: etcd's defaults); sets
#                              $endpoints and $etcd_pids and waits until the cluster is healthy
#   db_size                    etcd's database size of each member, in bytes
#   etcd_compact               compacts to the current revision and defragments every member
etcd_bench_prepare() {
  cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ \
    -DCMAKE_BUILD_TYPE=Release -DOTPD_BUILD_BENCH=ON >/dev/null
  cmake --build "$build" -j "$(nproc)" --target otpd "$@" >/dev/null
  work=$(mktemp -d "${TMPDIR:-/var/tmp}/otpd-etcd-bench-XXXXXX")
  pids=()
  trap etcd_bench_cleanup EXIT
}

etcd_bench_cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}

etcd_start() {
  local cluster="" i
  endpoints=""
  for i in 0 1 2; do
    cluster+="${cluster:+,}m$i=http://127.0.0.1:$((42479 + i))"
    endpoints+="${endpoints:+,}127.0.0.1:$((42379 + i))"
  done
  etcd_pids=()
  for i in 0 1 2; do
    etcd --name "m$i" --data-dir "$work/etcd$i" \
      --listen-client-urls "http://127.0.0.1:$((42379 + i))" \
      --advertise-client-urls "http://127.0.0.1:$((42379 + i))" \
      --listen-peer-urls "http://127.0.0.1:$((42479 + i))" \
      --initial-advertise-peer-urls "http://127.0.0.1:$((42479 + i))" \
      --initial-cluster "$cluster" --initial-cluster-state new "$@" \
      --logger zap --log-level warn >"$work/etcd$i.log" 2>&1 &
    pids+=($!)
    etcd_pids+=($!)
  done
  export ETCDCTL_API=3
  for _ in $(seq 100); do
    etcdctl --endpoints "$endpoints" endpoint health >/dev/null 2>&1 && break
    sleep 0.2
  done
  etcdctl --endpoints "$endpoints" endpoint health
}

db_size() {
  etcdctl --endpoints "$endpoints" endpoint status -w json |
    python3 -c 'import json,sys; print(" ".join(str(m["Status"]["dbSize"]) for m in json.load(sys.stdin)))'
}

etcd_compact() {
  local rev
  rev=$(etcdctl --endpoints "$endpoints" endpoint status -w json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["header"]["revision"])')
  etcdctl --endpoints "$endpoints" --command-timeout 120s compact --physical "$rev" >/dev/null
  etcdctl --endpoints "$endpoints" --command-timeout 120s defrag >/dev/null
}

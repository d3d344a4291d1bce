#!/usr/bin/env bash
# How the disk's fdatasync latency changes when the CPUs are busy: paced small appends +
# fdatasync (as the WAL of a durable sign-in does), first on an idle machine, then while
# `otpd-loadgen --self` (an in-process fake server, no disk I/O) keeps both cores busy. Prints
# percentiles and the slow calls (> 5 ms) with their start times in ms, which show the period of
# any stalls. Used in docs/benchmarks.md ("The open-loop tail").
# Usage: bash bench/server/fsync_under_load.sh [DIR] [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-${TMPDIR:-/var/tmp}}
build=${2:-$root/build/release-bench}
cmake --build "$build" -j "$(nproc)" --target otpd-loadgen >/dev/null
probe=$(mktemp "$dir/otpd-fsync-XXXXXX")
trap 'rm -f "$probe"' EXIT
run_probe() {
  python3 - "$probe" <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
t, slow = [], []
start = time.perf_counter()
i = 0
while time.perf_counter() < start + 4:
    due = start + i / 2000.0  # 2 000 fdatasyncs a second
    i += 1
    now = time.perf_counter()
    if due > now:
        time.sleep(due - now)
    s = time.perf_counter()
    os.write(fd, b"x" * 1500)
    os.fdatasync(fd)
    d = time.perf_counter() - s
    t.append(d)
    if d > 0.005:
        slow.append((round((s - start) * 1000), round(d * 1000, 1)))
t.sort()
n = len(t)
print("  n=%d p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms; %d calls over 5 ms (start ms, ms): %s"
      % (n, t[n // 2] * 1e3, t[int(n * .9)] * 1e3, t[int(n * .99)] * 1e3, t[-1] * 1e3, len(slow),
         slow[:12]))
PY
}
echo "idle CPUs:"
run_probe
echo "both CPUs busy (otpd-loadgen --self):"
"$build/bench/server/otpd-loadgen" --self --connections 64 --depth 16 --duration 6 >/dev/null 2>&1 &
sleep 0.5
run_probe
wait

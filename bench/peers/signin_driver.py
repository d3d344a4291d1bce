#!/usr/bin/env python3
"""Runs one sign-in per line of a job file as a separate process, `parallel` at a time, and
prints sign-ins per second and latency percentiles (one JSON object on stdout).

Job file lines: `user<TAB>code`. The command template gets the user in place of {user} and the
code on its standard input (as a PAM conversation reads it) or in place of {code}. A sign-in
counts as accepted when the command exits 0. Codes are never printed.
"""
import json
import subprocess
import sys
import threading
import time


def main():
    if len(sys.argv) < 5:
        sys.exit("usage: signin_driver.py NAME JOBFILE PARALLEL CMD...")
    name, jobfile, parallel = sys.argv[1], sys.argv[2], int(sys.argv[3])
    template = sys.argv[4:]
    with open(jobfile) as f:
        jobs = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    lock = threading.Lock()
    latencies, failures, nxt = [], [0], [0]

    def worker():
        while True:
            with lock:
                if nxt[0] >= len(jobs):
                    return
                user, code = jobs[nxt[0]]
                nxt[0] += 1
            argv = [a.replace("{user}", user).replace("{code}", code) for a in template]
            start = time.perf_counter()
            r = subprocess.run(argv, input=(code + "\n").encode(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=60)
            took = time.perf_counter() - start
            with lock:
                latencies.append(took)
                if r.returncode != 0:
                    failures[0] += 1

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    latencies.sort()

    def pct(q):
        return round(latencies[min(len(latencies) - 1, int(q * (len(latencies) - 1) + 0.5))] * 1e6)

    print(json.dumps({"name": name, "signins": len(latencies), "failed": failures[0],
                      "parallel": parallel, "seconds": round(wall, 3),
                      "signins_per_s": round(len(latencies) / wall, 1),
                      "p50_us": pct(0.5), "p90_us": pct(0.9), "p99_us": pct(0.99),
                      "max_us": pct(1.0)}))


if __name__ == "__main__":
    main()

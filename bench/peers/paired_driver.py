#!/usr/bin/env python3
"""Runs two contenders' sign-ins paired and interleaved, so that both see the same background
load: each worker takes the next pair i and runs A's job i and B's job i back to back (A first
on even i, B first on odd i), `parallel` workers at a time. Prints one JSON object per
contender (as signin_driver.py, with sign-ins per second derived from the time its processes
took: parallel / mean latency), then one for B minus A: the median and mean of the per-pair
differences.

Usage: paired_driver.py PARALLEL NAME_A JOBS_A NAME_B JOBS_B -- CMD_A... -- CMD_B...
Job files and command templates as for signin_driver.py ({user}, {code}; the code also goes to
the command's stdin). Codes are never printed.
"""
import json
import statistics
import subprocess
import sys
import threading
import time


def load(jobfile):
    with open(jobfile) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def run(template, user, code):
    argv = [a.replace("{user}", user).replace("{code}", code) for a in template]
    start = time.perf_counter()
    r = subprocess.run(argv, input=(code + "\n").encode(), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
    return time.perf_counter() - start, r.returncode != 0


def summary(name, latencies, failed, parallel):
    ordered = sorted(latencies)

    def pct(q):
        return round(ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))] * 1e6)

    mean = statistics.fmean(latencies)
    return {"name": name, "signins": len(latencies), "failed": failed, "parallel": parallel,
            "mode": "paired", "signins_per_s": round(parallel / mean, 1),
            "mean_us": round(mean * 1e6), "p50_us": pct(0.5), "p90_us": pct(0.9),
            "p99_us": pct(0.99), "max_us": pct(1.0)}


def main():
    args = sys.argv[1:]
    if len(args) < 7 or args.count("--") != 2:
        sys.exit("usage: paired_driver.py PARALLEL NAME_A JOBS_A NAME_B JOBS_B -- CMD_A... -- "
                 "CMD_B...")
    first = args.index("--")
    second = args.index("--", first + 1)
    parallel, name_a, jobs_a, name_b, jobs_b = args[:first]
    parallel = int(parallel)
    cmd_a, cmd_b = args[first + 1:second], args[second + 1:]
    jobs = list(zip(load(jobs_a), load(jobs_b)))
    lat = {"a": [None] * len(jobs), "b": [None] * len(jobs)}
    failed = {"a": 0, "b": 0}
    lock = threading.Lock()
    nxt = [0]

    def worker():
        while True:
            with lock:
                if nxt[0] >= len(jobs):
                    return
                i = nxt[0]
                nxt[0] += 1
            (ua, ca), (ub, cb) = jobs[i]
            order = [("a", cmd_a, ua, ca), ("b", cmd_b, ub, cb)]
            if i % 2:
                order.reverse()
            for key, cmd, user, code in order:
                took, bad = run(cmd, user, code)
                with lock:
                    lat[key][i] = took
                    failed[key] += bad

    threads = [threading.Thread(target=worker) for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(summary(name_a, lat["a"], failed["a"], parallel)))
    print(json.dumps(summary(name_b, lat["b"], failed["b"], parallel)))
    diffs = [b - a for a, b in zip(lat["a"], lat["b"])]
    print(json.dumps({"name": "%s minus %s" % (name_b, name_a), "pairs": len(diffs),
                      "median_diff_us": round(statistics.median(diffs) * 1e6),
                      "mean_diff_us": round(statistics.fmean(diffs) * 1e6),
                      "mean_ratio": round(statistics.fmean(lat["b"]) /
                                          statistics.fmean(lat["a"]), 3)}))


if __name__ == "__main__":
    main()

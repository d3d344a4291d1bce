#!/usr/bin/env python3
"""Checks passwords over otpd's verify socket as fast as the daemon answers them.

Each of --connections threads sends `PASSWORD<TAB>id<TAB>user=UPN<TAB>password=...` for one user, waits for
the answer, and sends the next, until --duration seconds have passed. Prints one line: requests,
rate, the answers by kind and the latency percentiles. The password is read from a file so that
it never appears on a command line.

Usage: password_load.py --unix SOCKET --users UPN,UPN,... --password-file FILE
                        [--connections N] [--duration SECONDS]
"""
import argparse
import socket
import threading
import time


def worker(path, user, password, until, results, lock):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    f = s.makefile("rwb", buffering=0)
    latencies, answers = [], {}
    n = 0
    while time.monotonic() < until:
        n += 1
        start = time.monotonic()
        f.write(b"PASSWORD\tp%d\tuser=%s\tpassword=%s\n" % (n, user.encode(), password))
        line = f.readline()
        if not line:
            break
        latencies.append(time.monotonic() - start)
        fields = line.decode().rstrip("\n").split("\t")
        kind = fields[0] if fields else "?"
        if kind == "FAIL":
            kind += ":" + next((x[7:] for x in fields if x.startswith("reason=")), "?")
        answers[kind] = answers.get(kind, 0) + 1
    s.close()
    with lock:
        results["latencies"].extend(latencies)
        for k, v in answers.items():
            results["answers"][k] = results["answers"].get(k, 0) + v


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--unix", required=True)
    p.add_argument("--users", required=True)
    p.add_argument("--password-file", required=True)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--duration", type=float, default=10.0)
    a = p.parse_args()
    with open(a.password_file, "rb") as f:
        password = f.readline().rstrip(b"\r\n")
    users = a.users.split(",")
    results = {"latencies": [], "answers": {}}
    lock = threading.Lock()
    start = time.monotonic()
    until = start + a.duration
    threads = [
        threading.Thread(target=worker,
                         args=(a.unix, users[i % len(users)], password, until, results, lock))
        for i in range(a.connections)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    lat = sorted(results["latencies"])
    if not lat:
        print("password-load: no answers")
        return 1

    def pct(q):
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000

    answers = " ".join("%s=%d" % kv for kv in sorted(results["answers"].items()))
    print("password-load: requests=%d rate=%.1f/s %s p50=%.1fms p99=%.1fms max=%.1fms" %
          (len(lat), len(lat) / elapsed, answers, pct(0.5), pct(0.99), lat[-1] * 1000))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Signs users in through otpd's validate API and reports sign-ins per second and latency.

  validate_driver.py PORT CLIENT KEYFILE JOBS PARALLEL [PATH]

JOBS is a signin_driver.py job file (`user<TAB>code`); PARALLEL threads each keep one HTTP/1.1
connection to 127.0.0.1:PORT and POST one sign-in at a time (form-urlencoded, HTTP Basic with
CLIENT and the key in KEYFILE) to PATH (default /validate/check). A sign-in counts as accepted
on a JSON answer with result.value true (/validate/check) or a 204 (/validate/radiuscheck).
Prints one line; codes and the key are never printed."""
import base64
import http.client
import json
import queue
import sys
import threading
import time
import urllib.parse


def main():
    port, client, keyfile, jobs_file, parallel = sys.argv[1:6]
    path = sys.argv[6] if len(sys.argv) > 6 else "/validate/check"
    parallel = int(parallel)
    with open(keyfile) as f:
        key = f.readline().strip()
    auth = "Basic " + base64.b64encode(("%s:%s" % (client, key)).encode()).decode()
    jobs = queue.Queue()
    with open(jobs_file) as f:
        for line in f:
            user, code = line.rstrip("\n").split("\t")
            jobs.put(urllib.parse.urlencode({"user": user, "pass": code}))
    total = jobs.qsize()
    latencies, failed, lock = [], [0], threading.Lock()
    headers = {"Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"}

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", int(port))
        mine, bad = [], 0
        while True:
            try:
                body = jobs.get_nowait()
            except queue.Empty:
                break
            start = time.perf_counter()
            conn.request("POST", path, body, headers)
            resp = conn.getresponse()
            data = resp.read()
            mine.append(time.perf_counter() - start)
            if path.endswith("radiuscheck"):
                ok = resp.status == 204
            else:
                ok = resp.status == 200 and json.loads(data)["result"].get("value") is True
            bad += 0 if ok else 1
        with lock:
            latencies.extend(mine)
            failed[0] += bad

    threads = [threading.Thread(target=worker) for _ in range(parallel)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    print("%s: %d sign-ins, %d at a time: %.0f/s, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, "
          "failed %d" % (path, total, parallel, total / elapsed, pct(0.5), pct(0.9), pct(0.99),
                         failed[0]))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A soak of `trainer inference-server` on loopback: good, bad, slow and idle clients
in bounded loops for a fixed time, while the server's memory (VmRSS) and open files
are sampled. Reports whether either grew, how many good requests were refused, and
how long SIGTERM took. Standard library only; Linux (reads /proc).

    python3 bench/soak.py --trainer target/release/trainer --artifact DIR --minutes 10
"""

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import threading
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--trainer", required=True, help="the trainer binary")
    p.add_argument("--artifact", required=True, help="a trained artifact folder")
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--good", type=int, default=4, help="good clients")
    p.add_argument("--bad", type=int, default=2, help="clients of malformed requests")
    p.add_argument("--slow", type=int, default=8, help="clients sending headers a byte at a time")
    p.add_argument("--idle", type=int, default=8, help="clients that connect and send nothing")
    p.add_argument("--json", help="write the summary here too")
    return p.parse_args()


def exchange(port, raw, timeout=10.0):
    """Sends one request on a fresh connection; returns (status, body) or (0, error)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(raw)
            chunks = []
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        answer = b"".join(chunks)
        status = int(answer.split(b" ", 2)[1])
        return status, answer.split(b"\r\n\r\n", 1)[-1]
    except (OSError, ValueError, IndexError) as e:
        return 0, str(e).encode()


def request(path, body, content_type="application/json", extra=""):
    body = body if isinstance(body, bytes) else body.encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.values = {}
        self.latencies = []

    def add(self, key, n=1):
        with self.lock:
            self.values[key] = self.values.get(key, 0) + n


def good_client(port, path, body, stop, counts):
    raw = request(path, body)
    while not stop.is_set():
        start = time.perf_counter()
        status, reply = exchange(port, raw)
        elapsed = time.perf_counter() - start
        with counts.lock:
            counts.latencies.append(elapsed)
        counts.add("good_ok" if status == 200 else "good_refused")
        if status != 200:
            counts.add(f"good_status_{status}")


def bad_client(port, model, features, stop, counts):
    path = f"/v1/models/{model}/score"
    bad = [
        request(path, '{"inputs": [[1, 2'),
        request(path, '{"inputs": [[1, 2, 3]]}'),
        request(path, '{"inputs": []}'),
        request(path, json.dumps({"inputs": [[1e39] * features]})),
        request(path, "x", extra="Content-Encoding: gzip\r\n"),
        request(path, "1,2,3", content_type="text/csv"),
        request(f"/v1/models/{model}/sing", "{}"),
        request("/v1/models/nope/score", "{}"),
        request(path, b"\x93NUMPY\x01\x00\xff\xff{'descr'"),
        request(path, '{"inputs": [{"a": 1, "a": 2}]}'),
    ]
    i = 0
    while not stop.is_set():
        status, _ = exchange(port, bad[i % len(bad)])
        counts.add("bad_4xx" if 400 <= status < 500 else f"bad_status_{status}")
        i += 1


def slow_client(port, stop, counts):
    """Sends a request's headers a byte every half second until the server closes."""
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                for byte in b"POST /v1/models/x/score HTTP/1.1\r\nHost: soak\r\nX-Slow: " + b"y" * 10000:
                    if stop.is_set():
                        return
                    s.sendall(bytes([byte]))
                    time.sleep(0.5)
        except OSError:
            counts.add("slow_closed_by_server")


def idle_client(port, stop, counts):
    """Connects, sends nothing, and waits for the server to close."""
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
                if s.recv(1) == b"":
                    counts.add("idle_closed_by_server")
        except OSError:
            counts.add("idle_closed_by_server")


def sample(pid):
    with open(f"/proc/{pid}/status") as f:
        rss = int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def main():
    args = parse_args()
    server = subprocess.Popen(
        [args.trainer, "inference-server", "--artifact", f"m={args.artifact}", "--port", "0",
         "--backend", "flex", "--header-timeout-s", "2"],
        stdout=subprocess.PIPE, text=True,
    )
    port = None
    for line in server.stdout:
        m = re.match(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    assert port, "the server did not say where it listens"
    threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
    status, body = exchange(port, b"GET /v1/models HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n")
    features = json.loads(body)["models"][0]["features"]
    good_body = json.dumps({"inputs": [[0.5] * features]})

    stop, counts = threading.Event(), Counts()
    clients = (
        [threading.Thread(target=good_client, args=(port, "/v1/models/m/score", good_body, stop, counts)) for _ in range(args.good)]
        + [threading.Thread(target=bad_client, args=(port, "m", features, stop, counts)) for _ in range(args.bad)]
        + [threading.Thread(target=slow_client, args=(port, stop, counts)) for _ in range(args.slow)]
        + [threading.Thread(target=idle_client, args=(port, stop, counts)) for _ in range(args.idle)]
    )
    for c in clients:
        c.daemon = True
        c.start()
    samples = []
    start = time.time()
    while time.time() - start < args.minutes * 60:
        time.sleep(10)
        rss, fds = sample(server.pid)
        samples.append((time.time() - start, rss, fds))
        print(f"{samples[-1][0]:6.0f} s  RSS {rss / 1024:7.1f} MiB  open files {fds:4d}  "
              f"good {counts.values.get('good_ok', 0)}", flush=True)
    stop.set()
    time.sleep(1)
    stopping = time.perf_counter()
    server.send_signal(signal.SIGTERM)
    code = server.wait(timeout=60)
    took = time.perf_counter() - stopping

    minute = max(1, len(samples) // max(1, int(args.minutes)))
    first, last = samples[:minute], samples[-minute:]
    lat = sorted(counts.latencies)
    summary = {
        "minutes": args.minutes,
        "clients": {"good": args.good, "bad": args.bad, "slow": args.slow, "idle": args.idle},
        "counts": counts.values,
        "rss_mib_first_minute": max(s[1] for s in first) / 1024,
        "rss_mib_last_minute": max(s[1] for s in last) / 1024,
        "rss_mib_max": max(s[1] for s in samples) / 1024,
        "open_files_first_minute": max(s[2] for s in first),
        "open_files_last_minute": max(s[2] for s in last),
        "open_files_max": max(s[2] for s in samples),
        "good_p50_ms": 1000 * statistics.median(lat) if lat else None,
        "good_p99_ms": 1000 * lat[int(0.99 * (len(lat) - 1))] if lat else None,
        "sigterm_exit_code": code,
        "sigterm_seconds": took,
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Load on ``argmine serve``: many requests from concurrent clients against a real server on localhost.

Starts ``python -m argmine serve`` (a subprocess, the model loaded once at start), sends one warm-up
request, then ``--requests`` POST /analyze requests of the same thread from ``--clients`` concurrent
clients, and reports latency (p50 / p95 / max), throughput, the server's peak resident memory (VmHWM)
and its model loads (must be 1) and failures (must be 0). Exits 1 when a request failed or the model
loaded more than once. A benchmark, not a test: the numbers depend on the machine.

usage: python scripts/bench_serve.py [--model embedded|FOLDER] [--requests 200] [--clients 8]
                                     [--input examples/thread.txt] [--format json] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_kb(pid: int, field: str) -> int:
    """A field of /proc/PID/status in kB (VmRSS now, VmHWM the peak so far)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def start(model: str, port: int, queue: int) -> subprocess.Popen:
    """The server, waited for until /health answers."""
    command = [sys.executable, "-m", "argmine", "serve", "--port", str(port), "--model", model, "--queue", str(queue), "-q"]
    env = {**os.environ, "ARGMINE_TOKEN": TOKEN}
    proc = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 600
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).raise_for_status()
            return proc
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"bench: the server did not start (exit {proc.poll()})")
            time.sleep(0.5)


def load(url: str, body: bytes, fmt: str, requests: int, clients: int) -> tuple[list[float], list[str], float]:
    """Send ``requests`` requests from ``clients`` threads: (latencies, failures, wall seconds)."""
    latencies: list[float] = []
    failures: list[str] = []
    left = iter(range(requests))
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/plain"}

    def client() -> None:
        with httpx.Client(base_url=url, timeout=600) as http:
            while True:
                with lock:
                    if next(left, None) is None:
                        return
                began = time.perf_counter()
                try:
                    r = http.post(f"/analyze?format={fmt}", content=body, headers=headers)
                    problem = None if r.status_code == 200 else f"{r.status_code} {r.text[:200]}"
                except httpx.HTTPError as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                with lock:
                    latencies.append(time.perf_counter() - began)
                    if problem:
                        failures.append(problem)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, failures, time.perf_counter() - began


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="embedded")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--input", default=str(ROOT / "examples" / "thread.txt"))
    ap.add_argument("--format", default="json")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    args = ap.parse_args()
    body, port = Path(args.input).read_bytes(), free_port()
    url = f"http://127.0.0.1:{port}"
    began = time.perf_counter()
    proc = start(args.model, port, queue=max(32, 2 * args.clients))
    try:
        startup = time.perf_counter() - began
        health = httpx.get(f"{url}/health").json()
        rss_loaded = memory_kb(proc.pid, "VmRSS")
        warm = time.perf_counter()
        load(url, body, args.format, 1, 1)
        first = time.perf_counter() - warm
        latencies, failures, wall = load(url, body, args.format, args.requests, args.clients)
        after = httpx.get(f"{url}/health").json()
        peak = memory_kb(proc.pid, "VmHWM")
    finally:
        proc.terminate()
        proc.wait(60)
    report = {
        "model": health["model_version"],
        "input_bytes": len(body),
        "requests": args.requests,
        "clients": args.clients,
        "cpu_cores": os.cpu_count(),
        "startup_s": round(startup, 2),
        "first_request_s": round(first, 3),
        "p50_s": round(percentile(latencies, 0.50), 3),
        "p95_s": round(percentile(latencies, 0.95), 3),
        "max_s": round(max(latencies), 3),
        "mean_s": round(statistics.fmean(latencies), 3),
        "throughput_rps": round(len(latencies) / wall, 3),
        "wall_s": round(wall, 1),
        "rss_after_load_mb": round(rss_loaded / 1024, 1),
        "peak_rss_mb": round(peak / 1024, 1),
        "model_loads": after["model_loads"],
        "same_server_process": after["pid"] == health["pid"] == proc.pid,
        "failures": len(failures),
        "internal_errors": after["internal_errors"],
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key:>20}: {value}")
        for problem in failures[:5]:
            print(f"failure: {problem}")
    if failures or report["model_loads"] != 1 or not report["same_server_process"]:
        sys.exit(1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Load on ``argmine serve``: today's one-at-a-time server against the batching one, in one run.

Starts ``python -m argmine serve`` twice (a subprocess each, the model loaded once at start): first with
``--max-batch 1`` (today's server: one request at a time), then batching (``--max-batch``, ``--batch-wait-ms``).
On each, after a warm-up request: ``--lone`` requests from one client in turn (a lone request's latency, and
one client's throughput), then ``--requests`` requests of the same thread from ``--clients`` concurrent
clients (throughput, latency p50 / p95 / max). Reports each server's numbers side by side and issue 25's
targets: with the clients, throughput at least 3x one client's, and p95 at most 3x a lone request's latency.
Exits 1 when a request failed or a server loaded its model more than once. A benchmark, not a test: the
numbers depend on the machine (and on what else it runs).

usage: python scripts/bench_serve.py [--model embedded|FOLDER] [--requests 64] [--lone 8] [--clients 8]
                                     [--max-batch 8] [--batch-wait-ms 20] [--input examples/thread.txt]
                                     [--format json] [--json]
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


def start(model: str, port: int, queue: int, max_batch: int, wait_ms: float) -> subprocess.Popen:
    """The server, waited for until /health answers."""
    command = [sys.executable, "-m", "argmine", "serve", "--port", str(port), "--model", model, "--queue", str(queue), "-q"]
    command += ["--max-batch", str(max_batch), "--batch-wait-ms", str(wait_ms)]
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


def measure(args, body: bytes, max_batch: int, wait_ms: float) -> tuple[dict, list[str]]:
    """One server's numbers: a lone request, one client in turn, then the concurrent clients."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    began = time.perf_counter()
    proc = start(args.model, port, max(32, 2 * args.clients), max_batch, wait_ms)
    try:
        startup = time.perf_counter() - began
        health = httpx.get(f"{url}/health").json()
        load(url, body, args.format, 1, 1)  # warm-up
        lone, lone_failures, lone_wall = load(url, body, args.format, args.lone, 1)
        latencies, failures, wall = load(url, body, args.format, args.requests, args.clients)
        after = httpx.get(f"{url}/health").json()
        peak = memory_kb(proc.pid, "VmHWM")
    finally:
        proc.terminate()
        proc.wait(60)
    report = {
        "max_batch": max_batch,
        "batch_wait_ms": wait_ms,
        "startup_s": round(startup, 2),
        "lone_s": round(statistics.median(lone), 3),
        "one_client_rps": round(len(lone) / lone_wall, 3),
        "clients_rps": round(len(latencies) / wall, 3),
        "p50_s": round(percentile(latencies, 0.50), 3),
        "p95_s": round(percentile(latencies, 0.95), 3),
        "max_s": round(max(latencies), 3),
        "wall_s": round(wall, 1),
        "peak_rss_mb": round(peak / 1024, 1),
        "model_loads": after["model_loads"],
        "same_server_process": after["pid"] == health["pid"] == proc.pid,
        "failures": len(failures) + len(lone_failures),
        "internal_errors": after["internal_errors"],
        "batches": after["batching"]["batches"],
        "mean_batch": after["batching"]["mean_size"],
        "max_batch_seen": after["batching"]["max_size"],
        "queue_wait_p50_ms": after["batching"]["queue_wait_ms"]["p50"],
        "queue_wait_p95_ms": after["batching"]["queue_wait_ms"]["p95"],
    }
    report["throughput_x"] = round(report["clients_rps"] / report["one_client_rps"], 2)  # target >= 3
    report["p95_over_lone_x"] = round(report["p95_s"] / report["lone_s"], 2)  # target <= 3
    return report, lone_failures + failures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="embedded")
    ap.add_argument("--requests", type=int, default=64, help="requests from the concurrent clients, per server")
    ap.add_argument("--lone", type=int, default=8, help="requests from one client in turn, per server")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--max-batch", type=int, default=8)
    ap.add_argument("--batch-wait-ms", type=float, default=20.0)
    ap.add_argument("--input", default=str(ROOT / "examples" / "thread.txt"))
    ap.add_argument("--format", default="json")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    args = ap.parse_args()
    body = Path(args.input).read_bytes()
    today, today_failures = measure(args, body, 1, 0.0)
    batched, failures = measure(args, body, args.max_batch, args.batch_wait_ms)
    report = {
        "input_bytes": len(body),
        "clients": args.clients,
        "requests": args.requests,
        "lone_requests": args.lone,
        "cpu_cores": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "today": today,
        "batched": batched,
        "targets": {
            "throughput_x >= 3": {
                "today": today["throughput_x"],
                "batched": batched["throughput_x"],
                "met": batched["throughput_x"] >= 3,
            },
            "p95_over_lone_x <= 3": {
                "today": today["p95_over_lone_x"],
                "batched": batched["p95_over_lone_x"],
                "met": batched["p95_over_lone_x"] <= 3,
            },
        },
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key in ("input_bytes", "clients", "requests", "lone_requests", "cpu_cores", "load_average"):
            print(f"{key:>22}: {report[key]}")
        print(f"{'':>22}  {'today (max-batch 1)':>20}  {'batched':>12}")
        for key in today:
            print(f"{key:>22}  {today[key]!s:>20}  {batched[key]!s:>12}")
        for target, row in report["targets"].items():
            print(f"target {target}: today {row['today']}, batched {row['batched']} ({'met' if row['met'] else 'NOT met'})")
        for problem in (today_failures + failures)[:5]:
            print(f"failure: {problem}")
    broken = [r for r in (today, batched) if r["failures"] or r["model_loads"] != 1 or not r["same_server_process"]]
    if broken:
        sys.exit(1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Cold start, warm analysis and refusals, timed in fresh processes, beside a bare ``import torch`` and
(``--baseline REF``) the same measurements of an earlier commit, in one run on one machine.

Measured (median of ``--repeats`` runs each):
- ``import torch`` alone: the floor every analysis pays;
- cold: ``argmine analyze THREAD`` in a new process (imports, model load, the analysis), target <= 3 s;
- warm: ``argmine.analyze(THREAD)`` again in a process that has analysed once, target <= 0.5 s;
- refusals that need no model (a missing input file, a missing ``--model`` folder, a bad config value,
  an unknown --format, an --output that is a folder), target <= 0.3 s each;
- the imports of the cold run (``python -X importtime``), the ten costliest top-level packages.
``--baseline REF`` checks REF out in a temporary git worktree and measures it the same way (its code,
this interpreter). Bytecode caches are written as on any install (``PYTHONDONTWRITEBYTECODE`` is dropped
for the timed processes), and one untimed run fills them first. THREAD defaults to seed 002 in
../shared/seeds, else examples/thread.txt.

usage: python scripts/bench_cold.py [THREAD] [--repeats 5] [--baseline REF]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from baseline import checkout  # noqa: E402 (scripts/ is on the path when a bench runs)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TARGETS = {"cold_s": 3.0, "warm_s": 0.5, "refusal_s": 0.3}
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
WARM = """
import sys, time, argmine
path = sys.argv[1]
argmine.analyze(path)
times = []
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    argmine.analyze(path)
    times.append(time.perf_counter() - start)
print(sorted(times)[len(times) // 2])
"""


def timed(cmd: list[str], cwd: Path, expect: int | None = None) -> float:
    """Wall seconds of one fresh process (its exit status checked when ``expect`` is given)."""
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=ENV)
    seconds = time.perf_counter() - start
    if expect is not None and done.returncode != expect:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}, not {expect}: {done.stderr.strip()[-300:]}")
    return seconds


def median(cmd: list[str], cwd: Path, repeats: int, expect: int | None = None) -> float:
    return round(statistics.median(timed(cmd, cwd, expect) for _ in range(repeats)), 3)


def imports(cmd: list[str], cwd: Path) -> list[tuple[str, float]]:
    """The costliest top-level imports of one run (``-X importtime``): (package, cumulative seconds)."""
    done = subprocess.run([sys.executable, "-X", "importtime", *cmd], cwd=cwd, capture_output=True, text=True, env=ENV)
    tops: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|", 2)
        if cumulative.strip().isdigit() and not name.startswith("  "):  # a top-level import
            package = name.strip().split(".")[0]
            tops[package] = tops.get(package, 0.0) + int(cumulative) / 1e6
    return sorted(((p, round(s, 3)) for p, s in tops.items()), key=lambda x: -x[1])[:10]


def measure(code: Path, thread: Path, repeats: int) -> dict:
    """Every measurement with the argmine of folder ``code`` (``python -m argmine`` run there)."""
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "graph.json"
        bad_config = Path(tmp) / "bad.yaml"
        bad_config.write_text("input:\n  max_bytes: -5\n", encoding="utf-8")
        analyze = ["-m", "argmine", "analyze", str(thread), "--quiet", "--output", str(out)]
        timed([py, *analyze], code, 0)  # untimed: fills the bytecode caches, as a first run on any install does
        row = {
            "cold_s": median([py, *analyze], code, repeats, 0),
            "warm_s": round(
                float(
                    subprocess.run(
                        [py, "-c", WARM, str(thread), str(repeats)],
                        cwd=code,
                        capture_output=True,
                        text=True,
                        check=True,
                        env=ENV,
                    ).stdout.split()[-1]
                ),
                3,
            ),
            "refusals_s": {
                "missing input": median([py, "-m", "argmine", "analyze", str(Path(tmp) / "missing.txt")], code, repeats, 2),
                "missing --model folder": median([py, *analyze, "--model", str(Path(tmp) / "no-model")], code, repeats, 2),
                "bad config value": median([py, *analyze, "--config", str(bad_config)], code, repeats, 2),
                "unknown --format": median([py, *analyze, "--format", "nosuch"], code, repeats, 2),
                "--output is a folder": median([py, "-m", "argmine", "analyze", str(thread), "--output", tmp], code, repeats, 2),
            },
            "imports_s": imports(analyze, code),
        }
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("thread", nargs="?")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline", help="a commit to measure the same way, in a temporary worktree")
    args = parser.parse_args()
    seeds = sorted(SHARED.glob("seeds/002*"))
    thread = Path(args.thread) if args.thread else seeds[0] if seeds else ROOT / "examples" / "thread.txt"
    thread = thread.resolve()
    report = {
        "thread": thread.name,
        "targets": TARGETS,
        "import torch alone s": median([sys.executable, "-c", "import torch"], ROOT, args.repeats, 0),
    }
    with checkout(args.baseline) as tree:
        if tree:
            report[f"baseline {args.baseline}"] = measure(tree, thread, args.repeats)
    report["now"] = measure(ROOT, thread, args.repeats)
    report["import torch alone s (again)"] = median([sys.executable, "-c", "import torch"], ROOT, args.repeats, 0)
    now = report["now"]
    report["met"] = {
        "cold": now["cold_s"] <= TARGETS["cold_s"],
        "warm": now["warm_s"] <= TARGETS["warm_s"],
        "refusals": all(v <= TARGETS["refusal_s"] for v in now["refusals_s"].values()),
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Snapshot every output argmine makes of one thread, through the CLI, to prove a change alters no byte.

Runs ``argmine analyze`` (JSON graph, the tree view, ``--format`` exports), ``argmine export`` to every
format and ``argmine import`` back from each tool, and records a SHA-256 per output file.

usage: python scripts/snapshot_outputs.py [THREAD] --save before.json
       python scripts/snapshot_outputs.py [THREAD] --compare before.json   # exit 1 on any difference
THREAD defaults to seed 002 in ../shared/seeds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))
from argmine.formats import EXPORT_FORMATS, FORMATS, IMPORT_FORMATS  # noqa: E402 (this checkout's registry)


def argmine(*args: str, cwd: Path, stdout: Path | None = None) -> None:
    # Run inside the output folder with relative paths, so paths recorded in outputs do not depend on where it is.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "argmine", *args], capture_output=True, text=True, cwd=cwd, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"argmine {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    if stdout is not None:
        stdout.write_text(proc.stdout, encoding="utf-8")


def import_source(fmt: str, export: Path) -> Path:
    """The file of an export that its importer reads: the folder's first annotation file (brat's .ann,
    Label Studio's tasks.json), else the export itself."""
    if not FORMATS[fmt].folder:
        return export
    return next(p for p in sorted(export.iterdir()) if p.suffix in (".ann", ".json") and not p.name.endswith(".argmine.json"))


def snapshot(thread: Path, out: Path) -> dict[str, str]:
    (out / "thread").mkdir()
    shutil.copy(thread, out / "thread" / thread.name)
    source = f"thread/{thread.name}"
    argmine("analyze", source, "-o", "graph.json", "-q", cwd=out)
    argmine("analyze", source, "--tree", "-q", cwd=out, stdout=out / "tree.txt")
    argmine("analyze", source, "--format", "brat", "-o", "analyze-brat", "-q", cwd=out)
    argmine("analyze", source, "--format", "argdown", "-o", "analyze.argdown", "-q", cwd=out)
    for fmt in EXPORT_FORMATS:
        target = f"export-{fmt}"
        argmine("export", "graph.json", "--to", fmt, "-o", target, cwd=out)
        if fmt in IMPORT_FORMATS:
            extra = ["--text", source] if fmt == "doccano" else []
            argmine(
                "import",
                str(import_source(fmt, out / target).relative_to(out)),
                "--from",
                fmt,
                *extra,
                "-o",
                f"import-{fmt}.json",
                cwd=out,
            )
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*")) if p.is_file()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("thread", nargs="?", help="thread file (default: seed 002)")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", help="write the snapshot here")
    group.add_argument("--compare", help="compare with a saved snapshot")
    parser.add_argument("--keep", help="keep the outputs in this folder")
    args = parser.parse_args()
    thread = Path(args.thread) if args.thread else next((SHARED / "seeds").glob("002_*.txt"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep or tmp)
        out.mkdir(parents=True, exist_ok=True)
        hashes = snapshot(thread, out)
    if args.save:
        Path(args.save).write_text(json.dumps(hashes, indent=1) + "\n", encoding="utf-8")
        print(f"{len(hashes)} outputs saved to {args.save}")
        return
    saved = json.loads(Path(args.compare).read_text(encoding="utf-8"))
    differ = sorted(k for k in saved.keys() | hashes.keys() if saved.get(k) != hashes.get(k))
    for name in differ:
        print(f"differs: {name}")
    print(f"{len(hashes)} outputs, {len(differ)} differ from {args.compare}")
    raise SystemExit(1 if differ else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Peak memory and time of ``argmine.analyze`` against thread size and shape.

Each run is a fresh process (peak RSS is per process): a synthetic thread of N comments shaped as a
reply chain (each comment answers the one before), a bushy tree (comments answer the article or a
random earlier comment), or one long post of N units (a 2 MB article). The default model is a tiny
checkpoint that links every pair (the worst case for decoding: every score is high); ``--model``
names another (``embedded`` = the shipped one, far slower).

usage: python scripts/bench_memory.py [--sizes 1000,3000,10000] [--shapes chain,bushy,one-post] [--model PATH|embedded]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = (
    "government tax plan city council voters budget war peace russia syria coalition rebels election policy refugees "
    "economy prices wages schools health police border trade climate energy cars because but although however "
    "therefore people believe claim argue support oppose reject fail"
).split()


def thread(shape: str, n: int, seed: int = 0) -> dict:
    """A JSON thread: an article and ``n`` comments (or, for one-post, an article of ``n`` sentences)."""
    rng = random.Random(seed)
    vocab = WORDS + [f"{rng.choice(WORDS)[:4]}{i}" for i in range(3000)]
    weights = [1 / (rank + 1) for rank in range(len(vocab))]

    def sentences(k: int) -> str:
        return " ".join(" ".join(rng.choices(vocab, weights, k=rng.randint(6, 16))).capitalize() + "." for _ in range(k))

    if shape == "one-post":
        return {"id": f"{shape}-{n}", "article": {"text": sentences(n)}, "comments": []}
    comments = []
    for i in range(1, n + 1):
        if shape == "chain":
            parent = None if i == 1 else f"c{i - 1}"
        else:
            parent = None if i == 1 or rng.random() < 0.3 else f"c{rng.randint(1, i - 1)}"
        comments.append({"id": f"c{i}", "parent": parent, "text": sentences(rng.randint(1, 3))})
    return {"id": f"{shape}-{n}", "article": {"text": sentences(8)}, "comments": comments}


def tiny_model(folder: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from tests import tiny_models

    return tiny_models.build(folder, tiny_models.CONVENTIONS["argmine"], favour="support")


def run_one(path: str, model: str) -> dict:
    import argmine

    settings = argmine.load_settings(overrides={"model": {"name": model, "device": "cpu"}})
    loaded = argmine.load_model(settings=settings)
    doc = argmine.read(path, settings=settings)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    graph = argmine.analyze(doc, model=loaded, settings=settings)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "units": len(graph.units),
        "pairs": graph.stats["pairs_scored"],
        "relations": len(graph.relations),
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak / 1024),
        "growth_mb": round((peak - base) / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,3000,10000")
    parser.add_argument("--shapes", default="chain,bushy,one-post")
    parser.add_argument("--model", default=None, help="model folder or 'embedded' (default: a tiny links-everything model)")
    parser.add_argument("--one", nargs=2, metavar=("THREAD", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(*args.one)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or str(tiny_model(Path(tmp) / "tiny"))
        print(f"model: {args.model or 'tiny, links every pair'}")
        print(
            f"{'shape':<9} {'size':>6} {'units':>7} {'pairs':>8} {'relations':>9} {'seconds':>8} {'peak RSS MB':>11} {'growth MB':>9}"
        )
        for shape in args.shapes.split(","):
            for n in (int(x) for x in args.sizes.split(",")):
                path = Path(tmp) / f"{shape}-{n}.json"
                path.write_text(json.dumps(thread(shape, n)), encoding="utf-8")
                proc = subprocess.run([sys.executable, __file__, "--one", str(path), model], capture_output=True, text=True)
                if proc.returncode != 0:
                    print(
                        f"{shape:<9} {n:>6} failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}"
                    )
                    continue
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                print(
                    f"{shape:<9} {n:>6} {r['units']:>7} {r['pairs']:>8} {r['relations']:>9} {r['seconds']:>8} "
                    f"{r['peak_rss_mb']:>11} {r['growth_mb']:>9}",
                    flush=True,
                )


if __name__ == "__main__":
    main()

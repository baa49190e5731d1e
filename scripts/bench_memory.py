#!/usr/bin/env python3
"""Peak memory and time of ``argmine.analyze`` against thread size and shape.

Each run is a fresh process (peak RSS is per process): a synthetic thread of N comments shaped as a
reply chain (each comment answers the one before), a bushy tree (comments answer the article or a
random earlier comment), one long post of N units (a 2 MB article), or a plain-text file of N bytes
on one line without a sentence end (``no-ends``, sizes from ``--no-end-bytes``: units are cut to
``segmenter.max_unit_chars``; a file over ``input.max_bytes`` is refused before any model work). The
default model is a tiny checkpoint that links every pair (the worst case for decoding: every score is
high); ``--model`` names another (``embedded`` = the shipped one, far slower; its tokenizer is the one
whose memory grows with the square of a pair's length).

usage: python scripts/bench_memory.py [--sizes 1000,3000,10000] [--shapes chain,bushy,one-post,no-ends]
       [--no-end-bytes 2000000,20000000] [--model PATH|embedded]
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


def no_ends(n: int, seed: int = 0) -> str:
    """``n`` bytes of words on one line, with no sentence end anywhere."""
    rng = random.Random(seed)
    words = []
    size = 0
    while size < n:
        words.append(rng.choice(WORDS))
        size += len(words[-1]) + 1
    return " ".join(words)[:n]


def tiny_model(folder: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from tests import tiny_models

    return tiny_models.build(folder, tiny_models.CONVENTIONS["argmine"], favour="support")


def run_one(path: str, model: str) -> dict:
    import argmine

    settings = argmine.load_settings(overrides={"model": {"name": model, "device": "cpu"}})
    start = time.perf_counter()
    try:
        doc = argmine.read(path, settings=settings)
    except argmine.ArgmineError as exc:  # refused before any model work: say how, and what it cost
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return {"refused": str(exc), "seconds": round(time.perf_counter() - start, 1), "peak_rss_mb": round(peak / 1024)}
    loaded = argmine.load_model(settings=settings)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    graph = argmine.analyze(doc, model=loaded, settings=settings)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "units": len(graph.units),
        "pairs": graph.stats["pairs_scored"],
        "relations": len(graph.relations),
        "cut": graph.stats.get("cut_units", 0),
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak / 1024),
        "growth_mb": round((peak - base) / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,3000,10000")
    parser.add_argument("--shapes", default="chain,bushy,one-post,no-ends")
    parser.add_argument("--no-end-bytes", default="2000000,20000000", help="sizes of the no-ends texts, in bytes")
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
            f"{'shape':<9} {'size':>8} {'units':>7} {'pairs':>8} {'relations':>9} {'cut':>5} {'seconds':>8} "
            f"{'peak RSS MB':>11} {'growth MB':>9}"
        )
        for shape in args.shapes.split(","):
            for n in (int(x) for x in (args.no_end_bytes if shape == "no-ends" else args.sizes).split(",")):
                if shape == "no-ends":
                    path = Path(tmp) / f"{shape}-{n}.txt"
                    path.write_text(no_ends(n), encoding="utf-8")
                else:
                    path = Path(tmp) / f"{shape}-{n}.json"
                    path.write_text(json.dumps(thread(shape, n)), encoding="utf-8")
                print(row(shape, n, path, model), flush=True)
                path.unlink()


def row(shape: str, n: int, path: Path, model: str) -> str:
    """One line of the table: a fresh process analyzes ``path``."""
    proc = subprocess.run([sys.executable, __file__, "--one", str(path), model], capture_output=True, text=True)
    if proc.returncode != 0:
        return f"{shape:<9} {n:>8} failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}"
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    if "refused" in r:
        return f"{shape:<9} {n:>8} refused in {r['seconds']} s at {r['peak_rss_mb']} MB peak RSS: {r['refused']}"
    return (
        f"{shape:<9} {n:>8} {r['units']:>7} {r['pairs']:>8} {r['relations']:>9} {r['cut']:>5} {r['seconds']:>8} "
        f"{r['peak_rss_mb']:>11} {r['growth_mb']:>9}"
    )


if __name__ == "__main__":
    main()

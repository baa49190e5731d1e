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

``--big`` measures issue 25's targets with the shipped model: bushy threads of 300 and 3,000 comments of 3 to 6
sentences (about 4.5 units a comment), each under 15 s and 3 minutes, seconds per unit and memory flat as
the thread grows; ``--baseline REF`` measures the same threads with the code of commit REF (a temporary
git worktree) in the same run.

usage: python scripts/bench_memory.py [--sizes 1000,3000,10000] [--shapes chain,bushy,one-post,no-ends]
       [--no-end-bytes 2000000,20000000] [--model PATH|embedded] [--sentences 1-3]
       python scripts/bench_memory.py --big [--sizes 300,3000] [--baseline REF]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from baseline import checkout  # noqa: E402 (scripts/ is on the path when a bench runs)

ROOT = Path(__file__).resolve().parents[1]
WORDS = (
    "government tax plan city council voters budget war peace russia syria coalition rebels election policy refugees "
    "economy prices wages schools health police border trade climate energy cars because but although however "
    "therefore people believe claim argue support oppose reject fail"
).split()


def thread(shape: str, n: int, seed: int = 0, sentences_per_comment: tuple[int, int] = (1, 3)) -> dict:
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
        comments.append({"id": f"c{i}", "parent": parent, "text": sentences(rng.randint(*sentences_per_comment))})
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


def run_one(path: str, model: str, quantize: str = "none") -> dict:
    import argmine

    settings = argmine.load_settings(overrides={"model": {"name": model, "device": "cpu", "quantize": quantize}})
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
    parser.add_argument("--sentences", default="1-3", help="sentences per comment, LOW-HIGH")
    parser.add_argument("--big", action="store_true", help="issue 25's big-thread targets with the shipped model")
    parser.add_argument("--baseline", help="with --big: a commit measured the same way, in a temporary worktree")
    parser.add_argument("--quantize", default="none", help="with --big: none or int8 (the current code only)")
    parser.add_argument("--one", nargs=3, metavar=("THREAD", "MODEL", "QUANTIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(*args.one)))
        return
    low, _, high = args.sentences.partition("-")
    if args.big:
        sizes = [int(x) for x in (args.sizes if args.sizes != "1000,3000,10000" else "300,3000").split(",")]
        big(sizes, args.baseline, args.quantize)
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
                    path.write_text(json.dumps(thread(shape, n, 0, (int(low), int(high or low)))), encoding="utf-8")
                print(row(shape, n, path, model), flush=True)
                path.unlink()


TARGETS_S = {300: 15.0, 3000: 180.0}


def measured(path: Path, model: str, code: Path | None = None, quantize: str = "none") -> dict:
    """One fresh process analyses ``path`` with the argmine of folder ``code`` (default: this checkout)."""
    env = {**os.environ, "PYTHONPATH": str(code)} if code else None
    cmd = [sys.executable, __file__, "--one", str(path), model, quantize]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return {"failed": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def big(sizes: list[int], baseline: str | None, quantize: str = "none") -> None:
    """Bushy threads of ``sizes`` comments (3-6 sentences each) with the shipped model: time, seconds per
    unit and peak memory, now and (``baseline``) at an earlier commit, beside the targets."""
    report: dict = {"targets_s": {str(k): v for k, v in TARGETS_S.items()}}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for n in sizes:
            paths[n] = Path(tmp) / f"bushy-{n}.json"
            paths[n].write_text(json.dumps(thread("bushy", n, 0, (3, 6))), encoding="utf-8")
        now = "now" if quantize == "none" else f"now, --quantize {quantize}"
        with checkout(baseline) as tree:
            codes = {**({f"baseline {baseline}": tree} if tree else {}), now: None}
            for label, code in codes.items():
                rows = {}
                for n in sizes:
                    r = measured(paths[n], "embedded", code, quantize if code is None else "none")
                    if "units" in r:
                        r["seconds_per_unit"] = round(r["seconds"] / max(1, r["units"]), 4)
                        r["relations_per_unit"] = round(r["relations"] / max(1, r["units"]), 3)
                        if n in TARGETS_S:
                            r["target_met"] = r["seconds"] < TARGETS_S[n]
                    rows[f"{n} comments"] = r
                    print(json.dumps({label: {f"{n} comments": r}}), file=sys.stderr, flush=True)
                report[label] = rows
    print(json.dumps(report, indent=1))


def row(shape: str, n: int, path: Path, model: str) -> str:
    """One line of the table: a fresh process analyzes ``path``."""
    proc = subprocess.run([sys.executable, __file__, "--one", str(path), model, "none"], capture_output=True, text=True)
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

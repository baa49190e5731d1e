#!/usr/bin/env python3
"""CPU speed of ``argmine batch`` with the embedded model: paired, repeated runs.

A synthetic corpus of news-comment threads (an article of 4-8 sentences, 2-8 comments of 1-3 sentences
in a reply tree) is analysed by ``argmine batch`` in fresh processes, alternating the variants within
each repetition so that a busy moment on a shared machine hits them alike:

- ``OMP_WAIT_POLICY`` ACTIVE (torch's default spin-waiting) against PASSIVE (set before torch loads);
- fp32 against the opt-in int8 fast path (``--quantize int8``).

Beside them, the raw forward rate of the same model on the same pairs (pre-tokenized, length-sorted
batches, forward passes alone) is the ceiling the batch is measured against. ``--decisions`` also
reports how many relation decisions int8 changes on seed 002 and on the microtexts (gold units).

``--baseline REF`` also runs every variant with the code of commit REF (a temporary git worktree), in the
same paired repetitions ("today's number measured in the same run"); ``--device cuda`` runs the batches on
a GPU (fp16 there), to put its units/s beside the CPU's.

usage: python scripts/bench_batch.py [--threads 80] [--repeats 2] [--variants passive-none,active-none,passive-int8] [--decisions]
                                    [--model embedded|FOLDER] [--raw VARIANTS]   (--raw "" for a parser: the raw rate is a pair model's)
                                    [--baseline REF] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from baseline import checkout  # noqa: E402 (scripts/ is on the path when a bench runs)

ROOT = Path(__file__).resolve().parents[1]
WORDS = (
    "the council tax plan voters budget war peace russia syria coalition rebels election policy refugees economy prices "
    "wages schools health police border trade climate energy cars people believe claim argue support oppose reject fail "
    "because but although however therefore government should would will not never always city years new"
).split()


def corpus(n: int, seed: int = 0) -> str:
    rng = random.Random(seed)

    def sentences(k: int) -> str:
        return " ".join(" ".join(rng.choices(WORDS, k=rng.randint(8, 22))).capitalize() + "." for _ in range(k))

    lines = []
    for t in range(n):
        comments = []
        for i in range(rng.randint(2, 8)):
            parent = None if i == 0 or rng.random() < 0.4 else f"c{rng.randrange(i)}"
            comments.append({"id": f"c{i}", "parent": parent, "text": sentences(rng.randint(1, 3))})
        lines.append(json.dumps({"id": f"t{t}", "article": {"text": sentences(rng.randint(4, 8))}, "comments": comments}))
    return "\n".join(lines) + "\n"


def run_batch(
    path: Path, out: Path, policy: str, quantize: str, model: str = "embedded", code: Path = ROOT, device: str = "cpu"
) -> dict:
    env = {**os.environ, "OMP_WAIT_POLICY": policy, "PYTHONPATH": str(code)}
    cmd = [sys.executable, "-m", "argmine", "batch", str(path), "-o", str(out), "--quantize", quantize, "--device", device, "-q"]
    cmd += ["--model", model]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=code)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    line = proc.stdout.strip().splitlines()[-1]  # "N threads (...), U units, R relations, E errors in S s (X units/s)"
    units = int(line.split(" units,")[0].split()[-1])
    seconds = float(line.split(" errors in ")[1].split(" s")[0])
    pairs = 0
    for shard in out.glob("shard-*.jsonl"):
        pairs += sum(json.loads(x)["stats"]["pairs_scored"] for x in shard.read_text().splitlines() if '"argmine.graph"' in x)
    return {"units": units, "seconds": seconds, "units_s": units / seconds, "pairs": pairs}


RAW = r"""
import json, sys, time
import torch
import argmine
from argmine.relations.candidates import candidate_pairs, pair_contexts
from argmine.relations.pair import mark, post_pairs
from argmine.units.segmenter import segment
settings = argmine.load_settings(overrides={"model": {"device": "cpu", "quantize": sys.argv[2]}})
model = argmine.load_model(settings=settings)
texts = []
for result in argmine.read_all(sys.argv[1], settings=settings):
    doc = segment(result.document, settings.segmenter, settings.boilerplate)
    pairs = candidate_pairs(doc, settings.candidates)
    texts += [(mark(model.markers, c, doc.units[a].text), doc.units[b].text) for (a, b), c in zip(pairs, pair_contexts(doc, pairs))]
    spans = {p.id: doc.text[p.start:p.end] for p in doc.posts}
    texts += [(mark(model.markers, "reply", spans[a]), spans[b]) for a, b in post_pairs(doc, pairs)]
enc = model.tokenizer([a for a, _ in texts], [b for _, b in texts], truncation="longest_first", max_length=model.max_length)
order = sorted(range(len(texts)), key=lambda i: len(enc["input_ids"][i]))
size = settings.model.batch_size
batches = [model.tokenizer.pad([{k: enc[k][i] for k in enc} for i in order[j:j + size]], return_tensors="pt") for j in range(0, len(order), size)]
start = time.perf_counter()
with torch.inference_mode():
    for b in batches:
        model.model(**b)
print(json.dumps({"pairs": len(texts), "seconds": time.perf_counter() - start}))
"""


def raw_forward(path: Path, policy: str, quantize: str) -> dict:
    env = {**os.environ, "OMP_WAIT_POLICY": policy, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", RAW, str(path), quantize], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    return {**r, "pairs_s": r["pairs"] / r["seconds"]}


def decisions() -> None:
    """Relation decisions that int8 changes: seed 002 (../shared) and microtexts with gold units."""
    import argmine
    from argmine.evaluation import corpora
    from argmine.evaluation.metrics import model_relater

    shared = ROOT.parent / "shared"
    runs = {}
    for quantize in ("none", "int8"):
        settings = argmine.load_settings(overrides={"model": {"device": "cpu", "quantize": quantize}})
        model = argmine.load_model(settings=settings)
        seed = next((shared / "seeds").glob("002_*.txt"), None)
        seed_rel = (
            {(r.source, r.target, r.label) for r in argmine.analyze(seed, model=model, settings=settings).relations}
            if seed
            else set()
        )
        relate = model_relater(model, settings)
        micro = []
        for doc in corpora.read_microtexts(shared / "data" / "arg-microtexts" / "corpus" / "en"):
            relations, tree = relate(doc.document)
            micro.append(({(r.source, r.target, r.label) for r in relations}, {(c, r.target, r.label) for c, r in tree.items()}))
        report = argmine.evaluate(
            shared / "data" / "arg-microtexts" / "corpus" / "en",
            "microtexts",
            mode="gold",
            baselines=False,
            model=model,
            settings=settings,
        )
        runs[quantize] = (seed_rel, micro, report.results[0])
    (s0, m0, r0), (s1, m1, r1) = runs["none"], runs["int8"]
    print(f"seed 002: {len(s0 ^ s1)} of {len(s0 | s1)} relations differ (fp32 {len(s0)}, int8 {len(s1)})")
    rel_diff = sum(len(a[0] ^ b[0]) for a, b in zip(m0, m1))
    rel_all = sum(len(a[0] | b[0]) for a, b in zip(m0, m1))
    tree_diff = sum(len(a[1] - b[1]) for a, b in zip(m0, m1))
    tree_all = sum(len(a[1]) for a in m0)
    print(
        f"microtexts (gold units): {rel_diff} of {rel_all} output relations differ; {tree_diff} of {tree_all} decoded tree links differ"
    )
    for key in ("attachment_accuracy", "label_accuracy_on_attached"):
        print(f"  {key}: fp32 {r0[key]}  int8 {r1[key]}")
    print(f"  relation F1: fp32 {r0['relations']['overall']['f1']}  int8 {r1['relations']['overall']['f1']}")


def ray_overhead(n: int) -> None:
    """Wall time of the whole command, local engine against a local 2-worker Ray instance, same output."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corpus.jsonl"
        path.write_text(corpus(n, seed=1), encoding="utf-8")
        times = {}
        for engine in ("local", "ray"):
            start = time.perf_counter()
            cmd = [
                sys.executable,
                "-m",
                "argmine",
                "batch",
                str(path),
                "-o",
                str(Path(tmp) / engine),
                "--engine",
                engine,
                "--workers",
                "2",
                "--shard-size",
                "20",
                "-q",
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
            if proc.returncode != 0:
                raise SystemExit(proc.stderr[-2000:])
            times[engine] = (time.perf_counter() - start, proc.stdout.strip().splitlines()[-1])
        same = all((Path(tmp) / "ray" / f.name).read_bytes() == f.read_bytes() for f in (Path(tmp) / "local").glob("shard-*"))
        print(f"\nray against local on {n} threads (2 CPU cores, the ray engine with 2 workers): shards identical: {same}")
        for engine, (wall, line) in times.items():
            print(f"  {engine:<6} {wall:6.1f} s wall (process start, model loads, Ray start included): {line}")
        print(f"  overhead of ray: {times['ray'][0] / times['local'][0] - 1:+.0%} wall time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", default="80", help="corpus sizes, comma-separated")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--variants", default="passive-none,active-none,passive-int8")
    parser.add_argument("--raw", default="passive-none,passive-int8", help="variants whose raw forward rate is measured")
    parser.add_argument("--decisions", action="store_true")
    parser.add_argument(
        "--model", default="embedded", help="the relation model (a parser or pair-model folder) every variant runs"
    )
    parser.add_argument(
        "--ray", type=int, default=0, help="also compare --engine ray (2 workers) with local on this many threads"
    )
    parser.add_argument("--baseline", help="a commit whose code runs every variant too, in the same repetitions")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda to measure a GPU's units/s")
    args = parser.parse_args()
    variants = [tuple(v.split("-")) for v in args.variants.split(",") if v]
    with tempfile.TemporaryDirectory() as tmp, checkout(args.baseline) as tree:
        codes = {"": ROOT, **({f"@{args.baseline}": tree} if tree else {})}
        measure_all(args, [(p, q, label) for p, q in variants for label in codes], codes, tmp)
    if args.decisions:
        decisions()
    if args.ray:
        ray_overhead(args.ray)


def measure_all(args, variants: list[tuple], codes: dict[str, Path], tmp: str) -> None:
    """Every variant on every corpus size, paired repetitions, with the raw forward rates asked for."""
    for n in (int(x) for x in args.threads.split(",") if int(x) > 0 and variants):
        path = Path(tmp) / f"corpus-{n}.jsonl"
        path.write_text(corpus(n), encoding="utf-8")
        results: dict[tuple, list[dict]] = {v: [] for v in variants}
        for rep in range(args.repeats):
            for policy, quantize, label in variants if rep % 2 == 0 else list(reversed(variants)):
                out = Path(tmp) / f"out-{n}-{policy}-{quantize}-{rep}-{time.time_ns()}"
                run = run_batch(path, out, policy.upper(), quantize, args.model, codes[label], args.device)
                results[(policy, quantize, label)].append(run)
        print(
            f"\n{n} threads ({results[variants[0]][0]['units']} units, {results[variants[0]][0]['pairs']} unit pairs), {args.repeats} paired runs each"
        )
        print(f"  {'variant':<26}{'units/s (each run)':<28}{'median':>8}{'seconds':>9}")
        for v, runs in results.items():
            each = ", ".join(f"{r['units_s']:.1f}" for r in runs)
            print(
                f"  {'-'.join(v[:2]) + v[2]:<26}{each:<28}{statistics.median(r['units_s'] for r in runs):>8.1f}{statistics.median(r['seconds'] for r in runs):>9.1f}"
            )
        for v in (tuple(x.split("-")) for x in args.raw.split(",") if x):
            raw = raw_forward(path, v[0].upper(), v[1])
            batch = results.get((*v, ""))
            if batch:
                seconds = statistics.median(r["seconds"] for r in batch)
                print(
                    f"  raw forward {'-'.join(v)}: {raw['pairs_s']:.1f} pairs/s on {raw['pairs']} pairs ({raw['seconds']:.1f} s of forward passes); "
                    f"the batch took {seconds:.1f} s end to end: {raw['seconds'] / seconds:.2f} of the raw rate"
                )


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark the relation stage.

1. Throughput: for a pair model, pairs/s of the full relation stage (RelationModel.predict with
   tokenization, length sorting, dynamic padding, then the second stage and thresholded labels) against
   the raw forward pass of the same model on the same, pre-tokenized pairs (the ceiling); for the parser,
   units/s of the whole stage.
2. Scaling: candidate pairs (pair models) or windows and (unit, head) scores (the parser) per unit as a
   synthetic thread grows (100, 1,000, 10,000 units).

usage: python scripts/bench_relations.py [--model NAME|PATH] [--thread FILE] [--batch-size N]
"""

from __future__ import annotations

import argparse
import random
import resource
import time

import torch

import argmine
from argmine.document import Document, Post, Unit
from argmine.pipeline import relate
from argmine.relations.candidates import candidate_pairs
from argmine.units.segmenter import segment

WORDS = (
    "government tax plan city council voters budget war peace russia syria coalition rebels election "
    "policy refugees economy prices wages schools health police border trade climate energy cars "
    "because but although however therefore people believe claim argue support oppose reject fail"
).split()


def synthetic_thread(n_units: int, seed: int = 0) -> Document:
    """An article of ~n/5 units and comments of 1-4 units replying to the article or each other."""
    rng = random.Random(seed)
    text, posts, spans = "", [], []
    n_article = max(1, n_units // 5)
    # A Zipfian vocabulary, as in real text: a few frequent words, a long tail of rare ones.
    vocab = WORDS + [f"{rng.choice(WORDS)[:4]}{i}" for i in range(5000)]
    weights = [1 / (rank + 1) for rank in range(len(vocab))]

    def sentence() -> str:
        return " ".join(rng.choices(vocab, weights, k=rng.randint(6, 18))).capitalize() + "."

    def add_post(pid: str, kind: str, parent: str | None, n: int) -> None:
        nonlocal text
        if text:
            text += "\n\n"
        start = len(text)
        for _ in range(n):
            s = sentence()
            if text[start:]:
                text += " "
            spans.append((pid, len(text), len(text) + len(s)))
            text += s
        posts.append(Post(pid, kind, start, len(text), parent))

    add_post("article", "article", None, n_article)
    c = 0
    while len(spans) < n_units:
        c += 1
        parent = "article" if c == 1 or rng.random() < 0.4 else f"c{rng.randint(1, c - 1)}"
        add_post(f"c{c}", "comment", parent, min(rng.randint(1, 4), n_units - len(spans)))
    doc = Document(f"synthetic-{n_units}", text, posts)
    return doc.with_units([Unit(f"u{i + 1}", p, s, e, text[s:e]) for i, (p, s, e) in enumerate(spans)])


def raw_forward(model, pairs: list[tuple[str, str]], batch_size: int) -> float:
    """Seconds for forward passes alone over pre-tokenized, length-sorted, pre-padded batches."""
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
    batches = []
    for i in range(0, len(order), batch_size):
        idx = order[i : i + batch_size]
        batches.append(
            model.tokenizer(
                [pairs[j][0] for j in idx],
                [pairs[j][1] for j in idx],
                padding=True,
                truncation=True,
                max_length=model.max_length,
                return_tensors="pt",
            ).to(model.device)
        )
    start = time.perf_counter()
    with torch.inference_mode():
        for enc in batches:
            model.model(**enc)
    return time.perf_counter() - start


def parser_throughput(doc: Document, model, config, sizes: str) -> None:
    """The parser: units/s of the whole relation stage (windows, one forward pass each, arborescence), and
    how its (unit, head) scores grow with the thread (no pair model: they are what one pass rates)."""
    from argmine.relations.parser import build_windows

    relate(synthetic_thread(20, seed=1), model, config)  # warm-up
    start = time.perf_counter()
    related = relate(doc, model, config)
    full = time.perf_counter() - start
    windows = build_windows(doc, model.tokenizer, model.cfg)
    print(f"\nthroughput on {doc.id}: {len(doc.units)} units, {len(windows)} windows, {related.pairs_scored} (unit, head) scores")
    print(f"  full relation stage : {len(doc.units) / full:8.1f} units/s  ({full:.2f} s, decoding included)")
    print("\nscaling of windows and (unit, head) scores (no model):")
    print(f"  {'units':>7} {'windows':>8} {'scores':>9} {'scores/unit':>11} {'seconds':>8}")
    for n in (int(x) for x in sizes.split(",")):
        big = synthetic_thread(n, seed=n)
        start = time.perf_counter()
        windows = build_windows(big, model.tokenizer, model.cfg)
        took = time.perf_counter() - start
        scores = sum(len(w.dependents) * (len(w.heads) + 1) for w in windows)
        print(f"  {n:>7} {len(windows):>8} {scores:>9} {scores / n:>11.1f} {took:>8.2f}")
    print(f"\npeak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="relation model (default: configs/default.yaml)")
    parser.add_argument("--thread", default=None, help="thread for the throughput test (default: synthetic, 300 units)")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--sizes", default="100,1000,10000")
    args = parser.parse_args()
    overrides = {"model": {k: v for k, v in (("name", args.model), ("batch_size", args.batch_size)) if v}}
    config = argmine.load_settings(overrides=overrides)
    batch_size = config.model.batch_size
    model = argmine.load_model(settings=config)
    print(f"model: {model.name}  device: {model.device}  torch threads: {torch.get_num_threads()}  batch: {batch_size}")

    if args.thread:
        doc = segment(argmine.read(args.thread, settings=config), config.segmenter, config.boilerplate)
    else:
        doc = synthetic_thread(300)
    if isinstance(model, argmine.ArgumentParser):
        parser_throughput(doc, model, config, args.sizes)
        return
    pairs = candidate_pairs(doc, config.candidates)
    texts = [(doc.units[a].text, doc.units[b].text) for a, b in pairs]
    model.predict(texts[:batch_size], batch_size)  # warm-up
    start = time.perf_counter()
    relate(doc, model, config)  # candidates, pair model, second stage, decoding
    full = time.perf_counter() - start
    raw = raw_forward(model, texts, batch_size)
    print(f"\nthroughput on {doc.id}: {len(doc.units)} units, {len(pairs)} directed pairs")
    print(f"  full relation stage : {len(pairs) / full:8.1f} pairs/s  ({full:.2f} s, decoding included)")
    print(f"  raw forward pass    : {len(pairs) / raw:8.1f} pairs/s  ({raw:.2f} s)")
    print(f"  overhead            : {100 * (full - raw) / full:8.1f} % of the stage")

    print("\nscaling of candidate pairs (no model):")
    print(f"  {'units':>7} {'pairs':>9} {'pairs/unit':>10} {'all n(n-1)':>12} {'seconds':>8}")
    for n in (int(x) for x in args.sizes.split(",")):
        doc = synthetic_thread(n, seed=n)
        start = time.perf_counter()
        pairs = candidate_pairs(doc, config.candidates)
        took = time.perf_counter() - start
        print(f"  {n:>7} {len(pairs):>9} {len(pairs) / n:>10.1f} {n * (n - 1):>12} {took:>8.2f}")
    print(f"\npeak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The learning curve of ``argmine adapt``: the shipped parser adapted on 5, 10, 20 and 40 documents of a
corpus it never trained on, measured on the rest (gold units) beside the unadapted model and the
positional baselines on the same documents.

Corpora: argumentative microtexts (never trained on: relation F1, attachment) and QT30 test episodes
(held out from training: relation F1, attachment, cross-turn F1). The split is seeded; every adapted size
is measured on the same held-out documents. Adapted models go to runs/curve/ (never shipped). Reads ../shared.

usage: python scripts/learning_curve.py [--corpora microtexts,qt30] [--sizes 5,10,20,40] [--test 60] [--model DIR]
                                      [--plan KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure_targets import DATA, SHARED  # noqa: E402

import argmine  # noqa: E402
from argmine.evaluation import corpora  # noqa: E402
from argmine.evaluation.metrics import BASELINES, evaluate_docs  # noqa: E402


def _row(result: dict) -> dict:
    row = {"attachment": result["attachment_accuracy"], "relation_f1": result["relations"]["overall"]["f1"]}
    if "cross_post_relations" in result:
        row["cross_post_f1"] = result["cross_post_relations"]["f1"]
    return row


def curve(name: str, docs: list, sizes: list[int], test_size: int, base: str, settings, seed: int, plan: dict) -> dict:
    order = list(range(len(docs)))
    random.Random(seed).shuffle(order)
    test = [docs[i] for i in order[:test_size]]
    pool_docs = [docs[i] for i in order[test_size:]]
    model = argmine.load_model(base, settings=settings)
    rows = {"unadapted": _row(evaluate_docs(test, model, settings, "gold"))}
    for label, relater in BASELINES.items():
        rows[f"baseline: {label}"] = _row(evaluate_docs(test, model, settings, "gold", relater=relater))
    from argmine.training.adapt import AdaptPlan, adapt, recipe_pool

    pool = recipe_pool(model, settings)
    for n in sizes:
        if n > len(pool_docs):
            break
        started = time.time()
        out = adapt(
            base,
            pool_docs[:n],
            Path("runs/curve") / f"{name}-{n}",
            settings,
            AdaptPlan(seed=seed, **plan),
            [f"{name} x{n}"],
            "cpu",
            log=lambda m: None,
            pool=pool,
        )
        adapted = argmine.ArgumentParser.load(out, "cpu")
        rows[f"adapted on {n}"] = {
            **_row(evaluate_docs(test, adapted, settings, "gold")),
            "seconds": round(time.time() - started, 1),
        }
        print(json.dumps({name: {f"adapted on {n}": rows[f"adapted on {n}"]}}), file=sys.stderr, flush=True)
    return {"test_documents": len(test), "rows": rows}


def _value(default, text: str):
    """``text`` read as the type of the plan field's default (``False``/``0`` for booleans)."""
    if isinstance(default, bool):
        return text.lower() in ("1", "true", "yes")
    return type(default)(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", default="microtexts,qt30")
    parser.add_argument("--sizes", default="5,10,20,40")
    parser.add_argument("--test", type=int, default=60, help="held-out documents per corpus")
    parser.add_argument("--model", default="embedded")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--plan", action="append", default=[], help="KEY=VALUE of argmine.AdaptPlan (repeatable), e.g. epochs=2")
    args = parser.parse_args()
    if not SHARED.is_dir():
        print("../shared is absent: nothing to measure", file=sys.stderr)
        return 2
    settings = argmine.load_settings()
    sizes = [int(s) for s in args.sizes.split(",")]
    plan = {k: _value(getattr(argmine.AdaptPlan, k), v) for k, _, v in (p.partition("=") for p in args.plan)}
    readers = {
        "microtexts": lambda: corpora.read_microtexts(DATA / "arg-microtexts" / "corpus" / "en"),
        "qt30": lambda: corpora.CORPORA["qt30"].parts(corpora.read_qt30(DATA / "qt30" / "nodesets"))["test"],
    }
    out = {}
    for name in args.corpora.split(","):
        out[name] = curve(name, readers[name](), sizes, args.test, args.model, settings, args.seed, plan)
        print(json.dumps({name: out[name]}), file=sys.stderr, flush=True)
    print(json.dumps({"plan": plan, **out}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

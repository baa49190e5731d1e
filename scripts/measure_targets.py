#!/usr/bin/env python3
"""Measure the relation model against the project's targets (reads ../shared; never trains on it).

- seed 002 scored by ../shared/tools/score.py (core and core+extra relations found),
- argumentative microtexts part 1 (evaluation only): attachment and support/attack accuracy,
  gold units and end to end,
- CDCP test (gold units): link-class F1 and macro link F1.

usage: python scripts/measure_targets.py [--model NAME|PATH] [--config FILE] [--skip cdcp,...]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

from argmine import corpora
from argmine.config import load_config
from argmine.evaluate import evaluate_docs
from argmine.pipeline import analyze, load_model
from argmine.readers import read_input

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def score_seed(model, config) -> dict:
    spec = importlib.util.spec_from_file_location("score", SHARED / "tools" / "score.py")
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)
    seed = next((SHARED / "seeds").glob("002_*.txt"))
    graph = analyze(read_input(str(seed), config)[0].document, model, config)
    gold = json.loads((SHARED / "gold" / "002.gold.json").read_text(encoding="utf-8"))
    return score.score(gold, graph)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--config", default=None)
    parser.add_argument("--skip", default="")
    parser.add_argument("--card", default=None, help="model folder whose model card gets these results")
    args = parser.parse_args()
    if not SHARED.is_dir():
        print("../shared is absent: nothing to measure", file=sys.stderr)
        return 2
    config = load_config(args.config, {"model": {"name": args.model}} if args.model else None)
    model = load_model(config)
    skip = set(args.skip.split(","))
    out = {"model": model.name}
    started = time.time()
    if "seed" not in skip:
        s = score_seed(model, config)
        out["seed_002"] = {"units_f1": s["units"]["f1"], "core": f"{s['relations']['core']['found']}/{s['relations']['core']['gold']}",
                           "core+extra": f"{s['relations']['core+extra']['found']}/{s['relations']['core+extra']['gold']}",
                           "linked_any_label": s["relations"]["core+extra"]["linked_any_label"],
                           "relation_precision": s["relations"]["precision"], "missed": s["relations"]["core+extra"]["missed"]}
    if "micro" not in skip:
        docs = corpora.read_microtexts(SHARED / "data" / "arg-microtexts" / "corpus" / "en")
        for mode in ("gold", "e2e"):
            r = evaluate_docs(docs, model, config, mode)
            out[f"microtexts_{mode}"] = {k: r[k] for k in ("attachment_accuracy", "label_accuracy_on_attached", "link_class_f1", "macro_link_f1")}
            out[f"microtexts_{mode}"]["relations_f1"] = r["relations"]["overall"]["f1"]
            out[f"microtexts_{mode}"]["attack_f1"] = r["relations"]["attack"]["f1"]
            if mode == "e2e":
                out[f"microtexts_{mode}"]["units_f1"] = r["units"]["f1"]
    if "cdcp" not in skip:
        r = evaluate_docs(corpora.read_cdcp(SHARED / "data" / "cdcp" / "test"), model, config, "gold")
        out["cdcp_test_gold"] = {k: r[k] for k in ("link_class_f1", "macro_link_f1", "attachment_accuracy")}
        out["cdcp_test_gold"]["relations_f1"] = r["relations"]["overall"]["f1"]
    out["seconds"] = round(time.time() - started, 1)
    print(json.dumps(out, indent=1))
    if args.card:
        from argmine.training import write_model_card

        info_path = Path(args.card) / "train_info.json"
        info = json.loads(info_path.read_text(encoding="utf-8"))
        info["results"] = {k: v for k, v in out.items() if k not in ("seconds", "model")}
        info_path.write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
        write_model_card(Path(args.card), info)
    return 0


if __name__ == "__main__":
    sys.exit(main())

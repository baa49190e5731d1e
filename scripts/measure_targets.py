#!/usr/bin/env python3
"""Measure the relation model against the project's targets, each beside the structural baselines on
the same units (reads ../shared; never trains on it).

- seed 002 scored by ../shared/tools/score.py, and the hook's positional rule on the same units;
- reply stance: reply-agreement pairs of held-out topics as two-post threads through the whole
  pipeline (segmenter included): macro F1 over support/attack/none, attack F1;
- QT30 held-out episodes, gold units: cross-turn relation F1, within-turn attachment;
- argumentative microtexts part 1 (never trained on), gold units and end to end; for a parser also
  k-fold cross-validation by text (fine-tuned on k-1 folds);
- CDCP test, gold units: link-class F1;
- the answered-post link on QT30 held-out episodes (a parser with a reply-link scorer): target top-1
  beside the answered post's first and last unit and the most similar unit (embeddings, TF-IDF), and
  F1 of "no link";
- long documents (25+ gold units: web discourse, CDCP test, microtexts): attachment beside the baselines.

usage: python scripts/measure_targets.py [--model NAME|PATH] [--config FILE] [--skip seed,reply,qt30,links,long,micro,cv,cdcp]
                                         [--reply-sample N] [--split test|dev] [--long-min N] [--card MODEL_DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

import argmine
from argmine.evaluation import corpora
from argmine.evaluation.metrics import BASELINES, evaluate_docs, evaluate_replies, model_relater, stance_scores

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATA = SHARED / "data"


def _score_module():
    spec = importlib.util.spec_from_file_location("score", SHARED / "tools" / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def seed_002(model, config) -> dict:
    score = _score_module()
    seed = next((SHARED / "seeds").glob("002_*.txt"))
    graph = argmine.analyze(seed, model=model, settings=config).to_dict()
    gold = json.loads((SHARED / "gold" / "002.gold.json").read_text(encoding="utf-8"))

    def summary(g: dict) -> dict:
        s = score.score(gold, g)["relations"]
        return {
            "core": f"{s['core']['found']}/{s['core']['gold']}",
            "core+extra": f"{s['core+extra']['found']}/{s['core+extra']['gold']}",
            "precision": s["precision"],
            "f1": s["f1"],
            "relations": s["predicted"],
            "missed_core": s["core"]["missed"],
        }

    out = {"model": summary(graph)}
    # the before-stop hook's rule on the same units: inside a post each unit supports the one before;
    # a comment's first unit attacks the last unit of the post just above it
    by_post: dict[str, list[dict]] = {}
    for u in graph["units"]:
        by_post.setdefault(u["post"], []).append(u)
    order = [p for p in graph["posts"] if p["kind"] in ("article", "comment")]
    rels = [{"source": b["id"], "target": a["id"], "label": "support"} for us in by_post.values() for a, b in zip(us, us[1:])]
    for i, p in enumerate(order):
        if p["kind"] == "comment" and i and by_post.get(p["id"]) and by_post.get(order[i - 1]["id"]):
            rels.append({"source": by_post[p["id"]][0]["id"], "target": by_post[order[i - 1]["id"]][-1]["id"], "label": "attack"})
    out["baseline: positional (hook)"] = summary(dict(graph, relations=rels))
    return out


def docs_block(docs, model, config, modes=("gold",), keys=None) -> dict:
    keys = keys or ("attachment_accuracy", "label_accuracy_on_attached", "link_class_f1")
    out = {}
    for mode in modes:
        runs = {"model": None, **{f"baseline: {name}": fn for name, fn in BASELINES.items()}}
        for name, relater in runs.items():
            r = evaluate_docs(docs, model, config, mode, relater=relater)
            row = {k: r[k] for k in keys if k in r}
            row["relation_f1"] = r["relations"]["overall"]["f1"]
            row["attack_f1"] = r["relations"]["attack"]["f1"]
            if "cross_post_relations" in r:
                row["cross_post_f1"] = r["cross_post_relations"]["f1"]
                row["within_post_attachment"] = r["within_post_attachment"]
            out[f"{mode}: {name}"] = row
    return out


def replies_block(model, config, split: str, sample: int, seed: int) -> dict:
    pairs = corpora.CORPORA["reply-agreement"].parts(corpora.read_reply_agreement(DATA / "reply-agreement"))[split]
    if sample and len(pairs) > sample:
        pairs = random.Random(seed).sample(pairs, sample)
    out = {"pairs": len(pairs), "labels": dict(Counter(p.label for p in pairs))}
    r = evaluate_replies(pairs, model_relater(model, config), config)
    out["model"] = {k: r[k] for k in ("macro_f1", "accuracy")} | {
        f"{lab}_f1": r[lab]["f1"] for lab in ("support", "attack", "none")
    }
    for name, fn in BASELINES.items():
        b = evaluate_replies(pairs, fn, config)
        out[f"baseline: {name}"] = {"macro_f1": b["macro_f1"], "attack_f1": b["attack"]["f1"]}
    majority = stance_scores([p.label for p in pairs], ["attack"] * len(pairs))  # attack is the training side's majority
    out["baseline: majority label (attack)"] = {"macro_f1": majority["macro_f1"], "attack_f1": majority["attack"]["f1"]}
    return out


def long_documents(model, config, min_units: int = 25) -> dict:
    """Attachment on documents of ``min_units`` or more gold units (web discourse, CDCP test, microtexts),
    beside the baselines on the same units: where a unit's head may lie far outside its window."""
    docs = [
        d
        for d in (
            corpora.read_web_discourse(DATA / "web-discourse" / "gold.data.toulmin")
            + corpora.read_cdcp(DATA / "cdcp" / "test")
            + corpora.read_microtexts(DATA / "arg-microtexts" / "corpus" / "en")
        )
        if len(d.document.units) >= min_units
    ]
    return {"documents": len(docs), **docs_block(docs, model, config, keys=("attachment_accuracy", "link_class_f1"))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--config", default=None)
    parser.add_argument("--skip", default="")
    parser.add_argument("--split", default="test", choices=["test", "dev"], help="held-out part of QT30 and reply-agreement")
    parser.add_argument("--reply-sample", type=int, default=600, help="reply pairs sampled from the held-out topics (0 = all)")
    parser.add_argument("--card", default=None, help="model folder whose model card gets these results")
    parser.add_argument("--long-min", type=int, default=25, help="gold units a long document has at least")
    parser.add_argument("--folds", type=int, default=5, help="microtexts cross-validation folds (parser models)")
    args = parser.parse_args()
    if not SHARED.is_dir():
        print("../shared is absent: nothing to measure", file=sys.stderr)
        return 2
    config = argmine.load_settings(args.config, {"model": {"name": args.model}} if args.model else None)
    model = argmine.load_model(settings=config)
    skip = set(args.skip.split(","))
    out: dict = {"model": model.name}
    started = time.time()
    if "seed" not in skip:
        out["seed_002"] = seed_002(model, config)
        print(json.dumps({"seed_002": out["seed_002"]}), file=sys.stderr)
    if "reply" not in skip:
        out[f"reply_agreement_{args.split}"] = replies_block(model, config, args.split, args.reply_sample, 13)
        print(json.dumps({"reply": out[f"reply_agreement_{args.split}"]}), file=sys.stderr)
    if "qt30" not in skip:
        docs = corpora.CORPORA["qt30"].parts(corpora.read_qt30(DATA / "qt30" / "nodesets"))[args.split]
        out[f"qt30_{args.split}_gold"] = {"threads": len(docs), **docs_block(docs, model, config)}
        print(json.dumps({"qt30": out[f"qt30_{args.split}_gold"]}), file=sys.stderr)
    if "links" not in skip and getattr(model, "links", None) is not None:
        from argmine.evaluation.metrics import evaluate_reply_links

        docs = corpora.CORPORA["qt30"].parts(corpora.read_qt30(DATA / "qt30" / "nodesets"))[args.split]
        out[f"qt30_{args.split}_reply_links"] = evaluate_reply_links(docs, model, config)
        print(json.dumps({"links": out[f"qt30_{args.split}_reply_links"]}), file=sys.stderr)
    if "long" not in skip:
        out["long_documents"] = long_documents(model, config, args.long_min)
        print(json.dumps({"long": out["long_documents"]}), file=sys.stderr)
    if "micro" not in skip:
        docs = corpora.read_microtexts(DATA / "arg-microtexts" / "corpus" / "en")
        out["microtexts"] = docs_block(docs, model, config, modes=("gold", "e2e"))
        print(json.dumps({"micro": out["microtexts"]}), file=sys.stderr)
    if "cv" not in skip and isinstance(model, argmine.ArgumentParser):
        from argmine.evaluation.metrics import _cross_validated

        docs = corpora.read_microtexts(DATA / "arg-microtexts" / "corpus" / "en")
        relater = _cross_validated(docs, model, config, args.folds, False)
        r = evaluate_docs(docs, model, config, "gold", relater=relater)
        row = {k: r[k] for k in ("attachment_accuracy", "label_accuracy_on_attached", "link_class_f1")}
        row["relation_f1"] = r["relations"]["overall"]["f1"]
        out[f"microtexts_{args.folds}fold_cv"] = {
            "folds": f"{args.folds} by text, {config.evaluation.cv_epochs} epochs each",
            "gold: model (cross-validated)": row,
            **{k: v for k, v in out.get("microtexts", {}).items() if k.startswith("gold: baseline")},
        }
        print(json.dumps({"cv": out[f"microtexts_{args.folds}fold_cv"]}), file=sys.stderr)
    if "cdcp" not in skip:
        out["cdcp_test"] = docs_block(
            corpora.read_cdcp(DATA / "cdcp" / "test"),
            model,
            config,
            keys=("link_class_f1", "macro_link_f1", "attachment_accuracy"),
        )
    out["seconds"] = round(time.time() - started, 1)
    print(json.dumps(out, indent=1))
    if args.card:
        from argmine.training.cards import parser_info, write_model_card, write_parser_card

        folder = Path(args.card)
        parser_folder = (folder / "argmine_parser.json").exists()
        info_path = folder / "train_info.json"
        info = parser_info(folder) if parser_folder else json.loads(info_path.read_text(encoding="utf-8"))
        info["results"] = {k: v for k, v in out.items() if k not in ("seconds", "model")}
        info_path.write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
        (write_parser_card if parser_folder else write_model_card)(folder, info)
    return 0


if __name__ == "__main__":
    sys.exit(main())

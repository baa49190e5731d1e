#!/usr/bin/env python3
"""What each training source adds to the answered-post link (argmine.relations.replies): the link scorer is fitted
on each source alone and on all together, over the same parser and the same thresholds (those stored
with the model), and measured on held-out data beside the baselines.

Sources: the recipe's gold threads (QT30 training episodes: turn-to-turn links) and its reply pairs
(reply-agreement quote/response pairs: the quote is the target span). Measured: QT30 held-out episodes
(gold units): target top-1, F1 of "no link", cross-turn relation F1; reply-agreement held-out topics end
to end: macro F1, none F1, attack F1. Reads ../shared; never writes the model folder.

usage: python scripts/ablate_links.py [--model DIR] [--split test|dev] [--reply-sample N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure_targets import DATA, SHARED, docs_block, replies_block  # noqa: E402

import argmine  # noqa: E402
from argmine import corpora  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(Path(argmine.__file__).parent / "model"))
    parser.add_argument("--split", default="test", choices=["test", "dev"])
    parser.add_argument("--reply-sample", type=int, default=600)
    args = parser.parse_args()
    if not SHARED.is_dir():
        print("../shared is absent: nothing to measure", file=sys.stderr)
        return 2
    from argmine.evaluation.corpora import reply_document
    from argmine.evaluation.metrics import evaluate_reply_links
    from argmine.settings import load_recipe
    from argmine.training.links import fit_scorer, graph_link_examples, reply_link_examples
    from argmine.training.parser import load_parser_data

    started = time.time()
    config = argmine.load_settings(None, {"model": {"name": args.model}})
    model = argmine.load_model(settings=config)
    recipe = load_recipe()
    data = load_parser_data(recipe, model.tokenizer, model.cfg, config, lambda *a: None, examples=False)
    encoder = model.sentence_encoder()
    graphs = [g for g in data.train_docs if len({u.post for u in g.document.units}) > 1]
    reply_docs = [reply_document(p, k, config) for k, p in enumerate(data.train_replies)]
    parses = model.parse([g.document for g in graphs] + reply_docs, config.model.batch_size, links=False)
    threads = [e for g, p in zip(graphs, parses) for e in graph_link_examples(g, encoder, "documents", p)]
    pairs = [
        e
        for pair, doc, p in zip(data.train_replies, reply_docs, parses[len(graphs) :])
        for e in reply_link_examples(pair, doc, encoder, p)
    ]
    print(
        f"examples: threads {len(threads)} ({sum(bool(e.gold) for e in threads)} linked), "
        f"reply pairs {len(pairs)} ({sum(bool(e.gold) for e in pairs)} linked)",
        file=sys.stderr,
    )
    qt30 = corpora.CORPORA["qt30"].parts(corpora.read_qt30(DATA / "qt30" / "nodesets"))[args.split]
    rows = {}
    for name, examples in (("threads (QT30)", threads), ("reply pairs", pairs), ("both (shipped recipe)", threads + pairs)):
        model.links = fit_scorer(examples)
        links = evaluate_reply_links(qt30, model, config)
        docs = docs_block(qt30, model, config)["gold: model"]
        reply = replies_block(model, config, args.split, args.reply_sample, 13)["model"]
        rows[name] = {
            "qt30 target top-1": links["target_top1"]["model"],
            "qt30 no-link F1": links["no_link"]["f1"],
            "qt30 cross-turn F1": docs["cross_post_f1"],
            "reply macro F1": reply["macro_f1"],
            "reply none F1": reply["none_f1"],
            "reply attack F1": reply["attack_f1"],
        }
        print(json.dumps({name: rows[name]}), file=sys.stderr)
    rows["baselines (target top-1)"] = {k: v for k, v in links["target_top1"].items() if k != "model"}
    print(json.dumps({"model": args.model, "split": args.split, "rows": rows, "seconds": round(time.time() - started)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

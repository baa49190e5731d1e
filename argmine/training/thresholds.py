"""Choosing a parser's confidence thresholds on held-out training-side data (never on test sets).

The documents and reply pairs are parsed and decoded once (the tree depends on neither), then each
candidate value is scored by labelling and thresholding the same trees again: ``threshold`` and
``attack_weight`` (links inside a post) for macro relation F1 on the held-out documents, then
``reply_threshold`` and ``reply_attack_weight`` (across posts) for that F1 plus the reply stance macro F1.
"""

from __future__ import annotations

from argmine.document import Document
from argmine.graph import Graph
from argmine.settings import Settings

GRID = [round(0.02 * k, 2) for k in range(1, 40)]
WEIGHTS = [0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0]
PENALTIES = [0.0, 1.0, 2.0, 3.0, 4.0, 6.0]


def parse_relater(parser, docs: list[Document], batch_size: int = 16):
    """Parse ``docs`` once and decode them once per ROOT penalty (thresholds and label weights leave the
    tree alone); returns relater(decision) -> a function of a document giving it Decoded."""
    from argmine.decoding.trees import Decision, label_edges, parse_edges, reply_edges

    parses = dict(zip((d.id for d in docs), parser.parse(docs, batch_size)))
    trees: dict[float, dict] = {}

    def relater(decision):
        if decision.root_penalty not in trees:
            trees[decision.root_penalty] = {
                k: parse_edges(p, Decision.default(root_penalty=decision.root_penalty)) for k, p in parses.items()
            }
        edges = trees[decision.root_penalty]
        return lambda doc: reply_edges(doc, parses[doc.id], label_edges(doc, edges[doc.id], decision), decision)

    return relater


def _macro(result: dict) -> float:
    rel = result["relations"]
    return (rel["support"]["f1"] + rel["attack"]["f1"]) / 2


def choose_thresholds(
    parser, dev_docs: list[tuple[str, Graph]], dev_replies: list, settings: Settings, log=print, limit: int = 400
) -> dict:
    """{threshold, reply_threshold, attack_weight, reply_attack_weight, dev: the held-out scores at them}.

    Inside a post (the held-out documents' macro relation F1): the threshold, then the attack weight.
    Across posts (that F1 plus the reply stance macro F1): the reply threshold with the ROOT penalty, then
    the reply attack weight."""
    from dataclasses import replace

    from argmine.decoding.trees import Decision
    from argmine.evaluation.corpora import reply_document
    from argmine.evaluation.metrics import evaluate_docs, evaluate_replies

    graphs = [g for _, g in dev_docs]
    replies = dev_replies[:limit]
    reply_docs = [reply_document(p, k, settings) for k, p in enumerate(replies)]
    doc_relater = parse_relater(parser, [g.document for g in graphs])
    reply_relater = parse_relater(parser, reply_docs)

    def docs_f1(d: Decision) -> float:
        return _macro(evaluate_docs(graphs, None, settings, "gold", relater=doc_relater(d))) if graphs else 0.0

    def replies_f1(d: Decision) -> float:
        return float(evaluate_replies(replies, reply_relater(d), settings).get("macro_f1", 0.0)) if replies else 0.0

    d = Decision.default(threshold=0.5, reply_threshold=1.01)  # first inside posts, with no link across them
    d = max((replace(d, threshold=t) for t in GRID), key=lambda x: (docs_f1(x), -x.threshold))
    d = max((replace(d, attack_weight=w) for w in WEIGHTS), key=lambda x: (docs_f1(x), -abs(x.attack_weight - 1)))
    across = [replace(d, reply_threshold=r, root_penalty=p) for p in PENALTIES for r in [0.0, *GRID[:15]]]
    d = max(across, key=lambda x: (docs_f1(x) + replies_f1(x), -x.root_penalty, -x.reply_threshold))
    d = max(
        (replace(d, reply_attack_weight=w) for w in WEIGHTS),
        key=lambda x: (docs_f1(x) + replies_f1(x), -abs(x.reply_attack_weight - 1)),
    )
    chosen = {k: getattr(d, k) for k in ("threshold", "reply_threshold", "attack_weight", "reply_attack_weight", "root_penalty")}
    dev = {"documents_macro_f1": round(docs_f1(d), 4), "replies_macro_f1": round(replies_f1(d), 4)}
    log(f"decision chosen on held-out data: {chosen}; {dev}")
    return {**chosen, "dev": dev}

"""Choosing a parser's confidence thresholds on held-out training-side data (never on test sets).

The documents and reply pairs are parsed once; decoding is cheap, so each candidate threshold is
scored by decoding again: ``threshold`` (links inside a post) for macro relation F1 on the held-out
documents, then ``reply_threshold`` (across posts) for the mean of that F1 and the reply stance macro F1.
"""

from __future__ import annotations

from argmine.document import Document
from argmine.graph import Graph
from argmine.settings import Settings

GRID = [round(0.02 * k, 2) for k in range(1, 40)]


def parse_relater(parser, docs: list[Document], batch_size: int = 16):
    """Parse ``docs`` once; returns relater(threshold, reply_threshold) -> a function of a document."""
    from argmine.decoding import Decision, decode_parse

    # the tree does not depend on the thresholds: decode once, then keep the edges each pair of thresholds lets through
    trees = {d.id: decode_parse(d, p, Decision(0.0, 0.0))[1] for d, p in zip(docs, parser.parse(docs, batch_size))}
    posts = {d.id: {u.id: u.post for u in d.units} for d in docs}

    def relater(threshold: float, reply_threshold: float):
        def run(doc):
            tree, post = trees[doc.id], posts[doc.id]
            kept = [r for r in tree.values() if r.score >= (threshold if post[r.source] == post[r.target] else reply_threshold)]
            return kept, tree

        return run

    return relater


def _macro(result: dict) -> float:
    rel = result["relations"]
    return (rel["support"]["f1"] + rel["attack"]["f1"]) / 2


def choose_thresholds(
    parser, dev_docs: list[tuple[str, Graph]], dev_replies: list, settings: Settings, log=print, limit: int = 400
) -> dict:
    """{threshold, reply_threshold, dev: the held-out scores at the chosen values}."""
    from argmine.corpora import reply_thread
    from argmine.evaluation import evaluate_docs, evaluate_replies
    from argmine.segmenter import segment

    graphs = [g for _, g in dev_docs]
    docs = [g.document for g in graphs]
    replies = dev_replies[:limit]
    reply_docs = [segment(reply_thread(p, f"reply-{k}"), settings.segmenter, settings.boilerplate) for k, p in enumerate(replies)]
    doc_relater = parse_relater(parser, docs)
    reply_relater = parse_relater(parser, reply_docs)

    def doc_score(t: float, r: float) -> float:
        if not graphs:
            return 0.0
        run = doc_relater(t, r)
        return _macro(evaluate_docs(graphs, None, settings, "gold", relater=run))

    def reply_score(r: float) -> float:
        if not replies:
            return 0.0
        return _reply_macro(evaluate_replies(replies, reply_relater(0.5, r), settings))

    threshold = max(GRID, key=lambda t: (doc_score(t, 1.01), -t))
    reply_threshold = max(GRID, key=lambda r: (doc_score(threshold, r) + reply_score(r), -r))
    dev = {
        "documents_macro_f1": round(doc_score(threshold, reply_threshold), 4),
        "replies_macro_f1": round(reply_score(reply_threshold), 4),
    }
    log(f"thresholds: inside a post {threshold}, across posts {reply_threshold}; held-out {dev}")
    return {"threshold": threshold, "reply_threshold": reply_threshold, "dev": dev}


def _reply_macro(result: dict) -> float:
    return float(result.get("macro_f1", 0.0))

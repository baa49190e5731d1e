"""Training the answered-post link (``argmine.relations.replies``): examples from gold threads and reply
pairs, with the parser's arcs among the features, and the listwise scorer fitted on them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from argmine.document import Document
from argmine.relations.replies import FEATURES, POST_FEATURES, LinkScorer, Slot, cross_links, document_slots


@dataclass
class LinkExample:
    """A slot and its gold: the pair rows that are gold links (several count as one marginal); empty = no link."""

    slot: Slot
    gold: list[int]
    source: str


def graph_link_examples(graph, encoder, source: str, parse=None) -> list[LinkExample]:
    """A gold graph's replies: each slot's gold rows; a slot whose gold cross-post links all lie outside it
    (a target further back, a source past ``MAX_SOURCES``) is left out, not taken for "no link"."""
    links = cross_links(graph)
    examples = []
    for slot in document_slots(graph.document, encoder, parse):
        gold, missed = [], False
        for s, targets in links.get(slot.post, {}).items():
            for t in targets:
                if s in slot.sources and t in slot.targets:
                    gold.append(slot.sources.index(s) * len(slot.targets) + slot.targets.index(t))
                else:
                    missed = True
        if gold or not missed:
            examples.append(LinkExample(slot, sorted(gold), source))
    return examples


def reply_link_examples(pair, doc: Document, encoder, parse=None) -> list[LinkExample]:
    """A forum reply pair as a two-post thread (``corpora.reply_thread``, segmented): the response's first
    unit links to any unit of the quote (agree or disagree), or does not link (neutral)."""
    slots = [s for s in document_slots(doc, encoder, parse) if s.post == "response"]
    if not slots:
        return []
    slot = slots[0]
    gold = [] if pair.label == "none" else [b for b, t in enumerate(slot.targets) if doc.units[t].post == "quote"]
    return [LinkExample(slot, gold, "reply-agreement")]


def fit_scorer(
    examples: list[LinkExample],
    epochs: int = 40,
    hidden: int = 16,
    lr: float = 0.01,
    weight_decay: float = 1e-3,
    seed: int = 13,
    weights: dict[str, float] | None = None,
    init: LinkScorer | None = None,
) -> LinkScorer:
    """Listwise training: cross-entropy of the gold rows' marginal (or "no link") over each slot's softmax.
    ``init``: start from a trained scorer (its weights and standardisation) instead of from scratch."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    f, g = len(FEATURES), len(POST_FEATURES)
    if init is not None:
        mean, std = np.asarray(init.mean), np.asarray(init.std)
        start = [
            torch.tensor(np.asarray(a, dtype=np.float32)) for a in (init.w1, init.b1, init.w2, init.linear, init.b2, init.none)
        ]
    else:
        all_rows = np.concatenate([e.slot.pair_features for e in examples])
        mean, std = all_rows.mean(0), all_rows.std(0) + 1e-3
        start = [
            torch.randn(f, hidden) * 0.1,
            torch.zeros(hidden),
            torch.zeros(hidden),
            torch.zeros(f),
            torch.zeros(()),
            torch.zeros(g),
        ]
    w1, b1, w2, linear, b2, none = (torch.nn.Parameter(t.float().clone()) for t in start)
    params = [w1, b1, w2, linear, b2, none]
    optim = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    data = [
        (
            torch.tensor((e.slot.pair_features - mean) / std),
            torch.tensor(e.slot.post_features),
            e.gold,
            (weights or {}).get(e.source, 1.0),
        )
        for e in examples
    ]
    for _ in range(epochs):
        order = rng.permutation(len(data))
        for lo in range(0, len(order), 64):
            loss = torch.zeros(())
            total = 0.0
            for j in order[lo : lo + 64]:
                x, post, gold, w = data[j]
                pair = torch.tanh(x @ w1 + b1) @ w2 + x @ linear + b2
                logits = torch.cat([pair, (post @ none)[None]])
                logp = torch.log_softmax(logits, 0)
                target = logp[gold] if gold else logp[-1:]
                loss = loss - w * torch.logsumexp(target, 0)
                total += w
            optim.zero_grad()
            (loss / max(total, 1e-9)).backward()
            optim.step()
    return LinkScorer(
        mean.astype(np.float32),
        std.astype(np.float32),
        *(p.detach().numpy().astype(np.float32) for p in (w1, b1, w2, linear)),
        float(b2.detach()),
        none.detach().numpy().astype(np.float32),
    )


def fit_links(parser, graphs: list, replies: list, settings, log=print, **options) -> LinkScorer | None:
    """Train a parser's answered-post link scorer on gold threads (``graphs``) and reply pairs
    (``replies``), with the parser's own arcs among the features. Measured on QT30: trained on the parser's
    own training threads it generalises better (held-out target top-1 0.62, link F1 0.22) than on the
    smaller held-out part (0.57, 0.16), which then stays free to choose the thresholds."""
    from argmine.evaluation.corpora import reply_document

    encoder = parser.sentence_encoder()
    graphs = [g for g in graphs if len({u.post for u in g.document.units}) > 1]  # only threads have replies
    reply_docs = [reply_document(p, k, settings) for k, p in enumerate(replies)]
    parses = parser.parse([g.document for g in graphs] + reply_docs, settings.model.batch_size, links=False)
    examples = []
    for graph, parse in zip(graphs, parses):
        examples += graph_link_examples(graph, encoder, "documents", parse)
    for pair, doc, parse in zip(replies, reply_docs, parses[len(graphs) :]):
        examples += reply_link_examples(pair, doc, encoder, parse)
    linked = sum(1 for e in examples if e.gold)
    log(f"reply links: {len(examples)} replies ({linked} linked) from {len(graphs)} threads and {len(replies)} reply pairs")
    if not linked:
        log("reply links: no reply in the recipe's data links to what it answers, so the parser keeps its own reply heads")
        return None
    return fit_scorer(examples, **options)

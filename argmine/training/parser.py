"""Training the contextual parser: one multi-task recipe over gold-unit threads, reply stance and claim stance.

Gold-unit corpora (QT30 threads, CDCP, web discourse, argmine graphs) train both scorers: each unit's
gold head (ROOT when it links nowhere). Reply pairs (forum quote/response) train the reply decision: the
response's first unit attaches to some unit of the quote (agree = support, disagree = attack) or to ROOT
(neutral: a reply that takes no side). Stance pairs (Debatepedia, IBM claim stance) train the label
scorer only. Batches are windows of similar length; each epoch ends in a checkpoint a rerun resumes from.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

from argmine.document import RELATION_LABELS, Document, PostText, join_posts
from argmine.evaluation.corpora import Pair, ReplyPair, reply_document
from argmine.graph import Graph
from argmine.relations.parser import ParserConfig, Window, arc_features, build_windows
from argmine.settings import Settings, load_recipe

LABEL_ID = {label: k for k, label in enumerate(RELATION_LABELS)}


@dataclass
class Example:
    """One window with its targets: per dependent, gold head columns (0 = ROOT; None = no arc loss) and
    {column: label id} for the label scorer."""

    window: Window
    feats: list
    arc_gold: list[list[int] | None]
    label_gold: list[dict[int, int]]
    source: str


def graph_examples(graph: Graph, tokenizer, cfg: ParserConfig, source: str) -> list[Example]:
    """A gold graph's windows: every unit's gold heads (ROOT when it has no relation)."""
    doc = graph.document
    index = {u.id: i for i, u in enumerate(doc.units)}
    out_links: dict[int, dict[int, str]] = {}
    for r in graph.relations:
        out_links.setdefault(index[r.source], {})[index[r.target]] = r.label
    return _examples(doc, tokenizer, cfg, source, lambda d: out_links.get(d), arc_for=None)


def _examples(doc: Document, tokenizer, cfg: ParserConfig, source: str, links_of, arc_for) -> list[Example]:
    """Windows of ``doc`` with targets from ``links_of(dependent) -> {head: label} | None`` (None = ROOT);
    ``arc_for`` (a set of dependents, or None for all) limits the arc loss."""
    examples = []
    for w in build_windows(doc, tokenizer, cfg):
        arc_gold, label_gold = [], []
        for d in w.dependents:
            links = links_of(d)
            cols = {1 + w.heads.index(h): LABEL_ID[lab] for h, lab in (links or {}).items() if h in w.heads and h != d}
            if arc_for is not None and d not in arc_for:
                arc_gold.append(None)
            elif not links:
                arc_gold.append([0])
            else:
                arc_gold.append(sorted(cols) or None)
            label_gold.append(cols)
        if any(g is not None for g in arc_gold) or any(label_gold):
            examples.append(Example(w, arc_features(doc, w, {}), arc_gold, label_gold, source))
    return examples


def reply_examples(pair: ReplyPair, k: int, tokenizer, cfg: ParserConfig, settings: Settings) -> list[Example]:
    """A forum reply as a two-post thread: the response's first unit answers the quote (any of its units)
    with the pair's label, or attaches to ROOT when neutral; its other units carry no target."""
    doc = reply_document(pair, k, settings)
    quote = [i for i, u in enumerate(doc.units) if u.post == "quote"]
    response = [i for i, u in enumerate(doc.units) if u.post == "response"]
    if not quote or not response:
        return []
    first = response[0]

    def links_of(d: int):
        if d != first or pair.label == "none":
            return None
        return {q: pair.label for q in quote}

    return _examples(doc, tokenizer, cfg, "reply-agreement", links_of, arc_for={first})


def stance_examples(pair: Pair, k: int, tokenizer, cfg: ParserConfig) -> list[Example]:
    """A claim and what it argues for or against, as a reply: trains the label scorer only."""
    if pair.label not in LABEL_ID:
        return []
    doc = join_posts(f"stance-{k}", [PostText("a", "article", pair.text_b), PostText("b", "comment", pair.text_a, "a")])
    from argmine.document import Unit

    units = [Unit(f"u{i + 1}", p.id, p.start, p.end, doc.text[p.start : p.end]) for i, p in enumerate(doc.posts)]
    doc = doc.with_units(units)
    return _examples(doc, tokenizer, cfg, pair.corpus, lambda d: {0: pair.label} if d == 1 else None, arc_for=set())


class WindowLoss(NamedTuple):
    """One window's summed arc and label losses, and how many gold arcs and labels they sum over."""

    arc: object
    arcs: int
    label: object
    labels: int


def window_loss(scorers, hidden, k: int, ex: Example, torch) -> WindowLoss:
    """The losses of one window of an encoded batch."""
    from argmine.relations.parser import score_window

    arc, label = score_window(scorers, hidden, k, ex.window, ex.feats)
    arc_loss = label_loss = hidden.new_zeros(())
    arcs = labels = 0
    logp = torch.log_softmax(arc, -1)
    for r, gold in enumerate(ex.arc_gold):
        if gold:
            arc_loss = arc_loss - torch.logsumexp(logp[r, gold], 0)
            arcs += 1
    for r, cols in enumerate(ex.label_gold):
        for col, lab in cols.items():
            label_loss = label_loss + torch.nn.functional.cross_entropy(
                label[r, col][None], torch.tensor([lab], device=hidden.device)
            )
            labels += 1
    return WindowLoss(arc_loss, arcs, label_loss, labels)


def token_batches(examples: list[Example], tokens_per_batch: int, seed: int) -> list[list[int]]:
    """Shuffled batches of windows of similar length, each about ``tokens_per_batch`` padded tokens (by a
    token budget, where ``training.length_batches`` makes batches of a fixed number of pairs)."""
    rng = random.Random(seed)
    order = list(range(len(examples)))
    rng.shuffle(order)
    from argmine.relations.encoder import batches as by_tokens

    batches = []
    pool = 400
    for lo in range(0, len(order), pool):
        chunk = sorted(order[lo : lo + pool], key=lambda i: len(examples[i].window.input_ids))
        lengths = [len(examples[i].window.input_ids) for i in chunk]
        batches += [[chunk[k] for k in group] for group in by_tokens(lengths, len(chunk), tokens_per_batch)]
    rng.shuffle(batches)
    return batches


@dataclass(frozen=True)
class Schedule:
    """How the parser's nets are fitted: its recipe's values (``of``), or a cross-validation fold's
    (``settings.evaluation``) over them."""

    seed: int
    epochs: int
    encoder_lr: float
    head_lr: float
    tokens_per_batch: int
    weight_decay: float
    max_grad_norm: float
    warmup: float
    label_weight: float

    @classmethod
    def of(cls, recipe) -> Schedule:
        return cls(**{name: getattr(recipe, name) for name in cls.__dataclass_fields__})


def fit(encoder, scorers, examples: list[Example], out: Path, schedule: Schedule, device, log=print) -> dict:
    """Train encoder and scorers on ``examples`` through the training loop (``training.loop``): checkpoint
    after each epoch, resume from ``out``'s checkpoint of the same schedule and data. Returns the log."""
    import torch

    from argmine.training.loop import Run, train_epochs

    torch.manual_seed(schedule.seed)
    encoder.to(device).train()
    scorers.to(device).train()
    frozen = schedule.encoder_lr == 0  # the scorers alone learn (adapting on a few documents, say)
    encoder.requires_grad_(not frozen)
    groups = [{"params": list(encoder.parameters()), "lr": schedule.encoder_lr}] if not frozen else []
    groups.append({"params": list(scorers.parameters()), "lr": schedule.head_lr})
    optimizer = torch.optim.AdamW(groups, weight_decay=schedule.weight_decay)
    plan = [token_batches(examples, schedule.tokens_per_batch, schedule.seed + e) for e in range(schedule.epochs)]
    total = sum(len(p) for p in plan)
    warm = max(1, int(schedule.warmup * total))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    params = [p for g in groups for p in g["params"]]
    run = Run(
        {"encoder": encoder, "scorers": scorers},
        params,
        optimizer,
        scheduler,
        plan,
        _step(encoder, scorers, examples, schedule, device),
        schedule.seed,
        schedule.max_grad_norm,
        device,
    )
    fingerprint = json.dumps(asdict(schedule), sort_keys=True) + f"|{len(examples)}"
    history = train_epochs(run, out, fingerprint, log)
    return {"epochs": schedule.epochs, "history": history, "windows": len(examples)}


def _step(encoder, scorers, examples: list[Example], schedule: Schedule, device):
    """One batch of windows: the arc loss per gold arc plus the weighted label loss per gold label."""
    import torch

    from argmine.relations.parser import encode

    def step(batch: list[int]):
        exs = [examples[i] for i in batch]
        hidden = encode(encoder, [e.window for e in exs], device)
        parts = [window_loss(scorers, hidden, k, ex, torch) for k, ex in enumerate(exs)]
        arcs, labels = sum(p.arcs for p in parts), sum(p.labels for p in parts)
        arc, label = sum(p.arc for p in parts), sum(p.label for p in parts)
        loss = arc / max(1, arcs) + schedule.label_weight * label / max(1, labels)
        return loss, {"arc": (float(arc.detach()), arcs), "label": (float(label.detach()), labels)}

    return step


def summarize(examples: list[Example]) -> dict:
    """Windows, tokens and targets per source: what the model card reports."""
    out: dict[str, dict] = {}
    for ex in examples:
        s = out.setdefault(ex.source, {"windows": 0, "tokens": 0, "arcs": 0, "labels": 0})
        s["windows"] += 1
        s["tokens"] += len(ex.window.input_ids)
        s["arcs"] += sum(g is not None for g in ex.arc_gold)
        s["labels"] += sum(len(c) for c in ex.label_gold)
    return out


# ---------------------------------------------------------------- the recipe


@dataclass
class ParserData:
    """The recipe's sources as training examples, plus the held-out documents and replies that choose thresholds."""

    examples: list[Example]
    dev_docs: list[tuple[str, Graph]]
    dev_replies: list[ReplyPair]
    sources: list[dict]
    # the training side's threads and reply pairs (capped as the recipe caps them): what the answered-post
    # link trains on, read beside the parser's arcs
    train_docs: list[Graph] = field(default_factory=list)
    train_replies: list[ReplyPair] = field(default_factory=list)


def load_parser_data(recipe, tokenizer, cfg: ParserConfig, settings: Settings, log=print, examples: bool = True) -> ParserData:
    """Read every source of the recipe; held-out parts (a corpus's declared test and dev parts, and
    ``dev_fraction`` of the other document corpora) never become training examples. ``examples=False``
    reads only the held-out parts that choose thresholds."""
    from argmine.errors import InputError
    from argmine.evaluation import corpora

    rng = random.Random(recipe.seed)
    data = ParserData([], [], [], [])
    for spec in recipe.data:
        source = corpora.corpus(spec.name, what="parser training source")
        if not Path(spec.path).exists():
            raise InputError(f"training data {spec.name}: {spec.path} not found")
        train = _SOURCE_PARTS[source.kind](source, spec.path, recipe, data)
        items = _cap(train, spec.max_items, rng)
        if source.kind == "documents":
            data.train_docs += items
        elif source.kind == "replies":
            data.train_replies += items
        items = items if examples else []
        got = [
            e for k, item in enumerate(items) for e in _SOURCE_EXAMPLES[source.kind](item, k, tokenizer, cfg, settings, spec.name)
        ]
        data.examples += got
        data.sources.append({"name": spec.name, "path": spec.path, **summarize(got).get(got[0].source if got else spec.name, {})})
        log(f"{spec.name}: {data.sources[-1]}")
    return data


def _document_parts(source, path, recipe, data: ParserData) -> list[Graph]:
    """The training documents; the declared dev part (else ``dev_fraction``) chooses thresholds."""
    from argmine.evaluation.corpora import split_docs

    docs = source.read(path)
    if source.split:
        parts = source.parts(docs)
        keep, held = parts["train"], parts["dev"]
    else:
        keep, held = split_docs(docs, 1 - recipe.dev_fraction, recipe.seed)
    data.dev_docs += [(source.name, d) for d in held]
    return keep


def _reply_parts(source, path, recipe, data: ParserData) -> list[ReplyPair]:
    parts = source.parts(source.read(path))
    data.dev_replies = parts["dev"]
    return parts["train"]


def _pair_parts(source, path, recipe, data: ParserData) -> list:
    return [p for p in source.read(path) if p.label in LABEL_ID]


_SOURCE_PARTS = {"documents": _document_parts, "replies": _reply_parts, "pairs": _pair_parts}
_SOURCE_EXAMPLES = {
    "documents": lambda g, k, tok, cfg, settings, name: graph_examples(g, tok, cfg, name),
    "replies": lambda pair, k, tok, cfg, settings, name: reply_examples(pair, k, tok, cfg, settings),
    "pairs": lambda pair, k, tok, cfg, settings, name: stance_examples(pair, k, tok, cfg),
}


def _cap(items: list, cap: int | None, rng: random.Random) -> list:
    return rng.sample(items, cap) if cap and len(items) > cap else items


# ---------------------------------------------------------------- cross-validation


def cv_folds(docs: list[Graph], folds: int, seed: int) -> list[list[Graph]]:
    """Documents in ``folds`` folds by text (seeded): each text is in exactly one test fold."""
    order = sorted(docs, key=lambda d: d.id)
    random.Random(seed).shuffle(order)
    return [order[k::folds] for k in range(folds)]


def cross_validate(docs: list[Graph], parser, settings: Settings, folds: int = 5, epochs: int = 10, seed: int = 13, log=print):
    """Fine-tune a copy of ``parser`` on all folds but one and parse the held-out fold, for each fold.
    Returns a relater (document -> relations, tree) that reads each document with the model that never
    saw it, decided by the parser's own stored thresholds."""
    import copy
    import tempfile

    import torch

    from argmine.decoding.trees import decode_parse

    decision = parser.decision(settings)
    parses: dict[str, object] = {}
    cv = settings.evaluation
    schedule = replace(
        Schedule.of(load_recipe()),
        seed=seed,
        epochs=epochs,
        encoder_lr=cv.cv_encoder_lr,
        head_lr=cv.cv_head_lr,
        tokens_per_batch=cv.cv_tokens_per_batch,
        warmup=cv.cv_warmup,
    )
    parts = cv_folds(docs, folds, seed)
    for k, test in enumerate(parts):
        train_docs = [d for j, fold in enumerate(parts) if j != k for d in fold]
        examples = [e for g in train_docs for e in graph_examples(g, parser.tokenizer, parser.cfg, "cv")]
        encoder, scorers = copy.deepcopy(parser.encoder), copy.deepcopy(parser.scorers)
        with tempfile.TemporaryDirectory() as tmp:
            fit(
                encoder,
                scorers,
                examples,
                Path(tmp),
                schedule,
                torch.device("cpu") if parser.device is None else parser.device,
                log,
            )
        fold_parser = copy.copy(parser)
        fold_parser.encoder, fold_parser.scorers = encoder.eval(), scorers.eval()
        for g, parse in zip(test, fold_parser.parse([g.document for g in test])):
            parses[g.id] = parse
        log(f"fold {k + 1}/{folds}: trained on {len(train_docs)} texts, parsed {len(test)}")
    return lambda doc: decode_parse(doc, parses[doc.id], decision)

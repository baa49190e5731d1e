"""Evaluation: run the real pipeline on annotated documents and score units, relations and trees.

Two modes: ``gold`` units (relations alone) and ``e2e`` (segmenter included; a predicted unit
matches a gold unit when their overlap covers half of the longer span). Metrics as the papers
report them: unit P/R/F1; relation P/R/F1 per label; link-class F1 (the "linked" class over all
ordered unit pairs) and macro link F1 (mean of linked and not-linked F1); attachment accuracy
(share of gold-attached units whose decoded parent is the gold target) and support/attack
accuracy on correctly attached pairs.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from argmine.decoding.trees import Decoded
from argmine.document import RELATION_LABELS, Document, Relation, Unit, answered_posts, posts_above
from argmine.errors import InputError
from argmine.evaluation.corpora import CORPORA, ReplyPair, gold_links, reply_document
from argmine.graph import Graph
from argmine.pipeline import relate
from argmine.relations import Model
from argmine.settings import Settings, default_settings
from argmine.units.segmenter import segment

# A relater maps a document with units to (relations, decoded tree: each attached unit's link to its
# parent). Attachment accuracy reads the tree; relation scores read the relations.
Relater = Callable[[Document], Decoded]


def _structural(doc: Document, first_target: str, first_label: str) -> Decoded:
    """Inside a post each unit supports the one before it; a post's first unit links to the post it
    answers (``first_target``: that post's ``first`` or ``last`` unit; the unit just before for
    ``previous``) with ``first_label``."""
    units = doc.units
    by_post: dict[str, list[Unit]] = {}
    for u in units:
        by_post.setdefault(u.post, []).append(u)
    posts = {p.id: p for p in doc.posts}
    answered = answered_posts(doc)
    earlier = posts_above(doc, comments_only=False, with_units=True)
    attached: dict[str, Relation] = {}
    for i, u in enumerate(units):
        mine = by_post[u.post]
        if u is not mine[0]:
            prev = mine[mine.index(u) - 1]
            attached[u.id] = Relation(u.id, prev.id, "support", 1.0)
            continue
        if first_target == "previous":
            if i:
                attached[u.id] = Relation(u.id, units[i - 1].id, first_label if units[i - 1].post != u.post else "support", 1.0)
            continue
        parent = answered[u.post]
        if posts[u.post].kind == "comment" and doc.flat:
            parent = earlier.get(u.post)
        if parent in by_post and posts[u.post].kind == "comment":
            target = by_post[parent][0] if first_target == "first" else by_post[parent][-1]
            attached[u.id] = Relation(u.id, target.id, first_label, 1.0)
    return Decoded(list(attached.values()), attached)


BASELINES: dict[str, Relater] = {
    # each unit supports the unit just before it in the text
    "previous unit": lambda doc: _structural(doc, "previous", "support"),
    # a comment's first unit supports its parent post's first unit; the rest support the unit before
    "parent's first unit": lambda doc: _structural(doc, "first", "support"),
    # the same, but a comment's first unit attacks the last unit of the post it answers
    "positional (reply attacks)": lambda doc: _structural(doc, "last", "attack"),
}


def _overlap(a: tuple[int, int], b: tuple[int, int], share: float) -> bool:
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    return inter >= share * max(a[1] - a[0], b[1] - b[0]) and inter > 0


@dataclass
class Counts:
    tp: int = 0
    predicted: int = 0
    gold: int = 0

    def prf(self) -> dict:
        p = self.tp / self.predicted if self.predicted else 0.0
        r = self.tp / self.gold if self.gold else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(f, 4),
            "tp": self.tp,
            "predicted": self.predicted,
            "gold": self.gold,
        }


def model_relater(model: Model, settings: Settings) -> Relater:
    def run(doc: Document) -> Decoded:
        return relate(doc, model, settings).decoded

    return run


def evaluate_docs(
    docs: list[Graph],
    model: Model | None,
    settings: Settings,
    mode: str = "gold",
    progress=None,
    relater: Relater | None = None,
) -> dict:
    """Metrics over gold graphs ``docs``; ``mode`` is ``gold`` (gold units) or ``e2e``; ``relater``
    replaces the model (a baseline) when given."""
    relater = relater or model_relater(model, settings)
    share = settings.evaluation.unit_match_overlap
    tally = _Tally()
    for doc in docs:
        document = doc.document
        if mode != "gold":
            document = segment(document.with_units([]), settings.segmenter, settings.boilerplate)
        relations, parents = relater(document)
        gold_spans = [(g.start, g.end) for g in doc.units]
        match = _match_units([(u.start, u.end) for u in document.units], gold_spans, share)
        tally.units.tp += len(set(match.values())) if mode != "gold" else len(gold_spans)
        tally.units.predicted += len(document.units)
        tally.units.gold += len(gold_spans)
        index = {u.id: i for i, u in enumerate(document.units)}
        found = _Found(_predicted_links(relations, match, index), gold_links(doc), [g.post for g in doc.units])
        tally.add_relations(found)
        tally.add_links(found, len(gold_spans))
        tally.add_attachment(found, _decoded_parents(parents, match, index))
        if progress:
            progress.update(1)
    return tally.result(mode, len(docs))


def _match_units(pred_spans: list[tuple[int, int]], gold_spans: list[tuple[int, int]], share: float) -> dict[int, int]:
    """Predicted unit index -> gold unit index: the best overlap among those that pass the overlap rule."""
    match: dict[int, int] = {}
    for i, p in enumerate(pred_spans):
        hits = [j for j, g in enumerate(gold_spans) if _overlap(p, g, share)]
        if hits:
            match[i] = max(hits, key=lambda j: min(p[1], gold_spans[j][1]) - max(p[0], gold_spans[j][0]))
    return match


def _predicted_links(relations: list[Relation], match: dict[int, int], index: dict[str, int]) -> dict[tuple, str]:
    """Predicted relations keyed by gold unit indices (a relation with an unmatched end keeps its own
    ``("x", predicted index)`` key, so it can only be wrong); the first relation of a pair counts."""
    out: dict[tuple, str] = {}
    for r in relations:
        s, t = match.get(index[r.source]), match.get(index[r.target])
        key = (s, t) if s is not None and t is not None else (("x", index[r.source]), ("x", index[r.target]))
        out.setdefault(key, r.label)
    return out


def _decoded_parents(parents: dict[str, Relation], match: dict[int, int], index: dict[str, int]) -> dict[int, tuple]:
    """The decoded tree on gold units: gold index of a child -> (gold index of its parent or None, label)."""
    out: dict[int, tuple[int | None, str]] = {}
    for child, r in parents.items():
        s = match.get(index[child])
        if s is not None:
            out[s] = (match.get(index[r.target]), r.label)
    return out


@dataclass
class _Found:
    """One document's predicted and gold links by gold unit indices, and each gold unit's post."""

    predicted: dict[tuple, str]
    gold: dict[tuple[int, int], str]
    gold_post: list[str]


@dataclass
class _Tally:
    """The counts ``evaluate_docs`` adds up over documents and turns into metrics."""

    units: Counts = field(default_factory=Counts)
    relations: dict[str, Counts] = field(default_factory=lambda: {label: Counts() for label in RELATION_LABELS})
    linked: Counts = field(default_factory=Counts)
    unlinked: Counts = field(default_factory=Counts)
    cross: Counts = field(default_factory=Counts)
    attached_gold: int = 0
    attached_right: int = 0
    label_right: int = 0
    within_gold: int = 0
    within_right: int = 0

    def add_relations(self, found: _Found) -> None:
        """Relations per label, and those across posts (by the gold units' posts)."""
        pred_rel, gold_rel, gold_post = found.predicted, found.gold, found.gold_post
        for label in RELATION_LABELS:
            counts = self.relations[label]
            counts.predicted += sum(1 for lab in pred_rel.values() if lab == label)
            counts.gold += sum(1 for lab in gold_rel.values() if lab == label)
            counts.tp += sum(1 for k, lab in pred_rel.items() if lab == label and gold_rel.get(k) == label)
        for k, lab in pred_rel.items():
            if isinstance(k[0], int) and gold_post[k[0]] != gold_post[k[1]]:
                self.cross.predicted += 1
                self.cross.tp += gold_rel.get(k) == lab
        self.cross.gold += sum(1 for (s, t) in gold_rel if gold_post[s] != gold_post[t])

    def add_links(self, found: _Found, n: int) -> None:
        """The linked and not-linked classes over all ordered pairs of the ``n`` gold units."""
        pred_rel, gold_rel = found.predicted, found.gold
        all_pairs = n * (n - 1)
        self.linked.predicted += len(pred_rel)
        self.linked.gold += len(gold_rel)
        self.linked.tp += sum(1 for k in pred_rel if k in gold_rel)
        self.unlinked.tp += max(0, all_pairs - len(set(pred_rel) | set(gold_rel)))
        self.unlinked.predicted += all_pairs - len(pred_rel)
        self.unlinked.gold += all_pairs - len(gold_rel)

    def add_attachment(self, found: _Found, parent_of: dict[int, tuple]) -> None:
        """Attachment: is the decoded parent of each gold source its gold target (and the label right)?"""
        for (s, t), label in found.gold.items():
            self.attached_gold += 1
            got = parent_of.get(s)
            hit = got is not None and got[0] == t
            if hit:
                self.attached_right += 1
                self.label_right += got[1] == label
            if found.gold_post[s] == found.gold_post[t]:
                self.within_gold += 1
                self.within_right += hit

    def result(self, mode: str, documents: int) -> dict:
        """The metrics, as ``evaluate_docs`` reports them."""
        rel = self.relations
        result = {
            "mode": mode,
            "documents": documents,
            "units": self.units.prf(),
            "relations": {label: rel[label].prf() for label in RELATION_LABELS},
        }
        overall = Counts(
            sum(c.tp for c in rel.values()), sum(c.predicted for c in rel.values()), sum(c.gold for c in rel.values())
        )
        result["relations"]["overall"] = overall.prf()
        link_f1 = self.linked.prf()["f1"]
        result["link_class_f1"] = round(100 * link_f1, 2)
        result["macro_link_f1"] = round(100 * (link_f1 + self.unlinked.prf()["f1"]) / 2, 2)
        result["attachment_accuracy"] = round(self.attached_right / self.attached_gold, 4) if self.attached_gold else 0.0
        result["label_accuracy_on_attached"] = round(self.label_right / self.attached_right, 4) if self.attached_right else 0.0
        if self.cross.gold:
            result["cross_post_relations"] = self.cross.prf()
            result["within_post_attachment"] = round(self.within_right / self.within_gold, 4) if self.within_gold else 0.0
        return result


def evaluate_replies(pairs: list[ReplyPair], relater: Relater, settings: Settings, progress=None) -> dict:
    """Reply stance end to end: each pair becomes a two-post thread (quote, response answering it),
    is segmented and related; its label is that of the strongest relation from the response to the
    quote, ``none`` when there is none. Macro F1 over support/attack/none."""
    gold, pred = [], []
    for k, pair in enumerate(pairs):
        doc = reply_document(pair, k, settings)
        relations, _ = relater(doc)
        post = {u.id: u.post for u in doc.units}
        cross = [r for r in relations if post[r.source] == "response" and post[r.target] == "quote"]
        gold.append(pair.label)
        pred.append(max(cross, key=lambda r: r.score).label if cross else "none")
        if progress:
            progress.update(1)
    return stance_scores(gold, pred)


def stance_scores(gold: list[str], pred: list[str]) -> dict:
    """Per-label P/R/F1, macro F1 and accuracy over support/attack/none."""
    out: dict = {"pairs": len(gold), "accuracy": round(sum(g == p for g, p in zip(gold, pred)) / max(1, len(gold)), 4)}
    f1s = []
    for label in ("support", "attack", "none"):
        c = Counts(
            sum(1 for g, p in zip(gold, pred) if g == p == label),
            sum(1 for p in pred if p == label),
            sum(1 for g in gold if g == label),
        )
        out[label] = c.prf()
        f1s.append(out[label]["f1"])
    out["macro_f1"] = round(sum(f1s) / 3, 4)
    return out


def format_table(results: list[dict], corpus: str) -> str:
    """A plain-text table of evaluation results: per mode, the model and each baseline on one line."""
    lines = []
    for mode in dict.fromkeys(r["mode"] for r in results):
        rows = [r for r in results if r["mode"] == mode]
        first = rows[0]
        lines.append(f"{corpus} ({first['documents']} documents), {'gold units' if mode == 'gold' else 'end to end'}")
        if mode != "gold":
            u = first["units"]
            lines.append(
                f"  units P {u['precision']:.3f}  R {u['recall']:.3f}  F1 {u['f1']:.3f}  ({u['predicted']} predicted, {u['gold']} gold)"
            )
        cross = any("cross_post_relations" in r for r in rows)
        head = f"  {'':<34}{'rel. F1':>8}{'support':>8}{'attack':>8}{'link F1':>8}{'attach':>8}{'s/a acc':>8}"
        lines.append(head + (f"{'cross F1':>9}{'within':>8}" if cross else ""))
        for r in rows:
            rel = r["relations"]
            line = (
                f"  {r.get('system', 'model'):<34}{rel['overall']['f1']:>8.3f}{rel['support']['f1']:>8.3f}{rel['attack']['f1']:>8.3f}"
                f"{r['link_class_f1']:>8.2f}{r['attachment_accuracy']:>8.3f}{r['label_accuracy_on_attached']:>8.3f}"
            )
            if cross:
                line += f"{r.get('cross_post_relations', {}).get('f1', 0.0):>9.3f}{r.get('within_post_attachment', 0.0):>8.3f}"
            lines.append(line)
    return "\n".join(lines)


def format_stance_table(results: dict[str, dict], title: str) -> str:
    """A plain-text table of reply-stance results, one line per system."""
    lines = [title, f"  {'':<34}{'macro F1':>9}{'support':>9}{'attack':>9}{'none':>9}{'acc.':>8}"]
    for name, r in results.items():
        lines.append(
            f"  {name:<34}{r['macro_f1']:>9.3f}{r['support']['f1']:>9.3f}{r['attack']['f1']:>9.3f}{r['none']['f1']:>9.3f}{r['accuracy']:>8.3f}"
        )
    return "\n".join(lines)


def _scored() -> tuple[str, ...]:
    """The corpora ``evaluate`` scores (gold documents and reply pairs), read from the registry when asked."""
    return tuple(name for name, c in CORPORA.items() if c.kind != "pairs")


EVAL_FORMATS = _scored()
SPLITS = ("test", "dev", "all")


@dataclass
class Report:
    """An evaluation's results: per mode, the model and each baseline on the same units (or reply pairs)."""

    corpus: str
    format: str
    model: str
    results: list[dict] | dict[str, dict]
    title: str
    reply_links: dict | None = None  # the answered-post link on gold units (``evaluate_reply_links``)

    def to_json(self) -> str:
        out = {"corpus": self.corpus, "format": self.format, "model": self.model, "results": self.results}
        if self.reply_links is not None:
            out["reply_links"] = self.reply_links
        return json.dumps(out, indent=1)

    def table(self) -> str:
        if isinstance(self.results, dict):
            return format_stance_table(self.results, self.title)
        table = format_table(self.results, self.title)
        return table if self.reply_links is None else table + "\n" + format_links_table(self.reply_links)


def format_links_table(links: dict) -> str:
    """The answered-post link: target top-1 of the model and each baseline, and "no link" F1."""
    lines = [
        f"answered-post link (gold units): target top-1 among {links['gold_links']} gold cross-post links "
        f"({links['reachable']} among the candidates)"
    ]
    lines += [f"  {name:<34}{value:>9.3f}" for name, value in links["target_top1"].items()]
    none = links["no_link"]
    lines.append(
        f"  no link: F1 {none['f1']:.3f} (precision {none['precision']:.3f}, recall {none['recall']:.3f}, {none['gold']} gold)"
    )
    return "\n".join(lines)


def evaluate(
    corpus: str | Path,
    fmt: str = "graph",
    *,
    mode: str = "both",
    split: str | None = None,
    baselines: bool = True,
    limit: int | None = None,
    model: Model | str | None = None,
    settings: Settings | None = None,
    progress: bool = False,
    cv: int | None = None,
) -> Report:
    """Run the pipeline on an annotated corpus (``fmt``: one of ``EVAL_FORMATS``) and score it beside
    the structural baselines on the same units. ``split`` picks the part of a corpus that declares a
    held-out split (QT30, reply-agreement): test (default), dev or all. ``cv`` (gold-unit corpora, the
    parser) adds k-fold cross-validation by document: fine-tuned on k-1 folds, scored on the one left."""
    from argmine.pipeline import load_model

    if mode not in ("gold", "e2e", "both"):
        raise InputError(f"unknown mode {mode!r} (choose gold, e2e or both)")
    source = _eval_corpus(fmt, corpus, split)
    settings = settings or default_settings()
    split = split or "test"
    items = _held_out(source, source.read(corpus), split)[:limit]
    if not items:
        raise InputError(
            f"{corpus}: no reply pairs in the {split} topics"
            if source.kind == "replies"
            else f"{corpus}: no annotated documents found"
        )
    relation_model = model if not isinstance(model, (str, type(None))) else load_model(model, settings=settings)
    if source.kind == "replies":
        stance = _score_replies(items, relation_model, settings, baselines, progress)
        title = f"{fmt} ({split} topics, {len(items)} pairs as two-post threads, end to end)"
        return Report(str(corpus), fmt, relation_model.name, stance, title)
    results = []
    for m in ["gold", "e2e"] if mode == "both" else [mode]:
        for name, relater in _runs(items, relation_model, settings, baselines, cv if m == "gold" else None, progress).items():
            results.append({"system": name, **_score_docs(items, relation_model, settings, m, relater, name, progress)})
    links = None
    if mode != "e2e" and getattr(relation_model, "links", None) is not None and any(len(g.document.posts) > 1 for g in items):
        links = evaluate_reply_links(items, relation_model, settings)
    return Report(str(corpus), fmt, relation_model.name, results, f"{fmt}: {corpus}", links)


def _eval_corpus(fmt: str, corpus: str | Path, split: str | None):
    """The corpus ``fmt`` names, checked with its path and split before anything is read."""
    scored = _scored()
    if fmt not in scored:
        raise InputError(f"unknown corpus format {fmt!r} (choose from {', '.join(scored)})")
    if split is not None and split not in SPLITS:
        raise InputError(f"unknown split {split!r} (choose test, dev or all)")
    if not Path(corpus).exists():
        raise InputError(f"{corpus}: no such file or folder")
    source = CORPORA[fmt]
    if split not in (None, "all") and source.split is None:
        raise InputError(
            f"{fmt} declares no held-out split: --split {split} applies to {', '.join(n for n in scored if CORPORA[n].split)}"
        )
    return source


def _held_out(source, items: list, split: str) -> list:
    """The corpus's declared ``split`` part (all of it where it declares none, or for ``all``)."""
    return items if split == "all" or source.split is None else source.parts(items)[split]


def _runs(docs: list[Graph], model, settings: Settings, baselines: bool, cv: int | None, progress: bool) -> dict:
    """The systems scored on the same units: the model (None), the baselines, and its cross-validated copy."""
    runs: dict[str, Relater | None] = {"model": None, **_baselines(baselines)}
    if cv:
        runs[f"model, {cv}-fold cross-validation"] = _cross_validated(docs, model, settings, cv, progress)
    return runs


def _baselines(wanted: bool) -> dict[str, Relater]:
    return {f"baseline: {k}": v for k, v in BASELINES.items()} if wanted else {}


def _score_docs(docs: list[Graph], model, settings: Settings, mode: str, relater, name: str, progress: bool) -> dict:
    from tqdm.auto import tqdm

    with tqdm(total=len(docs), desc=f"evaluating ({mode}, {name})", unit="doc", disable=not progress, leave=False) as bar:
        return evaluate_docs(docs, model, settings, mode, bar, relater=relater)


def _score_replies(pairs: list[ReplyPair], model, settings: Settings, baselines: bool, progress: bool) -> dict[str, dict]:
    """Stance scores of the model, each baseline and the majority label on the same reply pairs."""
    from tqdm.auto import tqdm

    runs = {"model": model_relater(model, settings), **_baselines(baselines)}
    stance: dict[str, dict] = {}
    for name, relater in runs.items():
        with tqdm(total=len(pairs), desc=f"reply pairs ({name})", unit="pair", disable=not progress, leave=False) as bar:
            stance[name] = evaluate_replies(pairs, relater, settings, bar)
    if baselines:
        stance["baseline: majority label (attack)"] = stance_scores([p.label for p in pairs], ["attack"] * len(pairs))
    return stance


def _cross_validated(docs: list[Graph], model, settings: Settings, folds: int, progress: bool) -> Relater:
    """A relater reading each document with a copy of the parser fine-tuned on the other folds (by text)."""
    from argmine.relations.parser import ArgumentParser
    from argmine.training.parser import cross_validate

    if not isinstance(model, ArgumentParser):
        raise InputError("cross-validation (--cv) fine-tunes the contextual parser: use a parser model")
    if len(docs) < folds:
        raise InputError(f"{folds}-fold cross-validation needs at least {folds} documents, got {len(docs)}")
    log = (lambda m: None) if not progress else (lambda m: print(m, file=sys.stderr))
    return cross_validate(docs, model, settings, folds, settings.evaluation.cv_epochs, log=log)


# ---------------------------------------------------------------- the answered-post link on its own


def _slot_baselines(slot, doc: Document, answered: str | None) -> dict[str, Callable[[int], int]]:
    """For a source row ``a`` of a slot, the target column each baseline picks: the answered post's first
    or last unit, the most similar unit by sentence embeddings or by TF-IDF among the slot's candidates."""
    from argmine.relations.replies import FEATURES

    emb, tf = FEATURES.index("emb"), FEATURES.index("tfidf")
    n = len(slot.targets)
    cols = [b for b, t in enumerate(slot.targets) if doc.units[t].post == answered] or list(range(n))

    def best(feature: int):
        return lambda a: int(slot.pair_features[a * n : (a + 1) * n, feature].argmax())

    return {
        "answered post's first unit": lambda a: cols[0],
        "answered post's last unit": lambda a: cols[-1],
        "most similar (embeddings)": best(emb),
        "most similar (TF-IDF)": best(tf),
    }


def evaluate_reply_links(docs: list[Graph], model, settings: Settings | None = None) -> dict:
    """The answered-post link on gold units: target accuracy (top-1 among the gold cross-post links, for
    their gold source) of the model's link scorer beside four baselines on the same links, and F1 of "no
    link" over the posts that answer another (predicted: no relation out of the post in the model's output;
    gold: no cross-post link from the post)."""
    from argmine.decoding.trees import decode_parse
    from argmine.relations.parser import set_replies
    from argmine.relations.replies import cross_links

    if getattr(model, "links", None) is None:
        raise InputError("the answered-post link is scored for a parser with a reply-link scorer (argmine_links.json)")
    settings = settings or default_settings()
    decision = model.decision(settings)
    hits: dict[str, int] = {"model": 0}
    total = reachable = 0
    none = Counts()
    for graph in docs:
        doc = graph.document
        checked = model.windows_of(doc)  # windows, quotes and TF-IDF built once for the parse and the link
        (parse,) = model.parse([checked], links=False)
        scored = model.score_links(checked, parse)
        set_replies(parse, scored)
        relations, _ = decode_parse(doc, parse, decision)
        post_of = {u.id: u.post for u in doc.units}
        linking = {post_of[r.source] for r in relations if post_of[r.source] != post_of[r.target]}
        gold_links = cross_links(graph)
        answered = answered_posts(doc)
        for slot, p in scored:
            n = len(slot.targets)
            links = gold_links.get(slot.post, {})
            predicted_none = slot.post not in linking
            gold_any = bool(links)
            none.predicted += predicted_none
            none.gold += not gold_any
            none.tp += predicted_none and not gold_any
            rules = _slot_baselines(slot, doc, answered.get(slot.post))
            for a, s in enumerate(slot.sources):
                for t in sorted(links.get(s, ())):
                    total += 1
                    if t not in slot.targets:
                        continue
                    reachable += 1
                    b = slot.targets.index(t)
                    hits["model"] += int(p[a * n : (a + 1) * n].argmax()) == b
                    for name, rule in rules.items():
                        hits[name] = hits.get(name, 0) + (rule(a) == b)
    return {
        "gold_links": total,
        "reachable": reachable,
        "target_top1": {name: round(h / total, 4) if total else 0.0 for name, h in hits.items()},
        "no_link": none.prf(),
    }

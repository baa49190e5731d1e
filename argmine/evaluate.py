"""Evaluation: run the real pipeline on annotated documents and score units, relations and trees.

Two modes: ``gold`` units (relations alone) and ``e2e`` (segmenter included; a predicted unit
matches a gold unit when their overlap covers half of the longer span). Metrics as the papers
report them: unit P/R/F1; relation P/R/F1 per label; link-class F1 (the "linked" class over all
ordered unit pairs) and macro link F1 (mean of linked and not-linked F1); attachment accuracy
(share of gold-attached units whose decoded parent is the gold target) and support/attack
accuracy on correctly attached pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

from argmine.corpora import AnnotatedDoc
from argmine.document import Document, Post, Unit
from argmine.pipeline import relate
from argmine.relations import RelationModel
from argmine.segmenter import segment

LABELS = ("support", "attack")


def to_document(doc: AnnotatedDoc, with_units: bool) -> Document:
    """The annotated text as an argmine document (its posts, or one article post), gold units optional."""
    if doc.posts:
        posts = [Post(p["id"], p["kind"], p["start"], p["end"], p.get("parent"), p.get("author")) for p in doc.posts]
    else:
        posts = [Post("article", "article", 0, len(doc.text))]
    document = Document(doc.id, doc.text, posts)
    if not with_units:
        return document
    units = []
    for i, g in enumerate(doc.units):
        post = g.post if doc.posts else "article"
        units.append(Unit(f"u{i + 1}", post, g.start, g.end, doc.text[g.start : g.end]))
    return document.with_units(units)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    return inter * 2 >= max(a[1] - a[0], b[1] - b[0]) and inter > 0


@dataclass
class Counts:
    tp: int = 0
    predicted: int = 0
    gold: int = 0

    def prf(self) -> dict:
        p = self.tp / self.predicted if self.predicted else 0.0
        r = self.tp / self.gold if self.gold else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "tp": self.tp,
                "predicted": self.predicted, "gold": self.gold}


def evaluate_docs(docs: list[AnnotatedDoc], model: RelationModel, config: dict, mode: str = "gold", progress=None) -> dict:
    """Metrics over ``docs``; ``mode`` is ``gold`` (gold units) or ``e2e``."""
    units = Counts()
    rel = {label: Counts() for label in LABELS}
    linked, unlinked = Counts(), Counts()
    attached_gold = attached_right = label_right = 0
    for doc in docs:
        document = to_document(doc, with_units=mode == "gold")
        if mode != "gold":
            document = segment(document, config)
        relations, parents, _ = relate(document, model, config)
        pred_spans = [(u.start, u.end) for u in document.units]
        gold_spans = [(g.start, g.end) for g in doc.units]
        # predicted unit index -> gold unit index (best overlap, 50% rule)
        match: dict[int, int] = {}
        for i, p in enumerate(pred_spans):
            hits = [j for j, g in enumerate(gold_spans) if _overlap(p, g)]
            if hits:
                match[i] = max(hits, key=lambda j: min(p[1], gold_spans[j][1]) - max(p[0], gold_spans[j][0]))
        units.tp += len(set(match.values())) if mode != "gold" else len(gold_spans)
        units.predicted += len(pred_spans)
        units.gold += len(gold_spans)
        index = {u.id: i for i, u in enumerate(document.units)}
        gold_rel = {(r.source, r.target): r.label for r in doc.relations}
        pred_rel: dict[tuple[int, int], str] = {}
        for r in relations:
            s, t = match.get(index[r.source]), match.get(index[r.target])
            key = (s, t) if s is not None and t is not None else (("x", index[r.source]), ("x", index[r.target]))
            pred_rel.setdefault(key, r.label)
        for label in LABELS:
            rel[label].predicted += sum(1 for lab in pred_rel.values() if lab == label)
            rel[label].gold += sum(1 for lab in gold_rel.values() if lab == label)
            rel[label].tp += sum(1 for k, lab in pred_rel.items() if lab == label and gold_rel.get(k) == label)
        n = len(gold_spans)
        all_pairs = n * (n - 1)
        linked.predicted += len(pred_rel)
        linked.gold += len(gold_rel)
        linked.tp += sum(1 for k in pred_rel if k in gold_rel)
        true_unlinked = all_pairs - len(set(pred_rel) | set(gold_rel))
        unlinked.tp += max(0, true_unlinked)
        unlinked.predicted += all_pairs - len(pred_rel)
        unlinked.gold += all_pairs - len(gold_rel)
        # attachment: the decoded parent of the unit matching each gold source
        parent_of: dict[int, tuple[int | None, str]] = {}
        for child, r in parents.items():
            s = match.get(index[child])
            if s is not None:
                parent_of[s] = (match.get(index[r.target]), r.label)
        for (s, t), label in gold_rel.items():
            attached_gold += 1
            got = parent_of.get(s)
            if got is not None and got[0] == t:
                attached_right += 1
                label_right += got[1] == label
        if progress:
            progress.update(1)
    result = {
        "mode": mode,
        "documents": len(docs),
        "units": units.prf(),
        "relations": {label: rel[label].prf() for label in LABELS},
    }
    overall = Counts(sum(c.tp for c in rel.values()), sum(c.predicted for c in rel.values()), sum(c.gold for c in rel.values()))
    result["relations"]["overall"] = overall.prf()
    link_f1 = linked.prf()["f1"]
    result["link_class_f1"] = round(100 * link_f1, 2)
    result["macro_link_f1"] = round(100 * (link_f1 + unlinked.prf()["f1"]) / 2, 2)
    result["attachment_accuracy"] = round(attached_right / attached_gold, 4) if attached_gold else 0.0
    result["label_accuracy_on_attached"] = round(label_right / attached_right, 4) if attached_right else 0.0
    return result


def format_table(results: list[dict], corpus: str) -> str:
    """A plain-text table of evaluation results, one block per mode."""
    lines = []
    for r in results:
        lines.append(f"{corpus} ({r['documents']} documents), {'gold units' if r['mode'] == 'gold' else 'end to end'}")
        lines.append(f"  {'':<22}{'P':>8}{'R':>8}{'F1':>8}{'pred':>7}{'gold':>7}")
        rows = [("units", r["units"])] + [(f"relations: {k}", v) for k, v in r["relations"].items()]
        for name, m in rows:
            lines.append(f"  {name:<22}{m['precision']:>8.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}{m['predicted']:>7}{m['gold']:>7}")
        lines.append(f"  link-class F1 {r['link_class_f1']:.2f}   macro link F1 {r['macro_link_f1']:.2f}")
        lines.append(
            f"  attachment accuracy {r['attachment_accuracy']:.3f}   support/attack accuracy on attached {r['label_accuracy_on_attached']:.3f}"
        )
    return "\n".join(lines)

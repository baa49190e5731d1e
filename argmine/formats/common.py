"""Helpers shared by the format modules: roles by tree depth, UTF-16 offsets, graphs from annotations."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import replace

from argmine.document import Document, Post, Quote, Relation, Unit
from argmine.errors import InputError
from argmine.graph import Graph, posts_from_json, posts_json, text_sha256


def roles(graph: Graph) -> dict[str, str]:
    """AAE-style roles from the trees: a root with children is a MajorClaim, its children and lone
    roots are Claims, deeper units are Premises."""
    out: dict[str, str] = {}
    for tree in graph.trees:
        for node, depth in tree.walk():
            if depth == 0:
                out[node.unit] = "MajorClaim" if node.children else "Claim"
            else:
                out[node.unit] = "Claim" if depth == 1 else "Premise"
    return out


class Utf16:
    """Convert between code-point offsets (argmine) and UTF-16 code units (JavaScript tools)."""

    def __init__(self, text: str):
        self.astral = [i for i, ch in enumerate(text) if ord(ch) > 0xFFFF]

    def to_utf16(self, index: int) -> int:
        return index + bisect_right(self.astral, index - 1)

    def from_utf16(self, index: int) -> int:
        lo, hi = 0, index
        while lo < hi:  # smallest code-point index whose UTF-16 offset reaches ``index``
            mid = (lo + hi) // 2
            if self.to_utf16(mid) < index:
                lo = mid + 1
            else:
                hi = mid
        if self.to_utf16(lo) != index:
            raise InputError(f"UTF-16 offset {index} falls inside a surrogate pair")
        return lo


def graph_from_annotations(
    text: str,
    units: list[tuple[str, int, int, str | None]],
    relations: list[tuple[str, str, str, float | None]],
    posts: list[dict] | None = None,
    doc_id: str = "imported",
    source_path: str = "-",
    model: dict | None = None,
    meta: dict | None = None,
    quotes: list[tuple[int, int, str | None]] | None = None,
) -> Graph:
    """Build a schema-valid argmine graph from imported units ``(id, start, end, text?)`` and
    relations ``(source, target, label, score?)``; offsets that do not match the text are errors.
    ``meta`` is what argmine stored beside the annotations at export (``argmine_meta``): the posts
    with their quotes, the document id and which relations are tree edges, so a round trip gives back
    the same graph. ``quotes`` ``(start, end, target unit?)``, where the tool annotates them (brat),
    replace the stored ones."""
    meta = meta if isinstance(meta, dict) else {}
    if posts is None and isinstance(meta.get("posts"), list):
        posts = meta["posts"]
    if isinstance(meta.get("id"), str) and meta["id"]:
        doc_id = meta["id"]
    try:
        doc_posts, doc_quotes = posts_from_json(posts or [])
    except (KeyError, TypeError, AttributeError):
        raise InputError("the stored posts are not argmine posts (id, kind, start, end, quotes?)") from None
    if not doc_posts:
        doc_posts = [Post("article", "article", 0, len(text))]
    if quotes is not None:
        doc_quotes = [Quote(_post_of(doc_posts, s, e, "a quote"), s, e, t) for s, e, t in quotes]
    document = Document(doc_id, text, doc_posts, source_path=source_path, sha256=text_sha256(text), quotes=doc_quotes)
    doc_units = []
    seen = set()
    for uid, start, end, covered in sorted(units, key=lambda u: (u[1], u[2], u[0])):
        if uid in seen:
            raise InputError(f"unit {uid} appears twice")
        seen.add(uid)
        if not 0 <= start < end <= len(text):
            raise InputError(f"unit {uid}: offsets {start}:{end} are outside the text (length {len(text)})")
        if covered is not None and text[start:end] != covered:
            raise InputError(f"unit {uid}: text at {start}:{end} is {text[start:end][:40]!r}, not {covered[:40]!r}")
        doc_units.append(Unit(uid, _post_of(doc_posts, start, end, f"unit {uid}"), start, end, text[start:end]))
    document = document.with_units(doc_units)
    # a quote's target unit removed in the tool: the quote stays and points at nothing
    document = replace(document, quotes=[q if q.target in seen else replace(q, target=None) for q in doc_quotes])
    # what argmine stored at export refers to units by their spans (a tool may rename units)
    at = {(u.start, u.end): u.id for u in doc_units}

    def stored(entry: object, size: int) -> tuple | None:
        if not isinstance(entry, list) or len(entry) != size:
            return None
        return at.get(tuple(entry[:2])), at.get(tuple(entry[2:4]))

    known = {}  # scores, for tools that keep none (Label Studio, doccano)
    for e in meta.get("scores") if isinstance(meta.get("scores"), list) else []:
        if stored(e, 5) and isinstance(e[4], (int, float)):
            known[stored(e, 5)] = float(e[4])
    rels = []
    for source, target, label, score in relations:
        score = known.get((source, target)) if score is None else score
        if source not in seen or target not in seen:
            raise InputError(f"relation {source} -> {target} names a unit that does not exist")
        if label not in ("support", "attack"):
            raise InputError(f"relation {source} -> {target} has label {label!r}, not support or attack")
        rels.append(Relation(source, target, label, 1.0 if score is None else float(score)))
    order = {u.id: i for i, u in enumerate(doc_units)}
    rels.sort(key=lambda r: (order[r.source], order[r.target]))
    if not isinstance(meta.get("tree"), list):
        return Graph.gold(document, rels, model)
    # the exported trees, as far as their edges are still relations (an annotator may have removed some)
    edges = {stored(e, 4) for e in meta["tree"]}
    attached: dict[str, Relation] = {}
    for rel in rels:
        if (rel.source, rel.target) in edges and rel.source not in attached:
            attached[rel.source] = rel
    return Graph.gold(document, rels, model, attached)


def _post_of(posts: list[Post], start: int, end: int, what: str) -> str:
    """The id of the post a span lies in."""
    post = next((p.id for p in posts if p.start <= start and end <= p.end), None)
    if post is None:
        raise InputError(f"{what}: span {start}:{end} is not inside one post")
    return post


def check_same_text(own: str | None, given: str | None, units: list[tuple], where: str) -> None:
    """A file that carries its own text, imported with ``--text``: the two must agree, or the units
    would be arbitrary slices. The error names the first unit (``(id, start, end, ...)``) that differs."""
    if own is None or given is None or own == given:
        return
    for uid, start, end, *_ in sorted(units, key=lambda u: (u[1], u[2])):
        if own[start:end] != given[start:end]:
            raise InputError(
                f"{where}: --text differs from the file's own text at unit {uid} ({start}:{end}): "
                f"{own[start:end][:40]!r} in the file, {given[start:end][:40]!r} in --text"
            )
    first = next((i for i, (a, b) in enumerate(zip(own, given)) if a != b), min(len(own), len(given)))
    raise InputError(f"{where}: --text differs from the file's own text from character {first} on")


def argmine_meta(graph: Graph) -> dict:
    """What annotation tools have no place for, stored beside their annotations at export: the document
    id, the posts (with their quotes) and the tree edges (by unit offsets, so units renamed by a tool still match)."""
    spans = {u.id: [u.start, u.end] for u in graph.units}
    tree = [spans[child.unit] + spans[node.unit] for root in graph.trees for node, _ in root.walk() for child in node.children]
    scores = [spans[r.source] + spans[r.target] + [r.score] for r in graph.relations]
    return {"id": graph.id, "posts": posts_json(graph.document), "tree": tree, "scores": scores}


LABEL_TO_RELATION = {"supports": "support", "support": "support", "attacks": "attack", "attack": "attack"}
RELATION_TO_LABEL = {"support": "supports", "attack": "attacks"}

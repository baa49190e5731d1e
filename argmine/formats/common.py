"""Helpers shared by the format modules: roles by tree depth, UTF-16 offsets, graphs from annotations."""

from __future__ import annotations

from bisect import bisect_right
from pathlib import Path

from argmine.document import Document, Post, Relation, Unit
from argmine.errors import InputError
from argmine.graph import Graph, text_sha256


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
) -> Graph:
    """Build a schema-valid argmine graph from imported units ``(id, start, end, text?)`` and
    relations ``(source, target, label, score?)``; offsets that do not match the text are errors."""
    doc_posts = [Post(p["id"], p["kind"], p["start"], p["end"], p.get("parent"), p.get("author")) for p in posts or []]
    if not doc_posts:
        doc_posts = [Post("article", "article", 0, len(text))]
    document = Document(doc_id, text, doc_posts, source_path=source_path, sha256=text_sha256(text))
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
        post = next((p.id for p in doc_posts if p.start <= start and end <= p.end), None)
        if post is None:
            raise InputError(f"unit {uid}: span {start}:{end} is not inside one post")
        doc_units.append(Unit(uid, post, start, end, text[start:end]))
    document = document.with_units(doc_units)
    rels = []
    for source, target, label, score in relations:
        if source not in seen or target not in seen:
            raise InputError(f"relation {source} -> {target} names a unit that does not exist")
        if label not in ("support", "attack"):
            raise InputError(f"relation {source} -> {target} has label {label!r}, not support or attack")
        rels.append(Relation(source, target, label, 1.0 if score is None else float(score)))
    order = {u.id: i for i, u in enumerate(doc_units)}
    rels.sort(key=lambda r: (order[r.source], order[r.target]))
    return Graph.gold(document, rels, model)


def read_text(path: str | Path, max_bytes: int = 1_000_000_000) -> str:
    """An annotation file's text: UTF-8 (BOM dropped); missing, binary or undecodable files are one-line errors."""
    from argmine.readers import decode, read_bytes

    return decode(read_bytes(str(path), max_bytes), str(path))


LABEL_TO_RELATION = {"supports": "support", "support": "support", "attacks": "attack", "attack": "attack"}
RELATION_TO_LABEL = {"support": "supports", "attack": "attacks"}

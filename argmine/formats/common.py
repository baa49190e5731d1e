"""Helpers shared by the format modules: roles by tree depth, UTF-16 offsets, graphs from annotations."""

from __future__ import annotations

import json
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
    where: str | None = None,
) -> Graph:
    """Build a schema-valid argmine graph from imported units ``(id, start, end, text?)`` and
    relations ``(source, target, label, score?)``; offsets that do not match the text are errors
    (prefixed with ``where``, the file). ``meta`` is what argmine stored beside the annotations at
    export (``argmine_meta``, checked by ``side_info``): the posts with their quotes, the document id,
    the exported relations and tree edges, so a round trip gives back the same graph and an
    annotator's edits are told apart from the model's relations. ``quotes`` ``(start, end, target
    unit?)``, where the tool annotates them (brat), replace the stored ones."""
    try:
        return _graph(text, units, relations, posts, doc_id, source_path, model, meta or {}, quotes)
    except InputError as exc:
        raise InputError(f"{where}: {exc}" if where else str(exc)) from None


def _graph(text, units, relations, posts, doc_id, source_path, model, meta: dict, quotes) -> Graph:
    """``graph_from_annotations`` without the file name in its errors."""
    if posts is None and "posts" in meta:
        posts = meta["posts"]
    doc_id = meta.get("id") or doc_id
    try:
        doc_posts, doc_quotes = posts_from_json(posts or [])
    except (KeyError, TypeError, AttributeError):
        raise InputError("the stored posts are not argmine posts (id, kind, start, end, quotes?)") from None
    if not doc_posts:
        doc_posts = [Post("article", "article", 0, len(text))]
    if quotes is not None:
        doc_quotes = [Quote(_post_of(doc_posts, s, e, "a quote"), s, e, t) for s, e, t in quotes]
    document = Document(doc_id, text, doc_posts, source_path=source_path, sha256=text_sha256(text), quotes=doc_quotes)
    document = document.with_units(_units(text, units, doc_posts))
    seen = {u.id for u in document.units}
    # a quote's target unit removed in the tool: the quote stays and points at nothing
    document = replace(document, quotes=[q if q.target in seen else replace(q, target=None) for q in doc_quotes])
    # what argmine stored at export refers to units by their spans (a tool may rename units)
    at = {(u.start, u.end): u.id for u in document.units}
    exported = {(at.get(tuple(e[:2])), at.get(tuple(e[2:4]))): e[4:] for e in meta.get("scores", [])}
    rels, edited = _relations(relations, seen, exported, "scores" in meta)
    order = {u.id: i for i, u in enumerate(document.units)}
    rels.sort(key=lambda r: (order[r.source], order[r.target]))
    if "tree" not in meta:
        return Graph.gold(document, rels, model)
    edges = {(at.get(tuple(e[:2])), at.get(tuple(e[2:4]))) for e in meta["tree"]}
    removed = exported.keys() - {(r.source, r.target) for r in rels}
    if edited or removed:  # an annotator changed the relations: the trees follow them
        return Graph.gold(document, rels, model, rebuilt_tree(document, rels, edited, edges))
    # unchanged: the exported trees (their edges are all still relations)
    attached: dict[str, Relation] = {}
    for rel in rels:
        if (rel.source, rel.target) in edges and rel.source not in attached:
            attached[rel.source] = rel
    return Graph.gold(document, rels, model, attached)


def _units(text: str, units: list[tuple[str, int, int, str | None]], posts: list[Post]) -> list[Unit]:
    """Imported units in reading order, each inside the text and one post, its text as the tool says."""
    out, seen = [], set()
    for uid, start, end, covered in sorted(units, key=lambda u: (u[1], u[2], u[0])):
        if uid in seen:
            raise InputError(f"unit {uid} appears twice")
        seen.add(uid)
        if not 0 <= start < end <= len(text):
            raise InputError(f"unit {uid}: offsets {start}:{end} are outside the text (length {len(text)})")
        if covered is not None and text[start:end] != covered:
            raise InputError(f"unit {uid}: the text at {start}:{end} {first_difference(text[start:end], covered, start)}")
        out.append(Unit(uid, _post_of(posts, start, end, f"unit {uid}"), start, end, text[start:end]))
    return out


def _relations(
    relations: list[tuple[str, str, str, float | None]], units: set[str], exported: dict[tuple, list], known: bool
) -> tuple[list[Relation], set[tuple[str, str]]]:
    """Imported relations, and which of them an annotator made: added, moved or relabelled since the
    export (``known``: argmine stored what it exported). Those carry no model score: 1.0, as every
    annotated relation without one."""
    rels, edited = [], set()
    for source, target, label, score in relations:
        if source not in units or target not in units:
            raise InputError(f"relation {source} -> {target} names a unit that does not exist")
        if source == target:
            raise InputError(f"relation {source} -> {target} links a unit to itself")
        if label not in ("support", "attack"):
            raise InputError(f"relation {source} -> {target} has label {label!r}, not support or attack")
        was = exported.get((source, target))
        if known and (was is None or was[1:] not in ([], [label])):
            edited.add((source, target))
            score = None
        elif score is None and was is not None:
            score = was[0]
        rels.append(Relation(source, target, label, 1.0 if score is None else float(score)))
    return rels, edited


def rebuilt_tree(doc: Document, rels: list[Relation], edited: set[tuple], edges: set[tuple]) -> dict[str, Relation]:
    """Trees over relations an annotator changed: a maximum branching in which the annotator's relations
    outweigh the exported tree edges still present, and those outweigh the other relations (by score)."""
    import networkx as nx

    tier = len(rels) + 1  # one relation of a tier outweighs all those of the tiers below
    best: dict[tuple[str, str], tuple[float, Relation]] = {}
    for rel in rels:
        key = (rel.source, rel.target)
        weight = rel.score + (tier * tier if key in edited else tier if key in edges else 0)
        if key not in best or weight > best[key][0]:
            best[key] = (weight, rel)
    graph = nx.DiGraph()
    graph.add_nodes_from(u.id for u in doc.units)
    for (child, parent), (weight, _) in sorted(best.items()):
        graph.add_edge(parent, child, weight=weight)
    branching = nx.maximum_branching(graph, attr="weight")
    return {child: best[(child, parent)][1] for parent, child in branching.edges()}


def _post_of(posts: list[Post], start: int, end: int, what: str) -> str:
    """The id of the post a span lies in."""
    post = next((p.id for p in posts if p.start <= start and end <= p.end), None)
    if post is None:
        raise InputError(f"{what}: span {start}:{end} is not inside one post")
    return post


def check_same_text(own: str | None, given: str | None, units: list[tuple], where: str) -> None:
    """A file that carries its own text, imported with ``--text``: the two must agree, or the units
    would be arbitrary slices. The error names the first unit (``(id, start, end, ...)``) that differs
    and where in it the texts part."""
    if own is None or given is None or own == given:
        return
    for uid, start, end, *_ in sorted(units, key=lambda u: (u[1], u[2])):
        if own[start:end] != given[start:end]:
            raise InputError(
                f"{where}: --text differs from the file's own text at unit {uid} ({start}:{end}): "
                f"the file {first_difference(own[start:end], given[start:end], start, 'in --text')}"
            )
    raise InputError(f"{where}: --text differs from the file's own text: the file {first_difference(own, given)}")


def first_difference(have: str, want: str, offset: int = 0, other: str = "") -> str:
    """Where two texts part, for an error message: "has 'x…' at character N, not 'y…'" (``offset``: where
    ``have`` starts in the document; ``other`` names where ``want`` comes from)."""
    at = next((i for i, (a, b) in enumerate(zip(have, want)) if a != b), min(len(have), len(want)))
    start = max(0, at - 10)
    show = [repr(t[start : at + 30]) if t[start : at + 30] else "the end" for t in (have, want)]
    return f"has {show[0]} at character {offset + start}, not {show[1]}{' ' + other if other else ''}"


def argmine_meta(graph: Graph) -> dict:
    """What annotation tools have no place for, stored beside their annotations at export: the document
    id, the posts (with their quotes), the tree edges and the relations with their scores and labels (by
    unit offsets, so units renamed by a tool still match; the labels tell an annotator's edits apart)."""
    spans = {u.id: [u.start, u.end] for u in graph.units}
    tree = [spans[child.unit] + spans[node.unit] for root in graph.trees for node, _ in root.walk() for child in node.children]
    scores = [spans[r.source] + spans[r.target] + [r.score, r.label] for r in graph.relations]
    return {"id": graph.id, "posts": posts_json(graph.document), "tree": tree, "scores": scores}


def side_info(meta: object, where: str) -> dict | None:
    """``argmine_meta`` as read back from a tool's file, checked: a damaged one is an ``InputError``
    naming ``where`` and the broken item, not silently dropped (the posts and trees would be lost)."""
    if meta is None:
        return None
    if not isinstance(meta, dict):
        raise InputError(f"{where}: the argmine side information is damaged (not a JSON object)")

    def bad(item: str) -> InputError:
        return InputError(f"{where}: the argmine side information is damaged ({item})")

    if "id" in meta and not isinstance(meta["id"], str):
        raise bad("id is not a string")
    if "posts" in meta and not (isinstance(meta["posts"], list) and all(isinstance(p, dict) for p in meta["posts"])):
        raise bad("posts is not a list of posts")
    for key, sizes in (("tree", (4,)), ("scores", (5, 6))):
        entries = meta.get(key, [])
        if not isinstance(entries, list):
            raise bad(f"{key} is not a list")
        shape = "[start, end, start, end, score, label]" if key == "scores" else "[start, end, start, end]"
        for n, entry in enumerate(entries, start=1):
            if not _span_entry(entry, sizes):
                raise bad(f"{key} entry {n} is {json.dumps(entry)[:60]}, not {shape}")
    return meta


def _span_entry(entry: object, sizes: tuple[int, ...]) -> bool:
    """``[start, end, start, end]`` (a tree edge) or that with ``score`` and ``label`` (an exported relation)."""
    if not isinstance(entry, list) or len(entry) not in sizes:
        return False
    spans_ok = all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in entry[:4])
    score_ok = len(entry) == 4 or (isinstance(entry[4], (int, float)) and not isinstance(entry[4], bool) and 0 <= entry[4] <= 1)
    return spans_ok and score_ok and (len(entry) < 6 or entry[5] in ("support", "attack"))


LABEL_TO_RELATION = {"supports": "support", "support": "support", "attacks": "attack", "attack": "attack"}
RELATION_TO_LABEL = {"support": "supports", "attack": "attacks"}

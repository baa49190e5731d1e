"""The argmine graph: one thread's document (text, posts, units), relations, trees, model info and stats.

One ``Graph`` type travels through analysis, exporters, importers, evaluation and training; gold
corpora load into it too. ``to_json``/``from_json`` give the published JSON format
(``argmine.graph`` 1.x), validated against the packaged JSON Schema and the offset contract.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from argmine import jsonio
from argmine.document import Document, Post, Quote, Relation, Unit
from argmine.errors import InputError
from argmine.files import read_text
from argmine.version import __version__

FORMAT = "argmine.graph"
FORMAT_VERSION = "1.1"  # 1.1: stats.truncated_units; the model section records the whole decision
GOLD_MODEL = {"name": "gold", "labels": {}}


@dataclass(frozen=True)
class TreeNode:
    """A unit in an argument tree; ``label``/``score`` say how it relates to its parent (None for a root)."""

    unit: str
    children: tuple[TreeNode, ...] = ()
    label: str | None = None
    score: float | None = None

    def walk(self, depth: int = 0) -> Iterator[tuple[TreeNode, int]]:
        """This node and every node below it, depth first in reading order, with their depths."""
        yield self, depth
        for child in self.children:
            yield from child.walk(depth + 1)

    def to_dict(self) -> dict:
        node: dict = {"unit": self.unit}
        if self.label is not None:
            node["label"] = self.label
            node["score"] = self.score
        node["children"] = [c.to_dict() for c in self.children]
        return node

    @classmethod
    def from_dict(cls, data: dict) -> TreeNode:
        return cls(data["unit"], tuple(cls.from_dict(c) for c in data["children"]), data.get("label"), data.get("score"))


@dataclass
class Graph:
    """A thread's argument graph. ``document`` holds the text, posts and units (offsets are the truth)."""

    document: Document
    relations: list[Relation]
    trees: list[TreeNode]
    model: dict = field(default_factory=lambda: dict(GOLD_MODEL))
    stats: dict = field(default_factory=dict)
    generator: str = f"argmine {__version__}"

    def __post_init__(self) -> None:
        # units the segmenter cut to segmenter.max_unit_chars are said in the stats (absent when none)
        if self.document.cut_units:
            self.stats.setdefault("cut_units", self.document.cut_units)

    @property
    def id(self) -> str:
        return self.document.id

    @property
    def text(self) -> str:
        return self.document.text

    @property
    def posts(self) -> list[Post]:
        return self.document.posts

    @property
    def units(self) -> list[Unit]:
        return self.document.units

    def unit(self, unit_id: str) -> Unit:
        for unit in self.units:
            if unit.id == unit_id:
                return unit
        raise KeyError(unit_id)

    @classmethod
    def gold(
        cls, document: Document, relations: list[Relation], model: dict | None = None, attached: dict[str, Relation] | None = None
    ) -> Graph:
        """Annotated units and relations as a graph. Trees are ``attached`` (child unit -> its relation to
        its parent) when known, else each unit keeps its strongest parent, no cycles."""
        stats = {
            "units": len(document.units),
            "pairs_scored": 0,
            "relations": len(relations),
            "truncated_pairs": 0,
            "truncated_units": 0,
            "seconds": None,
        }
        if attached is None:
            attached = forest(document, relations)
        return cls(document, list(relations), nest(document, attached), model or dict(GOLD_MODEL), stats)

    # ------------------------------------------------------------------ JSON

    def to_dict(self) -> dict:
        """The published JSON object; key order is fixed so the same graph gives the same bytes."""
        doc = self.document
        source: dict = {"path": doc.source_path, "sha256": doc.sha256}
        if doc.source_line is not None:
            source["line"] = doc.source_line
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "generator": self.generator,
            "id": doc.id,
            "source": source,
            "model": self.model,
            "text": doc.text,
            "posts": posts_json(doc),
            **({"flat": True} if doc.flat else {}),
            "units": [unit_dict(u) for u in doc.units],
            "relations": [relation_dict(r) for r in self.relations],
            "trees": [t.to_dict() for t in self.trees],
            "stats": self.stats,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """Deterministic JSON text (UTF-8 friendly; a trailing newline when indented, one line otherwise)."""
        if indent is None:
            return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent) + "\n"

    @classmethod
    def from_dict(cls, data: Any, name: str = "graph") -> Graph:
        """A graph from its JSON object, checked against the schema and the offset contract (``InputError``)."""
        validate(data, name)
        source = data["source"]
        posts, quotes = posts_from_json(data["posts"])
        document = Document(
            data.get("id", ""),
            data["text"],
            posts,
            source_path=source["path"],
            sha256=source["sha256"],
            source_line=source.get("line"),
            flat=data.get("flat", False),
            quotes=quotes,
            cut_units=data["stats"].get("cut_units", 0),
        )
        units = [Unit(u["id"], u["post"], u["start"], u["end"], u["text"]) for u in data["units"]]
        ids = {u.id for u in units}
        if len(ids) != len(units):
            raise InputError(f"{name}: duplicate unit ids")
        for u in units:
            if u.post not in {p.id for p in posts}:
                raise InputError(f"{name}: unit {u.id} belongs to missing post {u.post!r}")
        for q in quotes:
            if q.target is not None and q.target not in ids:
                raise InputError(f"{name}: a quote of post {q.post} points at unit {q.target}, which does not exist")
        relations = [Relation(r["source"], r["target"], r["label"], r["score"]) for r in data["relations"]]
        for r in relations:
            if r.source not in ids or r.target not in ids:
                raise InputError(f"{name}: relation {r.source} -> {r.target} names a unit that does not exist")
        trees = [TreeNode.from_dict(t) for t in data["trees"]]
        return cls(document.with_units(units), relations, trees, data["model"], data["stats"], data.get("generator", ""))

    @classmethod
    def from_json(cls, text: str, name: str = "graph") -> Graph:
        return cls.from_dict(jsonio.parse(text, name), name)


def forest(doc: Document, relations: list[Relation]) -> dict[str, Relation]:
    """Trees over given relations (imported gold): each unit keeps its strongest parent, no cycles."""
    best: dict[tuple[str, str], Relation] = {}
    for rel in relations:
        key = (rel.target, rel.source)
        if key not in best or rel.score > best[key].score:
            best[key] = rel
    import networkx as nx  # a third of a second: loaded when gold trees are built, not for every command

    graph = nx.DiGraph()
    graph.add_nodes_from(u.id for u in doc.units)
    for (parent, child), rel in sorted(best.items()):
        graph.add_edge(parent, child, weight=rel.score)
    branching = nx.maximum_branching(graph, attr="weight")
    return {child: best[(parent, child)] for parent, child in branching.edges()}


def nest(doc: Document, attached: dict[str, Relation]) -> list[TreeNode]:
    """Trees as nested nodes, roots and children in reading order; every unit appears once."""
    order = {u.id: i for i, u in enumerate(doc.units)}
    children: dict[str, list[str]] = {}
    for child, rel in attached.items():
        children.setdefault(rel.target, []).append(child)

    def build(unit_id: str, rel: Relation | None) -> TreeNode:
        kids = tuple(build(c, attached[c]) for c in sorted(children.get(unit_id, []), key=order.__getitem__))
        return TreeNode(unit_id, kids, rel.label if rel else None, rel.score if rel else None)

    return [build(u.id, None) for u in doc.units if u.id not in attached]


def post_dict(p: Post, quotes: list[Quote] = ()) -> dict:
    """A post's JSON object; ``quotes`` only when it has some, so a thread without quotes keeps its bytes."""
    out = {"id": p.id, "kind": p.kind, "parent": p.parent, "author": p.author, "start": p.start, "end": p.end}
    if quotes:
        out["quotes"] = [{"start": q.start, "end": q.end, "target": q.target} for q in quotes]
    return out


def posts_json(doc: Document) -> list[dict]:
    """Every post's JSON object, each with its own quotes."""
    quotes: dict[str, list[Quote]] = {}
    for q in doc.quotes:
        quotes.setdefault(q.post, []).append(q)
    return [post_dict(p, quotes.get(p.id, [])) for p in doc.posts]


def posts_from_json(items: list[dict]) -> tuple[list[Post], list[Quote]]:
    """Posts and their quotes back from post objects (``KeyError``/``TypeError`` on a malformed one)."""
    posts = [Post(p["id"], p["kind"], p["start"], p["end"], p.get("parent"), p.get("author")) for p in items]
    quotes = [Quote(p["id"], q["start"], q["end"], q.get("target")) for p in items for q in p.get("quotes") or []]
    return posts, quotes


def unit_dict(u: Unit) -> dict:
    return {"id": u.id, "post": u.post, "start": u.start, "end": u.end, "text": u.text}


def relation_dict(r: Relation) -> dict:
    return {"source": r.source, "target": r.target, "label": r.label, "score": r.score}


@lru_cache(maxsize=1)
def schema() -> dict:
    """The published JSON Schema (Draft 2020-12) of an argmine graph."""
    schema_file = resources.files("argmine").joinpath("schema/graph.schema.json")
    return jsonio.parse(schema_file.read_text(encoding="utf-8"), "the packaged graph schema (argmine/schema/graph.schema.json)")


def validate(data: Any, name: str = "graph") -> None:
    """Raise ``InputError`` (one line) if ``data`` breaks the schema or its offset contract."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "top level"
        raise InputError(f"{name} is not an argmine graph ({where}: {error.message[:160]})")
    text = data["text"]
    for unit in data["units"]:
        if text[unit["start"] : unit["end"]] != unit["text"]:
            raise InputError(f"{name}: unit {unit['id']} text differs from text[{unit['start']}:{unit['end']}]")


def load_graphs(path: str, max_bytes: int = 1_000_000_000) -> list[Graph]:
    """Graphs from a JSON file or JSON Lines (``argmine.error`` records of a batch are skipped)."""
    text = read_text(path, max_bytes)
    items = jsonio.records(text, path)
    graphs = [
        Graph.from_dict(g, f"{path} graph {i}" if len(items) > 1 else path)
        for i, g in enumerate(items, start=1)
        if not (isinstance(g, dict) and g.get("format") == "argmine.error")
    ]
    if not graphs:
        raise InputError(f"{path} holds no argmine graph")
    return graphs


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

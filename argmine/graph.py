"""The argmine.graph output: one JSON object per thread, validated against the packaged JSON Schema."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import jsonschema

from argmine import __version__
from argmine.document import Document, Relation

FORMAT = "argmine.graph"
FORMAT_VERSION = "1.0"


def build_graph(
    doc: Document,
    relations: list[Relation],
    trees: list[dict],
    model: dict,
    stats: dict,
) -> dict:
    """Assemble the output object; key order is fixed so the same input gives the same bytes."""
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "generator": f"argmine {__version__}",
        "id": doc.id,
        "source": _source(doc),
        "model": model,
        "text": doc.text,
        "posts": [
            {"id": p.id, "kind": p.kind, "parent": p.parent, "author": p.author, "start": p.start, "end": p.end}
            for p in doc.posts
        ],
        "units": [{"id": u.id, "post": u.post, "start": u.start, "end": u.end, "text": u.text} for u in doc.units],
        "relations": [{"source": r.source, "target": r.target, "label": r.label, "score": r.score} for r in relations],
        "trees": trees,
        "stats": stats,
    }


def _source(doc: Document) -> dict:
    source: dict = {"path": doc.source_path, "sha256": doc.sha256}
    if doc.source_line is not None:
        source["line"] = doc.source_line
    return source


@lru_cache(maxsize=1)
def schema() -> dict:
    """The published JSON Schema (Draft 2020-12) of an argmine graph."""
    return json.loads(resources.files("argmine").joinpath("schema/graph.schema.json").read_text(encoding="utf-8"))


def validate(graph: dict) -> None:
    """Raise ``jsonschema.ValidationError`` if the graph breaks the schema or its offset contract."""
    jsonschema.validate(graph, schema(), cls=jsonschema.Draft202012Validator)
    text = graph["text"]
    for unit in graph["units"]:
        if text[unit["start"] : unit["end"]] != unit["text"]:
            raise jsonschema.ValidationError(f"unit {unit['id']} text differs from text[{unit['start']}:{unit['end']}]")


def dumps(graph: dict, indent: int | None = 2) -> str:
    """Deterministic JSON text (UTF-8 friendly, fixed key order, trailing newline when indented)."""
    if indent is None:
        return json.dumps(graph, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(graph, ensure_ascii=False, indent=indent) + "\n"

"""doccano JSONL for relation projects: ``entities`` (code-point offsets) and ``relations``."""

from __future__ import annotations

import json
from pathlib import Path

from argmine import jsonio
from argmine.errors import InputError
from argmine.formats.common import (
    LABEL_TO_RELATION,
    RELATION_TO_LABEL,
    argmine_meta,
    check_same_text,
    graph_from_annotations,
    roles,
)
from argmine.graph import Graph
from argmine.readers import read_text


def record(graph: Graph) -> dict:
    role = roles(graph)
    number = {u.id: i for i, u in enumerate(graph.units, start=1)}
    return {
        "id": graph.id,
        "text": graph.text,
        "entities": [
            {"id": number[u.id], "start_offset": u.start, "end_offset": u.end, "label": role.get(u.id, "Premise")}
            for u in graph.units
        ],
        "relations": [
            {"id": i, "from_id": number[r.source], "to_id": number[r.target], "type": RELATION_TO_LABEL[r.label]}
            for i, r in enumerate(graph.relations, start=1)
        ],
        "argmine": argmine_meta(graph),  # posts and trees: doccano keeps extra fields as metadata
    }


def dump(graph: Graph) -> str:
    return json.dumps(record(graph), ensure_ascii=False) + "\n"


def load(path: str | Path, text: str | None = None) -> list[Graph]:
    """Graphs from doccano JSONL, one per line; entity ``n`` becomes unit ``u<n>`` in document order."""
    path = Path(path)
    graphs = []
    for line in jsonio.lines(read_text(path), str(path)):
        if line.error is not None:
            raise line.error
        number, item = line.number, line.value
        if not isinstance(item, dict):
            raise InputError(f"{path} line {number}: not a doccano record (a JSON object)")
        own = item.get("text") if isinstance(item.get("text"), str) else None
        doc_text = text if text is not None else own
        if not isinstance(doc_text, str):
            raise InputError(f"{path}: line {number} has no text (use --text)")
        entities = sorted(item.get("entities") or [], key=lambda e: (e["start_offset"], e["end_offset"]))
        names = {e["id"]: f"u{i}" for i, e in enumerate(entities, start=1)}
        units = [(names[e["id"]], int(e["start_offset"]), int(e["end_offset"]), None) for e in entities]
        relations = []
        for r in item.get("relations") or []:
            label = LABEL_TO_RELATION.get(str(r.get("type", "")).lower())
            if label is None:
                raise InputError(f"{path}: line {number}: relation type {r.get('type')!r} is not supports/attacks")
            if r["from_id"] not in names or r["to_id"] not in names:
                raise InputError(f"{path}: line {number}: relation {r.get('id')} names a missing entity")
            relations.append((names[r["from_id"]], names[r["to_id"]], label, None))
        check_same_text(own, doc_text, units, f"{path} line {number}")
        meta = item.get("argmine") or (item.get("meta") or {}).get("argmine")
        doc_id = str(item.get("id") or f"{path.stem}-{number}")
        graphs.append(graph_from_annotations(doc_text, units, relations, doc_id=doc_id, source_path=str(path), meta=meta))
    return graphs

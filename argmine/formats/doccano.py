"""doccano JSONL for relation projects: ``entities`` (code-point offsets) and ``relations``."""

from __future__ import annotations

import json
from pathlib import Path

from argmine import jsonio
from argmine.errors import InputError
from argmine.files import read_text
from argmine.formats.base import Format
from argmine.formats.common import (
    LABEL_TO_RELATION,
    RELATION_TO_LABEL,
    argmine_meta,
    check_same_text,
    graph_from_annotations,
    roles,
    side_info,
)
from argmine.graph import Graph


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
        if not isinstance(line.value, dict):
            raise InputError(f"{path} line {line.number}: not a doccano record (a JSON object)")
        graphs.append(_record(line.value, line.number, path, text))
    return graphs


def _record(item: dict, number: int, path: Path, text: str | None) -> Graph:
    """The doccano record on line ``number`` as a graph."""
    where = f"{path} line {number}"
    own = item.get("text") if isinstance(item.get("text"), str) else None
    doc_text = text if text is not None else own
    if not isinstance(doc_text, str):
        raise InputError(f"{where} has no text (use --text)")
    entities = _entities(item.get("entities") or [], doc_text, where)
    names = {e["id"]: f"u{i}" for i, e in enumerate(entities, start=1)}
    units = [(names[e["id"]], e["start_offset"], e["end_offset"], None) for e in entities]
    relations = []
    for r in item.get("relations") or []:
        label = LABEL_TO_RELATION.get(str(r.get("type", "")).lower()) if isinstance(r, dict) else None
        if label is None:
            raise InputError(f"{where}: relation {r!r:.60} is not a supports/attacks relation")
        if r.get("from_id") not in names or r.get("to_id") not in names:
            raise InputError(f"{where}: relation {r.get('id')} names a missing entity")
        relations.append((names[r["from_id"]], names[r["to_id"]], label, None))
    check_same_text(own, doc_text, units, where)
    meta = side_info(item.get("argmine") or (item.get("meta") or {}).get("argmine"), f"{where} (argmine field)")
    doc_id = str(item.get("id") or f"{path.stem}-{number}")
    return graph_from_annotations(doc_text, units, relations, doc_id=doc_id, source_path=str(path), meta=meta, where=where)


def _entities(entities: object, text: str, where: str) -> list[dict]:
    """The record's entities in document order, checked. doccano keeps no entity text, so offsets that
    moved (a record edited by hand, a text changed) would slice other words: an entity that starts or
    ends inside a word is refused."""
    if not isinstance(entities, list):
        raise InputError(f"{where}: entities is not a list")
    for e in entities:
        if not (isinstance(e, dict) and "id" in e and all(_offset(e.get(k)) for k in ("start_offset", "end_offset"))):
            raise InputError(f"{where}: entity {e!r:.60} needs an id and integer start_offset and end_offset")
        start, end = e["start_offset"], e["end_offset"]
        cut = next((i for i in (start, end) if _inside_word(text, i)), None)
        if cut is not None:
            raise InputError(
                f"{where}: entity {e['id']} ({start}:{end}) {'starts' if cut == start else 'ends'} inside the word "
                f"{_word_at(text, cut)!r}: its offsets do not fit this text"
            )
    return sorted(entities, key=lambda e: (e["start_offset"], e["end_offset"]))


def _offset(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _inside_word(text: str, i: int) -> bool:
    """``i`` falls between two letters or digits of a script that separates words by spaces."""
    return 0 < i < len(text) and all(c.isalnum() and ord(c) < 0x0E00 for c in text[i - 1 : i + 1])


def _word_at(text: str, i: int) -> str:
    start, end = i, i
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return text[start:end][:40]


def dump_many(graphs: list[Graph]) -> str:
    """doccano JSONL: one record per graph."""
    return "".join(dump(g) for g in graphs)


FORMAT = Format(
    "doccano",
    "doccano relation-project JSONL",
    dump,
    dump_many,
    load=load,
    load_from="doccano JSONL",
    media_type="application/x-ndjson",
)

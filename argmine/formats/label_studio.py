"""Label Studio: a task list with ``predictions`` (labelled regions and ``relation`` results) and the
matching labeling config. Label Studio (1.23, checked by drawing and reading back regions after an emoji
in a real instance: tests/test_label_studio_live.py) counts offsets in code points, as argmine does; a
region whose offsets only match its text as UTF-16 code units (argmine's exports before that check, older
Label Studio versions) is read as such. A reply's quotes travel with the posts in ``data.argmine``
(side information), not as regions.
"""

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
    Utf16,
    argmine_meta,
    check_same_text,
    graph_from_annotations,
    roles,
    side_info,
)
from argmine.graph import Graph

CONFIG = """<View>
  <Relations>
    <Relation value="supports"/>
    <Relation value="attacks"/>
  </Relations>
  <Labels name="label" toName="text">
    <Label value="MajorClaim" background="#e6194b"/>
    <Label value="Claim" background="#4363d8"/>
    <Label value="Premise" background="#3cb44b"/>
  </Labels>
  <Text name="text" value="$text" granularity="symbol"/>
</View>
"""


def task(graph: Graph, task_id: int = 1) -> dict:
    """One Label Studio task holding the graph as a prediction."""
    text = graph.text
    role = roles(graph)
    result = []
    for unit in graph.units:
        result.append(
            {
                "id": unit.id,
                "from_name": "label",
                "to_name": "text",
                "type": "labels",
                "value": {
                    "start": unit.start,
                    "end": unit.end,
                    "text": unit.text,
                    "labels": [role.get(unit.id, "Premise")],
                },
            }
        )
    for rel in graph.relations:
        result.append(
            {
                "type": "relation",
                "from_id": rel.source,
                "to_id": rel.target,
                "direction": "right",
                "labels": [RELATION_TO_LABEL[rel.label]],
            }
        )
    scores = [r.score for r in graph.relations]
    return {
        "id": task_id,
        "data": {"text": text, "argmine_id": graph.id, "argmine": argmine_meta(graph)},
        "predictions": [
            {
                "model_version": f"argmine {graph.model['name']}",
                "score": round(sum(scores) / len(scores), 4) if scores else 0.0,
                "result": result,
            }
        ],
    }


def dump(graph: Graph) -> dict[str, str]:
    return dump_many([graph])


def load(path: str | Path, text: str | None = None) -> list[Graph]:
    """Graphs from a Label Studio JSON export (annotations first, predictions otherwise)."""
    path = Path(path)
    tasks = jsonio.parse(read_text(path), str(path))
    if isinstance(tasks, dict):
        tasks = [tasks]
    graphs = []
    for n, item in enumerate(tasks, start=1):
        if not isinstance(item, dict) or "data" not in item:
            raise InputError(f"{path}: task {n} has no 'data'")
        own = item["data"].get("text") if isinstance(item["data"].get("text"), str) else None
        doc_text = text if text is not None else own
        if not isinstance(doc_text, str):
            raise InputError(f"{path}: task {n} has no data.text (use --text)")
        done = [a for a in item.get("annotations") or [] if not a.get("was_cancelled")]
        chosen = done[-1] if done else (item.get("predictions") or [{}])[0]
        graphs.append(_from_result(doc_text, chosen.get("result") or [], item, path, own))
    return graphs


def _from_result(text: str, result: list[dict], item: dict, path: Path, own: str | None = None) -> Graph:
    task_text = own if own is not None else text  # regions count characters of the task's own text
    utf16 = Utf16(task_text)
    units, relations = [], []
    for r in result:
        if r.get("type") in ("labels", "hypertextlabels") and "value" in r:
            v = r["value"]
            start, end = _offsets(task_text, utf16, int(v["start"]), int(v["end"]), v.get("text"))
            units.append((str(r["id"]), start, end, v.get("text")))
        elif r.get("type") == "relation":
            label = next((LABEL_TO_RELATION[x.lower()] for x in r.get("labels") or [] if x.lower() in LABEL_TO_RELATION), None)
            if label is None:
                raise InputError(f"{path}: relation {r.get('from_id')} -> {r.get('to_id')} has no supports/attacks label")
            source, target = str(r["from_id"]), str(r["to_id"])
            if r.get("direction") == "left":
                source, target = target, source
            relations.append((source, target, label, None))
    doc_id = str(item["data"].get("argmine_id") or f"task-{item.get('id', 1)}")
    where = f"{path} task {item.get('id', 1)}"
    check_same_text(own, text, units, where)
    meta = side_info(item["data"].get("argmine"), f"{where} data.argmine")
    return graph_from_annotations(text, units, relations, doc_id=doc_id, source_path=str(path), meta=meta, where=where)


def _offsets(text: str, utf16: Utf16, start: int, end: int, said: str | None) -> tuple[int, int]:
    """A region's code-point offsets; offsets that match the region's text only as UTF-16 code units
    (exports written before Label Studio was checked to count code points) are converted."""
    if said is None or text[start:end] == said:
        return start, end
    try:
        start16, end16 = utf16.from_utf16(start), utf16.from_utf16(end)
    except InputError:
        return start, end
    return (start16, end16) if text[start16:end16] == said else (start, end)


def dump_many(graphs: list[Graph]) -> dict[str, str]:
    """The task list (one task per graph, numbered from 1) and the labeling config."""
    tasks = [task(g, i) for i, g in enumerate(graphs, start=1)]
    return {"tasks.json": json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", "label_config.xml": CONFIG}


FORMAT = Format(
    "label-studio",
    "a folder: tasks.json with predictions and label_config.xml",
    dump,
    dump_many,
    folder=True,
    load=load,
    load_from="Label Studio JSON export",
)

"""JSON Lines: one JSON thread per line; a bad line is a result carrying its error, the others go on."""

from __future__ import annotations

from typing import Any

from argmine import jsonio
from argmine.errors import InputError
from argmine.reading.inputs.base import InputFormat, ReadResult, Source
from argmine.reading.inputs.thread import json_thread


def _read_jsonl(text: str, stem: str, source: dict):
    for line in jsonio.lines(text, source["source_path"]):
        name = f"{stem}:{line.number}"
        if line.error is not None:
            yield ReadResult(name, error=line.error, line=line.number)
            continue
        own = line_id(line.value)
        try:
            doc = json_thread(line.value, name, source_line=line.number, **source)
            yield ReadResult(doc.id, doc, line=line.number, thread_id=own)
        except InputError as exc:
            error = InputError(f"{source['source_path']} line {line.number}: {exc}")
            yield ReadResult(name, error=error, line=line.number, thread_id=own)


def line_id(value: Any) -> str | None:
    """The ``id`` a JSON Lines record gives its thread (as ``argmine batch`` names it), else None."""
    return str(value["id"]) if isinstance(value, dict) and value.get("id") is not None else None


def _read(src: Source) -> list[ReadResult]:
    return list(_read_jsonl(src.text, src.stem, src.provenance))


def _claims(text: str, suffix: str) -> bool:
    """Several lines, the first a whole JSON object (a ``.json`` file is one thread)."""
    first_line = text.split("\n", 1)[0].strip()
    return suffix != ".json" and text[:1] == "{" and first_line.endswith("}") and "\n" in text.strip()


INPUT = InputFormat(
    "jsonl", "JSON Lines: one JSON thread per line", _read, order=2, suffixes=(".jsonl", ".ndjson"), claims=_claims, priority=1
)

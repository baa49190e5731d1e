"""brat standoff: ``DOC.txt``, ``DOC.ann`` (T/R lines, AnnotatorNotes) and an ``annotation.conf``.

Offsets are code points. A unit crossing a line break becomes a discontinuous span of fragments
(brat annotations must fit on one line). A reply's quote (``argmine.units.quotes``) is a ``Quote``
annotation with a ``quotes`` relation to the unit it repeats; both come back on import, and the
collection's ``annotation.conf`` declares them only when a document has quotes. Import also reads
AAE-style essays, where a Claim's ``Stance For|Against`` attribute stands for its relation to the MajorClaim.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from argmine import jsonio
from argmine.errors import InputError
from argmine.files import read_text
from argmine.formats.base import Format
from argmine.formats.common import (
    LABEL_TO_RELATION,
    RELATION_TO_LABEL,
    argmine_meta,
    check_same_text,
    first_difference,
    graph_from_annotations,
    roles,
    side_info,
)
from argmine.graph import Graph

_FRAGMENT = re.compile(r"[^\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")

CONF = """[entities]
MajorClaim
Claim
Premise

[relations]
supports\tArg1:MajorClaim|Claim|Premise, Arg2:MajorClaim|Claim|Premise
attacks\tArg1:MajorClaim|Claim|Premise, Arg2:MajorClaim|Claim|Premise

[attributes]
Stance\tArg:Claim, Value:For|Against

[events]
"""
# The same with quotes: a Quote entity and its pointer to the unit it repeats.
CONF_QUOTES = CONF.replace("Premise\n\n[relations]", "Premise\nQuote\n\n[relations]").replace(
    "\n\n[attributes]", "\nquotes\tArg1:Quote, Arg2:MajorClaim|Claim|Premise\n\n[attributes]"
)


def conf(quotes: bool) -> str:
    """``annotation.conf`` of a collection; ``quotes`` when one of its documents has quotes."""
    return CONF_QUOTES if quotes else CONF


def fragments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The pieces of ``text[start:end]`` between line breaks."""
    return [(start + m.start(), start + m.end()) for m in _FRAGMENT.finditer(text[start:end])]


def dump(graph: Graph, name: str | None = None) -> dict[str, str]:
    """Files of a brat document (``NAME.txt``, ``NAME.ann``) and the collection's ``annotation.conf``."""
    name = name or _safe(graph.id or "document")
    text = graph.text
    role = roles(graph)
    tids = {}
    lines = []
    notes = []
    for n, unit in enumerate(graph.units, start=1):
        tids[unit.id] = f"T{n}"
        pieces = fragments(text, unit.start, unit.end)
        offsets = ";".join(f"{s} {e}" for s, e in pieces)
        covered = " ".join(text[s:e] for s, e in pieces)
        lines.append(f"T{n}\t{role.get(unit.id, 'Premise')} {offsets}\t{covered}")
        notes.append(("T", n, f"argmine id={unit.id} post={unit.post}"))
    quotes = _quote_lines(graph, tids)
    lines += quotes.spans
    for n, rel in enumerate(graph.relations, start=1):
        lines.append(f"R{n}\t{RELATION_TO_LABEL[rel.label]} Arg1:{tids[rel.source]} Arg2:{tids[rel.target]}")
        notes.append(("R", n, f"score={rel.score}"))
    lines += quotes.pointers
    lines += [f"#{i}\tAnnotatorNotes {kind}{n}\t{note}" for i, (kind, n, note) in enumerate(notes, start=1)]
    meta = json.dumps(argmine_meta(graph), ensure_ascii=False) + "\n"  # posts and trees: brat has no place for them
    ann = "\n".join(lines) + "\n"
    return {
        f"{name}.txt": text,
        f"{name}.ann": ann,
        f"{name}.argmine.json": meta,
        "annotation.conf": conf(bool(graph.document.quotes)),
    }


class _QuoteLines(NamedTuple):
    """The ``.ann`` lines of a document's quotes."""

    spans: list[str]  # T lines
    pointers: list[str]  # R lines


def _quote_lines(graph: Graph, tids: dict[str, str]) -> _QuoteLines:
    """``Quote`` text-bound annotations (numbered after the units) and their ``quotes`` relations
    (numbered after the support/attack ones)."""
    spans, pointers = [], []
    for k, quote in enumerate(graph.document.quotes, start=len(tids) + 1):
        pieces = fragments(graph.text, quote.start, quote.end)
        offsets = ";".join(f"{s} {e}" for s, e in pieces)
        spans.append(f"T{k}\tQuote {offsets}\t{' '.join(graph.text[s:e] for s, e in pieces)}")
        if quote.target is not None:
            pointers.append(f"R{len(graph.relations) + len(pointers) + 1}\tquotes Arg1:T{k} Arg2:{tids[quote.target]}")
    return _QuoteLines(spans, pointers)


class _Separated(NamedTuple):
    """Text-bound annotations split into units and quotes."""

    spans: dict[str, tuple[int, int, str]]  # the units' text-bound annotations: (start, end, kind)
    quotes: list[tuple[int, int, str | None]]  # (start, end, target unit id)


def _split_quotes(ann: _Standoff, where: str) -> _Separated:
    """The text-bound annotations less the ``Quote`` ones, and those as ``(start, end, target unit id)``."""
    quotes = []
    for key, (start, end, kind) in ann.spans.items():
        if kind != "Quote":
            continue
        target = ann.pointers.get(key)
        if target is not None and ann.spans.get(target, (0, 0, "Quote"))[2] == "Quote":
            raise InputError(f"{where}: quote {key} points at {target}, which is not a unit")
        quotes.append((start, end, None if target is None else ann.ids.get(target, target)))
    return _Separated({key: span for key, span in ann.spans.items() if span[2] != "Quote"}, quotes)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "document"


@dataclass
class _Standoff:
    """What a ``.ann`` file says, by annotation id: text-bound spans ``(start, end, kind)``, relations
    ``(id, source, target, label)``, AAE stances, the argmine ids and scores in AnnotatorNotes, and quote pointers."""

    spans: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    rels: list[tuple[str | None, str, str, str]] = field(default_factory=list)
    stance: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    pointers: dict[str, str] = field(default_factory=dict)


def load(ann_path: str | Path, text: str | None = None) -> Graph:
    """An argmine graph from a ``.ann`` file and its text (the sibling ``.txt`` unless given); the
    sibling ``.argmine.json`` argmine wrote at export brings back posts and trees. ``Quote``
    annotations and their ``quotes`` relations are the document's quotes, not units."""
    ann_path = Path(ann_path)
    txt = ann_path.with_suffix(".txt")
    own = read_text(txt, keep_bom=True) if txt.is_file() else None  # verbatim: brat's offsets count a BOM and CRLF
    if text is None:
        if own is None:
            raise InputError(f"{ann_path}: no text given and {txt.name} not found (use --text)")
        text = own
    sidecar = ann_path.with_suffix(".argmine.json")
    meta = side_info(jsonio.parse(read_text(sidecar), str(sidecar)), str(sidecar)) if sidecar.is_file() else None
    ann = _read_standoff(ann_path, text)
    major = [t for t, span in ann.spans.items() if span[2] == "MajorClaim"]
    for claim, value in ann.stance.items():  # AAE: a Claim's stance is its relation to the MajorClaim
        if major and claim in ann.spans:
            ann.rels.append((None, claim, major[0], "support" if value.lower() == "for" else "attack"))
    separated = _split_quotes(ann, ann_path.name)
    spans = separated.spans
    units = [(ann.ids.get(t, t), s, e, None) for t, (s, e, _) in spans.items()]
    relations = []
    for rid, a, b, label in ann.rels:
        if a not in spans or b not in spans:
            raise InputError(f"{ann_path.name}: relation {a} -> {b} names a missing unit")
        if a == b:
            raise InputError(f"{ann_path.name}: {f'relation {rid}' if rid else 'a Stance'} links {a} to itself")
        relations.append((ann.ids.get(a, a), ann.ids.get(b, b), label, ann.scores.get(rid)))
    check_same_text(own, text, units, str(ann_path))
    return graph_from_annotations(
        text,
        units,
        relations,
        doc_id=ann_path.stem,
        source_path=str(ann_path),
        meta=meta,
        quotes=separated.quotes,
        where=str(ann_path),
    )


def _read_standoff(ann_path: Path, text: str) -> _Standoff:
    """Every line of a ``.ann`` file; a line that is not brat standoff is an ``InputError`` naming it."""
    ann = _Standoff()
    for number, line in enumerate(read_text(ann_path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            _read_line(ann, line.split("\t"), text, ann_path.name)
        except (ValueError, IndexError):
            raise InputError(f"{ann_path.name}: line {number} is not brat standoff: {line[:60]!r}") from None
    return ann


def _read_line(ann: _Standoff, fields: list[str], text: str, where: str) -> None:
    """One annotation (T, R, A or # line) into ``ann``; a text-bound span must cover the text it quotes."""
    key = fields[0]
    if key.startswith("T"):
        kind, _, offsets = fields[1].partition(" ")
        pieces = [tuple(int(x) for x in part.split()) for part in offsets.split(";")]
        covered = " ".join(text[s:e] for s, e in pieces)
        if len(fields) > 2 and fields[2] != covered:
            raise InputError(f"{where}: unit {key}: the text at {offsets} {first_difference(covered, fields[2], pieces[0][0])}")
        ann.spans[key] = (pieces[0][0], pieces[-1][1], kind)
    elif key.startswith("R"):
        kind, arg1, arg2 = fields[1].split()
        label = LABEL_TO_RELATION.get(kind.lower())
        if kind == "quotes":
            ann.pointers[arg1.split(":", 1)[1]] = arg2.split(":", 1)[1]
        elif label:
            ann.rels.append((key, arg1.split(":", 1)[1], arg2.split(":", 1)[1], label))
    elif key.startswith("A"):
        parts = fields[1].split()
        if parts[0] == "Stance" and len(parts) == 3:
            ann.stance[parts[1]] = parts[2]
    elif key.startswith("#"):
        target, note = fields[1].split()[1], fields[2] if len(fields) > 2 else ""
        if m := re.search(r"argmine id=(\S+)", note):
            ann.ids[target] = m.group(1)
        if m := re.search(r"score=([0-9.]+)", note):
            ann.scores[target] = float(m.group(1))


def file_names(graphs: list[Graph]) -> list[str]:
    """Each graph's file name: its id made file-safe. Only a real clash (the same safe name, or one differing
    only in case, which a case-insensitive file system would merge) gets a suffix: ``-2``, ``-3``, ... on the
    later graphs, never a name another graph has."""
    safe = [_safe(g.id or "document") for g in graphs]
    taken = {name.lower() for name in safe}
    seen: set[str] = set()
    names = []
    for name in safe:
        k = 1
        candidate = name
        while candidate.lower() in seen or (k > 1 and candidate.lower() in taken):
            k += 1
            candidate = f"{name}-{k}"
        seen.add(candidate.lower())
        names.append(candidate)
    return names


def dump_many(graphs: list[Graph]) -> dict[str, str]:
    """A brat collection: each graph's files, named by its id (``file_names``), and one annotation.conf."""
    files: dict[str, str] = {}
    for graph, name in zip(graphs, file_names(graphs)):
        files.update(dump(graph, name))
    files["annotation.conf"] = conf(any(g.document.quotes for g in graphs))
    return files


FORMAT = Format(
    "brat", "a folder of brat standoff .txt/.ann files", dump, dump_many, folder=True, load=load, load_from="brat .ann"
)

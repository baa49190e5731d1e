"""Annotation-tool formats: one module per format, each with ``dump`` (graph -> files) and, where the
tool's output can come back, ``load`` (files -> graph). A new format is a new module registered here.
"""

from __future__ import annotations

import json
from pathlib import Path

from argmine.errors import InputError
from argmine.formats import argdown, brat, doccano, graphml, html, label_studio, xaif
from argmine.graph import Graph, validate
from argmine.readers import read_text

EXPORTERS = {
    "xaif": xaif.dump,
    "brat": brat.dump,
    "label-studio": label_studio.dump,
    "doccano": doccano.dump,
    "argdown": argdown.dump,
    "graphml": graphml.dump_graphml,
    "dot": graphml.dump_dot,
    "html": html.dump,
}
EXPORT_FORMATS = tuple(EXPORTERS)
# Formats whose export is a folder of several files; the others are one file (or stdout).
FOLDER_FORMATS = {"brat", "label-studio"}
IMPORTERS = {
    "brat": brat.load,
    "label-studio": label_studio.load,
    "doccano": doccano.load,
    "xaif": xaif.load,
}
IMPORT_FORMATS = tuple(IMPORTERS)


def export(graphs: list[Graph], fmt: str) -> str | dict[str, str]:
    """Render graphs in ``fmt``: one text, or a folder's files (name -> content) for brat and Label Studio."""
    if fmt not in EXPORTERS:
        raise InputError(f"unknown export format {fmt!r} (choose from {', '.join(EXPORTERS)})")
    if fmt == "brat":
        files: dict[str, str] = {}
        for i, graph in enumerate(graphs):
            name = None if len(graphs) == 1 else f"{brat._safe(graph.id or 'document')}-{i + 1}"
            files.update(brat.dump(graph, name))
        files["annotation.conf"] = brat.conf(any(g.document.quotes for g in graphs))  # one for the collection
        return files
    if fmt == "label-studio":
        tasks = [label_studio.task(g, i) for i, g in enumerate(graphs, start=1)]
        return {"tasks.json": json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", "label_config.xml": label_studio.CONFIG}
    if fmt == "doccano":
        return "".join(doccano.dump(g) for g in graphs)
    if len(graphs) != 1:
        raise InputError(f"{fmt} export takes one graph; the input holds {len(graphs)}")
    return EXPORTERS[fmt](graphs[0])


def import_graphs(path: str | Path, fmt: str, text: str | Path | None = None) -> list[Graph]:
    """A tool's annotations as argmine graphs (gold); ``text`` is the document's text file where the
    format does not carry the text."""
    if fmt not in IMPORTERS:
        raise InputError(f"unknown import format {fmt!r} (choose from {', '.join(IMPORTERS)})")
    if not Path(path).is_file():
        raise InputError(f"{path}: no such file")
    doc_text = read_text(text) if text is not None else None
    loaded = IMPORTERS[fmt](path, doc_text)
    graphs = loaded if isinstance(loaded, list) else [loaded]
    if not graphs:
        raise InputError(f"{path} holds no annotated document")
    for graph in graphs:  # what comes back must be a graph argmine would write
        validate(graph.to_dict(), str(path))
    return graphs

"""Annotation-tool formats: one module per format, each declaring a ``FORMAT`` (or ``FORMATS``) that
says what it is: its name, whether its export is one file or a folder, how it dumps and, where the
tool's output can come back, how it loads. The registry below finds the modules itself, so a new
format is one new module (plus its tests); ``export``, ``import_graphs`` and the CLI's choices and help
all come from the declarations.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from argmine.errors import InputError
from argmine.files import read_text
from argmine.formats.base import Format
from argmine.graph import Graph, validate


def discover(path: list[str], package: str) -> dict[str, Format]:
    """Every ``FORMAT`` / ``FORMATS`` declared by the modules of ``package``, by name."""
    found: list[Format] = []
    for info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
        module = importlib.import_module(f"{package}.{info.name}")
        found += list(getattr(module, "FORMATS", ())) + ([module.FORMAT] if hasattr(module, "FORMAT") else [])
    return {f.name: f for f in sorted(found, key=lambda f: f.name)}


FORMATS: dict[str, Format] = discover(__path__, __name__)
EXPORT_FORMATS = tuple(FORMATS)
FOLDER_FORMATS = frozenset(name for name, f in FORMATS.items() if f.folder)
IMPORT_FORMATS = tuple(name for name, f in FORMATS.items() if f.load is not None)


def get(name: str, importing: bool = False) -> Format:
    """The format called ``name``; an unknown one (or one that cannot be imported) is the user's mistake."""
    choices = IMPORT_FORMATS if importing else EXPORT_FORMATS
    if name not in choices:
        raise InputError(f"unknown {'import' if importing else 'export'} format {name!r} (choose from {', '.join(choices)})")
    return FORMATS[name]


def export(graphs: list[Graph], fmt: str) -> str | dict[str, str]:
    """Render graphs in ``fmt``: one text, or a folder's files (name -> content)."""
    return get(fmt).render(graphs)


def import_graphs(path: str | Path, fmt: str, text: str | Path | None = None) -> list[Graph]:
    """A tool's annotations as argmine graphs (gold); ``text`` is the document's text file where the
    format does not carry the text."""
    form = get(fmt, importing=True)
    if not Path(path).is_file():
        raise InputError(f"{path}: no such file")
    doc_text = read_text(text) if text is not None else None
    loaded = form.load(path, doc_text)
    graphs = loaded if isinstance(loaded, list) else [loaded]
    if not graphs:
        raise InputError(f"{path} holds no annotated document")
    for graph in graphs:  # what comes back must be a graph argmine would write
        validate(graph.to_dict(), str(path))
    return graphs

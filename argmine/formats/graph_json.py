"""argmine's own graph JSON, declared like every other format: one graph as an indented object, several
as JSON Lines (a batch's failed threads as ``argmine.error`` records in their place); it loads back as graphs."""

from __future__ import annotations

from pathlib import Path

from argmine.formats.base import Format
from argmine.graph import Graph, load_graphs


def dump_many(graphs: list[Graph]) -> str:
    """One graph indented; several, one per line."""
    if len(graphs) == 1:
        return graphs[0].to_json()
    return "".join(g.to_json(indent=None) + "\n" for g in graphs)


def load(path: Path, text: str | None = None) -> list[Graph]:
    return load_graphs(str(path))


FORMAT = Format(
    "json",
    "argmine's graph JSON (JSON Lines for several threads)",
    lambda graph: graph.to_json(),
    dump_many=dump_many,
    load=load,
    load_from="argmine graph JSON or JSON Lines of graphs",
    media_type="application/json",
    errors_inline=True,
)

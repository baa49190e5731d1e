"""GraphML (written by networkx) and Graphviz DOT: units as nodes with text, post and offsets;
relations as labelled edges."""

from __future__ import annotations

from typing import TYPE_CHECKING

from argmine.formats.base import Format
from argmine.graph import Graph

if TYPE_CHECKING:
    import networkx as nx

COLOURS = {"support": "darkgreen", "attack": "red"}


def to_networkx(graph: Graph) -> nx.DiGraph:
    import networkx as nx  # a third of a second to import: only when GraphML is written

    g = nx.DiGraph(id=graph.id)
    for u in graph.units:
        g.add_node(u.id, text=u.text, post=u.post, start=u.start, end=u.end)
    for r in graph.relations:
        g.add_edge(r.source, r.target, label=r.label, score=float(r.score))
    return g


def dump_graphml(graph: Graph) -> str:
    import networkx as nx

    return "\n".join(nx.generate_graphml(to_networkx(graph), encoding="utf-8", prettyprint=True)) + "\n"


def _quote(value) -> str:
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n")
    return f'"{text}"'


def dump_dot(graph: Graph) -> str:
    lines = ["digraph argmine {", "  rankdir=BT;", "  node [shape=box, style=rounded];"]
    for u in graph.units:
        attrs = {"label": u.text, "post": u.post, "start": u.start, "end": u.end}
        lines.append(f"  {_quote(u.id)} [{', '.join(f'{k}={_quote(v)}' for k, v in attrs.items())}];")
    for r in graph.relations:
        attrs = {"label": r.label, "score": r.score, "color": COLOURS[r.label]}
        lines.append(f"  {_quote(r.source)} -> {_quote(r.target)} [{', '.join(f'{k}={_quote(v)}' for k, v in attrs.items())}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


FORMATS = (
    Format("graphml", "GraphML, as networkx writes it", dump_graphml, media_type="application/xml"),
    Format("dot", "Graphviz DOT", dump_dot, media_type="text/vnd.graphviz"),
)

"""Argdown: one tree per root (``+`` supports, ``-`` attacks), unique ``[u<n>]`` titles, unit text
escaped and on one line, top-level blocks separated by blank lines. Relations outside the decoded
trees follow as extra blocks that mention statements by title."""

from __future__ import annotations

import json
import re

from argmine.formats.base import Format
from argmine.graph import Graph, TreeNode

# Argdown syntax characters ("{" opens a data block, "[" a title, "<" an argument, ...), escaped one by one,
_SPECIAL = re.compile(r"([\\\[\]<>#@*_`{}])")
# and runs it reads as syntax: "//" opens a comment (a URL was cut short there) and "===" at the start
# of a statement a front-matter fence; each character of such a run is escaped.
_RUNS = re.compile(r"/{2,}|={2,}")


def escape(text: str) -> str:
    """Unit text on one line, with every character Argdown could read as syntax escaped."""
    text = _SPECIAL.sub(r"\\\1", re.sub(r"\s+", " ", text).strip())
    return _RUNS.sub(lambda m: "".join("\\" + c for c in m.group()), text)


def dump(graph: Graph) -> str:
    units = {u.id: u for u in graph.units}
    title = json.dumps(graph.id or "argmine", ensure_ascii=False)
    blocks = [f"===\ntitle: {title}\nmodel:\n    mode: loose\n==="]
    in_tree = set()

    def lines(node: TreeNode, depth: int) -> list[str]:
        sign = "" if depth == 0 else ("+ " if node.label == "support" else "- ")
        out = [f"{'  ' * depth}{sign}[{node.unit}]: {escape(units[node.unit].text)}"]
        for child in node.children:
            in_tree.add((child.unit, node.unit))
            out += lines(child, depth + 1)
        return out

    for tree in graph.trees:
        blocks.append("\n".join(lines(tree, 0)))
    extra: dict[str, list[str]] = {}
    for rel in graph.relations:
        if (rel.source, rel.target) not in in_tree:
            sign = "+" if rel.label == "support" else "-"
            extra.setdefault(rel.target, []).append(f"  {sign} [{rel.source}]")
    for target, children in extra.items():
        blocks.append("\n".join([f"[{target}]", *children]))
    return "\n\n".join(blocks) + "\n"


FORMAT = Format("argdown", "Argdown text: one tree per root", dump)

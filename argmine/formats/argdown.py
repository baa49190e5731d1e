"""Argdown: one tree per root (``+`` supports, ``-`` attacks), unique ``[u<n>]`` titles, unit text
escaped and on one line, top-level blocks separated by blank lines. Relations outside the decoded
trees follow as extra blocks that mention statements by title."""

from __future__ import annotations

import json
import re

from argmine.graph import Graph, TreeNode

_SPECIAL = re.compile(r"([\\\[\]<>#@*_`])")


def escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", re.sub(r"\s+", " ", text).strip())


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

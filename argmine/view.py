"""The terminal tree view of a graph (`argmine analyze --tree`); files are written through `argmine.files`."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from argmine.graph import Graph, TreeNode

_MARKS = {"support": "[green]+ supports[/green]", "attack": "[red]- attacks[/red]"}


def render_trees(graph: Graph, console: Console | None = None, width: int = 100) -> None:
    """Print the argument trees: each node shows its unit, post and how it relates to its parent."""
    console = console or Console()
    units = {u.id: u for u in graph.units}
    kinds = {p.id: p.kind for p in graph.posts}

    def label(node: TreeNode) -> str:
        unit = units[node.unit]
        text = unit.text.replace("\n", " ")
        if len(text) > width:
            text = text[: width - 1] + "…"
        post = unit.post if unit.post == kinds[unit.post] else f"{kinds[unit.post]} {unit.post}"
        head = f"[bold]{node.unit}[/bold] [dim]({escape(post)})[/dim]"
        if node.label is not None:
            head = f"{_MARKS[node.label]} [dim]{node.score:.2f}[/dim] {head}"
        return f"{head} {escape(text)}"

    def add(branch: Tree, node: TreeNode) -> None:
        for child in node.children:
            add(branch.add(label(child)), child)

    title = graph.id or graph.document.source_path
    root = Tree(f"[bold]{escape(title)}[/bold]: {len(graph.units)} units, {len(graph.relations)} relations")
    for node in graph.trees:
        add(root.add(label(node)), node)
    console.print(root)

"""Tree decoding: labelled relations -> a forest where each unit has at most one parent.

The forest is networkx's maximum branching (Edmonds' algorithm) over parent -> child edges
weighted by relation score, so the decoded trees carry the most total confidence and no cycles.
"""

from __future__ import annotations

import networkx as nx

from argmine.document import Document, Relation


def decode_trees(doc: Document, relations: list[Relation], forward_only: bool = True) -> dict[str, Relation]:
    """Map each attached unit id to the relation linking it to its parent."""
    post_rank = {post.id: i for i, post in enumerate(doc.posts)}
    unit_post = {u.id: u.post for u in doc.units}
    graph = nx.DiGraph()
    graph.add_nodes_from(u.id for u in doc.units)
    best: dict[tuple[str, str], Relation] = {}
    for rel in relations:
        if forward_only and post_rank[unit_post[rel.target]] > post_rank[unit_post[rel.source]]:
            continue  # a unit answers its own post or an earlier one, never a later reply
        key = (rel.target, rel.source)
        if key not in best or rel.score > best[key].score:
            best[key] = rel
    for (parent, child), rel in sorted(best.items()):
        graph.add_edge(parent, child, weight=rel.score)
    branching = nx.maximum_branching(graph, attr="weight")
    return {child: best[(parent, child)] for parent, child in branching.edges()}


def nest(doc: Document, attached: dict[str, Relation]) -> list[dict]:
    """Trees as nested dicts, roots and children in reading order; every unit appears once."""
    order = {u.id: i for i, u in enumerate(doc.units)}
    children: dict[str, list[str]] = {}
    for child, rel in attached.items():
        children.setdefault(rel.target, []).append(child)

    def build(unit_id: str, rel: Relation | None) -> dict:
        node: dict = {"unit": unit_id}
        if rel is not None:
            node["label"] = rel.label
            node["score"] = rel.score
        node["children"] = [build(c, attached[c]) for c in sorted(children.get(unit_id, []), key=order.__getitem__)]
        return node

    return [build(u.id, None) for u in doc.units if u.id not in attached]

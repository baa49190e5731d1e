"""Tree decoding: scored pairs -> a forest where each unit has at most one parent.

networkx's maximum branching (Edmonds' algorithm) over parent -> child edges weighted by link
probability. Edges above the relation thresholds may join any two posts; with ``post_trees`` every
within-post candidate edge competes too, so each post's units form one tree whose root is the unit
least likely to have a parent (its central claim), as in Peldszus & Stede's MST decoding.
"""

from __future__ import annotations

import networkx as nx

from argmine.document import Document, Relation
from argmine.relations import PairScores


def decode_trees(
    doc: Document,
    pairs: list[tuple[int, int]],
    scores: list[PairScores],
    relations: list[Relation],
    forward_only: bool = True,
    post_trees: bool = False,
    min_link: float = 0.05,
) -> dict[str, Relation]:
    """Map each attached unit id to the relation linking it to its parent."""
    post_rank = {post.id: i for i, post in enumerate(doc.posts)}
    unit_post = {u.id: u.post for u in doc.units}
    best: dict[tuple[str, str], Relation] = {}

    def offer(rel: Relation, weight: float) -> None:
        if forward_only and post_rank[unit_post[rel.target]] > post_rank[unit_post[rel.source]]:
            return  # a unit answers its own post or an earlier one, never a later reply
        key = (rel.target, rel.source)
        if key not in best or weight > best[key][1]:
            best[key] = (rel, weight)

    for rel in relations:
        offer(rel, rel.score)
    if post_trees:
        for (a, b), s in zip(pairs, scores):
            ua, ub = doc.units[a], doc.units[b]
            if ua.post == ub.post and s.support + s.attack >= min_link:
                label = "attack" if s.attack > s.support else "support"
                offer(Relation(ua.id, ub.id, label, round(max(s.support, s.attack), 4)), s.support + s.attack)
    graph = nx.DiGraph()
    graph.add_nodes_from(u.id for u in doc.units)
    for (parent, child), (_, weight) in sorted(best.items()):
        graph.add_edge(parent, child, weight=weight)
    branching = nx.maximum_branching(graph, attr="weight")
    return {child: best[(parent, child)][0] for parent, child in branching.edges()}


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

"""Tree decoding: scored pairs -> one argument tree per post, joined along reply links.

Each post's units form a tree (a maximum spanning arborescence, Edmonds' algorithm via networkx,
as in Peldszus & Stede's MST decoding) whose root is the post's central claim; that root attaches
to one unit of a post it answers (its parent, the comment above in a flat thread, or the title for
the article). Root and target are chosen jointly: the root is the unit whose outside link plus the
best tree under it scores highest. Decoding works post by post, so memory stays bounded by the
largest post, not the thread.

The graph keeps only the decoded links the model is confident of (score at or above the threshold;
links across posts have their own, since replies link far more often than two random units of one
post). A unit below its post's root may also answer the post above: its single best reply link is
kept when it reaches ``extra_threshold``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, NamedTuple

from argmine.document import Document, PairScores, Relation

if TYPE_CHECKING:
    from argmine.settings import DecodingSettings, RelationSettings


def _label(s: PairScores) -> tuple[str, float]:
    return ("attack", s.attack) if s.attack > s.support else ("support", s.support)


# What a model that stores no decision decodes with when the settings leave a value unset (null).
UNSTORED = {"threshold": 0.5, "attack_weight": 1.0, "reply_attack_weight": 1.0, "root_penalty": 0.0}


@dataclass(frozen=True, kw_only=True)
class Decision:
    """Every number that turns scores into relations and trees, resolved once per run from the settings
    and what the model stores beside its weights, and handed whole to decoding. No field has a default
    here: ``resolve`` reads configs/default.yaml's values (and ``UNSTORED``), ``default`` is the same
    for code that sets a few values itself."""

    threshold: float  # a link inside a post is a relation at or above this score
    reply_threshold: float  # ... across posts
    extra_threshold: float  # pair models: a second reply link of a unit under its post's root
    exact_root_limit: int  # pair models: above this many units a post's root is chosen greedily
    max_tree_units: int  # pair models: a longer post is decoded in blocks of this many units
    attack_weight: float  # the parser: an edge inside a post is an attack when P(attack) x this beats P(support)
    reply_attack_weight: float  # ... across posts
    root_penalty: float  # the parser: subtracted from ROOT's log-probability when a window's root picks its head

    @classmethod
    def resolve(cls, stored: dict, relations: RelationSettings, decoding: DecodingSettings) -> Decision:
        """The settings' values when set, else the model's stored ones, else ``UNSTORED``; the reply
        threshold falls back to the inside-post one."""

        def pick(key: str):
            value = getattr(relations, key)
            return stored.get(key) if value is None else value

        threshold = pick("threshold")
        threshold = UNSTORED["threshold"] if threshold is None else float(threshold)
        reply = pick("reply_threshold")
        return cls(
            threshold=threshold,
            reply_threshold=threshold if reply is None else float(reply),
            extra_threshold=decoding.extra_threshold,
            exact_root_limit=decoding.exact_root_limit,
            max_tree_units=decoding.max_tree_units,
            **{
                k: float(UNSTORED[k] if pick(k) is None else pick(k))
                for k in ("attack_weight", "reply_attack_weight", "root_penalty")
            },
        )

    @classmethod
    def default(cls, **values) -> Decision:
        """The decision of configs/default.yaml for a model that stores none, with ``values`` in place."""
        from argmine.settings import default_settings

        settings = default_settings()
        return replace(cls.resolve({}, settings.relations, settings.decoding), **values)

    def describe(self) -> dict:
        """Every value, for the graph's ``model`` section."""
        return dict(self.__dict__)


class Decoded(NamedTuple):
    """One document decoded: the confident relations (the output) and the tree, every attached unit's link
    to its parent (unit id -> relation), confident or not."""

    relations: list[Relation]
    tree: dict[str, Relation]


class TreeEdge(NamedTuple):
    """A parser tree edge: unit ``child`` attached to ``head`` (indices), with P(head) and the label's."""

    child: int
    head: int
    link: float
    support: float
    attack: float


class PostTree(NamedTuple):
    """One post's decoded tree: its root unit and child -> parent (indices)."""

    root: int
    parents: dict[int, int]


@dataclass
class Related:
    """What a relation model's ``relate`` found in one document: the decoded relations and tree, and
    what it scored and cut on the way."""

    decoded: Decoded
    pairs_scored: int
    truncated_pairs: int = 0  # (unit, unit) inputs cut to a pair model's window
    truncated_units: int = 0  # units the parser read only the start of (longer than its unit_tokens)

    @property
    def relations(self) -> list[Relation]:  # confident labelled relations (the output)
        return self.decoded.relations

    @property
    def tree(self) -> dict[str, Relation]:  # every attached unit's link to its parent, confident or not
        return self.decoded.tree


def decode_trees(doc: Document, pairs: list[tuple[int, int]], scores: list[PairScores], decision: Decision) -> Decoded:
    """(relations, tree): the confident labelled relations, and the decoded tree (each unit's link to its
    parent, confident or not: what attachment accuracy measures).

    ``decision.threshold`` applies to links inside a post, ``reply_threshold`` to links across posts.
    Above ``exact_root_limit`` units in a post, its root is chosen greedily (one arborescence, not one per candidate root).
    A post of more than ``max_tree_units`` units is decoded in consecutive blocks of that many, each
    block's root attaching to an earlier block or another post: memory stays bounded by the block,
    whatever the scores (Edmonds' algorithm as networkx runs it keeps a copy of the graph per contraction)."""
    threshold, reply_threshold, extra_threshold = decision.threshold, decision.reply_threshold, decision.extra_threshold
    exact_root_limit, max_tree_units = decision.exact_root_limit, decision.max_tree_units
    units = doc.units
    link: dict[tuple[int, int], float] = {}
    by_pair: dict[tuple[int, int], PairScores] = {}
    for pair, s in zip(pairs, scores):
        link[pair] = s.support + s.attack
        by_pair[pair] = s
    members: dict[str, list[int]] = {}
    for i, u in enumerate(units):
        members.setdefault(u.post, []).append(i)
    inside: dict[str, list[tuple[int, int]]] = {}
    outside: dict[int, tuple[float, int]] = {}  # unit -> (best link out of its post, target)
    for (a, b), w in sorted(link.items()):
        if units[a].post == units[b].post:
            inside.setdefault(units[a].post, []).append((a, b))
        elif w > outside.get(a, (-1.0, -1))[0]:
            outside[a] = (w, b)
    parent_of: dict[int, int] = {}
    for post_id, idx in members.items():
        for block, edges, reach in _blocks(idx, inside.get(post_id, []), link, outside, max_tree_units):
            root, tree = _post_tree(block, edges, link, reach, exact_root_limit)
            parent_of.update(tree)
            if root in reach:
                parent_of[root] = reach[root][1]
    tree: dict[str, Relation] = {}
    relations: list[Relation] = []
    for child, parent in parent_of.items():
        label, score = _label(by_pair[(child, parent)])
        edge = Relation(units[child].id, units[parent].id, label, round(score, 4))
        tree[edge.source] = edge
        if score >= (threshold if units[child].post == units[parent].post else reply_threshold):
            relations.append(edge)
    # A unit under its post's root may also answer the post above: its best reply link, when confident.
    for a, (_, b) in sorted(outside.items()):
        if parent_of.get(a) == b or units[parent_of.get(a, a)].post != units[a].post:
            continue  # the root's own reply link, or a root: already decided by the tree
        label, score = _label(by_pair[(a, b)])
        if score >= max(reply_threshold, extra_threshold):
            relations.append(Relation(units[a].id, units[b].id, label, round(score, 4)))
    order = {u.id: i for i, u in enumerate(units)}
    relations.sort(key=lambda r: (order[r.source], order[r.target]))
    return Decoded(relations, tree)


def _blocks(idx: list[int], edges: list[tuple[int, int]], link: dict, outside: dict[int, tuple[float, int]], size: int):
    """A post's units in consecutive blocks of at most ``size``: (units, edges inside the block, each
    unit's best link out of the block: to another post, or back to an earlier block of this post)."""
    if len(idx) <= size:
        yield idx, edges, outside
        return
    block_of = {u: k // size for k, u in enumerate(idx)}
    within: dict[int, list[tuple[int, int]]] = {}
    back: dict[int, tuple[float, int]] = {}
    for a, b in edges:  # sorted, as ``link`` was: ties go to the first pair
        if block_of[a] == block_of[b]:
            within.setdefault(block_of[a], []).append((a, b))
        elif block_of[b] < block_of[a] and link[(a, b)] > back.get(a, (-1.0, -1))[0]:
            back[a] = (link[(a, b)], b)
    for k in range(0, len(idx), size):
        block = idx[k : k + size]
        reach = {}
        for a in block:
            best = max((c for c in (outside.get(a), back.get(a)) if c is not None), key=lambda c: c[0], default=None)
            if best is not None:
                reach[a] = best
        yield block, within.get(block_of[block[0]], []), reach


def _weight(p: float) -> float:
    """An edge's weight: its log-probability, shifted positive (every tree of a post has as many edges,
    so the shift changes no choice): the tree with the most probable links, not the largest sum."""
    return math.log(max(p, 1e-9)) + 25.0


def _post_tree(
    idx: list[int], edges: list[tuple[int, int]], link: dict, outside: dict[int, tuple[float, int]], exact_root_limit: int
) -> PostTree:
    """One post's arborescence plus root link with the highest total (a pair model's post, or block)."""
    if len(idx) == 1:
        return PostTree(idx[0], {})
    heads: dict[int, dict[int, float]] = {}
    for a, b in edges:
        heads.setdefault(a, {})[b] = _weight(link[(a, b)])
    reach = {i: (_weight(outside[i][0]), outside[i][1]) for i in idx if i in outside}
    found = best_rooted_tree(idx, heads, reach, exact_root_limit, spanning=False, floor=_weight(0.0))
    if found is None:  # no unit links out of the post: its best branching, rooted where it starts
        parents = _branch(_graph(idx, heads, 0.0), None, spanning=False)
        return PostTree(next(i for i in idx if i not in parents), parents)
    return PostTree(*found)


def best_rooted_tree(
    nodes: list[int],
    heads: dict[int, dict[int, float]],
    out: dict[int, tuple[float, int]],
    exact_root_limit: int,
    spanning: bool,
    shift: float = 0.0,
    floor: float = -1e9,
) -> tuple[int, dict[int, int]] | None:
    """The one root search both model kinds decode with: over ``nodes`` (each child's candidate heads
    and their scores in ``heads``), the tree whose root takes its best link out (``out``: score, target)
    and is best in total. Exact up to ``exact_root_limit`` nodes (one maximum arborescence per candidate
    root), above it the root that gains most by linking out. ``spanning``: every node in the tree (else a
    maximum branching); ``shift`` makes scores positive for networkx (it changes no choice); ``floor``:
    a node's best head score when it has none. None when no root gives a tree."""
    graph = _graph(nodes, heads, shift)
    candidates = [n for n in nodes if n in out]
    if len(nodes) > exact_root_limit and candidates:
        best_in = {n: max(heads.get(n, {}).values(), default=floor) for n in candidates}
        candidates = [max(candidates, key=lambda n: (out[n][0] - best_in[n], -n))]
    best: tuple[float, int, dict[int, int]] | None = None
    for root in candidates:
        parents = _branch(graph, root, spanning)
        if parents is None:
            continue
        total = out[root][0] + sum(heads[child][head] for child, head in parents.items())
        if best is None or total > best[0] + 1e-12:
            best = (total, root, parents)
    return None if best is None else (best[1], best[2])


def _graph(nodes: list[int], heads: dict[int, dict[int, float]], shift: float):
    import networkx as nx  # loaded when a tree is decoded: refusals and help never pay its import

    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    for child in nodes:
        for head, score in heads.get(child, {}).items():
            graph.add_edge(head, child, weight=score + shift)  # parent -> child
    return graph


def _branch(graph, root: int | None, spanning: bool) -> dict[int, int] | None:
    """child -> head in the maximum arborescence (``spanning``) or branching of ``graph`` with nothing
    above ``root``; None when no spanning arborescence exists."""
    import networkx as nx

    g = graph
    if root is not None:
        g = graph.copy()
        g.remove_edges_from(list(g.in_edges(root)))
    try:
        found = (nx.maximum_spanning_arborescence if spanning else nx.maximum_branching)(g, attr="weight", preserve_attrs=True)
    except nx.NetworkXException:
        return None
    return {child: parent for parent, child in found.edges()}


def confident_tree(tree: dict[str, Relation], relations: list[Relation]) -> dict[str, Relation]:
    """The decoded tree's links that made it into the relations (the output's trees)."""
    kept = {(r.source, r.target) for r in relations}
    return {child: r for child, r in tree.items() if (r.source, r.target) in kept}


class ReplyChoice(NamedTuple):
    """The answered-post link of one post (``replies``): its unit ``source`` is the likeliest to link, unit
    ``target`` of a post it answers the likeliest to be linked to, and ``link`` the probability that the
    post links at all (the listwise softmax's mass off "no link")."""

    post: str
    source: int
    target: int
    link: float


def decode_parse(doc: Document, parse, decision: Decision) -> Decoded:
    """A parser's arc log-probabilities decoded: the maximum arborescence over the whole thread.

    Heads lie in the unit's own post or in earlier posts it answers, so a cycle can only close inside one
    post's window: each window is decoded on its own by Edmonds' algorithm, with one root that takes its
    best outside head (ROOT, a unit of a post it answers, an earlier window of a long post) and every other
    unit attached inside, root and tree chosen jointly; memory stays bounded by the window."""
    return reply_edges(doc, parse, label_edges(doc, parse_edges(parse, decision), decision), decision)


def parse_edges(parse, decision: Decision) -> list[TreeEdge]:
    """The decoded tree's edge of every attached unit, in unit order. Where the parse carries answered-post
    links (``parse.replies``), a post's units take heads only inside their post (or ROOT): the reply link
    across posts is that decision's (``reply_edges``)."""
    arcs = parse.arcs
    if parse.replies is not None:
        post_of = parse.post_of
        arcs = {d: {h: lp for h, lp in heads.items() if h < 0 or post_of[h] == post_of[d]} for d, heads in arcs.items()}
    head_of: dict[int, int] = {}
    for group in _window_groups(parse):
        head_of.update(_arborescence(group, arcs, decision.exact_root_limit, decision.root_penalty))
    edges = []
    for child in sorted(head_of):
        head = head_of[child]
        if head >= 0:
            support, attack = parse.labels[(child, head)]
            edges.append(TreeEdge(child, head, math.exp(parse.arcs[child][head]), support, attack))
    return edges


def label_edges(doc: Document, edges: list[TreeEdge], decision: Decision) -> Decoded:
    """Label each tree edge (attack when its probability, weighted by ``attack_weight`` inside a post or
    ``reply_attack_weight`` across posts, beats support), score it P(head) x P(label), and keep as relations
    those at or above ``threshold`` inside a post and ``reply_threshold`` across posts."""
    units = doc.units
    tree: dict[str, Relation] = {}
    relations: list[Relation] = []
    for child, head, link, support, attack in edges:
        same = units[child].post == units[head].post
        weight = decision.attack_weight if same else decision.reply_attack_weight
        label, share = ("attack", attack) if attack * weight > support else ("support", support)
        edge = Relation(units[child].id, units[head].id, label, round(link * share, 4))
        tree[edge.source] = edge
        if edge.score >= (decision.threshold if same else decision.reply_threshold):
            relations.append(edge)
    return Decoded(relations, tree)


def reply_edges(doc: Document, parse, decoded: Decoded, decision: Decision) -> Decoded:
    """Add each post's answered-post link (``parse.replies``) to ``decoded``: labelled by the parser's label
    scorer for that pair (else its mean over the source's heads in the target's post, else over any other
    post), scored P(link) x P(label), a relation at or above ``reply_threshold``. A source that is its
    post's root hangs its tree on the target; a source below the root keeps its place and links as well."""
    if not parse.replies:
        return decoded
    units = doc.units
    tree = dict(decoded.tree)
    relations = list(decoded.relations)
    for choice in parse.replies:
        support, attack = _reply_label(parse, choice.source, choice.target)
        weight = decision.reply_attack_weight
        label, share = ("attack", attack) if attack * weight > support else ("support", support)
        edge = Relation(units[choice.source].id, units[choice.target].id, label, round(choice.link * share, 4))
        if edge.source not in tree:
            tree[edge.source] = edge
        if edge.score >= decision.reply_threshold:
            relations.append(edge)
    order = {u.id: i for i, u in enumerate(units)}
    relations.sort(key=lambda r: (order[r.source], order[r.target]))
    return Decoded(relations, tree)


def _reply_label(parse, source: int, target: int) -> tuple[float, float]:
    """(P(support), P(attack)) of a reply link, normalised to sum to 1."""
    found = parse.labels.get((source, target))
    if found is None:
        post_of = parse.post_of
        heads = [h for h in parse.arcs.get(source, {}) if h >= 0 and post_of[h] != post_of[source]]
        same = [parse.labels[(source, h)] for h in heads if post_of[h] == post_of[target]]
        pool = same or [parse.labels[(source, h)] for h in heads]
        found = (sum(v[0] for v in pool) / len(pool), sum(v[1] for v in pool) / len(pool)) if pool else (0.5, 0.5)
    total = found[0] + found[1]
    return (found[0] / total, found[1] / total) if total > 0 else (0.5, 0.5)


def _window_groups(parse) -> list[list[int]]:
    """Dependents that can form cycles together: units that are each other's heads (one window's units)."""
    groups: list[list[int]] = []
    seen: set[int] = set()
    for d in sorted(parse.arcs):
        if d in seen:
            continue
        group, stack = [], [d]
        seen.add(d)
        while stack:
            u = stack.pop()
            group.append(u)
            for h in parse.arcs[u]:
                if h >= 0 and h in parse.arcs and h not in seen and u in parse.arcs[h]:
                    seen.add(h)
                    stack.append(h)
        groups.append(sorted(group))
    return groups


def _arborescence(
    group: list[int], arcs: dict[int, dict[int, float]], exact_root_limit: int, root_penalty: float
) -> dict[int, int]:
    """Each unit's head in the best tree over ``group`` whose one root takes its best outside head (ROOT = -1,
    another post, an earlier window): as in dependency parsing, one root per window, the others attached
    inside it."""
    inside = set(group)
    best_out = {
        d: max(((lp - root_penalty * (h < 0), h) for h, lp in arcs[d].items() if h not in inside), default=(-1e9, -1))
        for d in group
    }
    if len(group) == 1:
        return {group[0]: best_out[group[0]][1]}
    heads = {d: {h: lp for h, lp in arcs[d].items() if h in inside} for d in group}
    # every tree has len(group) - 1 edges: the shift changes no choice
    found = best_rooted_tree(group, heads, best_out, exact_root_limit, spanning=True, shift=1e4)
    if found is None:  # no unit reaches every other: each takes its best head outside
        return {d: best_out[d][1] for d in group}
    root, tree = found
    return {root: best_out[root][1], **tree}

"""xAIF / OVA3 JSON: I nodes for units, L nodes and locutions per post (one participant per author),
RA/CA scheme nodes for support/attack, TA transitions from a parent post to its reply, YA anchoring,
the highlighted ``text`` and the ``OVA`` drawing section. Character offsets and quotes live in ``argmine``.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from argmine import jsonio
from argmine.document import Post
from argmine.errors import InputError
from argmine.files import read_text
from argmine.formats.base import Format
from argmine.formats.common import argmine_meta, check_same_text, graph_from_annotations, side_info
from argmine.graph import Graph, posts_json

SCHEMES = {"RA": "72", "CA": "71", "TA": "82", "YA": "168"}
RELATION_NODE = {"support": ("RA", "Default Inference", "Arguing"), "attack": ("CA", "Default Conflict", "Disagreeing")}


class _Aif:
    """The AIF node and edge lists (with their OVA drawing and scheme fulfilments) as they are built;
    node ids count up from 1 in the order nodes are made."""

    def __init__(self) -> None:
        self.nodes: list[dict] = []
        self.edges: list[dict] = []
        self.locutions: list[dict] = []
        self.participants: list[dict] = []
        self.schemes: list[dict] = []
        self.ova_nodes: list[dict] = []

    def node(self, kind: str, text: str, x: int, y: int) -> str:
        nid = str(len(self.nodes) + 1)
        self.nodes.append({"nodeID": nid, "text": text, "type": kind, "timestamp": ""})
        self.ova_nodes.append({"nodeID": nid, "visible": True, "x": x, "y": y, "timestamp": ""})
        if kind in SCHEMES:
            self.schemes.append({"nodeID": nid, "schemeID": SCHEMES[kind]})
        return nid

    def edge(self, a: str, b: str) -> None:
        self.edges.append({"edgeID": str(len(self.edges) + 1), "fromID": a, "toID": b})


@dataclass
class _UnitNodes:
    """Each unit's I and L node, each post's first L node, and the units' offsets by I node."""

    i_node: dict[str, str] = field(default_factory=dict)
    l_node: dict[str, str] = field(default_factory=dict)
    first_l: dict[str, str] = field(default_factory=dict)
    offsets: dict[str, dict] = field(default_factory=dict)


def dump(graph: Graph) -> str:
    """The graph as xAIF JSON that OVA3 opens, with argmine's offsets, scores and trees beside it."""
    aif = _Aif()
    people = _participants(aif, graph)
    units = _unit_nodes(aif, graph, people)
    transitions = _transitions(aif, graph, units.first_l)
    _relation_nodes(aif, graph, units.i_node, transitions)
    return json.dumps(_document(aif, graph, units), ensure_ascii=False, indent=1) + "\n"


def _participants(aif: _Aif, graph: Graph) -> dict[str, str]:
    """One participant per speaker (a post's author, else the article or the post id); their ids by speaker."""
    people: dict[str, str] = {}
    for post in graph.posts:
        speaker = _speaker(post)
        if speaker not in people:
            people[speaker] = str(len(people) + 1)
            first, _, last = speaker.partition(" ")
            aif.participants.append({"participantID": people[speaker], "firstname": first, "surname": last})
    return people


def _unit_nodes(aif: _Aif, graph: Graph, people: dict[str, str]) -> _UnitNodes:
    """Per unit: an L node (its locution), an I node (its proposition) and the YA node asserting one by the other."""
    posts = {p.id: p for p in graph.posts}
    out = _UnitNodes()
    for row, unit in enumerate(graph.units):
        speaker = _speaker(posts[unit.post])
        l_id = aif.node("L", f"{speaker}: {unit.text}", 50, 80 + 120 * row)
        aif.locutions.append({"nodeID": l_id, "personID": people[speaker], "timestamp": ""})
        i_id = aif.node("I", unit.text, 650, 80 + 120 * row)
        ya = aif.node("YA", "Asserting", 350, 80 + 120 * row)
        aif.edge(l_id, ya)
        aif.edge(ya, i_id)
        out.i_node[unit.id], out.l_node[unit.id] = i_id, l_id
        out.first_l.setdefault(unit.post, l_id)
        out.offsets[i_id] = {"unit": unit.id, "post": unit.post, "start": unit.start, "end": unit.end}
    return out


def _transitions(aif: _Aif, graph: Graph, first_l: dict[str, str]) -> dict[tuple[str, str], str]:
    """A TA node from a parent post's first locution to its reply's first; their ids by (parent, reply)."""
    between: dict[tuple[str, str], str] = {}
    for post in graph.posts:
        parent = post.parent
        if parent and parent in first_l and post.id in first_l:
            ta = aif.node("TA", "Default Transition", 200, 60)
            aif.edge(first_l[parent], ta)
            aif.edge(ta, first_l[post.id])
            between[(parent, post.id)] = ta
    return between


def _relation_nodes(aif: _Aif, graph: Graph, i_node: dict[str, str], transitions: dict[tuple[str, str], str]) -> None:
    """An RA or CA node per relation; a reply's transition anchors (YA) the relation it makes."""
    unit_post = {u.id: u.post for u in graph.units}
    for rel in graph.relations:
        kind, text, illocution = RELATION_NODE[rel.label]
        r_id = aif.node(kind, text, 900, 80)
        aif.edge(i_node[rel.source], r_id)
        aif.edge(r_id, i_node[rel.target])
        ta = transitions.get((unit_post[rel.target], unit_post[rel.source]))
        if ta:
            ya = aif.node("YA", illocution, 900, 40)
            aif.edge(ta, ya)
            aif.edge(ya, r_id)


def _document(aif: _Aif, graph: Graph, units: _UnitNodes) -> dict:
    """The xAIF object: AIF, the highlighted text, the OVA drawing and argmine's own section."""
    meta = argmine_meta(graph)
    return {
        "AIF": {
            "nodes": aif.nodes,
            "edges": aif.edges,
            "locutions": aif.locutions,
            "participants": aif.participants,
            "schemefulfillments": aif.schemes,
            "descriptorfulfillments": [],
            "cqdescriptorfulfillments": [],
        },
        "text": _highlight(graph, units.l_node),
        "dialog": any(p.kind == "comment" for p in graph.posts),
        "OVA": {
            "firstname": "",
            "surname": "",
            "url": "",
            "nodes": aif.ova_nodes,
            "edges": [{"fromID": e["fromID"], "toID": e["toID"], "visible": True} for e in aif.edges],
        },
        "argmine": {
            "id": graph.id,
            "text": graph.text,
            "posts": posts_json(graph.document),
            "offsets": units.offsets,
            "scores": meta["scores"],
            "tree": meta["tree"],
        },
    }


def _speaker(post: Post) -> str:
    return post.author or ("Article" if post.kind in ("article", "title") else post.id)


def _highlight(graph: Graph, l_node: dict[str, str]) -> str:
    """The text as HTML, each unit wrapped in the span OVA3 looks up (``id="node<L id>"``)."""
    text, out, cursor = graph.text, [], 0
    for unit in graph.units:
        out.append(html.escape(text[cursor : unit.start]))
        out.append(f'<span class="highlighted" id="node{l_node[unit.id]}">{html.escape(unit.text)}</span>')
        cursor = unit.end
    out.append(html.escape(text[cursor:]))
    return "".join(out).replace("\n", "<br>")


def load(path: str | Path, text: str | None = None) -> Graph:
    """A graph from xAIF: offsets from the ``argmine`` section, or I-node texts found in ``text`` in order.
    An edge or offset naming a node that is not in the node list (a truncated file) is an error."""
    path = Path(path)
    data = jsonio.parse(read_text(path), str(path))
    if not isinstance(data, dict):
        raise InputError(f"{path}: not xAIF (a JSON object with AIF nodes and edges)")
    aif = data.get("AIF", data)
    if not isinstance(aif, dict) or not isinstance(aif.get("nodes"), list) or not isinstance(aif.get("edges"), list):
        raise InputError(f"{path}: not xAIF (no AIF nodes and edges lists)")
    nodes = _nodes(aif["nodes"], path)
    edges = _edges(aif["edges"], nodes, path)
    extra = data.get("argmine") if isinstance(data.get("argmine"), dict) else {}
    doc_text = text if text is not None else extra.get("text")
    if not isinstance(doc_text, str):
        raise InputError(f"{path}: no argmine section with the text; pass the document with --text")
    offsets = extra.get("offsets") or {}
    if not isinstance(offsets, dict):
        raise InputError(f"{path}: the argmine offsets are not an object (node id -> unit, start, end)")
    found = _units(nodes, offsets, doc_text, path)
    units, name = found.units, found.unit_of
    meta = dict(extra)
    scores = meta.pop("scores") if isinstance(meta.get("scores"), dict) else {}  # older exports: by unit ids, no labels
    relations = []
    for nid, n in nodes.items():
        if n["type"] not in ("RA", "CA"):
            continue
        label = "support" if n["type"] == "RA" else "attack"
        for src in (s for s in edges.incoming.get(nid, []) if s in name):
            for trg in (t for t in edges.outgoing.get(nid, []) if t in name):
                relations.append((name[src], name[trg], label, scores.get(f"{name[src]}->{name[trg]}")))
    own = extra.get("text") if isinstance(extra.get("text"), str) else None
    check_same_text(own, doc_text, units, str(path))
    meta = side_info(meta, f"{path} argmine section")
    return graph_from_annotations(
        doc_text,
        units,
        relations,
        doc_id=extra.get("id") or path.stem,
        source_path=str(path),
        meta=meta if own is not None else None,
        where=str(path),
    )


def _nodes(items: list, path: Path) -> dict[str, dict]:
    """AIF nodes by id; each needs a nodeID and a type, an I node its text."""
    nodes = {}
    for n, node in enumerate(items, start=1):
        if not isinstance(node, dict) or "nodeID" not in node or not isinstance(node.get("type"), str):
            raise InputError(f"{path}: AIF node {n} has no nodeID and type")
        if node["type"] == "I" and not isinstance(node.get("text"), str):
            raise InputError(f"{path}: I node {node['nodeID']} has no text")
        nodes[str(node["nodeID"])] = node
    return nodes


class _Edges(NamedTuple):
    """An AIF graph's edges, indexed by node both ways."""

    incoming: dict[str, list[str]]  # node id -> the nodes its edges come from
    outgoing: dict[str, list[str]]  # node id -> the nodes its edges go to


def _edges(items: list, nodes: dict[str, dict], path: Path) -> _Edges:
    """AIF edges by node, both ways; an edge must join two nodes of the list."""
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    for n, edge in enumerate(items, start=1):
        if not isinstance(edge, dict) or "fromID" not in edge or "toID" not in edge:
            raise InputError(f"{path}: AIF edge {n} has no fromID and toID")
        a, b = str(edge["fromID"]), str(edge["toID"])
        missing = next((x for x in (a, b) if x not in nodes), None)
        if missing is not None:
            name = edge.get("edgeID", n)
            raise InputError(f"{path}: AIF edge {name} names node {missing}, which is not in the node list (a truncated file?)")
        outgoing.setdefault(a, []).append(b)
        incoming.setdefault(b, []).append(a)
    return _Edges(incoming, outgoing)


class _Units(NamedTuple):
    """Units read from I nodes, and the unit each I node is."""

    units: list[tuple]  # (unit id, start, end, text)
    unit_of: dict[str, str]  # I node id -> unit id


def _units(nodes: dict[str, dict], offsets: dict, text: str, path: Path) -> _Units:
    """Units from I nodes (at their stored offsets, else found in the text in order), and unit id by node id."""
    for nid in offsets:
        if nid not in nodes:
            raise InputError(f"{path}: the argmine offsets name node {nid}, which is not in the node list (a truncated file?)")
    units, name, cursor = [], {}, 0
    for nid, n in nodes.items():
        if n["type"] != "I":
            continue
        if nid in offsets:
            o = offsets[nid]
            if not (
                isinstance(o, dict)
                and isinstance(o.get("unit"), str)
                and all(isinstance(o.get(k), int) for k in ("start", "end"))
            ):
                raise InputError(f"{path}: the argmine offsets of node {nid} are not a unit, start and end")
            units.append((o["unit"], o["start"], o["end"], n["text"]))
            name[nid] = o["unit"]
            continue
        at = text.find(n["text"], cursor)
        if at < 0:
            at = text.find(n["text"])
        if at < 0:
            raise InputError(f"{path}: I node {nid} text not found in the document: {n['text'][:40]!r}")
        name[nid] = f"u{len(units) + 1}"
        units.append((name[nid], at, at + len(n["text"]), n["text"]))
        cursor = at + len(n["text"])
    return _Units(units, name)


FORMAT = Format("xaif", "xAIF / OVA3 JSON", dump, load=load, load_from="xAIF JSON", media_type="application/json")

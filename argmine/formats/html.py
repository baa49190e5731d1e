"""A self-contained HTML view of one thread's graph: the text with every unit highlighted at its
offsets (left) beside the argument trees (right), linked both ways, with a score slider.

One file, no network: the layout (layered trees, packed in rows) is computed here and drawn as SVG;
a little plain JavaScript adds hovering, clicking and the slider. Every text goes through
``html.escape`` and the embedded data is JSON with ``<`` escaped, so a comment holding ``<script>``
shows as text. A carriage return is written as ``&#13;`` so the page's text equals the thread's
text character for character (the HTML parser would turn CRLF into LF).
"""

from __future__ import annotations

import colorsys
import html
import json
from dataclasses import dataclass

from argmine.document import Quote
from argmine.formats.base import Format
from argmine.graph import Graph, TreeNode

# Post colours: title and article first, then comments (a colour-blind-safe palette, then post_colours).
PALETTE = ["#8da0cb", "#fc8d62", "#66c2a5", "#e78ac3", "#a6d854", "#ffd92f", "#e5c494", "#b3b3b3", "#80b1d3", "#fdb462"]
NODE_R = 15
SLOT = 46  # horizontal room per leaf
LAYER = 70  # vertical distance between depths
ROW_WIDTH = 1100  # trees are packed left to right in rows about this wide
PAD = 30


@dataclass
class Placed:
    x: float
    y: float


@dataclass
class Drawing:
    """Where each unit's node sits (unit id -> position) and the picture's size."""

    positions: dict[str, Placed]
    width: float
    height: float


def place_trees(graph: Graph) -> Drawing:
    """Each tree layered by depth (root on top), leaves side by side, a parent centred over its
    children; trees packed in rows."""
    positions: dict[str, Placed] = {}
    row_x, row_y, row_h, width = PAD, PAD, 0.0, 0.0

    def place(node: TreeNode, depth: int, left: float) -> tuple[float, float]:
        """Place ``node``'s subtree from ``left``; returns (its x, the next free x)."""
        if not node.children:
            x = left + SLOT / 2
            positions[node.unit] = Placed(x, depth * LAYER)
            return x, left + SLOT
        xs, cursor = [], left
        for child in node.children:
            x, cursor = place(child, depth + 1, cursor)
            xs.append(x)
        x = (xs[0] + xs[-1]) / 2
        positions[node.unit] = Placed(x, depth * LAYER)
        return x, cursor

    for tree in graph.trees:
        walked = list(tree.walk())
        nodes, depth = [n for n, _ in walked], max(d for _, d in walked)
        _, right = place(tree, 0, 0.0)
        tree_w, tree_h = right, depth * LAYER + 2 * NODE_R
        if row_x > PAD and row_x + tree_w > ROW_WIDTH:  # start a new row
            row_x, row_y, row_h = PAD, row_y + row_h + LAYER, 0.0
        for n in nodes:  # from the tree's own coordinates to its place in the row
            p = positions[n.unit]
            positions[n.unit] = Placed(p.x + row_x, p.y + row_y + NODE_R)
        row_x += tree_w + SLOT / 2
        row_h = max(row_h, tree_h)
        width = max(width, row_x)
    return Drawing(positions, width + PAD, row_y + row_h + 2 * PAD)


def _depths(graph: Graph) -> dict[str, int]:
    """How deep each post sits in the reply tree (for indentation)."""
    parent = {p.id: p.parent for p in graph.posts}
    out: dict[str, int] = {}
    for post in graph.posts:
        depth, current, seen = 0, post.parent, {post.id}
        while current is not None and current not in seen and current in parent:
            seen.add(current)
            depth += 1
            current = parent[current]
        out[post.id] = depth
    return out


def _escape(text: str) -> str:
    return html.escape(text, quote=True).replace("\r", "&#13;")


def _quote_span(text: str, quote: Quote) -> str:
    """A quote of an earlier post, set apart by an inline style (no stylesheet rule: pages without
    quotes keep their bytes)."""
    points = f"quotes {quote.target}" if quote.target else "a quote"
    return (
        f'<span class="quote" title="{_escape(points)}" style="color:#555;font-style:italic">'
        f"{_escape(text[quote.start : quote.end])}</span>"
    )


def _text_panel(graph: Graph, colour: dict[str, str]) -> str:
    marks_by_post: dict[str, list] = {}
    for unit in graph.units:
        marks_by_post.setdefault(unit.post, []).append(unit)
    for quote in graph.document.quotes:  # a quote that overlaps a unit (imported annotations) is not set apart
        if not any(u.start < quote.end and quote.start < u.end for u in marks_by_post.get(quote.post, [])):
            marks_by_post.setdefault(quote.post, []).append(quote)
    depth = _depths(graph)
    out = []
    for post in graph.posts:
        pieces, cursor = [], post.start
        for mark in sorted(marks_by_post.get(post.id, []), key=lambda m: m.start):
            pieces.append(_escape(graph.text[cursor : mark.start]))
            if isinstance(mark, Quote):
                pieces.append(_quote_span(graph.text, mark))
            else:
                pieces.append(
                    f'<span class="unit" id="unit-{_escape(mark.id)}" data-unit="{_escape(mark.id)}" '
                    f'style="--c:{colour[post.id]}">{_escape(graph.text[mark.start : mark.end])}</span>'
                )
            cursor = mark.end
        pieces.append(_escape(graph.text[cursor : post.end]))
        who = f" · {_escape(post.author)}" if post.author else ""
        label = post.kind if post.kind != "comment" else f"comment {_escape(post.id)}"
        out.append(
            f'<article class="post {post.kind}" data-post="{_escape(post.id)}" style="--depth:{depth[post.id]};--c:{colour[post.id]}">'
            f'<div class="meta">{label}{who}</div><div class="body" dir="auto">{"".join(pieces)}</div></article>'
        )
    return "\n".join(out)


def _graph_panel(graph: Graph, colour: dict[str, str]) -> str:
    drawing = place_trees(graph)
    positions, width, height = drawing.positions, drawing.width, drawing.height
    post_of = {u.id: u.post for u in graph.units}
    texts = {u.id: u.text for u in graph.units}
    tree_edges = {(c.unit, n.unit) for t in graph.trees for n, _ in t.walk() for c in n.children}
    edges = []
    for k, rel in enumerate(graph.relations):
        a, b = positions[rel.source], positions[rel.target]
        # shorten the line to the circles' rims; a relation outside the trees bends
        dx, dy = b.x - a.x, b.y - a.y
        length = max((dx * dx + dy * dy) ** 0.5, 1e-6)
        x1, y1 = a.x + dx / length * NODE_R, a.y + dy / length * NODE_R
        x2, y2 = b.x - dx / length * (NODE_R + 3), b.y - dy / length * (NODE_R + 3)
        if (rel.source, rel.target) in tree_edges:
            d = f"M{x1:.1f},{y1:.1f} L{x2:.1f},{y2:.1f}"
        else:
            mx, my = (x1 + x2) / 2 - dy * 0.25, (y1 + y2) / 2 + dx * 0.25
            d = f"M{x1:.1f},{y1:.1f} Q{mx:.1f},{my:.1f} {x2:.1f},{y2:.1f}"
        verb = "supports" if rel.label == "support" else "attacks"
        edges.append(
            f'<path class="edge {rel.label}" id="edge-{k}" d="{d}" data-source="{_escape(rel.source)}" '
            f'data-target="{_escape(rel.target)}" data-score="{rel.score}" marker-end="url(#arrow-{rel.label})">'
            f"<title>{_escape(rel.source)} {verb} {_escape(rel.target)}: score {rel.score:.2f}</title></path>"
        )
    nodes = []
    for unit_id, p in positions.items():
        nodes.append(
            f'<g class="node" id="node-{_escape(unit_id)}" data-unit="{_escape(unit_id)}" transform="translate({p.x:.1f},{p.y:.1f})">'
            f'<circle r="{NODE_R}" style="fill:{colour[post_of[unit_id]]}"></circle>'
            f'<text text-anchor="middle" dy="0.35em">{_escape(unit_id)}</text>'
            f"<title>{_escape(unit_id)} ({_escape(post_of[unit_id])}): {_escape(texts[unit_id][:200])}</title></g>"
        )
    markers = "".join(
        f'<marker id="arrow-{label}" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="11" markerHeight="11" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" class="head {label}"></path></marker>'
        for label in ("support", "attack")
    )
    return (
        f'<svg id="graph-svg" width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'xmlns="http://www.w3.org/2000/svg"><defs>{markers}</defs><g class="edges">{"".join(edges)}</g>'
        f'<g class="nodes">{"".join(nodes)}</g></svg>'
    )


def _data(graph: Graph) -> str:
    """The graph for the page's script: JSON with ``<``, ``>`` and ``&`` escaped (nothing can close the script)."""
    data = {
        "units": [{"id": u.id, "post": u.post, "text": u.text} for u in graph.units],
        "relations": [{"source": r.source, "target": r.target, "label": r.label, "score": r.score} for r in graph.relations],
    }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


STYLE = """
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;display:flex;flex-direction:column;height:100vh}
header{padding:8px 14px;border-bottom:1px solid #ddd;display:flex;gap:18px;align-items:center;flex-wrap:wrap;background:#fafafa}
header h1{font-size:15px;margin:0}
.legend{display:flex;gap:12px;align-items:center;color:#555}
.legend svg{vertical-align:middle}
main{flex:1;display:flex;min-height:0}
#text{flex:1 1 45%;overflow:auto;padding:12px 16px;border-right:1px solid #ddd}
#graph{flex:1 1 55%;overflow:auto;background:#fcfcfc}
.post{margin:0 0 12px calc(var(--depth) * 22px);padding:6px 10px;border-left:4px solid var(--c);background:#fff}
.post.title .body{font-size:18px;font-weight:600}
.meta{font-size:12px;color:#777}
.body{white-space:pre-wrap;overflow-wrap:anywhere}
.unit{background:color-mix(in srgb,var(--c) 30%,transparent);border-radius:3px;cursor:pointer;unicode-bidi:isolate}
.unit:hover,.unit.hover{outline:2px solid #555}
.unit.selected{background:color-mix(in srgb,var(--c) 75%,transparent);outline:2px solid #000}
.edge{fill:none;stroke-width:2}
.edge.support{stroke:#1b7837}
.edge.attack{stroke:#c51b7d;stroke-dasharray:6 4}
.head.support{fill:#1b7837}.head.attack{fill:#c51b7d}
.edge.hidden{display:none}
.edge.lit{stroke-width:4}
.node{cursor:pointer}
.node circle{stroke:#333;stroke-width:1}
.node text{font-size:10px;pointer-events:none}
.node.selected circle{stroke:#000;stroke-width:4}
#tip{position:fixed;display:none;max-width:420px;background:#fff;border:1px solid #999;padding:6px 8px;font-size:12px;box-shadow:0 2px 6px rgba(0,0,0,.2);pointer-events:none;z-index:10}
#tip .support{color:#1b7837}#tip .attack{color:#c51b7d}
"""

SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("argmine-data").textContent);
  var units = {}, out = {}, into = {};
  data.units.forEach(function (u) { units[u.id] = u; out[u.id] = []; into[u.id] = []; });
  data.relations.forEach(function (r, k) { r.k = k; out[r.source].push(r); into[r.target].push(r); });
  var slider = document.getElementById("slider"), shown = document.getElementById("slider-value");
  var tip = document.getElementById("tip");
  function byId(id) { return document.getElementById(id); }
  function short(t) { return t.length > 90 ? t.slice(0, 89) + "\u2026" : t; }
  function visible(r) { return r.score >= parseFloat(slider.value); }
  function select(id, scrollText, scrollGraph) {
    document.querySelectorAll(".selected").forEach(function (e) { e.classList.remove("selected"); });
    var span = byId("unit-" + id), node = byId("node-" + id);
    if (span) { span.classList.add("selected"); if (scrollText) span.scrollIntoView({block: "center"}); }
    if (node) { node.classList.add("selected"); if (scrollGraph) node.scrollIntoView({block: "center", inline: "center"}); }
  }
  function light(id, on) {
    out[id].concat(into[id]).forEach(function (r) { var e = byId("edge-" + r.k); if (e) e.classList.toggle("lit", on); });
  }
  function describe(id) {
    var lines = [];
    out[id].filter(visible).forEach(function (r) {
      lines.push([r.label, (r.label === "support" ? "supports " : "attacks ") + r.target + " (" + r.score.toFixed(2) + "): " + short(units[r.target].text)]);
    });
    into[id].filter(visible).forEach(function (r) {
      lines.push([r.label, (r.label === "support" ? "supported by " : "attacked by ") + r.source + " (" + r.score.toFixed(2) + "): " + short(units[r.source].text)]);
    });
    tip.textContent = "";
    var head = document.createElement("b"); head.textContent = id; tip.appendChild(head);
    if (!lines.length) { tip.appendChild(document.createTextNode(": no relation above the slider")); }
    lines.forEach(function (l) {
      var div = document.createElement("div"); div.className = l[0]; div.textContent = l[1]; tip.appendChild(div);
    });
  }
  document.querySelectorAll(".unit").forEach(function (span) {
    var id = span.dataset.unit;
    span.addEventListener("mouseenter", function (ev) { describe(id); tip.style.display = "block"; light(id, true); });
    span.addEventListener("mousemove", function (ev) { tip.style.left = (ev.clientX + 14) + "px"; tip.style.top = (ev.clientY + 14) + "px"; });
    span.addEventListener("mouseleave", function () { tip.style.display = "none"; light(id, false); });
    span.addEventListener("click", function () { select(id, false, true); });
  });
  document.querySelectorAll(".node").forEach(function (node) {
    var id = node.dataset.unit;
    node.addEventListener("click", function () { select(id, true, false); });
    node.addEventListener("mouseenter", function () { light(id, true); });
    node.addEventListener("mouseleave", function () { light(id, false); });
  });
  function filter() {
    var n = 0, attacks = 0;
    data.relations.forEach(function (r) {
      var keep = visible(r), e = byId("edge-" + r.k);
      if (e) e.classList.toggle("hidden", !keep);
      if (keep) { n += 1; if (r.label === "attack") attacks += 1; }
    });
    shown.textContent = parseFloat(slider.value).toFixed(2);
    byId("count-relations").textContent = n;
    byId("count-attacks").textContent = attacks;
  }
  slider.addEventListener("input", filter);
  filter();
  document.body.dataset.ready = "1";
})();
"""


def post_colours(count: int) -> list[str]:
    """``count`` colours for the posts in order: the palette, then light hues a golden angle apart at three
    lightnesses and saturations, each new. No colour comes back before about 4,600 posts (then they cycle)."""
    colours, seen = PALETTE[:count], set(PALETTE)
    for n in range(50_000):
        if len(colours) >= count:
            break
        hue, light, sat = (n * 137.508) % 360 / 360, (0.62, 0.72, 0.82)[n % 3], (0.45, 0.6, 0.75)[n // 3 % 3]
        colour = "#" + "".join(f"{round(c * 255):02x}" for c in colorsys.hls_to_rgb(hue, light, sat))
        if colour not in seen:
            seen.add(colour)
            colours.append(colour)
    return [colours[k % len(colours)] for k in range(count)]


def dump(graph: Graph) -> str:
    """The HTML page of one graph."""
    colour = dict(zip((p.id for p in graph.posts), post_colours(len(graph.posts))))
    attacks = sum(r.label == "attack" for r in graph.relations)
    title = _escape(graph.id or graph.document.source_path)
    legend = (
        '<span class="legend"><svg width="34" height="10"><line x1="0" y1="5" x2="34" y2="5" stroke="#1b7837" stroke-width="2"/></svg>support'
        '<svg width="34" height="10"><line x1="0" y1="5" x2="34" y2="5" stroke="#c51b7d" stroke-width="2" stroke-dasharray="6 4"/></svg>attack'
        " · node colour = post · arrows point at the unit supported or attacked</span>"
    )
    counts = (
        f'<span class="counts"><b id="count-units">{len(graph.units)}</b> units · <b id="count-relations">{len(graph.relations)}</b>'
        f' of {len(graph.relations)} relations · <b id="count-attacks">{attacks}</b> attacks</span>'
    )
    slider = (
        '<label>min. score <input type="range" id="slider" min="0" max="1" step="0.01" value="0">'
        ' <output id="slider-value">0.00</output></label>'
    )
    model = _escape(str(graph.model.get("name", "")))
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>argmine: {title}</title><style>{STYLE}</style></head>\n"
        f"<body><header><h1>{title}</h1>{counts}{slider}{legend}"
        f'<span class="meta">model: {model} · {_escape(graph.generator)}</span></header>\n'
        f'<main><section id="text">{_text_panel(graph, colour)}</section>\n'
        f'<section id="graph">{_graph_panel(graph, colour)}</section></main><div id="tip"></div>\n'
        f'<script type="application/json" id="argmine-data">{_data(graph)}</script>\n'
        f"<script>{SCRIPT}</script></body></html>\n"
    )


FORMAT = Format("html", "a self-contained page to look at", dump, media_type="text/html")

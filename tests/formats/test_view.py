"""The HTML view: escaped, self-contained, and checked in a real browser (headless Chromium)."""

import dataclasses
import json
import re
import shutil

import pytest
from typer.testing import CliRunner

import argmine
from argmine.cli import app

runner = CliRunner()

THREAD = {
    "id": "view-test",
    "title": "Ban cars 🚗 downtown?",
    "article": {
        "text": "The council wants to ban cars downtown.\r\nShops fear they will lose customers because parking disappears.",
        "author": "Metro Desk",
    },
    "comments": [
        {"id": "c1", "author": "Ana", "text": "No, that is wrong <script>alert('x')</script> because buses replace cars."},
        {"id": "c2", "parent": "c1", "author": "Ben", "text": "Agreed 🎉 and the air gets cleaner </div> for everyone."},
        {"id": "c3", "author": "شهد", "text": "القرار جيد للمدينة. Cyclists will be safer too."},
    ],
}
SCORES = (0.15, 0.35, 0.55, 0.75, 0.95)


@pytest.fixture(scope="module")
def graph(make_model):
    """A real graph of the thread, with every other relation turned into an attack and spread scores."""
    graph = argmine.analyze(json.dumps(THREAD, ensure_ascii=False), model=str(make_model("argmine", "support")))
    assert len(graph.relations) >= 4
    graph.relations = [
        dataclasses.replace(r, label="attack" if k % 2 else "support", score=SCORES[k % len(SCORES)])
        for k, r in enumerate(graph.relations)
    ]
    return graph


def test_text_is_escaped_and_the_page_is_self_contained(graph):
    page = argmine.export([graph], "html")
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert page.count("<script") == 2  # the page's data and its code, nothing from the thread
    assert "</div> for everyone" not in page and "&lt;/div&gt; for everyone" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched from the network
    assert "&#13;\n" in page  # CR kept as a character reference: the page's text equals the thread's


def test_view_command_and_analyze_format_html_write_the_same_page(graph, tmp_path, make_model):
    model = make_model("argmine", "support")
    source = tmp_path / "thread.json"
    source.write_text(json.dumps(THREAD, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["analyze", str(source), "--model", str(model), "-o", str(tmp_path / "g.json"), "-q"])
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(app, ["view", str(tmp_path / "g.json"), "-o", str(tmp_path / "view.html")])
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(
        app, ["analyze", str(source), "--model", str(model), "--format", "html", "-o", str(tmp_path / "a.html"), "-q"]
    )
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "view.html").read_bytes() == (tmp_path / "a.html").read_bytes()
    result = runner.invoke(app, ["view", str(tmp_path / "g.json"), "-o", str(tmp_path)])
    assert result.exit_code == 2 and "it is a folder" in result.stderr


def test_trees_are_drawn_in_layers(graph):
    from argmine.formats.html import LAYER, place_trees

    drawing = place_trees(graph)
    positions = drawing.positions
    assert set(positions) == {u.id for u in graph.units} and drawing.width > 0 and drawing.height > 0
    for tree in graph.trees:
        for node, _ in tree.walk():
            for child in node.children:  # a child sits one layer below its parent
                assert positions[child.unit].y - positions[node.unit].y == pytest.approx(LAYER)


def chromium():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium); .ci/run installs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    return path, sync_api


@pytest.mark.slow  # a headless browser
def test_the_view_in_a_real_browser(graph, tmp_path):
    path, sync_api = chromium()
    page_file = tmp_path / "view.html"
    page_file.write_text(argmine.export([graph], "html"), encoding="utf-8")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 700})
        problems = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
        page.goto(page_file.as_uri())
        page.wait_for_selector("body[data-ready='1']")
        # every unit is highlighted with exactly its text (emoji, RTL and CRLF included)
        for unit in graph.units:
            assert page.text_content(f"#unit-{unit.id}") == unit.text
        assert page.locator(".unit").count() == len(graph.units)
        # the injected script is text, not a script
        assert page.locator("script").count() == 2
        assert "<script>alert('x')</script>" in page.text_content("#text")
        # every relation is drawn, support and attack in their own styles
        for k, rel in enumerate(graph.relations):
            edge = page.locator(f"#edge-{k}")
            assert edge.get_attribute("data-source") == rel.source and edge.get_attribute("data-target") == rel.target
            assert rel.label in edge.get_attribute("class")
        styles = page.evaluate(
            "() => ['support', 'attack'].map(l => { const e = document.querySelector('.edge.' + l);"
            " const s = getComputedStyle(e); return [s.stroke, s.strokeDasharray]; })"
        )
        assert styles[0][0] != styles[1][0] and styles[0][1] == "none" and styles[1][1] != "none"
        # clicking a node selects its unit and scrolls the text to it; clicking a unit selects its node
        last = graph.units[-1].id
        page.click(f"#node-{last}")
        assert "selected" in page.get_attribute(f"#unit-{last}", "class")
        assert "selected" in page.get_attribute(f"#node-{last}", "class")
        text_box, unit_box = page.locator("#text").bounding_box(), page.locator(f"#unit-{last}").bounding_box()
        assert text_box["y"] <= unit_box["y"] <= text_box["y"] + text_box["height"]
        first = graph.units[0].id
        page.click(f"#unit-{first}")
        assert "selected" in page.get_attribute(f"#node-{first}", "class")
        # hovering a unit lists its relations
        source = graph.relations[0].source
        page.hover(f"#unit-{source}")
        assert page.is_visible("#tip") and graph.relations[0].target in page.text_content("#tip")
        # the slider hides relations below it; the counts follow
        page.evaluate(
            "v => { const s = document.getElementById('slider'); s.value = v; s.dispatchEvent(new Event('input')); }", "0.5"
        )
        kept = [r for r in graph.relations if r.score >= 0.5]
        assert page.locator(".edge:not(.hidden)").count() == len(kept)
        assert page.text_content("#count-relations") == str(len(kept))
        assert page.text_content("#count-attacks") == str(sum(r.label == "attack" for r in kept))
        browser.close()
    assert problems == []


def test_every_post_of_a_long_thread_gets_its_own_colour(make_model):
    from argmine.formats.html import PALETTE, post_colours

    thread = {"article": {"text": "Cars pollute the air."}, "comments": []}
    thread["comments"] = [{"id": f"c{i}", "text": f"Comment {i} says buses pollute too."} for i in range(24)]
    graph = argmine.analyze(json.dumps(thread), model=str(make_model("argmine", "support")))
    page = argmine.export([graph], "html")
    colours = [re.search(rf'data-post="{p.id}" style="[^"]*--c:(#[0-9a-f]{{6}})', page).group(1) for p in graph.posts]
    assert len(colours) == 25 and len(set(colours)) == 25
    assert colours[:10] == PALETTE  # a thread of up to ten posts looks as before
    assert len(set(post_colours(4000))) == 4000

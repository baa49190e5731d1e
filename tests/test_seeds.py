"""Optional checks on the shared seed texts; skipped when ../shared is absent."""

import importlib.util
import json

import pytest

from argmine.reading.readers import read_input
from argmine.settings import load_settings
from argmine.units.segmenter import segment

CFG = load_settings()


def seed(shared, prefix):
    return next((shared / "seeds").glob(f"{prefix}_*.txt"))


def segmented(shared, prefix):
    return segment(read_input(str(seed(shared, prefix)), CFG)[0].document, CFG.segmenter, CFG.boilerplate)


def test_seed_002_posts_and_units_match_gold(shared, tiny_model, tmp_path):
    from typer.testing import CliRunner

    from argmine.cli import app
    from argmine.graph import validate

    out = tmp_path / "graph.json"
    result = CliRunner().invoke(app, ["analyze", str(seed(shared, "002")), "--model", str(tiny_model), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.stderr
    graph = json.loads(out.read_text(encoding="utf-8"))
    validate(graph)
    kinds = [p["kind"] for p in graph["posts"]]
    assert kinds == ["article"] + ["comment"] * 8
    spec = importlib.util.spec_from_file_location("score", shared / "tools" / "score.py")
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)
    gold = json.loads((shared / "gold" / "002.gold.json").read_text(encoding="utf-8"))
    s = score.score(gold, graph)
    assert s["units"]["f1"] >= 0.85
    assert s["post_kind_agreement"] == 1.0


@pytest.mark.parametrize("prefix", ["000", "001", "003"])
def test_other_seeds_have_no_comments(shared, prefix):
    doc = segmented(shared, prefix)
    assert "comment" not in {p.kind for p in doc.posts}
    assert len(doc.units) > 20


def test_seed_001_title_and_no_dateline(shared):
    doc = segmented(shared, "001")
    assert doc.posts[0].kind == "title" and doc.units[0].post == "title"
    assert not any("—" in u.text[:12] and u.text[:5].isupper() for u in doc.units)
    assert not any(u.text.startswith("PARIS") for u in doc.units)


def test_seed_003_subscription_appeal_is_not_a_unit(shared):
    doc = segmented(shared, "003")
    assert not any("subscrib" in u.text.lower() or "journalism" in u.text.lower() for u in doc.units)

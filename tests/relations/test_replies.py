"""The answered-post link: candidate posts, pair features, the listwise scorer, decoding and the parser's use of it."""

import math

import numpy as np
import pytest

import argmine
from argmine.decoding.trees import Decision, ReplyChoice, decode_parse
from argmine.document import PostText, Quote, join_posts
from argmine.errors import ModelError
from argmine.relations.parser import ROOT, Parse
from argmine.relations.replies import (
    FEATURES,
    MAX_SOURCES,
    MAX_TARGETS,
    POST_FEATURES,
    LinkScorer,
    answerable,
    build_slots,
)
from argmine.training.links import LinkExample, fit_scorer
from argmine.units.segmenter import segment
from tests.conftest import FIXTURES

COL = {name: j for j, name in enumerate(FEATURES)}


def _thread(flat: bool = False):
    parts = [
        PostText("title", "title", "Council approves the new bridge"),
        PostText("article", "article", "The council approved the bridge. It will cost ten million. Work starts in May.", "title"),
        PostText("c1", "comment", "Ten million is far too much for a bridge.", "article"),
        PostText("c2", "comment", "No, the bridge will pay for itself. Traffic costs more.", "article" if flat else "c1"),
    ]
    doc = join_posts("t", parts, flat=flat)
    return segment(doc, argmine.load_settings().segmenter)


def _embeddings(doc, close: dict[int, int] | None = None, seed: int = 0) -> np.ndarray:
    """Random unit vectors; ``close`` makes unit a nearly the same vector as unit b."""
    rng = np.random.default_rng(seed)
    emb = rng.normal(size=(len(doc.units), 16)).astype(np.float32)
    for a, b in (close or {}).items():
        emb[a] = emb[b] + 0.01 * rng.normal(size=16)
    return emb / np.linalg.norm(emb, axis=1, keepdims=True)


def test_a_reply_may_link_to_what_it_answers_the_post_before_that_and_the_title():
    ctx = answerable(_thread())
    assert ctx["c2"] == [("c1", "answered_above"), ("article", "two_back"), ("title", "title")]
    assert ctx["c1"] == [("article", "answered_above"), ("title", "title")]
    assert "title" not in ctx
    flat = answerable(_thread(flat=True))  # plain text: the comment above is a candidate besides the article
    assert flat["c2"] == [("article", "answered"), ("c1", "above"), ("title", "title")]


def test_pair_features_mark_the_most_similar_candidate_positions_and_quotes():
    doc = _thread()
    units = doc.units
    c2 = [i for i, u in enumerate(units) if u.post == "c2"]
    c1 = [i for i, u in enumerate(units) if u.post == "c1"]
    emb = _embeddings(doc, close={c2[0]: c1[0]})
    slot = next(s for s in build_slots(doc, emb, quoted={"c2": {units[c1[0]].id}}) if s.post == "c2")
    n = len(slot.targets)
    assert slot.sources == c2 and set(c1) <= set(slot.targets)
    assert slot.pair_features.shape == (len(c2) * n, len(FEATURES)) and slot.post_features.shape == (len(POST_FEATURES),)
    row = slot.pair_features[slot.targets.index(c1[0])]  # source c2[0], target c1[0]
    assert row[COL["emb_best"]] == 1 and row[COL["emb_rank"]] == 1 and row[COL["emb"]] > 0.99
    assert row[COL["quoted"]] == 1 and row[COL["post_answered_above"]] == 1 and row[COL["s_first"]] == 1
    others = [slot.pair_features[b] for b in range(n) if b != slot.targets.index(c1[0])]
    assert all(r[COL["emb_best"]] == 0 and r[COL["quoted"]] == 0 for r in others)
    # without a parse the parser's features are marked missing
    assert (slot.pair_features[:, COL["parser_arc_missing"]] == 1).all()


def test_a_long_reply_and_a_long_answered_post_are_bounded():
    article = " ".join(f"Claim number {k} is about the bridge." for k in range(MAX_TARGETS + 30))
    reply = " ".join(f"Point {k} disputes the bridge." for k in range(MAX_SOURCES + 5))
    doc = segment(
        join_posts("long", [PostText("a", "article", article), PostText("c", "comment", reply, "a")]),
        argmine.load_settings().segmenter,
    )
    a_units = [i for i, u in enumerate(doc.units) if u.post == "a"]
    (slot,) = build_slots(doc, _embeddings(doc))
    assert len(slot.sources) == MAX_SOURCES and len(slot.targets) == MAX_TARGETS
    assert a_units[0] in slot.targets and a_units[-1] in slot.targets


def _synthetic(rng, n_slots: int) -> list[LinkExample]:
    """Slots where the gold target is the most similar candidate, and no link when nothing is similar."""
    from argmine.relations.replies import Slot

    out = []
    for k in range(n_slots):
        n = int(rng.integers(2, 7))
        rows = np.zeros((n, len(FEATURES)), dtype=np.float32)
        rows[:, COL["emb"]] = rng.uniform(0.0, 0.4, n)
        linked = k % 3 != 0
        if linked:
            rows[int(rng.integers(n)), COL["emb"]] = rng.uniform(0.7, 1.0)
        post = np.zeros(len(POST_FEATURES), dtype=np.float32)
        post[0] = 1.0
        post[1] = rows[:, COL["emb"]].max()
        gold = [int(rows[:, COL["emb"]].argmax())] if linked else []
        out.append(LinkExample(Slot("p", [0], list(range(n)), rows, post), gold, "synthetic"))
    return out


def test_the_listwise_scorer_learns_which_candidate_and_whether_to_link_and_round_trips():
    rng = np.random.default_rng(1)
    scorer = fit_scorer(_synthetic(rng, 240), epochs=15)
    held = _synthetic(rng, 90)
    right = 0
    for e in held:
        p = scorer.probabilities(e.slot)
        assert math.isclose(p.sum(), 1.0, rel_tol=1e-5)
        pick = int(p.argmax())
        right += (pick == len(p) - 1) if not e.gold else (pick == e.gold[0])
    assert right / len(held) > 0.9
    again = LinkScorer.from_dict(scorer.to_dict())
    assert np.allclose(again.probabilities(held[0].slot), scorer.probabilities(held[0].slot), atol=1e-5)
    stale = scorer.to_dict()
    stale["features"] = stale["features"][:-1]
    with pytest.raises(ModelError, match="other features"):
        LinkScorer.from_dict(stale)


def _parse_with_reply(doc, choice: ReplyChoice) -> Parse:
    lp = math.log
    post_of = [u.post for u in doc.units]
    arcs = {}
    for d in range(len(doc.units)):
        heads = {ROOT: lp(0.2)}
        for h in range(len(doc.units)):
            if h != d and (post_of[h] == post_of[d] or h < d):
                heads[h] = lp(0.9 if h == 0 else 0.05)  # every unit would hang on the title, across posts
        arcs[d] = heads
    labels = {(d, h): (0.3, 0.7) for d in arcs for h in arcs[d] if h >= 0}
    return Parse(arcs=arcs, labels=labels, replies=[choice], post_of=post_of)


def _members(doc) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, u in enumerate(doc.units):
        out.setdefault(u.post, []).append(i)
    return out


def test_the_reply_link_replaces_the_parsers_heads_across_posts():
    doc = _thread()
    units = doc.units
    c1, c2 = _members(doc)["c1"], _members(doc)["c2"]
    parse = _parse_with_reply(doc, ReplyChoice("c2", c2[0], c1[0], 0.8))
    relations, tree = decode_parse(doc, parse, Decision.default(threshold=0.0, reply_threshold=0.5))
    cross = [r for r in relations if r.source in {units[i].id for i in c2} and r.target not in {units[i].id for i in c2}]
    assert [(r.source, r.target, r.label) for r in cross] == [(units[c2[0]].id, units[c1[0]].id, "attack")]
    assert math.isclose(cross[0].score, round(0.8 * 0.7, 4))
    # no unit of the replies takes a head in another post from the parser's arcs (the title, here)
    for child, edge in tree.items():
        post = next(u.post for u in units if u.id == child)
        if post in ("c1", "c2") and edge.source != units[c2[0]].id:
            assert next(u.post for u in units if u.id == edge.target) == post
    # below the reply threshold the link stays in the tree but is no relation
    relations, tree = decode_parse(doc, parse, Decision.default(threshold=0.0, reply_threshold=0.6))
    assert tree[units[c2[0]].id].target == units[c1[0]].id
    assert all(r.source != units[c2[0]].id for r in relations)


def test_a_link_from_a_unit_below_its_posts_root_is_a_relation_beside_the_tree():
    doc = _thread()
    units = doc.units
    c2, article = _members(doc)["c2"], _members(doc)["article"]
    parse = _parse_with_reply(doc, ReplyChoice("c2", c2[1], article[1], 0.9))
    lp = math.log
    parse.arcs[c2[1]] = {ROOT: lp(0.01), c2[0]: lp(0.99)}  # c2's second unit sits under its first
    relations, tree = decode_parse(doc, parse, Decision.default(threshold=0.0, reply_threshold=0.0))
    assert tree[units[c2[1]].id].target == units[c2[0]].id
    assert any(r.source == units[c2[1]].id and r.target == units[article[1]].id for r in relations)
    assert units[c2[0]].id not in tree  # the post's root stays a root


def test_a_quote_points_the_link_features_at_the_unit_it_repeats():
    text_doc = _thread()
    units = text_doc.units
    c1_unit = next(u for u in units if u.post == "c1")
    c2 = text_doc.post("c2")
    doc = text_doc.__class__(
        text_doc.id, text_doc.text, text_doc.posts, units, quotes=[Quote("c2", c2.start, c2.start + 2, c1_unit.id)]
    )
    slot = next(s for s in build_slots(doc, _embeddings(doc)) if s.post == "c2")
    b = slot.targets.index(units.index(c1_unit))
    assert slot.pair_features[b, COL["quoted"]] == 1 and slot.post_features[POST_FEATURES.index("quotes")] == 1


@pytest.fixture(scope="module")
def linked_parser(tiny_parser, tmp_path_factory):
    """The tiny parser with a reply-link scorer trained by ``fit_links`` on fixture threads and reply pairs."""
    import shutil

    from argmine.evaluation.corpora import CORPORA
    from argmine.relations.parser import ArgumentParser
    from argmine.training.links import fit_links

    folder = tmp_path_factory.mktemp("linked") / "parser"
    shutil.copytree(tiny_parser, folder)
    parser = ArgumentParser.load(folder, "cpu")
    parser.folder = folder
    graphs = CORPORA["qt30"].read(FIXTURES / "corpora" / "qt30")
    replies = CORPORA["reply-agreement"].read(FIXTURES / "corpora" / "reply-agreement")
    parser.links = fit_links(parser, graphs, replies, argmine.load_settings(), log=lambda m: None, epochs=5)
    parser.save(folder)
    return folder


def test_a_parser_with_a_link_scorer_links_each_reply_at_most_once_end_to_end(linked_parser):
    from argmine.relations.parser import ArgumentParser

    parser = ArgumentParser.load(linked_parser, "cpu")
    assert parser.links is not None
    graph = argmine.analyze(
        FIXTURES / "thread.json",
        model=parser,
        settings=argmine.load_settings(overrides={"relations": {"threshold": 0.0, "reply_threshold": 0.0}}),
    )
    post = {u.id: u.post for u in graph.document.units}
    cross = [r for r in graph.relations if post[r.source] != post[r.target]]
    assert len({post[r.source] for r in cross}) == len(cross)  # one answered-post link per post
    again = argmine.analyze(
        FIXTURES / "thread.json",
        model=parser,
        settings=argmine.load_settings(overrides={"relations": {"threshold": 0.0, "reply_threshold": 0.0}}),
    )
    assert again.to_json() == graph.to_json()


def test_evaluate_reports_target_accuracy_beside_four_baselines(linked_parser):
    from argmine.evaluation.corpora import CORPORA
    from argmine.evaluation.metrics import evaluate_reply_links
    from argmine.relations.parser import ArgumentParser

    graphs = CORPORA["qt30"].read(FIXTURES / "corpora" / "qt30")
    report = evaluate_reply_links(graphs, ArgumentParser.load(linked_parser, "cpu"))
    assert report["gold_links"] == 2 and report["reachable"] == 2
    assert set(report["target_top1"]) == {
        "model",
        "answered post's first unit",
        "answered post's last unit",
        "most similar (embeddings)",
        "most similar (TF-IDF)",
    }
    # every turn of the fixture has one unit: its first and last unit are the gold target
    assert report["target_top1"]["answered post's first unit"] == 1.0
    assert "f1" in report["no_link"]


def test_argmine_evaluate_prints_the_link_beside_its_baselines(linked_parser):
    import json

    from typer.testing import CliRunner

    from argmine.cli import app

    args = ["evaluate", str(FIXTURES / "corpora" / "qt30"), "--format", "qt30", "--mode", "gold", "--split", "all"]
    result = CliRunner().invoke(app, [*args, "--model", str(linked_parser), "--json"])
    assert result.exit_code == 0, result.stderr
    links = json.loads(result.stdout)["reply_links"]
    assert links["gold_links"] == 2 and set(links["target_top1"]) >= {"model", "answered post's last unit"}
    table = CliRunner().invoke(app, [*args, "--model", str(linked_parser)])
    assert table.exit_code == 0 and "answered-post link (gold units): target top-1 among 2 gold" in table.stdout


def test_adapting_with_link_epochs_fine_tunes_the_answered_post_link_from_its_weights(linked_parser, tmp_path):
    import json

    from argmine.evaluation.corpora import read_qt30
    from argmine.relations.replies import read_links
    from argmine.training.adapt import AdaptPlan, adapt

    threads = read_qt30(FIXTURES / "corpora" / "qt30")
    plan = AdaptPlan(epochs=1, mix=0.0, link_epochs=3, rechoose_on_train=False)
    out = adapt(linked_parser, threads, tmp_path / "a", argmine.load_settings(), plan, log=lambda m: None)
    before, after = read_links(linked_parser), read_links(out)
    assert before["mean"] == after["mean"]  # the same standardisation: it started from the trained scorer
    assert before["w1"] != after["w1"]  # and learned from the threads' replies
    stored = json.loads((out / "argmine_parser.json").read_text())["adapted"]
    assert stored["answered_post_link"].startswith("fine-tuned on")
    kept = adapt(
        linked_parser, threads, tmp_path / "b", argmine.load_settings(), AdaptPlan(epochs=1, mix=0.0), log=lambda m: None
    )
    assert read_links(kept)["w1"] == before["w1"]  # by default the link is kept as it was

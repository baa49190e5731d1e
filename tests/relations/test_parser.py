"""The contextual parser: windows, decoding, the relation-model contract, training and cross-validation."""

import json
import math

import pytest
import torch
from typer.testing import CliRunner

import argmine
from argmine.cli import app
from argmine.decoding.trees import Decision, decode_parse
from argmine.document import PostText, join_posts
from argmine.relations.parser import ROOT, ArgumentParser, Parse, build_windows, context_posts
from argmine.units.segmenter import segment
from tests.conftest import EXAMPLE, FIXTURES

C = FIXTURES / "corpora"
runner = CliRunner()


def _thread(n_article: int = 3):
    article = " ".join(f"The council approved plan number {k} for the town." for k in range(n_article))
    parts = [
        PostText("title", "title", "Council approves the new plans"),
        PostText("article", "article", article, "title"),
        PostText("c1", "comment", "The plans are a waste of money. Nobody asked for them.", "article"),
        PostText("c2", "comment", "No, the plans help the town because traffic is awful.", "c1"),
    ]
    doc = join_posts("t", parts)
    return segment(doc, argmine.load_settings().segmenter)


def test_every_unit_is_scored_in_one_window_and_heads_come_from_posts_it_may_answer(tiny_parser):
    parser = ArgumentParser.load(tiny_parser, "cpu")
    doc = _thread(n_article=12)  # the article needs several 64-token windows
    windows = build_windows(doc, parser.tokenizer, parser.cfg)
    deps = [d for w in windows for d in w.dependents]
    assert sorted(deps) == list(range(len(doc.units)))
    assert len([w for w in windows if w.post == "article"]) > 1
    ctx = context_posts(doc)
    assert ctx["c2"] == ["title", "c1"] and ctx["article"] == ["title"] and ctx["title"] == []
    for w in windows:
        assert len(w.input_ids) <= parser.cfg.max_length
        allowed = {w.post, *ctx[w.post]}
        assert {doc.units[h].post for h in w.heads} <= allowed
        for i, (s, e) in w.spans.items():  # pooled tokens are the unit's own
            assert parser.tokenizer.decode(w.input_ids[s:e]).split()[0] in doc.units[i].text.lower()


def test_with_whole_posts_a_long_post_s_units_may_take_heads_in_its_other_windows(tiny_parser):
    from dataclasses import replace

    parser = ArgumentParser.load(tiny_parser, "cpu")
    doc = _thread(n_article=12)
    article = [i for i, u in enumerate(doc.units) if u.post == "article"]
    (windowed,) = parser.parse([doc], links=False)
    parser.cfg = replace(parser.cfg, whole_posts=True)
    (whole,) = parser.parse([doc], links=False)
    first, last = article[0], article[-1]
    assert first not in windowed.arcs[last] and first in whole.arcs[last]  # reached across windows
    assert set(whole.arcs[last]) > set(windowed.arcs[last])
    for d in range(len(doc.units)):  # each unit's heads are still one distribution
        assert math.isclose(sum(math.exp(v) for v in whole.arcs[d].values()), 1.0, rel_tol=1e-4)
    comment = next(i for i, u in enumerate(doc.units) if u.post == "c2")  # posts in one window are untouched
    assert whole.arcs[comment] == pytest.approx(windowed.arcs[comment])


def test_decoding_takes_the_best_tree_never_a_cycle_and_thresholds_by_context():
    parts = [
        PostText("a", "article", "One claim here. Two claim here. Three claim here."),
        PostText("b", "comment", "I disagree.", "a"),
    ]
    doc = segment(join_posts("d", parts), argmine.load_settings().segmenter)
    assert [u.post for u in doc.units] == ["a", "a", "a", "b"]
    lp = math.log
    parse = Parse(
        arcs={
            0: {ROOT: lp(0.6), 1: lp(0.3), 2: lp(0.1)},
            1: {ROOT: lp(0.1), 0: lp(0.2), 2: lp(0.7)},  # 1 <-> 2 would be a cycle
            2: {ROOT: lp(0.1), 0: lp(0.1), 1: lp(0.8)},
            3: {ROOT: lp(0.3), 0: lp(0.6), 1: lp(0.05), 2: lp(0.05)},
        },
        labels={(a, b): (0.2, 0.8) if a == 3 else (0.9, 0.1) for a in range(4) for b in range(4) if a != b},
    )
    relations, tree = decode_parse(doc, parse, Decision.default(threshold=0.0, reply_threshold=0.0))
    heads = {r.source: r.target for r in tree.values()}
    assert heads == {"u2": "u3", "u3": "u1", "u4": "u1"} or heads == {"u3": "u2", "u2": "u1", "u4": "u1"}
    assert tree["u4"].label == "attack" and math.isclose(tree["u4"].score, round(0.6 * 0.8, 4))
    # the reply threshold applies across posts, the other inside
    relations, _ = decode_parse(doc, parse, Decision.default(threshold=0.0, reply_threshold=0.9))
    assert {r.source for r in relations} == {"u2", "u3"}
    relations, _ = decode_parse(doc, parse, Decision.default(threshold=0.95, reply_threshold=0.0))
    assert [r.source for r in relations] == ["u4"]


def test_a_parser_folder_analyzes_end_to_end_and_records_its_decision(tiny_parser):
    graph = argmine.analyze(FIXTURES / "thread.json", model=str(tiny_parser))
    assert graph.model["kind"] == "parser" and graph.model["threshold"] == 0.0
    again = argmine.Graph.from_json(graph.to_json())
    assert [u.id for u in again.units] == [u.id for u in graph.units]
    seen = [n.unit for tree in graph.trees for n, _ in tree.walk()]
    assert sorted(seen) == sorted(u.id for u in graph.units)  # every unit once
    post = {u.id: u.post for u in graph.units}
    order = {p.id: k for k, p in enumerate(graph.posts)}
    assert graph.relations and all(order[post[r.target]] <= order[post[r.source]] for r in graph.relations)
    assert graph.stats["pairs_scored"] > 0
    # settings override the stored thresholds; the same input gives the same bytes
    strict = argmine.load_settings(overrides={"relations": {"threshold": 1.0, "reply_threshold": 1.0}})
    assert argmine.analyze(FIXTURES / "thread.json", model=str(tiny_parser), settings=strict).relations == []
    assert argmine.analyze(FIXTURES / "thread.json", model=str(tiny_parser)).to_json() == graph.to_json()


def test_cli_runs_the_parser_and_a_pair_checkpoint_through_one_contract(tiny_parser, tiny_model):
    for model in (tiny_parser, tiny_model):
        result = runner.invoke(app, ["analyze", str(EXAMPLE), "--model", str(model), "-q"])
        assert result.exit_code == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["units"] and "threshold" in data["model"]
    limited = argmine.load_settings(overrides={"candidates": {"max_pairs": 3}})
    with pytest.raises(argmine.InputError, match="work limit"):
        argmine.analyze(EXAMPLE, model=str(tiny_parser), settings=limited)


def _recipe(base, data, epochs=1, **extra):
    return argmine.load_recipe(
        overrides={"base": str(base), "data": data, "epochs": epochs, "max_length": 64, "dim": 8, "feature_dim": 4, **extra}
    )


DATA = [
    {"name": "microtexts", "path": str(C / "microtexts")},
    {"name": "qt30", "path": str(C / "qt30")},
    {"name": "cdcp", "path": str(C / "cdcp")},
    {"name": "reply-agreement", "path": str(C / "reply-agreement")},
    {"name": "ibm-claim-stance", "path": str(C / "ibm.csv")},
]


def test_training_is_reproducible_and_the_folder_loads(tmp_path, tiny_parser):
    base = tiny_parser.parent / "base"
    recipe = _recipe(base, DATA, dev_fraction=0.0)
    first = argmine.train(tmp_path / "a", recipe, device="cpu", log=lambda m: None)
    second = argmine.train(tmp_path / "b", recipe, device="cpu", log=lambda m: None)
    assert (first / "argmine_parser.safetensors").read_bytes() == (second / "argmine_parser.safetensors").read_bytes()
    stored = json.loads((first / "argmine_parser.json").read_text())
    assert {"threshold", "reply_threshold", "config", "training"} <= set(stored)
    assert not (first / "checkpoint.pt").exists()
    graph = argmine.analyze(FIXTURES / "thread.json", model=str(first))
    assert graph.model["kind"] == "parser"


def test_an_interrupted_training_resumes_from_its_last_epoch(tmp_path, tiny_parser):
    from argmine.training.parser import Schedule, fit, graph_examples

    parser = ArgumentParser.load(tiny_parser, "cpu")
    examples = [
        e
        for g in argmine.evaluation.corpora.read_qt30(C / "qt30")
        for e in graph_examples(g, parser.tokenizer, parser.cfg, "qt30")
    ]
    opts = Schedule(1, 2, 1e-3, 1e-2, 128, weight_decay=0.01, max_grad_norm=1.0, warmup=0.06, label_weight=1.0)

    def fresh():
        p = ArgumentParser.load(tiny_parser, "cpu")
        return p.encoder, p.scorers

    whole = fresh()
    fit(*whole, examples, tmp_path, opts, torch.device("cpu"), log=lambda m: None)
    (tmp_path / "checkpoint.pt").unlink()

    def stop_after_first(message):
        if message.startswith("epoch 1"):
            raise KeyboardInterrupt

    cut = fresh()
    with pytest.raises(KeyboardInterrupt):
        fit(*cut, examples, tmp_path, opts, torch.device("cpu"), log=stop_after_first)
    lines = []
    resumed = fresh()
    fit(*resumed, examples, tmp_path, opts, torch.device("cpu"), log=lines.append)
    assert lines[0] == "resuming after epoch 1"
    for a, b in zip(whole[1].state_dict().values(), resumed[1].state_dict().values()):
        assert torch.allclose(a, b)
    (tmp_path / "checkpoint.pt").unlink()
    with pytest.raises(KeyboardInterrupt):
        fit(*fresh(), examples, tmp_path, opts, torch.device("cpu"), log=stop_after_first)
    lines = []
    other = Schedule(1, 2, 1e-3, 1e-2, 256, weight_decay=0.01, max_grad_norm=1.0, warmup=0.06, label_weight=1.0)
    fit(*fresh(), examples, tmp_path, other, torch.device("cpu"), log=lines.append)  # another recipe: no resume
    assert "from another recipe" in lines[0] and not any(m.startswith("resuming") for m in lines)


def test_cross_validation_by_text_beside_the_model_and_refused_for_pair_models(tmp_path, tiny_parser, tiny_model):
    from argmine.training.parser import cv_folds

    (gold,) = argmine.evaluation.corpora.read_microtexts(C / "microtexts")
    lines = []
    for k in range(4):
        data = json.loads(gold.to_json())
        data["id"] = f"text-{k}"
        lines.append(json.dumps(data))
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    graphs = argmine.load_graphs(str(path))
    folds = cv_folds(graphs, 2, 13)
    assert sorted(g.id for fold in folds for g in fold) == [f"text-{k}" for k in range(4)]  # each text tested once
    settings = argmine.load_settings(overrides={"evaluation": {"cv_epochs": 1}})
    report = argmine.evaluate(path, "graph", mode="gold", model=str(tiny_parser), settings=settings, cv=2)
    rows = {r["system"]: r for r in report.results}
    assert {"model", "model, 2-fold cross-validation", "baseline: previous unit"} <= set(rows)
    assert rows["model, 2-fold cross-validation"]["units"]["f1"] == 1.0
    result = runner.invoke(app, ["evaluate", str(path), "--format", "graph", "--cv", "2", "--model", str(tiny_model), "-q"])
    assert result.exit_code == 2 and "cross-validation" in result.stderr


def test_a_reply_window_keeps_the_parent_units_it_quotes_when_the_parent_is_cut(tiny_parser):
    parser = ArgumentParser.load(tiny_parser, "cpu")
    article = " ".join(f"The council approved plan number {k} for the town." for k in range(12))
    quote = "The council approved plan number 9 for the town."
    parts = [
        PostText("article", "article", article),
        PostText("c1", "comment", f"> {quote}\n\nThat plan is a waste of money.", "article"),
    ]
    doc = segment(join_posts("q", parts), argmine.load_settings().segmenter)
    (pointer,) = doc.quotes
    target = next(i for i, u in enumerate(doc.units) if u.id == pointer.target)
    assert doc.units[target].text == quote
    (window,) = [w for w in build_windows(doc, parser.tokenizer, parser.cfg) if w.post == "c1"]
    context = [h for h in window.heads if doc.units[h].post == "article"]
    assert target in context and len(context) < 12  # the article was cut, the quoted unit kept


def test_argmine_train_trains_the_parser_by_default_and_refuses_pair_options(tmp_path, tiny_parser):
    import yaml

    base = tiny_parser.parent / "base"
    recipe = tmp_path / "parser.yaml"
    recipe.write_text(yaml.safe_dump({"max_length": 64, "dim": 8, "feature_dim": 4, "dev_fraction": 0.5}), encoding="utf-8")
    args = ["train", "--config", str(recipe), "--base", str(base), "--epochs", "1", "--device", "cpu"]
    data = ["--data", f"cdcp={C / 'cdcp'}", "--data", f"ibm-claim-stance={C / 'ibm.csv'}"]
    result = runner.invoke(app, [*args, *data, "--output", str(tmp_path / "m")])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "m" / "argmine_parser.json").is_file() and "contextual argument parser" in (
        tmp_path / "m" / "README.md"
    ).read_text()
    result = runner.invoke(app, [*args, *data, "--output", str(tmp_path / "n"), "--sample", "5"])
    assert result.exit_code == 2 and "pair recipes" in result.stderr


def test_a_root_penalty_lets_a_hesitant_reply_answer_its_parent():
    parts = [PostText("a", "article", "One claim here. Two claim here."), PostText("b", "comment", "I disagree.", "a")]
    doc = segment(join_posts("d", parts), argmine.load_settings().segmenter)
    lp = math.log
    parse = Parse(
        arcs={0: {ROOT: lp(0.9), 1: lp(0.1)}, 1: {ROOT: lp(0.2), 0: lp(0.8)}, 2: {ROOT: lp(0.6), 0: lp(0.1), 1: lp(0.3)}},
        labels={(a, b): (0.3, 0.7) for a in range(3) for b in range(3) if a != b},
    )
    _, tree = decode_parse(doc, parse, Decision.default(threshold=0.0, reply_threshold=0.0))
    assert "u3" not in tree  # ROOT wins: the reply takes no side
    _, tree = decode_parse(doc, parse, Decision.default(threshold=0.0, reply_threshold=0.0, root_penalty=1.0))
    assert tree["u3"].target == "u2" and tree["u3"].label == "attack"
    assert argmine.load_settings(overrides={"relations": {"root_penalty": 1.5}}).relations.root_penalty == 1.5


def test_what_check_builds_is_what_relate_reads(tiny_parser, monkeypatch):
    import argmine.relations.parser as parser_module

    parser = ArgumentParser.load(tiny_parser, "cpu")
    settings = argmine.load_settings()
    doc = _thread(n_article=12)
    expected = parser.parse([doc])[0]
    built, quoted = [], []
    real_build, real_quoted = parser_module.build_windows, parser_module._quoted
    monkeypatch.setattr(parser_module, "build_windows", lambda *a, **k: built.append(a[0]) or real_build(*a, **k))
    monkeypatch.setattr(parser_module, "_quoted", lambda d: quoted.append(d) or real_quoted(d))
    checked = parser.check(doc, settings)
    (related,) = parser.relate([checked], settings, parser.decision(settings))
    parse = parser.parse([checked])[0]
    assert built == [doc] and quoted == [doc]  # windows and quotes built once, by check, then handed on
    assert (parse.arcs, parse.labels, parse.cut) == (expected.arcs, expected.labels, expected.cut)
    assert related.pairs_scored == expected.pairs_scored

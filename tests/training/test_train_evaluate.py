import json

import pytest
import yaml
from safetensors.torch import load_file
from typer.testing import CliRunner

import argmine
from argmine.cli import app
from tests import tiny_models
from tests.conftest import FIXTURES, fixture_texts

C = FIXTURES / "corpora"
runner = CliRunner()


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A tiny random encoder to fine-tune (stands in for MiniLM)."""
    words = tiny_models.vocabulary(fixture_texts() + [p.read_text(encoding="utf-8") for p in C.rglob("*") if p.is_file()])
    return tiny_models.build(tmp_path_factory.mktemp("base"), ["LABEL_0", "LABEL_1"], words=words)


def recipe(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "kind": "pair",
                "base": "minilm",
                "seed": 3,
                "max_length": 48,
                "batch_size": 4,
                "epochs": 1,
                "learning_rate": 1e-3,
                "warmup": 0.1,
                "none_ratio": 1.0,
                "group_none_ratio": 0.5,
                "stage2_fraction": 0.5,
                "fp16_weights": True,
                "data": [],
            }
        ),
        encoding="utf-8",
    )
    return path


def train(tmp_path, base, out):
    return runner.invoke(
        app,
        [
            "train",
            "--config",
            str(recipe(tmp_path)),
            "--base",
            str(base),
            "--output",
            str(out),
            "--device",
            "cpu",
            "--data",
            f"microtexts={C / 'microtexts'}",
            "--data",
            f"web-discourse={C / 'web-discourse'}",
            "--data",
            f"cdcp={C / 'cdcp'}",
            "--data",
            f"debatepedia={C / 'debatepedia'}",
            "--data",
            f"political-debates={C / 'political.tsv'}",
            "--data",
            f"ibm-claim-stance={C / 'ibm.csv'}",
            "--data",
            f"argkp={C / 'argkp'}",
            "--data",
            f"pairs={C / 'pairs.jsonl'}",
        ],
    )


def test_train_writes_a_loadable_reproducible_model(tmp_path, base):
    """The library and the CLI train the same model from the same recipe, byte for byte."""
    first, second = tmp_path / "m1", tmp_path / "m2"
    sources = ["microtexts", "web-discourse", "cdcp", "debatepedia", "political-debates", "ibm-claim-stance", "argkp", "pairs"]
    paths = ["microtexts", "web-discourse", "cdcp", "debatepedia", "political.tsv", "ibm.csv", "argkp", "pairs.jsonl"]
    data = [{"name": n, "path": str(C / p)} for n, p in zip(sources, paths)]
    recipe_ = argmine.load_recipe(recipe(tmp_path), {"base": str(base), "data": data})
    assert argmine.train(first, recipe_, device="cpu", log=lambda m: None) == first
    result = train(tmp_path, base, second)
    assert result.exit_code == 0, result.stderr + result.stdout
    config = json.loads((first / "config.json").read_text())
    assert config["id2label"] == {"0": "support", "1": "attack", "2": "none"}
    weights = load_file(first / "model.safetensors")
    assert all(t.dtype.is_floating_point is False or str(t.dtype) == "torch.float16" for t in weights.values())
    again = load_file(second / "model.safetensors")
    assert all((weights[k] == again[k]).all() for k in weights)
    assert (first / "argmine_scorer.json").read_text() == (second / "argmine_scorer.json").read_text()
    card = (first / "README.md").read_text()
    assert "debatepedia" in card and "CC BY 4.0" in card and "Settings" in card
    # the trained folder works as --model, second stage included
    result = runner.invoke(app, ["analyze", str(FIXTURES / "thread.json"), "--model", str(first), "-q"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["model"]["second_stage"] == "argmine_scorer.json"


def test_train_rejects_unknown_source(tmp_path, base):
    result = runner.invoke(
        app,
        ["train", "--config", str(recipe(tmp_path)), "--base", str(base), "--output", str(tmp_path / "m"), "--data", f"nope={C}"],
    )
    assert result.exit_code == 2 and "unknown training source 'nope'" in result.stderr


def test_evaluate_with_a_model_that_finds_nothing(make_model):
    model = make_model("argmine", "none")
    results = argmine.evaluate(C / "microtexts", "microtexts", model=str(model), mode="gold").results
    (metrics,) = [r for r in results if r["system"] == "model"]
    assert metrics["units"]["f1"] == 1.0
    assert metrics["relations"]["overall"]["recall"] == 0.0 and metrics["link_class_f1"] == 0.0
    # 4 units -> 12 ordered pairs, 3 gold links: not-linked P = 9/12, R = 1 -> F1 0.857; macro = 42.86
    assert metrics["macro_link_f1"] == pytest.approx(42.86, abs=0.01)
    assert metrics["relations"]["overall"]["predicted"] == 0  # nothing confident is output
    # the baselines run on the same units: "previous unit" attaches u2->u1, u3->u2, u4->u3 (support);
    # gold is u2->u1 support, u3->u1 attack, u4->u3 attack: 2 of 3 attached, 1 of those 2 labelled right
    (previous,) = [r for r in results if r["system"] == "baseline: previous unit"]
    assert previous["attachment_accuracy"] == pytest.approx(0.6667, abs=1e-4)
    assert previous["label_accuracy_on_attached"] == 0.5
    (positional,) = [r for r in results if r["system"] == "baseline: positional (reply attacks)"]
    assert positional["relations"]["attack"]["predicted"] == 0  # one post: no reply to attack


def test_evaluate_end_to_end_and_table(make_model):
    model = make_model("argmine", "support")
    result = runner.invoke(app, ["evaluate", str(C / "microtexts"), "--format", "microtexts", "--model", str(model), "-q"])
    assert result.exit_code == 0, result.stderr
    assert "gold units" in result.stdout and "end to end" in result.stdout and "baseline: previous unit" in result.stdout
    result = runner.invoke(
        app, ["evaluate", str(C / "cdcp"), "--format", "cdcp", "--model", str(model), "--json", "-q", "--no-baselines"]
    )
    gold, e2e = json.loads(result.stdout)["results"]
    assert gold["relations"]["support"]["recall"] > 0  # a support-only model finds CDCP's support links
    assert 0 < e2e["units"]["f1"] <= 1


def test_evaluate_bad_corpus_is_one_line(tmp_path):
    result = runner.invoke(app, ["evaluate", str(tmp_path / "missing"), "--format", "cdcp"])
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_evaluate_reply_pairs_as_two_post_threads(make_model):
    model = make_model("argmine", "attack")
    args = ["evaluate", str(C / "reply-agreement"), "--format", "reply-agreement", "--model", str(model), "-q"]
    results = argmine.evaluate(C / "reply-agreement", "reply-agreement", split="all", model=str(model)).results
    # a model that attacks everything: 7 pairs, 2 of them disagreements; the response "NA" is too short
    # for a unit, so that pair has no relation and is labelled none (rightly): attack P 2/6 R 1 -> 0.5,
    # none P 1 R 1/2 -> 0.667, support 0 -> macro 0.3889; always saying attack gives macro 0.1481
    model_row = results["model"]
    assert model_row["pairs"] == 7 and model_row["attack"]["f1"] == 0.5
    assert model_row["support"]["recall"] == 0.0 and model_row["macro_f1"] == pytest.approx(0.3889, abs=1e-4)
    assert results["baseline: majority label (attack)"]["macro_f1"] == pytest.approx(0.1481, abs=1e-4)
    # every baseline links the response's first unit to the quote: support, or attack for the positional one
    assert results["baseline: previous unit"]["support"]["recall"] == 1.0
    assert results["baseline: positional (reply attacks)"]["attack"]["recall"] == 1.0
    # the fixture's topics ("pets", ABCD) are training topics: the held-out test split is empty
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "no reply pairs in the test topics" in result.stderr


def test_evaluate_qt30_threads_reports_cross_turn_relations(make_model):
    model = make_model("argmine", "attack")
    report = argmine.evaluate(C / "qt30", "qt30", split="all", mode="gold", model=str(model))
    rows = {r["system"]: r for r in report.results}
    # gold: u2->u1 support (inside turn 1), u3->u1 attack (turn 2 answers turn 1), u4->u3 support (turn 3 answers turn 2)
    model_row = rows["model"]
    assert model_row["cross_post_relations"]["gold"] == 2
    # an attack-everything model links each turn's unit to the turn it answers: the attack is right, the support is not
    assert model_row["cross_post_relations"]["tp"] == 1 and model_row["relations"]["attack"]["tp"] == 1
    positional = rows["baseline: positional (reply attacks)"]
    # turn 2's only unit attacks the last unit of turn 1 (u2), not u1
    assert positional["cross_post_relations"]["tp"] == 0 and positional["within_post_attachment"] == 1.0

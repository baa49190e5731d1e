"""Adapting the parser to a user's corrected threads: a folder like any other, saying what it was adapted on."""

import dataclasses
import json

from safetensors.torch import load_file
from typer.testing import CliRunner

import argmine
from argmine.cli import app
from argmine.evaluation.corpora import read_microtexts, read_qt30
from tests.conftest import FIXTURES

C = FIXTURES / "corpora"
runner = CliRunner()


def _threads(n: int) -> list:
    """``n`` gold threads (fixture corpora, copied under new ids)."""
    base = read_qt30(C / "qt30") + read_microtexts(C / "microtexts")
    return [
        dataclasses.replace(base[k % len(base)], document=dataclasses.replace(base[k % len(base)].document, id=f"t{k}"))
        for k in range(n)
    ]


def _write(graphs, path):
    path.write_text("".join(g.to_json(indent=None) + "\n" for g in graphs), encoding="utf-8")
    return path


def test_adapt_writes_a_model_that_learned_from_the_threads_and_says_so(tiny_parser, tmp_path):
    data = _write(_threads(4), tmp_path / "corrected.jsonl")
    out = tmp_path / "adapted"
    args = ["adapt", "--model", str(tiny_parser), "--data", f"graph={data}", "-o", str(out), "--epochs", "2", "--mix", "0"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    before, after = load_file(tiny_parser / "argmine_parser.safetensors"), load_file(out / "argmine_parser.safetensors")
    assert any(not (before[k].float() == after[k].float()).all() for k in before)  # it learned
    stored = json.loads((out / "argmine_parser.json").read_text())
    adapted = stored["adapted"]
    assert adapted["threads"] == 4 and adapted["held_out"] == 0
    assert adapted["thresholds"].startswith("kept")  # too few to hold some out
    assert adapted["weights"].startswith("0.5 of the way")  # interpolated towards its own weights by default
    assert "## Adapted" in (out / "README.md").read_text() and f"graph={data}" in (out / "README.md").read_text()
    assert "- weights: 0.5 of the way" in (out / "README.md").read_text()
    graph = argmine.analyze(FIXTURES / "thread.json", model=str(out))  # loads as any model folder
    assert graph.model["kind"] == "parser" and not (out / "checkpoint.pt").exists()


def test_enough_threads_choose_the_thresholds_again_on_a_held_out_part(tiny_parser, tmp_path):
    from argmine.training.adapt import AdaptPlan, adapt, split_user

    graphs = _threads(12)
    train, held = split_user(graphs, AdaptPlan())
    assert len(held) == 3 and not {g.id for g in held} & {g.id for g in train}
    out = adapt(tiny_parser, graphs, tmp_path / "a", argmine.load_settings(), AdaptPlan(epochs=1, mix=0.0), log=lambda m: None)
    adapted = json.loads((out / "argmine_parser.json").read_text())["adapted"]
    assert adapted["held_out"] == 3 and adapted["threshold" + "s"].startswith("chosen again")


def test_adapting_a_pair_model_or_nothing_is_refused_in_one_line(tiny_model, tiny_parser, tmp_path):
    data = _write(_threads(2), tmp_path / "c.jsonl")
    result = runner.invoke(app, ["adapt", "--model", str(tiny_model), "--data", f"graph={data}", "-o", str(tmp_path / "x")])
    assert result.exit_code == 2 and "not one" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    result = runner.invoke(app, ["adapt", "--model", str(tiny_parser), "--data", "nope", "-o", str(tmp_path / "y")])
    assert result.exit_code == 2 and "FORMAT=PATH" in result.stderr


def test_interpolating_puts_the_weights_between_the_model_s_own_and_the_fully_adapted_ones(tiny_parser, tmp_path):
    from argmine.training.adapt import AdaptPlan, adapt

    graphs = _threads(4)
    settings = argmine.load_settings()
    plans = {share: AdaptPlan(epochs=2, mix=0, interpolate=share) for share in (0.0, 0.5, 1.0)}
    weights = {}
    for share, plan in plans.items():
        out = adapt(str(tiny_parser), graphs, tmp_path / f"a{share}", settings, plan, device="cpu", log=lambda m: None)
        weights[share] = load_file(out / "argmine_parser.safetensors")
    own = load_file(tiny_parser / "argmine_parser.safetensors")
    assert all((weights[0.0][k].float() == own[k].float()).all() for k in own)  # nothing of the adapting kept
    moved = [k for k in own if not (weights[1.0][k].float() == own[k].float()).all()]
    assert moved
    for k in moved:  # halfway, up to the fp16 the folder stores
        middle = (own[k].float() + weights[1.0][k].float()) / 2
        assert (weights[0.5][k].float() - middle).abs().max() < 2e-3

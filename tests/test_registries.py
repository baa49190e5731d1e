"""The format and corpus registries decide: a new format is one module, a new corpus one declaration."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import argmine
from argmine.cli import app
from argmine.evaluation import corpora
from argmine.evaluation.corpora import CORPORA, Corpus
from argmine.formats import discover
from argmine.training.pair import load_training_data

FIXTURES = Path(__file__).resolve().parent / "fixtures"
C = FIXTURES / "corpora"
runner = CliRunner()

TOY_FORMAT = """
from argmine.formats.base import Format


def dump(graph):
    return "".join(f"{u.id}\\t{u.text}\\n" for u in graph.units)


FORMAT = Format("units-tsv", "one line per unit", dump)
"""


def toy_package(tmp_path, monkeypatch, name: str, module: str, source: str):
    """An importable package ``name`` holding ``module`` (``source``) and a module that declares nothing."""
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / f"{module}.py").write_text(source, encoding="utf-8")
    (package / "helpers.py").write_text("X = 1\n", encoding="utf-8")  # declares nothing: the registry skips it
    monkeypatch.syspath_prepend(str(tmp_path))
    return package


def test_a_format_module_is_found_by_what_it_declares(tmp_path, monkeypatch):
    package = toy_package(tmp_path, monkeypatch, "toyformats", "units_tsv", TOY_FORMAT)
    found = discover([str(package)], "toyformats")
    assert list(found) == ["units-tsv"]
    toy = found["units-tsv"]
    graph = corpora.read_microtexts(C / "microtexts")[0]
    assert toy.render([graph]) == "".join(f"{u.id}\t{u.text}\n" for u in graph.units)
    assert toy.load is None and not toy.folder
    assert "toyformats.units_tsv" in sys.modules


TOY_INPUT = """
from argmine.document import PostText, join_posts
from argmine.reading.inputs.base import InputFormat, ReadResult


def read(src):
    title, _, body = src.text.partition("|")
    doc = join_posts(src.stem, [PostText("title", "title", title), PostText("article", "article", body, "title")], **src.provenance)
    return [ReadResult(src.stem, doc)]


INPUT = InputFormat("pipe", "title|article", read, order=9, suffixes=(".pipe",), claims=lambda text, suffix: "|" in text[:80], priority=-1)
"""


def test_an_input_format_module_is_found_by_what_it_declares_and_read_through_it(tmp_path, monkeypatch):
    from argmine.reading import readers
    from argmine.reading.inputs import INPUTS
    from argmine.reading.inputs import discover as discover_inputs

    package = toy_package(tmp_path, monkeypatch, "toyinputs", "pipe", TOY_INPUT)
    found = discover_inputs([str(package)], "toyinputs")
    assert list(found) == ["pipe"]
    monkeypatch.setattr(readers, "INPUTS", {**INPUTS, **found})
    (tmp_path / "t.pipe").write_text("Cars are banned|Cars pollute. So ban them.", encoding="utf-8")
    (result,) = readers.read_input(str(tmp_path / "t.pipe"), argmine.load_settings())  # by its extension
    assert [p.kind for p in result.document.posts] == ["title", "article"]
    assert readers.sniff("Cars are banned|Cars pollute.", "x") == "pipe"  # by what it claims of the content
    assert readers.sniff("Cars pollute. So ban them.", "x") == "text"  # what nothing claims is plain text
    assert readers.sniff('{"article": {"text": "x"}}', "x") == "thread"


def test_every_declared_format_is_exported_and_listed_by_the_cli():
    assert set(argmine.EXPORT_FORMATS) == set(argmine.FORMATS)
    assert set(argmine.IMPORT_FORMATS) == {n for n, f in argmine.FORMATS.items() if f.load is not None}
    assert argmine.FOLDER_FORMATS == {n for n, f in argmine.FORMATS.items() if f.folder}
    export_help = runner.invoke(app, ["export", "--help"], env={"COLUMNS": "1000"}).stdout
    import_help = runner.invoke(app, ["import", "--help"], env={"COLUMNS": "1000"}).stdout
    for name, form in argmine.FORMATS.items():
        assert name in export_help and form.summary in export_help
        assert (name in import_help) == (form.load is not None)


def test_a_one_graph_format_refuses_a_collection_and_a_collection_format_takes_it():
    graph = argmine.evaluation.corpora.read_microtexts(C / "microtexts")[0]
    with pytest.raises(argmine.InputError, match="argdown export takes one graph; the input holds 2"):
        argmine.export([graph, graph], "argdown")
    assert argmine.export([graph, graph], "doccano").count("\n") == 2
    files = argmine.export([graph, graph], "brat")
    assert sum(name.endswith(".ann") for name in files) == 2 and "annotation.conf" in files
    with pytest.raises(argmine.InputError, match="unknown import format 'argdown'"):
        argmine.import_graphs(C / "pairs.csv", "argdown")


def _toy_corpus(path) -> list:
    """Three copies of the microtexts fixture under different ids."""
    (graph,) = corpora.read_microtexts(path)
    return [argmine.Graph.from_json(json.dumps({**graph.to_dict(), "id": f"toy-{k}"})) for k in range(3)]


@pytest.fixture
def toy(monkeypatch):
    split = {"train": ["toy-0"], "dev": ["toy-1"], "test": ["toy-2"]}
    declared = Corpus(
        "toy",
        "documents",
        _toy_corpus,
        "made up for this test",
        split=lambda docs: {part: [d for d in docs if d.id in ids] for part, ids in split.items()},
    )
    monkeypatch.setitem(CORPORA, "toy", declared)
    return declared


def test_a_declared_corpus_is_evaluated_on_its_own_test_part(toy, make_model):
    model = str(make_model("argmine", "support"))
    test = argmine.evaluate(C / "microtexts", "toy", mode="gold", model=model, baselines=False).results
    every = argmine.evaluate(C / "microtexts", "toy", mode="gold", split="all", model=model, baselines=False).results
    assert test[0]["documents"] == 1 and every[0]["documents"] == 3
    result = runner.invoke(app, ["evaluate", str(C / "microtexts"), "-f", "toy", "--model", model, "--json", "-q"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["results"][0]["documents"] == 1


def test_a_declared_corpus_trains_on_its_train_part_only(toy):
    recipe = argmine.load_recipe("configs/train.yaml", {"data": [{"name": "toy", "path": str(C / "microtexts")}]})
    data = load_training_data(recipe)
    assert [d.id for _, d in data.stage2_docs] == ["toy-1"]  # dev fits the second stage; test is never read
    assert data.pairs and {p.group for p in data.pairs} == {"toy-0"}  # pairs of the train part only
    assert data.sources == [
        {"name": "toy", "path": str(C / "microtexts"), "pairs": len(data.pairs), "labels": data.sources[0]["labels"]}
    ]


def test_a_split_is_refused_for_a_corpus_that_declares_none():
    with pytest.raises(argmine.InputError, match="microtexts declares no held-out split"):
        argmine.evaluate(C / "microtexts", "microtexts", split="test", model="unused")


def test_an_unknown_training_source_names_the_registered_ones():
    recipe = argmine.load_recipe("configs/train.yaml", {"data": [{"name": "nope", "path": str(C)}]})
    with pytest.raises(argmine.ConfigError, match="unknown training source 'nope' \\(choose from microtexts, cdcp"):
        load_training_data(recipe)

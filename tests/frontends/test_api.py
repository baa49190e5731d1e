"""The library surface: ``argmine.analyze`` and friends, the Graph type, typed settings, module layout."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

import argmine
from argmine.relations.pair import RelationModel
from tests.conftest import EXAMPLE, FIXTURES, ROOT

PACKAGE = ROOT / "argmine"


def test_analyze_a_text_returns_a_graph_that_round_trips_through_json(tiny_model):
    graph = argmine.analyze("Cars pollute the air. So we should ban them from the centre.", model=str(tiny_model))
    assert isinstance(graph, argmine.Graph)
    assert [u.text for u in graph.units] == ["Cars pollute the air.", "So we should ban them from the centre."]
    assert all(graph.text[u.start : u.end] == u.text for u in graph.units)
    assert graph.document.source_path == "-" and graph.id == "text"
    text = graph.to_json()
    again = argmine.Graph.from_json(text)
    assert again.to_json() == text and again.units == graph.units and again.trees == graph.trees
    assert json.loads(graph.to_json(indent=None)) == json.loads(text)


def test_a_path_a_document_and_the_cli_give_the_same_graph(tiny_model, tmp_path):
    from typer.testing import CliRunner

    from argmine.cli import app

    by_path = argmine.analyze(FIXTURES / "thread.json", model=str(tiny_model))
    by_doc = argmine.analyze(argmine.read(FIXTURES / "thread.json"), model=str(tiny_model))
    out = tmp_path / "g.json"
    result = CliRunner().invoke(app, ["analyze", str(FIXTURES / "thread.json"), "--model", str(tiny_model), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.stderr
    assert by_path.to_json() == by_doc.to_json() == out.read_text(encoding="utf-8")
    assert argmine.load_graphs(str(out))[0].relations == by_path.relations


def test_a_document_with_units_keeps_them(tiny_model):
    doc = argmine.read("The council wants to ban cars. Shops fear the loss of customers.")
    unit = argmine.Unit(
        "g1", doc.posts[0].id, doc.posts[0].start, doc.posts[0].end, doc.text[doc.posts[0].start : doc.posts[0].end]
    )
    graph = argmine.analyze(doc.with_units([unit]), model=str(tiny_model))
    assert [u.id for u in graph.units] == ["g1"]


def test_a_loaded_model_is_reused_across_calls(tiny_model, monkeypatch):
    loads = []
    original = RelationModel.load.__func__

    def counting(cls, *args, **kwargs):
        loads.append(args[0])
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(RelationModel, "load", classmethod(counting))
    settings = argmine.load_settings(overrides={"model": {"name": str(tiny_model), "device": "cpu"}})
    first = argmine.load_model(settings=settings)
    for text in ("Taxes rose. People left.", "Rents fell because builders built more homes."):
        argmine.analyze(text, settings=settings)
    assert argmine.load_model(settings=settings) is first and len(loads) <= 1


def test_analyze_all_records_a_bad_line_and_reads_before_loading_the_model(tmp_path, monkeypatch):
    batch = tmp_path / "b.jsonl"
    batch.write_text("{oops\n[1]\n", encoding="utf-8")

    def no_model(*args, **kwargs):
        raise AssertionError("no thread to analyze: the model must not load")

    monkeypatch.setattr(RelationModel, "load", no_model)
    outcomes = argmine.analyze_all(str(batch))
    assert [o.line for o in outcomes] == [1, 2] and all(o.graph is None for o in outcomes)
    record = json.loads(outcomes[0].to_json_line())
    assert record["format"] == "argmine.error" and "line 1" in record["error"]


def test_read_refuses_several_threads_and_read_all_returns_them(tmp_path):
    batch = tmp_path / "b.jsonl"
    thread = {"article": {"text": "Fees rose. Students protested."}}
    batch.write_text(json.dumps(thread) + "\n" + json.dumps(thread) + "\n", encoding="utf-8")
    with pytest.raises(argmine.InputError, match="holds 2 threads"):
        argmine.read(batch)
    assert len(argmine.read_all(batch)) == 2


def test_graph_from_json_checks_schema_offsets_and_references(tiny_model):
    data = argmine.analyze(EXAMPLE, model=str(tiny_model)).to_dict()
    broken = json.loads(json.dumps(data))
    broken["units"][0]["text"] = "not what the text says"
    with pytest.raises(argmine.InputError, match="differs from text"):
        argmine.Graph.from_dict(broken)
    broken = json.loads(json.dumps(data))
    broken["relations"].append({"source": "u1", "target": "u999", "label": "support", "score": 0.5})
    with pytest.raises(argmine.InputError, match="u999"):
        argmine.Graph.from_dict(broken)
    broken = json.loads(json.dumps(data))
    del broken["posts"]
    with pytest.raises(argmine.InputError, match="not an argmine graph"):
        argmine.Graph.from_dict(broken)


def test_gold_corpora_load_into_the_same_graph_type():
    from argmine.evaluation import corpora

    (doc,) = corpora.read_microtexts(FIXTURES / "corpora" / "microtexts")
    assert isinstance(doc, argmine.Graph) and doc.model["name"] == "gold"
    assert argmine.Graph.from_json(doc.to_json()).relations == doc.relations
    assert sorted(n.unit for t in doc.trees for n, _ in t.walk()) == sorted(u.id for u in doc.units)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"model": {"batch_size": 0}}, "model.batch_size = 0"),
        ({"relations": {"threshold": "high"}}, "relations.threshold = 'high'"),
        ({"candidates": {"window": "five"}}, "candidates.window = 'five'"),
        ({"model": {"name": None}}, "model.name = None"),
        ({"boilerplate": ["(unclosed"]}, "invalid regular expression"),
        ({"input": {"max_bytes": -5}}, "input.max_bytes = -5"),
        ({"modle": {"name": "x"}}, "unknown setting modle"),
    ],
)
def test_settings_are_validated_when_they_load(overrides, message):
    with pytest.raises(argmine.ConfigError, match=message.replace("(", r"\(")) as info:
        argmine.load_settings(overrides=overrides)
    assert "\n" not in str(info.value)


def test_each_stage_reads_its_own_section_and_behaviour_numbers_are_settings():
    settings = argmine.load_settings()
    assert settings.decoding.exact_root_limit == 40 and settings.evaluation.unit_match_overlap == 0.5
    assert settings.layout.comment_detection.long_paragraph_chars == 450 and settings.layout.line_paragraph_share == 0.8
    recipe = argmine.load_recipe(overrides={"kind": "pair"})
    assert (recipe.weight_decay, recipe.max_grad_norm, recipe.stage2_folds) == (0.01, 1.0, 5)
    assert recipe.data and recipe.context_markers == {"post": "post:", "reply": "reply:"}
    parser = argmine.load_recipe()  # the default recipe trains the parser
    assert isinstance(parser, argmine.ParserRecipe) and parser.max_length == 256 and parser.data
    with pytest.raises(argmine.ConfigError, match="epochs = 0"):
        argmine.load_recipe(overrides={"epochs": 0})
    with pytest.raises(argmine.ConfigError, match="kind = 'tree'"):
        argmine.load_recipe(overrides={"kind": "tree"})


def _imports(path: Path) -> set[str]:
    """Every argmine module a file imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("argmine"):
            if node.module == "argmine":
                names.update(f"argmine.{a.name}" for a in node.names)
            else:
                names.add(node.module)
                names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("argmine"))
    return names


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_import_loop_among_argmine_modules():
    files = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    for name, path in files.items():
        if name in ("argmine", "argmine.__main__", "argmine.cli"):
            continue  # the public facade and the CLI sit on top; nothing below imports them
        graph.add_node(name)
        for target in _imports(path):
            if target in files and target != name and target != "argmine":
                graph.add_edge(name, target)
        assert "argmine" not in {t for t in _imports(path) if t == "argmine"}
    cycles = list(nx.simple_cycles(graph))
    assert cycles == []
    below = {t for name in graph for t in graph.successors(name)}
    assert "argmine.cli" not in below


def test_the_cli_imports_only_the_public_api():
    imported = _imports(PACKAGE / "cli.py")
    public = {f"argmine.{name}" for name in argmine.__all__}
    assert imported and imported <= public | {"argmine"}, imported - public


def test_every_public_name_resolves_and_import_stays_light():
    assert set(argmine.__all__) == set(argmine._WHERE) | {
        "__version__",
        "ArgmineError",
        "ConfigError",
        "InputError",
        "ModelError",
    }
    for name in argmine.__all__:
        assert getattr(argmine, name) is not None
    code = "import sys, argmine; print(sorted(m for m in ('torch', 'transformers', 'sklearn') if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_export_and_import_round_trip_through_the_library(tiny_model, tmp_path):
    graph = argmine.analyze(FIXTURES / "thread.json", model=str(tiny_model))
    files = argmine.export([graph], "brat")
    assert isinstance(files, dict) and "brat" in argmine.FOLDER_FORMATS
    argmine.write_files(str(tmp_path / "brat"), files)
    (ann,) = (tmp_path / "brat").glob("*.ann")
    (back,) = argmine.import_graphs(ann, "brat")
    assert [(u.id, u.start, u.end, u.text) for u in back.units] == [(u.id, u.start, u.end, u.text) for u in graph.units]
    assert {(r.source, r.target, r.label) for r in back.relations} == {(r.source, r.target, r.label) for r in graph.relations}
    (tmp_path / "g.xaif.json").write_text(argmine.export([graph], "xaif"), encoding="utf-8")
    (back,) = argmine.import_graphs(tmp_path / "g.xaif.json", "xaif")
    assert back.posts == graph.posts and back.units == graph.units
    with pytest.raises(argmine.InputError, match="unknown export format 'pdf'"):
        argmine.export([graph], "pdf")


def test_a_graph_read_back_from_its_json_equals_it_plain_text_included(tiny_model):
    plain = argmine.analyze(EXAMPLE, model=str(tiny_model))
    assert plain.document.flat and '"flat": true' in plain.to_json()
    assert argmine.Graph.from_json(plain.to_json()) == plain
    assert argmine.Graph.from_json(plain.to_json()).document.flat  # reply links stay unknown
    thread = argmine.analyze(FIXTURES / "thread.json", model=str(tiny_model))
    assert not thread.document.flat and '"flat"' not in thread.to_json()
    assert argmine.Graph.from_json(thread.to_json()) == thread


def test_text_modules_and_the_test_setup_import_no_torch():
    """Reading, segmenting, graphs, formats and settings need no model stack; nor do the fast tests' fixtures."""
    code = (
        "import sys\nimport argmine, argmine.units.segmenter, argmine.reading.readers, argmine.formats, argmine.graph, argmine.settings\n"
        "import argmine.devices, argmine.view, argmine.jsonio, tests.conftest\n"
        "heavy = sorted(m for m in ('torch', 'transformers') if m in sys.modules)\nassert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr

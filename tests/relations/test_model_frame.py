"""The relation-model frame: one protocol, kinds decided by what a folder holds, early one-line refusals."""

import json
import shutil
import subprocess
import sys
import textwrap

import pytest
from typer.testing import CliRunner

import argmine
from argmine import relations
from argmine.cli import app
from argmine.errors import ModelError
from argmine.relations import Kind, Model, kind_of
from tests.conftest import EXAMPLE

runner = CliRunner()

# A third kind, written as a contributor would: its module's open_model and the class it returns.
ECHO_KIND = '''
from argmine.decoding.trees import Decision, Decoded, Related
from argmine.document import Relation


class Echo:
    """Each unit supports the unit before it in its post."""

    kind = "echo"

    def __init__(self, name):
        self.name = name

    def check(self, doc, settings):
        return doc  # what check returns is what relate gets

    def decision(self, settings):
        return Decision.default()

    def relate(self, docs, settings, decision, show_progress=False):
        out = []
        for doc in docs:
            rels = [Relation(b.id, a.id, "support", 1.0) for a, b in zip(doc.units, doc.units[1:]) if a.post == b.post]
            out.append(Related(Decoded(rels, {r.source: r for r in rels}), len(rels)))
        return out

    def describe(self):
        return {"name": self.name, "kind": "echo", "labels": {"support": "support", "attack": "attack"}}

    def save(self, folder):
        (folder / "echo.json").write_text("{}")


def open_model(name, device, max_length, quantize):
    return Echo(name)
'''


def test_a_new_kind_is_its_module_and_one_registry_entry(tmp_path, monkeypatch):
    (tmp_path / "echo_kind.py").write_text(textwrap.dedent(ECHO_KIND))
    monkeypatch.syspath_prepend(str(tmp_path))
    kind = Kind("echo", "echo.json", ("echo.json",), "echo_kind", "each unit supports the one before")
    monkeypatch.setattr(relations, "KINDS", (kind, *relations.KINDS))
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "echo.json").write_text("{}")
    model = relations.load(str(folder))
    assert isinstance(model, Model) and kind_of(folder) is kind and model.name == str(folder)
    graph = argmine.analyze(EXAMPLE, model=model)
    assert graph.model["kind"] == "echo" and graph.relations
    assert all(r.label == "support" for r in graph.relations)
    assert not isinstance("a model name", Model)  # a name is loaded, a model object is used as it is


def test_the_kind_is_what_the_folder_holds(tiny_parser, tiny_model):
    assert kind_of(tiny_parser).name == "parser"
    assert kind_of(tiny_model).name == "pair"
    assert kind_of(None).name == "pair"  # a hub id: an NLI checkpoint
    assert relations.load(str(tiny_parser), "cpu").kind == "parser"
    assert relations.load(str(tiny_model), "cpu").kind == "pair"


def test_a_missing_model_folder_is_refused_before_torch_is_imported(tmp_path):
    code = (
        "import sys\n"
        "from argmine.relations import load\n"
        "from argmine.errors import ModelError\n"
        "try:\n"
        f"    load({str(tmp_path / 'absent')!r})\n"
        "except ModelError as exc:\n"
        "    print(exc)\n"
        "print('torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == [f"model folder {tmp_path / 'absent'} not found", "False False"]


@pytest.mark.parametrize("damage", ["corrupt", "truncated", "missing"])
def test_a_broken_parser_folder_is_one_line_and_exit_2(tiny_parser, tmp_path, damage):
    folder = tmp_path / "broken"
    shutil.copytree(tiny_parser, folder)
    weights = folder / "model.safetensors"
    if damage == "corrupt":
        weights.write_bytes(b"\x00" * 64)
    elif damage == "truncated":
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    else:
        weights.unlink()
    result = runner.invoke(app, ["analyze", str(EXAMPLE), "--model", str(folder)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(folder) in lines[0] and "internal error" not in lines[0]
    if damage == "missing":
        assert "model.safetensors missing" in lines[0]
    code = f"import sys\nfrom argmine.relations import load\ntry:\n    load({str(folder)!r})\nexcept Exception as exc:\n    print(type(exc).__name__)\nprint('torch' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["ModelError", "False"]  # found before torch is imported
    with pytest.raises(ModelError):
        relations.load(str(folder), "cpu")


def test_a_pair_model_saves_a_folder_that_loads_as_the_same_model(tiny_model, tmp_path):
    model = relations.load(str(tiny_model), "cpu")
    model.save(tmp_path / "copy")
    again = relations.load(str(tmp_path / "copy"), "cpu")
    first = argmine.analyze(EXAMPLE, model=model).to_dict()
    second = argmine.analyze(EXAMPLE, model=again).to_dict()
    first["model"].pop("name"), second["model"].pop("name")
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)

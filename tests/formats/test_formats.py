"""Exports checked by the tools' own parsers where installable; export -> import round trips."""

import json
import shutil
import subprocess

import networkx as nx
import pytest
from typer.testing import CliRunner

import argmine
from argmine.cli import app
from argmine.formats.common import Utf16
from argmine.graph import validate
from tests.conftest import FIXTURES, ROOT

runner = CliRunner()


@pytest.fixture(scope="module")
def graph_file(make_model, tmp_path_factory):
    """A real graph of a thread with emoji, CRLF, quotes and brackets, from a model that finds relations."""
    out = tmp_path_factory.mktemp("graph") / "tricky.json"
    model = make_model("roberta-large-mnli", "ENTAILMENT")
    result = runner.invoke(app, ["analyze", str(FIXTURES / "tricky_thread.json"), "--model", str(model), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.stderr
    graph = json.loads(out.read_text(encoding="utf-8"))
    assert graph["relations"] and "\r\n" in graph["text"] and "👨‍👩‍👧" in graph["text"]
    # flip some labels so both relation kinds travel through every format
    for rel in graph["relations"][::2]:
        rel["label"] = "attack"
    out.write_text(json.dumps(graph, ensure_ascii=False), encoding="utf-8")
    return out


def export(graph_file, fmt, out):
    result = runner.invoke(app, ["export", str(graph_file), "--to", fmt, "--output", str(out)])
    assert result.exit_code == 0, result.stderr
    return out


def units_and_relations(graph):
    return (
        [(u["id"], u["start"], u["end"], u["text"]) for u in graph["units"]],
        sorted((r["source"], r["target"], r["label"]) for r in graph["relations"]),
    )


def roundtrip(graph_file, fmt, exported, extra=()):
    result = runner.invoke(app, ["import", str(exported), "--from", fmt, *extra])
    assert result.exit_code == 0, result.stderr
    back = json.loads(result.stdout)
    validate(back)
    original = json.loads(graph_file.read_text(encoding="utf-8"))
    assert units_and_relations(back) == units_and_relations(original)
    return back


def test_xaif_is_read_by_the_xaif_package_and_round_trips(graph_file, tmp_path):
    from xaif import AIF

    out = export(graph_file, "xaif", tmp_path / "g.xaif.json")
    data = json.loads(out.read_text(encoding="utf-8"))
    graph = json.loads(graph_file.read_text(encoding="utf-8"))
    aif = AIF(data)
    assert aif.is_valid_json_aif() and aif.is_json_aif_dialog()
    table = aif.get_csv("argument-relation")
    relations = table[table["relation"] != "None"]
    assert len(relations) == len(graph["relations"])
    assert sorted(relations["relation"]) == sorted(
        "Default Inference" if r["label"] == "support" else "Default Conflict" for r in graph["relations"]
    )
    l_nodes = [n for n in data["AIF"]["nodes"] if n["type"] == "L"]
    speakers = {n["text"].split(":", 1)[0]: aif.get_speaker(n["nodeID"]) for n in l_nodes}
    assert speakers["Ana Lima"][0] == "Ana Lima" and speakers["Ben"][0].strip() == "Ben"
    assert len(data["OVA"]["nodes"]) == len(data["AIF"]["nodes"]) and len(data["OVA"]["edges"]) == len(data["AIF"]["edges"])
    types = {n["type"] for n in data["AIF"]["nodes"]}
    assert {"I", "L", "YA", "TA", "RA", "CA"} <= types
    assert {s["schemeID"] for s in data["AIF"]["schemefulfillments"]} >= {"71", "72", "82", "168"}
    participants = {f"{p['firstname']} {p['surname']}".strip() for p in data["AIF"]["participants"]}
    assert {"Metro Desk", "Ana Lima", "Ben"} <= participants
    assert 'class="highlighted"' in data["text"]
    roundtrip(graph_file, "xaif", out)


def test_brat_fragments_conf_and_round_trip(graph_file, tmp_path):
    folder = export(graph_file, "brat", tmp_path / "brat")
    ann = (folder / "tricky.ann").read_text(encoding="utf-8")
    text = (folder / "tricky.txt").open(encoding="utf-8", newline="").read()
    assert text == json.loads(graph_file.read_text(encoding="utf-8"))["text"]
    conf = (folder / "annotation.conf").read_text(encoding="utf-8")
    assert "[entities]" in conf and "supports\tArg1:" in conf and "attacks\tArg1:" in conf
    for line in ann.splitlines():
        assert "\n" not in line and "\r" not in line
        if line.startswith("T"):
            _, spec, covered = line.split("\t")
            pieces = [tuple(map(int, p.split())) for p in spec.split(" ", 1)[1].split(";")]
            assert " ".join(text[s:e] for s, e in pieces) == covered
    assert any(line.startswith("R") and "attacks Arg1:T" in line for line in ann.splitlines())
    back = roundtrip(graph_file, "brat", folder / "tricky.ann")
    assert {r["score"] for r in back["relations"]} != {1.0}  # scores come back from AnnotatorNotes


def test_brat_export_of_several_graphs_keeps_unique_ids_as_file_names(graph_file, tmp_path):
    graph = json.loads(graph_file.read_text(encoding="utf-8"))
    ids = ["t00", "t01", "a/b", "a b", "a_b-2"]  # "a/b" and "a b" are both a_b once file-safe: a real clash
    lines = tmp_path / "graphs.jsonl"
    lines.write_text("".join(json.dumps({**graph, "id": i}, ensure_ascii=False) + "\n" for i in ids), encoding="utf-8")
    folder = export(lines, "brat", tmp_path / "brat")
    stems = sorted(p.name[: -len(".ann")] for p in folder.glob("*.ann"))
    assert stems == ["a_b", "a_b-2", "a_b-3", "t00", "t01"]  # the clash's second takes the next name nobody has
    assert sorted(p.name for p in folder.glob("*.txt")) == sorted(f"{s}.txt" for s in stems)
    result = runner.invoke(app, ["import", str(folder / "t01.ann"), "--from", "brat"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["id"] == "t01"


def test_brat_crlf_unit_becomes_fragments():
    from argmine.formats.brat import fragments

    text = "First line\r\nsecond line"
    assert fragments(text, 0, len(text)) == [(0, 10), (12, 23)]


def test_brat_aae_stance_import(tmp_path):
    text = "We should ban cars. Air is toxic. Shops suffer."
    (tmp_path / "essay.txt").write_text(text, encoding="utf-8")
    (tmp_path / "essay.ann").write_text(
        "T1\tMajorClaim 0 19\tWe should ban cars.\nT2\tClaim 20 33\tAir is toxic.\nA1\tStance T2 For\n"
        "T3\tClaim 34 47\tShops suffer.\nA2\tStance T3 Against\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["import", str(tmp_path / "essay.ann"), "--from", "brat"])
    assert result.exit_code == 0, result.stderr
    rels = sorted((r["source"], r["target"], r["label"]) for r in json.loads(result.stdout)["relations"])
    assert rels == [("T2", "T1", "support"), ("T3", "T1", "attack")]


def test_brat_offsets_that_do_not_match_name_the_unit(tmp_path):
    (tmp_path / "d.txt").write_text("Hello world.", encoding="utf-8")
    (tmp_path / "d.ann").write_text("T1\tClaim 0 5\tWorld\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(tmp_path / "d.ann"), "--from", "brat"])
    assert result.exit_code == 2 and "unit T1" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_label_studio_uses_code_point_offsets_and_round_trips(graph_file, tmp_path):
    folder = export(graph_file, "label-studio", tmp_path / "ls")
    tasks = json.loads((folder / "tasks.json").read_text(encoding="utf-8"))
    text = tasks[0]["data"]["text"]
    regions = [r for r in tasks[0]["predictions"][0]["result"] if r["type"] == "labels"]
    after_emoji = 0
    for r in regions:  # Label Studio counts code points (checked against a real one: test_label_studio_live.py)
        v = r["value"]
        assert text[v["start"] : v["end"]] == v["text"]
        after_emoji += any(ord(ch) > 0xFFFF for ch in text[: v["start"]])
    assert after_emoji > 0
    ids = {r["id"] for r in regions}
    assert all(r["from_id"] in ids and r["to_id"] in ids for r in tasks[0]["predictions"][0]["result"] if r["type"] == "relation")
    config = (folder / "label_config.xml").read_text(encoding="utf-8")
    assert '<Labels name="label" toName="text">' in config and '<Relation value="attacks"/>' in config
    roundtrip(graph_file, "label-studio", folder / "tasks.json")


def test_label_studio_annotations_win_over_predictions(graph_file, tmp_path):
    folder = export(graph_file, "label-studio", tmp_path / "ls")
    tasks = json.loads((folder / "tasks.json").read_text(encoding="utf-8"))
    result = [r for r in tasks[0]["predictions"][0]["result"] if r["type"] == "labels"][:2]
    a, b = result[0]["id"], result[1]["id"]
    tasks[0]["annotations"] = [
        {
            "was_cancelled": False,
            "result": result + [{"type": "relation", "from_id": b, "to_id": a, "direction": "right", "labels": ["attacks"]}],
        }
    ]
    (folder / "export.json").write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    out = runner.invoke(app, ["import", str(folder / "export.json"), "--from", "label-studio"])
    back = json.loads(out.stdout)
    assert [(r["source"], r["target"], r["label"]) for r in back["relations"]] == [(b, a, "attack")]


def test_label_studio_regions_in_utf16_code_units_still_import(graph_file, tmp_path):
    """Tasks argmine exported before the real-tool check counted UTF-16 code units: read as such."""
    folder = export(graph_file, "label-studio", tmp_path / "ls")
    tasks = json.loads((folder / "tasks.json").read_text(encoding="utf-8"))
    utf16 = Utf16(tasks[0]["data"]["text"])
    for r in tasks[0]["predictions"][0]["result"]:
        if r["type"] == "labels":
            r["value"]["start"], r["value"]["end"] = utf16.to_utf16(r["value"]["start"]), utf16.to_utf16(r["value"]["end"])
    (folder / "legacy.json").write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    roundtrip(graph_file, "label-studio", folder / "legacy.json")


def test_utf16_conversion_both_ways():
    text = "a🎉b👨‍👩‍👧c"
    u = Utf16(text)
    for i in range(len(text) + 1):
        assert u.from_utf16(u.to_utf16(i)) == i
        assert u.to_utf16(i) == len(text[:i].encode("utf-16-le")) // 2


def test_doccano_round_trip(graph_file, tmp_path):
    out = export(graph_file, "doccano", tmp_path / "g.jsonl")
    record = json.loads(out.read_text(encoding="utf-8"))
    assert {"text", "entities", "relations"} <= set(record)
    assert all(e["start_offset"] < e["end_offset"] for e in record["entities"])
    roundtrip(graph_file, "doccano", out)


def test_graphml_is_read_by_networkx(graph_file, tmp_path):
    out = export(graph_file, "graphml", tmp_path / "g.graphml")
    g = nx.read_graphml(out)
    graph = json.loads(graph_file.read_text(encoding="utf-8"))
    assert g.number_of_nodes() == len(graph["units"]) and g.number_of_edges() == len(graph["relations"])
    u = graph["units"][0]
    assert g.nodes[u["id"]]["text"] == u["text"] and g.nodes[u["id"]]["start"] == u["start"]
    assert {d["label"] for _, _, d in g.edges(data=True)} == {"support", "attack"}


def test_dot_is_read_by_pydot(graph_file, tmp_path):
    import pydot

    out = export(graph_file, "dot", tmp_path / "g.dot")
    (parsed,) = pydot.graph_from_dot_file(str(out))
    graph = json.loads(graph_file.read_text(encoding="utf-8"))
    assert len(parsed.get_edges()) == len(graph["relations"])
    labels = {n.get_name().strip('"'): n.get("label") for n in parsed.get_nodes() if n.get_name() not in ("node", "edge")}
    unit = next(u for u in graph["units"] if '"' in u["text"] or "“" in u["text"])
    assert labels[unit["id"]].strip('"').replace('\\"', '"') == unit["text"].replace("\r", "").replace("\n", "\\n")


def argdown_binary():
    local = ROOT / ".argdown" / "node_modules" / ".bin" / "argdown"
    return str(local) if local.exists() else shutil.which("argdown")


@pytest.mark.slow  # the Argdown CLI, a Node.js process
def test_argdown_is_parsed_by_the_argdown_cli(graph_file, tmp_path):
    binary = argdown_binary()
    if binary is None or shutil.which("node") is None:
        pytest.skip("@argdown/cli is not installed (npm install --prefix .argdown @argdown/cli); .ci/run installs it")
    out = export(graph_file, "argdown", tmp_path / "g.argdown")
    proc = subprocess.run([binary, "json", str(out), str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    data = json.loads((tmp_path / "g.json").read_text(encoding="utf-8"))
    graph = json.loads(graph_file.read_text(encoding="utf-8"))
    statements = data["statements"]
    assert {f"u{i}" for i in range(1, len(graph["units"]) + 1)} <= set(statements)
    unit = graph["units"][0]
    member = statements[unit["id"]]["members"][0]["text"]
    assert member == " ".join(unit["text"].split())
    relations = data["relations"]
    assert len(relations) == len(graph["relations"])
    assert {r["relationType"] for r in relations} == {"support", "attack"}


def test_analyze_format_shortcut(tmp_path, tiny_model):
    result = runner.invoke(app, ["analyze", str(FIXTURES / "thread.json"), "--model", str(tiny_model), "--format", "dot", "-q"])
    assert result.exit_code == 0 and result.stdout.startswith("digraph argmine {")
    result = runner.invoke(app, ["analyze", str(FIXTURES / "thread.json"), "--model", str(tiny_model), "--format", "brat", "-q"])
    assert result.exit_code == 2 and "name a folder with --output" in result.stderr
    result = runner.invoke(app, ["export", str(FIXTURES / "thread.json"), "--to", "nope"])
    assert result.exit_code == 2


def test_argdown_escapes_urls_fences_and_data_blocks(tmp_path):
    from argmine.document import Document, Post, Relation, Unit
    from argmine.formats.argdown import escape

    assert escape("see https://x.org/a") == "see https:\\/\\/x.org/a" and escape("=== b") == "\\=\\=\\= b"
    assert escape("a {b: 1}") == "a \\{b: 1\\}" and escape("24/7 and a=b") == "24/7 and a=b"
    binary = argdown_binary()
    if binary is None or shutil.which("node") is None:
        pytest.skip("@argdown/cli is not installed (npm install --prefix .argdown @argdown/cli); .ci/run installs it")
    texts = ["===", "Read https://example.com/a//b first.", "It says {cost: 5} per day.", "=== Section two"]
    text = "\n".join(texts)
    units, at = [], 0
    for n, t in enumerate(texts, start=1):
        units.append(Unit(f"u{n}", "article", at, at + len(t), t))
        at += len(t) + 1
    doc = Document("urls", text, [Post("article", "article", 0, len(text))], units=units)
    rels = [Relation("u2", "u1", "support", 0.9), Relation("u3", "u2", "attack", 0.8), Relation("u4", "u1", "support", 0.7)]
    graph = argmine.Graph.gold(doc, rels)
    out = tmp_path / "urls.argdown"
    out.write_text(argmine.export([graph], "argdown"), encoding="utf-8")
    proc = subprocess.run([binary, "json", str(out), str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    data = json.loads((tmp_path / "urls.json").read_text(encoding="utf-8"))
    assert {k: data["statements"][k]["members"][0]["text"] for k in ("u1", "u2", "u3", "u4")} == dict(
        zip(("u1", "u2", "u3", "u4"), texts)
    )
    assert len(data["relations"]) == 3


def test_the_graph_json_is_declared_like_every_other_format(tmp_path):
    from argmine.evaluation.corpora import read_microtexts

    (gold,) = read_microtexts(FIXTURES / "corpora" / "microtexts")
    graphs = [gold, gold]
    assert argmine.export(graphs[:1], "json") == graphs[0].to_json()  # the bytes analyze writes
    lines = argmine.export(graphs, "json")
    assert lines.splitlines() == [g.to_json(indent=None) for g in graphs]  # several: JSON Lines
    path = tmp_path / "graphs.jsonl"
    path.write_text(lines, encoding="utf-8")
    back = argmine.import_graphs(path, "json")
    assert [g.to_dict() for g in back] == [g.to_dict() for g in graphs]
    assert argmine.FORMATS["json"].errors_inline and not any(f.errors_inline for n, f in argmine.FORMATS.items() if n != "json")

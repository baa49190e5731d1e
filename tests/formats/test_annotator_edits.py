"""Annotators' edits come back: export to a tool, change relations as an annotator would, import; the
trees follow the edited relations, and an edited or new relation carries no model score (1.0, as every
annotated relation). Also: damaged imports are one-line errors naming the file and the broken item."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import argmine
from argmine.cli import app
from argmine.document import Document, Post, Relation, Unit

runner = CliRunner()

TEXT = (
    "Cars pollute the air. The council should ban them from the centre by next year.\n\n"
    "Buses pollute too. Diesel buses are the worst. Electric buses exist. They are cheap now."
)
MODEL = {"name": "test", "labels": {}}


def model_graph() -> argmine.Graph:
    """A model's graph: u1 <- u2 (article); u3 (a reply) <- u4 <- u5 <- u6, u3 attacks u2; plus one
    relation outside the trees (u6 -> u3)."""
    split = TEXT.index("\n\n")
    posts = [Post("article", "article", 0, split), Post("c1", "comment", split + 2, len(TEXT), "article", "Ben")]
    sentences = [
        "Cars pollute the air.",
        "The council should ban them from the centre by next year.",
        "Buses pollute too.",
        "Diesel buses are the worst.",
    ]
    sentences += ["Electric buses exist.", "They are cheap now."]
    units = []
    for n, sentence in enumerate(sentences, start=1):
        start = TEXT.index(sentence)
        units.append(Unit(f"u{n}", "article" if start < split else "c1", start, start + len(sentence), sentence))
    doc = Document("edits", TEXT, posts, units=units, source_path="edits.json", sha256="0" * 64)
    tree = {
        "u2": Relation("u2", "u1", "support", 0.61),
        "u3": Relation("u3", "u2", "attack", 0.52),
        "u4": Relation("u4", "u3", "support", 0.43),
        "u5": Relation("u5", "u4", "support", 0.34),
        "u6": Relation("u6", "u5", "support", 0.25),
    }
    relations = [*tree.values(), Relation("u6", "u3", "support", 0.16)]
    return argmine.Graph.gold(doc, relations, MODEL, tree)


def parent_of(graph: argmine.Graph) -> dict[str, tuple[str, str, float]]:
    """Each attached unit's (parent, label, score) in the graph's trees."""
    out = {}
    for root in graph.trees:
        for node, _ in root.walk():
            for child in node.children:
                out[child.unit] = (node.unit, child.label, child.score)
    return out


def export_to(graph: argmine.Graph, fmt: str, folder: Path) -> Path:
    rendered = argmine.export([graph], fmt)
    if isinstance(rendered, dict):
        argmine.write_files(str(folder), rendered)
        return folder / "edits.ann" if fmt == "brat" else folder / "tasks.json"
    path = folder / f"edits.{fmt}"
    argmine.write_text(str(path), rendered)
    return path


def edit_brat(path: Path) -> None:
    """Move u6 (T6) from u5 (T5) to u4 (T4); make u4 -> u3 an attack."""
    ann = path.read_text(encoding="utf-8")
    assert "Arg1:T6 Arg2:T5" in ann and "supports Arg1:T4 Arg2:T3" in ann
    path.write_text(ann.replace("Arg1:T6 Arg2:T5", "Arg1:T6 Arg2:T4").replace("supports Arg1:T4", "attacks Arg1:T4"), "utf-8")


def edit_label_studio(path: Path) -> None:
    tasks = json.loads(path.read_text(encoding="utf-8"))
    result = tasks[0]["predictions"][0]["result"]
    for r in result:
        if r["type"] == "relation" and (r["from_id"], r["to_id"]) == ("u6", "u5"):
            r["to_id"] = "u4"
        if r["type"] == "relation" and (r["from_id"], r["to_id"]) == ("u4", "u3"):
            r["labels"] = ["attacks"]
    tasks[0]["annotations"] = [{"was_cancelled": False, "result": result}]
    path.write_text(json.dumps(tasks), encoding="utf-8")


def edit_doccano(path: Path) -> None:
    record = json.loads(path.read_text(encoding="utf-8"))
    for r in record["relations"]:
        if (r["from_id"], r["to_id"]) == (6, 5):
            r["to_id"] = 4
        if (r["from_id"], r["to_id"]) == (4, 3):
            r["type"] = "attacks"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")


def edit_xaif(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    aif = data["AIF"]
    i_node = {o["unit"]: nid for nid, o in data["argmine"]["offsets"].items()}
    kinds = {n["nodeID"]: n for n in aif["nodes"]}

    def scheme(source: str, target: str) -> str:
        into = {e["toID"] for e in aif["edges"] if e["fromID"] == i_node[source] and kinds[e["toID"]]["type"] in ("RA", "CA")}
        return next(e["fromID"] for e in aif["edges"] if e["fromID"] in into and e["toID"] == i_node[target])

    moved = scheme("u6", "u5")
    relabelled = scheme("u4", "u3")
    for edge in aif["edges"]:
        if edge["fromID"] == moved and edge["toID"] == i_node["u5"]:
            edge["toID"] = i_node["u4"]
    kinds[relabelled].update(type="CA", text="Default Conflict")
    path.write_text(json.dumps(data), encoding="utf-8")


EDITS = {"brat": edit_brat, "label-studio": edit_label_studio, "doccano": edit_doccano, "xaif": edit_xaif}


@pytest.mark.parametrize("fmt", list(EDITS))
def test_an_untouched_export_comes_back_with_its_trees_and_scores(fmt, tmp_path):
    graph = model_graph()
    (back,) = argmine.import_graphs(export_to(graph, fmt, tmp_path), fmt)
    assert back.trees == graph.trees and sorted(back.relations, key=str) == sorted(graph.relations, key=str)


@pytest.mark.parametrize("fmt", list(EDITS))
def test_the_trees_follow_an_annotators_edits(fmt, tmp_path):
    path = export_to(model_graph(), fmt, tmp_path)
    EDITS[fmt](path)
    (back,) = argmine.import_graphs(path, fmt)
    parents = parent_of(back)
    assert parents["u6"] == ("u4", "support", 1.0)  # moved: still in the reply's tree, no model score
    assert parents["u4"] == ("u3", "attack", 1.0)  # relabelled: no model score
    assert parents["u5"] == ("u4", "support", 0.34) and parents["u2"] == ("u1", "support", 0.61)  # untouched
    assert [t.unit for t in back.trees] == ["u1"]  # the reply still answers the article: one tree
    scores = {(r.source, r.target): (r.label, r.score) for r in back.relations}
    assert scores[("u6", "u4")] == ("support", 1.0) and scores[("u4", "u3")] == ("attack", 1.0)
    assert ("u6", "u5") not in scores and scores[("u6", "u3")] == ("support", 0.16)


def test_a_removed_tree_edge_lets_the_unit_keep_its_other_relation(tmp_path):
    path = export_to(model_graph(), "brat", tmp_path)
    ann = path.read_text(encoding="utf-8")
    path.write_text("\n".join(line for line in ann.splitlines() if "Arg1:T6 Arg2:T5" not in line) + "\n", "utf-8")
    (back,) = argmine.import_graphs(path, "brat")
    assert parent_of(back)["u6"] == ("u3", "support", 0.16)


def test_exports_of_older_argmine_without_labels_still_import(tmp_path):
    path = export_to(model_graph(), "brat", tmp_path)
    side = tmp_path / "edits.argmine.json"
    meta = json.loads(side.read_text(encoding="utf-8"))
    meta["scores"] = [entry[:5] for entry in meta["scores"]]
    side.write_text(json.dumps(meta), encoding="utf-8")
    (back,) = argmine.import_graphs(path, "brat")
    assert back.trees == model_graph().trees


# ---------------------------------------------------------------- damaged imports


def import_error(path: Path, fmt: str, *extra: str) -> str:
    result = runner.invoke(app, ["import", str(path), "--from", fmt, *extra])
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("argmine: error: ") and "internal error" not in lines[0]
    return lines[0]


def test_xaif_with_a_truncated_node_list_is_refused(tmp_path):
    path = export_to(model_graph(), "xaif", tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["AIF"]["nodes"] = data["AIF"]["nodes"][:8]
    path.write_text(json.dumps(data), encoding="utf-8")
    line = import_error(path, "xaif")
    assert str(path) in line and "which is not in the node list" in line


def test_doccano_offsets_that_moved_are_refused(tmp_path):
    path = export_to(model_graph(), "doccano", tmp_path)
    record = json.loads(path.read_text(encoding="utf-8"))
    for entity in record["entities"]:
        entity["start_offset"] += 3
        entity["end_offset"] += 3
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    line = import_error(path, "doccano")
    assert f"{path} line 1: entity 1 (3:24) starts inside the word 'Cars'" in line


@pytest.mark.parametrize(
    "side, item",
    [
        ("[1, 2]", "not a JSON object"),
        ('{"id": "edits", "posts": "article"}', "posts is not a list of posts"),
        ('{"id": "edits", "posts": [], "tree": [[0, 21]]}', "tree entry 1 is [0, 21]"),
        ('{"id": "edits", "posts": [], "scores": [[0, 21, 22, 80, "high"]]}', "scores entry 1"),
        ('{"id": "edits", "posts": [{"id": "c1"}]}', "not argmine posts"),
    ],
)
def test_a_damaged_brat_side_file_is_refused(tmp_path, side, item):
    path = export_to(model_graph(), "brat", tmp_path)
    (tmp_path / "edits.argmine.json").write_text(side, encoding="utf-8")
    line = import_error(path, "brat")
    assert "edits.argmine.json" in line or str(path) in line
    assert item in line


def test_a_brat_relation_from_a_unit_to_itself_is_refused(tmp_path):
    path = export_to(model_graph(), "brat", tmp_path)
    ann = path.read_text(encoding="utf-8")
    path.write_text(ann.replace("Arg1:T6 Arg2:T5", "Arg1:T6 Arg2:T6"), encoding="utf-8")
    assert "edits.ann: relation R5 links T6 to itself" in import_error(path, "brat")


def test_a_text_mismatch_says_where_the_texts_part(tmp_path):
    path = export_to(model_graph(), "doccano", tmp_path)
    other = tmp_path / "other.txt"
    other.write_text(TEXT.replace("next year", "next yeah"), encoding="utf-8")
    line = import_error(path, "doccano", "--text", str(other))
    at = TEXT.index("next year") + 8 - 10
    assert f"at unit u2 (22:79): the file has 'y next year.' at character {at}, not 'y next yeah.' in --text" in line
    path = export_to(model_graph(), "brat", tmp_path / "brat")
    ann = path.read_text(encoding="utf-8")
    path.write_text(ann.replace("by next year.", "by next yeah."), encoding="utf-8")
    line = import_error(path, "brat")
    assert f"unit T2: the text at 22 79 has 'y next year.' at character {at}, not 'y next yeah.'" in line

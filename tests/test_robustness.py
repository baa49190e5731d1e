"""Real input and user mistakes: bounded decoding, work limit, one-line refusals before any model
work, file modes, validated settings, devices, faithful round trips, Reddit permalinks, light imports."""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import argmine
from argmine.cli import app
from argmine.relations.pair import RelationModel
from tests.conftest import EXAMPLE, FIXTURES, ROOT

runner = CliRunner()


def run(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def one_line_error(result, code=2):
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("argmine: error: "), result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr + result.stdout
    return lines[0]


@pytest.fixture
def no_model(monkeypatch):
    """Fail the test if anything tries to load a relation model."""

    def refuse(*args, **kwargs):
        raise AssertionError("the model must not load for this input")

    monkeypatch.setattr(RelationModel, "load", refuse)


# ---------------------------------------------------------------- bounded work


def long_post(n: int) -> argmine.Document:
    text = " ".join(f"Sentence {i} says something about topic{i % 7}." for i in range(n))
    return argmine.read(json.dumps({"article": {"text": text}}), settings=argmine.load_settings())


def test_a_long_post_is_decoded_in_blocks_of_bounded_size(tiny_model, monkeypatch):
    import argmine.decoding.trees as decoding

    sizes = []
    original = decoding._post_tree

    def recording(idx, *args):
        sizes.append(len(idx))
        return original(idx, *args)

    monkeypatch.setattr(decoding, "_post_tree", recording)
    settings = argmine.load_settings(overrides={"decoding": {"max_tree_units": 50}})
    model = argmine.load_model(str(tiny_model), settings=settings)
    graph = argmine.analyze(long_post(180), model=model, settings=settings)
    assert len(graph.units) == 180 and max(sizes) <= 50 and len(sizes) == 4
    seen = [node.unit for tree in graph.trees for node, _ in tree.walk()]
    assert sorted(seen) == sorted(u.id for u in graph.units)  # every unit once
    index = {u.id: i for i, u in enumerate(graph.units)}
    for tree in graph.trees:  # a block's root only attaches to an earlier block
        for node, _ in tree.walk():
            for child in node.children:
                if index[child.unit] // 50 != index[node.unit] // 50:
                    assert index[node.unit] < index[child.unit]


def test_ancestry_stays_linear_in_a_deep_reply_chain():
    from argmine.document import Answerable
    from argmine.relations.candidates import candidate_pairs

    comments = [
        {"id": f"c{i}", "parent": f"c{i - 1}" if i > 1 else None, "text": f"Reply {i} about topic{i % 5}."}
        for i in range(1, 1201)  # deeper than the recursion limit
    ]
    doc = argmine.read(json.dumps({"article": {"text": "The article. It argues."}, "comments": comments}))
    answerable = Answerable(doc)
    assert len(answerable.entry) == len(doc.posts)  # two numbers per post, not a set of ancestors each
    assert answerable("c1200", "c1") and answerable("c1200", "article") and not answerable("c1", "c1200")
    from argmine.units.segmenter import segment

    settings = argmine.load_settings()
    doc = segment(doc, settings.segmenter, settings.boilerplate)
    rank = {p.id: k for k, p in enumerate(doc.posts)}
    pairs = candidate_pairs(doc, settings.candidates)
    assert pairs and all(rank[doc.units[a].post] >= rank[doc.units[b].post] for a, b in pairs)


def test_a_thread_over_the_work_limit_is_refused_before_scoring(tmp_path, tiny_model):
    config = tmp_path / "limit.yaml"
    config.write_text("candidates:\n  max_pairs: 10\n", encoding="utf-8")
    line = one_line_error(run("analyze", EXAMPLE, "--model", tiny_model, "--config", config, "-q"))
    assert "over the work limit of 10 (candidates.max_pairs" in line


def clauses(repeats: int) -> str:
    """A stretch without a sentence end that splits into about one unit per repeat (at each "but")."""
    return "the taxes rose sharply but the wages did not rise " * repeats


def units_in(text: str) -> int:
    from argmine.units.segmenter import segment

    settings = argmine.load_settings()
    return len(segment(argmine.read(text, settings=settings), settings.segmenter, settings.boilerplate).units)


@pytest.mark.parametrize("pair_model", [False, True])
def test_a_stretch_of_clauses_sure_to_exceed_the_work_limit_is_refused_before_the_model_loads(
    tmp_path, monkeypatch, tiny_model, pair_model
):
    from argmine.relations.parser import ArgumentParser

    def refuse(*args, **kwargs):
        raise AssertionError("the model must not load: the unit count alone is over the limit")

    monkeypatch.setattr(RelationModel, "load", refuse)
    monkeypatch.setattr(ArgumentParser, "load", refuse)
    thread = tmp_path / "clauses.txt"
    thread.write_text(clauses(600), encoding="utf-8")
    n = units_in(thread.read_text(encoding="utf-8"))
    config = tmp_path / "limit.yaml"
    # the embedded parser scores each unit against itself and ROOT at least (2n); a pair model scores the
    # units at most 5 apart in a post, both ways (about 10n)
    config.write_text(f"candidates:\n  max_pairs: {n if pair_model else 2 * n - 1}\n", encoding="utf-8")
    least = 2 * (5 * n - 15) if pair_model else 2 * n
    model = ["--model", tiny_model] if pair_model else []
    line = one_line_error(run("analyze", thread, "--config", config, "-q", *model))
    assert f"clauses: {n} units need at least {least} scores, over the work limit of" in line
    assert "(candidates.max_pairs): raise it in a --config file" in line


def test_the_work_floors_never_exceed_what_the_models_count(tiny_parser):
    from argmine.relations.candidates import candidate_pairs
    from argmine.relations.parser import ArgumentParser, build_windows
    from argmine.units.segmenter import segment

    settings = argmine.load_settings()
    parser = argmine.load_model(str(tiny_parser), settings=settings)
    texts = [EXAMPLE, FIXTURES / "thread.json", FIXTURES / "reddit_thread.json", clauses(80), "One claim. Two claims here."]
    for text in texts:
        doc = segment(argmine.read(text, settings=settings), settings.segmenter, settings.boilerplate)
        windows = build_windows(doc, parser.tokenizer, parser.cfg)
        needed = sum(len(w.dependents) * (len(w.heads) + 1) for w in windows)
        assert 0 < ArgumentParser.least_work(doc, settings) <= needed
        assert 0 < RelationModel.least_work(doc, settings) <= len(candidate_pairs(doc, settings.candidates))
    single = segment(argmine.read(clauses(80), settings=settings), settings.segmenter, settings.boilerplate)
    assert RelationModel.least_work(single, settings) == 2 * (5 * len(single.units) - 15)  # one post: its window pairs


# ---------------------------------------------------------------- refusals: one line, exit 2, early


def test_deeply_nested_json_is_refused(tmp_path, no_model):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 10_000 + "]" * 10_000, encoding="utf-8")
    assert "nested too deeply" in one_line_error(run("analyze", deep))
    assert "nested too deeply" in one_line_error(run("export", deep, "--to", "dot"))
    assert "nested too deeply" in one_line_error(run("import", deep, "--from", "xaif"))


def test_brat_import_of_binary_files_is_refused(tmp_path):
    (tmp_path / "b.ann").write_bytes(bytes(range(256)))
    (tmp_path / "b.txt").write_text("Some text.", encoding="utf-8")
    assert "looks binary" in one_line_error(run("import", tmp_path / "b.ann", "--from", "brat"))
    (tmp_path / "c.ann").write_text("T1\tClaim 0 4\tSome\n", encoding="utf-8")
    (tmp_path / "c.txt").write_bytes(b"caf\xe9 au lait")
    assert "not valid UTF-8" in one_line_error(run("import", tmp_path / "c.ann", "--from", "brat"))


@pytest.mark.parametrize(
    "args, message",
    [
        (["-o", "{tmp}"], "cannot write {tmp}: it is a folder"),
        (["--format", "pdf"], "unknown format 'pdf'"),
        (["--format", "brat"], "a brat export is several files: name a folder with --output"),
        (["--format", "brat", "-o", "{file}"], "it is a file, and a brat export needs a folder"),
        (["-o", "/proc/argmine/graph.json"], "cannot write /proc/argmine/graph.json:"),
        (["-o", "{file}/graph.json"], "is not a folder"),
    ],
)
def test_outputs_that_cannot_be_written_are_refused_before_any_model_work(tmp_path, no_model, args, message):
    file = tmp_path / "existing.txt"
    file.write_text("x", encoding="utf-8")
    args = [a.format(tmp=tmp_path, file=file) for a in args]
    line = one_line_error(run("analyze", EXAMPLE, *args))
    assert message.format(tmp=tmp_path, file=file) in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_refused(tmp_path, no_model):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        assert "permission denied" in one_line_error(run("analyze", EXAMPLE, "-o", folder / "g.json")).lower()
    finally:
        folder.chmod(0o755)


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_output_files_get_the_umask_mode(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        argmine.write_text(str(tmp_path / "out.json"), "{}\n")
        argmine.write_files(str(tmp_path / "folder"), {"a.txt": "a"})
    finally:
        os.umask(old)
    assert (tmp_path / "out.json").stat().st_mode & 0o777 == mode
    assert (tmp_path / "folder" / "a.txt").stat().st_mode & 0o777 == mode


@pytest.mark.parametrize(
    "yaml_text, message",
    [
        ("model:\n  batch_size: 0\n", "setting model.batch_size = 0"),
        ("relations:\n  threshold: high\n", "setting relations.threshold = 'high'"),
        ("candidates:\n  window: five\n", "setting candidates.window = 'five'"),
        ("model: null\n", "setting model = None"),
        ("boilerplate: ['(unclosed']\n", "invalid regular expression"),
        ("input:\n  max_bytes: -5\n", "setting input.max_bytes = -5"),
        ("segmenter:\n  dateline: '[z-a]'\n", "setting segmenter.dateline"),
    ],
)
def test_bad_setting_values_name_the_setting_and_stop_before_the_model(tmp_path, no_model, yaml_text, message):
    config = tmp_path / "bad.yaml"
    config.write_text(yaml_text, encoding="utf-8")
    assert message in one_line_error(run("analyze", EXAMPLE, "--config", config))


@pytest.mark.parametrize("device", ["mps", "meta", "gpu", "cuda:x"])
def test_unknown_devices_are_refused(no_model, device):
    assert "unknown device" in one_line_error(run("analyze", EXAMPLE, "--device", device))


def test_a_model_file_is_not_a_model_folder(tmp_path):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"x")
    assert "is a file: pass the checkpoint's folder" in one_line_error(run("analyze", EXAMPLE, "--model", weights))


# ---------------------------------------------------------------- small ones


def test_json_lines_errors_name_the_line_once(tmp_path, no_model):
    batch = tmp_path / "b.jsonl"
    batch.write_text("[1]\n{oops\n", encoding="utf-8")
    record = argmine.analyze_all(str(batch))[1]
    assert re.findall(r"\bline \d+", str(record.error)) == ["line 2"]


def test_json_to_stdout_with_the_tree_keeps_stdout_one_json_document(tiny_model):
    result = run("analyze", FIXTURES / "thread.json", "--model", tiny_model, "-o", "-", "--tree", "-q")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["format"] == "argmine.graph"
    assert "units" in result.stderr and "relations" in result.stderr  # the tree's heading, on stderr


def test_comment_ids_title_and_article_do_not_collide_with_argmine_posts(tiny_model):
    thread = {
        "title": "Ban cars",
        "article": {"text": "The council wants to ban cars."},
        "comments": [
            {"id": "title", "text": "A comment called title disagrees strongly."},
            {"id": "article", "parent": "title", "text": "And one called article answers it."},
        ],
    }
    graph = argmine.analyze(json.dumps(thread), model=str(tiny_model))
    assert [(p.id, p.kind, p.parent) for p in graph.posts] == [
        ("title-2", "title", None),
        ("article-2", "article", None),
        ("title", "comment", "article-2"),
        ("article", "comment", "title"),
    ]


def test_comments_from_help_says_how_it_counts():
    result = run("analyze", "--help")
    assert "counting from 0" in re.sub(r"[│\s]+", " ", result.stdout)


# ---------------------------------------------------------------- round trips


@pytest.fixture(scope="module")
def threaded_graph(make_model):
    graph = argmine.analyze(FIXTURES / "thread.json", model=str(make_model("argmine", "support")))
    assert len(graph.posts) > 2 and any(p.parent for p in graph.posts) and graph.relations
    return graph


def shape(graph):
    def node(n):
        return (n.unit, n.label, tuple(node(c) for c in n.children))

    return [node(t) for t in graph.trees]


@pytest.mark.parametrize("fmt", ["brat", "label-studio", "doccano", "xaif"])
def test_posts_and_trees_survive_every_round_trip(threaded_graph, tmp_path, fmt):
    rendered = argmine.export([threaded_graph], fmt)
    if isinstance(rendered, dict):
        argmine.write_files(str(tmp_path / "out"), rendered)
        path = next((tmp_path / "out").glob("*.ann")) if fmt == "brat" else tmp_path / "out" / "tasks.json"
    else:
        path = tmp_path / "out.txt"
        path.write_text(rendered, encoding="utf-8")
    (back,) = argmine.import_graphs(path, fmt)
    assert back.id == threaded_graph.id
    assert back.posts == threaded_graph.posts
    assert [(u.start, u.end, u.text) for u in back.units] == [(u.start, u.end, u.text) for u in threaded_graph.units]
    assert shape(back) == shape(threaded_graph) and back.trees == threaded_graph.trees  # scores included


def test_doccano_import_compares_the_files_text_with_text(threaded_graph, tmp_path):
    exported = tmp_path / "d.jsonl"
    exported.write_text(argmine.export([threaded_graph], "doccano"), encoding="utf-8")
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("x" + threaded_graph.text[1:], encoding="utf-8")
    line = one_line_error(run("import", exported, "--from", "doccano", "--text", wrong))
    first = threaded_graph.units[0]
    assert f"--text differs from the file's own text at unit u1 ({first.start}:{first.end})" in line
    right = tmp_path / "right.txt"
    right.write_bytes(threaded_graph.text.encode("utf-8"))
    assert run("import", exported, "--from", "doccano", "--text", right).exit_code == 0


# ---------------------------------------------------------------- Reddit


def test_a_reddit_permalink_page_answers_the_post_with_one_warning(tmp_path, tiny_model):
    data = json.loads((FIXTURES / "reddit_thread.json").read_text(encoding="utf-8"))
    top = data[1]["data"]["children"]
    top[0]["data"]["parent_id"] = "t1_not_in_this_file"
    top[0]["data"]["replies"] = {
        "data": {
            "children": [{"kind": "t1", "data": {"name": "t1_gone", "parent_id": top[0]["data"]["name"], "body": "[deleted]"}}]
        }
    }
    page = tmp_path / "permalink.json"
    page.write_text(json.dumps(data), encoding="utf-8")
    result = run("analyze", page, "--model", tiny_model)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("argmine: warning: 1 Reddit comment(s) answer a comment not in the file") == 1
    graph = json.loads(result.stdout)
    posts = {p["id"]: p for p in graph["posts"]}
    assert posts["t1_k1"]["parent"] == "t3_abc123"
    assert "[deleted]" in graph["text"] and not [u for u in graph["units"] if u["post"] == "t1_gone"]


# ---------------------------------------------------------------- light commands


@pytest.mark.parametrize(
    "args",
    [
        ["export", "{graph}", "--to", "argdown"],
        ["import", "{xaif}", "--from", "xaif"],
        ["analyze", "/no/such/thread.txt"],
        ["analyze", "{graph}", "--format", "pdf"],
        ["--version"],
    ],
)
def test_commands_without_model_work_never_import_the_model_stack(tmp_path, tiny_model, args):
    graph = tmp_path / "g.json"
    graph.write_text(argmine.analyze(FIXTURES / "thread.json", model=str(tiny_model)).to_json(), encoding="utf-8")
    xaif = tmp_path / "g.xaif.json"
    xaif.write_text(argmine.export(argmine.load_graphs(str(graph)), "xaif"), encoding="utf-8")
    args = [a.format(graph=graph, xaif=xaif) for a in args]
    code = (
        "import sys\nfrom argmine.cli import main\nsys.argv = ['argmine', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', sorted(m for m in ('torch', 'transformers', 'sklearn', 'datasets') if m in sys.modules), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT)
    assert "HEAVY []" in proc.stderr, proc.stderr


@pytest.mark.slow
def test_readme_output_example_matches_a_real_run():
    """The README's output example shows the embedded model's real counts on examples/thread.txt."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Output format", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    stats = json.loads("{" + block.split('"stats": {', 1)[1].split("}", 1)[0] + "}")
    graph = argmine.analyze(ROOT / "examples" / "thread.txt")
    assert {k: graph.stats[k] for k in stats} == stats


@pytest.mark.parametrize("damaged", ["argmine_relation.json", "argmine_scorer.json"])
def test_a_damaged_model_file_is_one_line_naming_it(tmp_path, tiny_model, damaged):
    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    (folder / damaged).write_text('{"threshold": ', encoding="utf-8")
    line = one_line_error(run("analyze", EXAMPLE, "--model", folder))
    assert damaged in line and "malformed JSON" in line


def test_a_damaged_parser_file_is_one_line_naming_it(tmp_path, tiny_parser):
    folder = tmp_path / "parser"
    shutil.copytree(tiny_parser, folder)
    (folder / "argmine_parser.json").write_text("[1, 2", encoding="utf-8")
    line = one_line_error(run("analyze", EXAMPLE, "--model", folder))
    assert "argmine_parser.json" in line and "malformed JSON" in line


def test_a_damaged_batch_manifest_is_one_line_before_the_model_loads(tmp_path, no_model):
    source = tmp_path / "threads.jsonl"
    source.write_text(json.dumps({"id": "a", "article": {"text": "Cars pollute. So ban them."}}) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text('{"format": "argmine.batch", ', encoding="utf-8")
    line = one_line_error(run("batch", source, "-o", out))
    assert "manifest.json" in line and "malformed JSON" in line

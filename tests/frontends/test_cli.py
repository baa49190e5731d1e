import json

import pytest
from typer.testing import CliRunner

from argmine import __version__
from argmine.cli import app
from argmine.graph import validate
from tests.conftest import EXAMPLE, FIXTURES

runner = CliRunner()


def run(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"argmine {__version__}"


def test_analyze_writes_a_schema_valid_deterministic_graph(tmp_path, make_model):
    model = make_model("roberta-large-mnli", "ENTAILMENT")
    out1, out2 = tmp_path / "a.json", tmp_path / "b.json"
    for out in (out1, out2):
        result = run("analyze", EXAMPLE, "--model", model, "--output", out, "--quiet")
        assert result.exit_code == 0, result.stderr
    assert out1.read_bytes() == out2.read_bytes()
    graph = json.loads(out1.read_text(encoding="utf-8"))
    validate(graph)
    assert graph["text"] == EXAMPLE.read_text(encoding="utf-8")
    assert [p["kind"] for p in graph["posts"]] == ["title", "article"] + ["comment"] * 5
    assert graph["model"]["labels"] == {"CONTRADICTION": "attack", "NEUTRAL": "none", "ENTAILMENT": "support"}
    assert graph["stats"]["pairs_scored"] > 0 and graph["stats"]["seconds"] is None
    assert graph["relations"] and {r["label"] for r in graph["relations"]} == {"support"}
    ids = {u["id"] for u in graph["units"]}
    assert all(r["source"] in ids and r["target"] in ids for r in graph["relations"])


def test_stdin_and_stdout(tiny_model):
    text = "Prices rose sharply this year. People are angry because wages did not rise.\n"
    result = run("analyze", "-", "--model", tiny_model, "-q", input=text)
    assert result.exit_code == 0, result.stderr
    graph = json.loads(result.stdout)
    assert graph["source"]["path"] == "-" and [u["text"] for u in graph["units"]][-1] == "wages did not rise."


def test_tree_view(make_model):
    result = run("analyze", FIXTURES / "thread.json", "--model", make_model("argmine", "attack"), "--tree", "-q")
    assert result.exit_code == 0, result.stderr
    assert "attacks" in result.stdout and '"format"' not in result.stdout


def test_timings_are_recorded_on_request(tiny_model):
    result = run("analyze", FIXTURES / "thread.json", "--model", tiny_model, "-q", "--timings")
    assert set(json.loads(result.stdout)["stats"]["seconds"]) == {"segment", "relations", "decode", "total"}


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b"\xff\xfe\x00h\x00i", "binary"),
        (b"caf\xe9", "not valid UTF-8"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_output_file(tmp_path, tiny_model, content, message):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    out = tmp_path / "out.json"
    out.write_text("previous result", encoding="utf-8")
    result = run("analyze", bad, "--model", tiny_model, "-o", out)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert out.read_text(encoding="utf-8") == "previous result"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_malformed_json_and_reply_problems_exit_2(tmp_path, tiny_model):
    cases = {
        "bad.json": ("{", "malformed JSON"),
        "cycle.json": (
            json.dumps(
                {
                    "article": {"text": "A b c."},
                    "comments": [{"id": "x", "parent": "y", "text": "D."}, {"id": "y", "parent": "x", "text": "E."}],
                }
            ),
            "reply cycle",
        ),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
        result = run("analyze", tmp_path / name, "--model", tiny_model)
        assert result.exit_code == 2 and message in result.stderr


def test_file_over_size_limit_exits_2(tmp_path, tiny_model):
    (tmp_path / "small.yaml").write_text("input:\n  max_bytes: 100\n", encoding="utf-8")
    result = run("analyze", EXAMPLE, "--model", tiny_model, "--config", tmp_path / "small.yaml")
    assert result.exit_code == 2 and "larger than the limit of 100 bytes" in result.stderr


def test_unknown_setting_and_bad_model_exit_2(tmp_path, tiny_model):
    (tmp_path / "typo.yaml").write_text("modle:\n  name: x\n", encoding="utf-8")
    assert "unknown setting modle" in run("analyze", EXAMPLE, "--config", tmp_path / "typo.yaml").stderr
    result = run("analyze", EXAMPLE, "--model", tmp_path / "nothing-here")
    assert result.exit_code == 2 and "not found" in result.stderr


def test_long_units_are_truncated_with_a_warning(tmp_path):
    from tests import tiny_models

    model = tiny_models.build(tmp_path / "m", tiny_models.CONVENTIONS["argmine"], max_positions=16)
    thread = tmp_path / "long.txt"
    thread.write_text("The the the is not a yes. " * 3 + "\n", encoding="utf-8")
    result = run("analyze", thread, "--model", model)
    assert result.exit_code == 0, result.stderr
    assert "truncated" in result.stderr
    assert json.loads(result.stdout)["stats"]["truncated_pairs"] > 0


def test_jsonl_batch_continues_after_a_bad_line(tmp_path, tiny_model):
    good = {"article": {"text": "Fees rose. Students protested because rent also rose."}, "comments": []}
    batch = tmp_path / "batch.jsonl"
    batch.write_text(json.dumps({**good, "id": "a"}) + "\n{oops\n" + json.dumps({**good, "id": "b"}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run("analyze", batch, "--model", tiny_model, "-o", out, "-q")
    assert result.exit_code == 2 and "1 of 3 threads failed" in result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r.get("id") for r in records] == ["a", None, "b"]
    assert records[1]["format"] == "argmine.error" and records[1]["source"]["line"] == 2
    validate(records[0])


def test_jsonl_error_records_carry_the_threads_id_like_batch(tmp_path, tiny_model):
    good = {"article": {"text": "Fees rose."}}
    big = {"article": {"text": "Fees rose. Students protested. Rents rose too."}}
    lines = [json.dumps({**good, "id": "a"}), json.dumps({"id": "b", "comments": []}), "{oops", json.dumps({**big, "id": 7})]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = tmp_path / "limit.yaml"
    config.write_text("candidates:\n  max_pairs: 1\n", encoding="utf-8")  # thread 7 is over it, thread a is not
    args = ["--model", tiny_model, "--config", config, "-q"]
    out = tmp_path / "out.jsonl"
    assert run("analyze", source, "-o", out, *args).exit_code == 2
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["format"] for r in records] == ["argmine.graph"] + ["argmine.error"] * 3
    assert [r.get("id") for r in records] == ["a", "b", None, "7"]  # a read error and a refusal alike; no id, none
    assert run("batch", source, "-o", tmp_path / "shards", *args).exit_code == 2
    shard = [json.loads(line) for f in sorted((tmp_path / "shards").glob("shard-*.jsonl")) for line in f.read_text().splitlines()]
    for mine, theirs in zip(records[1:], shard[1:]):  # the same record shape; batch names an id-less line "line-3"
        assert list(mine) == (list(theirs) if "id" in mine else [k for k in theirs if k != "id"])
    assert [shard[1]["id"], shard[3]["id"]] == [records[1]["id"], records[3]["id"]]


def test_reddit_thread_end_to_end(tiny_model):
    result = run("analyze", FIXTURES / "reddit_thread.json", "--model", tiny_model, "-q")
    assert result.exit_code == 0, result.stderr
    graph = json.loads(result.stdout)
    validate(graph)
    assert [p["author"] for p in graph["posts"]] == [None, "op_user", "r1", "r2", "r3"]


def test_emoji_crlf_offsets_survive_end_to_end(tiny_model):
    graph = json.loads(run("analyze", FIXTURES / "thread.json", "--model", tiny_model, "-q").stdout)
    assert "\r\n" in graph["text"] and "🎉" in graph["text"]
    for unit in graph["units"]:
        assert graph["text"][unit["start"] : unit["end"]] == unit["text"]
    assert any("🎉" in u["text"] for u in graph["units"])


def test_internal_fault_exits_1(tiny_model, monkeypatch):
    import argmine.relations.pair

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(argmine.relations.pair, "candidate_pairs", broken)
    result = run("analyze", EXAMPLE, "--model", tiny_model, "-q")
    assert result.exit_code == 1 and "internal error: RuntimeError: boom" in result.stderr


def test_python_dash_m_entry_point(tiny_model):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "argmine", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("argmine ")

"""argmine batch: every input kind, shards and manifest, error records, and a real kill and resume."""

import gzip
import json
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

import argmine
from argmine.cli import app
from tests.conftest import ROOT

runner = CliRunner()


def corpus(n=25, broken=(7,)):
    rows = []
    for i in range(n):
        comments = [
            {
                "id": f"c{j}",
                "parent": f"c{j - 1}" if j % 2 else None,
                "text": f"Comment {j} on {i}: taxes rise because councils spend. But people leave.",
            }
            for j in range(i % 4)
        ]
        rows.append(
            {
                "id": f"t{i}",
                "article": {"text": f"Thread {i}. The council raised taxes because budgets fell."},
                "comments": comments,
            }
        )
    lines = [json.dumps(r) for r in rows]
    for k in broken:
        lines[k] = "{broken"
    return rows, "\n".join(lines) + "\n"


def records(folder):
    out = []
    for shard in sorted(folder.glob("shard-*.jsonl")):
        out += [json.loads(line) for line in shard.read_text(encoding="utf-8").splitlines()]
    return out


def test_jsonl_batch_writes_shards_a_manifest_and_error_records(tmp_path, tiny_model):
    _, text = corpus()
    (tmp_path / "in.jsonl").write_text(text, encoding="utf-8")
    summary = argmine.run_batch(tmp_path / "in.jsonl", tmp_path / "out", model=str(tiny_model), shard_size=10, group_size=4)
    assert (summary.threads, summary.errors, summary.skipped) == (25, 1, 0)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "manifest.json",
        "shard-00000.jsonl",
        "shard-00001.jsonl",
        "shard-00002.jsonl",
    ]
    got = records(tmp_path / "out")
    assert [r["id"] for r in got] == [f"t{i}" if i != 7 else "line-8" for i in range(25)]
    assert got[7]["format"] == "argmine.error" and "line 8" in got[7]["error"]
    for r in got:
        if r["format"] == "argmine.graph":
            argmine.Graph.from_dict(r)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["complete"] and manifest["threads"] == 25 and manifest["shards"]["shard-00002"]["threads"] == 5
    # grouping threads into one model pass gives each thread the graph it gets alone
    alone = argmine.analyze(json.dumps(corpus()[0][3]), model=str(tiny_model))
    assert [u.text for u in alone.units] == [u["text"] for u in got[3]["units"]]
    assert {(r.source, r.target, r.label) for r in alone.relations} == {
        (r["source"], r["target"], r["label"]) for r in got[3]["relations"]
    }
    # the same command again finds everything done
    again = argmine.run_batch(tmp_path / "in.jsonl", tmp_path / "out", model=str(tiny_model), shard_size=10, group_size=4)
    assert (again.threads, again.skipped) == (0, 25)
    with pytest.raises(argmine.InputError, match="another job's output"):
        argmine.run_batch(tmp_path / "in.jsonl", tmp_path / "out", model=str(tiny_model), shard_size=5)


def test_every_input_kind_gives_the_same_threads(tmp_path, tiny_model):
    import pyarrow as pa
    import pyarrow.parquet as pq
    import zstandard
    from datasets import Dataset

    rows, text = corpus(12, broken=())
    (tmp_path / "in.jsonl").write_text(text, encoding="utf-8")
    with gzip.open(tmp_path / "in.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write(text)
    (tmp_path / "in.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(text.encode("utf-8")))
    pq.write_table(pa.table({"id": [r["id"] for r in rows], "thread": [json.dumps(r) for r in rows]}), tmp_path / "in.parquet")
    Dataset.from_list([{"id": r["id"], "thread": json.dumps(r)} for r in rows]).save_to_disk(str(tmp_path / "dataset"))
    (tmp_path / "folder").mkdir()
    for r in rows:
        (tmp_path / "folder" / f"{r['id']}.json").write_text(json.dumps(r), encoding="utf-8")
    outputs = {}
    for name in ("in.jsonl", "in.jsonl.gz", "in.jsonl.zst", "in.parquet", "dataset", "folder"):
        argmine.run_batch(tmp_path / name, tmp_path / f"out-{name}", model=str(tiny_model), shard_size=5)
        got = records(tmp_path / f"out-{name}")
        outputs[name] = [(r["id"], [u["text"] for u in r["units"]], r["relations"]) for r in got]
    ids = {name: sorted(x[0] for x in v) for name, v in outputs.items()}
    assert all(v == sorted(r["id"] for r in rows) for v in ids.values()), ids
    reference = sorted(outputs["in.jsonl"])
    assert all(sorted(v) == reference for v in outputs.values())


def test_parquet_shards(tmp_path, tiny_model):
    import pyarrow.parquet as pq

    _, text = corpus(8)
    (tmp_path / "in.jsonl").write_text(text, encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "batch",
            str(tmp_path / "in.jsonl"),
            "-o",
            str(tmp_path / "out"),
            "--output-format",
            "parquet",
            "--shard-size",
            "4",
            "--model",
            str(tiny_model),
            "-q",
        ],
    )
    assert result.exit_code == 2  # a thread failed: recorded, the others written
    assert "8 threads (0 done before)" in result.stdout and "1 errors" in result.stdout
    assert result.stderr.strip() == "argmine: error: 1 of 8 threads failed (argmine.error records)"
    table = pq.read_table(tmp_path / "out" / "shard-00001.parquet").to_pylist()
    assert [r["id"] for r in table] == ["t4", "t5", "t6", "line-8"] and [r["ok"] for r in table] == [True, True, True, False]
    assert json.loads(table[0]["record"])["format"] == "argmine.graph"


@pytest.mark.slow  # CLI processes with a model, killed and started again
def test_a_killed_run_resumes_and_writes_every_thread_exactly_once(tmp_path, tiny_model):
    _, text = corpus(400, broken=(3, 250))
    (tmp_path / "in.jsonl").write_text(text, encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "argmine",
        "batch",
        str(tmp_path / "in.jsonl"),
        "-o",
        str(tmp_path / "out"),
        "--shard-size",
        "50",
        "--group-size",
        "2",
        "--model",
        str(tiny_model),
        "-q",
    ]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:  # kill it inside a shard, after at least one shard
        partials = list((tmp_path / "out").glob("*.partial")) if (tmp_path / "out").is_dir() else []
        if (tmp_path / "out" / "shard-00001.jsonl").is_file() and partials and partials[0].stat().st_size > 0:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert not manifest["complete"]
    resumed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert resumed.returncode == 2 and resumed.stderr.strip().endswith("2 of 400 threads failed (argmine.error records)")
    assert "done before" in resumed.stdout and not resumed.stdout.startswith("400 threads (0 done before)")
    got = records(tmp_path / "out")
    ids = [r["id"] for r in got]
    assert len(ids) == 400 == len(set(ids))
    # the same job run without a stop gives the same bytes
    clean = subprocess.run([*command[:6], str(tmp_path / "clean"), *command[7:]], cwd=ROOT, capture_output=True, text=True)
    assert clean.returncode == 2, clean.stderr
    for shard in sorted((tmp_path / "clean").glob("shard-*.jsonl")):
        assert (tmp_path / "out" / shard.name).read_bytes() == shard.read_bytes()
    assert not list((tmp_path / "out").glob("*.partial"))


def test_batch_refuses_bad_inputs_in_one_line(tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n", encoding="utf-8")
    result = runner.invoke(app, ["batch", str(tmp_path / "x.csv"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "batch input is JSON Lines" in result.stderr
    (tmp_path / "file").write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["batch", str(tmp_path / "x.csv"), "-o", str(tmp_path / "file")])
    assert result.exit_code == 2 and "needs a folder" in result.stderr


@pytest.mark.slow
def test_the_ray_engine_writes_the_same_shards_as_the_local_one(tmp_path, tiny_model):
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'argmine[ray]')")
    _, text = corpus(30)
    (tmp_path / "in.jsonl").write_text(text, encoding="utf-8")
    base = ["batch", str(tmp_path / "in.jsonl"), "--shard-size", "8", "--group-size", "3", "--model", str(tiny_model), "-q"]
    local = runner.invoke(app, [*base, "-o", str(tmp_path / "local")])
    failed = "argmine: error: 1 of 30 threads failed (argmine.error records)"  # line 8 of the corpus is broken
    assert local.exit_code == 2 and local.stderr.strip() == failed, local.stderr
    ray = subprocess.run(
        [sys.executable, "-m", "argmine", *base, "-o", str(tmp_path / "ray"), "--engine", "ray", "--workers", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert ray.returncode == 2, ray.stderr[-2000:]
    assert ray.stderr.strip() == failed, ray.stderr[-2000:]  # -q: not a line of Ray's own logging
    shards = sorted(p.name for p in (tmp_path / "local").glob("shard-*"))
    assert shards == sorted(p.name for p in (tmp_path / "ray").glob("shard-*")) and len(shards) == 4
    for name in shards:
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()


def test_a_folder_keeps_json_threads_own_ids_and_same_named_files_apart(tmp_path, tiny_model):
    folder = tmp_path / "threads"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.json").write_text(json.dumps({"id": "thread-a", "article": {"text": "Cars pollute."}}), "utf-8")
    (folder / "x.json").write_text(json.dumps({"article": {"text": "Buses pollute."}}), "utf-8")
    (folder / "x.txt").write_text("Trains do not pollute.", "utf-8")
    (folder / "sub" / "y.txt").write_text("Bikes are clean.", "utf-8")
    argmine.run_batch(folder, tmp_path / "out", model=str(tiny_model))
    got = {r["id"]: r for r in records(tmp_path / "out")}
    assert sorted(got) == ["sub/y", "thread-a", "x.json", "x.txt"]
    assert all(r["format"] == "argmine.graph" for r in got.values())
    assert got["x.txt"]["units"][0]["text"] == "Trains do not pollute."


def test_another_jobs_folder_is_refused_before_the_model_loads(tmp_path, tiny_model, monkeypatch):
    _, text = corpus(3, broken=())
    (tmp_path / "in.jsonl").write_text(text, encoding="utf-8")
    argmine.run_batch(tmp_path / "in.jsonl", tmp_path / "out", model=str(tiny_model))
    monkeypatch.setattr(argmine.RelationModel, "load", lambda *a, **k: pytest.fail("the model must not load"))
    result = runner.invoke(app, ["batch", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out"), "--shard-size", "2"])
    assert result.exit_code == 2 and "holds another job's output" in result.stderr


def test_a_batch_with_error_records_exits_2_like_analyze(tmp_path, tiny_model):
    _, text = corpus(4, broken=(1,))
    (tmp_path / "in.jsonl").write_text(text, encoding="utf-8")
    args = ["--model", str(tiny_model), "-q"]
    batch = runner.invoke(app, ["batch", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out"), *args])
    analyze = runner.invoke(app, ["analyze", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "a.jsonl"), *args])
    assert batch.exit_code == analyze.exit_code == 2
    assert batch.stderr.strip() == "argmine: error: 1 of 4 threads failed (argmine.error records)"
    assert len(records(tmp_path / "out")) == 4 and len((tmp_path / "a.jsonl").read_text().splitlines()) == 4
    again = runner.invoke(app, ["batch", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out"), *args])
    assert again.exit_code == 2 and "4 done before" in again.stdout  # the finished job still has its failure
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["errors"] == 1

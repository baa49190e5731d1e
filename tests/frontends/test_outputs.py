"""Nothing overwritten by mistake: outputs write where they point (a symlink's target, a pipe, a device)
and never onto an input; an interrupted run keeps what finished and says so in one line; usage mistakes
and impossible devices are one-line errors before any model work."""

import json
import os
import stat
import subprocess
import sys
import threading

import pytest
from typer.testing import CliRunner

import argmine
from argmine.cli import app
from tests.conftest import FIXTURES, ROOT

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def one_line_error(result, code=2):
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("argmine: error: "), result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def graph_file(tiny_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("graph") / "g.json"
    path.write_text(argmine.analyze(FIXTURES / "thread.json", model=str(tiny_model)).to_json(), encoding="utf-8")
    return path


def argdown_of(graph_file) -> str:
    return argmine.export(argmine.load_graphs(str(graph_file)), "argdown")


# ---------------------------------------------------------------- where outputs go


def test_an_output_symlink_is_written_through_to_its_target(graph_file, tmp_path):
    target = tmp_path / "real.argdown"
    target.write_text("old", encoding="utf-8")
    link = tmp_path / "link.argdown"
    link.symlink_to(target)
    assert run("export", graph_file, "--to", "argdown", "-o", link).exit_code == 0
    assert link.is_symlink() and target.read_text(encoding="utf-8") == argdown_of(graph_file)
    dangling = tmp_path / "dangling.argdown"
    dangling.symlink_to(tmp_path / "new.argdown")
    assert run("export", graph_file, "--to", "argdown", "-o", dangling).exit_code == 0
    assert dangling.is_symlink() and (tmp_path / "new.argdown").read_text(encoding="utf-8") == argdown_of(graph_file)


def test_a_fifo_reader_gets_the_whole_output(graph_file, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text(encoding="utf-8")))
    reader.start()
    result = run("export", graph_file, "--to", "argdown", "-o", fifo)
    reader.join(timeout=30)
    assert result.exit_code == 0, result.stderr
    assert got == [argdown_of(graph_file)] and stat.S_ISFIFO(fifo.stat().st_mode)


def test_dev_stdout_appended_to_a_file_by_the_shell_fills_that_file(graph_file, tmp_path):
    target = tmp_path / "redirected.argdown"
    target.write_text("// header\n", encoding="utf-8")
    with target.open("a") as stdout:  # `>> redirected.argdown`
        args = [sys.executable, "-m", "argmine", "export", str(graph_file), "--to", "argdown", "-o", "/dev/stdout"]
        proc = subprocess.run(args, stdout=stdout, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert target.read_text(encoding="utf-8") == "// header\n" + argdown_of(graph_file)


def test_a_device_is_written_in_place_not_replaced(graph_file, tmp_path):
    null = tmp_path / "null"
    try:
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a second /dev/null (needs root)
    except (PermissionError, OSError):
        pytest.skip("cannot make a device node here (not root)")
    assert run("export", graph_file, "--to", "argdown", "-o", null).exit_code == 0
    assert stat.S_ISCHR(null.stat().st_mode)


def test_an_output_that_is_an_input_is_refused_before_any_work(graph_file, tmp_path, monkeypatch):
    monkeypatch.setattr(argmine.RelationModel, "load", lambda *a, **k: pytest.fail("the model must not load"))
    thread = tmp_path / "ok.txt"
    thread.write_text("Cars pollute the air. So we should ban them.", encoding="utf-8")
    line = one_line_error(run("analyze", thread, "-o", thread))
    assert line == f"argmine: error: cannot write {thread}: it is the input {thread}"
    alias = tmp_path / "alias.txt"
    alias.symlink_to(thread)
    assert "it is the input" in one_line_error(run("analyze", thread, "-o", alias))
    assert thread.read_text(encoding="utf-8") == "Cars pollute the air. So we should ban them."
    config = tmp_path / "my.yaml"
    config.write_text("relations:\n  threshold: 0.3\n", encoding="utf-8")
    assert "it is the input" in one_line_error(run("analyze", thread, "-c", config, "-o", config))
    assert "it is the input" in one_line_error(run("export", graph_file, "--to", "argdown", "-o", graph_file))
    assert "it is the input" in one_line_error(run("view", graph_file, "-o", graph_file))
    xaif = tmp_path / "g.xaif.json"
    xaif.write_text(argmine.export(argmine.load_graphs(str(graph_file)), "xaif"), encoding="utf-8")
    assert "it is the input" in one_line_error(run("import", xaif, "--from", "xaif", "-o", xaif))
    # a folder export whose files would replace the input
    folder = tmp_path / "ls"
    folder.mkdir()
    tasks = folder / "tasks.json"
    tasks.write_bytes(graph_file.read_bytes())
    assert f"cannot write {folder}/tasks.json: it is the input" in one_line_error(
        run("export", tasks, "--to", "label-studio", "-o", folder)
    )
    assert tasks.read_bytes() == graph_file.read_bytes()


def test_a_batch_into_its_own_input_folder_is_refused(tmp_path):
    (tmp_path / "threads").mkdir()
    (tmp_path / "threads" / "a.json").write_text(json.dumps({"article": {"text": "Cars pollute."}}), encoding="utf-8")
    for out in (tmp_path / "threads", tmp_path / "threads" / "out"):
        assert "input" in one_line_error(run("batch", tmp_path / "threads", "-o", out))
    assert not (tmp_path / "threads" / "out").exists()


# ---------------------------------------------------------------- interrupted runs


def test_ctrl_c_during_json_lines_keeps_the_finished_graphs(tiny_model, tmp_path, monkeypatch):
    import argmine.pipeline

    lines = [json.dumps({"id": f"t{i}", "article": {"text": f"Thread {i}. Cars pollute the air."}}) for i in range(4)]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    original = argmine.pipeline.analyze_document
    calls = []

    def stopping(doc, *args, **kwargs):
        calls.append(doc.id)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(doc, *args, **kwargs)

    monkeypatch.setattr(argmine.pipeline, "analyze_document", stopping)
    out = tmp_path / "out.jsonl"
    result = run("analyze", tmp_path / "in.jsonl", "--model", tiny_model, "-o", out, "-q")
    assert result.exit_code == 130
    assert result.stderr.strip() == f"argmine: interrupted: the 2 threads finished are written to {out}"
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [g["id"] for g in written] == ["t0", "t1"] and all(g["format"] == "argmine.graph" for g in written)
    assert not list(tmp_path.glob(".out.jsonl.*"))  # written atomically: no temp file left


def test_ctrl_c_on_one_thread_is_one_line(tiny_model, monkeypatch):
    import argmine.pipeline

    def stopping(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(argmine.pipeline, "analyze_document", stopping)
    result = run("analyze", FIXTURES / "thread.json", "--model", tiny_model)
    assert result.exit_code == 130 and result.stderr.strip() == "argmine: interrupted" and not result.stdout


def test_ctrl_c_during_a_batch_says_how_to_resume(tiny_model, tmp_path, monkeypatch):
    import argmine.batch

    lines = [json.dumps({"id": f"t{i}", "article": {"text": f"Thread {i}. Cars pollute the air."}}) for i in range(6)]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    original = argmine.batch.analyze_group
    calls = []

    def stopping(docs, *args):
        calls.append(len(docs))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(docs, *args)

    monkeypatch.setattr(argmine.batch, "analyze_group", stopping)
    args = ["batch", tmp_path / "in.jsonl", "-o", tmp_path / "out", "--model", tiny_model, "--group-size", "2", "-q"]
    result = run(*args)
    assert result.exit_code == 130
    assert result.stderr.strip() == (
        f"argmine: interrupted: finished threads are kept in {tmp_path / 'out'}; run the same command to resume"
    )
    monkeypatch.setattr(argmine.batch, "analyze_group", original)
    again = run(*args)
    assert again.exit_code == 0 and again.stdout.startswith("4 threads (2 done before)")


# ---------------------------------------------------------------- usage and devices


@pytest.mark.parametrize(
    "args, message",
    [
        (["analyze"], "Missing argument 'file'. (see argmine analyze --help)"),
        (["analyze", "x.txt", "--bogus"], "No such option: --bogus (see argmine analyze --help)"),
        (["analyze", "x.txt", "--batch-size", "zero"], "Invalid value for '--batch-size'"),
        (["nonsense"], "No such command 'nonsense'."),
    ],
)
def test_usage_mistakes_are_one_line(args, message):
    line = one_line_error(run(*args))
    assert message in line and "╭" not in line


def test_a_bare_argmine_still_shows_the_help():
    result = run()
    assert result.exit_code == 2 and "analyze" in result.stdout + result.stderr


def test_cuda_without_cuda_is_refused_before_the_model_stack_is_imported(tmp_path):
    code = (
        "import sys\nfrom argmine.cli import main\nsys.argv = ['argmine', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    print('EXIT', exc.code, file=sys.stderr)\n"
        "print('HEAVY', sorted(m for m in ('torch', 'transformers', 'sklearn') if m in sys.modules), file=sys.stderr)\n"
    )
    for args in (
        ["analyze", str(FIXTURES / "thread.json"), "--device", "cuda"],
        ["batch", str(tmp_path), "-o", str(tmp_path / "o"), "--device", "cuda:1"],
    ):
        proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT)
        if "no CUDA GPU is available" not in proc.stderr:
            pytest.skip("this machine may have CUDA")
        lines = proc.stderr.strip().splitlines()
        assert lines[0].startswith("argmine: error: device") and "EXIT 2" in lines and "HEAVY []" in lines, proc.stderr

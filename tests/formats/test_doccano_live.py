"""argmine's doccano export checked by a real doccano: a relation project, argmine's JSONL imported through
doccano's own API (its upload and import task), exported back by doccano, and read by argmine's importer:
units, labels and relations equal.

doccano lives in its own virtual environment (its pins clash with argmine's): the test finds its
``doccano`` executable in ``ARGMINE_DOCCANO`` or ``.dcenv/bin/doccano`` (``.ci/run`` creates it) and skips
without it. It runs on a free localhost port with SQLite in a temporary folder (``DOCCANO_HOME``), with
doccano's task worker beside the web server, as doccano's own quick start does.
"""

import io
import os
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

import argmine
from argmine.evaluation.corpora import read_microtexts, read_qt30
from tests.conftest import FIXTURES, ROOT, free_port, stop_process

pytestmark = pytest.mark.slow
httpx = pytest.importorskip("httpx", reason="httpx is not installed (pip install -e '.[test]')")
USER, PASSWORD = "argmine", "argmine-test-password"


def executable() -> str:
    path = os.environ.get("ARGMINE_DOCCANO") or str(ROOT / ".dcenv" / "bin" / "doccano")
    if not Path(path).is_file():
        pytest.skip(f"doccano is not installed ({path} is absent: .ci/run creates .dcenv, or set ARGMINE_DOCCANO)")
    return path


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


@pytest.fixture(scope="module")
def doccano(tmp_path_factory):
    """A logged-in API client of a fresh doccano (web server and task worker)."""
    exe = executable()
    home = tmp_path_factory.mktemp("doccano")
    env = {**os.environ, "DOCCANO_HOME": str(home), "HOME": str(home)}
    subprocess.run([exe, "init"], env=env, check=True, capture_output=True, timeout=600)
    subprocess.run([exe, "createuser", "--username", USER, "--password", PASSWORD], env=env, check=True, capture_output=True)
    port = free_port()
    web = _start([exe, "webserver", "--port", str(port)], env, home / "web.log")
    worker = _start([exe, "task"], env, home / "task.log")
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/v1/health/", timeout=5).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if web.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"doccano did not come up: {(home / 'web.log').read_text(errors='replace')[-2000:]}")
            time.sleep(0.5)
        client = httpx.Client(base_url=url, timeout=60)
        key = client.post("/v1/auth/login/", json={"username": USER, "password": PASSWORD}).json()["key"]
        client.headers["Authorization"] = f"Token {key}"
        client.cookies.clear()  # the token alone: a session cookie would ask for a CSRF token
        yield client
    finally:
        stop_process(web)
        stop_process(worker)


def _wait(client, task_id: str) -> dict:
    for _ in range(240):
        status = client.get(f"/v1/tasks/status/{task_id}").json()
        if status.get("ready"):
            assert not status.get("error"), status
            return status
        time.sleep(0.5)
    pytest.fail(f"doccano task {task_id} did not finish")


def _round_trip(client, graphs: list, tmp_path: Path) -> list:
    """argmine's doccano export imported into a new relation project, exported by doccano, read back."""
    project = client.post(
        "/v1/projects",
        json={
            "name": f"argmine {time.time()}",
            "description": "argmine round trip",
            "project_type": "SequenceLabeling",
            "resourcetype": "SequenceLabelingProject",
            "use_relation": True,
            "guideline": "",
        },
    ).json()
    upload = client.post("/v1/fp/process/", files={"filepond": ("argmine.jsonl", argmine.export(graphs, "doccano").encode())})
    started = client.post(
        f"/v1/projects/{project['id']}/upload",
        json={"format": "JSONL", "task": "RelationExtraction", "uploadIds": [upload.text], "column_data": "text",
              "column_label": "label", "delimiter": "", "encoding": "utf_8"},
    ).json()  # fmt: skip
    assert _wait(client, started["task_id"])["result"]["error"] == []
    export = client.post(f"/v1/projects/{project['id']}/download", json={"format": "JSONL", "exportApproved": False}).json()
    _wait(client, export["task_id"])
    body = client.get(f"/v1/projects/{project['id']}/download", params={"taskId": export["task_id"]}).content
    (name,) = zipfile.ZipFile(io.BytesIO(body)).namelist()
    path = tmp_path / "from-doccano.jsonl"
    path.write_bytes(zipfile.ZipFile(io.BytesIO(body)).read(name))
    return argmine.import_graphs(path, "doccano")


def test_a_real_doccano_takes_the_export_and_gives_back_the_same_units_labels_and_relations(doccano, tmp_path):
    graphs = read_microtexts(FIXTURES / "corpora" / "microtexts") + read_qt30(FIXTURES / "corpora" / "qt30")
    back = {g.id: g for g in _round_trip(doccano, graphs, tmp_path)}
    assert set(back) == {g.id for g in graphs}
    for gold in graphs:
        again = back[gold.id]
        assert again.document.text == gold.document.text
        assert [(u.start, u.end, u.text) for u in again.units] == [(u.start, u.end, u.text) for u in gold.units]
        assert sorted((r.source, r.target, r.label) for r in again.relations) == sorted(
            (r.source, r.target, r.label) for r in gold.relations
        )
        assert [p.id for p in again.document.posts] == [p.id for p in gold.document.posts]

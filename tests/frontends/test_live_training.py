"""Live training in ``argmine serve``: Label Studio's START_TRAINING (or every N annotations) adapts a tiny
parser on the project's annotations, fetched from a fake Label Studio (httpx's MockTransport), into a
new version served atomically; every failure leaves the served model as it was and says why."""

import json
import threading
import time

import pytest
from typer.testing import CliRunner

import argmine
from argmine.cli import app as cli_app
from argmine.evaluation.corpora import read_microtexts
from argmine.formats import label_studio
from tests.conftest import FIXTURES

httpx = pytest.importorskip("httpx", reason="httpx is not installed (pip install -e '.[test]')")
pytest.importorskip("fastapi", reason="the serve extra is not installed (pip install -e '.[serve]')")
from fastapi.testclient import TestClient  # noqa: E402

from argmine import live_training, serve  # noqa: E402
from argmine.training.adapt import AdaptPlan  # noqa: E402

TOKEN = "serve-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
KEY = "ls-api-key"
PAT = "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl"  # a personal access token's shape (a JWT)
URL = "http://label-studio.test"
TEXT = "Cars pollute the air. So the city should ban them downtown.\n\nNo, buses pollute too, because they burn diesel."
START = {"action": "START_TRAINING", "project": {"id": 7, "title": "argmine"}}


def annotated_tasks(relations: bool = True) -> list[dict]:
    """Label Studio's export of corrected tasks: argmine's own export of gold graphs, as annotations."""
    tasks = []
    for n, graph in enumerate(read_microtexts(FIXTURES / "corpora" / "microtexts"), start=1):
        task = label_studio.task(graph, n)
        result = [r for r in task.pop("predictions")[0]["result"] if relations or r["type"] != "relation"]
        tasks.append({**task, "annotations": [{"id": n, "result": result, "was_cancelled": False}]})
    return tasks


class FakeLabelStudio:
    """Answers the export API as Label Studio does, or fails as told; ``hold`` keeps a request waiting."""

    def __init__(self, tasks=None, status: int = 200, down: bool = False):
        self.tasks, self.status, self.down = tasks if tasks is not None else annotated_tasks(), status, down
        self.hold, self.requests = None, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.hold is not None:
            self.hold.wait(60)
        if self.down:
            raise httpx.ConnectError("Connection refused", request=request)
        if request.url.path == "/api/token/refresh/":
            if json.loads(request.content)["refresh"] != PAT:
                return httpx.Response(401, json={"detail": "Token is invalid or expired"})
            return httpx.Response(200, json={"access": "access-token"})
        if request.headers.get("authorization") not in (f"Token {KEY}", "Bearer access-token"):
            return httpx.Response(401, json={"detail": "Invalid token."})
        if request.url.path != "/api/projects/7/export" or request.url.params.get("exportType") != "JSON":
            return httpx.Response(404, json={"detail": "Not found."})
        return httpx.Response(self.status, json=self.tasks)


def make(model_path, tmp_path, fake: FakeLabelStudio, key: str = KEY, train_every=None):
    """(test client, live training) serving ``model_path`` with live training against ``fake``."""
    settings = argmine.load_settings(None, {"model": {"name": str(model_path)}})
    versions = live_training.Versions(tmp_path / "versions", settings)
    slot = live_training.Slot(live_training.serving(versions.load("base"), "base"))
    api = live_training.LabelStudioAPI(URL, key, transport=httpx.MockTransport(fake))
    live = live_training.LiveTraining(slot, versions, settings, api, train_every, AdaptPlan(epochs=1, mix=0.0))
    app = serve.create_app(slot.current.model, settings, TOKEN, live=live)
    return TestClient(app), live


def predict(client) -> dict:
    r = client.post("/predict", json={"tasks": [{"id": 1, "data": {"text": TEXT}}]}, headers=AUTH)
    assert r.status_code == 200, r.text
    return r.json()


def leftovers(tmp_path) -> list[str]:
    return [p.name for p in (tmp_path / "versions").iterdir() if p.name.startswith(".adapting-")]


def test_start_training_adapts_on_the_annotations_and_serves_the_new_version(tiny_parser, tmp_path):
    client, live = make(tiny_parser, tmp_path, fake := FakeLabelStudio())
    with client:
        before = predict(client)
        assert client.get("/health").json()["training"] == {"state": "idle"}
        r = client.post("/webhook", json=START, headers=AUTH)
        assert r.status_code == 200 and r.json() == {"status": "started", "project": 7}
        live.wait(300)
        training = client.get("/health").json()["training"]
        assert training["state"] == "done" and training["version"] == "v1" and training["progress"] == 1.0, training
        assert training["tasks"] == len(fake.tasks) and "error" not in training
        listed = client.get("/versions", headers=AUTH).json()
        assert listed["versions"] == ["base", "v1"] and listed["current"] == "v1"
        assert [d["current"] for d in listed["details"]] == [False, True]
        assert listed["details"][1]["project"] == 7 and listed["details"][1]["tasks"] == len(fake.tasks)
        after = predict(client)
        folder = tmp_path / "versions" / "v1"
        assert after["model_version"] == f"argmine {folder}" != before["model_version"]
        assert after["results"][0]["model_version"] == after["model_version"]
        assert client.post("/setup", json={}, headers=AUTH).json()["model_version"] == after["model_version"]
        assert client.get("/health").json()["model_version"] == after["model_version"]
    stored = json.loads((folder / "argmine_parser.json").read_text())["adapted"]
    assert stored["threads"] == len(fake.tasks) and stored["sources"] == [f"label-studio={URL}/projects/7"]
    assert argmine.analyze(TEXT, model=str(folder)).model["kind"] == "parser"  # a model folder like any other
    assert not leftovers(tmp_path)


def test_a_second_start_while_one_runs_is_refused_and_predictions_go_on(tiny_parser, tmp_path):
    fake = FakeLabelStudio()
    fake.hold = threading.Event()
    client, live = make(tiny_parser, tmp_path, fake)
    with client:
        base = predict(client)["model_version"]
        assert client.post("/webhook", json=START, headers=AUTH).json()["status"] == "started"
        while not fake.requests:  # the job has reached Label Studio, where it waits
            time.sleep(0.05)
        second = client.post("/webhook", json=START, headers=AUTH)
        assert second.status_code == 200 and second.json()["status"] == "refused"
        assert "already running" in second.json()["reason"] and "project 7" in second.json()["reason"]
        training = client.get("/health").json()["training"]
        assert training["state"] == "running" and training["phase"].startswith("fetching"), training
        assert predict(client)["model_version"] == base  # the current model answers meanwhile
        fake.hold.set()
        assert live.wait(300)["state"] == "done"
        assert predict(client)["model_version"] != base
        assert len(fake.requests) == 1  # the refused start fetched nothing


def annotations_without_relations():
    return annotated_tasks(relations=False)


def skipped_annotations():
    return [{**t, "annotations": [{**t["annotations"][0], "was_cancelled": True}]} for t in annotated_tasks()]


@pytest.mark.parametrize(
    ("fake", "key", "words"),
    [
        (lambda: FakeLabelStudio(down=True), KEY, f"Label Studio at {URL} is unreachable"),
        (FakeLabelStudio, "wrong-key", "refused the API key (HTTP 401)"),
        (FakeLabelStudio, PAT[:-3] + "xyz", "refused the personal access token (HTTP 401)"),
        (lambda: FakeLabelStudio(status=500), KEY, "answered HTTP 500"),
        (lambda: FakeLabelStudio(tasks=[]), KEY, "project 7 has no annotated task"),
        (lambda: FakeLabelStudio(tasks=skipped_annotations()), KEY, "project 7 has no annotated task"),
        (lambda: FakeLabelStudio(tasks=annotations_without_relations()), KEY, "have no relation"),
        (lambda: FakeLabelStudio(tasks=[{"id": 1, "data": {"text": "x"}, "annotations": [{"result": [{"type": "relation", "from_id": "a", "to_id": "b", "labels": ["maybe"]}]}]}]), KEY, "do not read as argmine graphs"),
    ],
    ids=["down", "key-refused", "access-token-refused", "server-error", "no-tasks", "all-skipped", "no-relations", "bad-annotation"],
)  # fmt: skip
def test_a_failed_job_says_why_and_leaves_the_served_model(tiny_parser, tmp_path, fake, key, words):
    client, live = make(tiny_parser, tmp_path, fake(), key=key)
    with client:
        base = predict(client)
        client.post("/webhook", json=START, headers=AUTH)
        training = live.wait(60)
        assert training["state"] == "failed" and words in training["error"], training
        assert "\n" not in training["error"]
        assert client.get("/health").json()["training"]["error"] == training["error"]
        assert predict(client) == base
        assert client.get("/versions", headers=AUTH).json()["versions"] == ["base"]
        # a failed job does not block the next one
        assert client.post("/webhook", json=START, headers=AUTH).json()["status"] == "started"
        live.wait(60)
    assert not leftovers(tmp_path)


def test_a_model_that_cannot_be_adapted_is_a_job_error(tiny_model, tmp_path):
    client, live = make(tiny_model, tmp_path, FakeLabelStudio())
    with client:
        base = predict(client)
        client.post("/webhook", json=START, headers=AUTH)
        training = live.wait(60)
        assert training["state"] == "failed" and training["error"].startswith("adapting failed:"), training
        assert "contextual parser" in training["error"] and predict(client) == base
    assert not leftovers(tmp_path) and sorted(p.name for p in (tmp_path / "versions").iterdir()) == []


def test_rolling_back_switches_versions_atomically_and_checks_the_name(tiny_parser, tmp_path):
    client, live = make(tiny_parser, tmp_path, FakeLabelStudio())
    with client:
        base = predict(client)
        client.post("/webhook", json=START, headers=AUTH)
        assert live.wait(300)["state"] == "done"
        adapted = predict(client)
        assert client.post("/versions/base").status_code == 401  # token-guarded
        r = client.post("/versions/base", headers=AUTH)
        assert r.status_code == 200 and r.json()["current"] == "base"
        assert predict(client) == base
        r = client.post("/versions/v9", headers=AUTH)
        assert r.status_code == 404 and "no model version 'v9'" in r.json()["error"] and "base, v1" in r.json()["error"]
        assert client.post("/versions/v1", headers=AUTH).json()["current"] == "v1"
        assert predict(client) == adapted  # the saved version reloads as it was served
        # the next job adapts the starting model again and becomes v2
        client.post("/webhook", json=START, headers=AUTH)
        assert live.wait(300)["version"] == "v2"
        assert client.get("/versions", headers=AUTH).json()["versions"] == ["base", "v1", "v2"]


def test_every_n_annotations_start_a_job_and_webhook_mistakes_are_refused(tiny_parser, tmp_path):
    client, live = make(tiny_parser, tmp_path, FakeLabelStudio(), train_every=2)
    with client:
        event = {"action": "ANNOTATION_CREATED", "project": {"id": 7}, "annotation": {"id": 1}}
        first = client.post("/webhook", json=event)  # Label Studio's webhooks carry no credentials
        assert first.status_code == 200 and first.json()["status"] == "counted: 1 of 2 new annotations before training"
        assert client.get("/health").json()["training"]["new_annotations"] == {"7": 1}
        assert client.post("/webhook", json=event).json()["status"] == "started"
        assert live.wait(300)["state"] == "done" and live.status()["why"] == "2 new annotations"
        assert client.get("/health").json()["training"]["new_annotations"] == {"7": 0}
        assert client.post("/webhook", json={"action": "PROJECT_UPDATED", "project": {"id": 7}}).json() == {
            "status": "ignored: PROJECT_UPDATED"
        }
        assert client.post("/webhook", json=START).status_code == 401  # training needs the token
        r = client.post("/webhook", json={"action": "START_TRAINING"}, headers=AUTH)
        assert r.status_code == 400 and "names its project" in r.json()["error"]
        r = client.post("/webhook", content=b"[1", headers={**AUTH, "Content-Type": "application/json"})
        assert r.status_code == 400 and set(r.json()) == {"error"}


runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--label-studio-url", "ftp://x"], "is not an http(s) address"),
        (["--label-studio-url", "http://localhost:8080"], "needs Label Studio's API key"),
        (["--label-studio-token", "k"], "--label-studio-token needs --label-studio-url"),
        (["--train-every", "3"], "--train-every needs --label-studio-url"),
        (["--label-studio-url", "http://localhost:8080", "--label-studio-token", "k", "--train-every", "0"], "give 1 or more"),
        (["--model-version", "v3"], "--model-version 'v3' is not in"),
    ],
)
def test_serve_refuses_bad_live_training_options_in_one_line(tiny_parser, tmp_path, monkeypatch, args, words):
    monkeypatch.delenv("ARGMINE_LABEL_STUDIO_URL", raising=False)
    monkeypatch.delenv("ARGMINE_LABEL_STUDIO_TOKEN", raising=False)
    command = ["serve", "--model", str(tiny_parser), "--versions-dir", str(tmp_path / "v"), "--port", "1", *args]
    result = runner.invoke(cli_app, command)
    assert result.exit_code == 2 and words in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_versions_dir_that_cannot_be_written_is_refused(tiny_parser, tmp_path):
    (tmp_path / "file").write_text("x")
    command = ["serve", "--model", str(tiny_parser), "--versions-dir", str(tmp_path / "file"), "--model-version", "base"]
    result = runner.invoke(cli_app, command)
    assert result.exit_code == 2 and "cannot write there" in result.stderr, result.stderr


def test_a_personal_access_token_is_exchanged_for_an_access_token(tiny_parser, tmp_path):
    client, live = make(tiny_parser, tmp_path, fake := FakeLabelStudio(), key=PAT)
    with client:
        client.post("/webhook", json=START, headers=AUTH)
        assert live.wait(300)["state"] == "done"
    assert [r.url.path for r in fake.requests] == ["/api/token/refresh/", "/api/projects/7/export"]
    assert fake.requests[1].headers["authorization"] == "Bearer access-token"


def test_a_scratch_folder_left_by_a_stopped_job_is_removed_and_never_listed(tiny_parser, tmp_path):
    settings = argmine.load_settings(None, {"model": {"name": str(tiny_parser)}})
    (tmp_path / "versions" / ".adapting-x1").mkdir(parents=True)
    (tmp_path / "versions" / "v4").mkdir()  # no argmine_version.json: not a complete version
    versions = live_training.Versions(tmp_path / "versions", settings)
    assert versions.names() == ["base"] and versions.next_name() == "v1"
    assert not leftovers(tmp_path)

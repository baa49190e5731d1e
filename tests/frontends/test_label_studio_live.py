"""argmine's Label Studio export and ``argmine serve`` checked by a real Label Studio: a project with
argmine's labeling config, exported tasks imported and read back through its API, ``argmine serve``
connected as the project's ML backend, a pre-annotated task drawn in headless Chromium, and live training:
annotations with corrected relations submitted through the API, training started from Label Studio, and
``argmine serve`` predicting with the adapted version it switched to.

Label Studio lives in its own virtual environment (its pins clash with argmine's): the test finds its
``label-studio`` executable in ``ARGMINE_LABEL_STUDIO`` or ``.lsenv/bin/label-studio`` (``.ci/run``
creates it) and skips without it. It starts on a free localhost port with SQLite in a temporary folder
and the user named by ``LABEL_STUDIO_USERNAME``, ``LABEL_STUDIO_PASSWORD`` and ``LABEL_STUDIO_USER_TOKEN``
(test defaults where unset).
"""

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import argmine
from argmine.formats import label_studio
from tests.conftest import ROOT, free_port
from tests.conftest import stop_process as stop

pytestmark = pytest.mark.slow
httpx = pytest.importorskip("httpx", reason="httpx is not installed (pip install -e '.[test]')")
pytest.importorskip("fastapi", reason="the serve extra is not installed (pip install -e '.[serve]')")

SERVE_TOKEN = "argmine-serve-token"
THREAD = {
    "id": "ls-live",
    "title": "Ban cars 🚗 downtown?",
    "article": {
        "text": "The council wants to ban cars downtown. Shops fear they will lose customers because parking disappears."
    },
    "comments": [
        {"id": "c1", "text": "No, that is wrong because buses replace cars."},
        {"id": "c2", "parent": "c1", "text": "Agreed 🎉 and the air gets cleaner for everyone."},
        {"id": "c3", "text": "القرار جيد للمدينة. Cyclists will be safer too."},
    ],
}
NEW_TASK = "Cars pollute the air 🚗. So the city should ban them downtown.\n\nNo, buses pollute too, because they burn diesel."


def executable() -> str:
    path = os.environ.get("ARGMINE_LABEL_STUDIO") or str(ROOT / ".lsenv" / "bin" / "label-studio")
    if not Path(path).is_file():
        pytest.skip(f"Label Studio is not installed ({path} is absent: .ci/run creates .lsenv, or set ARGMINE_LABEL_STUDIO)")
    return path


def wait_up(url: str, proc: subprocess.Popen, seconds: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:] if log else ""
            pytest.fail(f"{url} did not come up (exit {proc.poll()}): {tail}")
        time.sleep(0.5)


@dataclasses.dataclass
class LabelStudio:
    url: str
    api: "httpx.Client"
    user: str
    password: str
    token: str


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """A real Label Studio on a free localhost port, SQLite in a temporary folder."""
    path, data = executable(), tmp_path_factory.mktemp("label-studio")
    port = free_port()
    user = os.environ.get("LABEL_STUDIO_USERNAME", "argmine@example.com")
    password = os.environ.get("LABEL_STUDIO_PASSWORD", "argmine-test-password")
    token = os.environ.get("LABEL_STUDIO_USER_TOKEN", "argmine-test-token-0123456789")
    env = {
        **os.environ,
        "LABEL_STUDIO_USERNAME": user,
        "LABEL_STUDIO_PASSWORD": password,
        "LABEL_STUDIO_USER_TOKEN": token,
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",  # the user token above authenticates the API
        "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        "LABEL_STUDIO_BASE_DATA_DIR": str(data),
        "ML_BLOCK_LOCAL_IP": "false",  # the ML backend is on localhost: both settings are needed (README)
        "SSRF_PROTECTION_ENABLED": "false",
        "COLLECT_ANALYTICS": "false",
    }
    log = data / "label-studio.log"
    command = [path, "start", "--no-browser", "--port", str(port), "--data-dir", str(data)]
    command += ["--database", str(data / "label_studio.sqlite3"), "--enable-legacy-api-token", "--log-level", "WARNING"]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_up(f"{url}/health", proc, 300, log)
        with httpx.Client(base_url=url, headers={"Authorization": f"Token {token}"}, timeout=120) as api:
            yield LabelStudio(url, api, user, password, token)
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def model_path(make_model) -> str:
    return str(make_model("argmine", "support"))


@pytest.fixture(scope="module")
def server(model_path, tmp_path_factory):
    """``argmine serve`` as a real process, with a token (Label Studio sends it as its basic-auth password)."""
    port, log = free_port(), tmp_path_factory.mktemp("serve") / "serve.log"
    env = {**os.environ, "ARGMINE_TOKEN": SERVE_TOKEN, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "argmine", "serve", "--port", str(port), "--model", model_path]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_up(f"{url}/health", proc, 180, log)
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def graph(model_path):
    """A real graph of the thread; every other relation turned into an attack so both labels travel."""
    graph = argmine.analyze(json.dumps(THREAD, ensure_ascii=False), model=model_path)
    assert len(graph.relations) >= 3
    graph.relations = [dataclasses.replace(r, label="attack" if k % 2 else "support") for k, r in enumerate(graph.relations)]
    return graph


def new_project(studio: LabelStudio, title: str) -> int:
    r = studio.api.post("/api/projects", json={"title": title, "label_config": label_studio.CONFIG})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def tasks_of(studio: LabelStudio, project: int) -> list[dict]:
    r = studio.api.get("/api/tasks", params={"project": project, "fields": "all", "page_size": 100})
    assert r.status_code == 200, r.text
    return r.json()["tasks"]


def regions(result: list[dict]) -> tuple[list, list]:
    """(unit id, start, end, text, labels) of each region and (from, to, labels) of each relation."""
    spans = [
        (x["id"], x["value"]["start"], x["value"]["end"], x["value"]["text"], x["value"]["labels"])
        for x in result
        if x["type"] == "labels"
    ]
    links = [(x["from_id"], x["to_id"], x["labels"]) for x in result if x["type"] == "relation"]
    return sorted(spans), sorted(links)


def test_exported_tasks_read_back_through_label_studio_are_argmines(studio, graph, tmp_path):
    project = new_project(studio, "argmine export")
    exported = json.loads(argmine.export([graph], "label-studio")["tasks.json"])
    r = studio.api.post(f"/api/projects/{project}/import", json=exported)
    assert r.status_code == 201 and r.json()["prediction_count"] == 1, r.text
    stored = tasks_of(studio, project)
    assert len(stored) == 1 and stored[0]["data"]["text"] == graph.text
    prediction = stored[0]["predictions"][0]
    assert regions(prediction["result"]) == regions(exported[0]["predictions"][0]["result"])
    assert prediction["model_version"] == exported[0]["predictions"][0]["model_version"]
    assert prediction["score"] == pytest.approx(exported[0]["predictions"][0]["score"])
    # what Label Studio stored reads back, through argmine's importer, as the same units and relations
    (tmp_path / "tasks.json").write_text(json.dumps(stored, ensure_ascii=False), encoding="utf-8")
    back = argmine.import_graphs(tmp_path / "tasks.json", "label-studio")[0]
    assert [(u.id, u.start, u.end, u.text) for u in back.units] == [(u.id, u.start, u.end, u.text) for u in graph.units]
    assert {(r.source, r.target, r.label) for r in back.relations} == {(r.source, r.target, r.label) for r in graph.relations}
    assert {"supports", "attacks"} <= {x[2][0] for x in regions(prediction["result"])[1]}


def connect(studio: LabelStudio, project: int, server: str) -> dict:
    body = {"url": server, "project": project, "title": "argmine", "is_interactive": False}
    body |= {"auth_method": "BASIC_AUTH", "basic_auth_user": "label-studio", "basic_auth_pass": SERVE_TOKEN}
    r = studio.api.post("/api/ml", json=body)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="module")
def predicted(studio, server, model_path):
    """A project with ``argmine serve`` as its ML backend and a new task it pre-annotated on request."""
    project = new_project(studio, "argmine serve")
    backend = connect(studio, project, server)
    r = studio.api.post(f"/api/projects/{project}/import", json=[{"data": {"text": NEW_TASK}}])
    assert r.status_code == 201, r.text
    task = tasks_of(studio, project)[0]["id"]
    action = {"selectedItems": {"all": False, "included": [task]}}
    r = studio.api.post("/api/dm/actions", params={"id": "retrieve_tasks_predictions", "project": project}, json=action)
    assert r.status_code == 200, r.text
    return project, task, backend


def test_label_studio_stores_argmine_serves_predictions(studio, server, predicted, model_path):
    project, task, backend = predicted
    health = httpx.get(f"{server}/health").json()
    assert backend["readable_state"] == "Connected" and backend["model_version"] == health["model_version"]
    stored = studio.api.get(f"/api/tasks/{task}").json()["predictions"]
    assert len(stored) == 1
    expected = label_studio.task(argmine.analyze(NEW_TASK, model=model_path), task)["predictions"][0]
    assert regions(stored[0]["result"]) == regions(expected["result"]) and stored[0]["result"]
    assert stored[0]["model_version"] == expected["model_version"] == health["model_version"]
    assert stored[0]["score"] == pytest.approx(expected["score"])
    for _, start, end, text, _ in regions(stored[0]["result"])[0]:  # offsets in code points, the emoji is one
        assert NEW_TASK[start:end] == text
    assert health["model_loads"] == 1 and health["internal_errors"] == 0 and health["served"] >= 1


@pytest.fixture
def page(studio):
    """A headless Chromium page logged in to Label Studio (the test skips without Chromium)."""
    from tests.formats.test_view import chromium

    path, sync_api = chromium()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{studio.url}/user/login")
            page.fill("input[name=email]", studio.user)
            page.fill("input[name=password]", studio.password)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            yield page
        finally:
            browser.close()


def open_task(page, studio: LabelStudio, project: int, task: int, ready: str) -> None:
    """Label Studio's page of one task, once ``ready`` (a selector) is drawn."""
    page.goto(f"{studio.url}/projects/{project}/data?task={task}")
    page.wait_for_selector(ready, timeout=120_000)


def test_the_pre_annotated_task_is_drawn_in_a_real_browser(studio, predicted, page, tmp_path):
    project, task, _ = predicted
    result = studio.api.get(f"/api/tasks/{task}").json()["predictions"][0]["result"]
    spans, links = regions(result)
    open_task(page, studio, project, task, "svg.relations-overlay g[class*=relationItem] path[marker-end]")
    page.screenshot(path=str(tmp_path / "label-studio-task.png"))
    for unit_id, start, end, text, labels in spans:  # each region drawn over exactly its text
        drawn = page.locator(f"span.htx-highlight[class*='htx-highlight-{unit_id}-']")
        assert drawn.count() >= 1, unit_id
        assert drawn.first.get_attribute("data-start") == str(start) and drawn.first.get_attribute("data-end") == str(end)
        assert drawn.first.get_attribute("data-label").split(":", 1)[1] == labels[0]
        assert "".join(drawn.all_text_contents()) == text  # exactly its text, after the emoji too
    arrows = page.locator("svg.relations-overlay g[class*=relationItem]")
    assert arrows.count() == len(links)  # one arrow per relation, each labelled
    assert sorted(arrows.locator("text").all_text_contents()) == sorted(x[2][0] for x in links)


DRAG = """word => { const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT); let node;
  while ((node = walker.nextNode())) { const at = node.data.indexOf(word); if (at < 0) continue;
    const range = document.createRange(); range.setStart(node, at); range.setEnd(node, at + word.length);
    const box = range.getBoundingClientRect(); if (box.x < 300) continue;  // the task list on the left
    return [box.x + 1, box.right - 1, box.y + box.height / 2]; } return null; }"""


def test_a_region_an_annotator_draws_after_an_emoji_imports_as_the_same_text(studio, page, tmp_path):
    """What Label Studio itself writes (its offsets count code points) reads back through argmine's importer."""
    project = new_project(studio, "argmine drawn")
    text = "Cars pollute the air 🚗. So the city should ban them 🎉 downtown."
    assert studio.api.post(f"/api/projects/{project}/import", json=[{"data": {"text": text}}]).status_code == 201
    task = tasks_of(studio, project)[0]["id"]
    open_task(page, studio, project, task, "button:has-text('Submit')")
    page.locator(".lsf-label:has-text('Premise')").first.click()
    left, right, y = page.evaluate(DRAG, "downtown")
    page.mouse.move(left, y)
    page.mouse.down()
    page.mouse.move((left + right) / 2, y, steps=3)
    page.mouse.move(right, y, steps=3)
    page.mouse.up()
    page.wait_for_selector("span.htx-highlight")
    page.click("button:has-text('Submit')")
    page.wait_for_load_state("networkidle")
    stored = studio.api.get(f"/api/tasks/{task}").json()
    [region] = stored["annotations"][0]["result"]
    assert region["value"]["text"] == "downtown" and region["value"]["start"] == text.index("downtown")  # code points
    (tmp_path / "export.json").write_text(json.dumps([stored], ensure_ascii=False), encoding="utf-8")
    [unit] = argmine.import_graphs(tmp_path / "export.json", "label-studio")[0].units
    assert (unit.start, unit.end, unit.text) == (text.index("downtown"), len(text) - 1, "downtown")


CORRECTED = [
    "Cars pollute the air 🚗. So the city should ban them downtown.\n\nNo, buses pollute too, because they burn diesel.",
    "The council wants a new stadium. It would bring tourists.\n\nBut it costs too much money, and taxes would rise.",
    "Schools should start later. Teenagers need more sleep.\n\nLater starts disrupt parents' jobs, so this is unrealistic.",
]


@pytest.fixture(scope="module")
def live_server(studio, tmp_path_factory):
    """``argmine serve`` with the shipped model, training live from the real Label Studio (its API key)."""
    port, folder = free_port(), tmp_path_factory.mktemp("live")
    env = {**os.environ, "ARGMINE_TOKEN": SERVE_TOKEN, "ARGMINE_LABEL_STUDIO_TOKEN": studio.token}
    command = [sys.executable, "-m", "argmine", "serve", "--port", str(port), "--label-studio-url", studio.url]
    command += ["--versions-dir", str(folder / "versions"), "--train-every", "50"]
    with (folder / "serve.log").open("wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_up(f"{url}/health", proc, 180, folder / "serve.log")
        yield url, folder
    finally:
        stop(proc)


def served(server: str, text: str) -> dict:
    """``/predict`` of one task, straight from ``argmine serve``."""
    r = httpx.post(f"{server}/predict", json={"tasks": [{"id": 1, "data": {"text": text}}]}, auth=("x", SERVE_TOKEN), timeout=120)
    assert r.status_code == 200, r.text
    return r.json()


def test_annotations_in_label_studio_train_a_new_version_that_predicts_differently(studio, live_server):
    """The whole loop: corrected relations annotated through Label Studio's API, training started from
    Label Studio, a new version out, and the next prediction changed."""
    server, folder = live_server
    project = new_project(studio, "argmine live training")
    backend = connect(studio, project, server)
    before = served(server, CORRECTED[0])
    # gold: the shipped model's own graphs with every relation label turned over (what a corrector would draw)
    gold = []
    for text in CORRECTED:
        graph = argmine.analyze(text)
        assert graph.relations
        flipped = {"support": "attack", "attack": "support"}
        graph.relations = [dataclasses.replace(r, label=flipped[r.label]) for r in graph.relations]
        gold.append(graph)
    exported = json.loads(argmine.export(gold, "label-studio")["tasks.json"])
    r = studio.api.post(f"/api/projects/{project}/import", json=[{"data": t["data"]} for t in exported])
    assert r.status_code == 201, r.text
    for task, item in zip(sorted(tasks_of(studio, project), key=lambda t: t["id"]), exported):
        assert task["data"]["text"] == item["data"]["text"]
        r = studio.api.post(f"/api/tasks/{task['id']}/annotations/", json={"result": item["predictions"][0]["result"]})
        assert r.status_code == 201, r.text
    health = httpx.get(f"{server}/health").json()
    assert health["training"]["state"] == "idle"
    assert health["training"]["new_annotations"] == {str(project): len(CORRECTED)}  # Label Studio's webhooks reached it
    r = studio.api.post(f"/api/ml/{backend['id']}/train", json={})
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 600
    while (training := httpx.get(f"{server}/health").json()["training"])["state"] in ("idle", "running"):
        assert time.monotonic() < deadline, training
        time.sleep(1)
    assert training["state"] == "done" and training["version"] == "v1", training
    assert training["why"] == "START_TRAINING" and training["tasks"] == len(CORRECTED)
    print(f"live training job: {training['seconds']} s for {training['tasks']} tasks")  # shown with pytest -s
    version = f"argmine {folder / 'versions' / 'v1'}"
    after = served(server, CORRECTED[0])
    assert after["model_version"] == version != before["model_version"]
    assert after["results"][0]["result"] != before["results"][0]["result"]  # the prediction changed
    listed = httpx.get(f"{server}/versions", auth=("x", SERVE_TOKEN)).json()
    assert listed["versions"] == ["base", "v1"] and listed["current"] == "v1"
    # Label Studio itself now gets the new version's predictions
    r = studio.api.post(f"/api/projects/{project}/import", json=[{"data": {"text": NEW_TASK}}])
    task = max(t["id"] for t in tasks_of(studio, project))
    action = {"selectedItems": {"all": False, "included": [task]}}
    r = studio.api.post("/api/dm/actions", params={"id": "retrieve_tasks_predictions", "project": project}, json=action)
    assert r.status_code == 200, r.text
    stored = studio.api.get(f"/api/tasks/{task}").json()["predictions"]
    assert stored and stored[-1]["model_version"] == version
    # rolling back serves the starting model again
    assert httpx.post(f"{server}/versions/base", auth=("x", SERVE_TOKEN)).json()["current"] == "base"
    assert served(server, CORRECTED[0]) == before

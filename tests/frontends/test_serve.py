"""``argmine serve``: the HTTP API and the Label Studio ML backend, in process (FastAPI's test client
over a real tiny model) and over real sockets (uvicorn in a thread, and the CLI in a subprocess)."""

import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from typer.testing import CliRunner

import argmine
from argmine.cli import app as cli_app
from tests.conftest import EXAMPLE, ROOT, free_port

pytest.importorskip("fastapi", reason="the serve extra is not installed (pip install -e '.[serve]')")
pytest.importorskip("uvicorn", reason="the serve extra is not installed (pip install -e '.[serve]')")
from fastapi.testclient import TestClient  # noqa: E402

from argmine import serve  # noqa: E402

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PLAIN = {"Content-Type": "text/plain"}
JSON = {"Content-Type": "application/json"}
TEXT = "Cars pollute the air 🚗. So the city should ban them downtown.\n\nNo, buses pollute too, because they burn diesel."
THREAD = {
    "id": "t1",
    "title": "Ban cars downtown?",
    "article": {"text": "The council wants to ban cars downtown. Shops fear they will lose customers."},
    "comments": [
        {"id": "c1", "text": "That is wrong because buses replace cars."},
        {"id": "c2", "parent": "c1", "text": "Agreed, and the air gets cleaner for everyone."},
    ],
}


@pytest.fixture(scope="module")
def settings(make_model):
    return argmine.load_settings(None, {"model": {"name": str(make_model("argmine", "support"))}})


@pytest.fixture(scope="module")
def model(settings):
    return argmine.load_model(settings=settings)


@pytest.fixture(scope="module")
def client(model, settings):
    with TestClient(serve.create_app(model, settings, token=TOKEN)) as c:
        yield c


def post_text(client, path: str = "/analyze", headers: dict = AUTH):
    """POST ``TEXT`` as text/plain (with the token unless ``headers`` says otherwise)."""
    return client.post(path, content=TEXT.encode(), headers={**headers, **PLAIN})


def good(client) -> None:
    """After any refusal the server still serves a good request."""
    r = post_text(client)
    assert r.status_code == 200, r.text
    assert argmine.Graph.from_json(r.text).text == TEXT


def assert_one_line(r, status: int, words: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and "\n" not in body["error"] and body["error"].strip() == body["error"]
    assert words.lower() in body["error"].lower(), body["error"]


TEN_MB = b"a" * (10 * 1024 * 1024)
BASIC_WRONG = "Basic " + base64.b64encode(b"label-studio:nope").decode()
BAD = [  # (name, method, path, body, headers, status, words in the message)
    ("empty body", "post", "/analyze", b"", PLAIN, 400, "empty"),
    ("blank text", "post", "/analyze", b"  \n\n ", PLAIN, 400, "empty"),
    ("10 MB body", "post", "/analyze", TEN_MB, PLAIN, 413, "larger than the limit"),
    ("malformed JSON", "post", "/analyze", b'{"article": ', JSON, 400, "malformed JSON"),
    ("JSON list", "post", "/analyze", b"[1, 2]", JSON, 400, "must be an object"),
    ("JSON without article", "post", "/analyze", b'{"comments": []}', JSON, 400, "article"),
    ("article text a number", "post", "/analyze", b'{"article": {"text": 5}}', JSON, 400, "'text'"),
    ("comments not a list", "post", "/analyze", b'{"article": {"text": "A b."}, "comments": {}}', JSON, 400, "'comments' must be a list"),
    ("comment without id", "post", "/analyze", b'{"article": {"text": "A b."}, "comments": [{"text": "c"}]}', JSON, 400, "needs an id"),
    ("wrong content type", "post", "/analyze", b"Cars pollute.", {"Content-Type": "image/png"}, 415, "unsupported Content-Type"),
    ("no content type", "post", "/analyze", b"Cars pollute.", {}, 415, "unsupported Content-Type"),
    ("latin-1 charset", "post", "/analyze", b"Cars pollute.", {"Content-Type": "text/plain; charset=latin-1"}, 415, "charset"),
    ("invalid UTF-8", "post", "/analyze", b"Caf\xe9 pollutes.", PLAIN, 400, "not valid UTF-8"),
    ("binary body", "post", "/analyze", b"ab\x00cd", PLAIN, 400, "binary"),
    ("unknown format", "post", "/analyze?format=pdf", b"Cars pollute.", PLAIN, 400, "unknown format 'pdf'"),
    ("folder format", "post", "/analyze?format=brat", b"Cars pollute.", PLAIN, 400, "html, json, xaif"),
    ("comments_from 0", "post", "/analyze?comments_from=0", b"Cars pollute.", PLAIN, 422, "comments_from"),
    ("comments_from not a number", "post", "/analyze?comments_from=x", b"Cars pollute.", PLAIN, 422, "comments_from"),
    ("comments_from on JSON", "post", "/analyze?comments_from=1", json.dumps(THREAD).encode(), JSON, 400, "plain text input only"),
    ("GET /analyze", "get", "/analyze", None, {}, 405, "not allowed"),
    ("unknown endpoint", "post", "/nothing", b"x", PLAIN, 404, "no endpoint /nothing"),
    ("predict: not an object", "post", "/predict", b"[]", JSON, 400, "'tasks' list"),
    ("predict: task without text", "post", "/predict", b'{"tasks": [{"id": 1, "data": {"body": "x"}}]}', JSON, 400, "task 0 has no data.text"),
    ("predict: malformed JSON", "post", "/predict", b'{"tasks": [', JSON, 400, "malformed JSON"),
    ("setup: not an object", "post", "/setup", b'"x"', JSON, 400, "JSON object"),
]  # fmt: skip
NO_AUTH = [
    ("missing token", {}, "missing token"),
    ("wrong bearer token", {"Authorization": "Bearer nope"}, "wrong token"),
    ("wrong basic-auth password", {"Authorization": BASIC_WRONG}, "wrong token"),
    ("garbled basic auth", {"Authorization": "Basic %%%"}, "missing token"),
    ("unknown scheme", {"Authorization": f"Token {TOKEN}"}, "missing token"),
]


@pytest.mark.parametrize("name, method, path, body, headers, status, words", BAD, ids=[b[0] for b in BAD])
def test_a_bad_request_gets_its_status_and_one_line(client, name, method, path, body, headers, status, words):
    r = client.request(method.upper(), path, content=body, headers={**AUTH, **headers})
    assert_one_line(r, status, words)
    good(client)


@pytest.mark.parametrize("name, headers, words", NO_AUTH, ids=[b[0] for b in NO_AUTH])
def test_a_request_without_the_token_is_refused(client, name, headers, words):
    for path in ("/analyze", "/predict", "/setup"):
        r = post_text(client, path, headers)
        assert_one_line(r, 401, words)
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    good(client)


def test_label_studio_basic_auth_with_the_token_as_password_is_accepted(client):
    basic = "Basic " + base64.b64encode(f"label-studio:{TOKEN}".encode()).decode()
    r = client.post("/setup", json={"project": "1.0"}, headers={"Authorization": basic})
    assert r.status_code == 200 and r.json()["model_version"].startswith("argmine ")


def test_health_needs_no_token_and_reports_one_model(client, model):
    health = client.get("/health").json()
    assert health["status"] == "UP" and health["model_class"] == "argmine"
    assert health["model_version"] == f"argmine {model.describe()['name']}"
    loads, cached = health["model_loads"], argmine.pipeline.models_loaded()
    for _ in range(3):
        good(client)
    after = client.get("/").json()
    assert after["model_loads"] == loads >= 1 and after["internal_errors"] == 0 and after["served"] >= 3
    assert argmine.pipeline.models_loaded() == cached  # nothing loaded a model again


def test_analyze_text_and_thread_give_argmines_graphs(client, model, settings):
    r = client.post("/analyze", content=TEXT.encode(), headers={**AUTH, "Content-Type": "text/plain; charset=utf-8"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    served = argmine.Graph.from_json(r.text)
    direct = argmine.analyze(TEXT, model=model, settings=settings)
    assert [(u.id, u.start, u.end, u.text) for u in served.units] == [(u.id, u.start, u.end, u.text) for u in direct.units]
    assert served.relations == direct.relations
    r = client.post("/analyze", json=THREAD, headers=AUTH)
    assert r.status_code == 200
    graph = argmine.Graph.from_json(r.text)
    assert graph.id == "t1" and [p.id for p in graph.posts][-2:] == ["c1", "c2"]
    r = post_text(client, "/analyze?comments_from=1")
    assert r.status_code == 200 and argmine.Graph.from_json(r.text).posts[-1].kind == "comment"


def test_every_one_document_format_is_the_export_of_the_served_graph(client):
    formats = serve.one_document_formats()
    assert "json" in formats and "label-studio" not in formats and "brat" not in formats
    assert set(formats) == set(argmine.EXPORT_FORMATS) - argmine.FOLDER_FORMATS
    declared = {  # each format module declares its own (a new format needs no entry here)
        "json": "application/json",
        "argdown": "text/plain",
        "doccano": "application/x-ndjson",
        "dot": "text/vnd.graphviz",
        "graphml": "application/xml",
        "html": "text/html",
        "xaif": "application/json",
    }
    assert declared.items() <= {fmt: serve.media_type(fmt) for fmt in formats}.items()
    graph = argmine.Graph.from_json(client.post("/analyze", json=THREAD, headers=AUTH).text)
    for fmt in (f for f in formats if f != "json"):
        r = client.post(f"/analyze?format={fmt}", json=THREAD, headers=AUTH)
        assert r.status_code == 200, (fmt, r.text)
        assert r.headers["content-type"].split(";")[0] == serve.media_type(fmt) == argmine.formats.FORMATS[fmt].media_type
        assert r.text == argmine.export([graph], fmt), fmt


def test_predict_returns_label_studio_regions_and_relations(client, model, settings):
    tasks = [
        {"id": 11, "data": {"text": TEXT}},
        {"id": 12, "data": {"text": "   "}},
        {"id": 13, "data": {"text": "Ban cars. They pollute."}},
    ]
    body = {"tasks": tasks, "project": "3.1700000000", "label_config": argmine.formats.label_studio.CONFIG, "params": {}}
    r = client.post("/predict", json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == 3 and results[1] == {"result": [], "score": 0.0, "model_version": r.json()["model_version"]}
    version = client.post("/setup", json={"project": "3.1700000000", "schema": "<View/>"}, headers=AUTH).json()["model_version"]
    graph = argmine.analyze(TEXT, model=model, settings=settings)
    expected = argmine.formats.label_studio.task(graph, 11)["predictions"][0]
    assert results[0] == expected and results[0]["model_version"] == version
    regions = [x for x in results[0]["result"] if x["type"] == "labels"]
    for region in regions:  # offsets count code points, as Label Studio does (the emoji is one)
        v = region["value"]
        assert TEXT[v["start"] : v["end"]] == v["text"]
        assert v["labels"][0] in ("MajorClaim", "Claim", "Premise")
    assert any(ord(ch) > 0xFFFF for ch in TEXT[: regions[-1]["value"]["start"]])
    relations = [x for x in results[0]["result"] if x["type"] == "relation"]
    assert {(x["from_id"], x["to_id"]) for x in relations} == {(r.source, r.target) for r in graph.relations}
    assert client.post("/webhook", json={"action": "ANNOTATION_CREATED"}).status_code == 200  # LS's webhook: ignored
    assert client.get("/versions", headers=AUTH).json() == {"versions": [version]}


def test_predict_refuses_a_task_over_the_work_limit(model, settings):
    tight = argmine.load_settings(None, {"model": {"name": settings.model.name}, "candidates": {"max_pairs": 1}})
    tasks = [{"id": 1, "data": {"text": "   "}}, {"id": 2, "data": {"text": TEXT}}]
    with TestClient(serve.create_app(model, tight)) as c:
        r = c.post("/predict", json={"tasks": tasks})
        assert_one_line(r, 400, "over the work limit")
        assert r.json()["error"].startswith("task-2: ")  # the task the pipeline refused
        assert c.get("/health").json()["internal_errors"] == 0


def test_concurrent_requests_share_the_one_model(client):
    answers, errors = [], []

    def ask():
        try:
            r = post_text(client)
            answers.append((r.status_code, r.text))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    loads = client.get("/health").json()["model_loads"]
    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(answers) == 8 and {a[0] for a in answers} == {200} and len({a[1] for a in answers}) == 1
    assert client.get("/health").json()["model_loads"] == loads


def wait_for(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@contextlib.contextmanager
def model_thread_held(worker: serve.Worker, ask):
    """The model thread busy with something else while a first request (``ask()``) waits its turn;
    on leaving, the thread is freed and that first request must be answered with a 200."""
    gate, first = threading.Event(), {}
    worker.pool.submit(gate.wait)
    waiting = threading.Thread(target=lambda: first.update(r=ask()))
    waiting.start()
    try:
        wait_for(lambda: worker.busy == 1)
        yield
    finally:
        gate.set()
        waiting.join(60)
    assert first["r"].status_code == 200


def test_a_full_queue_is_a_503_with_retry_after(model, settings):
    app = serve.create_app(model, settings, queue_size=1)
    with TestClient(app) as c:
        with model_thread_held(app.state.worker, lambda: post_text(c, headers={})):
            r = post_text(c, headers={})
            assert_one_line(r, 503, "busy")
            assert r.headers["Retry-After"] == "1"
            assert c.get("/health").json()["queue"] == {"limit": 1, "busy": 1}  # health answers while the model works
        assert post_text(c, headers={}).status_code == 200


@contextlib.contextmanager
def real_server(app):
    """``app`` behind a real uvicorn on a free localhost port, in a thread: its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started)
        yield port
    finally:
        server.should_exit = True
        thread.join(30)


def test_a_client_that_disconnects_mid_request_leaves_the_server_serving(model, settings):
    import httpx

    app = serve.create_app(model, settings, token=TOKEN)
    worker, body = app.state.worker, TEXT.encode()
    head = f"POST /analyze HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: text/plain\r\n"
    with real_server(app) as port, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        with model_thread_held(worker, lambda: post_text(http)):  # requests queue
            with socket.create_connection(("127.0.0.1", port)) as s:  # a whole request, gone before its turn
                s.sendall(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
                wait_for(lambda: worker.busy == 2)
            with socket.create_connection(("127.0.0.1", port)) as s:  # promises 5000 bytes, sends 20, hangs up
                s.sendall(f"{head}Content-Length: 5000\r\n\r\n".encode() + b"Cars pollute the air")
            with socket.create_connection(("127.0.0.1", port)) as s:  # headers only, cut mid-line
                s.sendall(b"POST /analyze HTTP/1.1\r\nHost: x\r\nContent-Le")
            time.sleep(0.3)
        wait_for(lambda: worker.busy == 0)
        r = post_text(http)
        assert r.status_code == 200 and argmine.Graph.from_json(r.text).text == TEXT
        health = http.get("/health").json()
        assert health["abandoned"] == 1 and health["served"] == 2  # the abandoned request was never run
        assert health["internal_errors"] == 0 and health["queue"]["busy"] == 0


runner = CliRunner()


def test_serve_refuses_a_public_address_without_a_token(monkeypatch):
    monkeypatch.delenv("ARGMINE_TOKEN", raising=False)
    result = runner.invoke(cli_app, ["serve", "--host", "0.0.0.0", "--port", str(free_port())])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "argmine: error: --host 0.0.0.0 is reachable from other machines: set a token (--token or ARGMINE_TOKEN)"
    ]


def test_serve_refuses_a_taken_port_before_loading_the_model():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = runner.invoke(cli_app, ["serve", "--port", str(taken.getsockname()[1]), "--model", "/nonexistent/model"])
    assert result.exit_code == 2 and "cannot listen on 127.0.0.1" in result.stderr and len(result.stderr.splitlines()) == 1


def test_serve_without_the_extra_is_one_line_and_exit_2(monkeypatch):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if uvicorn were not installed
    result = runner.invoke(cli_app, ["serve"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "argmine: error: argmine serve needs FastAPI and uvicorn (uvicorn is missing): pip install 'argmine[serve]'"
    )


@pytest.mark.slow  # a whole argmine process with its model, started and stopped
def test_argmine_serve_command_serves_until_interrupted(settings):
    port = free_port()
    env = {**os.environ, "ARGMINE_TOKEN": TOKEN, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "argmine", "serve", "--port", str(port), "--model", settings.model.name]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        import httpx

        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            deadline = time.monotonic() + 120
            while True:
                try:
                    health = http.get("/health").json()
                    break
                except httpx.TransportError:
                    assert proc.poll() is None and time.monotonic() < deadline, (
                        proc.stderr.read() if proc.poll() is not None else "timeout"
                    )
                    time.sleep(0.2)
            assert health["model_loads"] == 1 and health["pid"] == proc.pid
            r = http.post("/analyze?format=argdown", content=EXAMPLE.read_bytes(), headers={**AUTH, "Content-Type": "text/plain"})
            assert r.status_code == 200 and r.text.startswith("===")
            assert http.post("/analyze", content=b"x", headers={"Content-Type": "text/plain"}).status_code == 401
            assert http.get("/health").json()["model_loads"] == 1
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert f"argmine: serving {settings.model.name} on http://127.0.0.1:{port}" in stderr


# ---------------------------------------------------------------- batching

FIXTURE_THREAD = (ROOT / "tests" / "fixtures" / "thread.json").read_bytes()
TRICKY_THREAD = (ROOT / "tests" / "fixtures" / "tricky_thread.json").read_bytes()
REQUESTS = [  # (query, body, headers): different threads, inputs and formats, sent together
    ("", EXAMPLE.read_bytes(), PLAIN),
    ("", TEXT.encode(), PLAIN),
    ("?format=argdown", TEXT.encode(), PLAIN),
    ("", FIXTURE_THREAD, JSON),
    ("?comments_from=3", EXAMPLE.read_bytes()[:700], PLAIN),
    ("", json.dumps(THREAD).encode(), JSON),
    ("?format=xaif", TRICKY_THREAD, JSON),
]


@contextlib.contextmanager
def model_busy(worker: serve.Worker):
    """The model thread busy with something else until leaving, so requests sent meanwhile queue."""
    gate = threading.Event()
    worker.pool.submit(gate.wait)
    try:
        yield
    finally:
        gate.set()


def send_together(client, worker: serve.Worker, requests: list) -> list:
    """Send ``requests`` from one thread each while the model is busy with a first request, release it once
    all are queued (so they share one batch), and return their responses in request order."""
    answers: dict = {}

    def ask(k: int, query: str, body: bytes, headers: dict) -> None:
        answers[k] = client.post(f"/analyze{query}", content=body, headers={**AUTH, **headers})

    lead = threading.Thread(target=ask, args=("lead", "", TEXT.encode(), PLAIN))
    threads = [threading.Thread(target=ask, args=(k, *r)) for k, r in enumerate(requests)]
    with model_busy(worker):
        lead.start()
        wait_for(lambda: worker.busy == 1 and worker.waiting == 0)  # taken into a batch of its own
        for t in threads:
            t.start()
        wait_for(lambda: worker.waiting == len(requests))
    for t in [lead, *threads]:
        t.join(120)
    assert answers["lead"].status_code == 200
    return [answers[k] for k in range(len(requests))]


def one_at_a_time(model, settings, requests: list) -> list:
    """The answers of a server that scores one thread at a time (``max_batch=1``), asked in turn."""
    with TestClient(serve.create_app(model, settings, token=TOKEN, max_batch=1)) as c:
        return [c.post(f"/analyze{q}", content=body, headers={**AUTH, **h}) for q, body, h in requests]


def batched_equals_alone(model, settings, requests: list) -> dict:
    """Send ``requests`` together to a batching server; each answer must equal, byte for byte, its answer
    from a one-at-a-time server. Returns the batching server's /health."""
    alone = one_at_a_time(model, settings, requests)
    assert all(r.status_code == 200 for r in alone), [r.text for r in alone]
    app = serve.create_app(model, settings, token=TOKEN, max_batch=len(requests), batch_wait_ms=0)
    with TestClient(app) as c:
        together = send_together(c, app.state.worker, requests)
        health = c.get("/health").json()
    for k, (a, b) in enumerate(zip(alone, together)):
        assert (b.status_code, b.headers["content-type"]) == (200, a.headers["content-type"]), (k, b.text)
        assert b.content == a.content, k
    assert (health["batching"]["batches"], health["batching"]["max_size"]) == (2, len(requests))  # the lead's, then theirs
    return health


@pytest.fixture(scope="module")
def parser_settings(tiny_parser):
    return argmine.load_settings(None, {"model": {"name": str(tiny_parser)}})


@pytest.fixture(scope="module")
def parser(parser_settings):
    return argmine.load_model(settings=parser_settings)


def test_batched_answers_equal_one_at_a_time_answers_byte_for_byte(model, settings):
    health = batched_equals_alone(model, settings, REQUESTS)
    assert health["served"] == len(REQUESTS) + 1 and health["internal_errors"] == 0


def test_batched_parser_answers_equal_one_at_a_time_answers_byte_for_byte(parser, parser_settings):
    # the contextual parser: windows of every thread in one pass, sorted by length; each thread decoded in turn
    batched_equals_alone(parser, parser_settings, REQUESTS)


def test_a_batch_with_bad_threads_refuses_only_those(parser, parser_settings):
    from argmine.units.segmenter import segment

    def needed(text: str) -> int:
        doc = segment(argmine.read(text, settings=parser_settings), parser_settings.segmenter, parser_settings.boilerplate)
        return sum(len(w.dependents) * (len(w.heads) + 1) for w in parser.windows_of(doc).windows)

    long_text = EXAMPLE.read_text()
    assert needed(TEXT) < needed(long_text)
    tight = argmine.load_settings(
        None, {"model": {"name": parser_settings.model.name}, "candidates": {"max_pairs": needed(TEXT)}}
    )
    requests = [
        ("", TEXT.encode(), PLAIN),
        ("", b"Caf\xe9 pollutes.", PLAIN),  # refused while reading
        ("", json.dumps(THREAD).encode()[:-1], JSON),  # malformed JSON
        ("", long_text.encode(), PLAIN),  # over the work limit: refused by the pipeline, inside the pass
        ("?format=argdown", TEXT.encode(), PLAIN),
    ]
    alone = one_at_a_time(parser, tight, requests)
    app = serve.create_app(parser, tight, token=TOKEN, max_batch=8, batch_wait_ms=0)
    with TestClient(app) as c:
        together = send_together(c, app.state.worker, requests)
        health = c.get("/health").json()
    assert [r.status_code for r in together] == [200, 400, 400, 400, 200]
    assert [r.content for r in together] == [r.content for r in alone]
    assert "not valid UTF-8" in together[1].json()["error"] and "over the work limit" in together[3].json()["error"]
    assert health["batching"]["max_size"] == 5 and health["internal_errors"] == 0


class Faulty:
    """The model, but its pass fails on any thread that mentions BOOM (a fault, not a user error)."""

    def __init__(self, model):
        self.model = model

    def __getattr__(self, name):
        return getattr(self.model, name)

    def relate(self, checked, settings, decision, show_progress=False):
        if any("BOOM" in c.doc.text for c in checked):
            raise RuntimeError("the pass broke")
        return self.model.relate(checked, settings, decision, show_progress)


def test_a_pass_that_fails_is_rerun_thread_by_thread(model, settings):
    requests = [("", TEXT.encode(), PLAIN), ("", b"BOOM. The pass breaks here.", PLAIN), ("", json.dumps(THREAD).encode(), JSON)]
    alone = one_at_a_time(model, settings, [requests[0], requests[2]])
    app = serve.create_app(Faulty(model), settings, token=TOKEN, max_batch=8, batch_wait_ms=0)
    with TestClient(app, raise_server_exceptions=False) as c:
        together = send_together(c, app.state.worker, requests)
        health = c.get("/health").json()
    assert [r.status_code for r in together] == [200, 500, 200]
    assert together[1].json() == {"error": "internal error: RuntimeError: the pass broke"}
    assert [together[0].content, together[2].content] == [alone[0].content, alone[1].content]
    assert health["internal_errors"] == 1 and health["served"] == 3 and health["batching"]["max_size"] == 3


def test_batches_keep_arrival_order_and_group_one_model_only(model, settings, parser, parser_settings):
    # a function (a /predict) between threads runs alone, in its turn; a thread for another model starts a new batch
    import asyncio

    async def run(jobs: list) -> tuple[list, dict]:
        worker, answered = serve.Worker(32, max_batch=8, batch_wait=0), []
        pending = []
        for k, job in enumerate(jobs):
            if job == "fn":
                task = asyncio.ensure_future(worker.run(lambda: "fn"))
            else:
                task = asyncio.ensure_future(worker.analyze(*job, TEXT.encode(), "text", "json", None))
            task.add_done_callback(lambda t, k=k: answered.append(k))
            pending.append(task)
        results = await asyncio.gather(*pending)
        assert all(r == "fn" or argmine.Graph.from_json(r).text == TEXT for r in results)
        return answered, worker.stats()

    ours, other = (model, settings), (parser, parser_settings)
    answered, stats = asyncio.run(run([ours, ours, "fn", ours, ours, other, ours]))
    assert answered == list(range(7))
    assert (stats["batches"], stats["max_size"], stats["mean_size"]) == (4, 2, 1.5)  # [0 1] [3 4] [5] [6]
    assert stats["queue_wait_ms"]["recent"] == 7 and stats["queue_wait_ms"]["p95"] >= stats["queue_wait_ms"]["p50"] >= 0


def test_health_reports_batching(client):
    good(client)
    batching = client.get("/health").json()["batching"]
    assert batching["max_batch"] == serve.DEFAULT_MAX_BATCH and batching["wait_ms"] == serve.DEFAULT_BATCH_WAIT_MS
    assert batching["batches"] >= 1 and 1 <= batching["mean_size"] <= batching["max_size"]
    assert batching["queue_wait_ms"]["recent"] >= 1 and batching["queue_wait_ms"]["p50"] is not None


@pytest.mark.parametrize(
    "option, words",
    [
        (["--max-batch", "0"], "--max-batch"),
        (["--batch-wait-ms", "-1"], "--batch-wait-ms"),
        (["--batch-wait-ms", "5000"], "--batch-wait-ms"),
    ],
)
def test_serve_refuses_bad_batching_options_in_one_line(option, words):
    result = runner.invoke(cli_app, ["serve", "--port", str(free_port()), "--model", "/nonexistent/model", *option])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1 and words in result.stderr


def test_create_app_refuses_bad_batching(model, settings):
    with pytest.raises(argmine.ArgmineError, match="--max-batch 0"):
        serve.create_app(model, settings, max_batch=0)
    with pytest.raises(argmine.ArgmineError, match="--batch-wait-ms 2000"):
        serve.create_app(model, settings, batch_wait_ms=2000)


@pytest.mark.slow  # the shipped model: several real threads in one pass against one at a time
def test_the_shipped_model_answers_batched_threads_byte_for_byte():
    shipped = argmine.load_settings(None, {})
    batched_equals_alone(argmine.load_model(settings=shipped), shipped, REQUESTS)

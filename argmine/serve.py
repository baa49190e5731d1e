"""``argmine serve``: an HTTP API and a Label Studio ML backend over one model loaded at start.

``POST /analyze`` takes a thread (``text/plain`` or argmine's thread JSON) and returns its graph, or
``?format=`` any export that is one document. ``/setup``, ``/predict`` and ``/health`` speak Label
Studio's ML backend protocol: each task's text comes back as labelled regions and relations in the
labeling config ``argmine export --to label-studio`` writes. The model runs in one worker thread (it is
CPU-bound and loaded once); at most ``queue_size`` requests wait or run, the next gets a 503. Threads that
wait while it works (up to ``max_batch``, gathered for at most ``batch_wait_ms``) share one model pass, as
``argmine batch`` groups do, and each is answered as soon as its own thread is decoded. Every user
mistake is a 4xx with a one-line ``{"error": "..."}``. FastAPI and uvicorn load only here (``argmine[serve]``).

No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations (``Request``,
imported inside ``create_app``) at definition time.
"""

import asyncio
import base64
import binascii
import contextlib
import hmac
import ipaddress
import logging
import os
import socket
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from argmine.errors import ArgmineError, InputError

log = logging.getLogger("argmine.serve")

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
DEFAULT_QUEUE = 32
DEFAULT_MAX_BATCH = 8
DEFAULT_BATCH_WAIT_MS = 20.0
MAX_BATCH_WAIT_MS = 1000.0
BATCH_BYTES = 1 << 20  # a batch's bodies together: a larger thread is scored alone
WAITS_KEPT = 512  # recent queue waits /health reports on
RECENT_BATCHES = 8  # the batch sizes a gathering expects to see again


class HTTPError(Exception):
    """A request the server refuses: its status, one line for the client, and extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def one_document_formats() -> tuple[str, ...]:
    """``?format=`` values: the graph JSON and every export format whose output is one document."""
    from argmine import formats

    return tuple(f for f in formats.EXPORT_FORMATS if f not in formats.FOLDER_FORMATS)


def media_type(fmt: str) -> str:
    """The ``Content-Type`` of ``/analyze``'s answer in ``fmt``: the graph JSON's, or the one its format declares."""
    from argmine import formats

    return formats.FORMATS[fmt].media_type


def require() -> None:
    """Raise a one-line ``ArgmineError`` when the ``serve`` extra (FastAPI, uvicorn) is not installed."""
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise ArgmineError(
            f"argmine serve needs FastAPI and uvicorn ({exc.name} is missing): pip install 'argmine[serve]'"
        ) from None


def is_local(host: str) -> bool:
    """Whether ``host`` binds the loopback interface only (no one else can reach the server)."""
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_batching(max_batch: int, batch_wait_ms: float) -> None:
    """Refuse a batch size below 1 and a gathering wait outside 0 to ``MAX_BATCH_WAIT_MS`` (one line)."""
    if max_batch < 1:
        raise ArgmineError(f"--max-batch {max_batch}: a batch holds at least 1 thread")
    if not 0 <= batch_wait_ms <= MAX_BATCH_WAIT_MS:
        raise ArgmineError(f"--batch-wait-ms {batch_wait_ms:g}: choose 0 to {MAX_BATCH_WAIT_MS:g} ms (a short, bounded wait)")


def check_bind(host: str, port: int, token: str | None) -> None:
    """Refuse, before the model loads, a public address without a token and a port that is taken."""
    if not is_local(host) and not token:
        raise ArgmineError(f"--host {host} is reachable from other machines: set a token (--token or ARGMINE_TOKEN)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ArgmineError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None


@dataclass
class Job:
    """A request waiting for the model thread: a thread to analyse (``thread``: settings, body, reader, format,
    comments_from; batched with others scored by the same ``model``) or a function run alone (``fn``)."""

    future: asyncio.Future
    gone: Callable | None = None
    model: object = None
    thread: tuple | None = None
    fn: Callable | None = None
    args: tuple = ()
    size: int = 0
    queued: float = field(default_factory=time.perf_counter)

    def joins(self, head: "Job", size: int) -> bool:
        """Whether this job may join ``head``'s batch, now ``size`` bytes: a thread for the same model and settings."""
        return (
            self.thread is not None
            and head.thread is not None
            and self.model is head.model
            and self.thread[0] is head.thread[0]
            and size + self.size <= BATCH_BYTES
        )


@dataclass
class Worker:
    """One thread runs the model, requests in arrival order; ``busy`` counts requests running or waiting, at
    most ``limit``; ``served`` those run to an answer. Threads that wait together (up to ``max_batch``, after
    at most ``batch_wait`` seconds gathering) share one model pass; each is answered when its own is decoded.
    ``recent``: the last batches' sizes (how many threads a gathering waits for)."""

    limit: int
    max_batch: int = DEFAULT_MAX_BATCH
    batch_wait: float = DEFAULT_BATCH_WAIT_MS / 1000
    busy: int = 0
    served: int = 0
    abandoned: int = 0
    internal_errors: int = 0
    batches: int = 0
    batched: int = 0
    largest: int = 0
    waits: deque = field(default_factory=lambda: deque(maxlen=WAITS_KEPT))
    recent: deque = field(default_factory=lambda: deque(maxlen=RECENT_BATCHES))
    pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="argmine-model"))
    _queues: dict = field(default_factory=dict, init=False, repr=False)

    async def run(self, fn, *args, gone=None):
        """Run ``fn(*args)`` alone on the model thread, or refuse with a 503 when the queue is full. A request
        whose client has gone (``await gone()``) by its turn is dropped, not run."""
        return await self._submit(Job(asyncio.get_running_loop().create_future(), gone, fn=fn, args=args))

    async def analyze(self, model, settings, data: bytes, reader: str, fmt: str, comments_from: int | None, gone=None) -> str:
        """``/analyze``'s answer for one thread (its graph JSON or ``fmt`` export), scored in one pass with the
        threads waiting beside it for the same ``model``; refused with a 503 when the queue is full."""
        future = asyncio.get_running_loop().create_future()
        thread = (settings, data, reader, fmt, comments_from)
        return await self._submit(Job(future, gone, model, thread, size=len(data)))

    async def _submit(self, job: Job):
        """Queue ``job`` (a 503 past ``limit``), start the loop's drainer if it is idle, and await the answer."""
        if self.busy >= self.limit:
            raise HTTPError(
                503, f"busy: {self.limit} requests are already running or waiting; retry shortly", {"Retry-After": "1"}
            )
        self.busy += 1  # the event loop is one thread: no lock needed around the counts
        try:
            loop = asyncio.get_running_loop()
            queue, arrived, drainer = self._queues.get(loop) or (deque(), asyncio.Event(), None)
            queue.append(job)
            arrived.set()
            if drainer is None or drainer.done():
                drainer = loop.create_task(self._drain(loop, queue, arrived))
            self._queues[loop] = (queue, arrived, drainer)
            result = await job.future
            self.served += 1
            return result
        finally:
            self.busy -= 1

    async def _drain(self, loop, queue: deque, arrived: asyncio.Event) -> None:
        """Run the loop's queue to empty, first come first served: a batch of threads, or one function."""
        try:
            while queue:
                batch = await self._gather(queue, arrived)
                if batch and batch[0].fn is not None:
                    await self._solo(loop, batch[0])
                elif batch:
                    self.batches += 1
                    self.batched += len(batch)
                    self.largest = max(self.largest, len(batch))
                    self.recent.append(len(batch))
                    try:
                        await loop.run_in_executor(self.pool, self._score, loop, batch)
                    except Exception as exc:  # noqa: BLE001 - the pass never ran (a pool shut down): each request hears why
                        for job in batch:
                            settle(job.future, exc, failed=True)
        finally:
            if self._queues.get(loop, (None,))[0] is queue:
                del self._queues[loop]
            for job in queue:  # only if the loop is closing: nothing will serve them
                settle(job.future, HTTPError(503, "the server is stopping"), failed=True)

    async def _gather(self, queue: deque, arrived: asyncio.Event) -> list[Job]:
        """The next batch from the head of the queue; requests whose client has gone are dropped (499). While
        fewer threads wait than the largest recent batch held (clients answered a moment ago are sending again),
        it waits at most ``batch_wait`` for them; a lone request, after lone requests, does not wait."""
        expected = min(self.max_batch, max(self.recent, default=1))
        if queue[0].thread is not None and len(queue) < expected and self.batch_wait > 0:
            deadline = time.perf_counter() + self.batch_wait
            while len(queue) < expected and (left := deadline - time.perf_counter()) > 0:
                arrived.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(arrived.wait(), left)
        batch, size = [], 0
        while queue and len(batch) < self.max_batch:
            job = queue[0]
            if not job.future.done() and batch and not job.joins(batch[0], size):
                break
            queue.popleft()
            if job.future.done():  # its request was cancelled
                continue
            if job.gone is not None and await job.gone():
                self.abandoned += 1
                settle(job.future, HTTPError(499, "the client disconnected before its turn"), failed=True)  # nobody reads it
                continue
            self.waits.append(time.perf_counter() - job.queued)
            batch.append(job)
            size += job.size
            if job.fn is not None:
                break
        return batch

    async def _solo(self, loop, job: Job) -> None:
        try:
            result = await loop.run_in_executor(self.pool, job.fn, *job.args)
        except Exception as exc:  # noqa: BLE001 - the request's own error, raised by its endpoint
            settle(job.future, exc, failed=True)
        else:
            settle(job.future, result)

    def _score(self, loop, jobs: list[Job]) -> None:
        """On the model thread: each job's thread read alone (a bad one refuses only itself), then every read
        thread in one model pass, each answered as soon as its own is decoded. A pass that fails is run again
        thread by thread, so a fault stays with the thread that causes it."""

        from argmine.pipeline import analyze_each
        from argmine.reading.readers import read_document

        def answer(job: Job, value, failed: bool = False) -> None:
            loop.call_soon_threadsafe(settle, job.future, value, failed)

        docs, ready = [], []
        for job in jobs:
            settings, data, reader, _, comments_from = job.thread
            try:
                docs.append(read_document(data, settings, reader, comments_from))
                ready.append(job)
            except Exception as exc:  # noqa: BLE001 - its own 400 (or 500); the others go on
                answer(job, exc, True)
        left = list(ready)
        try:
            for job, graph in zip(ready, analyze_each(docs, jobs[0].model, jobs[0].thread[0])):
                if isinstance(graph, InputError):
                    answer(job, graph, True)
                else:
                    answer(job, export_one(graph, job.thread[3]))
                left.remove(job)
        except Exception as exc:  # noqa: BLE001 - find the thread at fault: each one left runs alone
            if len(ready) == 1:
                answer(ready[0], exc, True)
                return
            log.warning("a batch of %d threads failed; running them one by one", len(ready), exc_info=True)
            for job in left:
                self._score(loop, [job])

    @property
    def waiting(self) -> int:
        """Requests queued for the model thread, not yet taken into a batch."""
        return sum(len(queue) for queue, _, _ in self._queues.values())

    def stats(self) -> dict:
        """``/health``'s batching figures: the settings, batches run, their sizes, and recent queue waits."""
        waits = sorted(self.waits)
        return {
            "waiting": self.waiting,
            "max_batch": self.max_batch,
            "wait_ms": round(self.batch_wait * 1000, 3),
            "batches": self.batches,
            "threads": self.batched,
            "mean_size": round(self.batched / self.batches, 2) if self.batches else None,
            "max_size": self.largest,
            "queue_wait_ms": {
                "recent": len(waits),
                "p50": round(1000 * percentile(waits, 0.5), 2) if waits else None,
                "p95": round(1000 * percentile(waits, 0.95), 2) if waits else None,
            },
        }


def settle(future: asyncio.Future, value, failed: bool = False) -> None:
    """Answer a waiting request (its result, or the error its endpoint raises) unless it was cancelled."""
    if not future.done():
        future.set_exception(value) if failed else future.set_result(value)


def percentile(ordered: list[float], q: float) -> float:
    """The ``q`` quantile of sorted values (nearest rank)."""
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def check_token(token: str | None, authorization: str | None) -> None:
    """Accept ``Bearer <token>``, or HTTP basic auth whose password is the token (what Label Studio's
    ML backend connection sends); anything else is a 401."""
    if not token:
        return
    given = None
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() == "bearer":
        given = value.strip()
    elif scheme.lower() == "basic":
        try:
            given = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            given = None
    if given is None:
        raise HTTPError(
            401, "missing token: send 'Authorization: Bearer <token>'", {"WWW-Authenticate": 'Bearer realm="argmine"'}
        )
    if not hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
        raise HTTPError(401, "wrong token", {"WWW-Authenticate": 'Bearer realm="argmine"'})


async def read_body(request, max_bytes: int) -> bytes:
    """The request body, refused (413) as soon as it passes ``max_bytes`` (``input.max_bytes``)."""
    from starlette.requests import ClientDisconnect

    too_large = HTTPError(413, f"the body is larger than the limit of {max_bytes} bytes (input.max_bytes)")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise too_large
            chunks.append(chunk)
    except ClientDisconnect:
        raise HTTPError(400, "the client disconnected before sending the whole body") from None
    if not size:
        raise HTTPError(400, "the body is empty: send a thread as text/plain or application/json")
    return b"".join(chunks)


def input_format(content_type: str | None) -> str:
    """The reader for a ``Content-Type``: plain text or a JSON thread; anything else is a 415."""
    media, _, params = (content_type or "").partition(";")
    media = media.strip().lower()
    options = dict(p.strip().lower().partition("=")[::2] for p in params.split(";") if "=" in p)
    charset = options.get("charset", "utf-8").strip().strip('"')
    if media not in ("text/plain", "application/json"):
        raise HTTPError(415, f"unsupported Content-Type {media or '(none)'!r}: send text/plain or application/json")
    if charset.replace("_", "-") not in ("utf-8", "utf8"):
        raise HTTPError(415, f"unsupported charset {charset!r}: send UTF-8")
    return "text" if media == "text/plain" else "thread"


def check_format(fmt: str) -> str:
    """An output format of ``one_document_formats``, else a 400 listing them."""
    allowed = one_document_formats()
    if fmt not in allowed:
        raise HTTPError(400, f"unknown format {fmt!r} for /analyze (choose from {', '.join(allowed)})")
    return fmt


def export_one(graph, fmt: str) -> str:
    """``/analyze``'s answer: the graph JSON, or its ``fmt`` export."""
    from argmine.formats import export

    return export([graph], fmt)


def task_texts(body: object) -> list[tuple[object, str]]:
    """(id, text) of each task of a Label Studio ``/predict`` request; a wrong shape is a 400."""
    if not isinstance(body, dict) or not isinstance(body.get("tasks"), list):
        raise HTTPError(400, "a /predict request is a JSON object with a 'tasks' list")
    found = []
    for n, item in enumerate(body["tasks"]):
        data = item.get("data") if isinstance(item, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            raise HTTPError(400, f"task {n} has no data.text string (argmine's labeling config reads $text)")
        found.append((item.get("id", n + 1), data["text"]))
    return found


def predict(model, settings, tasks: list[tuple[object, str]], version: str) -> list[dict]:
    """A Label Studio prediction per task: argmine's units as labelled regions (code-point offsets) and its
    relations, with the model version and the mean relation score. A blank text has no regions. The tasks
    share one model pass (``analyze_many``); a task the pipeline refuses refuses the request."""
    from argmine.formats import label_studio
    from argmine.pipeline import analyze_many
    from argmine.reading.readers import read_document

    docs = [read_document(t.encode("utf-8"), settings, stem=f"task-{i}") for i, t in tasks if t.strip()]
    graphs = iter(analyze_many(docs, model, settings))
    results = []
    for task_id, text in tasks:
        graph = next(graphs) if text.strip() else None
        if isinstance(graph, InputError):
            raise graph
        blank = {"result": [], "score": 0.0, "model_version": version}
        results.append(blank if graph is None else label_studio.task(graph, task_id)["predictions"][0])
    return results


def one_line(message: object) -> str:
    """The message on one line (a client reads one line per error)."""
    return " ".join(str(message).split())


def parse_json(data: bytes, what: str) -> object:
    """A JSON request body, read as the readers read a file: undecodable or malformed JSON is an
    ``InputError`` naming the place (a 400, like every ``InputError``)."""
    from argmine import jsonio
    from argmine.files import decode

    return jsonio.parse(decode(data, what), what)


def create_app(
    model,
    settings,
    token: str | None = None,
    queue_size: int = DEFAULT_QUEUE,
    versions=None,
    live=None,
    name: str = "base",
    max_batch: int = DEFAULT_MAX_BATCH,
    batch_wait_ms: float = DEFAULT_BATCH_WAIT_MS,
):
    """The FastAPI app serving ``model`` (loaded by the caller, once) with ``settings``. ``token`` guards
    every endpoint but the health check and the webhook's annotation events; ``queue_size`` bounds the
    requests running or waiting; up to ``max_batch`` threads share a model pass, gathered for at most
    ``batch_wait_ms`` (``max_batch=1``: one at a time). ``versions`` (``live_training.Versions``) lets
    ``POST /versions/NAME`` switch versions; ``live`` (``live_training.LiveTraining``, which holds the slot)
    trains on Label Studio's events. Endpoints read the served model from ``app.state.slot`` when a request starts."""
    from fastapi import Depends, FastAPI, Request

    from argmine.live_training import Slot, serving
    from argmine.pipeline import models_loaded

    app = FastAPI(title="argmine", docs_url=None, redoc_url=None, openapi_url=None)
    check_batching(max_batch, batch_wait_ms)
    app.state.worker = worker = Worker(queue_size, max_batch, batch_wait_ms / 1000)
    app.state.slot = slot = live.slot if live is not None else Slot(serving(model, name))
    install_error_handlers(app, worker)

    def auth(request: Request) -> None:
        check_token(token, request.headers.get("authorization"))

    @app.get("/")
    @app.get("/health")
    def health() -> dict:
        """Up, with the model's identity and load count (1: loaded once), the queue's state and the batching."""
        answer = {
            "status": "UP",
            "model_class": "argmine",
            "model_version": slot.current.version,
            "model_loads": models_loaded(),
            "pid": os.getpid(),
            "queue": {"limit": worker.limit, "busy": worker.busy},
            "served": worker.served,
            "abandoned": worker.abandoned,
            "internal_errors": worker.internal_errors,
            "batching": worker.stats(),
        }
        if live is not None:
            answer["training"] = live.status()
        return answer

    add_analyze(app, Depends(auth), settings)
    add_label_studio(app, Depends(auth), settings, token, versions or (live.versions if live else None), live)
    return app


def add_analyze(app, auth, settings) -> None:
    """``POST /analyze``: a thread (text/plain or argmine's thread JSON) -> its graph or one-document export."""
    from fastapi import Query, Request
    from fastapi.responses import Response

    worker: Worker = app.state.worker

    @app.post("/analyze", dependencies=[auth])
    async def analyze(request: Request, format: str = "json", comments_from: int | None = Query(None, ge=1)) -> Response:
        fmt = check_format(format)
        reader = input_format(request.headers.get("content-type"))
        data = await read_body(request, settings.input.max_bytes)
        model = app.state.slot.current.model  # the model when the request came: a switch meanwhile does not change it
        body = await worker.analyze(model, settings, data, reader, fmt, comments_from, gone=request.is_disconnected)
        return Response(body, media_type=media_type(fmt))


def add_label_studio(app, auth, settings, token: str | None = None, versions=None, live=None) -> None:
    """Label Studio's ML backend protocol: ``/setup`` and ``/versions`` (the model versions), ``/predict`` (a
    prediction per task, in order) and ``/webhook`` (Label Studio's events: without ``live``, acknowledged
    and ignored; with it, ``START_TRAINING`` starts a job and annotation events count toward the next)."""
    from fastapi import Request
    from fastapi.responses import JSONResponse

    worker: Worker = app.state.worker

    @app.post("/setup", dependencies=[auth])
    async def setup(request: Request) -> dict:
        body = parse_json(await read_body(request, settings.input.max_bytes), "the /setup request")
        if not isinstance(body, dict):
            raise HTTPError(400, "a /setup request is a JSON object")
        return {"model_version": app.state.slot.current.version}

    @app.post("/predict", dependencies=[auth])
    async def predict_tasks(request: Request) -> dict:
        tasks = task_texts(parse_json(await read_body(request, settings.input.max_bytes), "the /predict request"))
        current = app.state.slot.current  # one (model, version) pair for the whole request
        results = await worker.run(predict, current.model, settings, tasks, current.version, gone=request.is_disconnected)
        return {"results": results, "model_version": current.version}

    @app.get("/versions", dependencies=[auth])
    async def list_versions() -> dict:
        from argmine.live_training import version_list

        return version_list(app.state.slot, versions)

    @app.post("/versions/{name}", dependencies=[auth])
    async def choose_version(name: str) -> dict:
        from argmine.live_training import switch, version_list

        if versions is None:
            raise HTTPError(404, "no versions to choose from: start argmine serve with --label-studio-url or --versions-dir")
        try:
            await asyncio.get_running_loop().run_in_executor(None, switch, app.state.slot, versions, name)
        except ArgmineError as exc:
            raise HTTPError(404, str(exc)) from None
        return version_list(app.state.slot, versions)

    @app.post("/webhook")
    async def webhook(request: Request) -> JSONResponse:
        if live is None:
            return JSONResponse({"status": "ignored: argmine serve does not train from annotations"}, 200)
        action, project, count = webhook_event(
            parse_json(await read_body(request, settings.input.max_bytes), "the /webhook request")
        )
        if action == "START_TRAINING":  # sent by Label Studio's ML connection, with its credentials
            check_token(token, request.headers.get("authorization"))
            return JSONResponse(live.start(project, "START_TRAINING"), 200)
        if action in ANNOTATION_EVENTS:  # sent by Label Studio's webhooks, without credentials: they only count
            return JSONResponse(live.annotated(project, count), 200)
        return JSONResponse({"status": f"ignored: {action}"}, 200)


ANNOTATION_EVENTS = {"ANNOTATION_CREATED", "ANNOTATIONS_CREATED", "ANNOTATION_UPDATED"}


def webhook_event(body: object) -> tuple[str, int, int]:
    """(action, project id, annotations it brings) of a Label Studio webhook event; a wrong shape is a 400."""
    if not isinstance(body, dict) or not isinstance(body.get("action"), str):
        raise HTTPError(400, "a /webhook request is a JSON object with an 'action'")
    project = body.get("project")
    project = project.get("id") if isinstance(project, dict) else project
    if body["action"] in ANNOTATION_EVENTS | {"START_TRAINING"} and (not isinstance(project, int) or isinstance(project, bool)):
        raise HTTPError(400, f"a {body['action']} event names its project ('project': {{'id': N}})")
    annotations = body.get("annotation")
    return body["action"], project, len(annotations) if isinstance(annotations, list) else 1


def install_error_handlers(app, worker: Worker) -> None:
    """Every refusal is its status with a one-line ``{"error": "..."}``; a fault is a counted 500."""
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    def reply(status: int, message: object, headers: dict | None = None) -> JSONResponse:
        return JSONResponse({"error": one_line(message)}, status, headers=headers)

    @app.exception_handler(HTTPError)
    async def refused(request, exc: HTTPError):
        return reply(exc.status, exc.message, exc.headers)

    @app.exception_handler(InputError)
    async def bad_input(request, exc: InputError):
        return reply(400, exc)

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "body"))
        return reply(422, f"{where or 'request'}: {first.get('msg', 'invalid')}")

    @app.exception_handler(HTTPException)
    async def http_error(request, exc: HTTPException):
        if exc.status_code == 404:
            return reply(404, f"no endpoint {request.url.path} (see /health, /analyze, /setup, /predict)")
        if exc.status_code == 405:
            return reply(405, f"{request.method} is not allowed on {request.url.path}", exc.headers)
        return reply(exc.status_code, exc.detail, exc.headers)

    @app.exception_handler(Exception)
    async def fault(request, exc: Exception):
        worker.internal_errors += 1
        log.exception("internal error on %s", request.url.path)
        return reply(500, f"internal error: {type(exc).__name__}: {exc}")


def run_server(
    settings,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    queue_size: int = DEFAULT_QUEUE,
    quiet: bool = False,
    started: Callable[[str], object] | None = None,
    label_studio_url: str | None = None,
    label_studio_token: str | None = None,
    train_every: int | None = None,
    versions_dir: str | None = None,
    model_version: str | None = None,
    max_batch: int = DEFAULT_MAX_BATCH,
    batch_wait_ms: float = DEFAULT_BATCH_WAIT_MS,
) -> None:
    """Serve the settings' model with uvicorn until interrupted (``argmine serve``). A missing ``serve``
    extra, a public address without a token, a taken port and bad live-training options are refused
    (``ArgmineError``) before the model loads, once; ``started`` is then called with the model's name.
    With ``label_studio_url`` (and its API key) Label Studio's training events adapt the model (live_training);
    ``model_version`` serves a version of ``versions_dir`` instead of the starting model."""
    require()
    versions = live_options(settings, label_studio_url, label_studio_token, train_every, versions_dir, model_version)
    check_batching(max_batch, batch_wait_ms)
    check_bind(host, port, token)
    from argmine.live_training import BASE, LabelStudioAPI, LiveTraining, Slot, serving
    from argmine.pipeline import load_model

    name = model_version or BASE
    model = versions.load(name) if versions is not None else load_model(settings=settings)
    if started is not None:
        started(model.describe()["name"])
    import uvicorn

    live = None
    if label_studio_url:
        api = LabelStudioAPI(label_studio_url, label_studio_token)
        live = LiveTraining(Slot(serving(model, name)), versions, settings, api, train_every)
    app = create_app(model, settings, token, queue_size, versions, live, name, max_batch, batch_wait_ms)
    uvicorn.run(app, host=host, port=port, log_level="warning" if quiet else "info", timeout_graceful_shutdown=5)


def live_options(settings, url, key, train_every, versions_dir, model_version):
    """The versions folder live training and ``--model-version`` use (None when neither is asked for);
    options that cannot work together are an ``ArgmineError`` naming the fix."""
    from argmine.live_training import Versions, check_url, default_versions_dir

    if url is None and key:
        raise ArgmineError("--label-studio-token needs --label-studio-url (or ARGMINE_LABEL_STUDIO_URL)")
    if url is not None:
        check_url(url)
        try:
            import httpx  # noqa: F401
        except ImportError:
            raise ArgmineError("training from Label Studio needs httpx: pip install 'argmine[serve]'") from None
        if not key:
            raise ArgmineError(
                "--label-studio-url needs Label Studio's API key: --label-studio-token (or ARGMINE_LABEL_STUDIO_TOKEN)"
            )
    elif train_every is not None:
        raise ArgmineError("--train-every needs --label-studio-url (training fetches the annotations from Label Studio)")
    if train_every is not None and train_every < 1:
        raise ArgmineError(f"--train-every {train_every}: give 1 or more new annotations")
    if url is None and versions_dir is None and model_version is None:
        return None
    versions = Versions(versions_dir or default_versions_dir(), settings)
    if model_version is not None and model_version not in versions.names():
        raise ArgmineError(f"--model-version {model_version!r} is not in {versions.root} (known: {', '.join(versions.names())})")
    return versions

"""Live training for ``argmine serve``: on Label Studio's ``START_TRAINING`` event (or every N new
annotations) fetch the project's annotated tasks through Label Studio's API, adapt the starting model on
them in one background thread, save the result as a new version folder and switch the served model to it.

The served (model, version) pair lives in one ``Slot`` attribute, replaced in one assignment: a request
reads it once when it starts and finishes on that model, the next one gets the new model. A job that fails
(Label Studio down or refusing the key, no annotated task, no relation, a model that cannot be adapted)
records a one-line reason and leaves the served model as it was. Versions are subfolders of a versions
folder (``base`` is the starting model, then ``v1``, ``v2``...), each written under a temporary name and
renamed, so a version folder is complete or absent; any of them can be served again (``switch``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from argmine.errors import ArgmineError, InputError
from argmine.files import check_output

log = logging.getLogger("argmine.serve")

BASE = "base"
VERSION_FILE = "argmine_version.json"
_NAME = re.compile(r"v([1-9][0-9]*)")


class JobError(ArgmineError):
    """Why a training job could not make a new version (one line, shown in ``/health``)."""


def default_versions_dir() -> Path:
    """Where versions go without ``--versions-dir``: the user's cache (``XDG_CACHE_HOME``), not the project."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "argmine" / "serve-versions"


def check_url(url: str) -> str:
    """A Label Studio address: http(s) with a host, without a trailing slash; anything else is refused."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ArgmineError(f"--label-studio-url {url!r} is not an http(s) address such as http://localhost:8080")
    return url.strip().rstrip("/")


@dataclass(frozen=True)
class Serving:
    """What answers requests: the loaded model, its version name (``base``, ``v1``...) and the
    ``model_version`` string Label Studio shows."""

    model: object
    name: str
    version: str


def serving(model, name: str) -> Serving:
    """The ``Serving`` of a loaded model: its Label Studio version is ``argmine <model name>``, as its predictions say."""
    return Serving(model, name, f"argmine {model.describe()['name']}")


class Slot:
    """The served model, swapped atomically: readers take ``slot.current`` once; ``set`` is one assignment."""

    def __init__(self, current: Serving):
        self.current = current

    def set(self, current: Serving) -> None:
        self.current = current


class Versions:
    """The versions folder: ``base`` (the settings' model) and the adapted versions ``v1``, ``v2``...,
    each a complete model folder with ``argmine_version.json`` saying where it came from."""

    def __init__(self, root: str | Path, settings):
        self.root, self.settings = Path(root), settings
        try:
            check_output(str(self.root), folder=True, what="the versions folder")  # the project's write probe
            self.root.mkdir(parents=True, exist_ok=True)
        except (InputError, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else str(exc).split(": ", 1)[-1]
            raise ArgmineError(f"--versions-dir {root}: cannot write there ({reason})") from None
        for stale in self.root.glob(".adapting-*"):  # a job's scratch left by a server stopped mid-job (one server per folder)
            shutil.rmtree(stale, ignore_errors=True)

    def names(self) -> list[str]:
        """``base`` then the adapted versions on disk, oldest first."""
        found = [p.name for p in self.root.iterdir() if _NAME.fullmatch(p.name) and (p / VERSION_FILE).is_file()]
        return [BASE, *sorted(found, key=lambda n: int(n[1:]))]

    def info(self, name: str) -> dict:
        """What ``argmine_version.json`` says of a version (the base: the settings' model)."""
        if name == BASE:
            return {"name": BASE, "model": self.settings.model.name}
        return json.loads((self.root / name / VERSION_FILE).read_text(encoding="utf-8"))

    def load(self, name: str):
        """The loaded model of a version; an unknown name is an ``ArgmineError`` listing the known ones."""
        if name not in self.names():
            raise ArgmineError(f"no model version {name!r} (known: {', '.join(self.names())})")
        if name == BASE:
            from argmine.pipeline import load_model

            return load_model(settings=self.settings)
        return self.open(self.root / name)

    def open(self, folder: Path):
        """A model folder loaded with the settings' device, window and quantization (not cached: a version
        replaced or rolled back is let go)."""
        from argmine import relations

        cfg = self.settings.model
        return relations.load(str(folder), cfg.device, cfg.max_length, cfg.quantize)

    def next_name(self) -> str:
        """The name the next adapted version gets (one more than the highest on disk)."""
        numbers = [int(n[1:]) for n in self.names() if n != BASE]
        return f"v{max(numbers, default=0) + 1}"

    def scratch(self) -> Path:
        """A temporary folder inside the versions folder (renamed into place by ``commit``, same file system)."""
        return Path(tempfile.mkdtemp(prefix=".adapting-", dir=self.root))

    def commit(self, scratch: Path, name: str, info: dict) -> Path:
        """Write the version's record into ``scratch`` and rename it to ``name``: complete or absent."""
        (scratch / VERSION_FILE).write_text(json.dumps({"name": name, **info}, indent=1) + "\n", encoding="utf-8")
        target = self.root / name
        os.rename(scratch, target)
        return target


class LabelStudioAPI:
    """The Label Studio API calls a job makes, with the user's API key: a legacy token or a personal access token."""

    def __init__(self, url: str, token: str, transport=None, timeout: float = 120.0):
        self.url, self.token, self.transport, self.timeout = check_url(url), token, transport, timeout

    def annotated_tasks(self, project: int) -> list[dict]:
        """The project's tasks that have an annotation (Label Studio's JSON export); every failure is a
        ``JobError`` saying what went wrong."""
        import httpx

        where = f"Label Studio at {self.url}"
        try:
            with httpx.Client(transport=self.transport, timeout=self.timeout) as client:
                r = client.get(
                    f"{self.url}/api/projects/{project}/export",
                    params={"exportType": "JSON"},
                    headers={"Authorization": self._authorization(client)},
                )
        except httpx.HTTPError as exc:
            raise JobError(f"{where} is unreachable ({type(exc).__name__}: {exc})") from None
        if r.status_code in (401, 403):
            raise JobError(f"{where} refused the API key (HTTP {r.status_code}): check --label-studio-token")
        if r.status_code == 404:
            raise JobError(f"{where} has no project {project} (HTTP 404)")
        if r.status_code != 200:
            raise JobError(f"{where} answered HTTP {r.status_code} to the export of project {project}")
        try:
            tasks = r.json()
        except ValueError:
            raise JobError(f"{where} answered the export of project {project} with something else than JSON") from None
        if not isinstance(tasks, list):
            raise JobError(f"{where} answered the export of project {project} with something else than a task list")
        return tasks

    def _authorization(self, client) -> str:
        """The ``Authorization`` header: a legacy token as ``Token KEY``; a personal access token (a JWT,
        Label Studio's default since 1.18) is first exchanged for an access token (``/api/token/refresh/``)."""
        if self.token.count(".") != 2:
            return f"Token {self.token}"
        r = client.post(f"{self.url}/api/token/refresh/", json={"refresh": self.token})
        access = r.json().get("access") if r.status_code == 200 and "json" in r.headers.get("content-type", "") else None
        if not isinstance(access, str):
            raise JobError(
                f"Label Studio at {self.url} refused the personal access token (HTTP {r.status_code}): check --label-studio-token"
            )
        return f"Bearer {access}"


def finished(tasks: list[dict]) -> list[dict]:
    """The tasks with an annotation that was submitted, not skipped (the importer would otherwise read a
    skipped task's prediction as if someone had corrected it)."""
    keep = []
    for item in tasks:
        done = [a for a in (item.get("annotations") or []) if isinstance(a, dict) and not a.get("was_cancelled")]
        if isinstance(item, dict) and done:
            keep.append({**item, "annotations": done, "predictions": []})
    return keep


def with_posts(tasks: list[dict], settings) -> list[dict]:
    """Give a task without argmine's side information the posts ``/predict`` reads in its text (its
    paragraphs), so the model learns on threads shaped as it will see them."""
    from argmine.graph import posts_json
    from argmine.reading.readers import read_document

    out = []
    for item in tasks:
        data = item.get("data")
        if isinstance(data, dict) and isinstance(data.get("text"), str) and data.get("argmine") is None and data["text"].strip():
            doc = read_document(data["text"].encode("utf-8"), settings, stem="task")
            if doc.text == data["text"]:
                item = {**item, "data": {**data, "argmine": {"posts": posts_json(doc)}}}
        out.append(item)
    return out


def read_tasks(tasks: list[dict], project: int, settings) -> list:
    """argmine graphs of the annotated tasks, through argmine's Label Studio importer; none, or none with
    a relation, is a ``JobError``."""
    from argmine.formats import import_graphs

    annotated = with_posts(finished(tasks), settings)
    if not annotated:
        raise JobError(f"project {project} has no annotated task (submit at least one annotation)")
    with tempfile.TemporaryDirectory(prefix="argmine-ls-") as folder:
        path = Path(folder) / f"project-{project}.json"
        path.write_text(json.dumps(annotated, ensure_ascii=False), encoding="utf-8")
        try:
            graphs = import_graphs(path, "label-studio")
        except InputError as exc:
            raise JobError(f"the annotations of project {project} do not read as argmine graphs: {exc}") from None
    if not any(g.relations for g in graphs):
        raise JobError(
            f"the {len(graphs)} annotated tasks of project {project} have no relation: draw supports/attacks relations between regions"
        )
    return graphs


class LiveTraining:
    """One training job at a time, on its own thread, swapping the slot's model when it succeeds. ``state``
    is what ``/health`` shows: idle, running, failed or done, with the phase, progress, version and error."""

    def __init__(self, slot: Slot, versions: Versions, settings, api: LabelStudioAPI, train_every: int | None = None, plan=None):
        from argmine.training.adapt import AdaptPlan

        self.slot, self.versions, self.settings, self.api = slot, versions, settings, api
        self.train_every = train_every
        # the annotations alone (a job takes seconds, not minutes), taken in full: annotators expect the next
        # prediction to follow their corrections (``argmine adapt`` keeps half the way back, --interpolate 0.5)
        self.plan = plan or AdaptPlan(mix=0.0, interpolate=1.0)
        self.lock = threading.Lock()
        self.state: dict = {"state": "idle"}
        self.counts: dict[int, int] = {}
        self.thread: threading.Thread | None = None

    def status(self) -> dict:
        """The job's state for ``/health`` (a copy), with the annotations counted toward ``--train-every``."""
        with self.lock:
            status = dict(self.state)
        if self.train_every:
            status["train_every"] = self.train_every
            status["new_annotations"] = dict(self.counts)
        return status

    def start(self, project: int, why: str) -> dict:
        """Start a job for ``project``, or refuse with the reason when one is running; the reply says which."""
        with self.lock:
            if self.state.get("state") == "running":
                running = self.state
                reason = f"a training job is already running (project {running['project']}, {running['phase']}, started {running['started']})"
                return {"status": "refused", "reason": reason}
            self.counts[project] = 0
            self.state = {
                "state": "running",
                "project": project,
                "why": why,
                "phase": "queued",
                "progress": 0.0,
                "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
            }
            # a daemon thread: stopping the server does not wait for a job (its scratch folder is never a version)
            self.thread = threading.Thread(target=self._run, args=(project, time.monotonic()), name="argmine-train", daemon=True)
            self.thread.start()
        return {"status": "started", "project": project}

    def annotated(self, project: int, count: int = 1) -> dict:
        """Count new annotations of ``project``; with ``--train-every N`` start a job at the Nth."""
        if not self.train_every:
            return {"status": "ignored: training starts on START_TRAINING (no --train-every)"}
        with self.lock:
            self.counts[project] = self.counts.get(project, 0) + count
            seen = self.counts[project]
        if seen < self.train_every:
            return {"status": f"counted: {seen} of {self.train_every} new annotations before training"}
        return self.start(project, f"{seen} new annotations")

    def wait(self, timeout: float | None = None) -> dict:
        """Block until the current job (if any) ends; its final state."""
        thread = self.thread
        if thread is not None:
            thread.join(timeout)
        return self.status()

    def _update(self, **changes) -> None:
        with self.lock:
            self.state = {**self.state, **changes}

    def _progress(self, line: str) -> None:
        """adapt's log line: the last one is shown; an epoch line moves the progress."""
        line = " ".join(str(line).split())
        changes: dict = {"last": line[:300]}
        epoch = re.match(r"epoch (\d+):", line)
        if epoch:
            changes["progress"] = round(0.15 + 0.7 * int(epoch.group(1)) / max(1, self.plan.epochs), 3)
            changes["phase"] = f"adapting (epoch {epoch.group(1)} of {self.plan.epochs})"
        elif "decision chosen" in line:
            changes["phase"] = "choosing thresholds"
        self._update(**changes)

    def _run(self, project: int, began: float) -> None:
        scratch = None
        try:
            self._update(phase="fetching annotated tasks from Label Studio", progress=0.02)
            tasks = self.api.annotated_tasks(project)
            self._update(phase="reading the annotations", progress=0.08)
            graphs = read_tasks(tasks, project, self.settings)
            name = self.versions.next_name()
            self._update(phase="adapting", progress=0.15, version=name, tasks=len(graphs))
            scratch = self.versions.scratch()
            self._adapt(graphs, scratch, project)
            self._update(phase="loading the new version", progress=0.9)
            model = self.versions.open(scratch)  # it loads, or it is not kept
            info = {
                "from": self.settings.model.name,
                "project": project,
                "label_studio": self.api.url,
                "tasks": len(graphs),
                "relations": sum(len(g.relations) for g in graphs),
                "epochs": self.plan.epochs,
                "seconds": round(time.monotonic() - began, 1),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            }
            folder = self.versions.commit(scratch, name, info)
            scratch = None
            model.name = str(folder)  # where it now lives: what its graphs record, and --model loads
            self.slot.set(serving(model, name))
            self._update(state="done", phase="serving the new version", progress=1.0, seconds=info["seconds"])
            log.info("training job for project %s: now serving %s (%.1f s)", project, name, info["seconds"])
        except ArgmineError as exc:
            self._fail(str(exc), began)
        except Exception as exc:  # noqa: BLE001 - a fault must fail the job, never the server or its model
            log.exception("training job for project %s", project)
            self._fail(f"internal error: {type(exc).__name__}: {exc}", began)
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)

    def _adapt(self, graphs: list, out: Path, project: int) -> None:
        """Adapt the starting model (not the served version: versions do not compound) on ``graphs``."""
        from argmine.training.adapt import adapt

        source = f"label-studio={self.api.url}/projects/{project}"
        try:
            adapt(
                self.settings.model.name,
                graphs,
                out,
                self.settings,
                self.plan,
                [source],
                self.settings.model.device,
                self._progress,
            )
        except InputError as exc:
            raise JobError(f"adapting failed: {exc}") from None

    def _fail(self, reason: str, began: float) -> None:
        reason = " ".join(reason.split())
        self._update(state="failed", error=reason, seconds=round(time.monotonic() - began, 1))
        log.warning("training job failed: %s", reason)


def version_list(slot: Slot, versions: Versions | None) -> dict:
    """``/versions``: every version (name, Label Studio model version, where it came from), the current one marked."""
    current = slot.current
    if versions is None:
        return {"versions": [current.version]}
    details = []
    for name in versions.names():
        info = versions.info(name)
        details.append({**info, "current": name == current.name})
    return {
        "versions": [d["name"] for d in details],
        "current": current.name,
        "model_version": current.version,
        "details": details,
    }


def switch(slot: Slot, versions: Versions, name: str) -> Serving:
    """Serve version ``name`` (loaded first; the slot changes only once it loaded)."""
    if slot.current.name == name:
        return slot.current
    new = serving(versions.load(name), name)
    slot.set(new)
    return new

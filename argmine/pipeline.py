"""The pipeline: document -> units -> candidate pairs -> relation scores -> trees -> graph.

``analyze`` is the library's front door (``argmine.analyze``); ``analyze_all`` runs every thread of
an input file (JSON Lines: one per line), recording a thread that fails and going on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from argmine import relations
from argmine.decoding.trees import Decision, Related, confident_tree
from argmine.document import Document
from argmine.errors import ArgmineError, InputError
from argmine.graph import Graph, nest
from argmine.reading.readers import ReadResult, read, read_all
from argmine.relations import Model
from argmine.settings import ModelSettings, Settings, default_settings
from argmine.units.segmenter import segment


@lru_cache(maxsize=2)
def _cached_model(name: str, device: str, max_length: int, quantize: str) -> Model:
    return relations.load(name, device, max_length, quantize)


def models_loaded() -> int:
    """How many models this process has loaded (``load_model`` loads each once and reuses it)."""
    return _cached_model.cache_info().misses


def load_model(name: str | None = None, *, device: str | None = None, settings: Settings | None = None) -> Model:
    """The relation model (``embedded`` = argmine's own, a parser or pair-model folder, or a hub id of
    an NLI checkpoint), loaded once per (name, device, window) and reused by later calls."""
    cfg: ModelSettings = (settings or default_settings()).model
    return _cached_model(name or cfg.name, device or cfg.device, cfg.max_length, cfg.quantize)


def check_work(doc: Document, model: Model | str | None, settings: Settings) -> None:
    """Refuse a thread sure to exceed the work limit from its unit counts alone, before the model loads and
    before the exact ``check`` (TF-IDF, tokenizing): a megabyte stretch of clauses is refused in seconds, not
    minutes. ``model``: a loaded model, or the name ``load_model`` would load (None: the settings')."""
    if isinstance(model, Model):
        kind = next((k for k in relations.KINDS if k.name == model.kind), None)
    else:
        kind = relations.kind_of(relations.model_folder(model or settings.model.name))
    least = kind.least_work(doc, settings) if kind is not None else 0
    if least > settings.candidates.max_pairs:
        raise InputError(
            f"{doc.id}: {len(doc.units)} units need at least {least} scores, over the work limit of "
            f"{settings.candidates.max_pairs} (candidates.max_pairs): raise it in a --config file to go on, or split the thread"
        )


def relate(
    doc: Document, model: Model, settings: Settings, show_progress: bool = False, decision: Decision | None = None
) -> Related:
    """Units -> the model's scores -> decoded trees and confident relations (over the work limit: raises)."""
    checked = model.check(doc, settings)
    return next(iter(model.relate([checked], settings, decision or model.decision(settings), show_progress)))


def _graph(doc: Document, related: Related, model: Model, decision: Decision) -> Graph:
    stats = {
        "units": len(doc.units),
        "pairs_scored": related.pairs_scored,
        "relations": len(related.relations),
        "truncated_pairs": related.truncated_pairs,
        "truncated_units": related.truncated_units,
        "seconds": None,
    }
    model_info = {**model.describe(), **decision.describe()}
    return Graph(doc, related.relations, nest(doc, confident_tree(related.tree, related.relations)), model_info, stats)


def analyze_document(
    doc: Document, model: Model | str | None, settings: Settings, timings: bool = False, show_progress: bool = False
) -> Graph:
    """Run every stage on one document (segmenting it unless it already has units) and return its graph.
    ``model`` may be a name (None: the settings'): it is loaded (once) only after the work floor is checked."""
    clock = {"start": time.perf_counter()}
    if not doc.units:
        doc = segment(doc, settings.segmenter, settings.boilerplate)
    check_work(doc, model, settings)
    clock["segment"] = time.perf_counter()
    if not isinstance(model, Model):
        model = load_model(model, settings=settings)
    loading = time.perf_counter() - clock["segment"]  # not a stage of this thread: left out of its seconds
    decision = model.decision(settings)
    related = relate(doc, model, settings, show_progress, decision)
    clock["relations"] = time.perf_counter() - loading
    graph = _graph(doc, related, model, decision)
    clock["decode"] = time.perf_counter() - loading
    if timings:
        stages = ["segment", "relations", "decode"]
        previous = ["start", *stages]
        seconds = {s: round(clock[s] - clock[p], 3) for s, p in zip(stages, previous)}
        seconds["total"] = round(clock["decode"] - clock["start"], 3)
        graph.stats["seconds"] = seconds
    return graph


def analyze_many(docs: list[Document], model: Model, settings: Settings) -> list[Graph | InputError]:
    """Several threads with one model pass: a graph per document, or the error that stopped it (over the
    work limit, say), in order."""
    return list(analyze_each(docs, model, settings))


def analyze_each(docs: list[Document], model: Model, settings: Settings) -> Iterator[Graph | InputError]:
    """``analyze_many`` as it goes: the threads' units share one model pass (windows sorted by length across
    threads), then each graph (or error) is yielded, in order, as soon as its own thread is decoded."""
    checked: list[tuple[Document, object] | InputError] = []
    for doc in docs:
        try:
            doc = doc if doc.units else segment(doc, settings.segmenter, settings.boilerplate)
            check_work(doc, model, settings)
            checked.append((doc, model.check(doc, settings)))
        except InputError as exc:
            checked.append(exc)
    decision = model.decision(settings)
    ready = [c for c in checked if not isinstance(c, InputError)]
    related = iter(model.relate([c for _, c in ready], settings, decision, False))
    for c in checked:
        yield c if isinstance(c, InputError) else _graph(c[0], next(related), model, decision)


def analyze(
    source: str | Path | Document,
    *,
    model: Model | str | None = None,
    settings: Settings | None = None,
    timings: bool = False,
    progress: bool = False,
) -> Graph:
    """Analyze one thread: a ``Document`` (its units are kept when it has them), a file path, or the
    text itself (plain text, or a JSON thread). ``model`` is a loaded ``RelationModel`` or a name;
    by default the settings' model, loaded once and reused."""
    settings = settings or default_settings()
    doc = source if isinstance(source, Document) else read(source, settings=settings)
    return analyze_document(doc, model, settings, timings, progress)


@dataclass
class Outcome:
    """One thread of an input file: its graph, or the error that stopped it (recorded, the batch goes on)."""

    path: str
    read: ReadResult
    graph: Graph | None = None
    error: ArgmineError | None = None

    @property
    def line(self) -> int | None:
        return self.read.line

    def to_json_line(self) -> str:
        """The graph on one line, or an ``argmine.error`` record naming the input, the thread's own id
        (when its line gives one, as ``argmine batch`` records it) and the problem."""
        if self.graph is not None:
            return self.graph.to_json(indent=None)
        return error_record(self.error, self.path, self.line, self.read.thread_id)


def error_record(error: object, path: str, line: int | None, thread_id: str | None = None) -> str:
    """One line recording a thread that failed, in place of its graph (``argmine.error``)."""
    record: dict = {"format": "argmine.error"}
    if thread_id is not None:
        record["id"] = thread_id
    record["source"] = {"path": path, "line": line}
    record["error"] = str(error)
    return json.dumps(record, ensure_ascii=False)


def analyze_all(
    path: str,
    *,
    model: Model | str | None = None,
    settings: Settings | None = None,
    input_format: str = "auto",
    comments_from: int | None = None,
    timings: bool = False,
    progress: bool = False,
    done: Callable[[Outcome], object] | None = None,
) -> list[Outcome]:
    """Every thread of an input file (one for plain text or a JSON thread, one per line for JSON Lines).
    The file is read and checked before the model loads (when the first thread within the work limit needs it);
    a thread that fails is an error outcome.
    ``done`` is called with each outcome as it is made, so a caller keeps what finished if the run stops."""
    settings = settings or default_settings()
    if not isinstance(model, Model):
        relations.check_name(model or settings.model.name)  # a wrong --model is refused before the input is read
    source = path if path == "-" else Path(path)  # always a file here, never a text
    results = read_all(source, settings=settings, input_format=input_format, comments_from=comments_from)
    outcomes = []
    for result in results:
        if result.error is not None:
            outcomes.append(Outcome(path, result, error=result.error))
        else:
            try:
                outcomes.append(Outcome(path, result, analyze_document(result.document, model, settings, timings, progress)))
            except InputError as exc:
                outcomes.append(Outcome(path, result, error=exc))
        if done is not None:
            done(outcomes[-1])
    return outcomes

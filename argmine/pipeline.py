"""The pipeline: document -> units -> candidate pairs -> relation scores -> trees -> graph.

``analyze`` is the library's front door (``argmine.analyze``); ``analyze_all`` runs every thread of
an input file (JSON Lines: one per line), recording a thread that fails and going on.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from argmine.candidates import candidate_pairs, pair_contexts, tfidf
from argmine.decoding import confident_tree, decode_trees
from argmine.document import Document, PairScores, Relation
from argmine.errors import ArgmineError, InputError
from argmine.graph import Graph, nest
from argmine.readers import ReadResult, read, read_all
from argmine.relations import RelationModel
from argmine.segmenter import segment
from argmine.settings import ModelSettings, RelationSettings, Settings, default_settings


@lru_cache(maxsize=2)
def _cached_model(name: str, device: str, max_length: int, quantize: str) -> RelationModel:
    return RelationModel.load(name, device, max_length, quiet=True, quantize=quantize)


def load_model(name: str | None = None, *, device: str | None = None, settings: Settings | None = None) -> RelationModel:
    """The relation model (``embedded`` = argmine's own, a hub id or a folder), loaded once per
    (name, device, window) and reused by later calls."""
    cfg: ModelSettings = (settings or default_settings()).model
    return _cached_model(name or cfg.name, device or cfg.device, cfg.max_length, cfg.quantize)


def post_pairs(doc: Document, pairs: list[tuple[int, int]]) -> list[tuple[str, str]]:
    """The (source post, target post) pairs behind the candidate reply pairs."""
    units = doc.units
    return sorted({(units[a].post, units[b].post) for a, b in pairs if units[a].post != units[b].post})


@dataclass
class PairModelScores:
    """The pair model alone: each candidate unit pair, and each (source post, target post) as wholes."""

    units: list[PairScores]
    posts: dict[tuple[str, str], PairScores]
    truncated: int  # unit pairs cut to the model window (whole posts are read from their start by design)


def pair_model_scores(
    docs: list[Document],
    pairs: list[list[tuple[int, int]]],
    model: RelationModel,
    batch_size: int,
    show_progress: bool = False,
    whole_posts: bool = True,
) -> list[PairModelScores]:
    """For each document, its candidate unit pairs (with their post/reply context) and, for reply pairs,
    the whole source post against the whole target post: one model pass over the unit pairs of all the
    documents and one over their post pairs, so batches fill up however short each thread is."""
    unit_texts, contexts, post_texts, post_keys = [], [], [], []
    for doc, mine in zip(docs, pairs):
        unit_texts += [(doc.units[a].text, doc.units[b].text) for a, b in mine]
        contexts += pair_contexts(doc, mine)
        keys = post_pairs(doc, mine) if whole_posts else []
        spans = {p.id: doc.text[p.start : p.end] for p in doc.posts}
        post_texts += [(spans[a], spans[b]) for a, b in keys]
        post_keys.append(keys)
    scored = model.score(unit_texts, batch_size=batch_size, show_progress=show_progress, contexts=contexts)
    post_scored = model.predict(post_texts, batch_size, contexts=["reply"] * len(post_texts))
    out, at, post_at = [], 0, 0
    for mine, keys in zip(pairs, post_keys):
        end, post_end = at + len(mine), post_at + len(keys)
        posts = dict(zip(keys, post_scored[post_at:post_end]))
        out.append(PairModelScores(scored.scores[at:end], posts, sum(scored.cut[at:end])))
        at, post_at = end, post_end
    return out


def relation_threshold(model: RelationModel, cfg: RelationSettings, key: str = "threshold") -> float:
    """``threshold`` (links inside a post) or ``reply_threshold`` (across posts): the settings' when set,
    else the one stored with the model, else the inside-post one, else 0.5."""
    value = getattr(cfg, key)
    if value is None:
        value = model.settings.get(key)
    if value is None and key != "threshold":
        return relation_threshold(model, cfg)
    return 0.5 if value is None else float(value)


@dataclass
class Related:
    """What the relation stage found in one document."""

    relations: list[Relation]  # confident labelled relations (the output)
    tree: dict[str, Relation]  # the decoded tree: every attached unit's link to its parent, confident or not
    pairs_scored: int
    truncated: int


def _candidates(doc: Document, settings: Settings):
    """(the units' TF-IDF, shared by candidates and the second stage; the candidate pairs), refusing a
    thread over the work limit."""
    matrix = tfidf([u.text for u in doc.units])
    pairs = candidate_pairs(doc, settings.candidates, matrix)
    if len(pairs) > settings.candidates.max_pairs:
        raise InputError(
            f"{doc.id}: {len(doc.units)} units need {len(pairs)} pair scores, over the work limit of "
            f"{settings.candidates.max_pairs} (candidates.max_pairs; ~150 pairs/s on 2 CPU cores): "
            "raise it in a --config file to go on, or split the thread"
        )
    return matrix, pairs


def _relate_prepared(prepared: list[tuple], model: RelationModel, settings: Settings, show_progress: bool) -> list[Related]:
    """Documents with their (TF-IDF, candidate pairs) -> scores in one pass -> second stage and trees each."""
    staged = model.scorer is not None
    raw = pair_model_scores(
        [d for d, _, _ in prepared], [p for _, _, p in prepared], model, settings.model.batch_size, show_progress, staged
    )
    out = []
    for (doc, matrix, pairs), scored in zip(prepared, raw):
        scores = scored.units
        if staged and pairs:
            scores = model.scorer.combine(model.scorer.features_of(doc, pairs, dict(zip(pairs, scores)), matrix, scored.posts))
        relations, tree = decode_trees(
            doc,
            pairs,
            scores,
            relation_threshold(model, settings.relations),
            settings.decoding.extra_threshold,
            relation_threshold(model, settings.relations, "reply_threshold"),
            settings.decoding.exact_root_limit,
            settings.decoding.max_tree_units,
        )
        out.append(Related(relations, tree, len(pairs), scored.truncated))
    return out


def relate_many(docs: list[Document], model: RelationModel, settings: Settings, show_progress: bool = False) -> list[Related]:
    """``relate`` for several documents with one pair-model pass over all their pairs. A document over
    the work limit raises (``analyze_many`` records it instead)."""
    return _relate_prepared([(doc, *_candidates(doc, settings)) for doc in docs], model, settings, show_progress)


def relate(doc: Document, model: RelationModel, settings: Settings, show_progress: bool = False) -> Related:
    """Units -> scored candidate pairs -> decoded trees and confident relations."""
    return relate_many([doc], model, settings, show_progress)[0]


def _graph(doc: Document, related: Related, model: RelationModel, settings: Settings) -> Graph:
    stats = {
        "units": len(doc.units),
        "pairs_scored": related.pairs_scored,
        "relations": len(related.relations),
        "truncated_pairs": related.truncated,
        "seconds": None,
    }
    model_info = {
        **model.describe(),
        "threshold": relation_threshold(model, settings.relations),
        "reply_threshold": relation_threshold(model, settings.relations, "reply_threshold"),
    }
    return Graph(doc, related.relations, nest(doc, confident_tree(related.tree, related.relations)), model_info, stats)


def analyze_document(
    doc: Document, model: RelationModel, settings: Settings, timings: bool = False, show_progress: bool = False
) -> Graph:
    """Run every stage on one document (segmenting it unless it already has units) and return its graph."""
    clock = {"start": time.perf_counter()}
    if not doc.units:
        doc = segment(doc, settings.segmenter, settings.boilerplate)
    clock["segment"] = time.perf_counter()
    related = relate(doc, model, settings, show_progress)
    clock["relations"] = time.perf_counter()
    graph = _graph(doc, related, model, settings)
    clock["decode"] = time.perf_counter()
    if timings:
        stages = ["segment", "relations", "decode"]
        previous = ["start", *stages]
        seconds = {s: round(clock[s] - clock[p], 3) for s, p in zip(stages, previous)}
        seconds["total"] = round(clock["decode"] - clock["start"], 3)
        graph.stats["seconds"] = seconds
    return graph


def analyze_many(docs: list[Document], model: RelationModel, settings: Settings) -> list[Graph | InputError]:
    """Several threads with one pair-model pass: a graph per document, or the error that stopped it
    (over the work limit, say), in order."""
    prepared: list[tuple | InputError] = []
    for doc in docs:
        try:
            doc = doc if doc.units else segment(doc, settings.segmenter, settings.boilerplate)
            prepared.append((doc, *_candidates(doc, settings)))
        except InputError as exc:
            prepared.append(exc)
    related = iter(_relate_prepared([p for p in prepared if not isinstance(p, InputError)], model, settings, False))
    return [p if isinstance(p, InputError) else _graph(p[0], next(related), model, settings) for p in prepared]


def analyze(
    source: str | Path | Document,
    *,
    model: RelationModel | str | None = None,
    settings: Settings | None = None,
    timings: bool = False,
    progress: bool = False,
) -> Graph:
    """Analyze one thread: a ``Document`` (its units are kept when it has them), a file path, or the
    text itself (plain text, or a JSON thread). ``model`` is a loaded ``RelationModel`` or a name;
    by default the settings' model, loaded once and reused."""
    settings = settings or default_settings()
    doc = source if isinstance(source, Document) else read(source, settings=settings)
    if not isinstance(model, RelationModel):
        model = load_model(model, settings=settings)
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
        """The graph on one line, or an ``argmine.error`` record naming the input and the problem."""
        if self.graph is not None:
            return self.graph.to_json(indent=None)
        return error_record(self.error, self.path, self.line)


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
    model: RelationModel | str | None = None,
    settings: Settings | None = None,
    input_format: str = "auto",
    comments_from: int | None = None,
    timings: bool = False,
    progress: bool = False,
) -> list[Outcome]:
    """Every thread of an input file (one for plain text or a JSON thread, one per line for JSON Lines).
    The file is read and checked before the model loads; a thread that fails is an error outcome."""
    settings = settings or default_settings()
    source = path if path == "-" else Path(path)  # always a file here, never a text
    results = read_all(source, settings=settings, input_format=input_format, comments_from=comments_from)
    if not isinstance(model, RelationModel) and any(r.document is not None for r in results):
        model = load_model(model, settings=settings)
    outcomes = []
    for result in results:
        if result.error is not None:
            outcomes.append(Outcome(path, result, error=result.error))
            continue
        try:
            outcomes.append(Outcome(path, result, analyze_document(result.document, model, settings, timings, progress)))
        except InputError as exc:
            outcomes.append(Outcome(path, result, error=exc))
    return outcomes

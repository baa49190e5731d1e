"""The pipeline: document -> units -> candidate pairs -> relation scores -> trees -> graph."""

from __future__ import annotations

import time
from pathlib import Path

from argmine.candidates import candidate_pairs, pair_contexts, tfidf
from argmine.decoding import confident_tree, decode_trees, nest
from argmine.document import Document, Relation
from argmine.errors import ModelError
from argmine.graph import build_graph
from argmine.relations import PairScores, RelationModel
from argmine.scorer import pair_features
from argmine.segmenter import segment

EMBEDDED_MODEL_DIR = Path(__file__).resolve().parent / "model"


def resolve_model_name(name: str) -> str:
    """``embedded`` names the relation model shipped inside the package."""
    if name != "embedded":
        return name
    if not (EMBEDDED_MODEL_DIR / "config.json").is_file():
        raise ModelError("the embedded relation model is not installed; pass a checkpoint with --model PATH")
    return str(EMBEDDED_MODEL_DIR)


def load_model(config: dict, quiet: bool = True) -> RelationModel:
    cfg = config["model"]
    model = RelationModel.load(resolve_model_name(cfg["name"]), cfg["device"], cfg["max_length"], quiet=quiet)
    if cfg["name"] == "embedded":
        model.name = "embedded"
    return model


def post_pairs(doc: Document, pairs: list[tuple[int, int]]) -> list[tuple[str, str]]:
    """The (source post, target post) pairs behind the candidate reply pairs."""
    units = doc.units
    return sorted({(units[a].post, units[b].post) for a, b in pairs if units[a].post != units[b].post})


def pair_model_scores(
    doc: Document, pairs: list[tuple[int, int]], model: RelationModel, batch_size: int, show_progress: bool = False,
    whole_posts: bool = True,
) -> tuple[list[PairScores], dict[tuple[str, str], PairScores]]:
    """The pair model alone: each candidate unit pair (with its post/reply context) and, for reply
    pairs, the whole source post against the whole target post."""
    texts = [(doc.units[a].text, doc.units[b].text) for a, b in pairs]
    scores = model.predict(texts, batch_size=batch_size, show_progress=show_progress, contexts=pair_contexts(doc, pairs))
    post_scores: dict[tuple[str, str], PairScores] = {}
    if whole_posts:
        keys = post_pairs(doc, pairs)
        spans = {p.id: doc.text[p.start : p.end] for p in doc.posts}
        counted = model.truncated  # whole posts are read from their start by design: not counted as truncated
        post_scores = dict(zip(keys, model.predict([(spans[a], spans[b]) for a, b in keys], batch_size, contexts=["reply"] * len(keys))))
        model.truncated = counted
    return scores, post_scores


def score_pairs(
    doc: Document, pairs: list[tuple[int, int]], model: RelationModel, config: dict, show_progress: bool = False, matrix=None
) -> list[PairScores]:
    """Pair-model probabilities, refined by the model's second stage when it ships one."""
    staged = model.scorer is not None
    scores, post_scores = pair_model_scores(doc, pairs, model, config["model"]["batch_size"], show_progress, staged)
    if staged and pairs:
        scores = model.scorer.combine(pair_features(doc, pairs, dict(zip(pairs, scores)), matrix, post_scores))
    return scores


def relation_threshold(model: RelationModel, config: dict, key: str = "threshold") -> float:
    """``threshold`` (links inside a post) or ``reply_threshold`` (across posts): the config's when set,
    else the one stored with the model, else the inside-post one, else 0.5."""
    value = config["relations"][key]
    if value is None:
        value = model.settings.get(key)
    if value is None and key != "threshold":
        return relation_threshold(model, config)
    return 0.5 if value is None else float(value)


def relate(doc: Document, model: RelationModel, config: dict, show_progress: bool = False) -> tuple[list[Relation], dict[str, Relation], int]:
    """Units -> (confident labelled relations, the decoded tree: every unit's link to its parent, pairs scored)."""
    matrix = tfidf([u.text for u in doc.units])  # shared by candidates and the second stage
    pairs = candidate_pairs(doc, config["candidates"], matrix)
    scores = score_pairs(doc, pairs, model, config, show_progress, matrix)
    relations, tree = decode_trees(
        doc, pairs, scores, relation_threshold(model, config), config["decoding"]["extra_threshold"],
        relation_threshold(model, config, "reply_threshold"),
    )
    return relations, tree, len(pairs)


def analyze(
    doc: Document, model: RelationModel, config: dict, timings: bool = False, show_progress: bool = False
) -> dict:
    """Run every stage on one document and return its argmine graph."""
    clock = {"start": time.perf_counter()}
    doc = segment(doc, config)
    clock["segment"] = time.perf_counter()
    model.truncated = 0
    relations, tree, n_pairs = relate(doc, model, config, show_progress)
    clock["relations"] = time.perf_counter()
    trees = nest(doc, confident_tree(tree, relations))
    clock["decode"] = time.perf_counter()
    seconds = None
    if timings:
        stages = ["segment", "relations", "decode"]
        previous = ["start", *stages]
        seconds = {s: round(clock[s] - clock[p], 3) for s, p in zip(stages, previous)}
        seconds["total"] = round(clock["decode"] - clock["start"], 3)
    stats = {
        "units": len(doc.units),
        "pairs_scored": n_pairs,
        "relations": len(relations),
        "truncated_pairs": model.truncated,
        "seconds": seconds,
    }
    model_info = {
        **model.describe(),
        "threshold": relation_threshold(model, config),
        "reply_threshold": relation_threshold(model, config, "reply_threshold"),
    }
    return build_graph(doc, relations, trees, model_info, stats)

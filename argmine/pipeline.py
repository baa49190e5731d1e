"""The pipeline: document -> units -> candidate pairs -> relation scores -> trees -> graph."""

from __future__ import annotations

import time
from pathlib import Path

from argmine.candidates import candidate_pairs
from argmine.decoding import decode_trees, nest
from argmine.document import Document
from argmine.errors import ModelError
from argmine.graph import build_graph
from argmine.relations import RelationModel, label_pairs
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


def analyze(
    doc: Document, model: RelationModel, config: dict, timings: bool = False, show_progress: bool = False
) -> dict:
    """Run every stage on one document and return its argmine graph."""
    clock = {"start": time.perf_counter()}
    doc = segment(doc, config)
    clock["segment"] = time.perf_counter()
    pairs = candidate_pairs(doc, config["candidates"])
    clock["candidates"] = time.perf_counter()
    model.truncated = 0
    texts = [(doc.units[a].text, doc.units[b].text) for a, b in pairs]
    scores = model.predict(texts, batch_size=config["model"]["batch_size"], show_progress=show_progress)
    thresholds = config["relations"]["thresholds"]
    relations = label_pairs(doc, pairs, scores, thresholds)
    clock["relations"] = time.perf_counter()
    attached = decode_trees(doc, relations, forward_only=config["decoding"]["forward_only"])
    trees = nest(doc, attached)
    clock["decode"] = time.perf_counter()
    seconds = None
    if timings:
        stages = ["segment", "candidates", "relations", "decode"]
        previous = ["start", *stages]
        seconds = {s: round(clock[s] - clock[p], 3) for s, p in zip(stages, previous)}
        seconds["total"] = round(clock["decode"] - clock["start"], 3)
    stats = {
        "units": len(doc.units),
        "pairs_scored": len(pairs),
        "relations": len(relations),
        "truncated_pairs": model.truncated,
        "seconds": seconds,
    }
    model_info = {**model.describe(), "thresholds": dict(thresholds)}
    return build_graph(doc, relations, trees, model_info, stats)

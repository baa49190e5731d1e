"""The shipped relation model: the contextual parser with its answered-post link, offline, fp16, within size."""

import json
import subprocess
import sys

import pytest

import argmine
from argmine.relations import EMBEDDED_MODEL_DIR
from tests.conftest import EXAMPLE


def test_embedded_model_is_the_parser_with_its_reply_links_fp16_and_small():
    from safetensors.torch import load_file

    assert sum(p.stat().st_size for p in EMBEDDED_MODEL_DIR.iterdir()) < 100 * 1024 * 1024
    for name in ("model.safetensors", "argmine_parser.safetensors"):
        dtypes = {str(t.dtype) for t in load_file(EMBEDDED_MODEL_DIR / name).values() if t.is_floating_point()}
        assert dtypes == {"torch.float16"}, name
    stored = json.loads((EMBEDDED_MODEL_DIR / "argmine_parser.json").read_text())
    assert 0 <= stored["threshold"] <= 1 and 0 <= stored["reply_threshold"] <= 1
    links = json.loads((EMBEDDED_MODEL_DIR / "argmine_links.json").read_text())
    from argmine.relations.replies import FEATURES

    assert links["features"] == list(FEATURES)
    card = (EMBEDDED_MODEL_DIR / "README.md").read_text()
    # the card names each corpus with its licence (QT30 and reply-agreement state none: research use) and
    # reports every result beside the baselines
    assert "ODbL" in card and card.count("research use") >= 2 and "qt30" in card and "reply-agreement" in card
    assert "baseline: positional" in card and "answered-post link" in card


@pytest.mark.slow
def test_analyze_uses_the_embedded_model_with_the_network_off(tmp_path):
    out = tmp_path / "graph.json"
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "argmine", "analyze", str(EXAMPLE), "-o", str(out), "-q"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    graph = json.loads(out.read_text(encoding="utf-8"))
    assert graph["model"]["name"] == "embedded" and graph["model"]["kind"] == "parser"
    assert graph["relations"] and all(0 <= r["score"] <= 1 for r in graph["relations"])
    # every unit is scored against its heads in one window
    assert graph["stats"]["pairs_scored"] > len(graph["units"])


@pytest.mark.slow
def test_embedded_model_reads_replies_as_agreement_and_disagreement():
    """The shipped model on two-post threads it never saw: a clear disagreement attacks, a clear agreement supports."""
    from argmine.evaluation.corpora import ReplyPair, reply_thread

    model = argmine.load_model()
    assert model.links is not None and model.stored["reply_threshold"] is not None
    quote = "Cars should be banned from the city centre because they pollute the air."
    labels = {}
    for name, response in {
        "disagree": "No, you are completely wrong about this. Banning cars would kill the shops downtown.",
        "agree": "I completely agree with you, the air downtown is terrible and cars are the cause.",
    }.items():
        graph = argmine.analyze(reply_thread(ReplyPair(quote, response, "", "", ""), name), model=model)
        posts = {u.id: u.post for u in graph.units}
        labels[name] = {r.label for r in graph.relations if posts[r.source] == "response" and posts[r.target] == "quote"}
    assert labels == {"disagree": {"attack"}, "agree": {"support"}}

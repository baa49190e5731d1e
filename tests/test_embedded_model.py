"""The shipped relation model: loads offline by default, within size, with its second stage."""

import json
import subprocess
import sys

from argmine.pipeline import EMBEDDED_MODEL_DIR
from tests.conftest import EXAMPLE


def test_embedded_model_is_fp16_and_small():
    from safetensors.torch import load_file

    weights = EMBEDDED_MODEL_DIR / "model.safetensors"
    assert weights.stat().st_size < 50 * 1024 * 1024
    assert {str(t.dtype) for t in load_file(weights).values() if t.is_floating_point()} == {"torch.float16"}
    config = json.loads((EMBEDDED_MODEL_DIR / "config.json").read_text())
    assert set(config["id2label"].values()) == {"support", "attack", "none"}
    assert (EMBEDDED_MODEL_DIR / "README.md").read_text().count("CC BY") >= 1


def test_analyze_uses_the_embedded_model_with_the_network_off(tmp_path):
    out = tmp_path / "graph.json"
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "argmine", "analyze", str(EXAMPLE), "-o", str(out), "-q"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    graph = json.loads(out.read_text(encoding="utf-8"))
    assert graph["model"]["name"] == "embedded" and graph["model"]["second_stage"] == "argmine_scorer.json"
    assert graph["relations"] and all(0 <= r["score"] <= 1 for r in graph["relations"])
    # every comment's first unit is scored against the article, so the thread is linked up
    assert graph["stats"]["pairs_scored"] > len(graph["units"])

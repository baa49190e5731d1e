from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXAMPLE = ROOT / "examples" / "thread.txt"
SHARED = ROOT.parent / "shared"


def free_port() -> int:
    """A localhost TCP port nobody listens on (for servers the tests start)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc: subprocess.Popen) -> None:
    """Stop a server a test started in its own session (its whole process group), killing it if it lingers."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)


def fixture_texts() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in [EXAMPLE, *sorted(FIXTURES.glob("*"))] if p.is_file()]


@pytest.fixture(scope="session")
def make_model(tmp_path_factory):
    """Build (and cache) a tiny checkpoint: ``make_model(convention, favour=None)``."""
    from tests import tiny_models  # torch and transformers: only for the tests that build a model

    cache: dict = {}
    words = tiny_models.vocabulary(fixture_texts())

    def factory(convention: str = "argmine", favour: str | None = None, labels: list[str] | None = None) -> Path:
        labels = labels or tiny_models.CONVENTIONS[convention]
        key = (tuple(labels), favour)
        if key not in cache:
            folder = tmp_path_factory.mktemp(f"model-{convention}")
            cache[key] = tiny_models.build(folder, labels, favour, words)
        return cache[key]

    return factory


@pytest.fixture(scope="session")
def tiny_model(make_model) -> Path:
    return make_model("argmine")


@pytest.fixture(scope="session")
def tiny_parser(tmp_path_factory) -> Path:
    """A tiny random contextual parser folder (windows of 64 tokens, so long posts take several)."""
    from tests import tiny_models

    return tiny_models.build_parser(tmp_path_factory.mktemp("parser"), tiny_models.vocabulary(fixture_texts()))


@pytest.fixture
def shared() -> Path:
    if not (SHARED / "seeds").is_dir():
        pytest.skip("../shared is absent (seed texts and gold are not part of the project)")
    return SHARED

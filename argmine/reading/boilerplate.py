"""Boilerplate: subscription appeals, bylines, photo credits and the like, matched by configured patterns."""

from __future__ import annotations

import re
from functools import lru_cache

SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+")


@lru_cache(maxsize=8)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


def is_boilerplate(sentence: str, patterns: list[str]) -> bool:
    """A sentence matching any pattern (``configs/default.yaml``: ``boilerplate``)."""
    return any(p.search(sentence.strip()) for p in _compiled(tuple(patterns)))


def is_boilerplate_paragraph(paragraph: str, patterns: list[str]) -> bool:
    """Every sentence of the paragraph is boilerplate."""
    sentences = [s for s in SENTENCE_BREAK.split(paragraph.strip()) if s]
    return bool(sentences) and all(is_boilerplate(s, patterns) for s in sentences)

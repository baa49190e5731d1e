"""Plain text -> posts: paragraphs, a headline, and where unmarked reader comments begin.

Comment detection scores each paragraph's register (reader comment vs news prose) from
cues weighted in ``configs/default.yaml`` and picks the split that maximises the summed score
of the trailing comment block: comments follow the article, so one change point is enough.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from argmine.document import Document, Post, Span, trim_span
from argmine.errors import InputError
from argmine.reading.boilerplate import SENTENCE_BREAK, is_boilerplate_paragraph

if TYPE_CHECKING:
    from argmine.settings import CommentDetectionSettings, LayoutSettings

_TERMINAL = tuple('.!?"”’)…:')
_QUOTED = re.compile(r"“[^”]*”|\"[^\"\n]*\"")
_LINE = re.compile(r"[^\r\n]*\S[^\r\n]*")
_BLOCK = re.compile(r"\S(?:.|\n(?![ \t\r]*\n))*")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
_FIRST_PERSON = re.compile(r"\b(I|I[’']m|I[’']ve|I[’']d|I[’']ll|(?i:me|my|mine|myself))\b")
_SECOND_PERSON = re.compile(r"\b(you|your|yours|yourself|you[’'](re|ve|ll|d))\b", re.IGNORECASE)


def paragraphs(text: str, start: int = 0, end: int | None = None, line_share: float = 0.8) -> list[Span]:
    """Paragraph spans of ``text[start:end]`` (trimmed of surrounding whitespace).

    One paragraph per line when lines end like sentences (comment dumps, one-line paragraphs);
    blank-line separated blocks when lines are hard-wrapped (fewer than ``line_share`` of them end like sentences).
    """
    end = len(text) if end is None else end
    lines = [_strip(text, Span(m.start(), m.end())) for m in _LINE.finditer(text, start, end)]
    if not lines:
        return []
    endings = [text[p.end - 1] in _TERMINAL for p in lines[1:-1]]
    if not endings or sum(endings) >= line_share * len(endings):
        return lines
    return [_strip(text, Span(m.start(), m.end())) for m in _BLOCK.finditer(text, start, end)]


def _strip(text: str, p: Span) -> Span:
    return Span(*trim_span(text, p.start, p.end))


def is_title(text: str, paras: list[Span], max_chars: int, min_words: int = 2) -> bool:
    """A short first line without sentence-final punctuation, followed by more text."""
    if len(paras) < 2:
        return False
    first = text[paras[0].start : paras[0].end]
    return "\n" not in first and len(first) <= max_chars and len(first.split()) >= min_words and first[-1] not in ".,;:!"


@lru_cache(maxsize=1)
def english_stop_words() -> frozenset[str]:
    """scikit-learn's English stop words (the Glasgow IR list), read from their own module: importing
    scikit-learn itself costs about a second, which a refusal or a cold start should not pay."""
    import importlib.util

    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it
    path = Path(spec.origin).parent / "feature_extraction" / "_stop_words.py" if spec and spec.origin else None
    if path is None or not path.is_file():
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        return ENGLISH_STOP_WORDS
    module = importlib.util.module_from_spec(importlib.util.spec_from_file_location("_argmine_stop_words", path))
    module.__spec__.loader.exec_module(module)
    return frozenset(module.ENGLISH_STOP_WORDS)


@lru_cache(maxsize=8)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


def register_cues(paragraph: str, cfg: CommentDetectionSettings) -> dict[str, float]:
    """Counts of reader-comment and news-prose cues in one paragraph (quotations set aside)."""
    unquoted = _QUOTED.sub(" ", paragraph)
    sentences = [s for s in SENTENCE_BREAK.split(unquoted.strip()) if s]
    clause_starts = [c.strip() for s in sentences for c in re.split(r"[,;:]\s+", s)]
    imperatives = set(cfg.imperative_verbs)
    cap = cfg.cue_cap
    cues = {
        "first_person": min(cap, len(_FIRST_PERSON.findall(unquoted))),
        "second_person": min(cap, len(_SECOND_PERSON.findall(unquoted))),
        "question": min(cap, unquoted.count("?")),
        "rhetorical_opener": float(any(p.match(paragraph.strip()) for p in _compiled(tuple(cfg.rhetorical_openers)))),
        "imperative": float(any(_opens_with_verb(c, imperatives) for c in clause_starts)),
        "shouting": min(cap, sum(1 for w in _WORD.findall(unquoted) if _is_shouted(w, cfg.shouting_min_chars))),
        "informal": min(cap, sum(len(p.findall(unquoted)) for p in _compiled(tuple(cfg.informal_patterns)))),
        "attribution": min(cap, sum(len(p.findall(paragraph)) for p in _compiled(tuple(cfg.attribution_patterns)))),
        "quotation": min(cap, sum(1 for q in _QUOTED.findall(paragraph) if len(q.split()) >= cfg.quotation_min_words)),
        "long_paragraph": float(len(paragraph) > cfg.long_paragraph_chars),
        "short_paragraph": float(len(paragraph) < cfg.short_paragraph_chars),
    }
    return cues


def _opens_with_verb(clause: str, verbs: set[str]) -> bool:
    words = clause.split()
    return len(words) >= 2 and words[0].lower() in verbs and words[1].lower() not in {"is", "are", "was", "were", "of"}


def _is_shouted(word: str, min_chars: int) -> bool:
    """Ordinary words in capitals (ANY, NEVER), not acronyms (ISIS, NATO)."""
    return len(word) >= min_chars and word.isupper() and word.lower() in english_stop_words()


def register_score(paragraph: str, cfg: CommentDetectionSettings) -> float:
    cues = register_cues(paragraph, cfg)
    return cfg.bias + sum(getattr(cfg.weights, name) * value for name, value in cues.items())


def _blank_before(text: str, paras: list[Span]) -> list[bool]:
    """Whether each paragraph is preceded by a blank line (the first counts as not)."""
    return [False] + [bool(re.search(r"\n[ \t\r]*\n", text[a.end : b.start])) for a, b in zip(paras, paras[1:])]


def detect_comment_start(
    text: str, paras: list[Span], first: int, cfg: CommentDetectionSettings, boilerplate: list[str] = ()
) -> int:
    """Index of the first comment paragraph, or ``len(paras)`` when there are none.

    A one-change-point CUSUM over paragraph register scores. Boilerplate paragraphs (a closing subscription appeal) score nothing and never start the comments.
    """
    n = len(paras)
    if not cfg.enabled or n - first < 2:
        return n
    skip = [is_boilerplate_paragraph(text[p.start : p.end], list(boilerplate)) for p in paras]
    scores = [0.0 if b else register_score(text[p.start : p.end], cfg) for p, b in zip(paras, skip)]
    blank = _blank_before(text, paras)
    counted = [sc for sc, b in zip(scores[first:], skip[first:]) if not b]
    baseline = max(0.0, sum(counted) / len(counted)) if counted else 0.0
    best_k, best_gain = n, 0.0
    suffix = 0.0
    # The article keeps at least one paragraph; ties go to the later split (fewer comments).
    for k in range(n - 1, first, -1):
        suffix += scores[k]
        # CUSUM against the text's own mean: comments must read more like comments than the text
        # as a whole, so a first-person op-ed raises the bar its tail has to clear.
        gain = suffix - baseline * sum(1 for i in range(k, n) if not skip[i])
        # Layout change: blank-line separated article paragraphs, then single-newline comments.
        article_gaps, comment_gaps = blank[first + 1 : k], blank[k:]
        if (
            article_gaps
            and article_gaps[-1]
            and sum(article_gaps) > len(article_gaps) / 2
            and sum(comment_gaps) < len(comment_gaps) / 2
        ):
            gain += cfg.weights.layout_change
        if gain > best_gain and not skip[k]:
            best_k, best_gain = k, gain
    return best_k if best_gain >= cfg.min_block_score else n


def _marker_line(text: str, patterns: list[str]) -> re.Match | None:
    """The first line that announces the comments ("---", "Comments", "Reader comments:")."""
    alternatives = "|".join(f"(?:{p})" for p in patterns)
    return re.search(rf"^[ \t]*(?:{alternatives})[ \t]*\r?$", text, re.IGNORECASE | re.MULTILINE)


def layout_plain_text(
    text: str,
    doc_id: str,
    cfg: LayoutSettings,
    comments_from: int | None = None,
    boilerplate: list[str] = (),
    **doc_kwargs,
) -> Document:
    """Split a plain-text thread into title, article and comment posts."""
    marker = _marker_line(text, cfg.comment_markers)
    share = cfg.line_paragraph_share
    if marker is not None:
        body, comments = paragraphs(text, 0, marker.start(), share), paragraphs(text, marker.end(), None, share)
        paras = body + comments
    else:
        paras = body = paragraphs(text, line_share=share)
        comments = []
    if not paras:
        raise InputError("the text holds no words")
    title = body[0] if body and is_title(text, body, cfg.title_max_chars, cfg.title_min_words) else None
    first = 1 if title else 0
    if comments_from is not None:
        if marker is not None:
            raise InputError("--comments-from cannot be used with a text that has a comment marker line")
        if not first < comments_from <= len(paras):
            raise InputError(f"--comments-from {comments_from} is outside paragraphs {first + 1}..{len(paras)}")
        body, comments = paras[:comments_from], paras[comments_from:]
    elif marker is None:
        k = detect_comment_start(text, paras, first, cfg.comment_detection, boilerplate)
        body, comments = paras[:k], paras[k:]
    posts: list[Post] = []
    if title:
        posts.append(Post("title", "title", title.start, title.end))
    article = body[first:]
    if not article:
        raise InputError("the text has no article before its comments")
    posts.append(Post("article", "article", article[0].start, article[-1].end))
    for i, p in enumerate(comments, start=1):
        posts.append(Post(f"c{i}", "comment", p.start, p.end, parent="article"))
    return Document(doc_id, text, posts, flat=True, **doc_kwargs)

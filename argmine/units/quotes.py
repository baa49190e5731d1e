"""Quotes: what a reply repeats of an earlier post is a pointer to that post's unit, not a unit of its own.

Two kinds, in comments only:

- a block of consecutive lines opening with ``>`` (or Reddit's raw ``&gt;``), a blank line ending it.
  Its span is the whole block, markers included, trimmed of surrounding whitespace: the span covers the
  quoting device, so what remains of the post is exactly its own text;
- a stretch in quotation marks (“…”, "…", ‘…’, '…') that shares a run of at least ``min_words``
  consecutive words with a post the comment may answer (case, whitespace and curly or straight
  apostrophes aside). Its span is the quotation, marks included; the rest of its sentence stays text.

A comment may quote the posts ``document.Answerable`` lets it answer: its ancestors and, in a flat
plain-text thread, every earlier post (the comment above among them). ``find_quotes`` needs only the
posts; ``point_quotes`` names each quote's target once units exist; the segmenter runs both.
"""

from __future__ import annotations

import re
from dataclasses import replace
from difflib import SequenceMatcher

from argmine.document import Answerable, Document, Post, Quote, Unit, answered_posts, trim_span

__all__ = ["Quote", "find_quotes", "point_quotes", "quoted_units"]

# Defaults of the detector; the segmenter passes configs/default.yaml's segmenter.quote_* values.
MIN_QUOTED_WORDS = 5  # a quotation repeats at least this many consecutive words of an answered post
MIN_TARGET_WORDS = 3  # a target unit shares this many consecutive words with the quote (or all of its own)

_MARKED_LINE = re.compile(r"^[ \t]*(?:>|&gt;)[^\r\n]*", re.MULTILINE)
_MARKERS = re.compile(r"^[ \t]*(?:(?:>|&gt;)[ \t]*)+", re.MULTILINE)
_QUOTED = re.compile(r"“[^”\n]+”|\"[^\"\n]+\"|(?<!\w)['‘](?=\w)[^\n]*?\w[.!?,]?['’](?!\w)")
_WORD = re.compile(r"\w+(?:'\w+)*")


def words(text: str) -> list[str]:
    """Lower-case words of ``text`` with ``>`` markers dropped and curly apostrophes made straight."""
    plain = _MARKERS.sub(" ", text).lower().replace("’", "'").replace("‘", "'")
    return _WORD.findall(plain)


class _Quotable:
    """The posts each comment may quote, the post it answers first, then the others nearest first."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.allowed = Answerable(doc)
        self.answered = answered_posts(doc)
        self.order = {p.id: k for k, p in enumerate(doc.posts)}
        self._grams: dict[str, set[tuple[str, ...]]] = {}
        self._posts: dict[str, list[Post]] = {}

    def posts(self, post_id: str) -> list[Post]:
        if post_id not in self._posts:
            first, at = self.answered[post_id], self.order[post_id]
            others = [p for p in self.doc.posts if p.id != post_id and self.allowed(post_id, p.id)]
            key = lambda p: (p.id != first, abs(self.order[p.id] - at), self.order[p.id])  # noqa: E731
            self._posts[post_id] = sorted(others, key=key)
        return self._posts[post_id]

    def repeats(self, post_id: str, quoted: list[str], n: int) -> bool:
        """Does ``quoted`` share ``n`` consecutive words with a post that ``post_id`` may quote?"""
        mine = _grams(quoted, n)
        return bool(mine) and any(mine & self._post_grams(p, n) for p in self.posts(post_id))

    def _post_grams(self, post: Post, n: int) -> set[tuple[str, ...]]:
        if post.id not in self._grams:
            self._grams[post.id] = _grams(words(self.doc.text[post.start : post.end]), n)
        return self._grams[post.id]


def _grams(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def marked_quotes(text: str, post: Post) -> list[tuple[int, int]]:
    """Blocks of consecutive ``>`` lines of a post, each trimmed of surrounding whitespace."""
    blocks: list[tuple[int, int]] = []
    for m in _MARKED_LINE.finditer(text[post.start : post.end]):
        start, end = trim_span(text, post.start + m.start(), post.start + m.end())
        gap = text[blocks[-1][1] : start] if blocks else "\n\n"
        if gap.count("\n") <= 1 and not gap.strip():
            blocks[-1] = (blocks[-1][0], end)
        else:
            blocks.append((start, end))
    return blocks


def quotations(text: str, post: Post) -> list[tuple[int, int]]:
    """Stretches of a post in quotation marks, marks included."""
    return [(post.start + m.start(), post.start + m.end()) for m in _QUOTED.finditer(text[post.start : post.end])]


def find_quotes(doc: Document, min_words: int = MIN_QUOTED_WORDS) -> list[Quote]:
    """Every comment's quotes in reading order, targets None (units do not exist yet)."""
    quotable = _Quotable(doc)
    out: list[Quote] = []
    for post in doc.posts:
        if post.kind != "comment":
            continue
        marked = marked_quotes(doc.text, post)
        spans = list(marked)
        for start, end in quotations(doc.text, post):
            if any(s < end and start < e for s, e in marked):
                continue  # a quotation inside a ">" block is part of that quote
            if quotable.repeats(post.id, words(doc.text[start:end]), min_words):
                spans.append((start, end))
        out += [Quote(post.id, start, end) for start, end in sorted(spans)]
    return out


def point_quotes(doc: Document, quotes: list[Quote], min_words: int = MIN_TARGET_WORDS) -> list[Quote]:
    """``quotes`` with ``target`` set to the unit of a quotable post sharing the longest run of words
    with it (then the most words in order; ties go to the answered post, then nearer posts, then
    earlier units); None where no unit shares ``min_words`` words in a row, or all of its own."""
    if not quotes:
        return []  # nothing to point: the units' words are not needed (100,000 units took 0.8 s)
    quotable = _Quotable(doc)
    units: dict[str, list[Unit]] = {}
    for unit in doc.units:
        units.setdefault(unit.post, []).append(unit)
    unit_words = {u.id: words(u.text) for u in doc.units}
    unit_grams = {u: _grams(w, min_words) for u, w in unit_words.items()}
    out = []
    for quote in quotes:
        quoted = words(doc.text[quote.start : quote.end])
        grams = _grams(quoted, min_words)
        best, best_score = None, (0, 0)
        for post in quotable.posts(quote.post):
            for unit in units.get(post.id, ()):
                mine = unit_words[unit.id]
                needed = min(min_words, len(mine), len(quoted))
                if needed == min_words and not grams & unit_grams[unit.id]:
                    continue  # no run of min_words words in common: skip the slower comparison
                score = _overlap(quoted, mine)
                if score > best_score and score[0] >= needed:
                    best, best_score = unit.id, score
        out.append(replace(quote, target=best))
    return out


def _overlap(a: list[str], b: list[str]) -> tuple[int, int]:
    """(the longest run of words ``a`` and ``b`` share, the words they share in order)."""
    if not a or not b or not set(a) & set(b):
        return 0, 0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    blocks = matcher.get_matching_blocks()
    return max(m.size for m in blocks), sum(m.size for m in blocks)


def quoted_units(doc: Document) -> dict[str, set[str]]:
    """For each post with a pointed quote, the ids of the units (of posts it answers) that its quotes repeat."""
    out: dict[str, set[str]] = {}
    for quote in doc.quotes:
        if quote.target is not None:
            out.setdefault(quote.post, set()).add(quote.target)
    return out

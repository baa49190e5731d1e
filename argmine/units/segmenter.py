"""Segmenter: posts -> argumentative units (sentences from pysbd, then clause-level splits).

Units are trimmed spans of the verbatim text; boilerplate (subscription appeals, bylines,
photo credits) is dropped by the patterns in ``configs/default.yaml``, and a reply's quotes of the
posts it answers (``argmine.units.quotes``) are no units: they are kept on the document as pointers.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING

import pysbd

from argmine.document import Document, Post, Quote, Span, Unit, trim_span
from argmine.reading.boilerplate import is_boilerplate
from argmine.units.quotes import find_quotes, point_quotes

if TYPE_CHECKING:
    from argmine.settings import SegmenterSettings

_TOKEN = re.compile(r"\w[\w'’-]*|[^\w\s]")
# Words that cannot open the subject of a clause ("because of ...", "but only ...", "and that ...").
_NON_SUBJECTS = frozenset(
    "of to for in on at by with from into about against over under after before since until "
    "only also not then when if as than that which who whom whose even still just rather instead "
    "perhaps maybe too very so more less most least".split()
)
_FINITE = frozenset(
    "is are was were am has have had will would can could should shall may might must do does did "
    "seems seem seemed remains remain needs wants want means mean makes make says say looks "
    "isn't aren't wasn't weren't hasn't haven't hadn't won't wouldn't can't couldn't shouldn't "
    "don't doesn't didn't mustn't".replace("'", "’").split()
) | frozenset(
    "isn't aren't wasn't weren't hasn't haven't hadn't won't wouldn't can't couldn't shouldn't "
    "don't doesn't didn't mustn't".split()
)
_CONTRACTED_VERB = re.compile(r"[’'](s|re|ve|ll|d|m)$", re.IGNORECASE)
_OPEN_QUOTES = "“‘«"
_CLOSE_QUOTES = "”’»"
_BESIDE_QUOTE = ",;:—–-"  # punctuation left hanging at a cut around a quote
_MARKS = frozenset(_OPEN_QUOTES + _CLOSE_QUOTES + '";')  # the punctuation tokens clause_splits looks at


@lru_cache(maxsize=1)
def _sentence_splitter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


_LIKELY_BOUNDARY = re.compile(r"(?<=[.!?…])[\"”’)]?\s+(?=[\"“‘(]?[A-Z0-9])")
# A stretch of only these characters is one sentence to pysbd: every rule it has that splits a text needs a
# full stop, ! or ?, a bracket, a quotation mark or a line break (checked against pysbd in tests/test_segmenter.py).
# The one exception, a hyphen before a quote ("-' A"), is excluded below. Such a stretch skips pysbd, whose time
# grows with its input: a 5 MB line without a sentence end spent 6 s there.
_ONE_SENTENCE = re.compile(r"[A-Za-z0-9 ,;:'’-]*")


def _chunks(text: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    """``start:end`` cut into pieces of at most about ``size`` characters, each cut at the last likely
    sentence boundary before the limit (whitespace when there is none)."""
    out = []
    while end - start > size:
        window = text[start : start + size]
        cut = None
        for m in _LIKELY_BOUNDARY.finditer(window):
            if m.start() > size // 2:
                cut = m.start()
        if cut is None:
            space = window.rfind(" ", size // 2)
            cut = space if space > 0 else size
        out.append((start, start + cut))
        start += cut
    out.append((start, end))
    return out


def sentences(text: str, start: int, end: int, chunk_chars: int = 10_000) -> list[Span]:
    """Sentence spans of ``text[start:end]``; pysbd finds the boundaries, we re-anchor the offsets.
    pysbd's time grows with the square of its input, so a longer stretch is cut at likely sentence
    boundaries into pieces of about ``chunk_chars`` first; a piece pysbd would keep whole skips it."""
    if end - start > chunk_chars:
        return [s for a, b in _chunks(text, start, end, chunk_chars) for s in sentences(text, a, b, chunk_chars)]
    if one_sentence(text[start:end]):
        span = _trim(text, Span(start, end))
        return [span] if span.end > span.start else []
    return pysbd_sentences(text, start, end)


def one_sentence(chunk: str) -> bool:
    """Whether pysbd would keep ``chunk`` whole: it holds nothing any of its splitting rules looks at."""
    return _ONE_SENTENCE.fullmatch(chunk) is not None and "-'" not in chunk


def pysbd_sentences(text: str, start: int, end: int) -> list[Span]:
    """Sentence spans of ``text[start:end]`` as pysbd finds them, re-anchored to offsets in ``text``."""
    chunk = text[start:end]
    spans: list[Span] = []
    cursor = 0
    for sent in _sentence_splitter().segment(chunk):
        piece = sent.strip()
        if not piece:
            continue
        at = chunk.find(piece, cursor)
        if at < 0:  # pysbd changed the text; keep the rest as one sentence rather than guess
            spans.append(Span(start + cursor, end))
            cursor = len(chunk)
            break
        spans.append(Span(start + at, start + at + len(piece)))
        cursor = at + len(piece)
    if cursor < len(chunk) and chunk[cursor:].strip():
        spans.append(Span(start + cursor, end))
    return [s for s in (_trim(text, s) for s in spans) if s.end > s.start]


def _trim(text: str, span: Span, trailing: str = "") -> Span:
    return Span(*trim_span(text, span.start, span.end, trailing))


def _is_full_clause(tokens: list[str], window: int, min_words: int) -> bool:
    """Opens like a subject and has a finite verb soon after: "they are", "wages did", "Russia's goal ... is"."""
    words = [t for t in tokens if t[0].isalnum()]
    if len(words) < min_words:
        return False
    first = words[0].lower()
    if first in _NON_SUBJECTS or first.endswith(("ing", "ly")) or first in _FINITE:
        return False
    if _CONTRACTED_VERB.search(first):
        return True  # "it's", "they're"; a possessive ("Russia's goal") opens a subject too
    for tok in words[1 : window + 1]:
        low = tok.lower()
        if low in _FINITE or _CONTRACTED_VERB.search(low) or (low.endswith("ed") and len(low) > 4):
            return True
    return False


def clause_splits(text: str, sent: Span, cfg: SegmenterSettings) -> list[Span]:
    """Split a sentence where an argumentative connective joins two full clauses. Linear in the sentence's
    tokens (a sentence-less stretch of megabytes is one sentence): words are counted and looked ahead by index."""
    tokens = [(m.group(), m.start() + sent.start, m.end() + sent.start) for m in _TOKEN.finditer(text[sent.start : sent.end])]
    words = [k for k, (t, _, _) in enumerate(tokens) if t[0].isalnum()]  # indices of the word tokens
    word_starts = [tokens[k][1] for k in words]
    ahead = max(cfg.finite_verb_window + 1, cfg.min_clause_words)  # the words _is_full_clause reads
    connectives = set(cfg.connectives)
    coordinators = set(cfg.coordinators) if sent.end - sent.start >= cfg.long_sentence_chars else set()
    joins = connectives | coordinators
    pieces: list[Span] = []
    seg_start = sent.start
    depth = 0
    # Only quotation marks, semicolons and joining words change anything below; every other token is passed over.
    for i in [k for k, (t, _, _) in enumerate(tokens) if t in _MARKS or t.lower() in joins]:
        tok, t_start, t_end = tokens[i]
        if tok in _OPEN_QUOTES or (tok == '"' and depth == 0):
            depth += 1
            continue
        if depth and (tok in _CLOSE_QUOTES or tok == '"'):
            depth -= 1
            continue
        if depth or i == 0:
            continue
        low = tok.lower()
        after_comma = tokens[i - 1][0] in (",", ";")
        if tok == ";":
            cut, resume = t_start, t_end
        elif low in connectives or (low in coordinators and after_comma):
            cut, resume = (tokens[i - 1][1] if after_comma else t_start), t_end
        else:
            continue
        left = bisect_left(word_starts, cut) - bisect_left(word_starts, seg_start)  # words in [seg_start, cut)
        if left < cfg.min_clause_words:
            continue
        after = bisect_right(words, i)
        right = [tokens[k][0] for k in words[after : after + ahead]]
        if not _is_full_clause(right, cfg.finite_verb_window, cfg.min_clause_words):
            continue
        pieces.append(Span(seg_start, cut))
        seg_start = resume
    pieces.append(Span(seg_start, sent.end))
    return [s for s in (_trim(text, p, ",;:") for p in pieces) if s.end > s.start]


def _paragraph_spans(text: str, post: Post) -> list[Span]:
    return [
        Span(post.start + m.start(), post.start + m.end())
        for m in re.finditer(r"[^\r\n]*\S[^\r\n]*", text[post.start : post.end])
    ]


def outside_quotes(text: str, sent: Span, quotes: list[Quote]) -> list[Span]:
    """``sent`` less the quotes that overlap it: the pieces around them, trimmed of whitespace and of
    punctuation left hanging at a cut (a sentence without quotes comes back unchanged)."""
    inside = sorted((q.start, q.end) for q in quotes if q.start < sent.end and sent.start < q.end)
    if not inside:
        return [sent]
    bounds = [sent.start]
    for start, end in inside:
        bounds += [start, end]
    bounds.append(sent.end)
    pieces = []
    for a, b in zip(bounds[::2], bounds[1::2]):
        start, end = max(a, sent.start), min(b, sent.end)
        while start < end and (text[start].isspace() or text[start] in _BESIDE_QUOTE):
            start += 1
        start, end = trim_span(text, start, end, _BESIDE_QUOTE)
        if end > start:
            pieces.append(Span(start, end))
    return pieces


def segment_post(
    doc: Document, post: Post, cfg: SegmenterSettings, boilerplate: list[str], quotes: list[Quote] = ()
) -> list[Span]:
    """Unit spans of one post, in order; no unit overlaps one of the post's ``quotes``."""
    return _post_spans(doc, post, cfg, boilerplate, quotes)[0]


def _post_spans(
    doc: Document, post: Post, cfg: SegmenterSettings, boilerplate: list[str], quotes: list[Quote] = ()
) -> tuple[list[Span], int]:
    """``segment_post``'s spans, and how many of them were cut to ``cfg.max_unit_chars``."""
    text = doc.text
    if post.kind == "title":
        span = _trim(text, Span(post.start, post.end))
        bounded = cut_span(text, span, cfg.max_unit_chars)
        return ([bounded], int(bounded != span)) if span.end > span.start else ([], 0)
    dateline = _dateline(cfg.dateline)
    spans: list[Span] = []
    for para in _paragraph_spans(text, post):
        start = para.start
        if dateline is not None and post.kind == "article":
            m = dateline.match(text, para.start, para.end)
            if m:
                start = m.end()
        for sent in sentences(text, start, para.end, cfg.sentence_chunk_chars):
            if is_boilerplate(text[sent.start : sent.end], boilerplate):
                continue
            for piece in outside_quotes(text, sent, quotes):
                spans.extend(clause_splits(text, piece, cfg))
    kept, cut = [], 0
    for span in spans:
        bounded = cut_span(text, span, cfg.max_unit_chars)
        if bounded.end - bounded.start >= cfg.min_unit_chars and any(c.isalpha() for c in text[bounded.start : bounded.end]):
            kept.append(bounded)
            cut += bounded != span
    return kept, cut


def cut_span(text: str, span: Span, max_chars: int) -> Span:
    """``span`` cut to at most ``max_chars`` characters, at the last whitespace before the limit. A
    stretch without sentence ends would otherwise reach the relation model whole, and tokenizing a pair
    takes memory growing with the square of its length. Shorter spans come back unchanged."""
    if span.end - span.start <= max_chars:
        return span
    window = text[span.start : span.start + max_chars + 1]
    stop = next((i for i in range(max_chars, max_chars // 2, -1) if window[i].isspace()), max_chars)
    return _trim(text, Span(span.start, span.start + stop))


@lru_cache(maxsize=4)
def _dateline(pattern: str | None) -> re.Pattern | None:
    return re.compile(pattern, re.MULTILINE) if pattern else None


def segment(doc: Document, cfg: SegmenterSettings, boilerplate: list[str] = ()) -> Document:
    """Return the document with its units, numbered u1, u2, ... in reading order, and its quotes, each
    pointing at the unit it repeats; sentences matching a ``boilerplate`` pattern and quotes are not units.
    A unit longer than ``cfg.max_unit_chars`` is cut to it (counted in ``Document.cut_units``)."""
    quotes = find_quotes(doc, cfg.quote_min_words)
    by_post: dict[str, list[Quote]] = {}
    for quote in quotes:
        by_post.setdefault(quote.post, []).append(quote)
    units: list[Unit] = []
    cut = 0
    for post in doc.posts:
        spans, post_cut = _post_spans(doc, post, cfg, list(boilerplate), by_post.get(post.id, []))
        units += [doc.make_unit(post, span.start, span.end, f"u{len(units) + k + 1}") for k, span in enumerate(spans)]
        cut += post_cut
    doc = replace(doc.with_units(units), cut_units=cut)
    return replace(doc, quotes=point_quotes(doc, quotes, cfg.quote_target_min_words))

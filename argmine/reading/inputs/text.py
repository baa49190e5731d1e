"""Plain text: an article followed by unmarked reader comments (``layout`` finds where they start)."""

from __future__ import annotations

from argmine.reading.inputs.base import InputFormat, ReadResult, Source
from argmine.reading.layout import layout_plain_text


def _read(src: Source) -> list[ReadResult]:
    settings = src.settings
    doc = layout_plain_text(src.text, src.stem, settings.layout, src.comments_from, settings.boilerplate, **src.provenance)
    return [ReadResult(src.stem, doc)]


INPUT = InputFormat(
    "text",
    "plain text: title, article, then reader comments",
    _read,
    order=0,
    suffixes=(".txt", ".text", ".md"),
    fallback=True,
    comments_from=True,
)

"""What an input-format module declares about itself; ``argmine.reading.inputs`` decides everything from it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from argmine.document import Document
from argmine.errors import InputError

if TYPE_CHECKING:
    from argmine.settings import Settings


@dataclass
class ReadResult:
    """One thread from the input: a document, or the error that stopped it."""

    name: str
    document: Document | None = None
    error: InputError | None = None
    line: int | None = None
    warnings: list[str] = field(default_factory=list)  # what was read differently from the file, one line each
    thread_id: str | None = None  # a JSON Lines line's own ``id``, even when the thread fails (its error record names it)


@dataclass(frozen=True)
class Source:
    """One input, decoded: its text, the name errors use, the stem ids default to, and where it came from."""

    text: str
    name: str
    stem: str
    path: str
    sha256: str
    settings: Settings
    comments_from: int | None = None

    @property
    def provenance(self) -> dict:
        return {"source_path": self.path, "sha256": self.sha256}


@dataclass(frozen=True)
class InputFormat:
    """One input format. ``read`` turns a decoded input into threads (one result per thread);
    ``suffixes`` claim a file by its extension; ``claims(text, suffix)`` by its content, asked in
    ``priority`` order (lowest first) when no extension decides; the ``fallback`` format takes what
    nothing claims. ``comments_from``: the format accepts ``--comments-from`` (plain text)."""

    name: str
    summary: str
    read: Callable[[Source], list[ReadResult]]
    order: int
    suffixes: tuple[str, ...] = ()
    claims: Callable[[str, str], bool] | None = None
    priority: int = 0
    fallback: bool = False
    comments_from: bool = False

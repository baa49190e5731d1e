"""Reading an input through the format registry (``argmine.reading.inputs``): plain text, JSON threads, JSON Lines, Reddit.

Every problem with the input is an ``InputError`` with a one-line message; a JSON Lines file
yields one result per line, so one bad line does not stop the batch.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from argmine.document import Document
from argmine.errors import InputError
from argmine.files import decode, read_bytes
from argmine.reading.inputs import INPUTS
from argmine.reading.inputs.base import ReadResult, Source

if TYPE_CHECKING:
    from argmine.settings import Settings

INPUT_FORMATS = ("auto", *INPUTS)  # auto: sniffed from the extension, then the content


def sniff(text: str, path: str) -> str:
    """Guess the input format: the extension first, then what each format claims of the content."""
    suffix = Path(path).suffix.lower() if path != "-" else ""
    for fmt in INPUTS.values():
        if suffix in fmt.suffixes:
            return fmt.name
    stripped = text.lstrip()
    for fmt in sorted((f for f in INPUTS.values() if f.claims is not None), key=lambda f: f.priority):
        if fmt.claims(stripped, suffix):
            return fmt.name
    return next(f.name for f in INPUTS.values() if f.fallback)


def is_path(source: str | Path) -> bool:
    """A ``Path``, ``-`` (stdin), a string naming an existing file, or one that looks like a path (one
    line, no spaces: a missing file is then an error, not a text); any other string is text."""
    if isinstance(source, Path) or source == "-":
        return True
    if "\n" in source or len(source) >= 4096 or source.lstrip().startswith(("{", "[")):
        return False
    try:
        if Path(source).is_file():
            return True
    except OSError:  # a name too long for the file system, say: not a file
        return False
    return not any(c.isspace() for c in source)


def read_all(
    source: str | Path, *, settings: Settings | None = None, input_format: str = "auto", comments_from: int | None = None
) -> list[ReadResult]:
    """Every thread of a file (one per line for JSON Lines) or of a text given directly, as documents
    without units; a JSON Lines line that fails is a result carrying its error."""
    from argmine.settings import default_settings

    settings = settings or default_settings()
    if is_path(source):
        return read_input(str(source), settings, input_format, comments_from)
    data = str(source).encode("utf-8")
    return read_input("-", settings, input_format, comments_from, data=data, stem="text")


def read(
    source: str | Path, *, settings: Settings | None = None, input_format: str = "auto", comments_from: int | None = None
) -> Document:
    """One thread from a file or a text (``argmine.read``); several threads (JSON Lines) need ``read_all``."""
    results = read_all(source, settings=settings, input_format=input_format, comments_from=comments_from)
    if len(results) != 1:
        raise InputError(f"{source} holds {len(results)} threads: read them with read_all")
    if results[0].error is not None:
        raise results[0].error
    return results[0].document


def read_document(
    data: bytes, settings: Settings, input_format: str = "text", comments_from: int | None = None, stem: str = "request"
):
    """One thread sent as bytes (an HTTP body, a Label Studio task's text), read as ``argmine analyze`` reads
    a file of that format: its ``Document`` (a bad one raises ``InputError``)."""
    return read_input("-", settings, input_format, comments_from, data=data, stem=stem)[0].document


def read_input(
    path: str,
    settings: Settings,
    input_format: str = "auto",
    comments_from: int | None = None,
    data: bytes | None = None,
    stem: str | None = None,
) -> list[ReadResult]:
    """Read one input file (or ``data`` given in its place) into documents (several for JSON Lines)."""
    if input_format != "auto" and input_format not in INPUTS:
        raise InputError(f"unknown input format {input_format!r} (choose from auto, {', '.join(INPUTS)})")
    if data is None:
        data = read_bytes(path, settings.input.max_bytes)
    elif len(data) > settings.input.max_bytes:
        raise InputError(f"the text is larger than the limit of {settings.input.max_bytes} bytes (input.max_bytes)")
    name = stem or ("stdin" if path == "-" else path)
    text = decode(data, name)
    fmt = INPUTS[sniff(text, path) if input_format == "auto" else input_format]
    if not fmt.comments_from and comments_from is not None:
        raise InputError("--comments-from applies to plain text input only")
    stem = stem or ("stdin" if path == "-" else Path(path).stem)
    source = Source(text, name, stem, path, hashlib.sha256(data).hexdigest(), settings, comments_from)
    return fmt.read(source)

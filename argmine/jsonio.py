"""The one JSON and JSON Lines loader: every reader, importer, corpus, model file and batch manifest goes
through it, so every malformed file gets the same one-line error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argmine.errors import ArgmineError, InputError


def parse(text: str, name: str, error: type[ArgmineError] = InputError) -> Any:
    """One JSON value; malformed or absurdly nested JSON is an ``error`` (``InputError``) naming the place."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{name} is malformed JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise error(f"{name} is nested too deeply to read") from None


def read_object(path: str | Path, error: type[ArgmineError] = InputError) -> dict:
    """A JSON file holding one object (a model's settings, a manifest); a file that cannot be read, is not
    JSON or holds something else is an ``error`` naming the file (``ModelError`` for a model's files)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    value = parse(text, str(path), error)
    if not isinstance(value, dict):
        raise error(f"{path} must hold a JSON object")
    return value


@dataclass
class Line:
    """One line of a JSON Lines file: its value, or the error that stopped it."""

    number: int
    value: Any = None
    error: InputError | None = None


def lines(text: str, name: str) -> Iterator[Line]:
    """The non-blank lines of a JSON Lines text, each parsed on its own (a bad line does not stop the rest)."""
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield Line(number, json.loads(line))
        except json.JSONDecodeError as exc:
            yield Line(number, error=InputError(f"{name} line {number}: malformed JSON (column {exc.colno}: {exc.msg})"))
        except RecursionError:
            yield Line(number, error=InputError(f"{name} line {number}: nested too deeply to read"))


def records(text: str, name: str) -> list[Any]:
    """A whole-file JSON value (a list gives its items) or, failing that, JSON Lines; any bad line is an error."""
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        value = None
    else:
        return value if isinstance(value, list) else [value]
    out = []
    for line in lines(text, name):
        if line.error is not None:
            raise line.error
        out.append(line.value)
    return out

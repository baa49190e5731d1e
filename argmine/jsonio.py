"""The one JSON and JSON Lines loader: every reader, importer and corpus goes through it, so every
malformed file gets the same one-line error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from argmine.errors import InputError


def parse(text: str, name: str) -> Any:
    """One JSON value; malformed or absurdly nested JSON is an ``InputError`` naming the place."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name} is malformed JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise InputError(f"{name} is nested too deeply to read") from None


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

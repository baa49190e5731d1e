"""What a format module declares about itself; ``argmine.formats`` decides everything from it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from argmine.errors import InputError
from argmine.graph import Graph


@dataclass(frozen=True)
class Format:
    """One annotation-tool format.

    ``dump`` renders one graph; ``dump_many`` (where one output holds a collection) renders several.
    ``folder``: the export is several files (name -> content), so it needs a folder, never stdout.
    ``load`` (files -> graphs) makes the format importable; ``load_from`` says which file to pass it.
    ``media_type``: the HTTP ``Content-Type`` of a one-document export (what ``argmine serve`` answers with).
    ``errors_inline``: a batch's threads that failed are written as ``argmine.error`` records in place of
    their graphs (argmine's graph JSON); other formats hold only the graphs that were made.
    """

    name: str
    summary: str
    dump: Callable[[Graph], str | dict[str, str]]
    dump_many: Callable[[list[Graph]], str | dict[str, str]] | None = None
    folder: bool = False
    load: Callable[[Path, str | None], Graph | list[Graph]] | None = None
    load_from: str = ""
    media_type: str = "text/plain"
    errors_inline: bool = False

    def render(self, graphs: list[Graph]) -> str | dict[str, str]:
        """The export of ``graphs``: one text, or a folder's files."""
        if self.dump_many is not None:
            return self.dump_many(graphs)
        if len(graphs) != 1:
            raise InputError(f"{self.name} export takes one graph; the input holds {len(graphs)}")
        return self.dump(graphs[0])

"""Relations: the models that score support and attack between units, behind one contract.

``parser.py`` is argmine's contextual parser (the embedded default) and ``replies.py`` its answered-post
link; ``pair.py`` runs pair models (argmine's former recipe, any NLI checkpoint) over ``candidates.py``'s
pairs, with ``scorer.py`` as their second stage; ``hf.py`` is the Hugging Face loading both share.

Every kind keeps the ``Model`` protocol; ``KINDS`` decides which kind a model folder is (by a file it
holds) and loads it. A folder is checked before torch is imported, and its weights are read through one
guarded loader, so a missing or broken model is a one-line error.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from argmine.errors import ModelError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from argmine.decoding.trees import Decision, Related
    from argmine.document import Document
    from argmine.settings import Settings

EMBEDDED_MODEL_DIR = Path(__file__).resolve().parents[1] / "model"


@runtime_checkable
class Model(Protocol):
    """The relation-model contract: ``check`` refuses a thread over the work limit before any model work
    and returns what it computed on the way (candidates, windows, quotes), which is what ``relate`` reads;
    ``decision`` resolves thresholds and limits once per run; ``relate`` gives each checked document's
    ``Related`` in order (a list, or yielded as each is decoded, so a server answers each thread when it
    is ready); ``describe`` what the graph records; ``save`` writes a folder that loads as the same model."""

    name: str
    kind: str

    def check(self, doc: Document, settings: Settings) -> object: ...

    def decision(self, settings: Settings) -> Decision: ...

    def relate(
        self, docs: list[Document], settings: Settings, decision: Decision, show_progress: bool = False
    ) -> Iterable[Related]: ...

    def describe(self) -> dict: ...

    def save(self, folder: str | Path) -> None: ...


@dataclass(frozen=True)
class Kind:
    """A relation-model kind: the file that marks its folders (None: any other folder or hub id), the files
    such a folder must hold, and the module whose ``open_model(name, device, max_length, quantize)`` loads it."""

    name: str
    marker: str | None
    required: tuple[str, ...]
    module: str
    summary: str

    def least_work(self, doc: Document, settings: Settings) -> int:
        """A floor under the scores this kind's ``check`` counts, from unit counts alone (0 when the kind
        declares none): the work limit refuses a huge thread before the model loads."""
        floor = getattr(importlib.import_module(self.module), "least_work", None)
        return floor(doc, settings) if floor is not None else 0

    def load(self, name: str, device: str, max_length: int, quantize: str) -> Model:
        from argmine.relations.hf import guarded_loading

        with guarded_loading(name):
            return importlib.import_module(self.module).open_model(name, device, max_length, quantize)


KINDS = (
    Kind(
        "parser",
        "argmine_parser.json",
        ("config.json", "model.safetensors", "tokenizer_config.json", "argmine_parser.safetensors"),
        "argmine.relations.parser",
        "argmine's contextual parser (and its answered-post link)",
    ),
    Kind("pair", None, ("config.json",), "argmine.relations.pair", "a pair model: argmine's pair recipe or any NLI checkpoint"),
)


def model_folder(name: str) -> Path | None:
    """The folder ``name`` names (``embedded``: argmine's own), None for a hub id; a missing folder or a
    file is a one-line error, found without importing torch."""
    if name == "embedded":
        if not (EMBEDDED_MODEL_DIR / "config.json").is_file():
            raise ModelError("the embedded relation model is not installed; pass a checkpoint with --model PATH")
        return EMBEDDED_MODEL_DIR
    path = Path(name).expanduser()
    if path.is_file():
        raise ModelError(f"model {name} is a file: pass the checkpoint's folder (config.json, weights, tokenizer)")
    if path.is_dir():
        return path
    if path.exists() or name.startswith((".", "/", "~")):
        raise ModelError(f"model folder {name} not found")
    return None  # a hub id: the cache, then the hub


def kind_of(folder: Path | None) -> Kind:
    """The kind whose marker file the folder holds, else the fallback kind (a hub id is a pair model)."""
    fallback = next(k for k in KINDS if k.marker is None)
    if folder is None:
        return fallback
    return next((k for k in KINDS if k.marker and (folder / k.marker).is_file()), fallback)


def check_name(name: str) -> tuple[Path | None, Kind]:
    """The folder and kind ``name`` names, its files checked (a missing folder or file is one line), without
    torch: what a run checks before it reads its input, so a wrong ``--model`` is refused at once."""
    folder = model_folder(name)
    kind = kind_of(folder)
    if folder is not None:
        missing = [f for f in kind.required if not (folder / f).is_file()]
        if missing:
            raise ModelError(f"model folder {name} is not a complete {kind.name} model: {', '.join(missing)} missing")
    return folder, kind


def load(name: str, device: str = "auto", max_length: int = 256, quantize: str = "none") -> Model:
    """Load a relation model by name (``embedded``, a folder of any kind, or a hub id of an NLI checkpoint)."""
    folder, kind = check_name(name)
    if folder is not None:
        from argmine.relations.hf import check_safetensors

        for weights in sorted(folder.glob("*.safetensors")):
            check_safetensors(weights)
    model = kind.load(str(folder) if folder is not None else name, device, max_length, quantize)
    model.name = name
    return model

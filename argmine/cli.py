"""Command line: thin Typer commands, each parsing its options, calling one function of argmine's
public API (``import argmine``: nothing else of the package) and rendering the result.

Exit codes: 0 success, 2 bad input or usage, 1 internal fault. Errors are one line on stderr.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Annotated, Optional

import typer
from rich.console import Console
from typer.core import TyperGroup

import argmine
from argmine import ArgmineError, __version__

err = Console(stderr=True, highlight=False, soft_wrap=True)
# click's base error class (newer typer releases vendor click): found through a subclass typer exports
_CLICK_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


class OneLineErrors(TyperGroup):
    """Usage mistakes (a missing argument, an unknown option, a bad value) are one line naming the
    problem and exit 2, like every other error, not click's usage box."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except _CLICK_ERROR as exc:
            if type(exc).__name__ != "NoArgsIsHelpError":  # a bare `argmine` has already shown the help
                ctx = getattr(exc, "ctx", None)
                hint = f" (see {ctx.command_path} --help)" if ctx is not None else ""
                err.print(f"argmine: error: {exc.format_message()}{hint}", markup=False)
            sys.exit(exc.exit_code)
        except typer.Abort:
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def _described(names: tuple[str, ...]) -> str:
    """Help text naming each format with what it is, as the format declares it."""
    return "; ".join(f"{n} ({argmine.FORMATS[n].summary})" for n in names)


def _corpora(kinds: tuple[str, ...], held_out: bool = False) -> list[str]:
    """The registered corpora of ``kinds`` (only those declaring a held-out split, with ``held_out``)."""
    return [n for n, c in argmine.CORPORA.items() if c.kind in kinds and (c.split or not held_out)]


app = typer.Typer(
    name="argmine",
    help="Mine support/attack argument graphs from news articles and their reader comments.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=OneLineErrors,
)

ConfigOpt = Annotated[Optional[str], typer.Option("--config", "-c", help="YAML settings merged over configs/default.yaml.")]
ModelOpt = Annotated[
    Optional[str], typer.Option("--model", "-m", help="Relation model: hub id or folder ('embedded' = argmine's own).")
]
DeviceOpt = Annotated[Optional[str], typer.Option("--device", help="auto, cpu, cuda or cuda:N.")]
BatchOpt = Annotated[Optional[int], typer.Option("--batch-size", min=1, help="Pairs per forward pass.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or warnings.")]
QuantizeOpt = Annotated[
    Optional[str],
    typer.Option("--quantize", help="none, or int8: dynamic int8 weights on the CPU (faster, a few decisions change)."),
]


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
    """Turn known errors into one-line messages (exit 2), Ctrl-C into one "interrupted" line (exit 130)
    and anything else into exit 1."""
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except KeyboardInterrupt:
        err.print("argmine: interrupted", markup=False)
        raise typer.Exit(130) from None
    except ArgmineError as exc:
        raise fail(str(exc), exc.exit_code) from None
    except MemoryError:
        raise fail("out of memory", 1) from None
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        raise fail(f"internal error: {type(exc).__name__}: {exc}", 1) from None


def _settings(config: str | None, model: str | None, device: str | None, batch_size: int | None, quantize: str | None = None):
    """The settings a model command runs with: the config file, then the flags; a device that is not
    there is refused before any work."""
    given = (("name", model), ("device", device), ("batch_size", batch_size), ("quantize", quantize))
    section = {k: v for k, v in given if v is not None}
    settings = argmine.load_settings(config, {"model": section} if section else {})
    argmine.check_device(settings.model.device)
    return settings


@app.command()
def analyze(
    file: Annotated[str, typer.Argument(help="Thread to analyze: .txt, .json, .jsonl, Reddit JSON, or - for stdin.")],
    output: Annotated[Optional[str], typer.Option("--output", "-o", help="Where to write the graph JSON (- = stdout).")] = None,
    tree: Annotated[bool, typer.Option("--tree", help="Print the argument trees.")] = False,
    model: ModelOpt = None,
    config: ConfigOpt = None,
    device: DeviceOpt = None,
    batch_size: BatchOpt = None,
    comments_from: Annotated[
        Optional[int],
        typer.Option(
            "--comments-from",
            min=1,
            help="Plain text: index of the first comment paragraph, counting from 0 (the title, if any, is 0; the article needs at least one, so 1 or more).",
        ),
    ] = None,
    input_format: Annotated[
        str,
        typer.Option("--input-format", help=f"{', '.join(argmine.INPUT_FORMATS)} (auto: by the extension, then the content)."),
    ] = "auto",
    timings: Annotated[
        bool, typer.Option("--timings", help="Record seconds per stage in stats (output then varies run to run).")
    ] = False,
    quantize: QuantizeOpt = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            help=f"Output format: {_described(argmine.EXPORT_FORMATS)}.",
        ),
    ] = "json",
    quiet: QuietOpt = False,
) -> None:
    """Segment a thread into units, label support/attack relations and decode argument trees.
    JSON Lines: one graph (or error record) per line; exit 2 when a thread failed, the others written."""
    with user_errors():
        _check_export(output_format, output, inputs=(file, config))  # the user's own mistakes first: no settings needed
        settings = _settings(config, model, device, batch_size, quantize)
        outcomes: list = []
        try:
            argmine.analyze_all(
                file,
                settings=settings,
                input_format=input_format,
                comments_from=comments_from,
                timings=timings,
                progress=not quiet,
                done=outcomes.append,
            )
        except KeyboardInterrupt:
            if not outcomes or outcomes[0].line is None:
                raise
            _emit(outcomes, True, output_format, output, tree, quiet, settings)
            raise _interrupted(len(outcomes), output) from None
        batch = len(outcomes) > 1 or outcomes[0].line is not None
        if not batch and outcomes[0].error is not None:
            raise outcomes[0].error  # one thread: its error is the command's
        _emit(outcomes, batch, output_format, output, tree, quiet, settings)
        failures = sum(o.graph is None for o in outcomes)
        if failures:
            raise fail(f"{failures} of {len(outcomes)} threads failed (recorded in the output)")


def _interrupted(finished: int, output: str | None) -> typer.Exit:
    """JSON Lines stopped by Ctrl-C: the threads finished were written (atomically); one line says so."""
    where = "stdout" if output in (None, "-") else output
    err.print(f"argmine: interrupted: the {finished} threads finished are written to {where}", markup=False)
    return typer.Exit(130)


def _emit(outcomes: list, batch: bool, output_format: str, output: str | None, tree: bool, quiet: bool, settings) -> None:
    """Warnings and errors of each thread on stderr, then the output: the graphs (one per line for a
    batch), an export or the tree view."""
    graphs = [o.graph for o in outcomes if o.graph is not None]
    for outcome in outcomes:
        for warning in outcome.read.warnings if not quiet else []:
            err.print(f"argmine: warning: {warning}", markup=False)
        if outcome.error is not None:
            err.print(f"argmine: error: {outcome.error}", markup=False)
        elif not quiet:
            stats, model_info = outcome.graph.stats, outcome.graph.model
            if stats.get("truncated_units"):
                message = f"{stats['truncated_units']} units are longer than {model_info['unit_tokens']} tokens: the parser read their start"
                err.print(f"argmine: warning: {message}", markup=False)
            if stats.get("truncated_pairs"):
                message = f"{stats['truncated_pairs']} pairs exceeded the model window of {model_info['max_length']} tokens and were truncated"
                err.print(f"argmine: warning: {message}", markup=False)
        if outcome.graph is not None and outcome.graph.stats.get("cut_units") and not quiet:
            err.print(
                f"argmine: warning: {outcome.graph.stats['cut_units']} units were cut to "
                f"{settings.segmenter.max_unit_chars} characters (segmenter.max_unit_chars): "
                "the text has long stretches without a sentence end",
                markup=False,
            )
    inline = argmine.FORMATS[output_format].errors_inline  # the graph JSON: the default output
    if not inline:
        if graphs:
            _write_export(graphs, output_format, output)
    elif output is not None or not tree:
        body = "".join(o.to_json_line() + "\n" for o in outcomes) if batch else argmine.export(graphs, output_format)
        argmine.write_text(output or "-", body)
    if tree:
        # the JSON goes to stdout: the tree view then goes to stderr, so stdout stays one JSON document
        console = Console(highlight=False, stderr=inline and output == "-")
        for graph in graphs:
            argmine.render_trees(graph, console)


def _check_export(fmt: str, output: str | None, inputs: tuple = ()) -> None:
    """An unknown format or an output that cannot be written (or is one of the ``inputs``) is refused
    before any work."""
    choices = argmine.EXPORT_FORMATS
    if fmt not in choices:
        raise ArgmineError(f"unknown format {fmt!r} (choose from {', '.join(choices)})")
    folder = fmt in argmine.FOLDER_FORMATS
    if output is not None or folder:
        argmine.check_output(output, folder=folder, what=f"a {fmt} export", inputs=inputs)


def _write_export(graphs: list, fmt: str, output: str | None, inputs: tuple = ()) -> None:
    rendered = argmine.export(graphs, fmt)
    if isinstance(rendered, dict):
        if not output or output == "-":
            raise ArgmineError(f"{fmt} export writes several files: name a folder with --output")
        for name in rendered:  # a file of the folder must not be an input (tasks.json, say)
            argmine.check_output(f"{output}/{name}", inputs=inputs)
        argmine.write_files(output, rendered)
    else:
        argmine.write_text(output or "-", rendered)


@app.command()
def export(
    graph: Annotated[str, typer.Argument(help="argmine graph JSON (or JSON Lines of graphs).")],
    to: Annotated[str, typer.Option("--to", "-t", help=f"{_described(argmine.EXPORT_FORMATS)}.")],
    output: Annotated[
        Optional[str],
        typer.Option("--output", "-o", help=f"File (- = stdout); a folder for {' and '.join(sorted(argmine.FOLDER_FORMATS))}."),
    ] = None,
) -> None:
    """Export an argmine graph to an annotation tool's format."""
    with user_errors():
        _check_export(to, output, inputs=(graph,))
        _write_export(argmine.load_graphs(graph), to, output, inputs=(graph,))


@app.command()
def batch(
    source: Annotated[
        str,
        typer.Argument(
            metavar="INPUT",
            help="JSON Lines (.jsonl, .gz, .zst), Parquet, a folder of thread files, or a saved datasets dataset.",
        ),
    ],
    output: Annotated[str, typer.Option("--output", "-o", help="Folder for the shards and manifest.json.")],
    output_format: Annotated[str, typer.Option("--output-format", help="jsonl or parquet shards.")] = "jsonl",
    shard_size: Annotated[int, typer.Option("--shard-size", min=1, help="Threads per shard.")] = 1000,
    group_size: Annotated[int, typer.Option("--group-size", min=1, help="Threads whose pairs share one model pass.")] = 16,
    engine: Annotated[str, typer.Option("--engine", help="local (this process) or ray (a Ray cluster).")] = "local",
    address: Annotated[
        Optional[str], typer.Option("--address", help="Ray cluster address (else RAY_ADDRESS, else a local Ray instance).")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Ray: actors, each with the model loaded once.")] = 2,
    quantize: QuantizeOpt = None,
    model: ModelOpt = None,
    config: ConfigOpt = None,
    device: DeviceOpt = None,
    batch_size: BatchOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Analyze a corpus of threads into shards of graphs; run it again to resume after a stop. Exit 2
    when a thread failed (its argmine.error record is in the shards, the others are written)."""
    with user_errors():
        settings = _settings(config, model, device, batch_size, quantize)
        argmine.check_output(output, folder=True, what="a batch", inputs=(source, config))
        try:
            summary = argmine.run_batch(
                source,
                output,
                settings=settings,
                shard_size=shard_size,
                group_size=group_size,
                output_format=output_format,
                engine=engine,
                address=address,
                workers=workers,
                progress=not quiet,
            )
        except KeyboardInterrupt:
            err.print(
                f"argmine: interrupted: finished threads are kept in {output}; run the same command to resume", markup=False
            )
            raise typer.Exit(130) from None
        typer.echo(summary.line())
        if summary.failed:
            raise fail(f"{summary.failed} of {summary.threads + summary.skipped} threads failed (argmine.error records)")


@app.command()
def view(
    graph: Annotated[str, typer.Argument(help="argmine graph JSON (one thread).")],
    output: Annotated[Optional[str], typer.Option("--output", "-o", help="The HTML file (- = stdout).")] = None,
) -> None:
    """Write a self-contained HTML page of a graph: the text with its units beside the argument trees."""
    with user_errors():
        _check_export("html", output, inputs=(graph,))
        _write_export(argmine.load_graphs(graph), "html", output)


@app.command(name="import")
def import_(
    file: Annotated[
        str, typer.Argument(help=f"Annotation file: {', '.join(argmine.FORMATS[f].load_from for f in argmine.IMPORT_FORMATS)}.")
    ],
    from_format: Annotated[str, typer.Option("--from", "-f", help=f"{', '.join(argmine.IMPORT_FORMATS)}.")],
    text: Annotated[
        Optional[str], typer.Option("--text", help="The document text file, where the format does not carry it.")
    ] = None,
    output: Annotated[Optional[str], typer.Option("--output", "-o", help="Graph JSON (- = stdout).")] = None,
) -> None:
    """Turn a tool's annotations back into an argmine graph (gold for evaluate and train)."""
    with user_errors():
        argmine.check_output(output, inputs=(file, text))
        graphs = argmine.import_graphs(file, from_format, text)
        body = graphs[0].to_json() if len(graphs) == 1 else "".join(g.to_json(indent=None) + "\n" for g in graphs)
        argmine.write_text(output or "-", body)


@app.command()
def evaluate(
    corpus: Annotated[
        str,
        typer.Argument(
            help="Annotated corpus: the folder or file its reader takes (QT30 nodesets, CDCP or microtexts folder, graph JSON/JSONL...)."
        ),
    ],
    corpus_format: Annotated[
        str, typer.Option("--format", "-f", help=f"{', '.join(_corpora(('documents', 'replies')))}.")
    ] = "graph",
    mode: Annotated[str, typer.Option("--mode", help="gold (gold units: relations alone), e2e, or both.")] = "both",
    split: Annotated[
        Optional[str],
        typer.Option(
            "--split",
            help=f"{' / '.join(_corpora(('documents', 'replies'), held_out=True))}: the held-out part to score: test (default), dev, or all.",
        ),
    ] = None,
    baselines: Annotated[
        bool, typer.Option("--baselines/--no-baselines", help="Score the structural baselines on the same units.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    limit: Annotated[
        Optional[int], typer.Option("--limit", min=1, help="Only the first N documents (pairs for reply-agreement).")
    ] = None,
    cv: Annotated[
        Optional[int],
        typer.Option(
            "--cv", min=2, help="Also K-fold cross-validation by document (gold units): the parser fine-tuned on K-1 folds."
        ),
    ] = None,
    model: ModelOpt = None,
    config: ConfigOpt = None,
    device: DeviceOpt = None,
    batch_size: BatchOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Run the pipeline on an annotated corpus and report unit, relation, link and attachment scores,
    beside the structural baselines on the same units."""
    with user_errors():
        settings = _settings(config, model, device, batch_size)
        report = argmine.evaluate(
            corpus,
            corpus_format,
            mode=mode,
            split=split,
            baselines=baselines,
            limit=limit,
            settings=settings,
            progress=not quiet,
            cv=cv,
        )
        typer.echo(report.to_json() if as_json else report.table())


@app.command()
def train(
    output: Annotated[str, typer.Option("--output", "-o", help="Folder for the trained model (HF format + model card).")],
    config: Annotated[
        Optional[str],
        typer.Option(
            "--config",
            "-c",
            help="Training recipe (YAML); its kind (parser, the default, or pair) picks configs/parser.yaml or configs/train.yaml to merge over.",
        ),
    ] = None,
    base: Annotated[Optional[str], typer.Option("--base", help="Encoder to fine-tune: hub id, folder, or 'minilm'.")] = None,
    data: Annotated[
        Optional[list[str]],
        typer.Option(
            "--data",
            help=f"NAME=PATH training source (repeatable; NAME: {', '.join(argmine.CORPORA)}); replaces the recipe's list.",
        ),
    ] = None,
    epochs: Annotated[Optional[int], typer.Option("--epochs", min=1)] = None,
    sample: Annotated[
        Optional[int], typer.Option("--sample", min=1, help="Pair recipes: train on a seeded sample of N pairs.")
    ] = None,
    pair_model: Annotated[
        Optional[str],
        typer.Option("--pair-model", help="Skip fine-tuning: fit only the second stage on this checkpoint (copied)."),
    ] = None,
    device: DeviceOpt = None,
) -> None:
    """Train a relation model (seeded, reproducible, resumable): the contextual parser, or a pair model and its second stage."""
    with user_errors():
        overrides: dict = {}
        if data:
            sources = []
            for item in data:
                name, sep, path = item.partition("=")
                if not sep:
                    raise fail(f"--data expects NAME=PATH, got {item!r}")
                sources.append({"name": name, "path": path})
            overrides["data"] = sources
        if epochs:
            overrides["epochs"] = epochs
        if base:
            overrides["base"] = base
        recipe = argmine.load_recipe(config, overrides)
        out = argmine.train(
            output, recipe, pair_model=pair_model, sample=sample, device=device, log=lambda m: err.print(m, markup=False)
        )
        typer.echo(f"model written to {out}")


@app.command()
def adapt(
    data: Annotated[
        list[str],
        typer.Option(
            "--data",
            help=f"FORMAT=PATH of corrected threads (repeatable; FORMAT: graph, or an import format: {', '.join(argmine.IMPORT_FORMATS)}).",
        ),
    ],
    output: Annotated[str, typer.Option("--output", "-o", help="Folder for the adapted model (loads with --model).")],
    model: ModelOpt = None,
    epochs: Annotated[Optional[int], typer.Option("--epochs", min=1, help="Passes over the threads (default 4).")] = None,
    mix: Annotated[
        Optional[float], typer.Option("--mix", min=0.0, help="Recipe windows mixed in per thread window (default 1; 0: none).")
    ] = None,
    link_epochs: Annotated[
        int,
        typer.Option("--link-epochs", min=0, help="Also fine-tune the answered-post link on the threads' replies (0: keep it)."),
    ] = 0,
    interpolate: Annotated[
        Optional[float],
        typer.Option(
            "--interpolate",
            min=0.0,
            max=1.0,
            help="Share of the adapted weights kept; the rest is the model's own (default 0.5; 1: adapted only).",
        ),
    ] = None,
    config: ConfigOpt = None,
    device: DeviceOpt = None,
) -> None:
    """Fine-tune the parser on your corrected threads (mixed with its own recipe's data so it keeps what it
    knew); thresholds are chosen again on a held-out part of them when there are enough."""
    from dataclasses import replace

    with user_errors():
        settings = _settings(config, model, device, None, None)
        argmine.check_output(output, folder=True, what="the adapted model")
        graphs, names = [], []
        for item in data:
            name, sep, path = item.partition("=")
            if not sep:
                raise fail(f"--data expects FORMAT=PATH, got {item!r}")
            fmt = "json" if name == "graph" else name
            graphs += argmine.import_graphs(path, fmt)
            names.append(item)
        plan = argmine.AdaptPlan()
        plan = replace(
            plan,
            epochs=epochs or plan.epochs,
            mix=plan.mix if mix is None else mix,
            link_epochs=link_epochs,
            interpolate=plan.interpolate if interpolate is None else interpolate,
        )
        out = argmine.adapt(
            settings.model.name, graphs, output, settings, plan, names, device, log=lambda m: err.print(m, markup=False)
        )
        typer.echo(f"adapted model written to {out}")


@app.command()
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (another than localhost needs a token).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", min=1, max=65535, help="Port to listen on.")] = 8000,
    token: Annotated[
        Optional[str],
        typer.Option(
            "--token", envvar="ARGMINE_TOKEN", help="Bearer token every request but /health must send (env ARGMINE_TOKEN)."
        ),
    ] = None,
    queue: Annotated[int, typer.Option("--queue", min=1, help="Requests running or waiting at once; more get a 503.")] = 32,
    max_batch: Annotated[
        int, typer.Option("--max-batch", min=1, help="Waiting threads scored in one model pass (1: one at a time).")
    ] = 8,
    batch_wait_ms: Annotated[
        float,
        typer.Option("--batch-wait-ms", min=0, max=1000, help="Most milliseconds a batch waits for threads to gather (0: none)."),
    ] = 20.0,
    model: ModelOpt = None,
    config: ConfigOpt = None,
    device: DeviceOpt = None,
    batch_size: BatchOpt = None,
    quantize: QuantizeOpt = None,
    label_studio_url: Annotated[
        Optional[str],
        typer.Option(
            "--label-studio-url",
            envvar="ARGMINE_LABEL_STUDIO_URL",
            help="Train live: on Label Studio's START_TRAINING, adapt on the project's annotations fetched from this Label Studio (env ARGMINE_LABEL_STUDIO_URL).",
        ),
    ] = None,
    label_studio_token: Annotated[
        Optional[str],
        typer.Option(
            "--label-studio-token",
            envvar="ARGMINE_LABEL_STUDIO_TOKEN",
            help="Label Studio API key (legacy token) the annotations are fetched with (env ARGMINE_LABEL_STUDIO_TOKEN).",
        ),
    ] = None,
    train_every: Annotated[
        Optional[int],
        typer.Option("--train-every", help="Also train after N new annotations of a project (needs --label-studio-url)."),
    ] = None,
    versions_dir: Annotated[
        Optional[str],
        typer.Option("--versions-dir", help="Folder of the adapted versions (default ~/.cache/argmine/serve-versions)."),
    ] = None,
    model_version: Annotated[
        Optional[str], typer.Option("--model-version", help="Serve this version of the versions folder (base, v1, v2...).")
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Serve the model over HTTP: POST /analyze, and a Label Studio ML backend (/setup, /predict, /health),
    which with --label-studio-url also trains on Label Studio's annotations. The model loads once, at start."""
    with user_errors():
        settings = _settings(config, model, device, batch_size, quantize)

        def started(name: str) -> None:
            if not quiet:
                err.print(f"argmine: serving {name} on http://{host}:{port} (Ctrl-C stops)", markup=False)

        argmine.run_server(
            settings,
            host,
            port,
            token,
            queue,
            quiet,
            started,
            label_studio_url,
            label_studio_token,
            train_every,
            versions_dir,
            model_version,
            max_batch,
            batch_wait_ms,
        )


def main() -> None:
    app(prog_name="argmine")


if __name__ == "__main__":
    main()

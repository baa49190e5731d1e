"""Command line: thin Typer commands over the library functions.

Exit codes: 0 success, 2 bad input or usage, 1 internal fault. Errors are one line on stderr.
"""

from __future__ import annotations

import contextlib
import sys
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
        text = "\n".join(lines) + "\n" if batch else dumps(graphs[0])
        if output is not None or not tree:
            write_text(output or "-", text)
        if tree:
            console = Console(highlight=False)
            for graph in graphs:
                render_trees(graph, console)
        if failures:
            raise fail(f"{failures} of {len(results)} threads failed (recorded in the output)")


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

"""Corpus-scale analysis: many threads in, shards of graphs out, resumable.

Threads are read as a stream (JSON Lines plain, ``.gz`` or ``.zst``; Parquet; a folder of thread files;
a Hugging Face ``datasets`` dataset saved to disk) and cut into shards of ``shard_size`` threads by
their position in the input. Each shard is written atomically (``shard-00000.jsonl`` or ``.parquet``)
and recorded in ``manifest.json``. While a shard is being filled its threads go, one line each, to a
``.partial`` file; a run that was killed and started again with the same command skips finished
shards, keeps the finished threads of the shard it was in, and writes every thread exactly once.
Threads are analysed in groups whose candidate pairs share one pair-model pass (``analyze_many``).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import logging
import os
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from argmine import jsonio
from argmine.errors import InputError
from argmine.files import write_bytes
from argmine.reading.inputs.jsonl import line_id
from argmine.reading.inputs.thread import json_thread
from argmine.reading.readers import read_input
from argmine.settings import Settings, default_settings
from argmine.version import __version__

MANIFEST = "manifest.json"
THREAD_FILES = (".txt", ".text", ".md", ".json")


@dataclass
class Thread:
    """One thread of the input: its id and document, or the error that stopped it."""

    id: str
    document: object | None = None
    error: str | None = None
    position: int = 0


# ---------------------------------------------------------------- inputs


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    if path.suffix == ".zst":
        try:
            import zstandard
        except ImportError:
            raise InputError(f"{path}: reading .zst needs the zstandard package (pip install zstandard)") from None
        return io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(path.open("rb")), encoding="utf-8")
    return path.open(encoding="utf-8")


def input_kind(path: Path) -> str:
    if path.is_dir():
        if (path / "dataset_info.json").is_file() or (path / "state.json").is_file() or (path / "dataset_dict.json").is_file():
            return "dataset"
        return "folder"
    if not path.is_file():
        raise InputError(f"{path}: no such file or folder")
    name = path.name.lower()
    if name.endswith(".parquet"):
        return "parquet"
    if any(name.endswith(s) for s in (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz", ".jsonl.zst", ".ndjson.zst")):
        return "jsonl"
    raise InputError(f"{path}: batch input is JSON Lines (.jsonl, .gz, .zst), Parquet, a folder of threads or a saved dataset")


def _jsonl_records(path: Path) -> Iterator[tuple[str, object]]:
    with _open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield f"line {number}", jsonio.parse(line, f"line {number}")
            except InputError as exc:
                yield f"line {number}", str(exc)


def _parquet_records(path: Path) -> Iterator[tuple[str, object]]:
    import pyarrow.parquet as pq

    row = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=256):
        for record in batch.to_pylist():
            row += 1
            yield f"row {row}", _row(record)


def _dataset_records(path: Path) -> Iterator[tuple[str, object]]:
    from datasets import load_from_disk

    data = load_from_disk(str(path))
    if hasattr(data, "keys"):  # a DatasetDict: its splits in order
        data = [row for split in data.keys() for row in data[split]]
    for row, record in enumerate(data, start=1):
        yield f"row {row}", _row(record)


def _thread_files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in THREAD_FILES)


def _jsonl_count(path: Path) -> int:
    with _open_text(path) as handle:
        return sum(1 for line in handle if line.strip())


def _parquet_count(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


@dataclass(frozen=True)
class BatchInput:
    """One kind of batch input: its threads as (where, thread object or an error message), in input
    order, and how many there are when that is cheap to know (for the ETA)."""

    records: Callable[[Path], Iterator[tuple[str, object]]]
    count: Callable[[Path], int | None] = lambda path: None


BATCH_INPUTS = {
    "jsonl": BatchInput(_jsonl_records, _jsonl_count),
    "parquet": BatchInput(_parquet_records, _parquet_count),
    "dataset": BatchInput(_dataset_records),
    "folder": BatchInput(
        lambda path: ((str(f.relative_to(path)), f) for f in _thread_files(path)), lambda path: len(_thread_files(path))
    ),
}


def _records(path: Path, kind: str) -> Iterator[tuple[str, object]]:
    """(where, thread object or an error message) for every thread, in input order."""
    return BATCH_INPUTS[kind].records(path)


def _row(record: dict) -> object:
    """A table row: a thread's own fields, or one column ``thread`` holding it as JSON."""
    if set(record) <= {"thread", "id"} and isinstance(record.get("thread"), str):
        value = jsonio.parse(record["thread"], "thread")
        if isinstance(value, dict) and record.get("id") is not None:
            value.setdefault("id", record["id"])
        return value
    return record


def count_threads(path: Path, kind: str) -> int | None:
    """How many threads the input holds (for the ETA), when that is cheap to know."""
    return BATCH_INPUTS[kind].count(path)


def threads(path: str | Path, settings: Settings) -> Iterator[Thread]:
    """Every thread of the input as a document (or an error), with a unique id, in input order."""
    path = Path(path)
    kind = input_kind(path)
    seen: set[str] = set()
    clashing = _clashing_stems(path) if kind == "folder" else set()
    for position, (where, record) in enumerate(_records(path, kind)):
        if kind == "folder":
            thread = _folder_thread(Path(where), record, settings, clashing)
        else:
            thread = _record_thread(where, record, path, position)
        if thread.id in seen:
            error = f"{where}: thread id {thread.id!r} appears twice (the first one is kept)"
            thread = Thread(f"{thread.id}#{position + 1}", None, error)
        seen.add(thread.id)
        thread.position = position
        yield thread


def _record_thread(where: str, record: object, path: Path, position: int) -> Thread:
    """A thread of a JSON Lines file or a table: named by its own ``id``, else by where it is."""
    if isinstance(record, str):  # the line could not be read
        return Thread(where.replace(" ", "-"), None, record)
    own = line_id(record)
    tid = own if own is not None else where.replace(" ", "-")
    try:
        return Thread(tid, json_thread(record, tid, source_path=str(path), source_line=position + 1))
    except InputError as exc:
        return Thread(tid, None, f"{where}: {exc}")


def _folder_thread(where: Path, file: Path, settings: Settings, clashing: set[str]) -> Thread:
    """A folder's thread file (its document, or the error reading it). A JSON thread keeps its own id; any other thread
    is named by its path in the folder, without the extension unless another file has the same stem
    (``x.txt`` and ``x.json`` are two threads)."""
    stem = where.with_suffix("").as_posix()
    own = stem if stem not in clashing else where.as_posix()
    try:
        (result,) = read_input(str(file), settings)
    except (InputError, ValueError) as exc:
        return Thread(own, None, str(exc))
    doc = result.document
    if file.suffix.lower() == ".json" and doc.id != file.stem:  # the thread's own id
        return Thread(doc.id, doc)
    return Thread(own, dataclasses.replace(doc, id=own))


def _clashing_stems(path: Path) -> set[str]:
    """Paths in the folder (without extension) that more than one thread file shares."""
    files = (p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in THREAD_FILES)
    counts = Counter(p.relative_to(path).with_suffix("").as_posix() for p in files)
    return {stem for stem, n in counts.items() if n > 1}


# ---------------------------------------------------------------- the run


@dataclass
class Summary:
    threads: int = 0
    skipped: int = 0  # already done in an earlier run
    units: int = 0
    relations: int = 0
    errors: int = 0
    seconds: float = 0.0
    shards: list[str] = field(default_factory=list)
    failed: int = 0  # argmine.error records in the whole output, this run's and earlier ones

    def line(self) -> str:
        rate = self.units / self.seconds if self.seconds else 0.0
        return (
            f"{self.threads} threads ({self.skipped} done before), {self.units} units, {self.relations} relations, "
            f"{self.errors} errors in {self.seconds:.1f} s ({rate:.1f} units/s)"
        )


def _fingerprint(path: Path, settings: Settings, model_name: str, shard_size: int, output_format: str) -> str:
    """What must not change between a run and its resumption."""
    stat = [(str(p), p.stat().st_size) for p in ([path] if path.is_file() else sorted(path.rglob("*"))) if p.is_file()]
    blob = json.dumps([stat, settings.model_dump(), model_name, shard_size, output_format], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class Record:
    """One thread's line of a shard: its graph, or an error record."""

    id: str
    ok: bool
    line: str

    @classmethod
    def parse(cls, line: str, where: str) -> Record:
        data = jsonio.parse(line, where)
        if not isinstance(data, dict):
            raise InputError(f"{where} is not a graph or an error record")
        return cls(data.get("id"), data.get("format") == "argmine.graph", line)


def _jsonl_shard(records: list[Record]) -> bytes:
    return "".join(r.line + "\n" for r in records).encode("utf-8")


def _parquet_shard(records: list[Record]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"id": [r.id for r in records], "ok": [r.ok for r in records], "record": [r.line for r in records]})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


SHARD_WRITERS: dict[str, Callable[[list[Record]], bytes]] = {"jsonl": _jsonl_shard, "parquet": _parquet_shard}
OUTPUT_FORMATS = tuple(SHARD_WRITERS)


def _finish_shard(out: Path, name: str, records: list[Record], output_format: str) -> str:
    final = out / f"{name}.{output_format}"
    write_bytes(final, SHARD_WRITERS[output_format](records))
    return final.name


def _read_partial(partial: Path) -> list[Record]:
    """The complete lines of a shard's partial file (a line cut by a kill is dropped, and the file trimmed)."""
    if not partial.is_file():
        return []
    data = partial.read_bytes()
    keep = data[: data.rfind(b"\n") + 1]
    if len(keep) != len(data):
        write_bytes(partial, keep)  # atomically: a kill while trimming keeps the untrimmed file
    lines = keep.decode("utf-8").splitlines()
    return [Record.parse(line, f"{partial} line {n}") for n, line in enumerate(lines, start=1)]


def analyze_group(docs: list, model, settings: Settings) -> list:
    """Graphs (or errors) of several threads in one model pass; a failure is isolated to its thread."""
    from argmine.pipeline import analyze_many

    try:
        return analyze_many(docs, model, settings)
    except Exception:  # noqa: BLE001 - one bad thread must not stop the corpus: find it alone
        out = []
        for doc in docs:
            try:
                out.extend(analyze_many([doc], model, settings))
            except Exception as exc:  # noqa: BLE001
                out.append(InputError(f"internal error: {type(exc).__name__}: {exc}"))
        return out


class LocalEngine:
    """Groups analysed one after another in this process."""

    name = "local"

    def __init__(self, model, settings: Settings):
        self.model, self.settings = model, settings

    def map(self, groups: list[list]) -> Iterator[list]:
        for docs in groups:
            yield analyze_group(docs, self.model, self.settings)


class _RayWorker:
    """A Ray actor: loads the model once, then analyses the groups it is given."""

    def __init__(self, model_name: str, settings_json: str):
        from argmine.pipeline import load_model

        self.settings = Settings.model_validate_json(settings_json)
        self.model = load_model(model_name, settings=self.settings)

    def __call__(self, batch: dict) -> dict:
        import pickle

        import numpy as np

        payloads = []
        for payload in batch["payload"]:
            results = analyze_group(pickle.loads(payload), self.model, self.settings)
            payloads.append(pickle.dumps([r if not isinstance(r, Exception) else InputError(str(r)) for r in results]))
        return {"k": batch["k"], "payload": np.array(payloads, dtype=object)}


class RayEngine:
    """Groups analysed by Ray Data: ``map_batches`` over an actor pool, one model per actor (a GPU each
    where the cluster has them). Results come back in input order, so the shards are those of the local
    engine, byte for byte."""

    name = "ray"

    def __init__(self, model_name: str, settings: Settings, address: str | None = None, workers: int = 2, quiet: bool = True):
        try:
            import ray
        except ImportError:
            raise InputError("--engine ray needs Ray: pip install 'argmine[ray]'") from None
        address = address or os.environ.get("RAY_ADDRESS")
        if not ray.is_initialized():
            kwargs = {"address": address} if address else {"num_cpus": workers}
            level = logging.ERROR if quiet else logging.INFO
            ray.init(include_dashboard=False, log_to_driver=False, ignore_reinit_error=True, logging_level=level, **kwargs)
        self.ray, self.quiet = ray, quiet
        self.model_name, self.settings, self.workers = model_name, settings, workers
        self.gpus = 1 if ray.cluster_resources().get("GPU", 0) >= workers else 0

    def map(self, groups: list[list]) -> Iterator[list]:
        import pickle

        context = self.ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        for handler in logging.getLogger("ray.data").handlers if self.quiet else []:
            if "File" not in type(handler).__name__:  # the console: execution plans only for errors (the log file keeps all)
                handler.setLevel(logging.ERROR)
        items = [{"k": k, "payload": pickle.dumps(docs)} for k, docs in enumerate(groups)]
        dataset = self.ray.data.from_items(items, override_num_blocks=max(1, min(len(items), 4 * self.workers)))
        with warnings.catch_warnings():
            if self.quiet:  # "fewer inputs than actors" and the like: the shards are right either way
                warnings.simplefilter("ignore")
            rows = sorted(self._mapped(dataset).take_all(), key=lambda r: r["k"])
        for row in rows:
            yield pickle.loads(row["payload"])

    def _mapped(self, dataset):
        """The dataset mapped over the actor pool. A lost actor fails the run (the same command resumes
        it) rather than being restarted: Ray warns, on every run, that a restart may fail for want of the
        arguments it keeps in its object store (ray-project/ray#53727)."""
        args = {
            "fn_constructor_args": (self.model_name, self.settings.model_dump_json()),
            "batch_size": 1,
            "batch_format": "numpy",
            "compute": self.ray.data.ActorPoolStrategy(size=self.workers),
            "num_gpus": self.gpus,
        }
        try:
            with warnings.catch_warnings():  # per-call remote args are deprecated in Ray 2.6x, without a replacement
                warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated")
                return dataset.map_batches(_RayWorker, max_restarts=0, **args)
        except TypeError:  # a Ray that no longer takes them
            return dataset.map_batches(_RayWorker, **args)


ENGINES = ("local", "ray")


@dataclass
class Job:
    """One batch run: where it reads and writes, how it cuts shards, what analyses them, and its tallies."""

    source: Path
    out: Path
    shard_size: int
    group_size: int
    output_format: str
    manifest: dict
    runner: object
    summary: Summary
    bar: object
    started: float


def run_batch(
    source: str | Path,
    out: str | Path,
    *,
    model=None,
    settings: Settings | None = None,
    shard_size: int = 1000,
    group_size: int = 16,
    output_format: str = "jsonl",
    engine: str = "local",
    address: str | None = None,
    workers: int = 2,
    progress: bool = False,
    log=None,
) -> Summary:
    """Analyse every thread of ``source`` into shards under ``out`` (resuming an earlier run of the same
    job there) and return the counts. ``engine="ray"`` runs the groups on a Ray cluster (``address``,
    else ``RAY_ADDRESS``, else a local one with ``workers`` CPUs) and writes the same shards."""
    from tqdm.auto import tqdm

    _check_options(output_format, engine, shard_size, group_size, workers)
    settings = settings or default_settings()
    source, out = Path(source), Path(out)
    kind = input_kind(source)
    if out.exists() and not out.is_dir():
        raise InputError(f"cannot write {out}: it is a file, and a batch writes a folder of shards")
    out.mkdir(parents=True, exist_ok=True)
    model_name = model if isinstance(model, str) else getattr(model, "name", None) or settings.model.name
    fingerprint = _fingerprint(source, settings, model_name, shard_size, output_format)
    manifest = _read_manifest(out, fingerprint)  # refused before the model loads
    runner = _engine(engine, model, model_name, settings, address, workers, progress)
    manifest = manifest or _new_manifest(source, model_name, shard_size, output_format, fingerprint)
    started = time.perf_counter()
    bar = tqdm(total=count_threads(source, kind), desc="threads", unit="thread", disable=not progress)
    job = Job(source, out, shard_size, group_size, output_format, manifest, runner, Summary(), bar, started)
    try:
        for index, members in _shards(threads(source, settings), shard_size):
            _do_shard(job, index, members)
    finally:
        bar.close()
    summary = job.summary
    manifest["complete"] = True
    manifest["threads"] = sum(s["threads"] for s in manifest["shards"].values())
    manifest["errors"] = summary.failed = sum(s.get("errors", 0) for s in manifest["shards"].values())
    _save_manifest(job)
    summary.seconds = time.perf_counter() - job.started
    if log:
        log(summary.line())
    return summary


def _check_options(output_format: str, engine: str, shard_size: int, group_size: int, workers: int) -> None:
    """Refuse unknown formats and engines and sizes below 1, before any work."""
    if output_format not in OUTPUT_FORMATS:
        raise InputError(f"unknown output format {output_format!r} (choose {' or '.join(OUTPUT_FORMATS)})")
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r} (choose local or ray)")
    if shard_size < 1 or group_size < 1 or workers < 1:
        raise InputError("shard size, group size and workers must be at least 1")


def _read_manifest(out: Path, fingerprint: str) -> dict | None:
    """The manifest of an earlier run of this job in ``out`` (None if there was none); another job's is refused."""
    path = out / MANIFEST
    if not path.is_file():
        return None
    manifest = jsonio.read_object(path)
    if manifest.get("fingerprint") != fingerprint:
        raise InputError(f"{out} holds another job's output (other input, settings, model or shard size): use an empty folder")
    return manifest


def _engine(engine: str, model, model_name: str, settings: Settings, address: str | None, workers: int, progress: bool):
    """What analyses the groups: Ray actors, or the model loaded here (unless given loaded)."""
    from argmine.pipeline import load_model

    if engine == "ray":
        return RayEngine(model_name, settings, address, workers, quiet=not progress)
    loaded = model if model is not None and not isinstance(model, str) else load_model(model, settings=settings)
    return LocalEngine(loaded, settings)


def _new_manifest(source: Path, model_name: str, shard_size: int, output_format: str, fingerprint: str) -> dict:
    """A first run's manifest: the job (its fingerprint guards a resumption) and no shards yet."""
    return {
        "format": "argmine.batch",
        "generator": f"argmine {__version__}",
        "input": str(source),
        "model": model_name,
        "shard_size": shard_size,
        "output_format": output_format,
        "fingerprint": fingerprint,
        "shards": {},
        "complete": False,
    }


def _save_manifest(job: Job) -> None:
    """Write ``manifest.json`` whole (after each shard, so a killed run knows what is done)."""
    write_bytes(job.out / MANIFEST, (json.dumps(job.manifest, indent=1) + "\n").encode("utf-8"))


def _shards(items: Iterator[Thread], shard_size: int) -> Iterator[tuple[int, list[Thread]]]:
    """(shard index, its threads) in input order: a thread's shard is its position // ``shard_size``."""
    members: list[Thread] = []
    index = 0
    for thread in items:
        if thread.position // shard_size != index:
            yield index, members
            index, members = thread.position // shard_size, []
        members.append(thread)
    if members:
        yield index, members


def _do_shard(job: Job, index: int, members: list[Thread]) -> None:
    """Analyse one shard's threads not done before (appending each to its partial file), then write the
    shard, record it in the manifest and drop the partial file. A shard the manifest has is skipped."""
    name = f"shard-{index:05d}"
    shards = job.manifest["shards"]
    if name in shards and (job.out / shards[name]["file"]).is_file():
        job.summary.skipped += len(members)
        job.bar.update(len(members))
        return
    partial = job.out / f"{name}.partial"
    records = _read_partial(partial)
    done = {r.id for r in records}
    job.summary.skipped += sum(t.id in done for t in members)
    job.bar.update(sum(t.id in done for t in members))
    records += _analyse_into(job, partial, [t for t in members if t.id not in done])
    order = {t.id: k for k, t in enumerate(members)}  # the partial may hold threads of an earlier run first
    records.sort(key=lambda r: order.get(r.id, len(order)))
    file = _finish_shard(job.out, name, records, job.output_format)
    shards[name] = {
        "file": file,
        "threads": len(records),
        "errors": sum(not r.ok for r in records),
        "first": records[0].id,
        "last": records[-1].id,
    }
    _save_manifest(job)
    partial.unlink(missing_ok=True)
    job.summary.shards.append(file)


def _analyse_into(job: Job, partial: Path, todo: list[Thread]) -> list[Record]:
    """The records of ``todo``, analysed group by group; each group's lines are appended to ``partial``
    and synced before the next group starts, so a killed run keeps them."""
    groups = [todo[k : k + job.group_size] for k in range(0, len(todo), job.group_size)]
    documents = [[t.document for t in g if t.document is not None] for g in groups]
    records = []
    with partial.open("a", encoding="utf-8") as handle:
        for group, results in zip(groups, job.runner.map(documents)):
            results = iter(results)
            for thread in group:
                record = _record(job, thread, next(results) if thread.document is not None else None)
                handle.write(record.line + "\n")
                records.append(record)
            handle.flush()
            os.fsync(handle.fileno())
            job.bar.update(len(group))
            elapsed = time.perf_counter() - job.started
            job.bar.set_postfix(units_s=f"{job.summary.units / elapsed:.1f}" if elapsed else "0")
    return records


def _record(job: Job, thread: Thread, result) -> Record:
    """A thread's line: its graph, or an error record (its read error, or the analysis's); counted in the summary."""
    from argmine.pipeline import error_record

    if isinstance(result, Exception):
        thread.error = str(result)
        result = None
    job.summary.threads += 1
    if result is None:
        job.summary.errors += 1
        return Record(thread.id, False, error_record(thread.error, str(job.source), thread.position + 1, thread.id))
    job.summary.units += len(result.units)
    job.summary.relations += len(result.relations)
    return Record(thread.id, True, result.to_json(indent=None))

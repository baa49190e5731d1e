"""Files in and out: size-limited, UTF-8-checked reading and atomic writing, each mistake a one-line error."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from argmine.errors import InputError

# Names of this process's own output streams: written to the stream, never reopened (which would truncate).
_STREAMS = {
    name: stream
    for stream, fd in (("stdout", 1), ("stderr", 2))
    for name in (f"/dev/{stream}", f"/dev/fd/{fd}", f"/proc/self/fd/{fd}")
}


def read_bytes(path: str, max_bytes: int) -> bytes:
    """Read a file (``-`` = stdin), refusing anything over ``max_bytes``."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read(max_bytes + 1)
        else:
            p = Path(path)
            if p.is_dir():
                raise InputError(f"{path} is a directory, not a file")
            if p.stat().st_size > max_bytes:
                raise InputError(f"{path} is larger than the limit of {max_bytes} bytes (input.max_bytes)")
            data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise InputError(f"{path} is larger than the limit of {max_bytes} bytes (input.max_bytes)")
    return data


def decode(data: bytes, name: str, keep_bom: bool = False) -> str:
    """UTF-8 with or without BOM (dropped unless ``keep_bom``), verbatim; empty, binary or other encodings are errors."""
    if b"\x00" in data:
        raise InputError(f"{name} looks binary (it contains NUL bytes)")
    try:
        text = data.decode("utf-8" if keep_bom else "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name} is not valid UTF-8 (byte {exc.start}: {data[exc.start : exc.start + 1]!r})") from None
    if not text.strip():
        raise InputError(f"{name} is empty")
    return text


def read_text(path: str | Path, max_bytes: int = 1_000_000_000, keep_bom: bool = False) -> str:
    """A file's text for importers and graph files: UTF-8 (a BOM dropped unless ``keep_bom``); missing,
    binary or undecodable files are one-line errors."""
    return decode(read_bytes(str(path), max_bytes), str(path), keep_bom)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_output(path: str | None, folder: bool = False, what: str = "this output", inputs: tuple = ()) -> None:
    """Refuse, before any work, an output that cannot be written: ``InputError("cannot write PATH: reason")``.
    ``folder``: the output is a folder of files (brat, Label Studio), so stdout will not do. ``inputs``:
    the files (or folders) the command reads; writing one of them, or into an input folder, is refused."""
    if path is None or path == "-":
        if folder:
            raise InputError(f"{what} is several files: name a folder with --output")
        return
    _refuse_inputs(path, inputs)
    target = Path(os.path.realpath(path))  # a symlink is written through, to its target
    if folder and target.exists() and not target.is_dir():
        raise InputError(f"cannot write {path}: it is a file, and {what} needs a folder")
    if not folder and target.is_dir():
        raise InputError(f"cannot write {path}: it is a folder")
    if not folder and _in_place(path):  # a pipe or a device: written in place
        if not os.access(path, os.W_OK):
            raise InputError(f"cannot write {path}: permission denied")
        return
    probe = target if folder else target.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise InputError(f"cannot write {path}: {probe} is not a folder")
    try:  # a real probe: permissions, read-only file systems and quotas all show here
        fd, tmp = tempfile.mkstemp(prefix=".argmine-probe.", dir=probe)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None


def _refuse_inputs(path: str, inputs: tuple) -> None:
    """An output that is one of the inputs (by any name: a symlink, a relative path) or lies in an input folder."""
    target = Path(os.path.realpath(path))
    for given in inputs:
        if given is None or str(given) == "-":
            continue
        source = Path(os.path.realpath(given))
        if target == source:
            raise InputError(f"cannot write {path}: it is the input {given}")
        if source.is_dir() and source in target.parents:
            raise InputError(f"cannot write {path}: it is inside the input folder {given}")


def write_text(path: str, text: str) -> None:
    """Write to ``path`` (``-`` = stdout) via a temp file and rename, so no half-written output remains.
    A symlink is written through to its target (the link stays); a pipe or a device is written in place."""
    if path == "-" or path in _STREAMS:
        stream = getattr(sys, _STREAMS.get(path, "stdout"))  # the open stream: a shell's `>>` appends
        stream.write(text)
        stream.flush()
        return
    if _in_place(path):
        _write_in_place(path, text)
        return
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: str | Path, data: bytes) -> None:
    """The one atomic file writer: a temp file beside ``path``, synced to disk, renamed over it; an error is
    ``InputError("cannot write PATH: reason")``. The file gets the mode the umask gives new files (a temp
    file's 0600 would lock out other users); a symlink is written through to its target."""
    target = Path(os.path.realpath(path))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _in_place(path: str) -> bool:
    """A pipe, a device or a socket, or a name under /dev or /proc (``/dev/stdout`` redirected to a
    file by the shell: replacing that file would lose the output): written in place, not renamed over."""
    if os.path.exists(path) and not os.path.isfile(path) and not os.path.isdir(path):
        return True
    return os.path.isfile(path) and Path(os.path.abspath(path)).parts[1:2] in (("dev",), ("proc",))


def _write_in_place(path: str, text: str) -> None:
    """A pipe or a device (``/dev/stdout``, a FIFO a reader waits on): no rename, the bytes go straight in."""
    try:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_files(folder: str, files: dict[str, str]) -> None:
    """Write several files into ``folder`` (created if needed), each atomically."""
    for name, content in files.items():
        write_text(str(Path(folder) / name), content)

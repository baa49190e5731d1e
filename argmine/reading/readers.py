"""Readers: plain text, JSON threads, JSON Lines of threads and Reddit thread JSON -> Documents.

Every problem with the input is an ``InputError`` with a one-line message; a JSON Lines file
yields one result per line, so one bad line does not stop the batch.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argmine import jsonio
from argmine.document import Document, PostText, join_posts
from argmine.errors import InputError
from argmine.files import decode, read_bytes
from argmine.reading.layout import layout_plain_text
from argmine.settings import Settings, default_settings

INPUT_FORMATS = ("auto", "text", "thread", "jsonl", "reddit")


@dataclass
class ReadResult:
    """One thread from the input: a document, or the error that stopped it."""

    name: str
    document: Document | None = None
    error: InputError | None = None
    line: int | None = None
    warnings: list[str] = field(default_factory=list)  # what was read differently from the file, one line each
    thread_id: str | None = None  # a JSON Lines line's own ``id``, even when the thread fails (its error record names it)


def sniff(text: str, path: str) -> str:
    """Guess the input format from the extension, then the content."""
    suffix = Path(path).suffix.lower() if path != "-" else ""
    if suffix in (".txt", ".text", ".md"):
        return "text"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    stripped = text.lstrip()
    if suffix == ".json" or stripped[:1] in ("{", "["):
        if stripped.startswith("["):
            return "reddit"
        first_line = stripped.split("\n", 1)[0].strip()
        if suffix != ".json" and first_line.endswith("}") and "\n" in stripped.strip():
            return "jsonl"
        return "thread"
    return "text"


def is_path(source: str | Path) -> bool:
    """A ``Path``, ``-`` (stdin), a string naming an existing file, or one that looks like a path (one
    line, no spaces: a missing file is then an error, not a text); any other string is text."""
    if isinstance(source, Path) or source == "-":
        return True
    if "\n" in source or len(source) >= 4096 or source.lstrip().startswith(("{", "[")):
        return False
    try:
        if Path(source).is_file():
            return True
    except OSError:  # a name too long for the file system, say: not a file
        return False
    return not any(c.isspace() for c in source)


def read_all(
    source: str | Path, *, settings: Settings | None = None, input_format: str = "auto", comments_from: int | None = None
) -> list[ReadResult]:
    """Every thread of a file (one per line for JSON Lines) or of a text given directly, as documents
    without units; a JSON Lines line that fails is a result carrying its error."""
    settings = settings or default_settings()
    if is_path(source):
        return read_input(str(source), settings, input_format, comments_from)
    data = str(source).encode("utf-8")
    return read_input("-", settings, input_format, comments_from, data=data, stem="text")


def read(
    source: str | Path, *, settings: Settings | None = None, input_format: str = "auto", comments_from: int | None = None
) -> Document:
    """One thread from a file or a text (``argmine.read``); several threads (JSON Lines) need ``read_all``."""
    results = read_all(source, settings=settings, input_format=input_format, comments_from=comments_from)
    if len(results) != 1:
        raise InputError(f"{source} holds {len(results)} threads: read them with read_all")
    if results[0].error is not None:
        raise results[0].error
    return results[0].document


def read_input(
    path: str,
    settings: Settings,
    input_format: str = "auto",
    comments_from: int | None = None,
    data: bytes | None = None,
    stem: str | None = None,
) -> list[ReadResult]:
    """Read one input file (or ``data`` given in its place) into documents (several for JSON Lines)."""
    if input_format not in INPUT_FORMATS:
        raise InputError(f"unknown input format {input_format!r} (choose from {', '.join(INPUT_FORMATS)})")
    if data is None:
        data = read_bytes(path, settings.input.max_bytes)
    elif len(data) > settings.input.max_bytes:
        raise InputError(f"the text is larger than the limit of {settings.input.max_bytes} bytes (input.max_bytes)")
    name = stem or ("stdin" if path == "-" else path)
    text = decode(data, name)
    sha = hashlib.sha256(data).hexdigest()
    fmt = sniff(text, path) if input_format == "auto" else input_format
    stem = stem or ("stdin" if path == "-" else Path(path).stem)
    source = {"source_path": path, "sha256": sha}
    if fmt != "text" and comments_from is not None:
        raise InputError("--comments-from applies to plain text input only")
    if fmt == "text":
        doc = layout_plain_text(text, stem, settings.layout, comments_from, settings.boilerplate, **source)
        return [ReadResult(stem, doc)]
    if fmt == "jsonl":
        return list(_read_jsonl(text, stem, source))
    obj = jsonio.parse(text, name)
    if fmt == "reddit" or (isinstance(obj, list) and fmt == "auto"):
        warnings: list[str] = []
        return [ReadResult(stem, reddit_thread(obj, stem, warnings, **source), warnings=warnings)]
    return [ReadResult(stem, json_thread(obj, stem, **source))]


def _read_jsonl(text: str, stem: str, source: dict):
    for line in jsonio.lines(text, source["source_path"]):
        name = f"{stem}:{line.number}"
        if line.error is not None:
            yield ReadResult(name, error=line.error, line=line.number)
            continue
        own = line_id(line.value)
        try:
            doc = json_thread(line.value, name, source_line=line.number, **source)
            yield ReadResult(doc.id, doc, line=line.number, thread_id=own)
        except InputError as exc:
            error = InputError(f"{source['source_path']} line {line.number}: {exc}")
            yield ReadResult(name, error=error, line=line.number, thread_id=own)


def line_id(value: Any) -> str | None:
    """The ``id`` a JSON Lines record gives its thread (as ``argmine batch`` names it), else None."""
    return str(value["id"]) if isinstance(value, dict) and value.get("id") is not None else None


def _text_field(obj: dict, key: str, where: str, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InputError(f"{where} needs a string {key!r}")
    return value


def _id(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise InputError(f"{where} needs an id (string or integer)")
    return str(value)


def json_thread(obj: Any, default_id: str, **doc_kwargs) -> Document:
    """``{"id"?, "title"?, "article": {"text", "author"?}, "comments": [{"id", "parent"?, "author"?, "text"}]}``."""
    if not isinstance(obj, dict):
        raise InputError("a JSON thread must be an object with 'article' and 'comments'")
    article = obj.get("article")
    if not isinstance(article, dict):
        raise InputError("the thread needs an 'article' object with a 'text'")
    comments = obj.get("comments", [])
    if not isinstance(comments, list):
        raise InputError("'comments' must be a list")
    doc_id = _id(obj["id"], "the thread") if obj.get("id") is not None else default_id
    parts: list[PostText] = []
    # argmine names the title and (unless it has an id) the article itself: never with a comment's id
    taken = {str(c["id"]) for c in comments if isinstance(c, dict) and isinstance(c.get("id"), (str, int))}
    article_id = _id(article["id"], "the article") if article.get("id") is not None else _free("article", taken)
    title = _text_field(obj, "title", "the thread", required=False)
    if title and title.strip():
        parts.append(PostText(_free("title", taken | {article_id}), "title", title))
    parts.append(PostText(article_id, "article", _text_field(article, "text", "the article"), None, _author(article)))
    for i, comment in enumerate(comments):
        if not isinstance(comment, dict):
            raise InputError(f"comment {i} is not an object")
        cid = _id(comment.get("id"), f"comment {i}")
        parent = comment.get("parent")
        parent_id = article_id if parent is None else _id(parent, f"comment {cid!r} parent")
        parts.append(PostText(cid, "comment", _text_field(comment, "text", f"comment {cid!r}"), parent_id, _author(comment)))
    if not any(p.text.strip() for p in parts):
        raise InputError("the thread has no text")
    return join_posts(doc_id, parts, **doc_kwargs)


def _free(name: str, taken: set[str]) -> str:
    """``name``, or ``name-2``, ``name-3``, ... when a user's id already has it."""
    k = 1
    while (candidate := name if k == 1 else f"{name}-{k}") in taken:
        k += 1
    return candidate


def _author(obj: dict) -> str | None:
    author = obj.get("author")
    return str(author) if author is not None else None


def reddit_thread(obj: Any, default_id: str, warnings: list[str] | None = None, **doc_kwargs) -> Document:
    """Reddit's thread JSON: ``[post listing, comment listing]`` with nested ``replies``. A comment
    whose parent is not in the file (the export of a comment's permalink page) answers the post; a
    line in ``warnings`` says so. ``[deleted]`` and ``[removed]`` bodies stay in the text (they are
    boilerplate to the segmenter, so they give no units)."""
    try:
        post = obj[0]["data"]["children"][0]["data"]
        top = obj[1]["data"]["children"]
    except (KeyError, IndexError, TypeError):
        raise InputError("not a Reddit thread: expected [post listing, comment listing]") from None
    article_id = str(post.get("name") or f"t3_{post.get('id', 'post')}")
    parts: list[PostText] = []
    title = post.get("title")
    if isinstance(title, str) and title.strip():
        parts.append(PostText("title", "title", title))
    body = post.get("selftext") or ""
    parts.append(PostText(article_id, "article", body, None, post.get("author")))

    if not isinstance(top, list):
        raise InputError("Reddit comment listing has no 'children' list")
    stack = list(reversed(top))  # depth first, in reading order, without recursion (reply chains run deep)
    while stack:
        child = stack.pop()
        if not isinstance(child, dict) or child.get("kind") != "t1":
            continue  # "more" stubs and other kinds carry no text
        data = child.get("data") or {}
        cid = str(data.get("name") or f"t1_{data.get('id')}")
        parent = data.get("parent_id") or article_id
        text = data.get("body")
        if not isinstance(text, str):
            raise InputError(f"Reddit comment {cid} has no 'body' text")
        parts.append(PostText(cid, "comment", text, str(parent), data.get("author")))
        replies = data.get("replies")
        if isinstance(replies, dict):
            children = (replies.get("data") or {}).get("children", [])
            if not isinstance(children, list):
                raise InputError(f"Reddit comment {cid}: replies have no 'children' list")
            stack.extend(reversed(children))
    known = {p.id for p in parts}
    orphans = {p.id for p in parts if p.parent is not None and p.parent not in known}
    if orphans:
        parts = [PostText(p.id, p.kind, p.text, article_id, p.author) if p.id in orphans else p for p in parts]
        if warnings is not None:
            warnings.append(
                f"{len(orphans)} Reddit comment(s) answer a comment not in the file (a permalink page?): "
                f"they are read as replies to the post"
            )
    if not any(p.text.strip() for p in parts):
        raise InputError("the Reddit thread has no text")
    doc_id = str(post.get("id") or default_id)
    return join_posts(doc_id, parts, **doc_kwargs)

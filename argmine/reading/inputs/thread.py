"""argmine's JSON thread: ``{"id"?, "title"?, "article": {...}, "comments": [...]}``."""

from __future__ import annotations

from typing import Any

from argmine import jsonio
from argmine.document import Document, PostText, join_posts
from argmine.errors import InputError
from argmine.reading.inputs.base import InputFormat, ReadResult, Source


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


def _read(src: Source) -> list[ReadResult]:
    return [ReadResult(src.stem, json_thread(jsonio.parse(src.text, src.name), src.stem, **src.provenance))]


INPUT = InputFormat(
    "thread",
    "argmine's JSON thread: article, comments with ids and parents",
    _read,
    order=1,
    claims=lambda text, suffix: suffix == ".json" or text[:1] == "{",
    priority=2,
)

"""Reddit's thread JSON (a post's ``.json`` page): ``[post listing, comment listing]``."""

from __future__ import annotations

from typing import Any

from argmine import jsonio
from argmine.document import Document, PostText, join_posts
from argmine.errors import InputError
from argmine.reading.inputs.base import InputFormat, ReadResult, Source


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


def _read(src: Source) -> list[ReadResult]:
    warnings: list[str] = []
    obj = jsonio.parse(src.text, src.name)
    return [ReadResult(src.stem, reddit_thread(obj, src.stem, warnings, **src.provenance), warnings=warnings)]


INPUT = InputFormat(
    "reddit",
    "Reddit's thread JSON (a post's .json page)",
    _read,
    order=3,
    claims=lambda text, suffix: text[:1] == "[",
    priority=0,
)

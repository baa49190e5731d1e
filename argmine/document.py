"""The document model: one verbatim text per thread, posts and units as code-point spans into it.

Offsets are the single source of truth (as in spaCy's Doc/Span): every post and unit is a
``(start, end)`` view of ``Document.text``, and a unit's ``text`` is always ``text[start:end]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from argmine.errors import InputError

POST_KINDS = ("title", "article", "comment")


@dataclass(frozen=True)
class Span:
    """A ``[start, end)`` range of code points: a paragraph, sentence or clause before it becomes a unit."""

    start: int
    end: int


@dataclass(frozen=True)
class Post:
    """A title, the article body, or one comment; ``parent`` is the post it replies to."""

    id: str
    kind: str
    start: int
    end: int
    parent: str | None = None
    author: str | None = None


@dataclass(frozen=True)
class Unit:
    """An argumentative unit: a span of one post."""

    id: str
    post: str
    start: int
    end: int
    text: str


RELATION_LABELS = ("support", "attack")  # what a relation says; a pair model also predicts "none"


@dataclass(frozen=True)
class Relation:
    """``source`` supports or attacks ``target`` (unit ids), with the model's probability."""

    source: str
    target: str
    label: str
    score: float


@dataclass(frozen=True)
class PairScores:
    """The relation model's probabilities that ``source`` supports / attacks / is unrelated to ``target``."""

    support: float
    attack: float
    none: float


@dataclass(frozen=True)
class Quote:
    """A reply's quotation of an earlier post (``>`` lines, or its words in quotation marks): a span of
    post ``post`` that is no unit but points at ``target``, the unit it repeats (None when unknown)."""

    post: str
    start: int
    end: int
    target: str | None = None


@dataclass(frozen=True)
class PostText:
    """A post before it is placed in a document: its own text and reply link."""

    id: str
    kind: str
    text: str
    parent: str | None = None
    author: str | None = None


@dataclass
class Document:
    """A thread: verbatim text, its posts (in reading order) and, once segmented, its units and quotes.

    Quotes live here, not on ``Post``: a quote's target is a unit id and units live here too, so one
    list holds the whole pointer and ``Post`` stays the reply structure every reader builds."""

    id: str
    text: str
    posts: list[Post]
    units: list[Unit] = field(default_factory=list)
    source_path: str = "-"
    sha256: str = ""
    source_line: int | None = None
    # True when reply links are unknown (plain text): comments may answer the comment above.
    flat: bool = False
    # A reply's quotes of the posts it answers (argmine.units.quotes): spans that are no unit.
    quotes: list[Quote] = field(default_factory=list)
    # Units the segmenter cut to segmenter.max_unit_chars (recorded in the graph's stats).
    cut_units: int = 0

    def __post_init__(self) -> None:
        self._validate_posts()
        self._validate_quotes()

    def _validate_posts(self) -> None:
        ids: dict[str, Post] = {}
        for post in self.posts:
            if post.kind not in POST_KINDS:
                raise InputError(f"post {post.id!r} has unknown kind {post.kind!r}")
            if post.id in ids:
                raise InputError(f"duplicate post id {post.id!r}")
            if not 0 <= post.start <= post.end <= len(self.text):
                raise InputError(f"post {post.id!r} span {post.start}:{post.end} is outside the text")
            ids[post.id] = post
        for post in self.posts:
            if post.parent is not None and post.parent not in ids:
                raise InputError(f"post {post.id!r} replies to missing parent {post.parent!r}")
        for post in self.posts:
            seen = {post.id}
            parent = post.parent
            while parent is not None:
                if parent in seen:
                    raise InputError(f"reply cycle through post {post.id!r}")
                seen.add(parent)
                parent = ids[parent].parent

    def _validate_quotes(self) -> None:
        posts = {p.id: p for p in self.posts}
        for q in self.quotes:
            post = posts.get(q.post)
            if post is None:
                raise InputError(f"a quote belongs to missing post {q.post!r}")
            if not post.start <= q.start < q.end <= post.end:
                raise InputError(f"quote {q.start}:{q.end} is not inside post {q.post!r} ({post.start}:{post.end})")

    def post(self, post_id: str) -> Post:
        for post in self.posts:
            if post.id == post_id:
                return post
        raise KeyError(post_id)

    def make_unit(self, post: Post, start: int, end: int, unit_id: str) -> Unit:
        """Make a unit from offsets, refusing spans that leave their post (no silent fix-ups)."""
        if not post.start <= start < end <= post.end:
            raise ValueError(f"span {start}:{end} is not inside post {post.id} ({post.start}:{post.end})")
        return Unit(unit_id, post.id, start, end, self.text[start:end])

    def with_units(self, units: list[Unit]) -> Document:
        for unit in units:
            if self.text[unit.start : unit.end] != unit.text:
                raise ValueError(f"unit {unit.id} text does not match the document at {unit.start}:{unit.end}")
        return replace(self, units=list(units))


def trim_span(text: str, start: int, end: int, trailing: str = "") -> tuple[int, int]:
    """Shrink ``start:end`` past surrounding whitespace (and any ``trailing`` characters at the end)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in trailing):
        end -= 1
    return start, end


def join_posts(doc_id: str, parts: list[PostText], sep: str = "\n\n", **kwargs) -> Document:
    """Build a document whose text is every post's text, verbatim, joined in order by ``sep``."""
    pieces: list[str] = []
    posts: list[Post] = []
    offset = 0
    for i, part in enumerate(parts):
        if i:
            pieces.append(sep)
            offset += len(sep)
        posts.append(Post(part.id, part.kind, offset, offset + len(part.text), part.parent, part.author))
        pieces.append(part.text)
        offset += len(part.text)
    return Document(doc_id, "".join(pieces), posts, **kwargs)


def answered_posts(doc: Document) -> dict[str, str | None]:
    """For each post, the post it answers, skipping posts without units (a reply to a bare question or
    a deleted comment answers what that post answered); None for posts that answer nothing."""
    with_units = {u.post for u in doc.units}
    by_id = {p.id: p for p in doc.posts}
    out: dict[str, str | None] = {}
    for post in doc.posts:
        current = post.parent
        while current is not None and current not in with_units:
            current = by_id[current].parent
        out[post.id] = current if current is not None else post.parent
    return out


def posts_above(doc: Document, *, comments_only: bool, with_units: bool) -> dict[str, str | None]:
    """For each post, the post just above it in reading order: what a comment of a flat thread (plain text,
    reply links unknown) may answer besides its parent. ``comments_only``: only comments are mapped, and
    only a comment counts as above; ``with_units``: posts without units are passed over, as if absent."""
    having = {u.post for u in doc.units}
    out: dict[str, str | None] = {}
    last = None
    for post in doc.posts:
        if comments_only and post.kind != "comment":
            continue
        out[post.id] = last
        if not with_units or post.id in having:
            last = post.id
    return out


class Answerable:
    """Which posts a post's units may relate to: itself, what it answers (its ancestors; every earlier
    post in a flat thread) and, for the article, the title. Ancestry is read from DFS entry and exit
    times, so memory stays linear however deep the reply chain."""

    def __init__(self, doc: Document):
        self.flat = doc.flat
        self.kind = {p.id: p.kind for p in doc.posts}
        self.order = {p.id: k for k, p in enumerate(doc.posts)}
        self.top = {p.id for p in doc.posts if p.kind == "article" or (p.kind == "comment" and p.parent is None)}
        children: dict[str | None, list[str]] = {}
        for p in doc.posts:
            children.setdefault(p.parent, []).append(p.id)
        self.entry: dict[str, int] = {}
        self.exit: dict[str, int] = {}
        clock = 0
        stack = [(root, False) for root in reversed(children.get(None, []))]
        while stack:  # iterative: a reply chain thousands deep is no recursion problem
            post, done = stack.pop()
            if done:
                self.exit[post] = clock
                continue
            self.entry[post] = clock
            clock += 1
            stack.append((post, True))
            stack.extend((c, False) for c in reversed(children.get(post, [])))

    def __call__(self, source: str, target: str) -> bool:
        """May a unit of post ``source`` relate to a unit of post ``target``?"""
        if source == target:
            return True
        if self.entry[target] <= self.entry[source] and self.exit[source] <= self.exit[target]:
            return True  # an ancestor
        if self.kind[target] == "title":
            return source in self.top
        return self.flat and self.kind[source] == "comment" and self.order[target] < self.order[source]

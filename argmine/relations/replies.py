"""The answered-post link: which unit of the posts a reply answers it links to, from which of its own units, or none.

Inside a post the parser's arborescence reads structure well; across posts a 256-token window sees only
part of the answered post, and similarity and position are both real signals that neither wins alone.
So each post that answers another gets one listwise decision: a softmax over every (own unit, candidate
unit) pair of the posts it may answer (the answered post, the one before that, the comment above in a
flat thread, the title), plus "no link". A pair is scored from what a small model cannot learn from
little data: sentence-embedding similarity (and its rank among the candidates), TF-IDF similarity,
shared rare words and names, quotes, positions in both posts, which post the candidate lies in, speaker
change. The weights are a small JSON file (``argmine_links.json``) beside the model; scoring needs numpy
and the sentence encoder only.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from argmine.document import Document, answered_posts, posts_above

LINKS_FILE = "argmine_links.json"
MAX_SOURCES = 8  # a reply's main claim is almost always among its first units
MAX_TARGETS = 80  # candidate units per answerable post; a longer post keeps its first, last and most similar

# which post a candidate unit lies in, relative to the reply (one-hot)
RELATIONS = ("answered_above", "answered", "above", "two_back", "title")

FEATURES = (
    "emb",
    "emb_best",
    "emb_rank",
    "emb_margin",
    "emb_any",
    "tfidf",
    "tfidf_best",
    "rare",
    "names",
    "quoted",
    "t_first",
    "t_last",
    "t_only",
    "t_rel",
    *(f"post_{r}" for r in RELATIONS),
    "s_first",
    "s_second",
    "s_rel",
    "same_speaker",
    "other_speaker",
    "t_post_size",
    "s_post_size",
    "s_question",
    "t_question",
    "parser_arc",
    "parser_arc_missing",
    "parser_arc_best",
    "parser_root",
    "parser_attack",
)
POST_FEATURES = (
    "bias",
    "best_emb",
    "best_tfidf",
    "quotes",
    "units",
    "candidates",
    "question",
    "answers_title_only",
    "parser_root_first",
    "parser_cross_mass",
)

_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z\-]{2,}")


@dataclass
class Slot:
    """One reply's decision: its own units (sources), the units it may link to (targets), and the
    features of every (source, target) pair (row ``s * len(targets) + t``) and of the post."""

    post: str
    sources: list[int]
    targets: list[int]
    pair_features: np.ndarray  # (len(sources) * len(targets), len(FEATURES))
    post_features: np.ndarray  # (len(POST_FEATURES),)


def answerable(doc: Document) -> dict[str, list[tuple[str, str]]]:
    """For each post with units, the earlier posts its reply link may go to, each with its relation
    (``RELATIONS``): the answered post, the post that one answers, the comment above in a flat thread,
    the title. Bounded: at most four posts."""
    with_units = {u.post for u in doc.units}
    answered = answered_posts(doc)
    above = posts_above(doc, comments_only=False, with_units=True)
    title = next((p.id for p in doc.posts if p.kind == "title" and p.id in with_units), None)
    out: dict[str, list[tuple[str, str]]] = {}
    for post in doc.posts:
        if post.id not in with_units or post.kind == "title":
            continue
        ctx: list[tuple[str, str]] = []
        parent = answered.get(post.id)
        prev = above.get(post.id)
        if parent in with_units:
            ctx.append((parent, "answered_above" if parent == prev else "answered"))
            grand = answered.get(parent)
            if grand in with_units and grand != title:
                ctx.append((grand, "two_back"))
        if doc.flat and post.kind == "comment" and prev in with_units and prev not in {p for p, _ in ctx}:
            ctx.append((prev, "above"))
            before = above.get(prev)
            if before in with_units and before not in {p for p, _ in ctx} and before != title:
                ctx.append((before, "two_back"))
        if title and post.id != title and title not in {p for p, _ in ctx}:
            ctx.append((title, "title"))
        if ctx:
            out[post.id] = ctx
    return out


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if len(w) > 2}


def _names(text: str) -> set[str]:
    return {m.group(0).lower() for m in _NAME.finditer(text)}


def build_slots(
    doc: Document, embeddings: np.ndarray, matrix=None, quoted: dict[str, set[str]] | None = None, parse=None
) -> list[Slot]:
    """Every reply's slot with its features. ``embeddings``: one L2-normalised row per unit; ``matrix``:
    TF-IDF rows (``candidates.tfidf``); ``quoted``: per post, the unit ids its quotes repeat; ``parse``:
    the parser's reading of the document (its arcs across posts), when there is one."""
    units = doc.units
    if quoted is None:
        from argmine.units.quotes import quoted_units

        quoted = quoted_units(doc)
    members: dict[str, list[int]] = {}
    for i, u in enumerate(units):
        members.setdefault(u.post, []).append(i)
    posts = {p.id: p for p in doc.posts}
    doc_freq: dict[str, int] = {}
    unit_words = [_words(u.text) for u in units]
    for ws in unit_words:
        for w in ws:
            doc_freq[w] = doc_freq.get(w, 0) + 1
    n_units = len(units)
    idf = {w: math.log((1 + n_units) / (1 + c)) for w, c in doc_freq.items()}
    unit_names = [_names(u.text) for u in units]
    slots = []
    for post_id, ctx in answerable(doc).items():
        mine = members[post_id][:MAX_SOURCES]
        targets, relation = [], {}
        for other, rel in ctx:
            theirs = _bounded(members[other], mine, embeddings)
            targets += theirs
            relation.update(dict.fromkeys(theirs, rel))
        if not targets:
            continue
        emb = embeddings[mine] @ embeddings[targets].T  # (sources, targets)
        tf = (matrix[mine] @ matrix[targets].T).toarray() if matrix is not None else np.zeros_like(emb)
        rows = _pair_rows(
            doc, posts, members, mine, targets, relation, emb, tf, unit_words, unit_names, idf, quoted.get(post_id, set())
        )
        post_row = _post_row(doc, mine, targets, emb, tf, quoted.get(post_id, set()), ctx)
        if parse is not None:
            _parser_features(parse, mine, targets, rows, post_row)
        else:
            rows[:, FEATURES.index("parser_arc_missing")] = 1.0
        slots.append(Slot(post_id, mine, targets, rows, post_row))
    return slots


def _bounded(theirs: list[int], mine: list[int], embeddings: np.ndarray) -> list[int]:
    """All of a candidate post's units when few; else its first, its last and the most similar to ``mine``."""
    if len(theirs) <= MAX_TARGETS:
        return theirs
    best = (embeddings[theirs] @ embeddings[mine].T).max(axis=1)
    keep = {theirs[0], theirs[-1]}
    for j in np.argsort(-best, kind="stable"):
        if len(keep) == MAX_TARGETS:
            break
        keep.add(theirs[int(j)])
    return sorted(keep)


def _pair_rows(doc, posts, members, mine, targets, relation, emb, tf, unit_words, unit_names, idf, quoted) -> np.ndarray:
    """``FEATURES`` for every (source, target) pair of one slot, row ``a * len(targets) + b``."""
    units = doc.units
    n_t = len(targets)
    rank = np.argsort(np.argsort(-emb, axis=1, kind="stable"), axis=1, kind="stable") + 1  # 1 = most similar
    best = emb.max(axis=1, keepdims=True)
    any_best = emb.max(axis=0, keepdims=True)  # the candidate's best similarity to any of the reply's units
    tf_best = tf.max(axis=1, keepdims=True)
    position = {}
    for post_id in {units[i].post for i in list(mine) + list(targets)}:
        ids = members[post_id]
        for k, i in enumerate(ids):
            position[i] = (k, len(ids))
    rows = np.zeros((len(mine) * n_t, len(FEATURES)), dtype=np.float32)
    col = {name: j for j, name in enumerate(FEATURES)}
    for a, s in enumerate(mine):
        k, n = position[s]
        s_author = posts[units[s].post].author
        s_question = units[s].text.rstrip().endswith("?")
        for b, t in enumerate(targets):
            r = rows[a * n_t + b]
            m, size = position[t]
            shared = unit_words[s] & unit_words[t]
            r[col["emb"]] = emb[a, b]
            r[col["emb_best"]] = float(emb[a, b] >= best[a, 0] - 1e-6)
            r[col["emb_rank"]] = 1.0 / rank[a, b]
            r[col["emb_margin"]] = emb[a, b] - best[a, 0]
            r[col["emb_any"]] = float(emb[a, b] >= any_best[0, b] - 1e-6)
            r[col["tfidf"]] = tf[a, b]
            r[col["tfidf_best"]] = float(tf[a, b] > 0 and tf[a, b] >= tf_best[a, 0] - 1e-6)
            r[col["rare"]] = min(3.0, sum(idf.get(w, 0.0) for w in shared) / 4.0)
            r[col["names"]] = min(2, len(unit_names[s] & unit_names[t]))
            r[col["quoted"]] = float(units[t].id in quoted)
            r[col["t_first"]] = float(m == 0 and size > 1)
            r[col["t_last"]] = float(m == size - 1 and size > 1)
            r[col["t_only"]] = float(size == 1)
            r[col["t_rel"]] = m / max(1, size - 1)
            r[col[f"post_{relation[t]}"]] = 1.0
            r[col["s_first"]] = float(k == 0)
            r[col["s_second"]] = float(k == 1)
            r[col["s_rel"]] = k / max(1, n - 1)
            t_author = posts[units[t].post].author
            r[col["same_speaker"]] = float(bool(s_author and t_author and s_author == t_author))
            r[col["other_speaker"]] = float(bool(s_author and t_author and s_author != t_author))
            r[col["t_post_size"]] = math.log1p(size)
            r[col["s_post_size"]] = math.log1p(n)
            r[col["s_question"]] = float(s_question)
            r[col["t_question"]] = float(units[t].text.rstrip().endswith("?"))
    return rows


def _parser_features(parse, mine: list[int], targets: list[int], rows: np.ndarray, post_row: np.ndarray) -> None:
    """The parser's own reading of each pair, written into the slot's rows: the arc's log-probability
    (where the target was in the source's window), whether it is the source's best such arc, the source's
    ROOT log-probability and the pair's attack probability; per post, the first unit's ROOT log-probability
    and the most probability any unit puts on the other posts."""
    col = {name: j for j, name in enumerate(FEATURES)}
    n_t = len(targets)
    target_set = set(targets)
    cross = []
    for a, s in enumerate(mine):
        arcs = parse.arcs.get(s, {})
        present = {t: lp for t, lp in arcs.items() if t in target_set}
        best = max(present.values(), default=None)
        root = arcs.get(-1, 0.0)
        cross.append(sum(math.exp(lp) for t, lp in arcs.items() if t >= 0 and parse.post_of[t] != parse.post_of[s]))
        for b, t in enumerate(targets):
            r = rows[a * n_t + b]
            r[col["parser_root"]] = root
            if t in present:
                r[col["parser_arc"]] = present[t]
                r[col["parser_arc_best"]] = float(present[t] >= best - 1e-9)
                support, attack = parse.labels.get((s, t), (0.5, 0.5))
                r[col["parser_attack"]] = attack / max(1e-9, support + attack)
            else:
                r[col["parser_arc"]] = -12.0
                r[col["parser_arc_missing"]] = 1.0
                r[col["parser_attack"]] = 0.5
    post_row[POST_FEATURES.index("parser_root_first")] = parse.arcs.get(mine[0], {}).get(-1, 0.0)
    post_row[POST_FEATURES.index("parser_cross_mass")] = max(cross, default=0.0)


def _post_row(doc, mine, targets, emb, tf, quoted, ctx) -> np.ndarray:
    units = doc.units
    question = any(units[i].text.rstrip().endswith("?") for i in mine)
    rels = {r for _, r in ctx}
    row = [
        1.0,
        float(emb.max()),
        float(tf.max()) if tf.size else 0.0,
        float(bool(quoted)),
        math.log1p(len(mine)),
        math.log1p(len(targets)),
        float(question),
        float(rels == {"title"}),
        0.0,
        0.0,
    ]
    return np.asarray(row, dtype=np.float32)


# ---------------------------------------------------------------- the sentence encoder


class SentenceEncoder:
    """Mean-pooled, L2-normalised sentence embeddings of each unit alone, from a Hugging Face encoder."""

    def __init__(self, model, tokenizer, device=None, max_length: int = 64, batch_size: int = 64, max_tokens: int | None = 1024):
        import torch

        self.model = model
        self.tokenizer = tokenizer
        self.device = device or torch.device("cpu")
        self.max_length = max_length
        self.batch_size = batch_size
        self.max_tokens = max_tokens  # padded tokens per batch (units sorted by length: little padding)

    @classmethod
    def load(cls, folder: str | Path, device=None) -> SentenceEncoder:
        """The encoder and tokenizer of a folder (``minilm``: the pretrained all-MiniLM-L6-v2 package)."""
        import torch

        from argmine.relations.encoder import Encoder, Tokenizer

        if str(folder) == "minilm":
            from argmine.relations.hf import base_model_path

            folder = base_model_path("minilm")
        device = device or torch.device("cpu")
        return cls(Encoder.from_folder(folder).eval().to(device), Tokenizer(folder), device)

    def __call__(self, texts: list[str]) -> np.ndarray:
        import torch

        from argmine.relations.encoder import batches, pad, rows_of

        out = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float32)
        rows = rows_of(self.tokenizer, texts, self.max_length) if texts else []
        order = sorted(range(len(texts)), key=lambda i: len(rows[i]))  # by tokens: batches pad little
        with torch.inference_mode():
            for group in batches([len(rows[i]) for i in order], self.batch_size, self.max_tokens):
                idx = [order[k] for k in group]
                ids, mask = pad([rows[i] for i in idx], self.tokenizer.pad_token_id)
                ids, mask = ids.to(self.device), mask.to(self.device)
                hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state.float()
                mask = mask[..., None].float()
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                out[idx] = torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy()
        return out


def document_slots(
    doc: Document, encoder, parse=None, embeddings: np.ndarray | None = None, quoted=None, matrix=None
) -> list[Slot]:
    """The slots of one document: embeddings by ``encoder`` (or given, one row per unit), TF-IDF over its
    units and its own quotes (each computed here unless given), the parser's arcs when ``parse`` is given."""
    from argmine.relations.candidates import tfidf

    if not doc.units:
        return []
    texts = [u.text for u in doc.units]
    embeddings = encoder(texts) if embeddings is None else embeddings
    return build_slots(doc, embeddings, tfidf(texts) if matrix is None else matrix, quoted=quoted, parse=parse)


# ---------------------------------------------------------------- the scorer


@dataclass
class LinkScorer:
    """Pair scores: a one-hidden-layer network over standardised ``FEATURES``; "no link": a linear score
    over ``POST_FEATURES``. Pure numpy at inference."""

    mean: np.ndarray
    std: np.ndarray
    w1: np.ndarray  # (features, hidden)
    b1: np.ndarray
    w2: np.ndarray  # (hidden,)
    linear: np.ndarray  # (features,): a direct linear path beside the hidden layer
    b2: float
    none: np.ndarray  # (post features,)

    def probabilities(self, slot: Slot) -> np.ndarray:
        """P over the slot's pairs then "no link" (last), summing to 1."""
        x = (slot.pair_features - self.mean) / self.std
        pair = np.tanh(x @ self.w1 + self.b1) @ self.w2 + x @ self.linear + self.b2
        logits = np.append(pair, slot.post_features @ self.none)
        logits = logits - logits.max()
        p = np.exp(logits)
        return p / p.sum()

    def to_dict(self) -> dict:
        def r(a):
            return np.round(np.asarray(a, dtype=np.float64), 6).tolist()

        return {
            "features": list(FEATURES),
            "post_features": list(POST_FEATURES),
            "mean": r(self.mean),
            "std": r(self.std),
            "w1": r(self.w1),
            "b1": r(self.b1),
            "w2": r(self.w2),
            "linear": r(self.linear),
            "b2": round(float(self.b2), 6),
            "none": r(self.none),
        }

    @classmethod
    def from_dict(cls, data: dict) -> LinkScorer:
        from argmine.errors import ModelError

        if data.get("features") != list(FEATURES) or data.get("post_features") != list(POST_FEATURES):
            raise ModelError(f"{LINKS_FILE} was trained on other features than this argmine computes: retrain the reply links")
        a = {k: np.asarray(data[k], dtype=np.float32) for k in ("mean", "std", "w1", "b1", "w2", "linear", "none")}
        return cls(b2=float(data["b2"]), **a)


def cross_links(graph) -> dict[str, dict[int, set[int]]]:
    """A gold graph's links across posts: per post, each of its units (index) -> the units it links to."""
    doc = graph.document
    index = {u.id: i for i, u in enumerate(doc.units)}
    out: dict[str, dict[int, set[int]]] = {}
    for r in graph.relations:
        s, t = index[r.source], index[r.target]
        if doc.units[s].post != doc.units[t].post:
            out.setdefault(doc.units[s].post, {}).setdefault(s, set()).add(t)
    return out


def read_links(folder: str | Path) -> dict | None:
    """The stored reply-link scorer of a model folder, or None when it has none."""
    path = Path(folder) / LINKS_FILE
    if not path.is_file():
        return None
    from argmine import jsonio
    from argmine.errors import ModelError

    return jsonio.read_object(path, ModelError)


def write_links(folder: str | Path, data: dict) -> None:
    from argmine.files import write_text

    write_text(str(Path(folder) / LINKS_FILE), json.dumps(data, indent=0, sort_keys=True) + "\n")

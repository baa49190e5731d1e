"""Contextual argument parser: each post is read once, with the post it answers, and every unit picks its head.

As in biaffine dependency parsing of argument structure (Ye & Teufel 2021; Morio et al. 2020), the
units of a window are encoded together by one transformer pass: the thread's title, the units of the
post being answered (cut to a token budget that keeps the units it quotes or resembles most) and the
post's own units. A vector is pooled per unit; an arc scorer rates every (unit, head) pair of the
window, ROOT included, from the two vectors and learned structure (distance, same post, reply, title,
position, quoting, speaker); a label scorer says support or attack. One forward pass per window
replaces one per pair. Decoding (``decoding.decode_parse``) takes the maximum arborescence over the
arc log-probabilities.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from argmine import jsonio
from argmine.decoding.trees import Decision, Related, decode_parse
from argmine.document import RELATION_LABELS, Document, answered_posts, posts_above
from argmine.errors import InputError, ModelError
from argmine.relations.candidates import tfidf

if TYPE_CHECKING:
    from argmine.settings import Settings

PARSER_FILE = "argmine_parser.json"
HEADS_FILE = "argmine_parser.safetensors"
ROOT = -1

# Head kinds (the arc's structural type): what the head is to the dependent (index 4 is reserved).
KIND_ROOT, KIND_SAME, KIND_ANSWERED, KIND_TITLE = range(4)
MAX_DISTANCE = 7  # same-post distances beyond this share a bucket
WHOLE_POST_HEADS = 128  # with whole_posts, at most this many heads from other windows per window (memory stays bounded)
# position buckets of a context head in its own post
POS_ROOT, POS_FIRST, POS_LAST, POS_MIDDLE, POS_ONLY = range(2 * MAX_DISTANCE + 1, 2 * MAX_DISTANCE + 6)


@dataclass(frozen=True)
class ParserConfig:
    """What a parser folder stores beside its weights: window budgets and the head's sizes."""

    max_length: int = 256  # tokens per window
    context_share: float = 0.5  # at most this share of a window for the title and the answered post
    unit_tokens: int = 64  # a unit longer than this is cut (and counted) when pooled
    overlap_tokens: int = 64  # a long post's later windows also see this much of the units before
    dim: int = 256
    feature_dim: int = 16
    dropout: float = 0.1
    whole_posts: bool = False  # a long post's units also score its units in other windows (vectors from their own windows)

    @classmethod
    def from_dict(cls, data: dict) -> ParserConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class Window:
    """One transformer input: heads are context units then the post's own; ``dependents`` get scored."""

    post: str
    heads: list[int]  # unit indices (document order), ROOT not included
    dependents: list[int]
    input_ids: list[int]
    token_type_ids: list[int]
    spans: dict[int, tuple[int, int]]  # unit index -> token range in input_ids
    cut: int = 0  # units cut to unit_tokens


@dataclass
class Parse:
    """The parser's reading of one document: per dependent unit, log-probabilities of its heads (ROOT = -1)
    and, per (dependent, head unit), support/attack probabilities."""

    arcs: dict[int, dict[int, float]] = field(default_factory=dict)
    labels: dict[tuple[int, int], tuple[float, float]] = field(default_factory=dict)
    windows: int = 0
    cut: int = 0
    replies: list | None = None  # answered-post links (decoding.ReplyChoice) when the model has a reply-link scorer
    post_of: list[str] = field(default_factory=list)  # unit index -> post id

    @property
    def pairs_scored(self) -> int:
        return sum(len(h) for h in self.arcs.values())


# ---------------------------------------------------------------- windows and structure


def context_posts(doc: Document) -> dict[str, list[str]]:
    """For each post with units, the earlier posts its units may attach to: the title, the post it
    answers and, in a flat thread, the comment just above."""
    with_units = {u.post for u in doc.units}
    answered = answered_posts(doc)
    above = posts_above(doc, comments_only=False, with_units=True)
    title = next((p.id for p in doc.posts if p.kind == "title" and p.id in with_units), None)
    out: dict[str, list[str]] = {}
    for post in doc.posts:
        if post.id not in with_units:
            continue
        previous = above[post.id]
        ctx = []
        if title and post.id != title:
            ctx.append(title)
        parent = answered.get(post.id)
        if parent in with_units and parent not in ctx:
            ctx.append(parent)
        if doc.flat and post.kind == "comment" and previous and previous not in ctx:
            ctx.append(previous)
        if post.kind == "article" and not ctx and previous and previous != post.id:
            ctx.append(previous)
        out[post.id] = ctx
    return out


def _quoted(doc: Document) -> dict[str, set[str]]:
    """Parent units each post quotes (``quotes.quoted_units``), when the document carries quotes."""
    try:
        from argmine.units.quotes import quoted_units
    except ImportError:
        return {}
    return quoted_units(doc)


def _pick_context(doc, ctx_units: list[int], mine: list[int], budget: int, lengths, quoted: set[str], matrix) -> list[int]:
    """Context units that fit ``budget`` tokens: quoted ones first, then the title, then the most similar
    to the post's own units, then the answered post's first and last; kept in document order."""
    units = doc.units
    if sum(lengths[i] for i in ctx_units) <= budget:
        return ctx_units

    similarity = dict.fromkeys(ctx_units, 0.0)
    if matrix is not None and mine:
        best = (matrix[ctx_units] @ matrix[mine].T).max(axis=1).toarray().ravel()
        similarity = dict(zip(ctx_units, best.tolist()))
    kinds = {p.id: p.kind for p in doc.posts}
    first_last: dict[str, list[int]] = {}
    for i in ctx_units:
        first_last.setdefault(units[i].post, [i, i])[1] = i

    def priority(i: int) -> tuple:
        edge = i in first_last[units[i].post]
        return (units[i].id not in quoted, kinds[units[i].post] != "title", -similarity[i], not edge, i)

    chosen, used = [], 0
    for i in sorted(ctx_units, key=priority):
        if used + lengths[i] <= budget:
            chosen.append(i)
            used += lengths[i]
    return sorted(chosen)


@dataclass
class Checked:
    """A document as ``check`` leaves it for ``parse``: its windows and the parent units each post quotes,
    each built once."""

    doc: Document
    windows: list[Window]
    quoted: dict[str, set[str]]
    matrix: object  # the units' TF-IDF rows (candidates.tfidf)


def build_windows(
    doc: Document, tokenizer, cfg: ParserConfig, quoted: dict[str, set[str]] | None = None, matrix=None
) -> list[Window]:
    """Every unit of the document as a dependent of exactly one window."""
    units = doc.units
    if not units:
        return []
    tokens = tokenizer([u.text for u in units], add_special_tokens=False)["input_ids"]
    cut = sum(len(t) > cfg.unit_tokens for t in tokens)
    tokens = [t[: cfg.unit_tokens] or [tokenizer.unk_token_id] for t in tokens]
    lengths = [len(t) for t in tokens]
    members: dict[str, list[int]] = {}
    for i, u in enumerate(units):
        members.setdefault(u.post, []).append(i)
    ctx_of = context_posts(doc)
    quoted = _quoted(doc) if quoted is None else quoted
    matrix = tfidf([u.text for u in units]) if matrix is None else matrix
    windows = []
    for post_id, mine in members.items():
        ctx_units = [i for p in ctx_of.get(post_id, []) for i in members.get(p, [])]
        ctx_units.sort()
        budget = int((cfg.max_length - 3) * cfg.context_share)
        ctx = _pick_context(doc, ctx_units, mine, budget, lengths, quoted.get(post_id, set()), matrix)
        own_budget = cfg.max_length - 3 - sum(lengths[i] for i in ctx)
        for chunk, before in _chunks(mine, lengths, own_budget, cfg.overlap_tokens):
            windows.append(_window(post_id, ctx, before, chunk, tokens, tokenizer))
    if windows:
        windows[0].cut = cut
    return windows


def _chunks(mine: list[int], lengths: list[int], budget: int, overlap: int):
    """A post's units in consecutive runs that fit ``budget`` tokens, each with the units just before it
    (at most ``overlap`` tokens) as extra heads."""
    start = 0
    while start < len(mine):
        before, used = [], 0
        for i in reversed(mine[:start]):
            if used + lengths[i] > min(overlap, budget // 2):
                break
            before.insert(0, i)
            used += lengths[i]
        end, room = start, budget - used
        while end < len(mine) and (end == start or lengths[mine[end]] <= room):
            room -= lengths[mine[end]]
            end += 1
        yield mine[start:end], before
        start = end


def _window(post_id: str, ctx: list[int], before: list[int], chunk: list[int], tokens, tokenizer) -> Window:
    ids, types, spans = [tokenizer.cls_token_id], [0], {}
    for i in ctx:
        spans[i] = (len(ids), len(ids) + len(tokens[i]))
        ids += tokens[i]
    ids.append(tokenizer.sep_token_id)
    types = [0] * len(ids)
    for i in before + chunk:
        spans[i] = (len(ids), len(ids) + len(tokens[i]))
        ids += tokens[i]
    ids.append(tokenizer.sep_token_id)
    types += [1] * (len(ids) - len(types))
    return Window(post_id, ctx + before + chunk, list(chunk), ids, types, spans)


def arc_features(doc: Document, window: Window, quoted: dict[str, set[str]]) -> list[list[list[int]]]:
    """Per dependent, per head (ROOT first): [kind, distance/position, dependent position, quoted, speaker, post kind]."""
    units = doc.units
    posts = {p.id: p for p in doc.posts}
    size: dict[str, int] = {}
    at: dict[int, int] = {}  # a unit's position in its post
    for i, u in enumerate(units):
        at[i] = size.get(u.post, 0)
        size[u.post] = at[i] + 1
    kinds = {"title": 0, "article": 1, "comment": 2}
    out = []
    for d in window.dependents:
        dep_post = posts[units[d].post]
        k, n = at[d], size[dep_post.id]
        dep_pos = 0 if k == 0 else 3 if k == n - 1 else 1 if k == 1 else 2
        row = [[KIND_ROOT, 2 * MAX_DISTANCE + 1, dep_pos, 0, 0, kinds[dep_post.kind]]]
        for h in window.heads:
            head_post = posts[units[h].post]
            if head_post.id == dep_post.id:
                kind = KIND_SAME
                dist = max(-MAX_DISTANCE, min(MAX_DISTANCE, at[h] - k)) + MAX_DISTANCE
            else:
                # in a flat thread the comment above is as much the answered post as the article
                kind = KIND_TITLE if head_post.kind == "title" else KIND_ANSWERED
                m, j = size[head_post.id], at[h]
                dist = POS_ONLY if m == 1 else POS_FIRST if j == 0 else POS_LAST if j == m - 1 else POS_MIDDLE
            q = int(units[h].id in quoted.get(dep_post.id, ()))
            a, b = dep_post.author, head_post.author
            speaker = 0 if kind == KIND_SAME or not a or not b else 1 if a == b else 2
            row.append([kind, dist, dep_pos, q, speaker, kinds[dep_post.kind]])
        if d in window.heads:  # a unit is never its own head
            row[1 + window.heads.index(d)][0] = -1
        out.append(row)
    return out


# ---------------------------------------------------------------- the network


def build_net(encoder, cfg: ParserConfig):
    """The parser network: a transformer encoder and the arc and label scorers over pooled unit vectors."""
    import torch
    from torch import nn

    hidden = encoder.config.hidden_size
    sizes = [5, 2 * MAX_DISTANCE + 6, 4, 2, 3, 3]

    class Scorers(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.ModuleList(nn.Embedding(n, cfg.feature_dim) for n in sizes)
            feat = cfg.feature_dim * len(sizes)
            self.dep = nn.Sequential(nn.Linear(hidden, cfg.dim), nn.GELU(), nn.Dropout(cfg.dropout))
            self.head = nn.Sequential(nn.Linear(hidden, cfg.dim), nn.GELU(), nn.Dropout(cfg.dropout))
            self.root = nn.Parameter(torch.zeros(hidden))
            self.bilinear = nn.Parameter(torch.zeros(cfg.dim, cfg.dim))
            self.arc = nn.Sequential(nn.Linear(3 * cfg.dim + feat, cfg.dim), nn.GELU(), nn.Linear(cfg.dim, 1))
            self.label = nn.Sequential(
                nn.Linear(3 * cfg.dim + feat, cfg.dim), nn.GELU(), nn.Linear(cfg.dim, len(RELATION_LABELS))
            )

        def forward(self, deps, heads, feats):
            """deps (n, hidden), heads (m, hidden; ROOT added first), feats (n, m + 1, 6) -> arc logits, label logits."""
            d = self.dep(deps)
            h = self.head(torch.cat([self.root[None], heads], 0))
            n, m = d.shape[0], h.shape[0]
            dd, hh = d[:, None].expand(n, m, -1), h[None].expand(n, m, -1)
            f = torch.cat([emb(feats[..., k].clamp(min=0)) for k, emb in enumerate(self.features)], -1)
            x = torch.cat([dd, hh, dd * hh, f], -1)
            arc = self.arc(x).squeeze(-1) + torch.einsum("nd,de,me->nm", d, self.bilinear, h)
            arc = arc.masked_fill(feats[..., 0] < 0, -1e4)
            return arc, self.label(x)

    return encoder, Scorers()


def pool_units(hidden, window: Window, index: int, units: list[int]):
    """Mean of each unit's token vectors in window ``index`` of the batch."""
    import torch

    return torch.stack([hidden[index, s:e].mean(0) for s, e in (window.spans[u] for u in units)])


def encode(encoder, windows: list[Window], device):
    """One padded batch through the encoder: (batch, tokens, hidden)."""
    import torch

    width = max(len(w.input_ids) for w in windows)
    ids = torch.zeros((len(windows), width), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for k, w in enumerate(windows):
        ids[k, : len(w.input_ids)] = torch.tensor(w.input_ids)
        types[k, : len(w.token_type_ids)] = torch.tensor(w.token_type_ids)
        mask[k, : len(w.input_ids)] = 1
    out = encoder(input_ids=ids.to(device), token_type_ids=types.to(device), attention_mask=mask.to(device))
    return out.last_hidden_state


def score_window(scorers, hidden, k: int, window: Window, feats):
    """Arc logits (dependents x [ROOT, heads]) and label logits for window ``k`` of an encoded batch."""
    import torch

    deps = pool_units(hidden, window, k, window.dependents)
    heads = pool_units(hidden, window, k, window.heads) if window.heads else hidden.new_zeros((0, hidden.shape[-1]))
    return scorers(deps, heads, torch.tensor(feats, device=hidden.device))


# ---------------------------------------------------------------- the model class

GPU_TOKENS_PER_BATCH = 32768  # 128 full windows of 256 tokens: a few hundred MB of fp16 activations
CPU_TOKENS_PER_BATCH = 2048  # 8 full windows: less padding than a fixed count (seed 002 warm: 0.70 -> 0.57 s)


class ArgumentParser:
    """argmine's contextual parser: load from a folder, ``parse`` documents, decisions stored beside it."""

    kind = "parser"

    def __init__(self, encoder, scorers, tokenizer, cfg: ParserConfig, name: str, device, stored: dict | None = None):
        self.encoder = encoder.to(device).eval()
        self.scorers = scorers.to(device).eval()
        self.tokenizer = tokenizer
        self.cfg = cfg
        self.name = name
        self.device = device
        self.stored = stored or {}  # argmine_parser.json: config, thresholds chosen on held-out data
        self.quantized: str | None = None
        self.links = None  # replies.LinkScorer: the answered-post link, when the folder stores one
        self.sentences = None  # replies.SentenceEncoder for the link's similarity features, loaded when first needed
        self.folder: Path | None = None  # where it was loaded from
        self.max_tokens: int | None = CPU_TOKENS_PER_BATCH  # padded tokens per encoder batch (``batches``)

    @property
    def max_length(self) -> int:
        return self.cfg.max_length

    @classmethod
    def load(cls, folder: str | Path, device: str = "auto", quantize: str = "none", training: bool = False) -> ArgumentParser:
        """A parser folder: the encoder (HF safetensors + tokenizer), the scorers and ``argmine_parser.json``.
        On a GPU the encoder runs in fp16 unless it is loaded for ``training``."""
        from safetensors.torch import load_file

        from argmine.devices import resolve_device
        from argmine.relations.encoder import Encoder, Tokenizer
        from argmine.relations.hf import quantize_model

        folder = Path(folder)
        torch_device = resolve_device(device)
        stored = read_stored(folder)
        try:
            cfg = ParserConfig.from_dict(stored.get("config", {}))
            tokenizer = Tokenizer(folder)
            encoder, scorers = build_net(Encoder.from_folder(folder), cfg)
            scorers.load_state_dict({k: v.float() for k, v in load_file(str(folder / HEADS_FILE)).items()})
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"cannot load parser {folder} ({first})") from None
        instance = cls(encoder, scorers, tokenizer, cfg, str(folder), torch_device, stored)
        instance.links = _read_links(folder)
        instance.folder = folder
        instance.encoder = quantize_model(instance.encoder, quantize, torch_device)
        instance.quantized = None if quantize == "none" else quantize
        if torch_device.type == "cuda" and not training:  # fp16 encoder (the scorers read it in float32), batches by tokens
            instance.encoder.half()
            instance.max_tokens = GPU_TOKENS_PER_BATCH
        return instance

    def save(self, folder: str | Path, fp16: bool = True) -> None:
        """Write the encoder, tokenizer, scorers and what the parser stores (fp16 weights: half the size)."""
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        encoder = self.encoder.half() if fp16 else self.encoder
        encoder.save_pretrained(str(folder), safe_serialization=True)
        self.encoder.float()
        self.tokenizer.save_pretrained(str(folder))
        state = {
            k: (v.half() if fp16 and v.is_floating_point() else v).contiguous() for k, v in self.scorers.state_dict().items()
        }
        save_file(state, str(folder / HEADS_FILE))
        _write_stored_file(folder, {**self.stored, "config": self.cfg.__dict__})
        if self.links is not None:
            from argmine.relations.replies import write_links

            write_links(folder, self.links.to_dict())

    def parse(
        self, docs: list[Document | Checked], batch_size: int = 16, show_progress: bool = False, links: bool = True
    ) -> list[Parse]:
        """Arc log-probabilities and label probabilities for every unit of every document (or of what
        ``check`` made of it), windows batched by length; with ``links`` (and a reply-link scorer) each
        reply's answered-post link too."""
        import torch

        from argmine.relations.encoder import batches

        checked = [d if isinstance(d, Checked) else self.windows_of(d) for d in docs]
        docs = [c.doc for c in checked]
        jobs = [(n, w, arc_features(c.doc, w, c.quoted)) for n, c in enumerate(checked) for w in c.windows]
        parses = [Parse(post_of=[u.post for u in doc.units]) for doc in docs]
        order = sorted(range(len(jobs)), key=lambda j: len(jobs[j][1].input_ids))
        split = _split_posts(jobs) if self.cfg.whole_posts else set()
        vectors, pending = {}, []  # posts read in several windows: each unit's vector, the windows' logits
        progress = _progress(len(jobs), show_progress)
        try:
            with torch.inference_mode():
                for group in batches([len(jobs[j][1].input_ids) for j in order], batch_size, self.max_tokens):
                    batch = [jobs[order[k]] for k in group]
                    hidden = encode(self.encoder, [w for _, w, _ in batch], self.device).float()
                    for k, (n, window, feats) in enumerate(batch):
                        arc, label = score_window(self.scorers, hidden, k, window, feats)
                        if (n, window.post) in split:
                            pending.append((n, window, arc, label))
                            own = pool_units(hidden, window, k, window.dependents)
                            vectors.update(((n, d), v) for d, v in zip(window.dependents, own))
                        else:
                            _store(parses[n], window, torch.log_softmax(arc, -1), torch.softmax(label, -1))
                    progress.update(len(batch))
                for n, window, arc, label in pending:
                    window, arc, label = self._whole_post(checked[n], n, window, arc, label, vectors)
                    _store(parses[n], window, torch.log_softmax(arc, -1), torch.softmax(label, -1))
        finally:
            progress.close()
        for n, window, _ in jobs:
            parses[n].cut += window.cut
        if links and self.links is not None:
            # every document's units in one encoder pass (sorted by length there), then each document's slots
            embeddings = self.sentence_encoder()([u.text for doc in docs for u in doc.units])
            start = 0
            for item, parse in zip(checked, parses):
                rows = embeddings[start : start + len(item.doc.units)]
                start += len(item.doc.units)
                set_replies(parse, self.score_links(item, parse, rows))
        return parses

    def _whole_post(self, checked: Checked, n: int, window: Window, arc, label, vectors: dict):
        """A window of a post read in several: its dependents also score the post's units in the other
        windows (the nearest ``WHOLE_POST_HEADS``), each unit's vector taken from its own window."""
        import torch

        doc = checked.doc
        mine = set(window.heads)
        others = [i for i, u in enumerate(doc.units) if u.post == window.post and i not in mine]
        if not others:
            return window, arc, label
        middle = window.dependents[len(window.dependents) // 2]
        others = sorted(sorted(others, key=lambda i: abs(i - middle))[:WHOLE_POST_HEADS])
        wider = replace(window, heads=others)
        feats = torch.tensor(arc_features(doc, wider, checked.quoted), device=arc.device)
        deps = torch.stack([vectors[(n, d)] for d in window.dependents])
        heads = torch.stack([vectors[(n, h)] for h in others])
        arc2, label2 = self.scorers(deps, heads, feats)
        wider = replace(window, heads=window.heads + others)
        return wider, torch.cat([arc, arc2[:, 1:]], 1), torch.cat([label, label2[:, 1:]], 1)

    def score_links(self, doc: Document | Checked, parse: Parse, embeddings=None) -> list[tuple]:
        """Each reply's slot (``replies.Slot``) with its link probabilities (every pair, then "no link");
        ``embeddings``: the units' sentence embeddings when already computed."""
        from argmine.relations.replies import document_slots

        checked = doc if isinstance(doc, Checked) else self.windows_of(doc)
        slots = document_slots(checked.doc, self.sentence_encoder(), parse, embeddings, checked.quoted, checked.matrix)
        return [(slot, self.links.probabilities(slot)) for slot in slots]

    def sentence_encoder(self):
        """The sentence encoder named in ``argmine_links.json``: ``self`` (this parser's encoder, each unit
        read alone), ``minilm`` (the pretrained all-MiniLM-L6-v2) or a folder beside the model."""
        if self.sentences is None:
            from argmine.relations.replies import SentenceEncoder

            name = self.stored.get("links_encoder", "self")
            if name == "self":
                self.sentences = SentenceEncoder(self.encoder, self.tokenizer, self.device)
            else:
                here = Path(self.folder or ".") / name
                folder = here if here.is_dir() else name
                self.sentences = SentenceEncoder.load(folder, self.device)
        return self.sentences

    # ---- the relation-model contract (see pipeline.Model)

    def decision(self, settings: Settings) -> Decision:
        """Thresholds (the settings', else those chosen at training time on held-out data), resolved once."""
        return Decision.resolve(self.stored, settings.relations, settings.decoding)

    @staticmethod
    def least_work(doc: Document, settings: Settings) -> int:
        """A floor under what ``check`` counts, known from the unit count alone (no tokenizer, no weights): each
        unit is a dependent of one window whose heads include itself, and ROOT is scored too."""
        return 2 * len(doc.units)

    def windows_of(self, doc: Document) -> Checked:
        """``doc``'s windows and quoted units, built once and handed to ``parse``."""
        quoted, matrix = _quoted(doc), tfidf([u.text for u in doc.units]) if doc.units else None
        return Checked(doc, build_windows(doc, self.tokenizer, self.cfg, quoted, matrix), quoted, matrix)

    def check(self, doc: Document, settings: Settings) -> Checked:
        """Refuse a thread whose (unit, head) pairs exceed the work limit, before any model work; what it
        built (windows, quotes) is what ``relate`` reads."""
        checked = self.windows_of(doc)
        needed = sum(len(w.dependents) * (len(w.heads) + 1) for w in checked.windows)
        if needed > settings.candidates.max_pairs:
            raise InputError(
                f"{doc.id}: {len(doc.units)} units need {needed} (unit, head) scores, over the work limit of "
                f"{settings.candidates.max_pairs} (candidates.max_pairs): raise it in a --config file to go on, or split the thread"
            )
        return checked

    def relate(
        self, checked: list[Checked], settings: Settings, decision: Decision, show_progress: bool = False
    ) -> Iterator[Related]:
        """One pass over every checked document's windows, then each document's maximum arborescence,
        yielded as soon as it is decoded."""
        parses = self.parse(checked, settings.model.batch_size, show_progress)
        for c, p in zip(checked, parses):
            yield Related(decode_parse(c.doc, p, decision), p.pairs_scored, truncated_units=p.cut)

    def describe(self) -> dict:
        """What the graph records about the model."""
        info = {
            "name": self.name,
            "kind": "parser",
            "labels": {label: label for label in RELATION_LABELS},
            "max_length": self.cfg.max_length,
            "unit_tokens": self.cfg.unit_tokens,
            "whole_posts": self.cfg.whole_posts,
        }
        if self.quantized:
            info["quantized"] = self.quantized
        return info


least_work = ArgumentParser.least_work  # the model frame's work floor (relations.Kind.least_work)


def open_model(name: str, device: str, max_length: int, quantize: str) -> ArgumentParser:
    """The model frame's loader (``argmine.relations.KINDS``); a parser's window is its own (``max_length`` unused)."""
    return ArgumentParser.load(name, device, quantize)


def set_replies(parse: Parse, scored: list[tuple]) -> None:
    """Each reply's answered-post link from its scored slot: "is there a link" is the probability off "no
    link", "which one" the best (own unit, candidate unit) pair; the decision's reply threshold then keeps
    or drops it."""
    from argmine.decoding.trees import ReplyChoice

    parse.replies = []
    for slot, p in scored:
        best, n = int(p[:-1].argmax()), len(slot.targets)
        parse.replies.append(ReplyChoice(slot.post, slot.sources[best // n], slot.targets[best % n], float(1.0 - p[-1])))


def _read_links(folder: Path):
    from argmine.relations.replies import LinkScorer, read_links

    data = read_links(folder)
    return None if data is None else LinkScorer.from_dict(data)


def read_stored(folder: str | Path) -> dict:
    """What a parser folder stores beside its weights (``argmine_parser.json``: config, thresholds, recipe)."""
    return jsonio.read_object(Path(folder) / PARSER_FILE, ModelError)


def write_stored(folder: str | Path, updates: dict) -> None:
    """Merge ``updates`` into the parser folder's ``argmine_parser.json`` (atomically)."""
    _write_stored_file(folder, {**read_stored(folder), **updates})


def _write_stored_file(folder: str | Path, stored: dict) -> None:
    from argmine.files import write_text

    write_text(str(Path(folder) / PARSER_FILE), json.dumps(stored, indent=1, sort_keys=True) + "\n")


def _store(parse: Parse, window: Window, logp, probs) -> None:
    logp, probs = logp.tolist(), probs.tolist()
    parse.windows += 1
    for r, d in enumerate(window.dependents):
        arcs = {ROOT: logp[r][0]}
        for c, h in enumerate(window.heads):
            if h != d and logp[r][c + 1] > -1e3:
                arcs[h] = logp[r][c + 1]
                parse.labels[(d, h)] = (probs[r][c + 1][0], probs[r][c + 1][1])
        parse.arcs[d] = arcs


def _split_posts(jobs: list) -> set[tuple[int, str]]:
    """(document, post) pairs read in more than one window."""
    seen: dict[tuple[int, str], int] = {}
    for n, window, _ in jobs:
        seen[(n, window.post)] = seen.get((n, window.post), 0) + 1
    return {key for key, count in seen.items() if count > 1}


def _progress(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="parsing windows", unit="window", disable=not enabled or total < 200, leave=False)

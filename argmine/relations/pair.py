"""Relation model: any Hugging Face sequence-classification checkpoint as a support/attack/none pair scorer.

One class (like sentence-transformers' ``CrossEncoder``) loads the checkpoint, maps its
``config.id2label`` by name onto argmine's labels, and scores (premise, hypothesis) pairs in
length-sorted batches. The source unit is the premise: entailment means "source supports target".
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from argmine import jsonio
from argmine.decoding.trees import Decision, Related, decode_trees
from argmine.devices import resolve_device
from argmine.document import Document, PairScores
from argmine.errors import InputError, ModelError
from argmine.relations import model_folder
from argmine.relations.candidates import candidate_pairs, pair_contexts, tfidf
from argmine.relations.hf import quantize_model, quiet_transformers
from argmine.relations.scorer import Scorer

if TYPE_CHECKING:
    import torch

    from argmine.settings import Settings

PAIR_CLASSES = ("support", "attack", "none")  # what a pair model predicts for (source, target)

# Checkpoint label names (lower-cased) -> argmine label.
LABEL_NAMES = {
    "entailment": "support",
    "entail": "support",
    "support": "support",
    "supports": "support",
    "contradiction": "attack",
    "contradict": "attack",
    "attack": "attack",
    "attacks": "attack",
    "neutral": "none",
    "none": "none",
    "not_entailment": "none",
    "non-entailment": "none",
    "no_relation": "none",
}

PROGRESS_MIN_PAIRS = 1000
TOKENIZE_CHUNK = 8192  # pairs tokenized at once (their token lists are held until scored)
POST_CHARS_PER_TOKEN = 16  # a whole post is cut to this many characters per window token before tokenizing

STORED_FILE = "argmine_relation.json"
# "embedded" names the relation model shipped inside the package.


def mark(markers: dict | None, context: str | None, text: str) -> str:
    """Prefix the source text with its context marker (no-op for checkpoints without markers)."""
    if not markers or context not in markers:
        return text
    return f"{markers[context]} {text}"


def read_stored(folder: str | Path) -> dict:
    """What an argmine pair-model folder stores beside its weights (context markers, thresholds), or {} for
    plain checkpoints."""
    path = Path(folder) / STORED_FILE
    if not path.is_file():
        return {}
    return jsonio.read_object(path, ModelError)


def write_stored(folder: str | Path, updates: dict) -> None:
    """Merge ``updates`` into the model folder's ``argmine_relation.json`` (atomically)."""
    from argmine.files import write_text

    data = read_stored(folder)
    data.update(updates)
    write_text(str(Path(folder) / STORED_FILE), json.dumps(data, indent=1, sort_keys=True) + "\n")


class PairsChecked(NamedTuple):
    """A document as ``check`` leaves it for ``relate``: its units' TF-IDF and candidate pairs, built once."""

    doc: Document
    matrix: object
    pairs: list[tuple[int, int]]


@dataclass(frozen=True)
class Scored:
    """One call's results: each pair's probabilities, and how many pairs exceeded the model window."""

    scores: list[PairScores]
    cut: list[bool]  # per pair: was it cut to the window?

    @property
    def truncated(self) -> int:
        return sum(self.cut)


def map_labels(id2label: dict) -> dict[int, str]:
    """Map a checkpoint's ``id2label`` onto support/attack/none by name, or refuse it."""
    mapping: dict[int, str] = {}
    for index, name in id2label.items():
        label = LABEL_NAMES.get(str(name).strip().lower())
        if label is not None:
            mapping[int(index)] = label
    names = ", ".join(str(id2label[k]) for k in sorted(id2label, key=int))
    if len(mapping) != len(id2label) or "support" not in mapping.values():
        raise ModelError(
            f"model labels [{names}] do not map onto support/attack/none "
            "(expected entailment/contradiction/neutral, support/attack/none or entailment/not_entailment)"
        )
    if len(set(mapping.values())) != len(mapping):
        raise ModelError(f"model labels [{names}] map two outputs onto one argmine label")
    return mapping


class RelationModel:
    """A pair classifier scoring how one unit relates to another."""

    kind = "pair"

    def __init__(self, model, tokenizer, name: str, device: torch.device, max_length: int = 256):
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.name = name
        self.device = device
        self.max_length = min(max_length, _model_window(model, tokenizer))
        self.id2label = {int(k): str(v) for k, v in model.config.id2label.items()}
        self.label_map = map_labels(self.id2label)
        self.scorer: Scorer | None = None  # second stage (argmine's own models): see scorer.py
        self.stored: dict = {}  # the folder's argmine_relation.json: context markers, thresholds
        self.quantized: str | None = None  # "int8" when loaded with dynamic int8 weights

    @classmethod
    def load(
        cls,
        name_or_path: str,
        device: str = "auto",
        max_length: int = 256,
        quiet: bool = True,
        second_stage: bool = True,
        quantize: str = "none",
    ) -> RelationModel:
        """Load a checkpoint (hub id or folder): safetensors only, no remote code. A folder's own second
        stage, context markers and thresholds come with it (``second_stage=False`` leaves the scorer out)."""
        import torch
        from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

        if quiet:
            quiet_transformers()
        torch_device = resolve_device(device)
        requested = name_or_path
        folder = model_folder(name_or_path)
        local = folder is not None
        if local:
            name_or_path = str(folder)
        # Check the labels before loading weights: a checkpoint we cannot map is refused fast.
        config = _load_step(AutoConfig.from_pretrained, name_or_path, local, trust_remote_code=False)
        map_labels(getattr(config, "id2label", {}) or {})
        tokenizer = _load_step(AutoTokenizer.from_pretrained, name_or_path, local, trust_remote_code=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = _load_step(
                AutoModelForSequenceClassification.from_pretrained,
                name_or_path,
                local,
                use_safetensors=True,
                trust_remote_code=False,
                dtype=torch.float32,  # fp16 checkpoints are upcast: CPU kernels want float32
            )
        model = quantize_model(model, quantize, torch_device)
        instance = cls(model, tokenizer, requested, torch_device, max_length)
        instance.quantized = quantize if quantize != "none" else None
        if local:
            instance.scorer = Scorer.load(name_or_path) if second_stage else None
            instance.stored = read_stored(name_or_path)
            # pairs are cut where the model was trained to read them
            instance.max_length = min(instance.max_length, int(instance.stored.get("max_length", instance.max_length)))
        return instance

    @property
    def markers(self) -> dict | None:
        return self.stored.get("context_markers")

    @property
    def threshold(self) -> float | None:
        """The relation threshold (inside a post) chosen at training time on held-out data, if stored."""
        value = self.stored.get("threshold")
        return float(value) if value is not None else None

    def predict(
        self,
        pairs: list[tuple[str, str]],
        batch_size: int = 32,
        show_progress: bool = False,
        contexts: list[str] | None = None,
    ) -> list[PairScores]:
        """Score (premise, hypothesis) pairs; order of results matches ``pairs``.

        ``contexts`` ("post" or "reply" per pair) marks where the premise sits, for models trained with markers."""
        return self.score(pairs, batch_size, show_progress, contexts).scores

    def score(
        self,
        pairs: list[tuple[str, str]],
        batch_size: int = 32,
        show_progress: bool = False,
        contexts: list[str] | None = None,
    ) -> Scored:
        """``predict``, also counting the pairs cut to the model window."""
        import torch

        if not pairs:
            return Scored([], [])
        if contexts is not None and self.markers:
            pairs = [(mark(self.markers, c, a), b) for (a, b), c in zip(pairs, contexts)]
        probs: list[list[float]] = []
        cut: list[bool] = []
        progress = _progress(len(pairs), show_progress)
        try:
            with torch.inference_mode():
                for lo in range(0, len(pairs), TOKENIZE_CHUNK):  # token lists of a chunk at a time: memory stays bounded
                    chunk_probs, chunk_cut = self._score_chunk(pairs[lo : lo + TOKENIZE_CHUNK], batch_size, progress)
                    probs += chunk_probs
                    cut += chunk_cut
        finally:
            progress.close()
        return Scored([self._to_scores(p) for p in probs], cut)

    def _score_chunk(self, pairs: list[tuple[str, str]], batch_size: int, progress) -> tuple[list[list[float]], list[bool]]:
        """Tokenize once, then batch by token count (not characters): pairs of a batch pad to nearly the
        same length. Only pairs over the window are cut (and flagged)."""
        import torch

        enc = self.tokenizer([a for a, _ in pairs], [b for _, b in pairs], truncation=False)
        cut = [len(x) > self.max_length for x in enc["input_ids"]]
        if any(cut):
            over = [i for i, flag in enumerate(cut) if flag]
            short = self.tokenizer(
                [pairs[i][0] for i in over], [pairs[i][1] for i in over], truncation="longest_first", max_length=self.max_length
            )
            for k, i in enumerate(over):
                for key in enc:
                    enc[key][i] = short[key][k]
        order = sorted(range(len(pairs)), key=lambda i: (len(enc["input_ids"][i]), i))
        probs: list[list[float] | None] = [None] * len(pairs)
        for lo in range(0, len(order), batch_size):
            batch = order[lo : lo + batch_size]
            inputs = self.tokenizer.pad([{key: enc[key][i] for key in enc} for i in batch], return_tensors="pt").to(self.device)
            logits = self.model(**inputs).logits.float()
            for i, row in zip(batch, torch.softmax(logits, dim=-1).tolist()):
                probs[i] = row
            progress.update(len(batch))
        return probs, cut

    def _to_scores(self, row: list[float]) -> PairScores:
        out = {label: 0.0 for label in PAIR_CLASSES}
        for index, p in enumerate(row):
            out[self.label_map[index]] += p
        return PairScores(**out)

    # ---- the relation-model contract (see pipeline.Model)

    def decision(self, settings: Settings) -> Decision:
        """Thresholds (the settings', else those stored with the model) and decoding limits, resolved once."""
        return Decision.resolve(self.stored, settings.relations, settings.decoding)

    @staticmethod
    def least_work(doc: Document, settings: Settings) -> int:
        """A floor under the candidate pairs ``check`` counts, from each post's unit count alone (no TF-IDF, no
        weights): the pairs of units at most ``candidates.window`` apart inside a post, both ways."""
        w = settings.candidates.window
        per_post = Counter(u.post for u in doc.units).values()
        return sum(2 * (m * (m - 1) // 2 if m - 1 <= w else w * (w + 1) // 2 + (m - 1 - w) * w) for m in per_post)

    def check(self, doc: Document, settings: Settings) -> PairsChecked:
        """Refuse a thread whose candidate pairs exceed the work limit, before any model work; its TF-IDF
        and candidate pairs are what ``relate`` scores."""
        matrix = tfidf([u.text for u in doc.units])
        pairs = candidate_pairs(doc, settings.candidates, matrix)
        if len(pairs) > settings.candidates.max_pairs:
            raise InputError(
                f"{doc.id}: {len(doc.units)} units need {len(pairs)} pair scores, over the work limit of "
                f"{settings.candidates.max_pairs} (candidates.max_pairs; ~150 pairs/s on 2 CPU cores): "
                "raise it in a --config file to go on, or split the thread"
            )
        return PairsChecked(doc, matrix, pairs)

    def relate(
        self, checked: list[PairsChecked], settings: Settings, decision: Decision, show_progress: bool = False
    ) -> list[Related]:
        """One pair-model pass over every checked document's pairs -> second stage and trees each."""
        staged = self.scorer is not None
        raw = pair_model_scores(
            [c.doc for c in checked], [c.pairs for c in checked], self, settings.model.batch_size, show_progress, staged
        )
        out = []
        for (doc, matrix, pairs), scored in zip(checked, raw):
            scores = scored.units
            if staged and pairs:
                scores = self.scorer.combine(self.scorer.features_of(doc, pairs, dict(zip(pairs, scores)), matrix, scored.posts))
            out.append(Related(decode_trees(doc, pairs, scores, decision), len(pairs), truncated_pairs=scored.truncated))
        return out

    def save(self, folder: str | Path) -> None:
        """Write the checkpoint, its tokenizer and what argmine stores beside it (second stage, thresholds)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(str(folder), safe_serialization=True)
        self.tokenizer.save_pretrained(str(folder))
        if self.stored:
            write_stored(folder, self.stored)
        if self.scorer is not None:
            self.scorer.save(folder)

    def describe(self) -> dict:
        """What the graph records about the model."""
        info = {
            "name": self.name,
            "labels": {self.id2label[i]: self.label_map[i] for i in sorted(self.id2label)},
            "max_length": self.max_length,
        }
        if self.scorer is not None:
            info["second_stage"] = "argmine_scorer.json"
        if self.quantized:
            info["quantized"] = self.quantized
        return info


least_work = RelationModel.least_work  # the model frame's work floor (relations.Kind.least_work)


def open_model(name: str, device: str, max_length: int, quantize: str) -> RelationModel:
    """The model frame's loader (``argmine.relations.KINDS``): a pair-model folder or a hub id."""
    return RelationModel.load(name, device, max_length, quiet=True, quantize=quantize)


def post_pairs(doc: Document, pairs: list[tuple[int, int]]) -> list[tuple[str, str]]:
    """The (source post, target post) pairs behind the candidate reply pairs."""
    units = doc.units
    return sorted({(units[a].post, units[b].post) for a, b in pairs if units[a].post != units[b].post})


@dataclass
class PairModelScores:
    """The pair model alone: each candidate unit pair, and each (source post, target post) as wholes."""

    units: list[PairScores]
    posts: dict[tuple[str, str], PairScores]
    truncated: int  # unit pairs cut to the model window (whole posts are read from their start by design)


def pair_model_scores(
    docs: list[Document],
    pairs: list[list[tuple[int, int]]],
    model: RelationModel,
    batch_size: int,
    show_progress: bool = False,
    whole_posts: bool = True,
) -> list[PairModelScores]:
    """For each document, its candidate unit pairs (with their post/reply context) and, for reply pairs,
    the whole source post against the whole target post: one model pass over the unit pairs of all the
    documents and one over their post pairs, so batches fill up however short each thread is."""
    unit_texts, contexts, post_texts, post_keys = [], [], [], []
    for doc, mine in zip(docs, pairs):
        unit_texts += [(doc.units[a].text, doc.units[b].text) for a, b in mine]
        contexts += pair_contexts(doc, mine)
        keys = post_pairs(doc, mine) if whole_posts else []
        # a post longer than the window is read from its start anyway: cut it before the tokenizer sees it all
        limit = POST_CHARS_PER_TOKEN * model.max_length
        spans = {p.id: doc.text[p.start : min(p.end, p.start + limit)] for p in doc.posts}
        post_texts += [(spans[a], spans[b]) for a, b in keys]
        post_keys.append(keys)
    scored = model.score(unit_texts, batch_size=batch_size, show_progress=show_progress, contexts=contexts)
    post_scored = model.predict(post_texts, batch_size, contexts=["reply"] * len(post_texts))
    out, at, post_at = [], 0, 0
    for mine, keys in zip(pairs, post_keys):
        end, post_end = at + len(mine), post_at + len(keys)
        posts = dict(zip(keys, post_scored[post_at:post_end]))
        out.append(PairModelScores(scored.scores[at:end], posts, sum(scored.cut[at:end])))
        at, post_at = end, post_end
    return out


def _model_window(model, tokenizer) -> int:
    limits = [getattr(model.config, "max_position_embeddings", None), getattr(tokenizer, "model_max_length", None)]
    limits = [int(x) for x in limits if isinstance(x, int) and 0 < x < 1_000_000]
    # RoBERTa-style models reserve two positions for padding offsets.
    return min(limits) - (2 if getattr(model.config, "model_type", "") in ("roberta", "xlm-roberta") else 0) if limits else 512


def _load_step(loader, name: str, local: bool, **kwargs):
    """Call a from_pretrained loader: cache first for hub ids, then the hub; one-line errors."""
    try:
        if local:
            return loader(name, **kwargs)
        try:
            return loader(name, local_files_only=True, **kwargs)
        except OSError:
            if os.environ.get("HF_HUB_OFFLINE") == "1":
                raise
            logging.getLogger("huggingface_hub").setLevel(logging.CRITICAL)
            return loader(name, **kwargs)
    except ModelError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"cannot load model {name!r} ({first}); download it elsewhere and pass its folder with --model PATH"
        ) from None


def _progress(total: int, enabled: bool):
    from tqdm.auto import tqdm

    # Only long runs get a bar: a few hundred pairs finish before it would say anything useful.
    return tqdm(total=total, desc="scoring pairs", unit="pair", disable=not enabled or total < PROGRESS_MIN_PAIRS, leave=False)

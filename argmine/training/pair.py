"""Training: fine-tune a support/attack/none pair classifier from any HF encoder, then fit the second stage.

Stage 1 is a cross-encoder over (source, target) unit texts. Stage 2 (``scorer.py``) combines its
probabilities with structure the pair model cannot see, fitted on documents held out from stage 1.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from argmine import jsonio
from argmine.devices import resolve_device
from argmine.errors import InputError, ModelError
from argmine.evaluation import corpora
from argmine.evaluation.corpora import Pair
from argmine.files import write_text
from argmine.graph import Graph
from argmine.relations.hf import base_model_path, quiet_transformers
from argmine.relations.pair import PAIR_CLASSES, mark, write_stored
from argmine.settings import Settings, TrainingRecipe
from argmine.training.cards import write_model_card
from argmine.training.stage2 import fit_second_stage


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


def fine_tune(pairs: list[Pair], base: str, out_dir: Path, recipe: TrainingRecipe, device: torch.device, log=print) -> dict:
    """Fine-tune ``base`` as a 3-way pair classifier through the training loop (``training.loop``); save
    an HF folder (safetensors, tokenizer, id2label)."""
    from transformers import AutoTokenizer, get_linear_schedule_with_warmup

    from argmine.training.loop import CHECKPOINT, Run, train_epochs

    quiet_transformers()
    set_seed(recipe.seed)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = _pair_classifier(base, device)
    data, collate, plan = _pair_batches(pairs, tokenizer, recipe)
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate, weight_decay=recipe.weight_decay)
    steps = sum(len(b) for b in plan)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(recipe.warmup * steps), steps)
    model.train()
    step = _pair_step(model, data, collate, _label_weighted_loss(pairs, device), device)
    run = Run(
        {"model": model}, list(model.parameters()), optimizer, scheduler, plan, step, recipe.seed, recipe.max_grad_norm, device
    )
    fingerprint = json.dumps(recipe.model_dump(exclude={"data"}), sort_keys=True, default=str) + f"|{len(pairs)}"
    started = time.time()
    history = train_epochs(run, out_dir, fingerprint, log)
    _save_pair_model(model, tokenizer, out_dir, recipe)
    (out_dir / CHECKPOINT).unlink(missing_ok=True)
    return {
        "steps": steps,
        "final_loss": history[-1]["pair_loss"] if history else None,
        "history": history,
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


def _pair_batches(pairs: list[Pair], tokenizer, recipe: TrainingRecipe):
    """The tokenized pairs, their collator, and each epoch's batches of pairs of similar length."""
    from datasets import Dataset
    from transformers import DataCollatorWithPadding

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
    lengths = [len(ids) for ids in data["input_ids"]]
    plan = [length_batches(lengths, recipe.batch_size, recipe.seed + e, recipe.length_pool) for e in range(recipe.epochs)]
    return data.with_format("torch"), DataCollatorWithPadding(tokenizer), plan


def _label_weighted_loss(pairs: list[Pair], device: torch.device):
    """Cross-entropy weighing each label by inverse frequency (so the rarer attack is not drowned)."""
    counts = Counter(p.label for p in pairs)
    weights = torch.tensor([len(pairs) / (len(PAIR_CLASSES) * max(1, counts[label])) for label in PAIR_CLASSES], device=device)
    return torch.nn.CrossEntropyLoss(weight=weights)


def _pair_step(model, data, collate, loss_fn, device):
    """One batch of pairs: its loss, and that loss to report."""

    def step(batch: list[int]):
        inputs = {k: v.to(device) for k, v in collate([data[i] for i in batch]).items()}
        labels = inputs.pop("labels")
        loss = loss_fn(model(**inputs).logits, labels)
        return loss, {"pair": (loss.item(), 1)}

    return step


def _save_pair_model(model, tokenizer, out_dir: Path, recipe: TrainingRecipe) -> None:
    """The trained model as an HF folder (fp16 if the recipe says so) with its relation settings."""
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    if recipe.fp16_weights:
        model = model.half()
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    write_stored(out_dir, {"context_markers": dict(recipe.context_markers), "max_length": recipe.max_length})


def to_fp16(folder: Path) -> None:
    """Store a checkpoint's floating-point weights as fp16 (half the size; loading upcasts on CPU)."""
    from safetensors.torch import load_file, save_file

    path = Path(folder) / "model.safetensors"
    tensors = load_file(path)
    save_file({k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}, path, metadata={"format": "pt"})


def train_pair(
    output: str | Path,
    recipe: TrainingRecipe,
    settings: Settings,
    *,
    pair_model: str | Path | None = None,
    sample: int | None = None,
    device: str | None = None,
    log=print,
) -> Path:
    """Fine-tune a support/attack/none pair model by ``recipe`` (``configs/train.yaml``) and fit its second
    stage; ``pair_model`` skips fine-tuning and fits only the second stage on a copy of that checkpoint."""
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

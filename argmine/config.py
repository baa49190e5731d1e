"""Settings: configs/default.yaml, merged with a user file and CLI overrides."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from argmine.errors import ConfigError

_PACKAGE_DIR = Path(__file__).resolve().parent


def config_dir() -> Path:
    """The shipped configs: inside the wheel (argmine/configs) or the source checkout (configs/)."""
    for candidate in (_PACKAGE_DIR / "configs", _PACKAGE_DIR.parent / "configs"):
        if (candidate / "default.yaml").is_file():
            return candidate
    raise ConfigError("configs/default.yaml not found: the argmine installation is incomplete")


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must be a mapping at the top level")
    return data


def merge(base: dict[str, Any], override: dict[str, Any], where: str = "") -> dict[str, Any]:
    """Deep-merge ``override`` into a copy of ``base``; unknown keys are an error (typos fail loudly)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if key not in out:
            raise ConfigError(f"unknown setting {where}{key}")
        if isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = merge(out[key], value, f"{where}{key}.")
        else:
            out[key] = value
    return out


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, then the user's file, then overrides (``{"model": {"name": ...}}``)."""
    config = _read_yaml(config_dir() / "default.yaml")
    if path is not None:
        config = merge(config, _read_yaml(Path(path)))
    if overrides:
        config = merge(config, overrides)
    return config

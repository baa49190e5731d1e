"""Typed settings: ``configs/default.yaml``, then a user file, then overrides (CLI flags), validated as a whole.

Each pipeline stage takes its own section (``settings.segmenter``, ``settings.candidates``, ...). The
defaults live in the YAML file only; every field here is required, so a setting missing from the
shipped file is an installation error, and an unknown or ill-typed one in a user's file is a
``ConfigError`` naming the setting, the value and what it must be. The training recipe
(``configs/train.yaml``) is validated the same way.
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from argmine.devices import DEVICE_CHOICES, DEVICE_NAME
from argmine.errors import ConfigError

_PACKAGE_DIR = Path(__file__).resolve().parent


def _regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression ({exc})") from None
    return pattern


def _device(name: str) -> str:
    if not DEVICE_NAME.fullmatch(name):
        raise ValueError(f"unknown device (use {DEVICE_CHOICES})")
    return name


Regex = Annotated[str, AfterValidator(_regex)]
Device = Annotated[str, AfterValidator(_device)]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveInt = Annotated[int, Field(ge=1)]
Count = Annotated[int, Field(ge=0)]


class Section(BaseModel):
    """A settings section: strict types (no "5" for 5), unknown keys refused, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class InputSettings(Section):
    max_bytes: PositiveInt
    encoding: Literal["utf-8"]


class CueWeights(Section):
    first_person: float
    second_person: float
    question: float
    rhetorical_opener: float
    imperative: float
    shouting: float
    informal: float
    attribution: float
    quotation: float
    long_paragraph: float
    short_paragraph: float
    layout_change: float


class CommentDetectionSettings(Section):
    enabled: bool
    min_block_score: float
    bias: float
    weights: CueWeights
    cue_cap: PositiveInt
    long_paragraph_chars: PositiveInt
    short_paragraph_chars: PositiveInt
    quotation_min_words: PositiveInt
    shouting_min_chars: PositiveInt
    imperative_verbs: list[str]
    rhetorical_openers: list[Regex]
    informal_patterns: list[Regex]
    attribution_patterns: list[Regex]


class LayoutSettings(Section):
    comment_markers: list[Regex]
    title_max_chars: PositiveInt
    title_min_words: PositiveInt
    line_paragraph_share: Share
    comment_detection: CommentDetectionSettings


class SegmenterSettings(Section):
    dateline: Regex | None
    connectives: list[str]
    coordinators: list[str]
    long_sentence_chars: PositiveInt
    min_clause_words: PositiveInt
    finite_verb_window: PositiveInt
    min_unit_chars: PositiveInt
    sentence_chunk_chars: Annotated[int, Field(ge=200)]
    max_unit_chars: Annotated[int, Field(ge=100)]
    quote_min_words: PositiveInt
    quote_target_min_words: PositiveInt


class CandidateSettings(Section):
    window: Count
    parent: bool
    parent_limit: PositiveInt
    previous_post: bool
    top_k_similar: Count
    min_similarity: Share
    max_pairs: PositiveInt


class ModelSettings(Section):
    name: Annotated[str, Field(min_length=1)]
    device: Device
    batch_size: PositiveInt
    max_length: Annotated[int, Field(ge=8)]
    quantize: Literal["none", "int8"]


class RelationSettings(Section):
    threshold: Share | None
    reply_threshold: Share | None
    attack_weight: Annotated[float, Field(gt=0.0)] | None
    reply_attack_weight: Annotated[float, Field(gt=0.0)] | None
    root_penalty: Annotated[float, Field(ge=0.0)] | None


class DecodingSettings(Section):
    extra_threshold: Annotated[float, Field(ge=0.0)]
    exact_root_limit: PositiveInt
    max_tree_units: Annotated[int, Field(ge=2)]


class EvaluationSettings(Section):
    unit_match_overlap: Annotated[float, Field(gt=0.0, le=1.0)]
    cv_epochs: PositiveInt
    cv_encoder_lr: Annotated[float, Field(gt=0.0)]
    cv_head_lr: Annotated[float, Field(gt=0.0)]
    cv_tokens_per_batch: Annotated[int, Field(ge=64)]
    cv_warmup: Share


class Settings(Section):
    """Every setting that decides what argmine outputs; see ``configs/default.yaml`` for each one's meaning."""

    input: InputSettings
    layout: LayoutSettings
    segmenter: SegmenterSettings
    boilerplate: list[Regex]
    candidates: CandidateSettings
    model: ModelSettings
    relations: RelationSettings
    decoding: DecodingSettings
    evaluation: EvaluationSettings

    def replace(self, overrides: dict[str, Any]) -> Settings:
        """A copy with ``{"section": {"key": value}}`` merged in and validated."""
        return _validate(Settings, merge(self.model_dump(), overrides), "override")


class DataSource(Section):
    name: Annotated[str, Field(min_length=1)]
    path: Annotated[str, Field(min_length=1)]
    max_items: PositiveInt | None = None  # pairs drawn (seeded) from this source
    none_ratio: Annotated[float, Field(ge=0.0)] | None = None
    max_per_corpus: dict[str, PositiveInt] | None = None


class Recipe(Section):
    """What every training recipe states: the encoder, seed and optimiser limits (held-out splits are
    each corpus's own declaration in ``argmine.evaluation.corpora.CORPORA``, so training and evaluation agree)."""

    base: Annotated[str, Field(min_length=1)]
    seed: int
    epochs: PositiveInt
    weight_decay: Annotated[float, Field(ge=0.0)]
    max_grad_norm: Annotated[float, Field(gt=0.0)]
    warmup: Share
    fp16_weights: bool


class TrainingRecipe(Recipe):
    """How a pair model is trained (``configs/train.yaml``)."""

    kind: Literal["pair"]
    max_length: Annotated[int, Field(ge=8)]
    batch_size: PositiveInt
    learning_rate: Annotated[float, Field(gt=0.0)]
    length_pool: PositiveInt
    none_ratio: Annotated[float, Field(ge=0.0)]
    group_none_ratio: Annotated[float, Field(ge=0.0)]
    stage2_fraction: Share
    stage2_folds: Annotated[int, Field(ge=2)]
    label_balanced: bool
    context_markers: dict[Literal["post", "reply"], Annotated[str, Field(min_length=1)]]
    data: list[DataSource]


class ParserData(Section):
    name: Annotated[str, Field(min_length=1)]
    path: Annotated[str, Field(min_length=1)]
    max_items: PositiveInt | None = None  # documents or pairs drawn (seeded) from this source


class ParserRecipe(Recipe):
    """How the contextual parser is trained (``configs/parser.yaml``)."""

    kind: Literal["parser"]
    max_length: Annotated[int, Field(ge=16)]
    context_share: Share
    unit_tokens: Annotated[int, Field(ge=4)]
    overlap_tokens: Annotated[int, Field(ge=0)]
    whole_posts: bool = True  # at inference a long post's units also score its units in its other windows
    dim: PositiveInt
    feature_dim: PositiveInt
    dropout: Share
    encoder_lr: Annotated[float, Field(gt=0.0)]
    head_lr: Annotated[float, Field(gt=0.0)]
    tokens_per_batch: Annotated[int, Field(ge=64)]
    label_weight: Annotated[float, Field(ge=0.0)]
    dev_fraction: Share
    data: list[ParserData]
    # The answered-post link (argmine.relations.replies): trained after the parser on the training-side threads and
    # reply pairs, with the parser's arcs among its features; the thresholds are chosen again with it. ``links_encoder``: the sentence encoder of its similarity features
    # (``self``: the parser's own encoder, each unit read alone; ``minilm``: the pretrained MiniLM).
    links: bool = True
    links_encoder: str = "self"


def config_dir() -> Path:
    """The shipped configs: inside the wheel (argmine/configs) or the source checkout (configs/)."""
    for candidate in (_PACKAGE_DIR / "configs", _PACKAGE_DIR.parent / "configs"):
        if (candidate / "default.yaml").is_file():
            return candidate
    raise ConfigError("configs/default.yaml not found: the argmine installation is incomplete")


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML mapping from a file; one-line errors for unreadable or malformed files."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except IsADirectoryError:
        raise ConfigError(f"config {path} is a folder, not a file") from None
    except FileNotFoundError:
        raise ConfigError(f"config {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    except (yaml.YAMLError, RecursionError) as exc:
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


def _validate(model: type[Section], data: dict[str, Any], source: str):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        value = error.get("input")
        shown = repr(value) if not isinstance(value, dict) else "a mapping"
        message = error["msg"].removeprefix("Value error, ")
        raise ConfigError(f"setting {where} = {shown} in {source}: {message[0].lower()}{message[1:]}") from None


def load_settings(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Defaults, then the user's file, then overrides (``{"model": {"name": ...}}``), validated."""
    data = read_yaml(config_dir() / "default.yaml")
    source = "configs/default.yaml"
    if path is not None:
        data = merge(data, read_yaml(path))
        source = str(path)
    if overrides:
        data = merge(data, overrides)
        source = f"{source} with overrides" if path is not None else "the options given"
    return _validate(Settings, data, source)


@lru_cache(maxsize=1)
def default_settings() -> Settings:
    """The shipped settings (``configs/default.yaml``), read once."""
    return load_settings()


RECIPES = {"parser": "parser.yaml", "pair": "train.yaml"}  # recipe kind -> the shipped recipe it is merged over


def load_recipe(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> ParserRecipe | TrainingRecipe:
    """A training recipe, validated: the shipped one of its ``kind`` (``parser``, the default:
    ``configs/parser.yaml``; ``pair``: ``configs/train.yaml``), then a user's recipe, then overrides.
    Lists (the data sources) are replaced, not merged."""
    user = read_yaml(path) if path is not None else {}
    kind = (overrides or {}).get("kind", user.get("kind", "parser"))
    if kind not in RECIPES:
        raise ConfigError(f"setting kind = {kind!r} in {path or 'the options given'}: choose parser or pair")
    data = merge(read_yaml(config_dir() / RECIPES[kind]), user)
    source = str(path) if path is not None else f"configs/{RECIPES[kind]}"
    if overrides:
        data = merge(data, overrides)
    return _validate(ParserRecipe if kind == "parser" else TrainingRecipe, data, source)

"""Training, beside the pipeline: ``train`` runs the recipe of a relation-model kind and writes its folder.

``parser.py`` trains the contextual parser (and its answered-post link), ``pair.py`` the pair model and
``stage2.py`` its second stage; ``thresholds.py`` chooses a decision on held-out data; ``cards.py`` writes
model cards.
"""

from __future__ import annotations

import json
from pathlib import Path

from argmine.devices import resolve_device
from argmine.errors import ConfigError
from argmine.files import write_text
from argmine.relations.hf import base_model_path
from argmine.settings import ParserRecipe, Settings, TrainingRecipe, default_settings, load_recipe
from argmine.training.cards import parser_info, write_parser_card
from argmine.training.parser import Schedule, fit, load_parser_data


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
    from argmine.training.pair import train_pair

    return train_pair(output, recipe, settings, pair_model=pair_model, sample=sample, device=device, log=log)


def train_parser(output: str | Path, recipe: ParserRecipe, settings: Settings, device: str | None = None, log=print) -> Path:
    """Train the contextual parser by ``recipe`` (``configs/parser.yaml``), choose its thresholds on the
    held-out parts, and write the model folder (weights, settings, model card)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from argmine.relations.parser import ArgumentParser, ParserConfig, build_net
    from argmine.training.links import fit_links
    from argmine.training.thresholds import choose_thresholds

    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    base = base_model_path(recipe.base)
    cfg = ParserConfig(**{k: getattr(recipe, k) for k in ParserConfig.__dataclass_fields__})
    tokenizer = AutoTokenizer.from_pretrained(base)
    data = load_parser_data(recipe, tokenizer, cfg, settings, log)
    torch_device = resolve_device(device or "auto")
    torch.manual_seed(recipe.seed)  # the scorers' initial weights
    encoder, scorers = build_net(AutoModel.from_pretrained(base), cfg)
    log(f"argmine: training the parser on {len(data.examples)} windows ({torch_device})")
    history = fit(encoder, scorers, data.examples, out, Schedule.of(recipe), torch_device, log)
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
    from argmine.relations.parser import ArgumentParser
    from argmine.relations.parser import write_stored as write_parser_stored
    from argmine.training.thresholds import choose_thresholds

    folder = Path(folder)
    settings = settings or default_settings()
    parser = ArgumentParser.load(folder, "cpu")
    recipe = recipe or load_recipe()
    data = load_parser_data(recipe, parser.tokenizer, parser.cfg, settings, log, examples=False)
    chosen = choose_thresholds(parser, data.dev_docs, data.dev_replies, settings, log)
    write_parser_stored(folder, chosen)
    return chosen


def refit_links(folder: str | Path, recipe: ParserRecipe | None = None, settings: Settings | None = None, log=print) -> dict:
    """Train a trained parser's answered-post link scorer (``argmine.relations.replies``) on its recipe's training-side
    threads and reply pairs, store it in its folder and choose the thresholds again with it on the held-out parts."""
    from argmine.relations.parser import ArgumentParser
    from argmine.relations.parser import write_stored as write_parser_stored
    from argmine.relations.replies import write_links
    from argmine.training.links import fit_links
    from argmine.training.thresholds import choose_thresholds

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

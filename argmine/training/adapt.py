"""Adapting a trained parser to a user's corrected threads: fine-tune it on them through the training loop,
mixed with a sample of its own recipe's data so it keeps what it knew, choose its thresholds again on a
held-out part of the user's threads when there are enough, and write a model folder like any other."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from pathlib import Path

from argmine.errors import InputError
from argmine.files import write_text
from argmine.graph import Graph
from argmine.settings import Settings, load_recipe
from argmine.training.cards import parser_info, write_parser_card
from argmine.training.parser import Example, Schedule, fit, graph_examples, load_parser_data


@dataclass(frozen=True)
class AdaptPlan:
    """How much to adapt: epochs and rates (gentler than training from scratch), the share of the user's
    threads held out to choose thresholds (only from ``min_held_out`` threads on), and how many recipe
    windows are mixed in per user window."""

    epochs: int = 4
    encoder_lr: float = 3e-5
    head_lr: float = 5e-4
    tokens_per_batch: int = 1024
    held_out_share: float = 0.25
    min_held_out: int = 12
    mix: float = 1.0
    seed: int = 13
    rechoose_on_train: bool = (
        False  # too few threads to hold some out: True chooses thresholds on those it adapted on (measured: worse)
    )
    link_epochs: int = 0  # from 1 on: the answered-post link is fine-tuned on the threads' cross-post links too
    interpolate: float = 0.5  # the adapted weights' share; the rest is the model's own (WiSE-FT; 1: adapted only)


def split_user(graphs: list[Graph], plan: AdaptPlan) -> tuple[list[Graph], list[Graph]]:
    """(train, held out): a seeded share of the threads held out to choose thresholds, none when too few."""
    if len(graphs) < plan.min_held_out:
        return list(graphs), []
    order = list(range(len(graphs)))
    random.Random(plan.seed).shuffle(order)
    k = max(2, round(plan.held_out_share * len(graphs)))
    held = sorted(order[:k])
    return [g for i, g in enumerate(graphs) if i not in held], [graphs[i] for i in held]


def recipe_pool(parser, settings: Settings, log=print) -> tuple[list[Example], list[str]]:
    """The windows of the parser's own recipe data (what keeps it from forgetting) and the sources' names;
    none when that data is not on this machine."""
    recipe = load_recipe(overrides={"data": parser.stored["recipe"]["data"]}) if "recipe" in parser.stored else load_recipe()
    try:
        data = load_parser_data(recipe, parser.tokenizer, parser.cfg, settings, lambda m: None)
    except InputError as exc:
        log(f"argmine: adapting without the recipe's data ({exc}): the model may forget what it knew")
        return [], []
    return data.examples, [s["name"] for s in data.sources]


def recipe_sample(pool: tuple[list[Example], list[str]], count: int, seed: int) -> tuple[list[Example], str]:
    """``count`` windows drawn from ``pool`` (``recipe_pool``), and a line saying where they came from."""
    examples, names = pool
    if count <= 0 or not examples:
        return [], "no recipe data mixed in" + ("" if count <= 0 else " (its recipe's data is not on this machine)")
    chosen = random.Random(seed).sample(examples, min(count, len(examples)))
    return chosen, f"{len(chosen)} windows sampled from its recipe's data ({', '.join(names)})"


def _adapt_links(parser, train: list[Graph], plan: AdaptPlan) -> int:
    """Fine-tune the parser's answered-post link on the threads' replies (starting from its weights, read
    beside the adapted parser's arcs); how many replies it learned from (0: it is kept as it was)."""
    from argmine.training.links import fit_scorer, graph_link_examples

    threads = [g for g in train if len({u.post for u in g.document.units}) > 1]
    if not threads:
        return 0
    encoder = parser.sentence_encoder()
    parses = parser.parse([g.document for g in threads], links=False)
    examples = [e for g, p in zip(threads, parses) for e in graph_link_examples(g, encoder, "documents", p)]
    if not any(e.gold for e in examples):
        return 0
    parser.links = fit_scorer(examples, epochs=plan.link_epochs, lr=0.003, seed=plan.seed, init=parser.links)
    return len(examples)


def _interpolate(nets, before: list[dict], share: float) -> None:
    """Each floating-point weight moved back towards its value before adapting: ``before + share * (now - before)``
    (weight-space ensembling, as WiSE-FT: keeps what the model knew while taking a part of what it learned)."""
    import torch

    with torch.no_grad():
        for net, old in zip(nets, before):
            for name, value in net.state_dict().items():
                if value.is_floating_point():
                    value.copy_(old[name].to(value.device) + share * (value - old[name].to(value.device)))


def adapt(
    model: str | Path,
    graphs: list[Graph],
    output: str | Path,
    settings: Settings,
    plan: AdaptPlan | None = None,
    sources: list[str] | None = None,
    device: str | None = None,
    log=print,
    pool: tuple[list[Example], list[str]] | None = None,
) -> Path:
    """Fine-tune the parser in ``model`` on gold ``graphs`` (a user's corrected threads) and write the
    adapted folder to ``output`` (weights, thresholds, model card saying what it was adapted on).
    ``pool``: the recipe's windows when already read (``recipe_pool``), else read here if any are mixed in."""

    from argmine.devices import resolve_device
    from argmine.relations.parser import ArgumentParser
    from argmine.training.thresholds import choose_thresholds

    plan = plan or AdaptPlan()
    graphs = [g for g in graphs if g.document.units]
    if not graphs:
        raise InputError("no annotated thread to adapt on (every graph is empty)")
    out = Path(output)
    from argmine.relations import kind_of, model_folder

    folder = model_folder(str(model))
    if folder is None or kind_of(folder).name != "parser":
        raise InputError(f"{model}: adapting fine-tunes a contextual parser folder (argmine_parser.json); this is not one")
    parser = ArgumentParser.load(folder, device or "auto", training=True)  # float32 weights on a GPU too
    train, held = split_user(graphs, plan)
    user = [e for g in train for e in graph_examples(g, parser.tokenizer, parser.cfg, "user")]
    count = round(plan.mix * len(user))
    if pool is None:
        pool = recipe_pool(parser, settings, log) if count else ([], [])
    mixed, mixed_note = recipe_sample(pool, count, plan.seed)
    log(f"argmine: adapting on {len(train)} threads ({len(user)} windows) + {len(mixed)} recipe windows; {len(held)} held out")
    base = Schedule.of(load_recipe())
    schedule = replace(
        base,
        seed=plan.seed,
        epochs=plan.epochs,
        encoder_lr=plan.encoder_lr,
        head_lr=plan.head_lr,
        tokens_per_batch=plan.tokens_per_batch,
    )
    torch_device = resolve_device(device or "auto")
    nets = (parser.encoder, parser.scorers)
    before = [{k: v.detach().clone() for k, v in n.state_dict().items()} for n in nets] if plan.interpolate < 1.0 else []
    history = fit(parser.encoder, parser.scorers, user + mixed, out, schedule, torch_device, log)
    if before:
        _interpolate(nets, before, plan.interpolate)
    linked = 0
    if plan.link_epochs and parser.links is not None:
        linked = _adapt_links(parser, train, plan)
        log(
            f"argmine: answered-post link {'fine-tuned on ' + str(linked) + ' replies' if linked else 'kept (no reply links in the threads)'}"
        )
    chosen = {}
    if held:
        chosen = choose_thresholds(parser, [(g.id, g) for g in held], [], settings, log)
    elif plan.rechoose_on_train:
        chosen = choose_thresholds(parser, [(g.id, g) for g in train], [], settings, log)
    adapted = {
        "from": str(model),
        "threads": len(train),
        "held_out": len(held),
        "sources": sources or [],
        "windows": len(user),
        "mixed": mixed_note,
        "thresholds": "chosen again on the held-out threads"
        if held
        else "chosen again on the threads it adapted on (too few to hold some out)"
        if plan.rechoose_on_train
        else "kept (too few threads to hold some out)",
        "history": history["history"],
        "answered_post_link": f"fine-tuned on {linked} replies" if linked else "kept as it was",
        "weights": "adapted"
        if plan.interpolate >= 1.0
        else f"{plan.interpolate:g} of the way from the model's own weights to the adapted ones",
    }
    parser.stored = {**parser.stored, **chosen, "adapted": adapted}
    parser.save(out, fp16=True)
    (out / "checkpoint.pt").unlink(missing_ok=True)
    info = parser_info(out)
    info["adapted"] = adapted
    write_text(str(out / "train_info.json"), json.dumps(info, indent=1) + "\n")
    write_parser_card(out, info)
    return out

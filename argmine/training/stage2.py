"""The pair model's second stage: a scorer over stage-1 probabilities and structure, fitted on held-out documents."""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from argmine.errors import InputError
from argmine.evaluation import corpora
from argmine.graph import Graph
from argmine.relations.pair import write_stored
from argmine.relations.scorer import Scorer
from argmine.settings import DecodingSettings, Settings

ATTACK_SHIFTS = (-3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0)


THRESHOLD_GRID = [round(float(t), 3) for t in np.arange(0.01, 0.95, 0.01)]


@dataclass
class Stage2Doc:
    """A held-out document with its candidate pairs, their feature rows and its gold links."""

    document: object
    pairs: list[tuple[int, int]]
    rows: list[dict]
    gold: dict[tuple[int, int], str]
    stance: str | None = None  # a reply pair's post-level label (its unit links are not annotated)


def stage2_inputs(model, docs: list[tuple[str, Graph]], settings: Settings, replies: list | None = None) -> list[Stage2Doc]:
    """Score every candidate pair of the held-out documents with the pair model (no second stage);
    ``replies`` (reply-agreement dev pairs) become segmented two-post threads with a post-level label."""
    from tqdm.auto import tqdm

    from argmine.relations.candidates import candidate_pairs
    from argmine.relations.pair import pair_model_scores
    from argmine.relations.scorer import FEATURE_SETTINGS, pair_features
    from argmine.units.segmenter import segment

    prepared = []
    items = [(doc.document, doc, None) for _, doc in docs]
    items += [
        (segment(corpora.reply_thread(r, f"reply-{k}"), settings.segmenter, settings.boilerplate), None, r.label)
        for k, r in enumerate(replies or [])
    ]
    for document, doc, stance in tqdm(items, desc="stage-2 features", unit="doc", file=sys.stderr):
        pairs = candidate_pairs(document, settings.candidates)
        if not pairs:
            continue
        (raw,) = pair_model_scores([document], [pairs], model, settings.model.batch_size)
        rows = pair_features(document, pairs, dict(zip(pairs, raw.units)), None, raw.posts, **FEATURE_SETTINGS)
        gold = corpora.gold_links(doc) if doc is not None else {}
        prepared.append(Stage2Doc(document, pairs, rows, gold, stance))
    return prepared


@dataclass
class ScorerRows:
    """What the second stage's two regressions are fitted on: link rows with their targets and weights,
    and the linked rows with attack targets and weights."""

    rows: list[dict] = field(default_factory=list)
    linked: list[int] = field(default_factory=list)
    link_weights: list[float] = field(default_factory=list)
    label_rows: list[dict] = field(default_factory=list)
    attack: list[int] = field(default_factory=list)
    label_weights: list[float] = field(default_factory=list)


class Edge(NamedTuple):
    """A decoded out-of-fold link: P(link), the logit of P(attack | link), whether it stays inside a post,
    and its gold label ("" when not a gold link). Ordered as compared: the strongest link first by P(link)."""

    link: float
    logit: float
    same_post: bool
    gold: str


class ReplyLink(NamedTuple):
    """A reply pair's strongest decoded link from the response to the quote, and the pair's gold stance."""

    edge: Edge
    stance: str


@dataclass
class Attachment:
    """Within-post gold links of one corpus: how many, how many the decoded trees attach right, and
    how many attach to the previous unit (the positional baseline)."""

    links: int = 0
    right: int = 0
    previous: int = 0


@dataclass
class OutOfFold:
    """Out-of-fold decoded links: annotated documents' edges, reply pairs' links, attachment by corpus."""

    edges: list[Edge]
    replies: list[ReplyLink]
    attachment: dict[str, Attachment]


class EdgeArrays(NamedTuple):
    """One side's decoded links (inside posts or across them) as arrays, and its gold label counts."""

    link: np.ndarray
    logit: np.ndarray
    gold: np.ndarray
    gold_counts: dict[str, int]


class Choice(NamedTuple):
    """A chosen threshold and attack bias with the objective they reach (and, across posts, its two parts)."""

    score: float
    threshold: float
    shift: float
    relation_f1: float = 0.0
    stance_f1: float = 0.0


def fit_scorer(
    prepared: list[Stage2Doc],
    decoding: DecodingSettings,
    folds: int = 5,
    seed: int = 13,
    label_balanced: bool = True,
) -> Scorer:
    """Fit P(link) and P(attack | link), inside a post and across a reply, and choose on out-of-fold
    probabilities (documents split into ``folds``), decoded into trees as ``analyze`` does: the
    within-post threshold and attack bias for the best macro relation F1 (support and attack weigh
    the same: attack is rare on the training side but must still be found); the reply threshold and
    attack bias for the mean of cross-post macro relation F1 and reply stance macro F1 (reply pairs:
    support/attack/none). The scorer's ``meta`` records the choice and its out-of-fold scores."""
    order = [k for k, d in enumerate(prepared) if d.stance is None]
    random.Random(seed).shuffle(order)
    stances = [k for k, d in enumerate(prepared) if d.stance in ("support", "attack")]
    decoded = _out_of_fold(prepared, order, stances, folds, label_balanced, decoding)
    # The trees depend on P(link) alone: they were decoded once; label biases and thresholds are tried
    # separately inside a post and across a reply (their attack and link rates differ).
    within_side = _edge_arrays(prepared, order, decoded.edges, same_post=True)
    across_side = _edge_arrays(prepared, order, decoded.edges, same_post=False)
    within = _choose_within(within_side)
    across = _choose_across(across_side, decoded.replies)
    scorer = _fit_scorer_on(prepared, order + stances, stances, label_balanced)
    scorer.label_weights["bias"] = round(scorer.label_weights["bias"] + within.shift, 6)
    scorer.reply_label_weights["bias"] = round(scorer.reply_label_weights["bias"] + across.shift, 6)
    scorer.meta = _scorer_meta(prepared, len(order), len(stances), within_side, across_side, within, across, decoded.attachment)
    return scorer


def _scorer_rows(prepared: list[Stage2Doc], part: list[int], stances: list[int]) -> ScorerRows:
    """The fitting rows of the documents ``part``. A reply pair's stance labels the links from the
    response's first unit to the quote (weighing one link in all): linked unless neutral, and attack or support."""
    annotated = [k for k in part if prepared[k].stance is None]
    data = ScorerRows()
    data.rows = [r for k in annotated for r in prepared[k].rows]
    data.linked = [int(p in prepared[k].gold) for k in annotated for p in prepared[k].pairs]
    data.link_weights = [1.0] * len(data.rows)
    data.label_rows = [r for k in part for r, p in zip(prepared[k].rows, prepared[k].pairs) if p in prepared[k].gold]
    data.attack = [int(prepared[k].gold[p] == "attack") for k in part for p in prepared[k].pairs if p in prepared[k].gold]
    data.label_weights = [1.0] * len(data.label_rows)
    chosen = set(part)
    for k in stances:
        d = prepared[k]
        if k not in chosen:
            continue
        first = min((a for a, _ in d.pairs if d.document.units[a].post == "response"), default=None)
        cross = [r for r, (a, b) in zip(d.rows, d.pairs) if a == first and d.document.units[b].post == "quote"]
        if not cross:
            continue
        data.rows += cross
        data.linked += [int(d.stance != "none")] * len(cross)
        data.link_weights += [1.0 / len(cross)] * len(cross)
        if d.stance != "none":
            data.label_rows += cross
            data.attack += [int(d.stance == "attack")] * len(cross)
            data.label_weights += [1.0 / len(cross)] * len(cross)
    return data


def _fit_scorer_on(prepared: list[Stage2Doc], part: list[int], stances: list[int], label_balanced: bool) -> Scorer:
    """A scorer fitted on the documents ``part``: link and label regressions inside a post and across a
    reply; a side without both classes gets a constant (a link or attack it never sees)."""
    from argmine.relations.scorer import FEATURES, LABEL_FEATURES, fit_logistic

    data = _scorer_rows(prepared, part, stances)
    links, labels = {}, {}
    for name, inside in (("post", True), ("reply", False)):
        keep = [j for j, r in enumerate(data.rows) if (r["same_post"] > 0) == inside]
        ys = [data.linked[j] for j in keep]
        links[name] = (
            fit_logistic([data.rows[j] for j in keep], ys, FEATURES, weights=[data.link_weights[j] for j in keep])
            if 0 < sum(ys) < len(ys)
            else {"bias": -5.0}
        )
        keep = [j for j, r in enumerate(data.label_rows) if (r["same_post"] > 0) == inside]
        ys = [data.attack[j] for j in keep]
        labels[name] = (
            fit_logistic(
                [data.label_rows[j] for j in keep],
                ys,
                LABEL_FEATURES,
                balanced=label_balanced,
                weights=[data.label_weights[j] for j in keep],
            )
            if 0 < sum(ys) < len(ys)
            else {"bias": -3.0}
        )
    return Scorer(links["post"], labels["post"], reply_link_weights=links["reply"], reply_label_weights=labels["reply"])


def _out_of_fold(
    prepared: list[Stage2Doc], order: list[int], stances: list[int], folds: int, label_balanced: bool, decoding
) -> OutOfFold:
    """Each document's P(link) and P(attack | link) from a scorer fitted without its fold (annotated
    documents in ``order``, then the reply pairs), decoded into trees."""
    everything = order + stances
    k = max(2, min(folds, len(order)))
    link: dict[int, np.ndarray] = {}
    attack: dict[int, np.ndarray] = {}
    for f in range(k):
        held = set(everything[f::k])
        scorer = _fit_scorer_on(prepared, [i for i in everything if i not in held], stances, label_balanced)
        for i in held:
            link[i] = scorer.link_probability(prepared[i].rows)
            attack[i] = scorer.attack_probability(prepared[i].rows)
    out = OutOfFold([], [], {})
    for i in everything:
        d = prepared[i]
        tally = out.attachment.setdefault(d.document.id.split("-")[0], Attachment()) if d.gold else Attachment()
        found = _decoded_edges(d, link[i], attack[i], decoding, tally)
        if d.stance is None:
            out.edges += found
        else:
            cross = [e for e in found if not e.same_post]
            out.replies.append(ReplyLink(max(cross) if cross else Edge(0.0, 0.0, False, ""), d.stance))
    return out


def _decoded_edges(d: Stage2Doc, link: np.ndarray, attack: np.ndarray, decoding, tally: Attachment) -> list[Edge]:
    """The links of one document's trees decoded from P(link) alone; counts its within-post gold links in ``tally``."""
    from argmine.decoding.trees import Decision, decode_trees
    from argmine.document import PairScores

    scores = [PairScores(float(p), 0.0, float(1 - p)) for p in link]
    decision = Decision.default(
        threshold=0.0,
        reply_threshold=0.0,
        extra_threshold=decoding.extra_threshold,
        exact_root_limit=decoding.exact_root_limit,
        max_tree_units=decoding.max_tree_units,
    )
    relations, attached = decode_trees(d.document, d.pairs, scores, decision)
    units = d.document.units
    index = {u.id: j for j, u in enumerate(units)}
    for a, b in d.gold:
        if units[a].post == units[b].post:
            tally.links += 1
            tally.right += units[a].id in attached and index[attached[units[a].id].target] == b
            tally.previous += b == a - 1
    where = {pair: j for j, pair in enumerate(d.pairs)}
    found = []
    for r in relations:
        a, b = index[r.source], index[r.target]
        j = where[(a, b)]
        q = float(np.clip(attack[j], 1e-9, 1 - 1e-9))
        found.append(Edge(float(link[j]), float(np.log(q / (1 - q))), units[a].post == units[b].post, d.gold.get((a, b)) or ""))
    return found


def _edge_arrays(prepared: list[Stage2Doc], order: list[int], edges: list[Edge], same_post: bool) -> EdgeArrays:
    """The decoded links inside posts (``same_post``) or across them, and the gold links of that side by label."""
    chosen = [e for e in edges if e.same_post == same_post]
    counts = {
        label: sum(
            1
            for i in order
            for (a, b), v in prepared[i].gold.items()
            if v == label and (prepared[i].document.units[a].post == prepared[i].document.units[b].post) == same_post
        )
        for label in ("support", "attack")
    }
    return EdgeArrays(
        np.array([e.link for e in chosen]), np.array([e.logit for e in chosen]), np.array([e.gold for e in chosen]), counts
    )


class Labelled(NamedTuple):
    """Links labelled under an attack bias: each one's label and that label's probability."""

    score: np.ndarray
    label: np.ndarray


def _labelled(p: np.ndarray, logit: np.ndarray, shift: float) -> Labelled:
    """Label links of P(link) ``p`` by their attack logit shifted by ``shift``."""
    q = 1 / (1 + np.exp(-(logit + shift)))
    is_attack = q > 0.5
    return Labelled(np.where(is_attack, p * q, p * (1 - q)), np.where(is_attack, "attack", "support"))


def _macro_f1(side: EdgeArrays, shift: float) -> np.ndarray:
    """Macro F1 over support/attack relations for each threshold in ``THRESHOLD_GRID``."""
    labelled = _labelled(side.link, side.logit, shift)
    out = []
    for t in THRESHOLD_GRID:
        kept = labelled.score >= t
        f1s = []
        for label in ("support", "attack"):
            mine = kept & (labelled.label == label)
            tp = float((mine & (side.gold == label)).sum())
            gold = side.gold_counts[label]
            f1s.append(2 * tp / (float(mine.sum()) + gold) if gold else 0.0)
        out.append(sum(f1s) / 2)
    return np.array(out)


def _best(choices: list[Choice]) -> Choice:
    """The highest score; on a tie the lower threshold, then the larger shift."""
    return max(choices, key=lambda c: (c.score, -c.threshold, c.shift))


def _choose_within(side: EdgeArrays) -> Choice:
    """The within-post threshold and attack bias with the best macro relation F1."""
    choices = []
    for shift in ATTACK_SHIFTS:
        f1 = _macro_f1(side, shift)
        j = int(np.argmax(f1))
        choices.append(Choice(round(float(f1[j]), 4), THRESHOLD_GRID[j], shift))
    return _best(choices)


def _choose_across(side: EdgeArrays, replies: list[ReplyLink]) -> Choice:
    """The reply threshold and attack bias with the best mean of cross-post macro relation F1 and reply
    stance macro F1 (a response whose link falls below the threshold says none)."""
    from argmine.evaluation.metrics import stance_scores

    link = np.array([r.edge.link for r in replies])
    logit = np.array([r.edge.logit for r in replies])
    gold = [r.stance for r in replies]
    choices = []
    for shift in ATTACK_SHIFTS:
        f1 = _macro_f1(side, shift)
        stance = np.zeros(len(THRESHOLD_GRID))
        if replies:
            labelled = _labelled(link, logit, shift)
            stance = np.array(
                [
                    stance_scores(gold, list(np.where(labelled.score >= t, labelled.label, "none")))["macro_f1"]
                    for t in THRESHOLD_GRID
                ]
            )
        combined = (f1 + stance) / 2 if replies else f1
        j = int(np.argmax(combined))
        choices.append(
            Choice(round(float(combined[j]), 4), THRESHOLD_GRID[j], shift, round(float(f1[j]), 4), round(float(stance[j]), 4))
        )
    return _best(choices)


def _scorer_meta(
    prepared: list[Stage2Doc],
    documents: int,
    reply_pairs: int,
    within_side: EdgeArrays,
    across_side: EdgeArrays,
    within: Choice,
    across: Choice,
    attachment: dict[str, Attachment],
) -> dict:
    """What the fitted scorer stores about its data and its choices (``argmine_scorer.json`` meta)."""
    within_counts, across_counts = within_side.gold_counts, across_side.gold_counts
    links = max(1, sum(t.links for t in attachment.values()))
    return {
        "documents": documents,
        "reply_pairs": reply_pairs,
        "pairs": sum(len(d.pairs) for d in prepared),
        "links": sum(within_counts.values()) + sum(across_counts.values()),
        "attack_links": within_counts["attack"] + across_counts["attack"],
        "threshold": within.threshold,
        "reply_threshold": across.threshold,
        "attack_bias_within_post": within.shift,
        "attack_bias_across_posts": across.shift,
        "out_of_fold_within_post_macro_relation_f1": within.score,
        "out_of_fold_within_post_attachment": round(sum(t.right for t in attachment.values()) / links, 4),
        "previous_unit_within_post_attachment": round(sum(t.previous for t in attachment.values()) / links, 4),
        "within_post_attachment_by_corpus": {
            c: f"{t.right}/{t.links} (previous unit {t.previous})" for c, t in sorted(attachment.items())
        },
        "out_of_fold_cross_post_macro_relation_f1": across.relation_f1,
        "out_of_fold_reply_stance_macro_f1": across.stance_f1,
    }


def fit_second_stage(
    model_dir: Path,
    docs: list[tuple[str, Graph]],
    settings: Settings,
    device: str = "auto",
    log=print,
    folds: int = 5,
    seed: int = 13,
    label_balanced: bool = True,
    replies: list | None = None,
) -> dict:
    """Fit the scorer on documents held out from fine-tuning (QT30 dev episodes: real replies;
    held-out CDCP and web-discourse documents) and store it, with the relation threshold, in the model folder."""
    from argmine.relations.pair import RelationModel

    model = RelationModel.load(str(model_dir), device=device, max_length=settings.model.max_length, second_stage=False)
    prepared = stage2_inputs(model, docs, settings, replies)
    if not any(d.gold for d in prepared) or all(len(d.gold) == len(d.pairs) for d in prepared):
        raise InputError("the second stage needs held-out documents with both linked and unlinked unit pairs")
    scorer = fit_scorer(prepared, settings.decoding, folds, seed, label_balanced)
    scorer.save(model_dir)
    write_stored(model_dir, {"threshold": scorer.meta["threshold"], "reply_threshold": scorer.meta["reply_threshold"]})
    log(f"second stage: {scorer.meta}")
    return scorer.meta

"""Second stage: combine the pair model's probabilities (both directions) with thread structure.

The pair model sees two texts; it cannot see reply links, distance, position, discourse markers or
question form. Two logistic regressions over those features give P(link) for a directed pair and
P(attack | link); they are fitted on documents held out from fine-tuning and stored as plain JSON
(``argmine_scorer.json``) next to the checkpoint.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from argmine import jsonio
from argmine.document import Document, PairScores, Post, answered_posts, posts_above
from argmine.errors import ModelError
from argmine.relations.candidates import tfidf

SCORER_FILE = "argmine_scorer.json"
# Feature settings a fitted scorer is tied to (stored with it in argmine_scorer.json).
FEATURE_SETTINGS = {"negation_min_similarity": 0.1}

ATTACK_OPENERS = re.compile(
    r"^(no\b|not\b|nope|wrong|but\b|however|yet\b|although|though|nonsense|rubbish|actually|on the contrary|"
    r"on the other hand|nevertheless|still\b|what\b[^?]*\?|really\?|so what|admittedly|of course)",
    re.IGNORECASE,
)
SUPPORT_OPENERS = re.compile(
    r"^(because|since|for example|for instance|e\.g\.|indeed|in fact|also\b|moreover|furthermore|"
    r"besides|after all|that is why|this is why|as\b|given that|first|second|third|finally|plus\b)",
    re.IGNORECASE,
)
GAP_ATTACK = re.compile(r"\b(but|although|though|however|yet|whereas|while)\b", re.IGNORECASE)
GAP_SUPPORT = re.compile(r"\b(because|since|as|for|so|therefore|thus|hence)\b", re.IGNORECASE)
# Concession: the writer voices the other side ("Admittedly ...", "Some say ..."): PDTB-style markers.
CONCESSION = re.compile(
    r"^(yes\b|sure\b|admittedly|of course|granted|certainly|it is true|it's true|true,|although|even though|"
    r"while\b|some (people )?(say|argue|claim|think|believe)|critics|opponents|many (people )?(say|argue|claim|think|believe)|"
    r"one (might|could|may) (say|argue|object)|it (might|could|may) be (argued|said|objected))",
    re.IGNORECASE,
)
CONTRAST = re.compile(r"^(but|however|yet|still|nevertheless|nonetheless|even so|that said|on the other hand)\b", re.IGNORECASE)
NEGATION = re.compile(r"\b(not|no|never|nothing|none|nobody|cannot)\b|n[’']t\b", re.IGNORECASE)

FEATURES = [
    "bias",
    # the pair model, read separately inside a post and across a reply
    "post_support",
    "post_attack",
    "post_support_rev",
    "post_attack_rev",
    "reply_support",
    "reply_attack",
    # the whole source post against the whole target post (a reply's stance towards what it answers)
    "thread_link",
    "same_post",
    "target_in_parent",
    "target_in_previous",
    "target_other_post",
    "target_is_title",
    "dist_prev_1",
    "dist_prev_2",
    "dist_prev_far",
    "dist_next_1",
    "dist_next_far",
    "target_first_in_post",
    "target_last_in_post",
    "source_first_in_post",
    "target_position",
    "source_position",
    "source_question",
    "target_question",
    "source_attack_opener",
    "source_support_opener",
    "gap_attack",
    "gap_support",
    "similarity",
    "most_similar",
    "most_likely",
    "link_share",
]
LABEL_FEATURES = [
    "bias",
    "post_attack_share",
    "reply_attack_share",
    "thread_attack_share",
    "same_post",
    "source_question",
    "source_attack_opener",
    "source_support_opener",
    "gap_attack",
    "gap_support",
    "negation_mismatch",
    "source_concession",
    "target_concession",
    "source_contrast",
    "role_flip",
    "target_before",
    "similarity",
]


@dataclass
class _ThreadView:
    """What every pair's features read from the document and the candidate pairs, computed once."""

    doc: Document
    post_of: dict[str, Post]
    answered: dict[str, str | None]
    comment_above: dict[str, str | None]
    first_in_post: dict[str, int]
    count_in_post: dict[str, int]
    role: list[str]
    sims: dict[tuple[int, int], float]
    best_sim: dict[int, float]
    best_link: dict[int, float]


def pair_features(
    doc: Document,
    pairs: list[tuple[int, int]],
    scores: dict[tuple[int, int], PairScores],
    matrix=None,
    post_scores: dict[tuple[str, str], PairScores] | None = None,
    negation_min_similarity: float = 0.1,
) -> list[dict]:
    """One feature dict per directed candidate pair (source index, target index).

    ``matrix`` is the units' TF-IDF when the caller already built it; ``post_scores`` holds the pair
    model's scores of whole posts (source post, target post) for reply pairs. A negation mismatch
    counts only between units at least ``negation_min_similarity`` alike (a setting of the trained
    second stage, stored with it)."""
    view = _thread_view(doc, pairs, scores, matrix)
    post_scores = post_scores or {}
    rows = []
    for a, b in pairs:
        thread = post_scores.get((doc.units[a].post, doc.units[b].post))
        link = _link_features(view, a, b, scores, thread)
        rows.append({**link, **_label_features(view, a, b, scores[(a, b)], thread, negation_min_similarity)})
    return rows


def _thread_view(doc: Document, pairs: list[tuple[int, int]], scores: dict[tuple[int, int], PairScores], matrix) -> _ThreadView:
    """Posts, positions, roles, similarities and each source's best similarity and link probability."""
    first_in_post: dict[str, int] = {}
    count_in_post: dict[str, int] = {}
    for i, u in enumerate(doc.units):
        first_in_post.setdefault(u.post, i)
        count_in_post[u.post] = count_in_post.get(u.post, 0) + 1
    if matrix is None:
        matrix = tfidf([u.text for u in doc.units])
    sims = _similarities(matrix, pairs)
    best_sim: dict[int, float] = {}
    best_link: dict[int, float] = {}
    for a, b in pairs:
        best_sim[a] = max(best_sim.get(a, 0.0), sims[(a, b)])
        best_link[a] = max(best_link.get(a, 0.0), 1 - scores[(a, b)].none)
    return _ThreadView(
        doc,
        {p.id: p for p in doc.posts},
        answered_posts(doc),
        # every comment counts as above, with units or not (the fitted scorers were fitted so)
        posts_above(doc, comments_only=True, with_units=False),
        first_in_post,
        count_in_post,
        _roles(doc),
        sims,
        best_sim,
        best_link,
    )


def _similarities(matrix, pairs: list[tuple[int, int]]) -> dict[tuple[int, int], float]:
    """TF-IDF cosine of each pair's two units (0 when there is no matrix)."""
    if matrix is None or not pairs:
        return {pair: 0.0 for pair in pairs}
    src, tgt = [a for a, _ in pairs], [b for _, b in pairs]
    values = np.asarray(matrix[src].multiply(matrix[tgt]).sum(axis=1)).ravel()
    return {pair: float(v) for pair, v in zip(pairs, values)}


def _link_features(
    view: _ThreadView, a: int, b: int, scores: dict[tuple[int, int], PairScores], thread: PairScores | None
) -> dict:
    """Features of P(link): the pair model both ways (and on the whole posts), reply structure, distance,
    position, cues."""
    doc = view.doc
    ua, ub = doc.units[a], doc.units[b]
    fwd = scores[(a, b)]
    rev = scores.get((b, a), PairScores(0.0, 0.0, 1.0))
    same = ua.post == ub.post
    cross = 0.0 if same else 1.0
    d = a - b  # > 0: the target comes before the source
    gap = doc.text[min(ua.end, ub.end) : max(ua.start, ub.start)] if same and abs(d) == 1 else ""
    sim = view.sims[(a, b)]
    n = max(1, len(doc.units) - 1)
    pos_a, pos_b = a - view.first_in_post[ua.post], b - view.first_in_post[ub.post]
    src_text = ua.text.strip("“”\"' ")
    above = doc.flat and view.comment_above.get(ua.post) == ub.post
    return {
        "bias": 1.0,
        "post_support": fwd.support * (1 - cross),
        "post_attack": fwd.attack * (1 - cross),
        "post_support_rev": rev.support * (1 - cross),
        "post_attack_rev": rev.attack * (1 - cross),
        "reply_support": fwd.support * cross,
        "reply_attack": fwd.attack * cross,
        "thread_link": (1 - thread.none) * cross if thread else 0.0,
        "same_post": 1 - cross,
        # in a flat thread (plain text) the comment above is as likely an answered post as the article
        "target_in_parent": float(view.answered[ua.post] == ub.post or above),
        "target_in_previous": float(above),
        "target_other_post": float(not same and view.answered[ua.post] != ub.post),
        "target_is_title": float(view.post_of[ub.post].kind == "title"),
        "dist_prev_1": float(same and d == 1),
        "dist_prev_2": float(same and d == 2),
        "dist_prev_far": float(same and d > 2),
        "dist_next_1": float(same and d == -1),
        "dist_next_far": float(same and d < -1),
        "target_first_in_post": float(pos_b == 0),
        "target_last_in_post": float(pos_b == view.count_in_post[ub.post] - 1),
        "source_first_in_post": float(pos_a == 0),
        "target_position": b / n,
        "source_position": a / n,
        "source_question": float(ua.text.rstrip().endswith("?")),
        "target_question": float(ub.text.rstrip().endswith("?")),
        "source_attack_opener": float(bool(ATTACK_OPENERS.match(src_text))),
        "source_support_opener": float(bool(SUPPORT_OPENERS.match(src_text))),
        "gap_attack": float(d == 1 and bool(GAP_ATTACK.search(gap))),
        "gap_support": float(d == 1 and bool(GAP_SUPPORT.search(gap))),
        "similarity": sim,
        "most_similar": float(sim > 0 and sim >= view.best_sim[a]),
        "most_likely": float(1 - fwd.none >= view.best_link[a]),
        "link_share": (1 - fwd.none) / view.best_link[a] if view.best_link[a] > 0 else 0.0,
    }


def _label_features(
    view: _ThreadView, a: int, b: int, fwd: PairScores, thread: PairScores | None, negation_min_similarity: float
) -> dict:
    """Features of P(attack | link): the pair model's attack share, negation, concession, contrast, roles."""
    ua, ub = view.doc.units[a], view.doc.units[b]
    cross = 0.0 if ua.post == ub.post else 1.0
    neg_a, neg_b = bool(NEGATION.search(ua.text)), bool(NEGATION.search(ub.text))
    src_text, tgt_text = ua.text.strip("“”\"' "), ub.text.strip("“”\"' ")
    return {
        "post_attack_share": _share(fwd) * (1 - cross),
        "reply_attack_share": _share(fwd) * cross,
        "thread_attack_share": _share(thread) * cross if thread else 0.0,
        "negation_mismatch": float(neg_a != neg_b and view.sims[(a, b)] > negation_min_similarity),
        "source_concession": float(bool(CONCESSION.match(src_text))),
        "target_concession": float(bool(CONCESSION.match(tgt_text))),
        "source_contrast": float(bool(CONTRAST.match(src_text))),
        "role_flip": float(view.role[a] != view.role[b]),
        "target_before": float(b < a),
    }


def _share(s: PairScores | None) -> float:
    """P(attack) among the relation labels, centred on 0: > 0 leans attack."""
    if s is None or s.support + s.attack <= 0:
        return 0.0
    return s.attack / (s.support + s.attack) - 0.5


def _roles(doc: Document) -> list[str]:
    """Whose voice each unit speaks in: ``opp`` for a concession, back to ``pro`` after a contrast
    ("Admittedly X. But Y."); a reply opening with a denial or an echo question flips its post."""
    roles = []
    posts = {p.id: p for p in doc.posts}
    post_role: dict[str, str] = {}
    for i, unit in enumerate(doc.units):
        text = unit.text.strip("“”\"' ")
        first = i == 0 or doc.units[i - 1].post != unit.post
        if first:
            post = posts[unit.post]
            parent_role = post_role.get(post.parent, "pro") if post.parent else "pro"
            flip = post.kind == "comment" and bool(ATTACK_OPENERS.match(text))
            post_role[unit.post] = ("opp" if parent_role == "pro" else "pro") if flip else parent_role
        base = post_role[unit.post]
        other = "opp" if base == "pro" else "pro"
        if CONCESSION.match(text):
            roles.append(other)
        elif CONTRAST.match(text) or not roles or first:
            roles.append(base)
        else:
            roles.append(roles[-1] if doc.units[i - 1].post == unit.post else base)
    return roles


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Scorer:
    """P(link) and P(attack | link) from feature dicts; weights are plain JSON."""

    link_weights: dict[str, float]
    label_weights: dict[str, float]
    meta: dict | None = None
    reply_link_weights: dict[str, float] | None = None  # P(link) across posts; None: link_weights
    reply_label_weights: dict[str, float] | None = None  # P(attack | link) across posts; None: label_weights
    features: dict = field(default_factory=lambda: dict(FEATURE_SETTINGS))  # how the features were computed

    def link_probability(self, rows: list[dict]) -> np.ndarray:
        """P(link): inside a post and across a reply by separate models (replies link far more often)."""
        return self._by_context(self.link_weights, self.reply_link_weights, rows)

    def attack_probability(self, rows: list[dict]) -> np.ndarray:
        """P(attack | link): replies are read by their own model (stance towards another writer)."""
        return self._by_context(self.label_weights, self.reply_label_weights, rows)

    def _by_context(self, inside: dict[str, float], across: dict[str, float] | None, rows: list[dict]) -> np.ndarray:
        if across is None or not rows:
            return self._apply(inside, rows)
        same = np.array([row["same_post"] for row in rows]) > 0
        return np.where(same, self._apply(inside, rows), self._apply(across, rows))

    @staticmethod
    def _apply(weights: dict[str, float], rows: list[dict]) -> np.ndarray:
        if not rows:
            return np.zeros(0)
        names = list(weights)
        x = np.array([[row[name] for name in names] for row in rows], dtype=float)
        return _sigmoid(x @ np.array([weights[name] for name in names]))

    def combine(self, rows: list[dict]) -> list[PairScores]:
        """Final support/attack/none probabilities for each pair."""
        link = self.link_probability(rows)
        attack = self.attack_probability(rows)
        return [PairScores(float(p * (1 - q)), float(p * q), float(1 - p)) for p, q in zip(link, attack)]

    def save(self, folder: Path) -> None:
        from argmine.files import write_text

        data = {
            "format": "argmine.relations.scorer",
            "version": 1,
            "link_weights": self.link_weights,
            "label_weights": self.label_weights,
            "reply_link_weights": self.reply_link_weights,
            "reply_label_weights": self.reply_label_weights,
            "features": self.features,
            "meta": self.meta or {},
        }
        write_text(str(Path(folder) / SCORER_FILE), json.dumps(data, indent=1) + "\n")

    @classmethod
    def load(cls, folder: str | Path) -> Scorer | None:
        path = Path(folder) / SCORER_FILE
        if not path.is_file():
            return None
        data = jsonio.read_object(path, ModelError)
        if not isinstance(data.get("link_weights"), dict) or not isinstance(data.get("label_weights"), dict):
            raise ModelError(f"{path} is not a second-stage scorer (no link_weights and label_weights)")
        return cls(
            data["link_weights"],
            data["label_weights"],
            data.get("meta"),
            data.get("reply_link_weights"),
            data.get("reply_label_weights"),
            {**FEATURE_SETTINGS, **data.get("features", {})},
        )

    def features_of(self, doc: Document, pairs: list[tuple[int, int]], scores: dict, matrix=None, post_scores=None) -> list[dict]:
        """Feature rows computed as this scorer was fitted on them."""
        return pair_features(doc, pairs, scores, matrix, post_scores, **self.features)


def fit_logistic(
    rows: list[dict], y: list[int], names: list[str], c: float = 1.0, balanced: bool = False, weights: list[float] | None = None
) -> dict[str, float]:
    """Fit an L2 logistic regression (scikit-learn) and return named weights, bias included."""
    from sklearn.linear_model import LogisticRegression

    x = np.array([[row[n] for n in names if n != "bias"] for row in rows], dtype=float)
    # A feature constant in the fitting data (reply links in single-post corpora) carries no
    # evidence: its weight stays 0 so it cannot shift pairs where it takes another value.
    varying = x.std(axis=0) > 0
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced" if balanced else None)
    model.fit(x[:, varying], np.array(y), sample_weight=None if weights is None else np.array(weights))
    coef = iter(model.coef_[0])
    out = {"bias": float(model.intercept_[0])}
    out.update({n: float(next(coef)) if v else 0.0 for n, v in zip([n for n in names if n != "bias"], varying)})
    return {k: round(v, 6) for k, v in out.items()}

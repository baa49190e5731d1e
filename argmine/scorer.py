"""Second stage: combine the pair model's probabilities (both directions) with thread structure.

The pair model sees two texts; it cannot see reply links, distance, position, discourse markers or
question form. Two logistic regressions over those features give P(link) for a directed pair and
P(attack | link); they are fitted on documents held out from fine-tuning and stored as plain JSON
(``argmine_scorer.json``) next to the checkpoint.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from argmine.candidates import tfidf
from argmine.document import Document
from argmine.relations import PairScores

SCORER_FILE = "argmine_scorer.json"

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
    "p_support", "p_attack", "p_none", "p_support_rev", "p_attack_rev", "p_none_rev",
    "same_post", "target_in_parent", "target_in_previous", "target_other_post",
    "dist_prev_1", "dist_prev_2", "dist_prev_far", "dist_next_1", "dist_next_far",
    "target_first_in_post", "source_first_in_post", "target_is_title", "target_in_article",
    "source_question", "target_question", "source_attack_opener", "source_support_opener",
    "gap_attack", "gap_support", "similarity", "negation_mismatch", "target_position", "source_position",
    "most_similar", "most_likely",
]
# The label model sees no pair-model output: measured on held-out training documents, the pair
# model's support/attack split does not transfer, and without it the label model can be fitted on
# every gold link of the document corpora without leaking the pair model's training data.
LABEL_FEATURES = [
    "bias", "source_question", "source_attack_opener", "source_support_opener", "gap_attack", "gap_support",
    "negation_mismatch", "source_concession", "target_concession", "source_contrast", "role_flip",
    "target_before", "similarity",
]


def pair_features(
    doc: Document, pairs: list[tuple[int, int]], scores: dict[tuple[int, int], PairScores], matrix=None
) -> list[dict]:
    """One feature dict per directed candidate pair (source index, target index); ``matrix`` is the
    units' TF-IDF when the caller already built it for the candidates."""
    units = doc.units
    post_of = {p.id: p for p in doc.posts}
    rank = {p.id: i for i, p in enumerate(doc.posts)}
    previous_comment = {}
    last = None
    for p in doc.posts:
        if p.kind == "comment":
            previous_comment[p.id] = last
            last = p.id
    first_in_post = {}
    position_in_post = {}
    for i, u in enumerate(units):
        first_in_post.setdefault(u.post, i)
        position_in_post[i] = i - first_in_post[u.post]
    if matrix is None:
        matrix = tfidf([u.text for u in units])
    n = max(1, len(units) - 1)
    role = _roles(doc)
    if matrix is not None and pairs:
        src, tgt = [a for a, _ in pairs], [b for _, b in pairs]
        values = np.asarray(matrix[src].multiply(matrix[tgt]).sum(axis=1)).ravel()
        sims = {pair: float(v) for pair, v in zip(pairs, values)}
    else:
        sims = {pair: 0.0 for pair in pairs}
    best_sim: dict[int, float] = {}
    best_link: dict[int, float] = {}
    for a, b in pairs:
        best_sim[a] = max(best_sim.get(a, 0.0), sims[(a, b)])
        best_link[a] = max(best_link.get(a, 0.0), 1 - scores[(a, b)].none)
    rows = []
    for a, b in pairs:
        ua, ub = units[a], units[b]
        fwd = scores[(a, b)]
        rev = scores.get((b, a), PairScores(0.0, 0.0, 1.0))
        same = ua.post == ub.post
        d = a - b  # > 0: the target comes before the source
        gap = doc.text[min(ua.end, ub.end) : max(ua.start, ub.start)] if same and abs(d) == 1 else ""
        sim = sims[(a, b)]
        neg_a, neg_b = bool(NEGATION.search(ua.text)), bool(NEGATION.search(ub.text))
        f = {
            "bias": 1.0,
            "p_support": fwd.support, "p_attack": fwd.attack, "p_none": fwd.none,
            "p_support_rev": rev.support, "p_attack_rev": rev.attack, "p_none_rev": rev.none,
            "same_post": float(same),
            "target_in_parent": float(post_of[ua.post].parent == ub.post),
            "target_in_previous": float(doc.flat and previous_comment.get(ua.post) == ub.post),
            "target_other_post": float(not same and post_of[ua.post].parent != ub.post),
            "dist_prev_1": float(same and d == 1),
            "dist_prev_2": float(same and d == 2),
            "dist_prev_far": float(same and d > 2),
            "dist_next_1": float(same and d == -1),
            "dist_next_far": float(same and d < -1),
            "target_first_in_post": float(position_in_post[b] == 0),
            "source_first_in_post": float(position_in_post[a] == 0),
            "target_is_title": float(post_of[ub.post].kind == "title"),
            "target_in_article": float(post_of[ub.post].kind == "article" and rank[ub.post] < rank[ua.post]),
            "source_question": float(ua.text.rstrip().endswith("?")),
            "target_question": float(ub.text.rstrip().endswith("?")),
            "source_attack_opener": float(bool(ATTACK_OPENERS.match(ua.text.strip("“”\"' ")))),
            "source_support_opener": float(bool(SUPPORT_OPENERS.match(ua.text.strip("“”\"' ")))),
            "gap_attack": float(d == 1 and bool(GAP_ATTACK.search(gap))),
            "gap_support": float(d == 1 and bool(GAP_SUPPORT.search(gap))),
            "similarity": sim,
            "negation_mismatch": float(neg_a != neg_b and sim > 0.1),
            "target_position": b / n,
            "source_position": a / n,
        }
        f["most_similar"] = float(sim > 0 and sim >= best_sim[a])
        f["most_likely"] = float(1 - fwd.none >= best_link[a])
        src_text, tgt_text = ua.text.strip("“”\"' "), ub.text.strip("“”\"' ")
        f["source_concession"] = float(bool(CONCESSION.match(src_text)))
        f["target_concession"] = float(bool(CONCESSION.match(tgt_text)))
        f["source_contrast"] = float(bool(CONTRAST.match(src_text)))
        f["role_flip"] = float(role[a] != role[b])
        f["target_before"] = float(b < a)
        rows.append(f)
    return rows


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
    link_threshold: float = 0.5
    meta: dict | None = None

    def link_probability(self, rows: list[dict]) -> np.ndarray:
        return self._apply(self.link_weights, rows)

    def attack_probability(self, rows: list[dict]) -> np.ndarray:
        return self._apply(self.label_weights, rows)

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
        data = {
            "format": "argmine.scorer",
            "version": 1,
            "link_threshold": self.link_threshold,
            "link_weights": self.link_weights,
            "label_weights": self.label_weights,
            "meta": self.meta or {},
        }
        (Path(folder) / SCORER_FILE).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: str | Path) -> Scorer | None:
        path = Path(folder) / SCORER_FILE
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["link_weights"], data["label_weights"], data.get("link_threshold", 0.5), data.get("meta"))


def fit_logistic(rows: list[dict], y: list[int], names: list[str], c: float = 1.0, balanced: bool = False) -> dict[str, float]:
    """Fit an L2 logistic regression (scikit-learn) and return named weights, bias included."""
    from sklearn.linear_model import LogisticRegression

    x = np.array([[row[n] for n in names if n != "bias"] for row in rows], dtype=float)
    # A feature constant in the fitting data (reply links in single-post corpora) carries no
    # evidence: its weight stays 0 so it cannot shift pairs where it takes another value.
    varying = x.std(axis=0) > 0
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced" if balanced else None)
    model.fit(x[:, varying], np.array(y))
    coef = iter(model.coef_[0])
    weights = {"bias": float(model.intercept_[0])}
    weights.update({n: float(next(coef)) if v else 0.0 for n, v in zip([n for n in names if n != "bias"], varying)})
    return {k: round(v, 6) for k, v in weights.items()}

"""Candidate pairs: which unit pairs the relation model scores (not all n^2).

Units near each other in one post, a comment's units against its parent post (and, in flat
plain-text threads, the comment above), plus each unit's top-k most similar units by TF-IDF.
Every unordered candidate is scored in both directions.
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from argmine.document import Document


def candidate_pairs(doc: Document, cfg: dict) -> list[tuple[int, int]]:
    """Directed (source, target) unit-index pairs, sorted, each unordered pair in both directions."""
    units = doc.units
    index_by_post: dict[str, list[int]] = {}
    for i, unit in enumerate(units):
        index_by_post.setdefault(unit.post, []).append(i)
    undirected: set[tuple[int, int]] = set()

    def add(a: int, b: int) -> None:
        if a != b:
            undirected.add((min(a, b), max(a, b)))

    for members in index_by_post.values():
        for pos, a in enumerate(members):
            for b in members[pos + 1 : pos + 1 + cfg["window"]]:
                add(a, b)
    previous: str | None = None
    for post in doc.posts:
        mine = index_by_post.get(post.id, [])
        partners: list[str] = []
        if cfg["parent"] and post.parent is not None:
            partners.append(post.parent)
        if cfg["previous_post"] and doc.flat and post.kind == "comment" and previous is not None:
            partners.append(previous)
        for other in partners:
            for a in mine:
                for b in index_by_post.get(other, []):
                    add(a, b)
        if post.kind == "comment":
            previous = post.id
    for a, b in similar_pairs([u.text for u in units], cfg["top_k_similar"], cfg["min_similarity"]):
        add(a, b)
    return sorted(d for a, b in undirected for d in ((a, b), (b, a)))


def similar_pairs(texts: list[str], k: int, min_similarity: float, chunk: int = 1024) -> list[tuple[int, int]]:
    """Each text's k most similar other texts by TF-IDF cosine (deterministic; sparse, chunked)."""
    if k <= 0 or len(texts) < 2:
        return []
    try:
        matrix = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(texts)
    except ValueError:  # only stop words: nothing to compare
        return []
    pairs: list[tuple[int, int]] = []
    for lo in range(0, len(texts), chunk):
        sims = (matrix[lo : lo + chunk] @ matrix.T).toarray()
        for row, i in enumerate(range(lo, min(lo + chunk, len(texts)))):
            sims[row, i] = -1.0
            top = np.argsort(-sims[row], kind="stable")[:k]
            pairs.extend((i, int(j)) for j in top if sims[row, j] >= min_similarity)
    return pairs

"""Candidate pairs: which unit pairs the relation model scores (not all n^2).

Units near each other in one post, a comment's units against its parent post (and, in flat
plain-text threads, the comment above), plus each unit's top-k most similar units by TF-IDF.
Every unordered candidate is scored in both directions.
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from argmine.document import Document


def candidate_pairs(doc: Document, cfg: dict, matrix=None) -> list[tuple[int, int]]:
    """Directed (source, target) unit-index pairs, sorted, each unordered pair in both directions.

    ``matrix`` is the units' TF-IDF (``tfidf``) when the caller already has it."""
    units = doc.units
    index_by_post: dict[str, list[int]] = {}
    for i, unit in enumerate(units):
        index_by_post.setdefault(unit.post, []).append(i)
    if matrix is None:
        matrix = tfidf([u.text for u in units])
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
            for a, b in _closest(matrix, mine, index_by_post.get(other, []), cfg["parent_limit"]):
                add(a, b)
        if post.kind == "comment":
            previous = post.id
    for a, b in similar_pairs(matrix, cfg["top_k_similar"], cfg["min_similarity"]):
        add(a, b)
    return sorted(d for a, b in undirected for d in ((a, b), (b, a)))


def tfidf(texts: list[str]):
    """Sparse, L2-normalised TF-IDF rows (None when there is nothing to compare)."""
    if len(texts) < 2:
        return None
    try:
        return TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(texts)
    except ValueError:  # only stop words
        return None


def _closest(matrix, mine: list[int], theirs: list[int], limit: int) -> list[tuple[int, int]]:
    """Pair each of ``mine`` with all of ``theirs`` when few; else with the first (the lead) and the most similar."""
    if len(theirs) <= limit or matrix is None:
        return [(a, b) for a in mine for b in theirs]
    if not mine:
        return []
    sims = (matrix[mine] @ matrix[theirs[1:]].T).toarray()
    pairs = []
    for row, a in enumerate(mine):
        pairs.append((a, theirs[0]))
        pairs.extend((a, theirs[1 + int(j)]) for j in np.argsort(-sims[row], kind="stable")[: limit - 1])
    return pairs


def similar_pairs(matrix, k: int, min_similarity: float, chunk: int = 1024) -> list[tuple[int, int]]:
    """Each row's k most similar other rows by cosine; ties go to the earlier unit (deterministic)."""
    if k <= 0 or matrix is None:
        return []
    n = matrix.shape[0]
    pairs: list[tuple[int, int]] = []
    for lo in range(0, n, chunk):
        sims = (matrix[lo : lo + chunk] @ matrix.T).tocsr()
        for row in range(sims.shape[0]):
            i = lo + row
            cols = sims.indices[sims.indptr[row] : sims.indptr[row + 1]]
            vals = sims.data[sims.indptr[row] : sims.indptr[row + 1]]
            keep = (cols != i) & (vals >= min_similarity)
            cols, vals = cols[keep], vals[keep]
            top = np.lexsort((cols, -vals))[:k]
            pairs.extend((i, int(cols[j])) for j in top)
    return pairs

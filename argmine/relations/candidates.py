"""Candidate pairs: which directed unit pairs the relation model scores (not all n^2).

Inside a post: units near each other, in both directions. Across posts, replies point back: a unit
of a comment is paired with the units of the post it answers (and, in flat plain-text threads, the
comment just above, whose reply link is unknown), an article unit with the title, and each unit with
its top-k most similar units of the posts it may answer (TF-IDF). No unit is ever paired with a
unit of a post that comes after its own.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from argmine.document import Answerable, Document, answered_posts, posts_above
from argmine.reading.layout import english_stop_words
from argmine.settings import CandidateSettings


def candidate_pairs(doc: Document, cfg: CandidateSettings, matrix=None) -> list[tuple[int, int]]:
    """Directed (source, target) unit-index pairs, sorted: within a post both ways, across posts only
    from the later post back to the one it answers. ``matrix`` is the units' TF-IDF when the caller has it."""
    units = doc.units
    index_by_post: dict[str, list[int]] = {}
    for i, unit in enumerate(units):
        index_by_post.setdefault(unit.post, []).append(i)
    if matrix is None:
        matrix = tfidf([u.text for u in units])
    allowed = Answerable(doc)
    directed: set[tuple[int, int]] = set()

    def add(a: int, b: int) -> None:
        if a == b:
            return
        if units[a].post == units[b].post:
            directed.update(((a, b), (b, a)))
        elif allowed(units[a].post, units[b].post):
            directed.add((a, b))
        elif allowed(units[b].post, units[a].post):
            directed.add((b, a))

    for members in index_by_post.values():
        for pos, a in enumerate(members):
            for b in members[pos + 1 : pos + 1 + cfg.window]:
                add(a, b)
    titles = [p.id for p in doc.posts if p.kind == "title"]
    answered = answered_posts(doc)
    above = posts_above(doc, comments_only=True, with_units=True)
    for post in doc.posts:
        mine = index_by_post.get(post.id, [])
        partners: list[str] = []
        if cfg.parent and answered[post.id] is not None:
            partners.append(answered[post.id])
        previous = above.get(post.id)
        if cfg.previous_post and doc.flat and post.kind == "comment" and previous is not None and previous != post.parent:
            partners.append(previous)
        if post.kind == "article":
            partners += titles
        for other in partners:
            for a, b in _closest(matrix, mine, index_by_post.get(other, []), cfg.parent_limit):
                add(a, b)
    for a, b in similar_pairs(matrix, cfg.top_k_similar, cfg.min_similarity):
        add(a, b)
    return sorted(directed)


def pair_contexts(doc: Document, pairs: list[tuple[int, int]]) -> list[str]:
    """``post`` when both units sit in one post, ``reply`` when the source's post answers the target's."""
    return ["post" if doc.units[a].post == doc.units[b].post else "reply" for a, b in pairs]


TOKEN = re.compile(r"(?u)\b\w\w+\b")


def tfidf(texts: list[str]):
    """Sparse, L2-normalised TF-IDF rows (None when there is nothing to compare): scikit-learn's
    ``TfidfVectorizer(stop_words="english", sublinear_tf=True)`` computed here with scipy alone, because
    importing scikit-learn costs about a second of a cold start (the tests check both agree)."""
    if len(texts) < 2:
        return None
    from scipy import sparse

    stop = english_stop_words()
    counts = [Counter(w for w in TOKEN.findall(t.lower()) if w not in stop) for t in texts]
    vocabulary = sorted(set().union(*counts))
    if not vocabulary:  # only stop words
        return None
    column = {w: j for j, w in enumerate(vocabulary)}
    indptr, indices, data = [0], [], []
    for words in counts:
        row = sorted((column[w], n) for w, n in words.items())
        indices.extend(j for j, _ in row)
        data.extend(n for _, n in row)
        indptr.append(len(indices))
    n = len(texts)
    matrix = sparse.csr_matrix(
        (np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int32), np.asarray(indptr, dtype=np.int32)),
        shape=(n, len(vocabulary)),
    )
    df = np.bincount(matrix.indices, minlength=len(vocabulary))
    np.log(matrix.data, out=matrix.data)  # sublinear tf: 1 + log(count)
    matrix.data += 1.0
    matrix.data *= (np.log((1 + n) / (1 + df)) + 1.0)[matrix.indices]  # smoothed idf
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    matrix.data /= np.repeat(norms, np.diff(matrix.indptr))
    return matrix


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

import networkx as nx

from argmine.candidates import candidate_pairs, similar_pairs, tfidf
from argmine.config import load_config
from argmine.decoding import decode_trees, nest
from argmine.document import Document, Post, Relation, Unit

CFG = load_config()


def thread(n_article=12, n_comment=3):
    text = ""
    units, posts = [], []
    for i in range(n_article):
        text += f"Article sentence {i} about topic{i}. "
    posts.append(Post("article", "article", 0, len(text)))
    comment_start = len(text)
    for i in range(n_comment):
        text += f"Reply {i} on topic{i}. "
    posts.append(Post("c1", "comment", comment_start, len(text), parent="article"))
    doc = Document("t", text, posts)
    import re
    for m in re.finditer(r"[^.]+\.", text):
        s, e = m.start() + (1 if text[m.start()] == " " else 0), m.end()
        post = "article" if s < comment_start else "c1"
        units.append(Unit(f"u{len(units) + 1}", post, s, e, text[s:e]))
    return doc.with_units(units)


def test_candidates_are_windowed_parent_and_similar_pairs_in_both_directions():
    doc = thread()
    pairs = candidate_pairs(doc, {**CFG["candidates"], "top_k_similar": 0, "window": 3})
    n = len(doc.units)
    assert len(pairs) < n * (n - 1)
    assert all((b, a) in pairs for a, b in pairs)
    # window: article units 0 and 3 are paired, 0 and 4 are not (without similarity)
    assert (0, 3) in pairs and (0, 4) not in pairs
    # every comment unit meets every article unit (its parent post)
    assert all((c, a) in pairs for c in range(12, 15) for a in range(12))


def test_similarity_adds_topk_pairs():
    texts = ["cats chase mice", "dogs chase cats", "the stock market fell", "markets fell sharply today"]
    pairs = similar_pairs(tfidf(texts), k=1, min_similarity=0.05)
    assert (0, 1) in pairs and (2, 3) in pairs


def test_decoding_gives_a_forest_with_the_strongest_parents():
    doc = thread(4, 0)
    rels = [
        Relation("u2", "u1", "support", 0.9),
        Relation("u1", "u2", "attack", 0.6),   # would close a cycle
        Relation("u3", "u1", "attack", 0.8),
        Relation("u3", "u2", "support", 0.7),  # weaker alternative parent
        Relation("u4", "u3", "support", 0.55),
    ]
    attached = decode_trees(doc, [], [], rels)
    assert {c: (r.target, r.label) for c, r in attached.items()} == {
        "u2": ("u1", "support"), "u3": ("u1", "attack"), "u4": ("u3", "support")}
    g = nx.DiGraph([(r.target, c) for c, r in attached.items()])
    assert nx.is_forest(g.to_undirected()) and nx.is_directed_acyclic_graph(g)
    trees = nest(doc, attached)
    assert [t["unit"] for t in trees] == ["u1"]
    assert [(c["unit"], c["label"]) for c in trees[0]["children"]] == [("u2", "support"), ("u3", "attack")]


def test_forward_only_forbids_attaching_to_a_later_post():
    doc = thread(1, 1)
    rels = [Relation("u1", "u2", "support", 0.9)]  # article unit -> comment unit
    assert decode_trees(doc, [], [], rels, forward_only=True) == {}
    assert "u1" in decode_trees(doc, [], [], rels, forward_only=False)


def test_post_trees_attach_every_unit_of_a_post_but_its_root():
    from argmine.relations import PairScores

    doc = thread(4, 2)  # u1..u4 article, u5..u6 comment
    pairs = [(a, b) for a in range(6) for b in range(6) if a != b and (a < 4) == (b < 4)]
    # u3 (index 2) looks like the article's claim: everything points at it, it points nowhere.
    scores = [PairScores(0.3, 0.05, 0.65) if b == 2 else PairScores(0.05, 0.02, 0.93) for a, b in pairs]
    attached = decode_trees(doc, pairs, scores, [], post_trees=True)
    assert set(attached) == {"u1", "u2", "u4", "u6"} or set(attached) == {"u1", "u2", "u4", "u5"}
    assert all(attached[u].target == "u3" for u in ("u1", "u2", "u4"))
    # without post trees and with no relation above threshold nothing is attached
    assert decode_trees(doc, pairs, scores, [], post_trees=False) == {}


def test_large_parent_posts_are_capped_so_pairs_grow_linearly():
    doc = thread(n_article=40, n_comment=2)
    cfg = {**CFG["candidates"], "top_k_similar": 0, "parent_limit": 5}
    pairs = candidate_pairs(doc, cfg)
    for c in (40, 41):
        partners = {b for a, b in pairs if a == c and b < 40}
        assert len(partners) == 5 and 0 in partners  # the lead plus the closest
    # "Reply 0 on topic0" is closest to "Article sentence 0 about topic0"
    assert (41, 1) in pairs

import networkx as nx

from argmine.decoding.trees import Decision, confident_tree, decode_trees
from argmine.document import Document, PairScores, Post, Relation, Unit
from argmine.graph import forest, nest
from argmine.relations.candidates import candidate_pairs, similar_pairs, tfidf
from argmine.settings import load_settings

CFG = load_settings()


def cand(**changes):
    """The candidate settings with some values changed."""
    return CFG.candidates.model_copy(update=changes)


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


def test_candidates_are_windowed_inside_posts_and_point_back_across_posts():
    doc = thread()
    pairs = candidate_pairs(doc, cand(top_k_similar=0, window=3))
    n = len(doc.units)
    assert len(pairs) < n * (n - 1)
    # window: article units 0 and 3 are paired both ways, 0 and 4 are not (without similarity)
    assert (0, 3) in pairs and (3, 0) in pairs and (0, 4) not in pairs
    # every comment unit meets every article unit (its parent post), never the other way round
    assert all((c, a) in pairs for c in range(12, 15) for a in range(12))
    assert not any(a < 12 <= b for a, b in pairs)


def test_similar_units_of_a_later_post_are_never_targets():
    doc = thread(3, 3)
    pairs = candidate_pairs(doc, cand(parent=False, window=0, top_k_similar=3, min_similarity=0.0))
    assert any(a >= 3 > b for a, b in pairs)  # comment -> article
    assert not any(a < 3 <= b for a, b in pairs)  # never article -> comment


def test_article_units_may_answer_the_title():
    text = "Ban cars downtown\n\nThe council wants to ban cars. Shops fear the loss."
    posts = [Post("title", "title", 0, 17), Post("article", "article", 19, len(text))]
    doc = Document("t", text, posts)
    units = [
        Unit("u1", "title", 0, 17, text[:17]),
        Unit("u2", "article", 19, 49, text[19:49]),
        Unit("u3", "article", 50, len(text), text[50:]),
    ]
    pairs = candidate_pairs(doc.with_units(units), CFG.candidates)
    assert (1, 0) in pairs and (2, 0) in pairs and (0, 1) not in pairs


def test_similarity_adds_topk_pairs():
    texts = ["cats chase mice", "dogs chase cats", "the stock market fell", "markets fell sharply today"]
    pairs = similar_pairs(tfidf(texts), k=1, min_similarity=0.05)
    assert (0, 1) in pairs and (2, 3) in pairs


def scored(doc, table, default=PairScores(0.02, 0.01, 0.97)):
    """Candidate pairs with scores from ``table`` ((source, target) index -> PairScores)."""
    pairs = candidate_pairs(doc, cand(top_k_similar=0))
    return pairs, [table.get(p, default) for p in pairs]


def test_each_post_is_one_tree_whose_root_answers_the_parent_post():
    doc = thread(4, 2)  # u1..u4 article, u5..u6 comment
    table = {
        (0, 2): PairScores(0.6, 0.1, 0.3),
        (1, 2): PairScores(0.7, 0.1, 0.2),
        (3, 2): PairScores(0.5, 0.1, 0.4),
        (4, 5): PairScores(0.8, 0.1, 0.1),
        # the comment's second unit attacks article unit 3 strongly; its first unit is weakly linked
        (5, 1): PairScores(0.05, 0.9, 0.05),
        (4, 1): PairScores(0.1, 0.2, 0.7),
    }
    pairs, scores = scored(doc, table)
    relations, attached = decode_trees(doc, pairs, scores, Decision.default(threshold=0.3, reply_threshold=0.3))
    got = {c: (r.target, r.label) for c, r in attached.items()}
    assert got["u1"] == ("u3", "support") and got["u2"] == ("u3", "support") and got["u4"] == ("u3", "support")
    # root and target chosen jointly: u6 answers the article and u5 hangs under u6
    assert got["u6"] == ("u2", "attack") and got["u5"] == ("u6", "support")
    assert "u3" not in attached
    g = nx.DiGraph([(r.target, c) for c, r in attached.items()])
    assert nx.is_forest(g.to_undirected()) and nx.is_directed_acyclic_graph(g)
    trees = nest(doc, attached)
    assert [t.unit for t in trees] == ["u3"]
    assert {r.source for r in relations} == set(attached)


def test_links_below_the_threshold_are_left_out_and_units_become_roots():
    doc = thread(3, 1)
    table = {(1, 0): PairScores(0.6, 0.1, 0.3), (2, 0): PairScores(0.2, 0.05, 0.75), (3, 0): PairScores(0.1, 0.15, 0.75)}
    pairs, scores = scored(doc, table)
    relations, tree = decode_trees(doc, pairs, scores, Decision.default(threshold=0.5, reply_threshold=0.5))
    assert [(r.source, r.target, r.label) for r in relations] == [("u2", "u1", "support")]
    # the decoded tree keeps every link (attachment is measured on it); the output's trees only confident ones
    assert set(tree) == {"u2", "u3", "u4"} and tree["u4"].target == "u1" and tree["u4"].label == "attack"
    shown = confident_tree(tree, relations)
    assert set(shown) == {"u2"}
    assert [t.unit for t in nest(doc, shown)] == ["u1", "u3", "u4"]


def test_a_unit_under_its_post_root_may_also_answer_the_post_above():
    doc = thread(3, 2)  # u1..u3 article, u4..u5 comment
    table = {
        (1, 0): PairScores(0.6, 0.1, 0.3),
        (2, 1): PairScores(0.6, 0.1, 0.3),
        (3, 0): PairScores(0.05, 0.9, 0.05),
        (4, 3): PairScores(0.8, 0.05, 0.15),
        (4, 2): PairScores(0.05, 0.7, 0.25),
        (4, 1): PairScores(0.05, 0.65, 0.3),
    }
    pairs, scores = scored(doc, table)
    relations, attached = decode_trees(
        doc, pairs, scores, Decision.default(threshold=0.3, reply_threshold=0.3, extra_threshold=0.6)
    )
    assert attached["u4"].target == "u1" and attached["u5"].target == "u4"
    got = {(r.source, r.target, r.label) for r in relations}
    # u5's best reply link is kept beside its tree edge; its second best is not, nor any more from the root u4
    assert ("u5", "u3", "attack") in got and ("u5", "u2", "attack") not in got
    assert [r.source for r in relations].count("u4") == 1
    relations, _ = decode_trees(doc, pairs, scores, Decision.default(threshold=0.3, reply_threshold=0.3, extra_threshold=0.8))
    assert ("u5", "u3", "attack") not in {(r.source, r.target, r.label) for r in relations}


def test_reply_links_have_their_own_threshold():
    doc = thread(2, 1)
    table = {(1, 0): PairScores(0.4, 0.1, 0.5), (2, 0): PairScores(0.1, 0.4, 0.5)}
    pairs, scores = scored(doc, table)
    relations, _ = decode_trees(doc, pairs, scores, Decision.default(threshold=0.5, reply_threshold=0.3))
    assert [(r.source, r.target) for r in relations] == [("u3", "u1")]
    relations, _ = decode_trees(doc, pairs, scores, Decision.default(threshold=0.3, reply_threshold=0.5))
    assert [(r.source, r.target) for r in relations] == [("u2", "u1")]


def test_forest_over_given_relations_keeps_the_strongest_parent():
    doc = thread(4, 0)
    rels = [
        Relation("u2", "u1", "support", 0.9),
        Relation("u1", "u2", "attack", 0.6),  # would close a cycle
        Relation("u3", "u1", "attack", 0.8),
        Relation("u3", "u2", "support", 0.7),  # weaker alternative parent
        Relation("u4", "u3", "support", 0.55),
    ]
    attached = forest(doc, rels)
    assert {c: (r.target, r.label) for c, r in attached.items()} == {
        "u2": ("u1", "support"),
        "u3": ("u1", "attack"),
        "u4": ("u3", "support"),
    }


def test_large_parent_posts_are_capped_so_pairs_grow_linearly():
    doc = thread(n_article=40, n_comment=2)
    cfg = cand(top_k_similar=0, parent_limit=5)
    pairs = candidate_pairs(doc, cfg)
    for c in (40, 41):
        partners = {b for a, b in pairs if a == c and b < 40}
        assert len(partners) == 5 and 0 in partners  # the lead plus the closest
    # "Reply 0 on topic0" is closest to "Article sentence 0 about topic0"
    assert (41, 1) in pairs

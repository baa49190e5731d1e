import random

import pytest

from argmine.errors import InputError
from argmine.evaluation import corpora
from tests.conftest import FIXTURES

C = FIXTURES / "corpora"


def texts(doc):
    return [u.text for u in doc.units]


def rels(doc):
    return sorted((s, t, label) for (s, t), label in corpora.gold_links(doc).items())


def test_microtexts_joins_segments_and_maps_rebuttals_and_undercuts_to_attacks():
    (doc,) = corpora.read_microtexts(C / "microtexts")
    assert texts(doc) == [
        "Schools should require uniforms.",
        "Uniforms stop children from competing over brands and they save parents money.",
        "Some say uniforms limit self-expression.",
        "But children can still express themselves in their hobbies.",
    ]
    # a4 undercuts the edge a3 -> a1: it attacks that edge's source, a3
    assert rels(doc) == [(1, 0, "support"), (2, 0, "attack"), (3, 2, "attack")]


def test_cdcp_reasons_and_evidences_support():
    (doc,) = corpora.read_cdcp(C / "cdcp")
    assert texts(doc)[1] == "They called me six times in one day."  # trailing space trimmed
    assert rels(doc) == [(0, 2, "support"), (1, 0, "support")]


def test_web_discourse_xmi():
    (doc,) = corpora.read_web_discourse(C / "web-discourse")
    assert texts(doc)[0] == "Homework should be banned."
    assert rels(doc) == [(1, 0, "support"), (2, 0, "attack"), (3, 2, "attack")]


def test_pair_corpora():
    deb = corpora.read_debatepedia(C / "debatepedia")
    assert [(p.text_a, p.label) for p in deb] == [
        ("Children need free time to play.", "support"),
        ("Homework builds discipline.", "attack"),
        ("Air pollution downtown is dangerous.", "support"),
    ]
    assert [p.label for p in corpora.read_political_debates(C / "political.tsv")] == ["support", "attack", "none"]
    (ibm,) = corpora.read_ibm_claim_stance(C / "ibm.csv")
    assert (ibm.text_b, ibm.label) == ("We should ban homework", "support")
    assert [p.label for p in corpora.read_argkp(C / "argkp")] == ["support", "attack"]
    assert [p.label for p in corpora.read_pair_file(C / "pairs.jsonl")] == ["support", "attack", "none"]
    assert corpora.read_pair_file(C / "pairs.csv")[1].text_a == "Homework, they say, builds discipline."


def test_bad_pair_file(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text_a": "x", "text_b": "y", "label": "maybe"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="record 1"):
        corpora.read_pair_file(bad)


def test_document_pairs_add_reversed_and_sampled_none_pairs():
    (doc,) = corpora.read_microtexts(C / "microtexts")
    pairs = corpora.doc_pairs(doc, "micro", none_ratio=1.0, rng=random.Random(0))
    labelled = {(p.text_a[:8], p.text_b[:8]): p.label for p in pairs}
    assert labelled[("Uniforms", "Schools ")] == "support"
    assert labelled[("Schools ", "Uniforms")] == "none"  # reversed gold link: a hard negative
    assert sum(p.label == "none" for p in pairs) == 3 + 3  # 3 reversed + ratio x 3 links


def test_argmine_graph_as_gold(tmp_path, tiny_model):
    import json

    from typer.testing import CliRunner

    from argmine.cli import app

    out = tmp_path / "g.json"
    CliRunner().invoke(app, ["analyze", str(FIXTURES / "thread.json"), "--model", str(tiny_model), "-o", str(out), "-q"])
    graph = json.loads(out.read_text(encoding="utf-8"))
    (doc,) = corpora.read_argmine_graphs([out])
    assert len(doc.units) == len(graph["units"]) and len(doc.relations) == len(graph["relations"])
    assert [p.kind for p in doc.posts][:2] == ["title", "article"]


def test_hard_none_pairs_come_from_another_debate():
    pairs = corpora.read_debatepedia(C / "debatepedia")  # two debates: homework, cars
    nones = corpora.group_none_pairs(pairs, ratio=1.0, rng=random.Random(0))
    assert len(nones) == len(pairs) and {p.label for p in nones} == {"none"}
    by_text = {p.text_a: p.text_b for p in pairs}
    for p in nones:
        assert p.text_b != by_text[p.text_a]  # never the argument's own claim
        assert p.text_b in set(by_text.values())


def test_qt30_turns_become_posts_and_replies_point_back():
    (doc,) = corpora.read_qt30(C / "qt30")
    assert [(p.id, p.kind, p.parent, p.author) for p in doc.posts] == [
        ("t1", "article", None, "Ann Lee"),
        ("t2", "comment", "t1", "Bob Roy"),
        ("t3", "comment", "t2", "Ann Lee"),
    ]
    # the annotator's edge-less copy of a locution is not part of the dialogue
    assert doc.text.count("far too early") == 1
    # a proposition found verbatim is narrowed to its words; a reworded one keeps its locution
    assert texts(doc) == [
        "Schools should reopen in June",
        "Children are falling behind",
        "That is far too early.",
        "Bob is right about the risk",
    ]
    assert [doc.units[i].post for i in range(4)] == ["t1", "t1", "t2", "t3"]
    # RA inside a turn; CA across turns; an RA from an earlier turn to a later one is turned round
    assert rels(doc) == [(1, 0, "support"), (2, 0, "attack"), (3, 2, "support")]
    assert corpora.group_of(doc) == "2021-03-04"


def test_reply_agreement_dedupes_and_splits_by_topic():
    pairs = corpora.read_reply_agreement(C / "reply-agreement")
    assert len(pairs) == 7  # 8 rows, one repeated across files; "NA" is text, not a missing value
    by = {(p.quote[:10], p.response[:12]): (p.label, p.topic) for p in pairs}
    assert by[("Cats make ", "No way, dogs")] == ("attack", "pets")
    assert by[("Taxes shou", "Agreed, they")] == ("support", "ABCD")
    assert by[("Dogs need ", "Which park d")] == ("none", "pets")
    parts = corpora.split_replies(pairs, test_topics=["ABCD"], dev_topics=[])
    assert {p.topic for p in parts["test"]} == {"ABCD"} and len(parts["train"]) == 5


def test_reply_pairs_become_two_post_threads():
    pair = corpora.ReplyPair("Cats are best.", "No, dogs are.", "attack", "IAC", "pets")
    doc = corpora.reply_thread(pair, "r1")
    assert [(p.id, p.kind, p.parent) for p in doc.posts] == [("quote", "article", None), ("response", "comment", "quote")]
    assert doc.text[doc.posts[1].start : doc.posts[1].end] == "No, dogs are."


def test_qt30_splits_keep_episodes_together():
    docs = [corpora.gold_graph(f"d{i}", "x", [], [], group=f"ep{i % 7}") for i in range(40)]
    parts = corpora.split_by_group(docs, {"train": 0.7, "dev": 0.15, "test": 0.15}, seed=1)
    assert sum(len(v) for v in parts.values()) == 40
    groups = [{corpora.group_of(d) for d in v} for v in parts.values()]
    assert all(not (a & b) for i, a in enumerate(groups) for b in groups[i + 1 :])
    assert all(parts.values())


def test_doc_pairs_mark_reply_pairs_and_never_point_forward():
    (doc,) = corpora.read_qt30(C / "qt30")
    pairs = corpora.doc_pairs(doc, "qt30", none_ratio=5, rng=random.Random(0))
    post = {u.text: u.post for u in doc.units}
    for p in pairs:
        assert p.context == ("post" if post[p.text_a] == post[p.text_b] else "reply")
        assert post[p.text_a] >= post[p.text_b]  # t1 < t2 < t3
    assert ("That is far too early.", "Schools should reopen in June", "attack", "reply") in {
        (p.text_a, p.text_b, p.label, p.context) for p in pairs
    }

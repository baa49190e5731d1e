"""Property-based: random threads (reply trees, empty and huge comments, emoji, RTL, CRLF, quotes) always
give a schema-valid graph whose units are exact slices, whose relations join existing units and whose
trees hold every unit exactly once."""

import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import argmine

pytestmark = pytest.mark.slow  # property-based: 80 random threads through the pipeline

WORDS = [
    "cars",
    "pollute",
    "ban",
    "them",
    "because",
    "but",
    "we",
    "should",
    "not",
    "taxes",
    "rise",
    "🎉",
    "👨‍👩‍👧",
    "שלום",
    "مرحبا",
    "café",
    "“quoted”",
    '"plain"',
    "'single'",
    "Z͑ͫ̓ͪ̂ͫ̽͏̴̙̤̞͉͚̯̞̠͍algo",
]
ENDS = [".", "?", "!", "...", ""]
BREAKS = [" ", " ", " ", "\n", "\r\n", "\n\n", "\r\n\r\n", "\t"]

sentence = st.builds(
    lambda words, end: " ".join(words).capitalize() + end,
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=12),
    st.sampled_from(ENDS),
)
body = st.builds(
    lambda parts, breaks: "".join(p + b for p, b in zip(parts, breaks)),
    st.lists(sentence, min_size=0, max_size=30),
    st.lists(st.sampled_from(BREAKS), min_size=30, max_size=30),
)


@st.composite
def threads(draw):
    n = draw(st.integers(min_value=0, max_value=12))
    comments = []
    for i in range(n):
        parent = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=max(0, i - 1)))) if i else None
        comments.append(
            {
                "id": f"c{i}",
                "parent": None if parent is None else f"c{parent}",
                "text": draw(body),
                "author": draw(st.sampled_from([None, "Ana", "بن"])),
            }
        )
    title = draw(st.one_of(st.none(), sentence))
    thread = {"article": {"text": draw(body)}, "comments": comments}
    if title is not None:
        thread["title"] = title
    return thread


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(thread=threads())
def test_every_graph_keeps_the_contract(tiny_model, thread):
    text = json.dumps(thread, ensure_ascii=False)
    try:
        graph = argmine.analyze(text, model=str(tiny_model))
    except argmine.InputError as exc:
        assume("has no text" not in str(exc))
        raise
    again = argmine.Graph.from_dict(json.loads(graph.to_json()))  # the schema and the offset contract
    assert again.to_json() == graph.to_json()
    for unit in graph.units:
        assert graph.text[unit.start : unit.end] == unit.text and unit.text.strip() == unit.text
    ids = [u.id for u in graph.units]
    assert len(set(ids)) == len(ids)
    assert all(r.source in ids and r.target in ids and r.source != r.target for r in graph.relations)
    in_trees = [node.unit for tree in graph.trees for node, _ in tree.walk()]
    assert sorted(in_trees) == sorted(ids)
    for post in graph.posts:  # every post's text is its part of the thread, verbatim
        source = (
            thread["title"]
            if post.kind == "title"
            else thread["article"]["text"]
            if post.kind == "article"
            else next(c["text"] for c in thread["comments"] if c["id"] == post.id)
        )
        assert graph.text[post.start : post.end] == source

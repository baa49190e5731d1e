"""Quotes are pointers: ``>`` lines and repeated words in quotation marks give no units, travel in the
graph JSON and through every annotation format, and point at the unit they repeat."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import argmine
from argmine.document import Document, Post, Quote, Relation
from argmine.graph import Graph
from argmine.reading.inputs.reddit import reddit_thread
from argmine.reading.inputs.thread import json_thread
from argmine.settings import load_settings
from argmine.units.quotes import find_quotes, point_quotes, quoted_units
from argmine.units.segmenter import segment

CFG = load_settings()


def reddit_comment(cid: str, parent: str, body: str, replies: tuple = ()) -> dict:
    listing = {"kind": "Listing", "data": {"children": list(replies)}} if replies else ""
    data = {"name": f"t1_{cid}", "id": cid, "parent_id": parent, "author": f"user-{cid}", "body": body, "replies": listing}
    return {"kind": "t1", "data": data}


REDDIT_POST = {
    "id": "p1",
    "name": "t3_p1",
    "title": "Should the city ban cars from the old town?",
    "selftext": "The council wants to ban cars from the old town next year. Shops fear they will lose customers.",
    "author": "op",
}
REPLY = "> They always say that.\n> Footfall rose in every town\n\nNot in ours. Half the shops on Mill Street closed."
REDDIT = [
    {"kind": "Listing", "data": {"children": [{"kind": "t3", "data": REDDIT_POST}]}},
    {
        "kind": "Listing",
        "data": {
            "children": [
                reddit_comment(
                    "a",
                    "t3_p1",
                    "&gt; Shops fear they will lose customers.\n\nThey always say that. Footfall rose in every town that tried it.",
                    (reddit_comment("b", "t1_a", REPLY),),
                ),
                reddit_comment("c", "t3_p1", "Buses would fill the gap if they ran more often."),
            ]
        },
    },
]

THREAD = {
    "id": "lanes",
    "article": {"text": "The town will add protected bike lanes on Elm Road. Officials said the lanes would make cycling safer."},
    "comments": [
        {"id": "c1", "text": "The lanes will save lives because drivers on Elm Road ignore the speed limit."},
        {
            "id": "c2",
            "parent": "c1",
            "text": "You claim “drivers on Elm Road ignore the speed limit”, yet the police data shows otherwise.",
        },
        {"id": "c3", "text": "The article says 'the lanes would make cycling safer' and I agree with that completely."},
    ],
}

NO_QUOTES = {
    "id": "plain",
    "article": {"text": "The library will close on Sundays. It saves money."},
    "comments": [
        {"id": "k1", "text": 'Closing it hurts "working parents" most, and that is unfair.'},
        {"id": "k2", "parent": "k1", "text": "Budgets are tight; something has to give."},
    ],
}


def segmented(doc: Document) -> Document:
    return segment(doc, CFG.segmenter, CFG.boilerplate)


def quote_texts(doc: Document) -> list[tuple[str, str, str | None]]:
    return [(q.post, doc.text[q.start : q.end], q.target) for q in doc.quotes]


def unit_text(doc: Document, unit_id: str) -> str:
    return next(u.text for u in doc.units if u.id == unit_id)


def assert_quotes_are_no_units(doc: Document) -> None:
    posts = {p.id: p for p in doc.posts}
    for q in doc.quotes:
        assert posts[q.post].start <= q.start < q.end <= posts[q.post].end
        assert doc.text[q.start : q.end] == doc.text[q.start : q.end].strip()
        for u in doc.units:
            assert u.text == doc.text[u.start : u.end]
            assert not (u.start < q.end and q.start < u.end), (u, q)


def test_reddit_quote_lines_are_pointers_not_units():
    doc = segmented(reddit_thread(REDDIT, "r"))
    assert quote_texts(doc) == [
        ("t1_a", "&gt; Shops fear they will lose customers.", "u3"),
        ("t1_b", "> They always say that.\n> Footfall rose in every town", "u5"),
    ]
    assert unit_text(doc, "u3") == "Shops fear they will lose customers."
    assert unit_text(doc, "u5") == "Footfall rose in every town that tried it."  # the longer shared run wins
    assert [u.text for u in doc.units if u.post == "t1_b"] == ["Not in ours.", "Half the shops on Mill Street closed."]
    assert_quotes_are_no_units(doc)
    assert quoted_units(doc) == {"t1_a": {"u3"}, "t1_b": {"u5"}}


def test_quotation_marks_repeating_the_parent_are_quotes():
    doc = segmented(json_thread(THREAD, "t"))
    assert quote_texts(doc) == [
        ("c2", "“drivers on Elm Road ignore the speed limit”", "u4"),
        ("c3", "'the lanes would make cycling safer'", "u2"),
    ]
    assert unit_text(doc, "u4") == "drivers on Elm Road ignore the speed limit."
    assert unit_text(doc, "u2") == "Officials said the lanes would make cycling safer."
    # the rest of the quoting sentence stays, trimmed of the comma left at the cut
    assert [u.text for u in doc.units if u.post == "c2"] == ["You claim", "yet the police data shows otherwise."]
    assert [u.text for u in doc.units if u.post == "c3"] == ["The article says", "and I agree with that completely."]
    assert_quotes_are_no_units(doc)


def test_a_thread_without_quotes_is_segmented_as_before():
    doc = json_thread(NO_QUOTES, "t")
    assert find_quotes(doc) == []  # "working parents" repeats nothing of the posts k1 answers
    before = [(post.id, span) for post in doc.posts for span in _plain_spans(doc, post)]
    after = segmented(doc)
    assert after.quotes == []
    assert [(u.post, (u.start, u.end)) for u in after.units] == [(p, (s.start, s.end)) for p, s in before]
    assert "quotes" not in json.dumps(Graph.gold(after, []).to_dict()["posts"])


def _plain_spans(doc, post):
    from argmine.units.segmenter import segment_post

    return segment_post(doc, post, CFG.segmenter, CFG.boilerplate)


def test_flat_plain_text_quotes_the_comment_above(tmp_path):
    text = (
        "City plans a congestion charge\n\n"
        "The city will charge drivers ten pounds a day to enter the centre from May.\n\n"
        "Comments\n"
        "Nobody asked the small traders who deliver into the centre every morning.\n"
        'Why should "the small traders who deliver into the centre" get a pass? Everyone pollutes.\n'
    )
    path = tmp_path / "thread.txt"
    path.write_text(text, encoding="utf-8")
    doc = segmented(argmine.read(str(path)))
    assert doc.flat
    [quote] = doc.quotes
    assert doc.text[quote.start : quote.end] == '"the small traders who deliver into the centre"'
    assert unit_text(doc, quote.target) == "Nobody asked the small traders who deliver into the centre every morning."
    assert_quotes_are_no_units(doc)


def test_point_quotes_picks_the_parent_unit_it_repeats_best():
    text = "Cars pollute the air. Buses are cheaper for everyone.\n\n> buses are CHEAPER for everyone\nTrue."
    split = text.index("\n\n")
    posts = [Post("a", "article", 0, split), Post("c", "comment", split + 2, len(text), parent="a")]
    doc = segmented(Document("t", text, posts))
    [quote] = find_quotes(doc)
    assert quote.target is None  # spans only: targets need units
    [pointed] = point_quotes(doc, [quote])
    assert unit_text(doc, pointed.target) == "Buses are cheaper for everyone."
    assert [q.target for q in point_quotes(doc, [Quote("c", quote.start, quote.start + 1)])] == [None]  # ">" alone


def test_a_quote_line_that_matches_nothing_is_still_a_quote():
    text = "Taxes are up.\n\n> something else entirely\nI disagree with the rise."
    split = text.index("\n\n")
    posts = [Post("a", "article", 0, split), Post("c", "comment", split + 2, len(text), parent="a")]
    doc = segmented(Document("t", text, posts))
    assert quote_texts(doc) == [("c", "> something else entirely", None)]
    assert [u.text for u in doc.units] == ["Taxes are up.", "I disagree with the rise."]
    assert quoted_units(doc) == {}


def test_a_quote_must_lie_inside_its_post():
    with pytest.raises(argmine.InputError, match="not inside post"):
        Document("t", "abc def", [Post("a", "article", 0, 3), Post("c", "comment", 4, 7, "a")], quotes=[Quote("c", 2, 5)])


def graph_with_quotes() -> Graph:
    doc = segmented(reddit_thread(REDDIT, "r"))
    return Graph.gold(doc, [Relation("u4", "u3", "attack", 0.8), Relation("u6", "u5", "attack", 0.7)])


def test_graph_json_round_trips_quotes():
    graph = graph_with_quotes()
    data = graph.to_dict()
    posts = {p["id"]: p for p in data["posts"]}
    assert posts["t1_a"]["quotes"] == [
        {"start": graph.document.quotes[0].start, "end": graph.document.quotes[0].end, "target": "u3"}
    ]
    assert "quotes" not in posts["t1_c"] and "quotes" not in posts["t3_p1"]
    back = Graph.from_json(graph.to_json())
    assert back.document.quotes == graph.document.quotes
    assert back.to_json() == graph.to_json()


def test_graph_json_refuses_a_quote_pointing_at_no_unit():
    data = graph_with_quotes().to_dict()
    data["posts"][2]["quotes"][0]["target"] = "u99"
    with pytest.raises(argmine.InputError, match="u99"):
        Graph.from_dict(data)


@pytest.mark.parametrize("fmt", ["brat", "label-studio", "doccano", "xaif"])
def test_exports_carry_quotes_back(fmt, tmp_path):
    graph = graph_with_quotes()
    rendered = argmine.export([graph], fmt)
    files = rendered if isinstance(rendered, dict) else {"export.json": rendered}
    for name, content in files.items():
        (tmp_path / name).write_text(content, encoding="utf-8", newline="")
    source = {"brat": "p1.ann", "label-studio": "tasks.json"}.get(fmt, "export.json")
    [back] = argmine.import_graphs(tmp_path / source, fmt)
    assert back.document.quotes == graph.document.quotes
    assert back.posts == graph.posts and back.units == graph.units


def test_brat_shows_quotes_as_annotations_pointing_at_units():
    files = argmine.export([graph_with_quotes()], "brat")
    ann = files["p1.ann"].splitlines()
    assert "T9\tQuote 142 183\t&gt; Shops fear they will lose customers." in ann
    assert "R3\tquotes Arg1:T9 Arg2:T3" in ann
    assert "Quote\n" in files["annotation.conf"] and "quotes\tArg1:Quote" in files["annotation.conf"]
    plain = argmine.export([Graph.gold(segmented(json_thread(NO_QUOTES, "t")), [])], "brat")
    assert "Quote" not in plain["annotation.conf"]
    assert (
        argmine.export([graph_with_quotes(), Graph.gold(segmented(json_thread(NO_QUOTES, "t")), [])], "brat")["annotation.conf"]
        == files["annotation.conf"]
    )


def test_brat_quotes_follow_the_ann_file(tmp_path):
    files = argmine.export([graph_with_quotes()], "brat")
    files["p1.ann"] = "\n".join(line for line in files["p1.ann"].splitlines() if "T10" not in line and "R4" not in line) + "\n"
    for name, content in files.items():
        (tmp_path / name).write_text(content, encoding="utf-8", newline="")
    [back] = argmine.import_graphs(tmp_path / "p1.ann", "brat")
    assert [(q.post, q.target) for q in back.document.quotes] == [("t1_a", "u3")]  # the removed one is gone


def test_html_view_sets_quotes_apart():
    page = argmine.export([graph_with_quotes()], "html")
    assert page.count('class="quote"') == 2 and 'title="quotes u3"' in page


def test_analyze_puts_quotes_in_the_graph(tiny_model, tmp_path):
    path = tmp_path / "thread.json"
    path.write_text(json.dumps(THREAD), encoding="utf-8")
    graph = argmine.analyze(str(path), model=str(tiny_model))
    assert [(q.post, q.target) for q in graph.document.quotes] == [("c2", "u4"), ("c3", "u2")]
    assert [p.get("quotes") is not None for p in graph.to_dict()["posts"]] == [False, False, True, True]


WORDS = ["cars", "pollute", "ban", "them", "because", "taxes", "rise", "we", "should", "not", "café", "🎉", "it's"]
MARKS = [("“", "”"), ('"', '"'), ("'", "'"), ("‘", "’"), ("> ", ""), ("&gt; ", ""), ("", "")]
BREAKS = [" ", "\n", "\r\n", "\n\n", " — "]


@st.composite
def quoting_threads(draw):
    sentence = st.lists(st.sampled_from(WORDS), min_size=1, max_size=9).map(lambda w: " ".join(w).capitalize() + ".")
    article = draw(st.lists(sentence, min_size=1, max_size=4))
    comments = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        parent_text = article if not comments or draw(st.booleans()) else comments[-1][1]
        pieces = []
        for _ in range(draw(st.integers(min_value=1, max_value=4))):
            opening, closing = draw(st.sampled_from(MARKS))
            said = draw(st.sampled_from(parent_text)) if draw(st.booleans()) else draw(sentence)
            pieces += [f"{opening}{said}{closing}", draw(st.sampled_from(BREAKS))]
        parent = None if parent_text is article else f"c{len(comments) - 1}"
        comments.append((parent, [p for p in pieces if p.strip()] or ["Fine."]))
    return {
        "article": {"text": " ".join(article)},
        "comments": [{"id": f"c{i}", "parent": parent, "text": "".join(text)} for i, (parent, text) in enumerate(comments)],
    }


@pytest.mark.slow  # property-based
@settings(max_examples=60, deadline=None)
@given(quoting_threads())
def test_quotes_keep_the_contract(thread):
    doc = segmented(json_thread(thread, "t"))
    assert_quotes_are_no_units(doc)
    posts = {p.id: p for p in doc.posts}
    unit_post = {u.id: u.post for u in doc.units}
    for q in doc.quotes:
        assert posts[q.post].kind == "comment"
        if q.target is not None:  # an earlier post the comment answers
            target = unit_post[q.target]
            ancestor = posts[q.post].parent
            while ancestor is not None and ancestor != target:
                ancestor = posts[ancestor].parent
            assert ancestor == target
    assert Graph.from_json(Graph.gold(doc, []).to_json()).document.quotes == doc.quotes

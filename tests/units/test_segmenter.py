import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argmine.document import Document, Post
from argmine.settings import load_settings
from argmine.units.segmenter import one_sentence, pysbd_sentences, segment, sentences

CFG = load_settings()


def units_of(text, kind="article"):
    doc = Document("t", text, [Post("p", kind, 0, len(text))])
    return [u.text for u in segment(doc, CFG.segmenter, CFG.boilerplate).units]


def test_abbreviations_quotes_and_ellipses_do_not_end_sentences():
    text = (
        "The U.S. and Mr. Smith met in a Dr. Strangelove-style war room. "
        "“Is this wise?” he asked. Wait… what happened next? Nothing... at all."
    )
    assert units_of(text) == [
        "The U.S. and Mr. Smith met in a Dr. Strangelove-style war room.",
        "“Is this wise?” he asked.",
        "Wait… what happened next?",
        "Nothing... at all.",
    ]


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("The tax is fair, but the rich will avoid it.", ["The tax is fair", "the rich will avoid it."]),
        ("We should ban cars because the air is toxic.", ["We should ban cars", "the air is toxic."]),
        (
            "Whether the plan works remains to be seen, but the council has already spent the money.",
            ["Whether the plan works remains to be seen", "the council has already spent the money."],
        ),
        # No full clause after the connective: no split.
        (
            "The bill passed, but only barely and after a long debate.",
            ["The bill passed, but only barely and after a long debate."],
        ),
        ("They stayed home because of the rain and the cold.", ["They stayed home because of the rain and the cold."]),
        # "and" joins units only inside long sentences.
        ("Prices rose, and people were angry.", ["Prices rose, and people were angry."]),
    ],
)
def test_clause_splits(sentence, expected):
    assert units_of(sentence) == expected


def test_connective_inside_a_quotation_is_not_split():
    text = "She said “the plan is good, but the timing is wrong” at the meeting."
    assert units_of(text) == [text]


def test_dateline_and_boilerplate_are_not_units():
    text = (
        "BERLIN — The government raised the minimum wage on Friday.\n"
        "Photo: Jane Doe for the Daily Planet\n"
        "Sign up for our newsletter to get the news first.\n"
        "Critics said the rise was too small."
    )
    assert units_of(text) == ["The government raised the minimum wage on Friday.", "Critics said the rise was too small."]


def test_dateline_only_stripped_in_articles():
    assert units_of("PARIS — the city is lovely, I think.", kind="comment") == ["PARIS — the city is lovely, I think."]


def test_units_are_trimmed_and_numbered_in_order():
    text = "  First claim is here.   \n\n  Second claim is there.  "
    doc = segment(Document("t", text, [Post("p", "article", 0, len(text))]), CFG.segmenter, CFG.boilerplate)
    assert [(u.id, u.text) for u in doc.units] == [("u1", "First claim is here."), ("u2", "Second claim is there.")]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(list("abcXYZ .,;!?\n\r\t\u00a0“”’…—-é🚀") + ["but ", "because ", "U.S. ", "Mr. ", "they are "]),
        min_size=1,
        max_size=200,
    )
)
def test_offsets_always_index_the_verbatim_text(pieces):
    text = "".join(pieces)
    doc = segment(Document("t", text, [Post("p", "article", 0, len(text))]), CFG.segmenter, CFG.boilerplate)
    previous_end = 0
    for unit in doc.units:
        assert unit.text == text[unit.start : unit.end]
        assert unit.text == unit.text.strip()
        assert unit.start >= previous_end
        previous_end = unit.end


def no_sentence_end(words: int) -> str:
    return " ".join(f"word{i % 97} and more" for i in range(words))


def test_a_text_without_sentence_ends_gives_units_cut_at_a_space():
    text = no_sentence_end(4000)  # ~60,000 characters: 6 pysbd chunks, each one "sentence"
    doc = segment(Document("t", text, [Post("p", "article", 0, len(text))]), CFG.segmenter, CFG.boilerplate)
    limit = CFG.segmenter.max_unit_chars
    assert doc.units and all(len(u.text) <= limit for u in doc.units)
    assert doc.cut_units == sum(len(u.text) > limit // 2 for u in doc.units) > 0
    for u in doc.units:  # whole words: the cut falls on a space
        assert u.text == text[u.start : u.end] and (u.end == len(text) or text[u.end] == " ")
    short = "Cars pollute. So ban them."
    assert segment(Document("s", short, [Post("p", "article", 0, len(short))]), CFG.segmenter).cut_units == 0


def test_cut_units_are_in_the_graph_stats_and_the_model_gets_bounded_pairs(tiny_model, monkeypatch):
    import argmine
    from argmine.relations.pair import RelationModel

    seen = []
    score = RelationModel.score

    def recording(self, pairs, *args, **kwargs):
        seen.extend(len(a) + len(b) for a, b in pairs)
        return score(self, pairs, *args, **kwargs)

    monkeypatch.setattr(RelationModel, "score", recording)
    graph = argmine.analyze(no_sentence_end(1500) + "\n\nA short comment. I agree.", model=str(tiny_model))
    assert graph.stats["cut_units"] == graph.document.cut_units >= 2
    assert seen and max(seen) <= 2 * CFG.segmenter.max_unit_chars + 20  # (a context marker opens the pair)
    again = argmine.Graph.from_json(graph.to_json())
    assert again.stats == graph.stats and again.document.cut_units == graph.document.cut_units
    plain = argmine.analyze("Cars pollute the air. So we should ban them.", model=str(tiny_model))
    assert "cut_units" not in plain.stats


def test_the_cli_says_units_were_cut(tiny_model, tmp_path):
    from typer.testing import CliRunner

    from argmine.cli import app

    path = tmp_path / "no-ends.txt"
    path.write_text(no_sentence_end(1500), encoding="utf-8")
    result = CliRunner().invoke(app, ["analyze", str(path), "--model", str(tiny_model), "-o", str(tmp_path / "g.json")])
    assert result.exit_code == 0, result.stderr
    assert "argmine: warning: 3 units were cut to 500 characters (segmenter.max_unit_chars)" in result.stderr


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(list("aZ09 ,;:'’-") + ["but ", "ii ", "12 ", "U S ", "Mr ", "The ", "I ", "no ", "  ", "-' ", "e g "]),
        max_size=40,
    )
)
def test_a_stretch_pysbd_keeps_whole_skips_it_with_the_same_spans(pieces):
    chunk = "".join(pieces)
    text = "Before.\n" + chunk + "\nAfter."
    start, end = 8, 8 + len(chunk)
    expected = pysbd_sentences(text, start, end)
    assert sentences(text, start, end) == expected
    if one_sentence(chunk):  # pysbd's own answer agrees: one trimmed span, or none
        assert len(expected) <= 1


def test_a_hyphen_before_a_quote_is_left_to_pysbd():
    chunk = "a well-' Known thing"
    assert not one_sentence(chunk) and len(pysbd_sentences(chunk, 0, len(chunk))) == 2


def test_a_megabyte_line_without_sentence_ends_never_reaches_pysbd(monkeypatch):
    import argmine.units.segmenter as segmenter

    monkeypatch.setattr(segmenter, "_sentence_splitter", lambda: pytest.fail("pysbd ran on a stretch it keeps whole"))
    text = "word " * 200_000  # 1 MB, no full stop: ~100 chunks, each one sentence cut to max_unit_chars
    doc = segment(Document("t", text, [Post("p", "article", 0, len(text))]), CFG.segmenter, CFG.boilerplate)
    assert len(doc.units) >= 100 and doc.cut_units >= len(doc.units) - 1  # all but the last, shorter chunk
    assert all(len(u.text) <= CFG.segmenter.max_unit_chars and u.text.startswith("word word") for u in doc.units)

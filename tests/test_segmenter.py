import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argmine.document import Document, Post
from argmine.segmenter import segment
from argmine.settings import load_settings

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

import pytest

from argmine.errors import InputError
from argmine.reading.layout import layout_plain_text, paragraphs
from argmine.settings import load_settings
from tests.conftest import EXAMPLE

CFG = load_settings()


def layout(text, comments_from=None):
    return layout_plain_text(text, "t", CFG.layout, comments_from, CFG.boilerplate)


ARTICLE = (
    "The regional government said on Monday that it would raise bus fares by ten percent from March.\n"
    "Officials told reporters that fuel costs had doubled since the last increase, according to a statement.\n"
    "The transport minister declared that the money would be spent on new electric buses.\n"
)


def kinds(doc):
    return [(p.kind, doc.text[p.start : p.end][:12]) for p in doc.posts]


def test_unmarked_comments_are_detected_by_register():
    comments = (
        "What electric buses? I have waited two years for the ones they promised last time.\n"
        "No, the fares are fine. Stop complaining and look at what a taxi costs you.\n"
        "I NEVER take the bus anyway lol\n"
    )
    doc = layout(ARTICLE + comments)
    assert [p.kind for p in doc.posts] == ["article", "comment", "comment", "comment"]
    assert doc.text[doc.posts[1].start :].startswith("What electric buses?")
    assert all(p.parent == "article" for p in doc.posts[1:]) and doc.flat


def test_news_only_text_has_no_comments():
    doc = layout(ARTICLE + "Fares for students will stay the same, the ministry said.\n")
    assert [p.kind for p in doc.posts] == ["article"]


@pytest.mark.parametrize("marker", ["---", "Comments", "Reader comments:", "COMMENTS (2)"])
def test_marker_line_overrides_detection(marker):
    doc = layout(ARTICLE + marker + "\nFares are too high.\nThey are fine.\n")
    assert [p.kind for p in doc.posts] == ["article", "comment", "comment"]
    assert marker not in doc.text[doc.posts[0].start : doc.posts[0].end]


def test_comments_from_flag_overrides_detection():
    doc = layout(ARTICLE + "Fares are too high.\n", comments_from=2)
    assert [p.kind for p in doc.posts] == ["article", "comment", "comment"]
    with pytest.raises(InputError, match="outside paragraphs"):
        layout(ARTICLE, comments_from=9)


def test_headline_becomes_a_title_post():
    doc = layout("Bus Fares To Rise In March\n\n" + ARTICLE)
    assert kinds(doc)[0] == ("title", "Bus Fares To")


def test_blank_line_article_then_single_line_comments():
    doc = layout(EXAMPLE.read_text(encoding="utf-8"))
    assert [p.kind for p in doc.posts] == ["title", "article"] + ["comment"] * 5
    assert doc.text[doc.posts[2].start :].startswith("Banning cars")


def test_trailing_subscription_appeal_is_not_a_comment():
    text = ARTICLE.replace("\n", "\n\n") + "Quality journalism is more important than ever.\nBy subscribing, you can help us.\n"
    assert [p.kind for p in layout(text).posts] == ["article"]


def test_hard_wrapped_paragraphs_are_blocks():
    text = "The council met on Monday and agreed a\nbudget for the next year.\n\nThe mayor said the vote\nwas close.\n"
    assert len(paragraphs(text)) == 2


OPED = """I have covered the harbour district for twenty years, and I have never seen the council move this fast on anything. The plan to sell the old pier was announced on Monday and voted through on Thursday.

My worry is not the sale itself. Cities sell land all the time, and the pier has cost money for decades. My worry is that nobody asked the fishermen what they would lose.

I asked the mayor's office how many of them had been consulted. The answer was none. I asked whether the buyer had promised to keep the north end open.

You do not have to be against development to find that troubling. I would simply like the council to slow down and hold one public meeting.
"""


def test_first_person_opinion_piece_is_not_split_into_comments():
    assert [p.kind for p in layout(OPED).posts] == ["article"]


def test_comments_under_an_opinion_piece_still_need_a_stronger_register():
    comments = "lol NO. Who pays for this?? Stop whining!!\nWrong, you clearly never fished there. What fishermen?\n"
    doc = layout(OPED.replace("\n\n", "\n") + comments)
    assert [p.kind for p in doc.posts] == ["article", "comment", "comment"]

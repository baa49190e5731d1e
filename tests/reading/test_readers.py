import json

import pytest

from argmine.errors import InputError
from argmine.reading.readers import read_input
from argmine.settings import load_settings
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def config():
    return load_settings()


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return str(path)


def test_plain_text_keeps_text_verbatim(tmp_path, config):
    raw = "Headline Without A Stop\r\n\r\nThe plan\u00a0failed, because “costs” rose 🚀.\r\nSecond para… ends here.\r\n"
    doc = read_input(write(tmp_path, "a.txt", raw), config)[0].document
    assert doc.text == raw
    assert [p.kind for p in doc.posts][:2] == ["title", "article"]
    for post in doc.posts:
        assert doc.text[post.start : post.end].strip() == doc.text[post.start : post.end]


def test_bom_is_accepted_and_not_part_of_the_text(tmp_path, config):
    doc = read_input(write(tmp_path, "a.txt", b"\xef\xbb\xbfPrices rose. People complained."), config)[0].document
    assert doc.text == "Prices rose. People complained."


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("empty.txt", b"", "is empty"),
        ("blank.txt", b"  \n\t\n", "is empty"),
        ("bin.txt", b"abc\x00def", "binary"),
        ("latin1.txt", "café au lait".encode("latin-1"), "not valid UTF-8"),
        ("bad.json", b'{"article": {"text": "x"', "malformed JSON"),
        ("noarticle.json", b'{"comments": []}', "article"),
        (
            "dangling.json",
            json.dumps({"article": {"text": "A."}, "comments": [{"id": "c1", "parent": "zz", "text": "B."}]}).encode(),
            "missing parent 'zz'",
        ),
        (
            "cycle.json",
            json.dumps(
                {
                    "article": {"text": "A."},
                    "comments": [{"id": "c1", "parent": "c2", "text": "B."}, {"id": "c2", "parent": "c1", "text": "C."}],
                }
            ).encode(),
            "reply cycle",
        ),
        (
            "dup.json",
            json.dumps(
                {"article": {"text": "A."}, "comments": [{"id": "c1", "text": "B."}, {"id": "c1", "text": "C."}]}
            ).encode(),
            "duplicate post id 'c1'",
        ),
        ("notext.json", json.dumps({"article": {"text": "A."}, "comments": [{"id": "c1"}]}).encode(), "needs a string 'text'"),
    ],
)
def test_bad_input_is_one_clear_error(tmp_path, config, name, data, message):
    with pytest.raises(InputError, match=message) as info:
        read_input(write(tmp_path, name, data), config)
    assert "\n" not in str(info.value)


def test_size_limit(tmp_path, config):
    config = config.replace({"input": {"max_bytes": 10}})
    with pytest.raises(InputError, match="larger than the limit of 10 bytes"):
        read_input(write(tmp_path, "big.txt", "x" * 11), config)


def test_missing_file(config):
    with pytest.raises(InputError, match="no such file"):
        read_input("/nonexistent/thread.txt", config)


def test_json_thread(config):
    doc = read_input(str(FIXTURES / "thread.json"), config)[0].document
    assert doc.id == "bikes-42"
    assert [(p.id, p.kind, p.parent) for p in doc.posts] == [
        ("title", "title", None),
        ("article", "article", None),
        ("c1", "comment", "article"),
        ("c2", "comment", "c1"),
        ("c3", "comment", "article"),
    ]
    raw = json.loads((FIXTURES / "thread.json").read_text(encoding="utf-8"))
    texts = [raw["title"], raw["article"]["text"]] + [c["text"] for c in raw["comments"]]
    for post, text in zip(doc.posts, texts):
        assert doc.text[post.start : post.end] == text
    assert doc.post("c2").author == "bob"


def test_jsonl_batch_records_bad_lines_and_goes_on(tmp_path, config):
    good = json.dumps({"id": "t1", "article": {"text": "Taxes rose."}, "comments": []})
    lines = [
        good,
        "{not json",
        json.dumps({"id": "t3", "article": {"text": "Fees fell."}, "comments": [{"id": "a", "parent": "b", "text": "x"}]}),
        good.replace("t1", "t4"),
    ]
    results = read_input(write(tmp_path, "batch.jsonl", "\n".join(lines) + "\n"), config)
    assert [r.line for r in results] == [1, 2, 3, 4]
    assert [r.document is not None for r in results] == [True, False, False, True]
    assert "line 2" in str(results[1].error) and "malformed JSON" in str(results[1].error)
    assert "missing parent" in str(results[2].error)


def test_reddit_thread(config):
    doc = read_input(str(FIXTURES / "reddit_thread.json"), config)[0].document
    assert [(p.id, p.kind, p.parent) for p in doc.posts] == [
        ("title", "title", None),
        ("t3_abc123", "article", None),
        ("t1_k1", "comment", "t3_abc123"),
        ("t1_k2", "comment", "t1_k1"),
        ("t1_k3", "comment", "t3_abc123"),
    ]
    assert doc.text[doc.post("t1_k2").start : doc.post("t1_k2").end].startswith("But the budget")

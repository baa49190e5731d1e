"""argmine's own loading of what analysing needs (the encoder, its tokenizer, TF-IDF) agrees with the
libraries it replaces to keep a cold start short: transformers and scikit-learn, where installed."""

import json
import subprocess
import sys

import numpy as np
import pytest

from argmine.relations.candidates import tfidf
from argmine.relations.encoder import Encoder, Tokenizer, pad, rows_of
from tests.conftest import ROOT, fixture_texts

TRICKY = [
    "Ban cars 🚗 downtown? The the THE council's plan—really!",
    "القرار جيد للمدينة. Cyclists will be safer too.",
    "and the of",  # only stop words: an empty row
    "naïve café résumé, naïve again; x y z",
    "",
    "Buses replace cars, cars cars cars.",
]


def test_tfidf_equals_scikit_learn_s_vectorizer_row_for_row():
    text = pytest.importorskip("sklearn.feature_extraction.text")
    for texts in (TRICKY, fixture_texts(), [t for t in fixture_texts()[:3]]):
        ours = tfidf(texts)
        theirs = text.TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(texts)
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours.toarray(), theirs.toarray(), rtol=0, atol=1e-12)
        np.testing.assert_allclose((ours @ ours.T).toarray(), (theirs @ theirs.T).toarray(), rtol=0, atol=1e-12)
    assert tfidf(["and the", "of it"]) is None and tfidf(["one text"]) is None


def test_the_encoder_and_tokenizer_equal_transformers_on_a_folder_it_wrote(tiny_parser):
    transformers = pytest.importorskip("transformers")
    import torch

    texts = TRICKY + fixture_texts()[:8]
    theirs_tok = transformers.AutoTokenizer.from_pretrained(str(tiny_parser))
    ours_tok = Tokenizer(tiny_parser)
    assert ours_tok(texts, add_special_tokens=False)["input_ids"] == theirs_tok(texts, add_special_tokens=False)["input_ids"]
    ids, mask = pad(rows_of(ours_tok, texts, 24), ours_tok.pad_token_id)
    expected = theirs_tok(texts, padding=True, truncation=True, max_length=24, return_tensors="pt")
    assert torch.equal(ids, expected["input_ids"]) and torch.equal(mask, expected["attention_mask"])
    ours = Encoder.from_folder(tiny_parser).eval()
    theirs = transformers.AutoModel.from_pretrained(str(tiny_parser), dtype=torch.float32).eval()
    with torch.inference_mode():
        a = ours(input_ids=ids, attention_mask=mask).last_hidden_state
        b = theirs(input_ids=ids, attention_mask=mask).last_hidden_state
    assert torch.allclose(a, b, atol=1e-5)


def test_an_encoder_saved_here_loads_in_transformers_with_the_same_weights(tiny_parser, tmp_path):
    transformers = pytest.importorskip("transformers")
    import torch

    Encoder.from_folder(tiny_parser).save_pretrained(tmp_path)
    Tokenizer(tiny_parser).save_pretrained(tmp_path)
    again = transformers.AutoModel.from_pretrained(str(tmp_path), dtype=torch.float32)
    first = Encoder.from_folder(tiny_parser).state_dict()
    assert all(torch.equal(v, first[k]) for k, v in again.state_dict().items())
    assert json.loads((tmp_path / "config.json").read_text())["model_type"] == "bert"


def test_analysing_imports_neither_transformers_nor_scikit_learn(tiny_parser, tmp_path):
    thread = tmp_path / "t.txt"
    thread.write_text("\n\n".join(fixture_texts()[:4]), encoding="utf-8")
    code = (
        "import sys, argmine\n"
        f"argmine.analyze({str(thread)!r}, model={str(tiny_parser)!r})\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'transformers', 'sklearn'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"

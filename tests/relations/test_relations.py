import pytest

import argmine
from argmine.errors import ModelError
from argmine.relations.pair import RelationModel, map_labels
from tests import tiny_models
from tests.conftest import FIXTURES

CFG = argmine.load_settings()
THREAD = FIXTURES / "thread.json"

# (convention, checkpoint label the model is made to favour, argmine label expected on every relation)
CASES = [
    ("roberta-large-mnli", "ENTAILMENT", "support"),
    ("roberta-large-mnli", "CONTRADICTION", "attack"),
    ("cross-encoder-nli-deberta-v3", "entailment", "support"),
    ("cross-encoder-nli-deberta-v3", "contradiction", "attack"),
    ("moritzlaurer-deberta", "entailment", "support"),
    ("moritzlaurer-deberta", "contradiction", "attack"),
    ("two-class", "entailment", "support"),
    ("argmine", "support", "support"),
    ("argmine", "attack", "attack"),
]


@pytest.mark.parametrize("convention, favour, expected", CASES)
def test_every_label_convention_maps_by_name(make_model, convention, favour, expected):
    model = RelationModel.load(str(make_model(convention, favour)), device="cpu")
    graph = argmine.analyze(THREAD, model=model, settings=CFG)
    assert graph.stats["pairs_scored"] > 0
    assert graph.relations, "a model that favours one relation label must produce relations"
    assert {r.label for r in graph.relations} == {expected}
    assert all(r.score > 0.9 for r in graph.relations)


@pytest.mark.parametrize(
    "convention, favour", [("roberta-large-mnli", "NEUTRAL"), ("two-class", "not_entailment"), ("argmine", "none")]
)
def test_models_that_see_no_relation_label_none(make_model, convention, favour):
    model = RelationModel.load(str(make_model(convention, favour)), device="cpu")
    graph = argmine.analyze(THREAD, model=model, settings=CFG)
    assert graph.relations == []
    assert all(tree.children == () for tree in graph.trees)


def test_unmappable_labels_are_refused_with_their_names(make_model):
    folder = make_model("sentiment", labels=["negative", "neutral", "positive"])
    with pytest.raises(ModelError, match=r"model labels \[negative, neutral, positive\] do not map"):
        RelationModel.load(str(folder), device="cpu")
    with pytest.raises(ModelError, match="LABEL_0, LABEL_1"):
        map_labels({0: "LABEL_0", 1: "LABEL_1"})


def test_label_mapping_is_case_insensitive_and_recorded():
    assert map_labels({0: "CONTRADICTION", 1: "Neutral", 2: "entailment"}) == {0: "attack", 1: "none", 2: "support"}


def test_missing_model_folder_is_one_line_error():
    with pytest.raises(ModelError, match="not found"):
        RelationModel.load("./no/such/model")


def test_uncached_hub_model_offline_names_model_and_flag(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match=r"cannot load model 'example-org/not-cached-nli'.*--model PATH") as info:
        RelationModel.load("example-org/not-cached-nli")
    assert "\n" not in str(info.value)


def test_pairs_over_the_window_are_truncated_and_counted(tmp_path):
    folder = tiny_models.build(tmp_path / "short", tiny_models.CONVENTIONS["argmine"], max_positions=16)
    model = RelationModel.load(str(folder), device="cpu")
    scored = model.score([("the a is " * 20, "not"), ("yes", "no")], batch_size=1)
    scores = scored.scores
    assert scored.truncated == 1
    assert len(scores) == 2 and all(abs(s.support + s.attack + s.none - 1) < 1e-5 for s in scores)


def test_predict_order_and_batching_do_not_change_results(tiny_model):
    model = RelationModel.load(str(tiny_model), device="cpu")
    pairs = [("the a", "is not"), ("because yes " * 5, "but"), ("no", "the the the")]
    one = model.predict(pairs, batch_size=1)
    many = model.predict(pairs, batch_size=8)
    for a, b in zip(one, many):
        assert a.support == pytest.approx(b.support, abs=1e-5)


def test_the_threshold_stored_with_the_model_decides_unless_the_config_overrides_it(tmp_path, make_model):
    import shutil

    from argmine.relations.pair import write_stored

    folder = tmp_path / "m"
    shutil.copytree(make_model("argmine", "support"), folder)
    doc = argmine.read(THREAD)
    write_stored(folder, {"threshold": 1.0})  # no probability reaches it
    model = RelationModel.load(str(folder), device="cpu")
    assert model.threshold == 1.0
    graph = argmine.analyze(doc, model=model, settings=CFG)
    assert graph.relations == [] and graph.model["threshold"] == 1.0
    config = argmine.load_settings(overrides={"relations": {"threshold": 0.5}})
    graph = argmine.analyze(doc, model=model, settings=config)
    assert graph.relations and graph.model["threshold"] == 0.5


def test_context_markers_from_the_model_folder_reach_the_pair_input(tmp_path):
    from argmine.relations.pair import read_stored, write_stored

    words = tiny_models.vocabulary(["post: reply: cats are good. dogs are bad."])
    folder = tiny_models.build(tmp_path / "m", tiny_models.CONVENTIONS["argmine"], words=words, seed=3)
    plain = RelationModel.load(str(folder), device="cpu")
    assert plain.tokenizer.unk_token_id not in plain.tokenizer("post: cats", "reply: dogs")["input_ids"]
    pairs = [("cats are good.", "dogs are bad.")]
    write_stored(folder, {"context_markers": {"post": "post:", "reply": "reply:"}})
    assert read_stored(folder)["context_markers"]["reply"] == "reply:"
    marked = RelationModel.load(str(folder), device="cpu")
    # without markers the context is ignored; with them "post:" and "reply:" inputs score differently
    assert plain.predict(pairs, contexts=["post"]) == plain.predict(pairs, contexts=["reply"]) == plain.predict(pairs)
    assert marked.predict(pairs, contexts=["post"]) != marked.predict(pairs, contexts=["reply"])


def test_unreadable_relation_settings_are_one_line_errors(tmp_path, make_model):
    import shutil

    folder = tmp_path / "m"
    shutil.copytree(make_model("argmine"), folder)
    (folder / "argmine_relation.json").write_text("[1, 2", encoding="utf-8")
    with pytest.raises(ModelError, match="argmine_relation.json"):
        RelationModel.load(str(folder), device="cpu")


def test_int8_is_an_opt_in_fast_path_recorded_in_the_graph(tiny_model):
    settings = argmine.load_settings(overrides={"model": {"name": str(tiny_model), "device": "cpu", "quantize": "int8"}})
    model = argmine.load_model(settings=settings)
    assert model.quantized == "int8" and "quantized" in type(model.model.classifier).__module__
    graph = argmine.analyze(THREAD, model=model, settings=settings)
    assert graph.model["quantized"] == "int8" and graph.stats["pairs_scored"] > 0
    assert "quantized" not in argmine.analyze(THREAD, model=str(tiny_model)).model
    with pytest.raises(argmine.ConfigError, match="model.quantize = 'int4'"):
        argmine.load_settings(overrides={"model": {"quantize": "int4"}})


def test_pairs_are_tokenized_once_and_batched_by_token_count(tiny_model, monkeypatch):
    model = RelationModel.load(str(tiny_model), device="cpu")
    sizes = []
    original = model.tokenizer.pad

    def recording(features, **kwargs):
        sizes.append([len(f["input_ids"]) for f in features])
        return original(features, **kwargs)

    monkeypatch.setattr(model.tokenizer, "pad", recording)
    # by characters these would batch as [the, a*6], [a*8, zzz...]; by tokens the unknown word is one token
    pairs = [("z" * 30, "no"), ("a a a a a a", "no"), ("the", "no"), ("a a a a a a a a", "no")]
    model.predict(pairs, batch_size=2)
    assert sizes == [[5, 5], [10, 12]]

"""The parser on a GPU: fp16 encoder, batches sized by tokens, the same decisions as on the CPU. The
batching rule runs everywhere; the model itself only where CUDA is (skipped cleanly elsewhere)."""

import pytest

import argmine
from argmine.relations.encoder import batches
from argmine.relations.parser import GPU_TOKENS_PER_BATCH, ArgumentParser
from argmine.units.segmenter import segment
from tests.conftest import fixture_texts


def test_token_batches_keep_order_cover_every_window_and_stay_under_the_budget():
    lengths = sorted([3, 250, 17, 256, 256, 40, 1, 99, 128, 200] * 7)
    groups = batches(lengths, 16, max_tokens=600)
    assert [k for g in groups for k in g] == list(range(len(lengths)))
    for g in groups:
        assert max(lengths[k] for k in g) * len(g) <= 600 or len(g) == 1
    assert [len(g) for g in batches(lengths, 16)] == [16, 16, 16, 16, 6]  # no budget: by count, as on the CPU
    assert batches([900], 16, max_tokens=600) == [[0]]  # a window longer than the budget still runs, alone


def test_on_a_gpu_the_parser_runs_in_fp16_and_decides_as_on_the_cpu(tiny_parser, tmp_path):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device here")
    thread = tmp_path / "t.txt"
    thread.write_text("\n\n".join(fixture_texts()[:4]), encoding="utf-8")
    gpu = ArgumentParser.load(tiny_parser, "cuda")
    assert next(gpu.encoder.parameters()).dtype == torch.float16 and gpu.max_tokens == GPU_TOKENS_PER_BATCH
    cpu = ArgumentParser.load(tiny_parser, "cpu")
    settings = argmine.load_settings()
    doc = segment(argmine.read(thread), settings.segmenter, settings.boilerplate)
    a, b = gpu.parse([doc])[0], cpu.parse([doc])[0]
    assert len(b.arcs) == len(doc.units) > 10
    for unit, arcs in b.arcs.items():
        for head, lp in arcs.items():
            assert abs(torch.tensor(a.arcs[unit][head]).exp() - torch.tensor(lp).exp()) < 0.02

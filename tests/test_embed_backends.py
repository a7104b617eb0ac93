"""EmbeddingGemma on exported backends: texts batched by length come back in their own order,
and an export gives the torch model's vectors (slow: loads both)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from index.embedder import ExportedEmbedder


class CharTokenizer:
    """One id per character: enough to see which text a padded row came from."""

    def __call__(self, texts, truncation=True, max_length=2048):
        return {"input_ids": [[ord(c) for c in text[:max_length]] for text in texts]}

    def pad(self, features, return_tensors="np"):
        rows = features["input_ids"]
        width = max(map(len, rows))
        ids = np.array([row + [0] * (width - len(row)) for row in rows])
        return {"input_ids": ids, "attention_mask": (ids > 0).astype(np.int64)}


def fake_graph(ids, mask):
    """A 'sentence embedding' that depends only on the unpadded tokens of its row."""
    lengths = mask.sum(axis=1)
    return np.stack([lengths, (ids * mask).sum(axis=1), ids[:, 0], np.ones(len(ids))], axis=1).astype(np.float32)


@pytest.fixture
def embedder(tmp_path):
    (tmp_path / "config_sentence_transformers.json").write_text(json.dumps(
        {"prompts": {"document": "doc: ", "query": "q: "}}))
    (tmp_path / "modules.json").write_text(json.dumps([{"type": "sentence_transformers.models.Dense",
                                                        "path": "dense"}]))
    (tmp_path / "dense").mkdir()
    (tmp_path / "dense" / "config.json").write_text(json.dumps({"out_features": 4}))
    emb = ExportedEmbedder(tmp_path, "openvino", name="fake+openvino", spec="fake+openvino",
                           batch_size=2, show_progress=False)
    emb._model = (CharTokenizer(), fake_graph)
    return emb


def test_length_batches_come_back_in_the_callers_order(embedder):
    texts = ["Zephyr 云 2026 收入 37.5 亿元，同比增长 41%，数据中心在建 820 兆瓦", "短", "Quorra 资本开支 96 亿元",
             "Maple 毛利率 28.4%", "x" * 90]
    together = embedder.embed_documents(texts)
    alone = np.stack([embedder.embed_documents([t])[0] for t in texts])
    np.testing.assert_allclose(together, alone, rtol=1e-6)
    assert len({tuple(row) for row in together.round(6)}) == len(texts)
    assert not np.allclose(embedder.embed_query(texts[1]), together[1])   # query prompt differs
    assert embedder.embed_documents([]).shape == (0, 4)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["openvino", "openvino-int8"])
def test_an_export_gives_the_torch_models_vectors(backend):
    from index.embedder import load_embedder
    from index.provision import export_path
    if export_path(backend) is None:
        pytest.skip(f"no {backend} export: yanbao models --export {backend}")
    texts = ["Zephyr 云科技 2026 年一季度收入 37.5 亿元，同比增长 41%。", "Quorra capex was RMB 9.6bn in 2025.",
             "Maple 存储毛利率 28.4%。" * 50]   # the last is longer than the 512-token sliding window
    exported = load_embedder(f"embeddinggemma+{backend}", show_progress=False)
    torch_model = load_embedder("embeddinggemma", show_progress=False, dtype="fp32")
    cosines = np.sum(exported.embed_documents(texts) * torch_model.embed_documents(texts), axis=1)
    assert cosines.min() > 0.99, cosines
    assert float(exported.embed_query("Zephyr 收入") @ torch_model.embed_query("Zephyr 收入")) > 0.99

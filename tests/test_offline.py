"""Offline by proof: the suite runs with network sockets disabled, and models load from disk."""
from __future__ import annotations

import os
import socket

import pytest


def test_network_is_blocked_for_the_whole_suite():
    with pytest.raises(Exception) as info:
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    assert "Socket" in type(info.value).__name__ or "blocked" in str(info.value).lower()


def test_hub_access_is_switched_off():
    assert os.environ.get("HF_HUB_OFFLINE") == "1"


@pytest.mark.slow
def test_full_size_models_load_with_the_network_off():
    from index.embedder import load_embedder
    from index.provision import EMBEDDINGGEMMA, QWEN_CODER_1_5B
    if not (EMBEDDINGGEMMA.is_ready() and QWEN_CODER_1_5B.is_ready()):
        pytest.skip("models not provisioned: run `yanbao models`")
    vec = load_embedder("embeddinggemma").embed_query("CoreWeave 1Q26 Backlog")
    assert vec.shape == (768,)
    from qa.llm import load_llm
    out = load_llm().create_completion("1+1=", max_tokens=2)
    assert out["choices"][0]["text"]

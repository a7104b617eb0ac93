"""Offline by proof: the suite runs with network sockets disabled, and models load from disk."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest


def test_network_is_blocked_for_the_whole_suite():
    with pytest.raises(Exception) as info:
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    assert "Socket" in type(info.value).__name__ or "blocked" in str(info.value).lower()


def test_the_command_line_switches_hub_access_off_by_itself():
    """Not the variable conftest sets: a fresh process without it, importing the CLI."""
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    out = subprocess.run([sys.executable, "-c", "import os, qa.cli; print(os.environ.get('HF_HUB_OFFLINE'))"],
                         env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"


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

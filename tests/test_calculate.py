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
    ("根据 Acme 2029 年收入及同比增速，推算其 2028 年收入？", "derived"),
    ("What was Acme's implied revenue a year earlier?", "derived"),
    ("Acme 云业务收入占总收入的比重是多少？", "share"), ("What share of Acme's revenue came from cloud?", "share"),
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


# --- a level implied by a level and its growth rate -------------------------------------------

@pytest.mark.parametrize("question, text, result", [
    ("根据 Acme 2029 年收入及同比增速，推算其 2028 年收入大约是多少？", "2029 年 Acme 实现收入 90 亿元，同比增长 20%。",
     "75 亿元"),
    ("What was Acme's implied revenue in 2028Q2, given its 2029Q2 revenue and YoY growth?",
     "2029Q2，Acme 收入 250 亿美元，同比+25%。", "200 亿美元"),
    ("根据 Acme 2029Q3 收入及环比增速，倒推其 2029Q2 收入？", "2029Q3 Acme 收入 12.6 亿元，环比增长 5%。", "12 亿元"),
    ("据 Acme 2029 年收入与增速推算 2028 年收入", "2029 年 Acme 收入 0.55 亿元，同比增长 20%。", "0.458 亿元"),
])
def test_a_level_implied_by_its_growth_rate(question, text, result):
    _computes(question, text, result)


def _computes(question: str, text: str, result: str) -> None:
    comp = calculate(parse_query(question), facts(text))
    assert comp is not None and comp.result == result and len(comp.inputs) == 2


def test_an_implied_level_needs_the_rate_that_reaches_the_asked_period():
    # a sequential rate does not reach back a year
    text = "2029Q3 Acme 收入 12.6 亿元，环比增长 5%。"
    assert calculate(parse_query("根据 Acme 2029Q3 收入，推算其 2028Q3 收入？"), facts(text)) is None
    # no rate printed: nothing to derive from
    assert calculate(parse_query("推算 Acme 2028 年收入"), facts("2029 年 Acme 收入 90 亿元。")) is None


# --- a part's share of its whole ----------------------------------------------------------------

@pytest.mark.parametrize("question, text, result", [
    ("Acme 2029 年云业务收入占公司总收入的比重是多少？",
     "2029 年，Acme 实现收入 80 亿元，同比增长 10%；其中云业务收入 20 亿元，同比增长 40%。", "25.0%"),
    ("What share of Acme's 2029 revenue came from its cloud business?",
     "2029 年 Acme 总收入 50 亿美元，其中云业务收入 12 亿美元。", "24.0%"),
    ("Acme 海外收入占比是多少？", "Acme 实现收入 40 亿元，其中海外收入 10 亿元。", "25.0%"),
])
def test_a_share_of_the_whole_from_part_and_whole(question, text, result):
    _computes(question, text, result)


def test_a_printed_share_is_looked_up_not_computed():
    text = "Acme 实现收入 40 亿元，其中海外收入 10 亿元，占总收入的 26%。"
    assert calculate(parse_query("Acme 海外收入占总收入的比重是多少？"), facts(text)) is None


def test_no_share_without_an_identifiable_whole():
    # two parts, no whole: nothing to divide by
    text = "Acme 海外收入 10 亿元，国内收入 30 亿元。"
    assert calculate(parse_query("Acme 海外收入占比是多少？"), facts(text)) is None


# --- a difference between two periods or two companies ------------------------------------------

@pytest.mark.parametrize("question, text, result", [
    ("截至 2029Q2 末，Acme 的在手订单比 2028 年底增加了多少？",
     "截至 2029Q2，Acme 在手订单达到 520 亿元，较 2028 年底的 410 亿元进一步提升。", "110 亿元（+26.8%）"),
    ("截至 2029Q2 末，Acme 的在手订单比 2028 年底增加了多少亿元？",      # a unit asked: no rate
     "截至 2029Q2，Acme 在手订单达到 520 亿元，较 2028 年底的 410 亿元进一步提升。", "110 亿元"),
    ("Acme 的毛利率比 Globex 高出多少个百分点？", "Acme 毛利率为 42.5%，Globex 毛利率为 35.1%。", "7.4个百分点"),
    ("How much did Acme's operating profit increase from 2028 to 2029?",
     "2028 年 Acme 经营利润亏损 -3 亿元，2029 年 Acme 经营利润 5 亿元。", "8 亿元"),   # across zero
])
def test_a_difference_between_two_periods_or_companies(question, text, result):
    _computes(question, text, result)


def test_no_difference_without_both_terms():
    text = "截至 2029Q2，Acme 在手订单达到 520 亿元。"
    assert calculate(parse_query("Acme 2029Q2 在手订单比 2028 年底增加了多少？"), facts(text)) is None


@pytest.mark.parametrize("question", ["What share of Acme's revenue is derived from cloud?",
                                      "Acme 期权的隐含波动率是多少？", "What is the implied volatility of Acme options?"])
def test_a_metric_named_implied_or_derived_is_not_a_computation(question):
    assert asked_ratio(question) != "derived"


def test_a_gap_in_points_between_two_companies_is_between_their_rates():
    text = "2029Q1，Acme 收入 20 亿元，同比增长 112%；Globex 收入 4 亿元，同比增长 684%。"
    comp = calculate(parse_query("Globex 2029Q1 收入同比增速比 Acme 高多少个百分点？"), facts(text))
    assert comp.result == "572个百分点"
    # the same companies' gap in money is between the amounts
    assert calculate(parse_query("2029Q1 Globex 收入比 Acme 少多少？"), facts(text)).result == "16 亿元"

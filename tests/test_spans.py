"""Answers that are not figures: dates asked with 哪天 / when / what year, and table cells asked
with 哪些 / 什么类型 — read off the evidence. Invented companies and figures throughout."""
from __future__ import annotations

from index.query import parse_query
from ingest.model import Chunk
from qa.answer import answer_by_extraction
from qa.evidence import score_units, units_from
from qa.spans import asked_date, dates_in


def _chunk(text: str, heading=("公司分析",)) -> Chunk:
    return Chunk(id="a.pdf#0", file="a.pdf", kind="text", text=text, pages=[1],
                 bboxes=[(1, (0, 0, 100, 100))], heading_path=list(heading))


def _table(caption: str, rows: list[list[str]]) -> Chunk:
    text = "\n".join([caption] + [" | ".join(r) for r in rows])
    return Chunk(id="b.pdf#t", file="b.pdf", kind="table", text=text, pages=[1],
                 bboxes=[(1, (0, 0, 100, 100))], heading_path=["行业"], table_id="t1")


def _extract(question: str, *chunks: Chunk):
    q = parse_query(question)
    units = [u for rank, c in enumerate(chunks) for u in units_from(c, rank)]
    return answer_by_extraction(q, score_units(q, units))


def test_the_granularity_a_date_question_asks_for():
    assert asked_date("Zeta 的新定价是哪天公布的？") == "day"
    assert asked_date("On what date did Zeta list?") == "day"
    assert asked_date("Zeta 是哪一年成立的？") == "year"
    assert asked_date("In what year was Zeta founded?") == "year"
    assert asked_date("Zeta 计划何时投产？") == "any"
    assert asked_date("Zeta 2030 年收入是多少？") == ""
    assert asked_date("What year-over-year growth did Zeta post?") == ""


def test_dates_are_read_at_their_most_specific():
    kinds = [k for _, _, k in dates_in("Zeta 于 2012 年成立，2019 年 5 月更名，2031 年 3 月 9 日上市；2030/11/20 交付。")]
    assert kinds == ["year", "month", "day", "day"]
    assert [k for _, _, k in dates_in("announced on March 9, 2031, shipped in June 2031")] == ["day", "month"]
    assert dates_in("营收 2031.5 亿元，同比增长 20.12%") == []          # amounts are not dates


def test_a_day_asked_is_the_day_printed():
    c = _chunk("Zeta 官网在 2031 年 3 月 9 日宣布推出新的定价模式，面向中小客户。")
    ext = _extract("Zeta 的新定价模式是哪天对外公布的？", c)
    assert not ext.abstained and ext.span and ext.figure == "2031 年 3 月 9 日"
    en = _chunk("Zeta announced the buyback on March 9, 2031, and completed it in June 2031.")
    assert _extract("On what date did Zeta announce the buyback?", en).figure == "March 9, 2031"


def test_a_date_the_question_gives_is_not_its_answer():
    c = _chunk("Zeta 于 2030 年 5 月与客户签约，并于 2030 年 11 月 20 日完成首批交付。")
    assert _extract("2030年5月签约后，Zeta 是哪天完成首批交付的？", c).figure == "2030 年 11 月 20 日"


def test_a_year_asked_is_read_from_a_fuller_date_beside_the_event():
    c = _chunk("Zeta 由三位工程师于 2012 年创立，早期从事矿机托管；公司在 2019 年 6 月完成更名并转型云服务。")
    assert _extract("Zeta 是哪一年创立的？", c).figure == "2012 年"
    assert _extract("Zeta 是哪年完成更名的？", c).figure == "2019年"


def test_a_date_question_is_never_answered_with_a_figure():
    c = _chunk("截至 2031 年末，Zeta 运营 49 个数据中心，员工 1,200 人。")
    ext = _extract("Zeta 是哪年成立的？", c)
    assert ext.figure == "" and ext.span                                # offered as the nearest, not stated


def test_the_cell_beside_the_row_the_question_names():
    t = _table("表：产业链相关标的", [["环节", "相关标的"], ["储能", "甲公司、乙公司"], ["光伏 (组件/逆变器)", "丙公司、丁公司"]])
    ext = _extract("产业链梳理中，组件/逆变器等光伏环节的相关标的有哪些？", t)
    assert not ext.abstained and ext.span and ext.figure == "丙公司、丁公司"


def test_the_column_the_question_names_last():
    t = _table("表：三家公司对比", [["", "Zeta", "Borealis", "Acme"], ["转型时间", "2012年", "2016年", "2020年"],
                                 ["区域战略", "先欧洲", "先美国", "聚焦中东"]])
    assert _extract("对比 Zeta、Borealis 与 Acme 的表格中，Borealis 是哪年转型的？", t).figure == "2016年"
    assert _extract("在 Zeta、Borealis 与 Acme 的对比表里，Acme 的区域战略是什么？", t).figure == "聚焦中东"


def test_the_column_whose_header_the_question_asks_for():
    t = _table("表：各类厂商策略对比", [["厂商类型", "代表公司", "芯片策略"],
                                 ["综合云", "Zeta/Borealis", "自研芯片与外购并行"],
                                 ["专业云", "Acme/Orbit", "外购 GPU 为主"]])
    assert _extract("对比各厂商芯片策略时，Acme、Orbit 被划入了什么类型？", t).figure == "专业云"
    drivers = _table("表：国内外市场对比", [["", "海外", "国内"], ["主导因素", "龙头规划与需求", "政策与需求"]])
    assert _extract("国内市场主要由哪些因素主导？", drivers).figure == "政策与需求"


def test_a_row_the_question_does_not_name_gives_no_cell():
    drivers = _table("表：国内外市场对比", [["", "海外", "国内"], ["供给", "整机柜为主", "8卡服务器为主"],
                                       ["主导因素", "龙头规划与需求", "政策与需求"]])
    q = parse_query("国内市场主要由哪些因素主导？")
    from qa.spans import cell_answer
    units = units_from(drivers, 0)
    assert [cell_answer(q, u) for u in units] == ["", "政策与需求"]


def test_a_revision_asked_to_what_gives_the_new_figure():
    from qa.spans import revision_answer
    assert revision_answer("Zeta 把 2031 年资本开支指引上调至多少？",
                           "公司已将 2031 年资本开支指引从 160-200 亿元上调至 200-250 亿元。") == "200-250 亿元"
    assert revision_answer("To what range did Zeta raise its 2031 revenue guidance?",
                           "同时，2031 财年收入指引被上调 2.5 亿元，至 51.5–53.5 亿元。") == "51.5–53.5 亿元"


def test_a_revision_asked_before_and_after_gives_both():
    from qa.spans import revision_answer
    text = "公司已将 2031 年资本开支指引从 160-200 亿元上调至 200-250 亿元。"
    assert revision_answer("Zeta 的资本开支指引从多少上调到了多少？", text) == "160-200 亿元 → 200-250 亿元"
    assert revision_answer("What was Zeta's capex guidance before and after it was raised?", text) == \
        "160-200 亿元 → 200-250 亿元"
    # a period between "从" and the figure is not the old figure
    assert revision_answer("How did Zeta's margin change over the year?", "利润率从 4Q30 的 24%进一步扩张至 45%。") == "24% → 45%"


def test_no_revision_asked_or_printed_gives_nothing():
    from qa.spans import revision_answer
    assert revision_answer("Zeta 2031 年收入是多少？", "收入从 10 亿元增长至 12 亿元。") == ""
    assert revision_answer("Zeta 的指引上调至多少？", "公司 2031 年收入 12 亿元，同比增长 20%。") == ""
    # "上调了多少" asks the change, which code computes, not the new level
    assert revision_answer("Zeta 的指引上调了多少？", "指引从 10 亿元上调至 12 亿元。") == ""

"""Broker layouts other than the house one, on synthetic pages with invented companies:
three-line tables drawn cell by cell, with wrapped headers and cells, cut by a page break;
two-column prose (never a table, read column by column, paragraphs going on across column and
page breaks); a cover whose two columns are a body, not a side column."""
from __future__ import annotations

import re

import pymupdf
import pytest

from ingest import BlockKind, chunk_document, parse
from ingest.render import to_markdown
from ingest.layout import Line, _attach_bullets, _join_vertical_text
from ingest.tables import _join_strokes, reads_as_prose

F = "china-s"
SIZE = 9
BLACK = (0, 0, 0)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _rule(page, y: float, x0: float, x1: float, cuts: list[float] = (), width: float = 0.8) -> None:
    """A horizontal rule, drawn as one stroke or, with ``cuts``, as one filled strip per column
    (the way word processors and HTML renderers draw a table border)."""
    edges = [x0, *cuts, x1]
    for a, b in zip(edges, edges[1:]):
        page.draw_rect(pymupdf.Rect(a, y - width / 2, b, y + width / 2), color=None, fill=BLACK)


def _table(page, y: float, xs: list[float], x1: float, header: list[list[str]], rows: list[list[list[str]]],
           line: float = 11, row_gap: float = 6, per_cell: bool = True, top: bool = True, close: bool = True) -> float:
    """A three-line table at ``y``: each header/row is a list of printed lines, each line one text
    per column ('' for none). Lines of one row are ``line`` apart; rows ``row_gap`` further."""
    cuts = [x - 4 for x in xs[1:]] if per_cell else []
    if top:
        _rule(page, y, xs[0] - 4, x1, cuts)
    y += 4
    for k, row in enumerate([header, *rows] if header else rows):
        for printed in row:
            y += line
            for x, text in zip(xs, printed):
                if text:
                    page.insert_text((x, y), text, fontname=F, fontsize=SIZE)
        y += row_gap
        if k == 0 and header:
            _rule(page, y - row_gap / 2, xs[0] - 4, x1, cuts, width=0.5)
    if close:
        _rule(page, y, xs[0] - 4, x1, cuts)
    return y


def _save(doc, path):
    doc.save(path)
    return parse(path, ocr=False)


XS = [60, 160, 330]
HEADER = [["业务", "收入（亿元）", "说明"]]
ROWS = [[["Acme云", "120.5", "客户数量稳步提升，"], ["", "", "订单饱满"]],
        [["Globex", "86.0", "海外业务占比提高"]],
        [["Initech", "42.3", "新产品放量，毛利率"], ["", "", "改善明显"]]]


# --- a rule drawn cell by cell is one rule ---------------------------------------------------

def test_strokes_that_touch_end_to_end_are_one_rule():
    joined = _join_strokes([(100.2, 60, 156), (100.0, 156, 326), (100.1, 326.5, 540), (200, 60, 120)])
    assert joined == [(100.2, 60, 540), (200, 60, 120)]


def test_strokes_apart_or_at_another_height_stay_apart():
    assert _join_strokes([(100, 60, 150), (100, 160, 300)]) == [(100, 60, 150), (100, 160, 300)]
    assert _join_strokes([(100, 60, 150), (103, 150, 300)]) == [(100, 60, 150), (103, 150, 300)]


def test_three_line_table_drawn_cell_by_cell_is_a_grid(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((60, 90), "表1：Acme 与 Globex 收入对比", fontname=F, fontsize=SIZE)
    _table(page, 100, XS, 540, HEADER, ROWS)
    (t,) = _save(doc, tmp_path / "cells.pdf").tables
    assert t.style == "three_line" and t.header == HEADER
    assert [r[0] for r in t.rows] == ["Acme云", "Globex", "Initech"]


def test_short_strokes_under_words_are_no_table(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    for y in (100, 130, 160):
        page.insert_text((60, y), "Acme 重点关注", fontname=F, fontsize=SIZE)
        page.insert_text((300, y), "Globex 维持评级", fontname=F, fontsize=SIZE)
        _rule(page, y + 3, 60, 110)          # an underline: short, and not joined to the other
        _rule(page, y + 3, 300, 360)
    assert _save(doc, tmp_path / "underline.pdf").tables == []


# --- the header is what lies above the header rule -----------------------------------------

def test_wrapped_header_stays_one_row(tmp_path):
    doc = pymupdf.open()
    header = [["", "2025年收入", "2026年收入"], ["", "（亿元）", "（亿元）"]]
    rows = [[["Acme", "12.5", "15.0"]], [["Globex", "8.1", "9.9"]], [["Initech", "3.2", "4.4"]]]
    _table(doc.new_page(), 100, XS, 540, header, rows)
    (t,) = _save(doc, tmp_path / "header.pdf").tables
    assert t.header == [["", "2025年收入（亿元）", "2026年收入（亿元）"]]
    assert t.rows == [["Acme", "12.5", "15.0"], ["Globex", "8.1", "9.9"], ["Initech", "3.2", "4.4"]]


def test_header_columns_close_together_do_not_merge(tmp_path):
    doc = pymupdf.open()
    xs = [60, 135, 185, 235]                 # columns set apart by little more than a character
    header = [["公司", "营收", "净利", "估值"], ["", "增速", "增速", "倍数"]]
    rows = [[["Acme", "12%", "15%", "20.1"]], [["Globex", "8%", "9%", "18.4"]], [["Hooli", "3%", "4%", "11.0"]]]
    _table(doc.new_page(), 100, xs, 285, header, rows)
    (t,) = _save(doc, tmp_path / "close.pdf").tables
    assert t.header == [["公司", "营收增速", "净利增速", "估值倍数"]]
    assert t.rows[2] == ["Hooli", "3%", "4%", "11.0"]


def test_a_rule_under_a_group_of_rows_is_no_header_rule(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    header = [["公司", "2025", "2026"]]
    group = [[[f"Acme分部{k}", f"{k}.0", f"{k}.5"]] for k in range(1, 5)]
    y = _table(page, 100, XS, 540, header + [], group, close=False, per_cell=False)
    # a second group under its own rule: what lies above that rule is not all header
    _rule(page, y, 56, 540)
    rows = [[[f"Globex分部{k}", f"{k}.1", f"{k}.6"]] for k in range(1, 3)]
    _table(page, y, XS, 540, [], rows, top=False, per_cell=False)
    tables = _save(doc, tmp_path / "groups.pdf").tables
    assert len(tables) == 1
    t = tables[0]
    assert t.header == header
    assert [r[0] for r in t.rows] == [f"Acme分部{k}" for k in range(1, 5)] + ["Globex分部1", "Globex分部2"]


# --- wrapped cells continue the cell above ---------------------------------------------------

def test_line_with_empty_first_cell_continues_the_row(tmp_path):
    doc = pymupdf.open()
    _table(doc.new_page(), 100, XS, 540, HEADER, ROWS, row_gap=0)    # evenly spaced: only the empty cell tells
    (t,) = _save(doc, tmp_path / "wrap.pdf").tables
    assert t.rows == [["Acme云", "120.5", "客户数量稳步提升，订单饱满"], ["Globex", "86.0", "海外业务占比提高"],
                      ["Initech", "42.3", "新产品放量，毛利率改善明显"]]


def test_first_column_that_wraps_is_joined_by_line_spacing(tmp_path):
    doc = pymupdf.open()
    rows = [[["Acme智能", "120.5", "客户数量稳步提升，"], ["云业务", "", "订单饱满"]],
            [["Globex", "86.0", "海外业务占比提高"]],
            [["Acme新能", "42.3", "新产品放量，毛利率"], ["源板块", "", "改善明显"]]]
    _table(doc.new_page(), 100, XS, 540, HEADER, rows, line=11, row_gap=7)
    (t,) = _save(doc, tmp_path / "wrapfirst.pdf").tables
    assert [r[0] for r in t.rows] == ["Acme智能云业务", "Globex", "Acme新能源板块"]
    assert t.rows[2][2] == "新产品放量，毛利率改善明显"


def test_evenly_spaced_rows_of_figures_are_not_joined(tmp_path):
    doc = pymupdf.open()
    rows = [[[f"{2020 + k}", f"{10 + k}.5", f"{20 + k}.5"]] for k in range(5)]
    _table(doc.new_page(), 100, XS, 540, [["年份", "Acme", "Globex"]], rows, row_gap=0)
    (t,) = _save(doc, tmp_path / "even.pdf").tables
    assert len(t.rows) == 5 and t.rows[4] == ["2024", "14.5", "24.5"]


# --- a caption or source line between rules parts two tables -------------------------------

def _stacked(tmp_path, between: list[str]):
    doc = pymupdf.open()
    page = doc.new_page()
    y = _table(page, 100, XS, 540, HEADER, ROWS[:2], per_cell=False)
    for text in between:
        y += 16
        page.insert_text((60, y), text, fontname=F, fontsize=8)
    _table(page, y + 8, XS, 540, [["公司", "2025", "2026"]], [[["Umbrella", "1.0", "2.0"]], [["Hooli", "3.0", "4.0"]]],
           per_cell=False)
    return _save(doc, tmp_path / "stacked.pdf")


def test_source_and_caption_between_rules_part_two_tables(tmp_path):
    doc = _stacked(tmp_path, ["资料来源：Acme 公司公告，样例证券研究所", "表2：Umbrella 与 Hooli 收入"])
    assert [t.header for t in doc.tables] == [HEADER, [["公司", "2025", "2026"]]]
    assert doc.tables[0].source.startswith("资料来源") and doc.tables[1].caption.startswith("表2")


def test_caption_alone_between_rules_parts_two_tables(tmp_path):
    doc = _stacked(tmp_path, ["表2：Umbrella 与 Hooli 收入"])
    assert len(doc.tables) == 2 and doc.tables[1].rows == [["Umbrella", "1.0", "2.0"], ["Hooli", "3.0", "4.0"]]


def test_source_alone_between_rules_parts_two_tables(tmp_path):
    doc = _stacked(tmp_path, ["数据来源：Globex 年报"])
    assert len(doc.tables) == 2 and doc.tables[0].rows[-1][0] == "Globex"


# --- a three-line table cut by a page break ----------------------------------------------

def _running(page, number: int) -> None:
    page.insert_text((60, 40), "样例证券 行业深度报告", fontname=F, fontsize=8)
    page.insert_text((280, 815), f"第 {number} 页", fontname=F, fontsize=8)


def _open_table_page(doc, rows, number: int, caption: str = "表2：Acme 子公司收入") -> int:
    """A page whose three-line table runs from its caption to the foot of the page (no closing
    rule); returns how many of ``rows`` it printed."""
    page = doc.new_page()
    _running(page, number)
    page.insert_text((60, 90), caption, fontname=F, fontsize=SIZE)
    y, k = 100, 0
    _rule(page, y, 56, 540)
    y += 4 + 11
    for x, text in zip(XS, HEADER[0]):
        page.insert_text((x, y), text, fontname=F, fontsize=SIZE)
    y += 6
    _rule(page, y - 3, 56, 540, width=0.5)
    while y < 770:
        y += 17
        for x, text in zip(XS, rows[k][0]):
            page.insert_text((x, y), text, fontname=F, fontsize=SIZE)
        k += 1
    return k


def test_three_line_table_cut_by_a_page_break_is_one_table(tmp_path):
    doc = pymupdf.open()
    rows = [[[f"Acme子公司{k:02d}", f"{k}.5", "区域业务持续扩张"]] for k in range(60)]
    k = _open_table_page(doc, rows, 1, caption="表1：Acme 子公司收入")
    page = doc.new_page()
    _running(page, 2)
    y = _table(page, 62, XS, 540, [], rows[k:k + 8], top=False)     # the rest, then the closing rule
    page.insert_text((60, y + 16), "资料来源：Acme 公司公告", fontname=F, fontsize=8)
    page.insert_textbox((60, y + 30, 540, y + 90), "正文：Globex 的订单同样饱满。" * 4, fontname=F, fontsize=10)
    parsed = _save(doc, tmp_path / "cut.pdf")
    (t,) = parsed.tables
    assert t.pages == [1, 2] and t.header == HEADER
    assert [r[0] for r in t.rows] == [r[0][0] for r in rows[:k + 8]]
    assert t.source.startswith("资料来源")
    assert any(b.kind == BlockKind.PARAGRAPH and b.text.startswith("正文") for b in parsed.pages[1].blocks)


def _rows_only_page(doc, rows, number: int) -> None:
    """A page the table only passes through: rows from head to foot, not a single rule."""
    page = doc.new_page()
    _running(page, number)
    y = 62
    for row in rows:
        y += 17
        for x, text in zip(XS, row[0]):
            page.insert_text((x, y), text, fontname=F, fontsize=SIZE)


def test_table_passing_through_a_page_with_no_rules_keeps_every_row(tmp_path):
    doc = pymupdf.open()
    rows = [[[f"分部{k:02d}", f"{k}.25", f"({k + 1}.0)"]] for k in range(120)]
    k = _open_table_page(doc, rows, 1)
    _rows_only_page(doc, rows[k:k + 41], 2)                       # 41 rows reach the foot of page 2
    page = doc.new_page()
    _running(page, 3)
    y = _table(page, 62, XS, 540, [], rows[k + 41:k + 42], top=False)   # one last row, then the closing rule
    page.insert_text((60, y + 16), "资料来源：Globex 年报", fontname=F, fontsize=8)
    page.insert_textbox((60, y + 30, 540, y + 90), "正文：Initech 的订单同样饱满。" * 4, fontname=F, fontsize=10)
    parsed = _save(doc, tmp_path / "through.pdf")
    (t,) = parsed.tables
    assert t.pages == [1, 2, 3] and t.header == HEADER
    assert t.rows == [r[0] for r in rows[:k + 42]]
    assert t.source.startswith("资料来源")
    assert any(b.kind == BlockKind.PARAGRAPH and b.text.startswith("正文") for b in parsed.pages[2].blocks)


def _open_table_then_a_page(label: str):
    """A document whose first page ends in an open table; its second page, still empty."""
    doc = pymupdf.open()
    rows = [[[f"{label}{k:02d}", f"{k}.75", "稳步"]] for k in range(60)]
    k = _open_table_page(doc, rows, 1)
    page = doc.new_page()
    _running(page, 2)
    return doc, k, page


def test_prose_at_the_head_of_the_next_page_does_not_continue_an_open_table(tmp_path):
    doc, k, page = _open_table_then_a_page("部门")
    page.insert_textbox((60, 62, 540, 200), "正文：Umbrella 的海外收入占比提高，经营杠杆释放。" * 6,
                        fontname=F, fontsize=10)
    parsed = _save(doc, tmp_path / "prose-next.pdf")
    (t,) = parsed.tables
    assert t.pages == [1] and len(t.rows) == k
    assert any(b.kind == BlockKind.PARAGRAPH and b.text.startswith("正文") for b in parsed.pages[1].blocks)


def test_rows_that_break_the_columns_do_not_continue_an_open_table(tmp_path):
    doc, k, page = _open_table_then_a_page("区域")
    for j in range(4):      # another table's columns: its second column starts inside the first one's gutter
        for x, text in zip([60, 120, 420], [f"项目{j}", f"{j}.1", f"{j}.2"]):
            page.insert_text((x, 80 + 17 * j), text, fontname=F, fontsize=SIZE)
    parsed = _save(doc, tmp_path / "other-columns.pdf")
    assert parsed.tables[0].pages == [1] and len(parsed.tables[0].rows) == k


def test_label_column_of_long_sentences_does_not_end_an_open_table(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    xs = [60, 150]
    y = 100
    _rule(page, y, 56, 540)
    y += 15
    page.insert_text((60, y), "公司", fontname=F, fontsize=SIZE)
    page.insert_text((150, y), "布局进展", fontname=F, fontsize=SIZE)
    y += 6
    _rule(page, y - 3, 56, 540, width=0.5)
    names = ["星河", "青岚", "北辰", "云杉", "泰和"]
    for k in range(30):     # a label, then a cell of sentences wrapped over two lines, down to the foot of the page
        y += 13
        page.insert_text((60, y), names[k % 5] + str(k), fontname=F, fontsize=SIZE)
        page.insert_text((150, y), f"第{k}期集群于年内投产，合计部署约{k + 1}万张加速卡，用于大模型训练与推理，", fontname=F, fontsize=SIZE)
        y += 11
        page.insert_text((150, y), "并对外提供算力服务。", fontname=F, fontsize=SIZE)
        if y > 760:
            break
    (t,) = _save(doc, tmp_path / "sentences.pdf").tables
    assert t.header == [["公司", "布局进展"]] and len(t.rows) == k + 1
    assert t.rows[3] == ["云杉3", "第3期集群于年内投产，合计部署约4万张加速卡，用于大模型训练与推理，并对外提供算力服务。"]


def test_a_double_rule_over_a_page_of_prose_is_no_table(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    _rule(page, 47, 48, 547)
    _rule(page, 49.5, 48, 547)               # a cover's double rule: nothing between the two
    for k in range(12):
        if k % 3 == 0:
            page.insert_text((48, 80 + 20 * k), f"分析师{k}", fontname=F, fontsize=SIZE)
        page.insert_text((200, 80 + 20 * k), f"Acme 第{k}季度云业务收入增长，订单饱满，毛利率稳步改善。", fontname=F, fontsize=10)
    assert _save(doc, tmp_path / "cover.pdf").tables == []


def test_header_cell_centred_over_the_row_labels_is_their_column(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    _rule(page, 100, 56, 540)
    cols = [200, 280, 360, 440]
    page.insert_text((100, 115), "亿元", fontname=F, fontsize=SIZE)     # centred over the labels, right of the short ones
    for x, h in zip(cols, ["2023", "2024", "2025", "2026"]):
        page.insert_text((x, 115), h, fontname=F, fontsize=SIZE)
    _rule(page, 119, 56, 540, width=0.5)
    labels = ["收入", "净利", "毛利"]
    for k, label in enumerate(labels):
        page.insert_text((60, 134 + 14 * k), label, fontname=F, fontsize=SIZE)
        for j, x in enumerate(cols):
            page.insert_text((x, 134 + 14 * k), f"{k + 1}{j}.5", fontname=F, fontsize=SIZE)
    _rule(page, 134 + 14 * 2 + 5, 56, 540)
    (t,) = _save(doc, tmp_path / "unit-head.pdf").tables
    assert t.header == [["亿元", "2023", "2024", "2025", "2026"]]
    assert t.rows[1] == ["净利", "20.5", "21.5", "22.5", "23.5"]


def test_a_line_of_figures_only_is_a_row_even_under_words(tmp_path):
    doc = pymupdf.open()
    rows = [[["", "多空年化收益", "最大回撤"]], [["1", "18.5%", "12.5%"]], [["2", "16.0%", "14.0%"]]]
    _table(doc.new_page(), 100, [60, 160, 300], 540, [["窗口", "Acme", "Globex"]], rows, row_gap=0)
    (t,) = _save(doc, tmp_path / "figs.pdf").tables
    assert [r[0] for r in t.header + t.rows][-2:] == ["1", "2"] and ["1", "18.5%", "12.5%"] in t.rows


def test_rows_under_a_label_spanning_them_stay_rows_when_evenly_spaced(tmp_path):
    doc = pymupdf.open()
    rows = [[["Acme", "X100", "2019年", "256"]], [["", "X200", "2020年", "320"]], [["", "X300", "2025年", "800"]],
            [["Globex", "G7", "2024年", "314"]], [["", "G5", "2022年", "96"]]]
    _table(doc.new_page(), 100, [60, 160, 260, 380], 540, [["公司", "型号", "发布", "算力"]], rows, row_gap=0)
    (t,) = _save(doc, tmp_path / "groups.pdf").tables
    assert t.rows == [r[0] for r in rows]


def test_amount_ending_a_wrapped_sentence_joins_its_cell_when_evenly_spaced(tmp_path):
    doc = pymupdf.open()
    rows = [[["Acme", "首期订单30亿元，合同上限可达", "五年期协议，"], ["", "45亿元", "可续约"]],
            [["Globex", "12亿元", "短约"]]]
    _table(doc.new_page(), 100, [60, 160, 420], 540, [["客户", "规模", "性质"]], rows, row_gap=0)
    (t,) = _save(doc, tmp_path / "amount.pdf").tables
    assert [_squash(c) for c in t.rows[0]] == ["Acme", "首期订单30亿元，合同上限可达45亿元", "五年期协议，可续约"]
    assert t.rows[1] == ["Globex", "12亿元", "短约"]


def test_closed_table_followed_by_prose_takes_no_prose(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    y = _table(page, 100, XS, 540, [], [[["Acme", "1.0", "2.0"]], [["Globex", "3.0", "4.0"]]], per_cell=False)
    page.insert_textbox((60, y + 4, 540, 800), "正文：Acme 与 Globex 的收入持续增长，订单饱满。" * 40,
                        fontname=F, fontsize=10)
    parsed = _save(doc, tmp_path / "closed.pdf")
    assert [t.rows for t in parsed.tables] == [[["Globex", "3.0", "4.0"]]]
    assert _squash("正文：Acme 与 Globex 的收入持续增长") in _squash(
        " ".join(b.text for b in parsed.pages[0].blocks if b.kind == BlockKind.PARAGRAPH))


def test_rule_under_prose_at_the_head_of_a_page_is_no_table(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_textbox((60, 60, 540, 160), "Acme 的收入持续增长，订单饱满，毛利率改善。" * 8, fontname=F, fontsize=10)
    _rule(page, 170, 60, 540)                   # a separator rule under the opening paragraph
    page.insert_textbox((60, 180, 540, 300), "Globex 的海外业务占比提高。" * 8, fontname=F, fontsize=10)
    assert _save(doc, tmp_path / "separator.pdf").tables == []


# --- two-column prose is never a table ----------------------------------------------------

SENTENCES = ["Acme 公司的云业务收入持续增长，客户数量稳步提升。", "Globex 加快海外数据中心建设，订单饱满。",
             "Initech 推出新一代推理芯片，单位算力成本下降。", "Umbrella 的毛利率改善明显，经营杠杆持续释放。",
             "我们认为行业景气度有望维持，建议关注具备资源优势的公司。"]


def _prose(n: int, start: int = 0) -> str:
    return "".join(SENTENCES[(start + k) % len(SENTENCES)] for k in range(n))


def _two_columns(page, left: str, right: str, top: float = 80, bottom: float = 780, caption: str = "") -> None:
    if caption:
        page.insert_text((50, top), caption, fontname=F, fontsize=SIZE)
        top += 6
    for x0, x1, text in ((50, 285, left), (310, 545, right)):
        assert page.insert_textbox((x0, top, x1, bottom), text, fontname=F, fontsize=10) >= 0, "text does not fit"


def test_two_column_prose_under_a_caption_is_no_table(tmp_path):
    doc = pymupdf.open()
    _two_columns(doc.new_page(), _prose(6), _prose(6, 2), caption="图1：Acme 业务结构")
    parsed = _save(doc, tmp_path / "twocol.pdf")
    assert parsed.tables == []
    paras = [b for b in parsed.pages[0].blocks if b.kind == BlockKind.PARAGRAPH]
    assert [_squash(b.text) for b in paras] == [_squash(_prose(6)), _squash(_prose(6, 2))]


def test_prose_is_told_from_tables_by_figures_and_labels():
    left = ["Acme 公司的云业务收入持续增长，", "客户数量稳步提升，订单饱满。", "Globex 加快海外数据中心建设，"]
    right = ["Initech 推出新一代推理芯片，", "单位算力成本下降，毛利率改善。", "我们认为行业景气度有望维持，"]
    assert reads_as_prose([list(r) for r in zip(left, right)])
    # a column of figures, or one of short labels, makes it a table
    assert not reads_as_prose([[a, f"{k}.5"] for k, a in enumerate(left)])
    assert not reads_as_prose([["Acme", a] for a in right])


def test_caption_over_aligned_labels_and_figures_is_still_a_table(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((60, 100), "表1：Acme 与 Globex 核心指标", fontname=F, fontsize=SIZE)
    for k, row in enumerate([["指标", "Acme", "Globex"], ["收入（亿元）", "120.5", "86.0"],
                             ["毛利率", "35.2%", "28.1%"], ["员工（人）", "1,200", "860"]]):
        for x, text in zip((60, 260, 420), row):
            page.insert_text((x, 124 + 16 * k), text, fontname=F, fontsize=SIZE)
    page.insert_text((60, 200), "资料来源：公司公告", fontname=F, fontsize=8)
    (t,) = _save(doc, tmp_path / "aligned.pdf").tables
    assert t.header == [["指标", "Acme", "Globex"]] and t.rows[1] == ["毛利率", "35.2%", "28.1%"]


# --- paragraphs go on across column and page breaks ----------------------------------------

CUT = "Acme 公司的云业务收入持续增长，客户数量稳步提升，管理层预计明年资本开支将继续扩大并投向新的数据中心。"


def _cut_columns(tmp_path, left_end: str):
    """Two columns: the left ends with ``left_end``, the right goes on from there."""
    doc = pymupdf.open()
    page = doc.new_page()
    _two_columns(page, _prose(6) + left_end, CUT[len(left_end):] + _prose(3, 1), bottom=400)
    return _save(doc, tmp_path / "cutcol.pdf")


def test_sentence_cut_by_a_column_break_goes_on_in_the_next_column(tmp_path):
    parsed = _cut_columns(tmp_path, CUT[:20])
    paras = [b for b in parsed.pages[0].blocks if b.kind == BlockKind.PARAGRAPH]
    assert len(paras) == 2 and paras[1].continues and not paras[0].continues
    assert any(_squash(CUT) in _squash(c.text) for c in chunk_document(parsed))
    assert _squash(CUT) in _squash(to_markdown(parsed))


def test_paragraph_ending_at_the_column_foot_does_not_go_on(tmp_path):
    doc = pymupdf.open()
    _two_columns(doc.new_page(), _prose(6), _prose(3, 1), bottom=400)
    paras = [b for b in _save(doc, tmp_path / "whole.pdf").pages[0].blocks if b.kind == BlockKind.PARAGRAPH]
    assert len(paras) == 2 and not paras[1].continues


def test_sentence_cut_by_a_page_break_is_one_chunk_with_both_pages(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    _running(page, 1)
    page.insert_textbox((60, 600, 540, 800), _prose(12) + CUT[:24], fontname=F, fontsize=10)   # runs to the foot
    page = doc.new_page()
    _running(page, 2)
    page.insert_textbox((60, 70, 540, 200), CUT[24:] + _prose(2), fontname=F, fontsize=10)
    parsed = _save(doc, tmp_path / "cutpage.pdf")
    first = next(b for b in parsed.pages[1].blocks if not b.boilerplate)
    assert first.continues
    chunk = next(c for c in chunk_document(parsed) if _squash(CUT) in _squash(c.text))
    assert chunk.pages == [1, 2]
    md = to_markdown(parsed)
    assert _squash(CUT) in _squash(md) and "continues on page 2" in md


def test_table_at_the_foot_of_the_left_column_comes_before_the_right_column(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_textbox((50, 80, 285, 200), _prose(4), fontname=F, fontsize=10)
    page.insert_textbox((310, 80, 545, 400), _prose(8, 3), fontname=F, fontsize=10)
    page.insert_text((50, 224), "表1：Acme 收入", fontname=F, fontsize=SIZE)
    _table(page, 232, [54, 130, 200], 285, [["公司", "2025", "2026"]],
           [[["Acme", "1.0", "2.0"]], [["Globex", "3.0", "4.0"]]])
    blocks = [b for b in _save(doc, tmp_path / "foot.pdf").pages[0].blocks]
    kinds = [b.kind.value for b in blocks]
    assert kinds.index("table") < max(i for i, b in enumerate(blocks) if b.bbox[0] > 300)
    assert all(b.bbox[0] > 300 for b in blocks[kinds.index("table") + 1:])


# --- a cover's side column is narrower than its main column --------------------------------

COVER_SIDE = ["买入（维持）", "分析师：张三", "执业证书编号：S0000000000001", "分析师：李四",
              "执业证书编号：S0000000000002", "相关研究：Acme 深度报告"]


def _cover(tmp_path, side_x: tuple[float, float], body_x: tuple[float, float]):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((50, 60), "Acme（ACME）：云业务加速增长", fontname=F, fontsize=18)
    for k, text in enumerate(COVER_SIDE):
        page.insert_text((side_x[0], 100 + 18 * k), text, fontname=F, fontsize=SIZE)
    if side_x[1] - side_x[0] > 220:           # as wide as the other column: the body goes on below
        page.insert_textbox((side_x[0], 100 + 18 * len(COVER_SIDE), side_x[1], 780), _prose(10), fontname=F, fontsize=10)
    assert page.insert_textbox((body_x[0], 90, body_x[1], 780), _prose(16, 1), fontname=F, fontsize=10) >= 0
    return _save(doc, tmp_path / "cover.pdf")


def test_equal_columns_of_a_cover_are_a_two_column_body(tmp_path):
    parsed = _cover(tmp_path, (50, 285), (310, 545))
    assert not any(b.kind == BlockKind.SIDEBAR for b in parsed.pages[0].blocks)
    text = _squash(" ".join(b.text for b in parsed.pages[0].blocks if not b.boilerplate))
    assert _squash(_prose(10)) in text and _squash(_prose(16, 1)) in text


def test_narrow_right_side_column_is_a_sidebar(tmp_path):
    parsed = _cover(tmp_path, (430, 560), (50, 400))
    side = [b.text for b in parsed.pages[0].blocks if b.kind == BlockKind.SIDEBAR]
    assert "分析师：张三" in side and parsed.meta.rating.startswith("买入")


def test_narrow_left_side_column_is_a_sidebar(tmp_path):
    parsed = _cover(tmp_path, (30, 230), (260, 565))
    side = [b.text for b in parsed.pages[0].blocks if b.kind == BlockKind.SIDEBAR]
    assert "分析师：李四" in side


def test_cells_of_a_row_and_side_notes_do_not_go_on_as_columns(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    for k, (label, value) in enumerate([("设定项", "设定值"), ("测试区间", "2020/01 至 2024/12"), ("样本", "Acme 与 Globex")]):
        page.insert_text((60, 100 + 16 * k), label, fontname=F, fontsize=SIZE)       # no rules, no caption
        page.insert_text((300, 100 + 16 * k), value, fontname=F, fontsize=SIZE)
    page.insert_text((40, 200), "要点提示", fontname=F, fontsize=SIZE)                # a note in the margin
    page.insert_textbox((150, 195, 545, 300), _prose(4), fontname=F, fontsize=10)
    parsed = _save(doc, tmp_path / "cells.pdf")
    assert not any(b.continues for b in parsed.pages[0].blocks)


def test_boxes_side_by_side_on_one_line_do_not_go_on_as_columns(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page(width=842, height=595)              # a slide
    for k, (left, right) in enumerate([("Acme 借助新一代大模型快速理解海量客户反馈", "Globex 借助新一代大模型自动生成产品说明"),
                                       ("Initech 借助新一代大模型批量撰写营销文案", "Hooli 借助新一代大模型实时回答客户提问")]):
        page.insert_text((46, 240 + 60 * k), left, fontname=F, fontsize=10)
        page.insert_text((477, 240 + 60 * k), right, fontname=F, fontsize=10)
    assert not any(b.continues for b in _save(doc, tmp_path / "slide.pdf").pages[0].blocks)


def test_prose_columns_with_a_few_short_lines_are_still_prose():
    left = ["Acme 公司的云业务收入持续增长，", "客户数量稳步提升，订单饱满。", "Globex 加快海外数据中心建设，", "订单饱满"]
    right = ["（续）", "Initech 推出新一代推理芯片，", "单位算力成本下降，毛利率改善。", "我们认为行业景气度有望维持，"]
    assert reads_as_prose([list(r) for r in zip(left, right)])
    assert not reads_as_prose([["Acme", "云业务"], ["Globex", "数据中心"], ["Hooli", "推理芯片，算力"]])


def test_group_label_across_the_table_does_not_merge_its_columns(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    y = _table(page, 100, XS, 540, HEADER, [], close=False)
    page.insert_text((60, y + 11), "Acme集团（三家子公司合计约250亿元）", fontname=F, fontsize=SIZE)  # spans the row
    _table(page, y + 14, XS, 540, [], ROWS, top=False)
    (t,) = _save(doc, tmp_path / "group.pdf").tables
    assert t.header == HEADER and len(t.rows[0]) == 3
    assert t.rows[1:] == [["Acme云", "120.5", "客户数量稳步提升，订单饱满"], ["Globex", "86.0", "海外业务占比提高"],
                          ["Initech", "42.3", "新产品放量，毛利率改善明显"]]
    assert _squash(t.rows[0][0]).startswith("Acme集团")


def test_row_under_a_label_spanning_rows_is_a_row_when_rows_are_spaced(tmp_path):
    doc = pymupdf.open()
    rows = [[["2024", "Acme", "新建数据中心，", "签约"], ["", "", "覆盖华东地区", ""]],
            [["", "Globex", "扩建算力集群", "扩容"]],                     # same year: the label spans both rows
            [["2025", "Initech", "推理平台上线", "交付"]]]
    _table(doc.new_page(), 100, [60, 130, 220, 420], 540, [["年份", "公司", "项目", "进展"]], rows, line=11, row_gap=7)
    (t,) = _save(doc, tmp_path / "rowspan.pdf").tables
    assert t.rows == [["2024", "Acme", "新建数据中心，覆盖华东地区", "签约"], ["", "Globex", "扩建算力集群", "扩容"],
                      ["2025", "Initech", "推理平台上线", "交付"]]


def test_second_line_of_figures_under_each_value_joins_its_row_when_evenly_spaced(tmp_path):
    doc = pymupdf.open()
    rows = [[["1", "0.59", "-0.37"], ["", "(2.04)", "(-1.50)"]], [["2", "0.58", "-0.44"], ["", "(2.41)", "(-2.00)"]]]
    _table(doc.new_page(), 100, XS, 540, [["窗口", "Acme", "Globex"]], rows, row_gap=0)
    (t,) = _save(doc, tmp_path / "tstat.pdf").tables
    assert t.rows == [["1", "0.59(2.04)", "-0.37(-1.50)"], ["2", "0.58(2.41)", "-0.44(-2.00)"]]


# --- a minus sign at the start of a wrapped line is no bullet --------------------------------

def _lines(tmp_path, lines: list[str]):
    doc = pymupdf.open()
    page = doc.new_page()
    for k, text in enumerate(lines):
        page.insert_text((60, 100 + 14 * k), text, fontname=F, fontsize=10)
    return [b for b in _save(doc, tmp_path / "lines.pdf").pages[0].blocks if not b.boilerplate]


def test_wrapped_line_starting_with_a_negative_figure_goes_on_with_the_paragraph(tmp_path):
    (block,) = _lines(tmp_path, ["从样本期的月度数据来看，Acme 因子的均值为 -1.03%，中位数为", "-0.65%，多数月份小于零。"])
    assert block.kind == BlockKind.PARAGRAPH and block.text.endswith("多数月份小于零。")


def test_wrapped_line_starting_with_an_en_dash_minus_goes_on_too(tmp_path):
    (block,) = _lines(tmp_path, ["Globex 的超额收益在回撤最深的月份达到了", "–12.5%，随后逐步修复。"])
    assert block.kind == BlockKind.PARAGRAPH and "12.5%" in block.text


def test_dash_and_space_still_start_a_list_item(tmp_path):
    blocks = _lines(tmp_path, ["风险提示：", "- Acme 新产品推广不及预期；", "- 2025 年 Globex 订单交付延迟。"])
    assert [b.kind for b in blocks] == [BlockKind.PARAGRAPH, BlockKind.LIST_ITEM, BlockKind.LIST_ITEM]


# --- contents that run on into the first chapter ----------------------------------------------

def _contents_page(tmp_path, after: list[tuple[str, float]], title: str = "目录"):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((60, 80), title, fontname=F, fontsize=12)
    entries = ["[01] Acme 云业务高增，订单饱满", "[02] Globex 海外扩张提速", "[03] Initech 芯片放量，成本下降"]
    for k, entry in enumerate(entries):
        page.insert_text((60, 104 + 18 * k), entry, fontname=F, fontsize=10.5)
    y = 104 + 18 * len(entries) + 10
    for text, size in after:
        y += size * 1.8
        page.insert_text((60, y), text, fontname=F, fontsize=size)
    return _save(doc, tmp_path / "contents.pdf").pages[0]


def test_body_after_contents_on_the_same_page_is_body(tmp_path):
    page = _contents_page(tmp_path, [("第一章 行业高景气延续", 13), ("Acme 2025 年收入持续增长，客户数量稳步提升。", 10)])
    kinds = {b.text: b.kind for b in page.blocks}
    assert kinds["[02] Globex 海外扩张提速"] == BlockKind.TOC and not page.is_toc
    assert kinds["第一章 行业高景气延续"] == BlockKind.HEADING
    assert any(k == BlockKind.PARAGRAPH and "客户数量稳步提升" in t for t, k in kinds.items())


def test_a_sentence_ends_the_contents_even_without_a_heading(tmp_path):
    page = _contents_page(tmp_path, [("Globex 的海外收入占比提高。订单饱满。", 10.5)])
    assert [b.text for b in page.blocks if b.kind == BlockKind.TOC][-1] == "[03] Initech 芯片放量，成本下降"
    assert any(b.kind == BlockKind.PARAGRAPH and "海外收入占比提高" in b.text for b in page.blocks)


def test_a_second_list_under_its_own_title_is_still_contents(tmp_path):
    page = _contents_page(tmp_path, [("图表目录", 12), ("图1：Acme 收入 ........ 5", 10.5),
                                     ("图2：Globex 毛利率 ........ 7", 10.5)], title="内容目录")
    assert page.is_toc and all(b.kind == BlockKind.TOC for b in page.blocks if not b.text.isdigit())


# --- a bullet PyMuPDF returns as a line of its own ------------------------------------------

def _line(text: str, x0: float, y0: float, size: float = 14.0) -> Line:
    x1 = x0 + size * len(text)
    return Line(text, (x0, y0, x1, y0 + size * 1.1), size, chars=[(c, (x0 + size * i, y0, x0 + size * (i + 1), y0 + size))
                                                                 for i, c in enumerate(text)])


def test_symbol_font_bullet_set_lower_joins_the_first_line_of_its_item():
    first = _line("Acme 关注度较高：上线五天用户", 64, 90)
    mark = _line("\uf075", 37, 92)                 # Wingdings' bullet: a Private Use Area code
    second = _line("超过一百万。", 64, 107)
    lines = _attach_bullets([first, mark, second])
    assert [ln.text for ln in lines] == ["• Acme 关注度较高：上线五天用户", "超过一百万。"]
    assert lines[0].bbox[0] == 37 and lines[0].chars[0][0] == "•"


def test_bullet_item_is_one_block_in_the_parse(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((60, 103), "●", fontname=F, fontsize=10)      # the mark sits 3 pt lower than its text
    page.insert_text((74, 100), "Globex 海外收入占比提高，订单饱满，", fontname=F, fontsize=10)
    page.insert_text((74, 115), "毛利率改善明显。", fontname=F, fontsize=10)
    blocks = [b for b in _save(doc, tmp_path / "bullet.pdf").pages[0].blocks if not b.boilerplate]
    assert len(blocks) == 1 and blocks[0].kind == BlockKind.LIST_ITEM
    assert _squash(blocks[0].text).endswith("订单饱满，毛利率改善明显。")


def test_a_dash_or_a_mark_with_no_text_beside_it_stays_apart():
    dash = _line("-", 160, 100, 9)                  # an empty-cell mark in a table, figures to its right
    figure = _line("12.5", 175, 100, 9)
    lone = _line("●", 300, 200, 9)
    assert _attach_bullets([dash, figure, lone]) == [dash, figure, lone]


# --- vertical text: one character per line ----------------------------------------------------

def test_characters_stacked_one_per_line_are_one_vertical_line():
    stacked = [_line(c, 20, 100 + 10 * i, 10) for i, c in enumerate("请务必阅读正文")]
    body = _line("Acme 收入增长。", 80, 100, 10)
    lines = _join_vertical_text([body, *stacked], 595)
    assert [ln.text for ln in lines] == ["Acme 收入增长。", "请务必阅读正文"]
    assert lines[1].bbox == (20, 100, 30, 100 + 10 * 6 + 11)


def test_single_characters_spread_apart_or_across_stay_lines():
    rows = [_line(c, 20, 100 + 25 * i, 10) for i, c in enumerate("是否是")]    # a column of marks, rows apart
    across = [_line(c, 20 + 20 * i, 300, 10) for i, c in enumerate("甲乙丙")]   # side by side
    two = [_line(c, 20, 400 + 10 * i, 10) for i, c in enumerate("注释")]        # too short a run
    cell = [_line(c, 300, 500 + 10 * i, 10) for i, c in enumerate("优于大市")]  # a narrow table cell mid-page
    lines = rows + across + two + cell
    assert _join_vertical_text(lines, 595) == lines


def test_a_vertical_sidebar_reads_as_one_line_in_the_parse(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    for i, c in enumerate("本报告仅供机构投资者参考"):
        page.insert_text((20, 100 + 10 * i), c, fontname=F, fontsize=10)
    page.insert_text((80, 110), "Acme 2029 年收入 12 亿元，同比增长 20%。", fontname=F, fontsize=10)
    text = "\n".join(b.text for b in _save(doc, tmp_path / "vertical.pdf").pages[0].blocks)
    assert "本报告仅供机构投资者参考" in text and "Acme 2029 年收入 12 亿元" in text


# --- a portal's tracking string is furniture --------------------------------------------------

def test_a_tiny_tracking_string_is_boilerplate_wherever_it_sits():
    from ingest.boilerplate import is_tracking_string
    assert is_tracking_string(_line("qRpMoNxOmPsRoMoO8OdNbRoMrRoMnMiNn", 60, 400, 3), 842)      # mid-page, 3 pt
    assert is_tracking_string(_line("aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3", 60, 830, 8), 842)      # in the footer band


def test_words_codes_and_figures_are_not_tracking_strings():
    from ingest.boilerplate import is_tracking_string
    for text in ["ChatGPTOpenAIAnthropicGeminiLlama", "SHA256", "0123456789012345678901234567",
                 "AccountsReceivableTurnoverRatio2024"]:
        assert not is_tracking_string(_line(text, 60, 400, 10), 842), text    # body size, mid-page


def test_a_tracking_string_in_the_footer_is_not_in_the_text(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((60, 100), "Acme 2029 年收入 12 亿元。", fontname=F, fontsize=10)
    page.insert_text((60, 835), "oPpMoMqOoNxOmOxPsRoMoO8OdNbRoMrRoMnMiN", fontname="helv", fontsize=3)
    parsed = _save(doc, tmp_path / "tracked.pdf")
    assert all("oPpMoMq" not in b.text for b in parsed.pages[0].blocks if not b.boilerplate)
    assert all("oPpMoMq" not in c.text for c in chunk_document(parsed))


# --- the page number a page prints, beside its physical number --------------------------------

@pytest.mark.parametrize("footer, printed", [("第 12 页", "12"), ("- 7 -", "7"), ("12/40", "12"), ("Page 3 of 9", "3"),
                                             ("请务必阅读正文之后的免责声明", ""), ("2026年5月", "")])
def test_printed_page_numbers_in_running_lines(footer, printed):
    from ingest.boilerplate import printed_page_number
    assert printed_page_number([_line(footer, 280, 815, 8)]) == printed


def test_a_report_whose_numbering_skips_the_cover_records_both_numbers(tmp_path):
    doc = pymupdf.open()
    for k in range(4):
        page = doc.new_page()
        page.insert_text((60, 40), "样例证券 行业深度报告", fontname=F, fontsize=8)
        page.insert_text((60, 100), f"Acme 第{k}部分：收入与订单。", fontname=F, fontsize=10)
        if k:                                          # the cover prints no number; page 2 prints 1
            page.insert_text((280, 815), f"第 {k} 页", fontname=F, fontsize=8)
    parsed = _save(doc, tmp_path / "numbered.pdf")
    assert [(p.number, p.printed) for p in parsed.pages] == [(1, ""), (2, "1"), (3, "2"), (4, "3")]
    assert "<!-- page 2 (printed 1) -->" in to_markdown(parsed)


# --- page numbers at the right edge: contents, unless they are a chart's axis ticks ----------

def _numbers_at_right(tmp_path, with_titles: bool):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((60, 80), "报告正文：样例行业景气持续，订单增长。", fontname=F, fontsize=10)
    for k in range(10):
        y = 120 + 20 * k
        if with_titles:
            page.insert_text((60, y), f"{k + 1}. 样例章节标题第{k + 1}节", fontname=F, fontsize=10)
        page.insert_text((page.rect.width * 0.86, y), str(3 + 2 * k if with_titles else 50 - 5 * k), fontname=F, fontsize=9)
    page.insert_text((60, 400), "Acme 2025 年收入持续增长，客户数量稳步提升。", fontname=F, fontsize=10)
    return _save(doc, tmp_path / "right.pdf").pages[0]


def test_page_numbers_beside_entry_titles_make_a_contents_page(tmp_path):
    assert _numbers_at_right(tmp_path, with_titles=True).is_toc


def test_axis_ticks_alone_at_the_right_edge_make_no_contents_page(tmp_path):
    page = _numbers_at_right(tmp_path, with_titles=False)
    assert not page.is_toc
    assert any(b.kind == BlockKind.PARAGRAPH and "客户数量稳步提升" in b.text for b in page.blocks)


# --- a page printed in a larger size than the rest of the report --------------------------------

def _summary_report(tmp_path, cover_lines: list[str], cover_size: float = 11):
    doc = pymupdf.open()
    cover = doc.new_page()
    y = 80
    for text in cover_lines * (2 if len(cover_lines) > 4 else 1):   # a page of summary
        cover.insert_text((60, y), text, fontname=F, fontsize=cover_size)
        y += cover_size * 1.8
    for n in range(2):
        page = doc.new_page()
        page.insert_text((60, 70), f"{n + 2}. Globex 业务分析（{'上' if n == 0 else '下'}）", fontname=F, fontsize=11)
        page.insert_textbox((60, 90, 540, 780), "正文：Globex 的订单同样饱满，海外客户占比持续提升。" * 60,
                            fontname=F, fontsize=8)
    return _save(doc, tmp_path / "r.pdf")


SUMMARY = ["1Q26 Acme 收入 22.5 亿元，同比增长 28.4%，环比增长", "1.8%，低于此前公司指引区间的下限，也低于市场",
           "预期。其中产品出货量环比上升 15%，受益于客户拉货", "和产业链再分配；产品单价环比下降 9%，系一季度",
           "突发生产问题，出现一次性维修费用所致。资本开支", "14.2 亿元，同比下降 36.7%，环比下降 14.7%，稼动",
           "率 89.6%，同比提升 10.9 个百分点，环比提升 4.8", "个百分点，我们预计二季度稼动率将保持高位运行。"]


def test_a_cover_summary_printed_larger_than_the_body_is_text_not_headings(tmp_path):
    doc = _summary_report(tmp_path, SUMMARY)
    kinds = [b.kind for b in doc.pages[0].blocks if "资本开支" in b.text or "稼动" in b.text]
    assert kinds and set(kinds) == {BlockKind.PARAGRAPH}
    text = _squash(" ".join(c.text for c in chunk_document(doc)))
    assert "资本开支14.2亿元" in text and "稼动率89.6%" in text


def test_a_larger_heading_on_a_page_of_body_text_stays_a_heading(tmp_path):
    doc = _summary_report(tmp_path, SUMMARY)
    assert any(b.kind == BlockKind.HEADING and "Globex 业务分析" in b.text for b in doc.pages[1].blocks)
    assert not any("正文" in b.text for b in doc.pages[1].blocks if b.kind == BlockKind.HEADING)


def test_a_few_large_lines_do_not_make_a_page_body(tmp_path):
    doc = _summary_report(tmp_path, ["Acme 深度报告", "一季度业绩点评"], cover_size=14)
    assert {b.kind for b in doc.pages[0].blocks if b.text.strip()} <= {BlockKind.HEADING}

"""Ruled tables whose rules do not draw every column: the rules outline groups of columns (or only
the header's cells), the header or first rows sit above the rules, the row labels left of them.
Quantitative reports print their factor tests this way; read as the rules draw them, several
columns of figures land in one cell. Every PDF here is generated: invented factors and figures."""
from __future__ import annotations

import pymupdf

from ingest import parse

FONT = dict(fontname="helv", fontsize=8)
CJK = dict(fontname="china-s", fontsize=8)
X0, X1 = 60.0, 540.0
LABEL_W = 90.0
ROW_H = 15.0


def _col_x(n: int) -> list[float]:
    """Left edges of n figure columns after the label column."""
    w = (X1 - X0 - LABEL_W) / n
    return [X0 + LABEL_W + i * w for i in range(n)]


def _text(page, x, y, s):
    page.insert_text((x, y), s, **(CJK if any("\u4e00" <= ch <= "\u9fff" for ch in s) else FONT))


def _grouped_pdf(path, groups: list[tuple[str, list[str]]], rows: list[tuple[str, list[str]]], *,
                 rows_above_rules: int = 0, labels_outside: bool = False, header_offset: float = 4.0):
    """A ruled table: a group-label row, a sub-header row, then rows of figures. Vertical rules
    only at the group boundaries; horizontal rules between rows. ``rows_above_rules`` of the
    header rows are printed above the first rule; ``labels_outside`` prints the row labels left of
    the ruled area."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    n = sum(len(sub) for _, sub in groups)
    xs = _col_x(n)
    w = xs[1] - xs[0]
    _text(page, X0, 80, "表7：样例因子分组测试结果")
    header = [[], []]
    k = 0
    for label, sub in groups:
        header[0].append((xs[k] + (len(sub) * w) / 2 - len(label) * 4, label))
        for s in sub:
            header[1].append((xs[k] + header_offset, s))
            k += 1
    y = 100.0
    lines_y = []
    all_rows = [("", header[0], True), ("", header[1], True)] + [(lab, vals, False) for lab, vals in rows]
    for i, (label, cells, is_header) in enumerate(all_rows):
        if i == rows_above_rules:
            top_rule = y - ROW_H + 4
        if label:
            _text(page, X0 + 4, y, label)
        if is_header:
            for x, s in cells:
                _text(page, x, y, s)
        else:
            for x, s in zip(xs, cells):
                _text(page, x + 8, y, s)
        lines_y.append(y + 4)
        y += ROW_H
    left = X0 + LABEL_W if labels_outside else X0
    shape = page.new_shape()
    for ly in [top_rule] + lines_y[rows_above_rules:]:
        shape.draw_line((left, ly), (X1, ly))
    bottom = lines_y[-1]
    k = 0
    bounds = [left, X0 + LABEL_W] if not labels_outside else [left]
    for _, sub in groups:
        k += len(sub)
        bounds.append(xs[k] if k < n else X1)
    for bx in sorted(set(bounds)):
        shape.draw_line((bx, top_rule), (bx, bottom))
    shape.finish(color=(0, 0, 0), width=0.6)
    shape.commit()
    _text(page, X0, bottom + 14, "资料来源：样例证券研究所")
    _text(page, X0, bottom + 50, "正文：以上测试覆盖样例区间，结论仅供参考。")
    doc.save(path)


GROUPS = [("原始因子", ["RankIC", "IC_IR", "t_stat"]), ("中性化因子", ["IC", "IC_IR", "WinRate"])]
ROWS = [("Alpha_5D", ["6.12%", "2.31", "7.05", "5.40%", "3.02", "71.20%"]),
        ("Alpha_20D", ["4.87%", "1.76", "5.33", "3.95%", "2.48", "66.10%"]),
        ("Beta_60D", ["-2.05%", "-0.88", "-2.61", "-1.12%", "-0.52", "44.80%"])]


def _table(path):
    doc = parse(path)
    assert len(doc.tables) == 1, [t.caption for t in doc.tables]
    return doc.tables[0]


def test_figures_under_a_ruled_group_cell_are_split_into_their_columns(tmp_path):
    _grouped_pdf(tmp_path / "g.pdf", GROUPS, ROWS)
    t = _table(tmp_path / "g.pdf")
    assert ["Alpha_20D", "4.87%", "1.76", "5.33", "3.95%", "2.48", "66.10%"] in t.rows
    assert all(len(r) == 7 for r in t.rows)


def test_a_group_label_heads_each_column_under_it(tmp_path):
    _grouped_pdf(tmp_path / "g.pdf", GROUPS, ROWS)
    t = _table(tmp_path / "g.pdf")
    top, sub = t.header[0], t.header[-1]
    assert sub[1:] == ["RankIC", "IC_IR", "t_stat", "IC", "IC_IR", "WinRate"]
    assert top[1:4] == ["原始因子"] * 3 and top[4:7] == ["中性化因子"] * 3


def test_a_group_of_two_columns_and_one_of_four_keep_their_own_labels(tmp_path):
    groups = [("样例甲", ["IC", "IR"]), ("样例乙", ["Ret", "Vol", "Sharpe", "MaxDD"])]
    rows = [("F_one", ["1.1%", "0.5", "8.2%", "12.0%", "0.68", "-9.9%"]),
            ("F_two", ["2.2%", "0.9", "6.1%", "10.5%", "0.58", "-7.4%"])]
    _grouped_pdf(tmp_path / "g.pdf", groups, rows)
    t = _table(tmp_path / "g.pdf")
    assert t.header[0][1:] == ["样例甲"] * 2 + ["样例乙"] * 4
    assert ["F_two", "2.2%", "0.9", "6.1%", "10.5%", "0.58", "-7.4%"] in t.rows


def test_header_rows_printed_above_the_rules_join_the_grid(tmp_path):
    _grouped_pdf(tmp_path / "g.pdf", GROUPS, ROWS, rows_above_rules=2)
    t = _table(tmp_path / "g.pdf")
    assert t.header[-1][1:] == ["RankIC", "IC_IR", "t_stat", "IC", "IC_IR", "WinRate"]
    assert ["Alpha_5D", "6.12%", "2.31", "7.05", "5.40%", "3.02", "71.20%"] in t.rows


def test_row_labels_left_of_the_rules_join_the_grid(tmp_path):
    _grouped_pdf(tmp_path / "g.pdf", GROUPS, ROWS, labels_outside=True)
    t = _table(tmp_path / "g.pdf")
    assert [r[0] for r in t.rows] == ["Alpha_5D", "Alpha_20D", "Beta_60D"]
    assert t.rows[2][1:] == ["-2.05%", "-0.88", "-2.61", "-1.12%", "-0.52", "44.80%"]


def test_a_header_centred_left_of_its_figures_takes_their_column(tmp_path):
    # the sub-header starts left of the figures below it (centred over right-aligned numbers)
    _grouped_pdf(tmp_path / "g.pdf", GROUPS, ROWS, header_offset=-2.0)
    t = _table(tmp_path / "g.pdf")
    assert t.header[-1][1:] == ["RankIC", "IC_IR", "t_stat", "IC", "IC_IR", "WinRate"]


def _worded_ruled_pdf(path):
    """A fully ruled table of words whose cells mention several amounts: no column is missing."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    _text(page, X0, 80, "表2：样例客户合同一览")
    xs = [X0, 180, 330, X1]
    rows = [["客户", "已披露规模", "合同性质"],
            ["样例云甲", "30亿美元，最高45亿美元", "三年期算力协议"],
            ["样例云乙", "12亿美元确定，另有8亿美元", "两年期供应协议"]]
    y = 100.0
    shape = page.new_shape()
    for row in rows:
        for x, s in zip(xs, row):
            _text(page, x + 4, y, s)
        shape.draw_line((X0, y - ROW_H + 4), (X1, y - ROW_H + 4))
        y += ROW_H
    shape.draw_line((X0, y - ROW_H + 4), (X1, y - ROW_H + 4))
    for x in xs:
        shape.draw_line((x, 100 - ROW_H + 4), (x, y - ROW_H + 4))
    shape.finish(color=(0, 0, 0), width=0.6)
    shape.commit()
    doc.save(path)


def test_a_ruled_table_of_words_with_several_amounts_keeps_its_ruled_cells(tmp_path):
    _worded_ruled_pdf(tmp_path / "w.pdf")
    t = _table(tmp_path / "w.pdf")
    assert t.style == "ruled"
    assert ["样例云甲", "30亿美元，最高45亿美元", "三年期算力协议"] in t.rows


def _stacked_pdf(path, labels: list[str], gap: float = 6.0):
    """Fully ruled tables stacked under one caption, each under its own label line."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    _text(page, X0, 70, "图5：样例因子在各样本空间的表现")
    y = 90.0
    for n, label in enumerate(labels):
        _text(page, X0, y, label)
        y += gap + 10
        xs = [X0, 200, 320, 440, X1]
        rows = [["样本", "IC", "IC_IR", "WinRate"], ["样例指数甲", f"{n + 3}.10%", "2.4", "70.1%"],
                ["样例指数乙", f"{n + 4}.20%", "1.9", "65.3%"]]
        shape = page.new_shape()
        top = y - ROW_H + 4
        for row in rows:
            for x, s in zip(xs, row):
                _text(page, x + 4, y, s)
            y += ROW_H
        for ly in [top + k * ROW_H for k in range(len(rows) + 1)]:
            shape.draw_line((X0, ly), (X1, ly))
        for x in xs:
            shape.draw_line((x, top), (x, top + len(rows) * ROW_H))
        shape.finish(color=(0, 0, 0), width=0.6)
        shape.commit()
        y += 30
    doc.save(path)


def test_a_label_line_over_each_stacked_table_names_it(tmp_path):
    _stacked_pdf(tmp_path / "s.pdf", ["因子Gamma-1：", "因子Gamma-2：", "Panel C:"])
    tables = parse(tmp_path / "s.pdf").tables
    assert len(tables) == 3
    assert tables[0].caption.startswith("图5") and "因子Gamma-1：" in tables[0].caption
    assert "因子Gamma-2：" in tables[1].caption and "Panel C:" in tables[2].caption


def test_a_sentence_ending_in_a_colon_is_no_table_label(tmp_path):
    sentence = "下表展示了样例因子在两个样本空间中的测试结果，具体如下："
    _stacked_pdf(tmp_path / "s.pdf", [sentence])
    assert sentence not in parse(tmp_path / "s.pdf").tables[0].caption


def test_a_label_far_above_a_table_does_not_name_it(tmp_path):
    _stacked_pdf(tmp_path / "s.pdf", ["因子Gamma-1："], gap=40.0)
    assert "Gamma" not in parse(tmp_path / "s.pdf").tables[0].caption

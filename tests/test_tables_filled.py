"""Tables drawn as filled cells and no rules: a shaded header row and label column (quant
reports), or one white box per cell with padding boxes around its text (exported from a word
processor), a group label's box spanning several columns. Read by their text alone, a header
cell set close to its neighbour runs into it and the table is taken for a chart. Every PDF here
is generated: invented factors and figures."""
from __future__ import annotations

import pymupdf

from ingest import parse

FONT = dict(fontname="helv", fontsize=8)
CJK = dict(fontname="china-s", fontsize=8)
SHADE = (0.55, 0.1, 0.5)
GREY = (0.95, 0.95, 0.95)
WHITE = (1.0, 1.0, 1.0)


def _text(page, x, y, s):
    page.insert_text((x, y), s, **(CJK if any("\u4e00" <= ch <= "\u9fff" for ch in s) else FONT))


def _fill(page, rect, color):
    shape = page.new_shape()
    shape.draw_rect(pymupdf.Rect(*rect))
    shape.finish(fill=color, color=None)
    shape.commit()


def _width(s: str) -> float:
    return pymupdf.get_text_length(s, fontname="helv", fontsize=8)


def _shaded_pdf(path, header, rows, *, caption="表6：样例因子测试结果", edges=None, top=120.0, tight=True):
    """Shaded header cells and label cells; white figure cells. With ``tight`` a header label
    ends right at its cell's edge and the next starts right after it (they read as one line),
    and the first figure starts right after its row label."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    edges = edges or [60, 150, 200, 250, 350, 420, 480]
    _text(page, 60, top - 12, caption)
    h = 18.0
    for k, (a, b) in enumerate(zip(edges, edges[1:])):
        _fill(page, (a, top, b, top + h), SHADE)
        label = header[k]
        if label:
            # right-aligned in even columns, left-aligned in odd ones: neighbours meet at the edge
            x = b - _width(label) - 1 if tight and k % 2 == 1 else a + 1
            _text(page, x, top + 12, label)
    y = top + h
    for label, cells in rows:
        _fill(page, (edges[0], y, edges[1], y + h), GREY)
        _text(page, edges[1] - _width(label) - 1 if tight else edges[0] + 2, y + 12, label)
        for (a, b), cell in zip(zip(edges[1:], edges[2:]), cells):
            _text(page, a + 1 if tight else a + 6, y + 12, cell)
        y += h
    _text(page, 60, y + 14, "资料来源：样例证券研究所")
    _text(page, 60, y + 50, "正文：以上测试覆盖样例区间，结论仅供参考。")
    doc.save(path)


HEADER = ["", "RankCorr", "Corr_IR", "Spread_Ratio", "Order_Grade", "Churn"]
ROWS = [("Alpha_5D", ["-6.15%", "-0.71", "1.38", "2.61", "81.20%"]),
        ("Alpha_5D_Neu", ["-5.93%", "-0.74", "2.17", "2.49", "83.10%"]),
        ("Beta_20D", ["-3.02%", "-0.33", "0.92", "1.75", "64.70%"])]


def _only_table(path):
    doc = parse(path)
    assert len(doc.tables) == 1, [(t.caption, t.rows) for t in doc.tables]
    return doc.tables[0]


def test_a_table_of_shaded_cells_is_read_by_the_cells_edges(tmp_path):
    _shaded_pdf(tmp_path / "s.pdf", HEADER, ROWS)
    t = _only_table(tmp_path / "s.pdf")
    assert t.header[-1][1:] == HEADER[1:]
    assert ["Alpha_5D_Neu", "-5.93%", "-0.74", "2.17", "2.49", "83.10%"] in t.rows
    assert len(t.rows) == 3 and all(len(r) == 6 for r in t.rows)


def test_header_labels_that_meet_at_a_cell_edge_stay_apart(tmp_path):
    _shaded_pdf(tmp_path / "s.pdf", HEADER, ROWS)
    header = _only_table(tmp_path / "s.pdf").header[-1]
    assert "Spread_Ratio" in header and "Order_Grade" in header


def test_a_shaded_table_set_loosely_reads_the_same(tmp_path):
    _shaded_pdf(tmp_path / "s.pdf", HEADER, ROWS, tight=False)
    t = _only_table(tmp_path / "s.pdf")
    assert ["Beta_20D", "-3.02%", "-0.33", "0.92", "1.75", "64.70%"] in t.rows


def _boxed_pdf(path, groups, subs, rows, *, caption="表2：样例分档统计"):
    """A word processor's table: every cell a white box with padding boxes around its text box;
    the first header row holds group labels whose boxes span their columns."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    x0, top, label_w, col_w, h, pad = 40.0, 120.0, 70.0, 52.0, 16.0, 4.0
    _text(page, x0, top - 12, caption)

    def cell(a, b, y, text, *, right=False):
        _fill(page, (a, y, b, y + pad), WHITE)
        _fill(page, (a, y + pad, a + pad, y + h - pad), WHITE)
        _fill(page, (b - pad, y + pad, b, y + h - pad), WHITE)
        _fill(page, (a, y + h - pad, b, y + h), WHITE)
        _fill(page, (a + pad, y + pad, b - pad, y + h - pad), WHITE)
        if text:
            _text(page, (b - pad - _width(text) - 1) if right else a + pad + 1, y + h - pad - 1, text)

    n_cols = sum(len(s) for _, s in groups)
    xs = [x0 + label_w + i * col_w for i in range(n_cols + 1)]
    cell(x0, x0 + label_w, top, "")
    k = 0
    for label, sub in groups:
        cell(xs[k], xs[k + len(sub)], top, label)
        k += len(sub)
    y = top + h
    cell(x0, x0 + label_w, y, "")
    for i, s in enumerate(subs):
        cell(xs[i], xs[i + 1], y, s)
    y += h
    for label, cells in rows:
        cell(x0, x0 + label_w, y, label)
        for i, c in enumerate(cells):
            cell(xs[i], xs[i + 1], y, c, right=True)
        y += h
    _text(page, x0, y + 14, "资料来源：样例证券研究所")
    doc.save(path)


GROUPS = [("近1月", ["收益", "回撤"]), ("近3月", ["收益", "回撤"])]
SUBS = ["收益", "回撤", "收益", "回撤"]
BOXED_ROWS = [("A档", ["0.41%", "-5.20%", "1.13%", "-6.40%"]),
              ("B档", ["0.57%", "-5.10%", "0.96%", "-6.80%"]),
              ("C档", ["-0.36%", "-4.90%", "-0.88%", "-4.20%"])]


def test_a_group_label_boxed_over_its_columns_heads_each_of_them(tmp_path):
    _boxed_pdf(tmp_path / "b.pdf", GROUPS, SUBS, BOXED_ROWS)
    t = _only_table(tmp_path / "b.pdf")
    heads = [" ".join(col) for col in zip(*t.header)]
    assert [h.replace(" ", "") for h in heads[1:]] == ["近1月收益", "近1月回撤", "近3月收益", "近3月回撤"]
    assert ["B档", "0.57%", "-5.10%", "0.96%", "-6.80%"] in t.rows


def test_boxed_cells_make_no_chart_of_the_table(tmp_path):
    _boxed_pdf(tmp_path / "b.pdf", GROUPS, SUBS, BOXED_ROWS)
    t = _only_table(tmp_path / "b.pdf")
    assert len(t.rows) == 3


def test_filled_boxes_under_a_figure_caption_are_a_chart_not_a_table(tmp_path):
    """Bars with their values printed inside, under 图N: a chart."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    _text(page, 60, 108, "图3：样例分组年化收益")
    base = 300.0
    for i, v in enumerate([12.5, 9.8, 7.1, 4.4, 1.9]):
        x = 80 + i * 40
        _fill(page, (x, base - v * 12, x + 30, base), SHADE)
        _text(page, x + 4, base - 4, f"{v}%")
        _text(page, x + 8, base + 12, f"G{i + 1}")
    _text(page, 60, base + 30, "资料来源：样例证券研究所")
    path = tmp_path / "c.pdf"
    doc.save(path)
    assert parse(path).tables == []


def test_one_shaded_box_under_a_table_caption_is_no_grid(tmp_path):
    """A highlighted note under a table caption: one filled box holding text is no cell grid,
    and the page still parses."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    _text(page, 60, 108, "表4：样例说明")
    _fill(page, (60, 115, 300, 135), GREY)
    _text(page, 64, 128, "注：以下数据为样例，仅供测试。")
    _fill(page, (400, 300, 420, 400), SHADE)   # a stray mark elsewhere
    _text(page, 60, 160, "资料来源：样例证券研究所")
    path = tmp_path / "n.pdf"
    doc.save(path)
    parsed = parse(path)
    assert parsed.tables == [] and parsed.pages

"""Layout on synthetic pages: block kinds in reading order, two-column pages, text-aligned
tables with no rules at all (and what must NOT become one), and the ``yanbao parse`` views."""
from __future__ import annotations

import json
import re

import pymupdf

from conftest import CORPUS
from ingest import BlockKind, chunk_document, parse

F = "china-s"
PARA = ("云计算行业景气度持续提升，海外云厂商资本开支维持高增长，国内厂商加速追赶。"
        "我们认为算力租赁需求将在未来两年保持旺盛，相关公司订单饱满，盈利能力有望改善。")
ROWS = [["业务", "2024A", "2025A", "2026E"], ["云计算", "1,234.5", "1,580.2", "2,010.0"],
        ["广告", "856.0", "901.3", "950.8"], ["合计", "2,090.5", "2,481.5", "2,960.8"]]


def _aligned_rows(page, y: float, caption: str | None, source: bool = True) -> float:
    """Caption, then ROWS as left-aligned text columns (no rules, no fills), then a source line."""
    if caption:
        page.insert_text((60, y), caption, fontname=F, fontsize=9)
    y += 20
    for row in ROWS:
        for x, cell in zip((60, 200, 300, 400), row):
            page.insert_text((x, y), cell, fontname=F, fontsize=9)
        y += 16
    if source:
        page.insert_text((60, y), "资料来源：公司公告，样例证券研究所", fontname=F, fontsize=8)
        y += 16
    return y


def _kinds(page) -> list[str]:
    return [b.kind.value for b in page.blocks]


# --- text-aligned tables without rules -----------------------------------------------------

def test_unruled_text_aligned_table_becomes_a_grid(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    y = _aligned_rows(page, 100, "表5：样例公司分业务收入（亿元）")
    page.insert_textbox((60, y + 12, 540, y + 120), PARA * 2, fontname=F, fontsize=10)
    doc.save(tmp_path / "unruled.pdf")

    parsed = parse(tmp_path / "unruled.pdf")
    assert len(parsed.tables) == 1
    t = parsed.tables[0]
    assert t.style == "text_aligned"
    assert t.caption == "表5：样例公司分业务收入（亿元）" and t.unit == "亿元"
    assert t.header == [ROWS[0]] and t.rows == ROWS[1:]
    assert t.source == "资料来源：公司公告，样例证券研究所"
    assert _kinds(parsed.pages[0]) == ["caption", "table", "source", "paragraph"]
    para = parsed.pages[0].blocks[-1]
    assert para.table_id is None and para.text.startswith("云计算行业景气度") and "1,234.5" not in para.text
    chunks = chunk_document(parsed)
    table_chunk = next(c for c in chunks if c.kind == "table")
    assert table_chunk.table_id == "t1" and table_chunk.row_range == (0, 3)
    assert "业务 | 2024A | 2025A | 2026E" in table_chunk.text
    assert "云计算 | 1,234.5 | 1,580.2 | 2,010.0" in table_chunk.text
    assert not any("1,234.5" in c.text for c in chunks if c.kind == "text")


def test_unruled_table_ends_at_a_paragraph_without_source_line(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    y = _aligned_rows(page, 100, "表5：样例公司分业务收入（亿元）", source=False)
    # the paragraph follows at ordinary line spacing: its first line runs across the columns
    page.insert_textbox((60, y - 8, 540, y + 120), PARA * 2, fontname=F, fontsize=9)
    doc.save(tmp_path / "nosource.pdf")

    parsed = parse(tmp_path / "nosource.pdf")
    (t,) = parsed.tables
    assert t.header == [ROWS[0]] and t.rows == ROWS[1:] and t.source == ""
    para = next(b for b in parsed.pages[0].blocks if b.kind == BlockKind.PARAGRAPH)
    assert para.text.startswith("云计算行业景气度持续提升")


def test_unruled_table_with_right_aligned_numbers_and_unit_line(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    font = pymupdf.Font(F)
    page.insert_text((60, 100), "图表5：样例公司财务摘要（单位：百万元）", fontname=F, fontsize=9)
    rows = [["指标", "2024A", "2025E"], ["营业收入", "12,345", "15,678"],
            ["归母净利润", "1,234", "987"], ["毛利率", "35.2%", "36.0%"]]
    y = 120
    for r in rows:
        page.insert_text((60, y), r[0], fontname=F, fontsize=9)
        for right, cell in zip((300, 420), r[1:]):
            page.insert_text((right - font.text_length(cell, 9), y), cell, fontname=F, fontsize=9)
        y += 15
    page.insert_text((60, y + 4), "数据来源：Wind，样例证券研究所", fontname=F, fontsize=8)
    doc.save(tmp_path / "right.pdf")

    (t,) = parse(tmp_path / "right.pdf").tables
    assert t.style == "text_aligned" and t.unit == "百万元"
    assert t.header == [rows[0]] and t.rows == rows[1:]
    assert t.source.startswith("数据来源")


def test_aligned_text_without_a_caption_is_not_a_table(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_textbox((60, 40, 540, 90), PARA, fontname=F, fontsize=9)
    _aligned_rows(page, 100, "以下为各业务情况说明", source=False)
    doc.save(tmp_path / "nocaption.pdf")
    parsed = parse(tmp_path / "nocaption.pdf")
    assert parsed.tables == []
    assert BlockKind.TABLE not in {b.kind for b in parsed.pages[0].blocks}


def test_caption_over_prose_is_not_a_table(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((60, 100), "表2：样例说明", fontname=F, fontsize=9)
    page.insert_textbox((60, 110, 540, 300), PARA * 3, fontname=F, fontsize=9)
    doc.save(tmp_path / "prose.pdf")
    parsed = parse(tmp_path / "prose.pdf")
    assert parsed.tables == []
    assert _kinds(parsed.pages[0]) == ["caption", "paragraph"]


def test_chart_labels_under_a_figure_caption_are_not_a_table(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    _aligned_rows(page, 100, "图3：样例公司收入（亿元）")
    for i, h in enumerate((30, 45, 60)):  # the bars of a vector chart behind the labels
        page.draw_rect((210 + 100 * i, 200 - h, 240 + 100 * i, 200), fill=(0.2, 0.3, 0.8))
    doc.save(tmp_path / "chart.pdf")
    assert parse(tmp_path / "chart.pdf").tables == []


# --- block kinds and reading order ---------------------------------------------------------

def _report_page(doc):
    """Page 2 of a report: chapter and section headings, paragraphs, bullets, a figure with
    caption and source, a ruled table with caption and source."""
    doc.new_page().insert_textbox((60, 100, 540, 200), PARA, fontname=F, fontsize=10)  # cover
    page = doc.new_page()
    y = 70

    def text(s, size, dy):
        nonlocal y
        page.insert_text((60, y), s, fontname=F, fontsize=size)
        y += dy

    text("1 云计算需求进入新一轮扩张周期", 15, 10)
    page.insert_textbox((60, y, 540, y + 60), PARA * 2, fontname=F, fontsize=10)
    y += 75
    text("1.1 海外云厂商资本开支维持高增", 12, 22)
    text("■ 北美云厂商资本开支同比增长超过五成。", 10, 16)
    text("■ 国内云厂商加速追赶，算力订单饱满。", 10, 26)
    text("图1：样例公司收入结构", 9, 6)
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 200, 100), False)
    pix.clear_with(180)
    page.insert_image((60, y, 260, y + 100), pixmap=pix)
    y += 112
    text("资料来源：公司公告，样例证券研究所", 8, 24)
    text("表1：样例公司核心指标（亿元）", 9, 8)
    top, xs = y, (60, 200, 340, 480)
    rows = [["指标", "2025A", "2026E"], ["收入", "120.5", "150.2"], ["利润", "20.1", "28.7"]]
    for r in rows:
        for x, cell in zip(xs, r):
            page.insert_text((x + 4, y + 13), cell, fontname=F, fontsize=9)
        y += 18
    for k in range(len(rows) + 1):
        page.draw_line((60, top + 18 * k), (480, top + 18 * k), width=0.5)
    for x in xs:
        page.draw_line((x, top), (x, y), width=0.5)
    y += 14
    text("资料来源：Wind，样例证券研究所", 8, 20)
    page.insert_textbox((60, y, 540, y + 60), "结论：" + PARA, fontname=F, fontsize=10)
    return rows


def test_block_kinds_in_reading_order(tmp_path):
    doc = pymupdf.open()
    rows = _report_page(doc)
    doc.save(tmp_path / "kinds.pdf")
    parsed = parse(tmp_path / "kinds.pdf")
    blocks = parsed.pages[1].blocks
    assert [(b.kind.value, b.level) for b in blocks] == [
        ("heading", 1), ("paragraph", 0), ("heading", 2), ("list_item", 0), ("list_item", 0),
        ("caption", 0), ("figure", 0), ("source", 0),
        ("caption", 0), ("table", 0), ("source", 0), ("paragraph", 0)]
    assert blocks[0].text == "1 云计算需求进入新一轮扩张周期"
    assert blocks[1].text == PARA * 2          # two wrapped lines joined into one paragraph
    assert blocks[3].text.startswith("■ 北美") and blocks[4].text.startswith("■ 国内")
    assert blocks[6].text == "图1：样例公司收入结构"   # the figure knows its caption
    assert blocks[7].table_id is None           # a figure's source line is not a table's
    assert blocks[8].table_id == blocks[9].table_id == blocks[10].table_id == "t1"
    assert blocks[11].text.startswith("结论：")
    assert all(b.page == 2 for b in blocks)
    # bboxes follow the page top to bottom
    assert [b.bbox[1] for b in blocks] == sorted(b.bbox[1] for b in blocks)
    (t,) = parsed.tables
    assert t.style == "ruled" and t.header == [rows[0]] and t.rows == rows[1:] and t.unit == "亿元"


LEFT = ["左栏第一段：海外云厂商资本开支维持高增长，微软、谷歌、亚马逊和Meta合计指引同比增长超过五成，算力需求旺盛。",
        "左栏第二段：国内云厂商加速追赶，阿里云宣布未来三年投入超过三千八百亿元建设云和人工智能硬件基础设施。"]
RIGHT = ["右栏第一段：算力租赁行业订单饱满，头部公司签约电力容量快速提升，融资渠道持续拓宽，盈利能力有望改善。",
         "右栏第二段：我们建议关注具备稀缺算力资源、稳定客户结构和较强融资能力的算力租赁与云服务公司。"]


def test_two_column_page_is_read_column_by_column(tmp_path):
    doc = pymupdf.open()
    doc.new_page().insert_textbox((60, 100, 540, 200), "封面：样例证券行业深度报告。", fontname=F, fontsize=10)
    page = doc.new_page()
    page.insert_text((50, 70), "2 算力租赁：需求旺盛，供给偏紧", fontname=F, fontsize=15)
    for x0, x1, paras in ((50, 285, LEFT), (310, 545, RIGHT)):
        y = 95
        for para in paras:  # each paragraph wraps over several lines level with the other column
            rest = page.insert_textbox((x0, y, x1, y + 120), para, fontname=F, fontsize=10)
            y += 120 - rest + 14
    doc.save(tmp_path / "twocol.pdf")

    blocks = parse(tmp_path / "twocol.pdf").pages[1].blocks
    assert blocks[0].kind == BlockKind.HEADING and blocks[0].level == 1
    body = blocks[1:]
    assert all(b.kind == BlockKind.PARAGRAPH for b in body)
    assert [b.text for b in body] == LEFT + RIGHT
    assert all(b.bbox[2] < 300 for b in body[:2]) and all(b.bbox[0] > 300 for b in body[2:])


# --- the CLI views -------------------------------------------------------------------------

GUOJIN = CORPUS / "guojin_20260712_cloud-industry-weekly.pdf"


def _run_cli(capsys, *argv) -> str:
    from qa.cli import main
    assert main(["parse", str(GUOJIN), *argv]) == 0
    return capsys.readouterr().out


def test_cli_parse_json(capsys):
    data = json.loads(_run_cli(capsys, "--json"))
    assert data["meta"]["file"] == GUOJIN.name and data["meta"]["page_count"] == len(data["pages"]) == 7
    kinds = {b["kind"] for p in data["pages"] for b in p["blocks"]}
    assert {"heading", "paragraph", "table", "caption", "source"} <= kinds
    for p in data["pages"]:
        for b in p["blocks"]:
            assert b["page"] == p["number"] and len(b["bbox"]) == 4
    assert len(data["tables"]) == 2
    t2 = data["tables"][1]
    assert t2["caption"].startswith("图表2") and len(t2["header"][0]) == 4
    assert all(len(r) == 4 for r in t2["rows"]) and t2["fragments"][0]["page"] == 3
    table_blocks = [b for p in data["pages"] for b in p["blocks"] if b["kind"] == "table"]
    assert {b["table_id"] for b in table_blocks} == {"t1", "t2"}


def test_cli_parse_markdown(capsys):
    md = _run_cli(capsys, "--markdown")
    assert "<!-- page 3 -->" in md
    lines = md.splitlines()
    i = next(k for k, ln in enumerate(lines) if ln.startswith("**图表2："))
    header, rule, first = lines[i + 1], lines[i + 2], lines[i + 3]
    assert re.fullmatch(r"\| 产品名称 \| .+ \| 产品名称 \| .+ \|", header)
    assert rule == "|---|---|---|---|"
    assert first.startswith("| ") and first.count(" | ") == 3
    assert any(ln.startswith("# ") or ln.startswith("## ") for ln in lines)   # headings as Markdown

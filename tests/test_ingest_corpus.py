"""Acceptance of the parser on the sample corpus: quotes, tables, boilerplate, chunks."""
from __future__ import annotations

import re

import pytest

from conftest import CORPUS, gold_items, parsed
from ingest import BlockKind, chunk_document


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("\\$", "$")


def _page_texts(doc, page: int) -> list[str]:
    """Non-boilerplate text of a page; a paragraph cut by the page break is read whole."""
    blocks = [b for p in doc.pages for b in p.blocks if not b.boilerplate and b.kind != BlockKind.TABLE]
    texts = []
    for i, b in enumerate(blocks):
        if b.page != page:
            continue
        text = b.text
        if b.continues and i:
            text = blocks[i - 1].text + text
        if i + 1 < len(blocks) and blocks[i + 1].continues:
            text += blocks[i + 1].text
        texts.append(_norm(text))
    return texts


def _page_rows(doc, page: int) -> list[list[str]]:
    rows = []
    for t in doc.tables:
        if t.boilerplate:
            continue
        for f in t.fragments:
            if f.page == page:
                rows += [[_norm(c) for c in r] for r in (t.header if f.row_start == 0 else []) + t.rows[f.row_start:f.row_end]]
    return rows


QUOTED = [it for it in gold_items() if it.get("file") and it.get("quote")]


@pytest.mark.parametrize("item", QUOTED, ids=[it["id"] for it in QUOTED])
def test_gold_quote_is_in_parsed_content_of_its_page(item):
    doc = parsed(item["file"])
    quote = item["quote"]
    if any(_norm(quote) in t for t in _page_texts(doc, item["page"])):
        return
    cells = [_norm(c) for c in quote.split("\t") if c.strip()]
    rows = _page_rows(doc, item["page"])
    assert cells and any(all(any(c in cell for cell in row) for c in cells) for row in rows), \
        f"{item['id']}: quote not found on page {item['page']} of {item['file']}"


def test_table_count_per_document_matches_manifest(manifest):
    for m in manifest:
        doc = parsed(m["file"])
        assert len(doc.tables) == m["tables"], m["file"]
        assert sum(len(t.fragments) for t in doc.tables) == m["table_fragments"], m["file"]


def _table(doc, caption_start: str):
    return next(t for t in doc.tables if t.caption.replace(" ", "").startswith(caption_start))


def test_dongwu_capex_table_grid():
    t = _table(parsed("dongwu_20260531_neocloud-leaders.pdf"), "表1")
    assert t.n_cols == 5 and len(t.rows) == 5
    assert t.rows[0][0] == "亚马逊" and "1460-1470" in t.rows[0][2]   # hyphen kept
    assert t.source.startswith("数据来源")


def test_dongwu_financing_table_crossing_pages_is_one_table():
    doc = parsed("dongwu_20260531_neocloud-leaders.pdf")
    t = _table(doc, "表2")
    assert t.pages == [11, 12] and len(t.rows) == 9 and t.n_cols == 5
    assert not any(r[0] == "融资方式" for r in t.rows)  # repeated header dropped
    assert [(f.row_start, f.row_end) for f in t.fragments] == [(0, 4), (4, 9)]
    # multi-line cells stay one cell
    assert any("secured debt financing facility" in c for r in t.rows for c in r)


def test_guojin_side_by_side_lists_keep_four_columns():
    t = _table(parsed("guojin_20260712_cloud-industry-weekly.pdf"), "图表2")
    assert t.n_cols == 4
    assert t.header[0][0] == "产品名称" and t.header[0][2] == "产品名称"
    assert ["Trae.cn", "3.34", "EasyClaw", "449%"] in t.rows
    assert t.unit == "百万"


def test_cover_metadata():
    meta = parsed("dongwu_20260531_neocloud-leaders.pdf").meta
    assert (meta.broker, meta.date, meta.rating) == ("东吴证券", "2026-05-31", "增持（维持）")
    assert {"name": "张良卫", "certificate": "S0600516070001"} in meta.analysts
    assert meta.report_type == "传媒行业深度报告" and meta.industry == "传媒" and meta.page_count == 30
    left_column = parsed("kaiyuan_20260609_cloud-ai-expansion.pdf").meta
    assert left_column.rating.startswith("看好") and [a["name"] for a in left_column.analysts] == ["初敏", "荀月"]


def test_cover_side_column_is_not_body_text():
    doc = parsed("guoxin_20260320_alibaba-cloud-ai.pdf")
    body = " ".join(b.text for b in doc.pages[0].blocks if not b.boilerplate)
    assert "执证编码" not in body and "阿里云发布 2026 财年 Q3 财报" in body


def test_toc_pages_are_recognised_and_not_tables(manifest):
    doc = parsed("dongwu_20260531_neocloud-leaders.pdf")
    assert doc.pages[1].is_toc
    assert all(2 not in t.pages for t in doc.tables)


@pytest.mark.parametrize("file", [
    "dongwu_20260531_neocloud-leaders.pdf", "guoxin_20250825_gpu-cloud-leasing.pdf",
    "kaiyuan_20260609_cloud-ai-expansion.pdf", "guojin_20260712_cloud-industry-weekly.pdf",
    "guoxin_20260320_alibaba-cloud-ai.pdf"])
def test_no_chunk_holds_running_lines_or_disclaimer(file):
    doc = parsed(file)
    running = {b.text for p in doc.pages for b in p.blocks if b.kind in (BlockKind.HEADER, BlockKind.FOOTER)
               and len(b.text) > 6}
    assert running, "running header/footer lines were recognised"
    disclaimer_markers = ["本报告仅供", "不构成对任何人的投资建议", "分析师声明", "证券投资咨询业务资格", "邮编"]
    for c in chunk_document(doc):
        for line in running:
            assert line not in c.text, (c.id, line)
        for marker in disclaimer_markers:
            assert marker not in c.text, (c.id, marker)


def test_chunks_carry_provenance_and_stay_sized():
    doc = parsed("kaiyuan_20260609_cloud-ai-expansion.pdf")
    chunks = chunk_document(doc)
    assert {c.kind for c in chunks} == {"card", "text", "table"}
    for c in chunks:
        assert c.file == doc.meta.file and c.pages and c.bboxes
        assert all(1 <= p <= doc.meta.page_count for p in c.pages)
        if c.kind == "text":
            assert len(c.text) <= 700
        if c.kind == "table":
            assert c.table_id and c.row_range is not None
    assert len({c.id for c in chunks}) == len(chunks)
    # figures stay exactly as printed
    assert any("8288 亿元" in c.text for c in chunks)


def test_long_table_is_split_by_rows_with_header_repeated():
    doc = parsed("kaiyuan_20260609_cloud-ai-expansion.pdf")
    t = max(doc.tables, key=lambda t: sum(len("".join(r)) for r in t.rows))
    parts = [c for c in chunk_document(doc) if c.table_id == t.id]
    assert len(parts) > 1
    header = " | ".join(t.header[0])
    assert all(header in c.text for c in parts)
    ranges = [c.row_range for c in parts]
    assert ranges[0][0] == 0 and ranges[-1][1] == len(t.rows)
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))

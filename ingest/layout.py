"""Text lines with geometry, columns and reading order.

PyMuPDF gives characters with boxes; everything above that — which lines belong together,
which column comes first, where a paragraph ends — is decided here from geometry alone,
so that the same code serves the text layer and OCR output.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import pymupdf

from .model import BBox

# A character and its box; tables assign characters (not whole lines) to cells because
# one PDF text line often runs across several cells.
Char = tuple[str, BBox]

TERMINAL_PUNCT = "。！？；!?;：:"
_ASCII_WORD = re.compile(r"[A-Za-z0-9%$)\]]")


@dataclass
class Line:
    text: str
    bbox: BBox
    size: float
    color: int = 0
    bold: bool = False
    chars: list[Char] = field(default_factory=list)
    ocr: bool = False

    @property
    def x0(self) -> float:
        return self.bbox[0]

    @property
    def y0(self) -> float:
        return self.bbox[1]

    @property
    def x1(self) -> float:
        return self.bbox[2]

    @property
    def y1(self) -> float:
        return self.bbox[3]

    @property
    def height(self) -> float:
        return self.bbox[3] - self.bbox[1]

    @property
    def cy(self) -> float:
        return (self.bbox[1] + self.bbox[3]) / 2


def page_lines(page: pymupdf.Page) -> list[Line]:
    """All horizontal text lines of a page, with per-character boxes."""
    flags = pymupdf.TEXTFLAGS_TEXT | pymupdf.TEXT_PRESERVE_WHITESPACE
    raw = page.get_text("rawdict", flags=flags)
    lines: list[Line] = []
    for block in raw["blocks"]:
        for ln in block.get("lines", []):
            if abs(ln["dir"][1]) > 0.1:  # rotated text (watermarks, axis labels) is not body text
                continue
            chars: list[Char] = []
            sizes: dict[float, int] = {}
            color, bold = 0, False
            for span in ln["spans"]:
                for ch in span["chars"]:
                    chars.append((ch["c"], tuple(ch["bbox"])))
                if span["chars"]:
                    sizes[round(span["size"], 1)] = sizes.get(round(span["size"], 1), 0) + len(span["chars"])
                    if not color:
                        color = span["color"]
                    bold = bold or bool(span["flags"] & 16)
            text = "".join(c for c, _ in chars)
            if not text.strip():
                continue
            size = max(sizes, key=sizes.get) if sizes else 0.0
            lines.append(Line(collapse_spaces(text), tuple(ln["bbox"]), size, color, bold, chars))
    return _attach_bullets(_join_vertical_text(lines, page.rect.width))


_ONE_CJK = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff]$")
VERTICAL_RUN = 3           # characters stacked one per line before they are read as one vertical line


SIDE_BAND = 0.12          # share of the page width at either side where vertical sidebars run


def _join_vertical_text(lines: list[Line], page_width: float) -> list[Line]:
    """Vertical text in a page's side margin (a sidebar's "请务必阅读正文之后的免责声明")
    comes out of PyMuPDF one character per line; a run of single CJK characters stacked at one
    x there, touching, becomes one line read top down. (Inside the page a narrow table cell
    wrapped a character per line is left to the table reader.)"""
    side = SIDE_BAND * page_width
    singles = sorted((ln for ln in lines if _ONE_CJK.match(ln.text) and (ln.x1 <= side or ln.x0 >= page_width - side)),
                     key=lambda ln: (round(ln.x0), ln.y0))
    if len(singles) < VERTICAL_RUN:
        return lines
    runs: list[list[Line]] = []
    for ln in singles:
        last = runs[-1][-1] if runs else None
        if last is not None and abs(ln.x0 - last.x0) <= 1.5 and abs(ln.size - last.size) <= 0.5 \
                and -0.5 * ln.size <= ln.y0 - last.y1 <= 0.25 * ln.size:
            runs[-1].append(ln)
        else:
            runs.append([ln])
    joined = {id(run[0]): run for run in runs if len(run) >= VERTICAL_RUN}
    if not joined:
        return lines
    gone = {id(ln) for run in joined.values() for ln in run[1:]}
    out = []
    for ln in lines:
        if id(ln) in gone:
            continue
        run = joined.get(id(ln))
        out.append(ln if run is None else Line("".join(c.text for c in run), bbox_union([c.bbox for c in run]),
                                               ln.size, ln.color, ln.bold, [ch for c in run for ch in c.chars], ln.ocr))
    return out


# A list bullet drawn in a symbol font (Wingdings maps its glyphs to the Private Use Area) or a
# bullet character; "-" and "/" are left alone (tables print them as empty-cell marks).
_BULLET_MARK = re.compile(r"^[\ue000-\uf8ff•●○◆◇■□▪▶►➢➤✓✔√]$")


def _attach_bullets(lines: list[Line]) -> list[Line]:
    """A bullet that PyMuPDF returns as a line of its own, set a little lower or higher than the
    first line of its item, joins that line as "• " — otherwise sorting by height can put it
    after the item's first line and cut the item in two."""
    marks = [ln for ln in lines if _BULLET_MARK.match(ln.text)]
    if not marks:
        return lines
    gone: set[int] = set()
    joined: dict[int, Line] = {}
    for mark in marks:
        height = mark.y1 - mark.y0
        item = min((ln for ln in lines if ln is not mark and id(ln) not in gone and not _BULLET_MARK.match(ln.text)
                    and 0 <= ln.x0 - mark.x1 <= 3 * max(mark.size, 4.0)
                    and min(ln.y1, mark.y1) - max(ln.y0, mark.y0) >= 0.5 * min(height, ln.y1 - ln.y0)),
                   key=lambda ln: ln.x0 - mark.x1, default=None)
        if item is None:
            continue
        base = joined.get(id(item), item)
        joined[id(item)] = Line(f"• {base.text}", bbox_union([mark.bbox, base.bbox]), base.size, base.color,
                                base.bold, [("•", mark.chars[0][1] if mark.chars else mark.bbox)] + base.chars,
                                base.ocr)
        gone.add(id(mark))
    return [joined.get(id(ln), ln) for ln in lines if id(ln) not in gone]


def collapse_spaces(text: str) -> str:
    return re.sub(r"[ \t\u00a0\u3000]+", " ", text).strip()


def join_lines(texts: list[str]) -> str:
    """Join wrapped lines: no space inside Chinese, one space between two Latin words."""
    out = ""
    for t in texts:
        t = t.strip()
        if not t:
            continue
        if out and _ASCII_WORD.match(out[-1]) and _ASCII_WORD.match(t[0]):
            out += " " + t
        else:
            out += t
    return out


def ends_sentence(text: str) -> bool:
    text = text.rstrip()
    return bool(text) and text[-1] in TERMINAL_PUNCT


MAX_GUTTER_CANDIDATES = 2000


def find_gutter(lines: list[Line], page_width: float) -> float | None:
    """x of a vertical gap that splits the page's lines into two columns, or None.

    A gutter must be crossed by few lines (full-width titles may cross it) and have a
    substantial share of lines on each side.
    """
    if len(lines) < 6 or not math.isfinite(page_width):
        return None
    lo, hi = int(page_width * 0.15), int(page_width * 0.85)
    # every 2 points across a printed page; a broken PDF may declare a page kilometres wide,
    # so the scan never tries more than MAX_GUTTER_CANDIDATES positions
    step = max(2, math.ceil((hi - lo) / MAX_GUTTER_CANDIDATES))
    best: tuple[tuple[int, float], int] | None = None
    for x in range(lo, hi, step):
        crossing = sum(1 for ln in lines if ln.x0 < x - 1 < ln.x1 or ln.x0 < x + 1 < ln.x1)
        if crossing > max(1, len(lines) // 10):
            continue
        left = sum(1 for ln in lines if ln.x1 <= x + 1)
        right = sum(1 for ln in lines if ln.x0 >= x - 1)
        if min(left, right) < max(3, len(lines) // 6):
            continue
        # fewest crossing lines wins, then the widest empty band around x
        width = _gap_width(lines, x)
        if width >= 8 and (best is None or (crossing, -width) < best[0]):
            best = ((crossing, -width), x)
    return None if best is None else float(best[1])


def _gap_width(lines: list[Line], x: float) -> float:
    left_edge = max((ln.x1 for ln in lines if ln.x1 <= x + 1), default=x)
    right_edge = min((ln.x0 for ln in lines if ln.x0 >= x - 1), default=x)
    return right_edge - left_edge


def reading_order(lines: list[Line], page_width: float) -> list[list[Line]]:
    """Split lines into columns/bands in reading order.

    Returns a list of line groups; each group is one column segment read top to bottom.
    Lines that span the gutter (titles) cut the page into horizontal bands; within a band
    the left column is read before the right one.
    """
    lines = sorted(lines, key=lambda ln: (round(ln.y0), ln.x0))
    gutter = find_gutter(lines, page_width)
    if gutter is None:
        return [lines] if lines else []
    groups: list[list[Line]] = []
    left: list[Line] = []
    right: list[Line] = []

    def flush():
        if left:
            groups.append(list(left))
        if right:
            groups.append(list(right))
        left.clear()
        right.clear()

    for ln in lines:
        if ln.x1 <= gutter + 1:
            left.append(ln)
        elif ln.x0 >= gutter - 1:
            right.append(ln)
        else:  # spanning line: ends the current band
            flush()
            groups.append([ln])
    flush()
    return groups


def bbox_union(boxes) -> BBox:
    boxes = list(boxes)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def overlaps(a: BBox, b: BBox, pad: float = 0.0) -> bool:
    return a[0] - pad < b[2] and b[0] - pad < a[2] and a[1] - pad < b[3] and b[1] - pad < a[3]


def inside(inner: BBox, outer: BBox, pad: float = 1.0) -> bool:
    cx, cy = (inner[0] + inner[2]) / 2, (inner[1] + inner[3]) / 2
    return outer[0] - pad <= cx <= outer[2] + pad and outer[1] - pad <= cy <= outer[3] + pad

"""Tables as cell grids: ruled tables, three-line tables, captions, units, continuations.

Geometry comes from PyMuPDF (``find_tables`` for ruled grids, drawings for the rules of
three-line tables); cell *text* is filled in here from character boxes, because
``Table.extract()`` loses hyphens and CJK punctuation on these reports ("1460-1470" came
back as "14601470").
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pymupdf

from .layout import Line, bbox_union, inside, join_lines
from .model import BBox

# "表1：", "图表 2:", "图13:", "Figure 3." — and the unnumbered "图：" some brokers use
CAPTION_RE = re.compile(r"^\s*(续表|(图表|表格|表|图|附表|附图|Table|Figure|Exhibit|Chart)\s*"
                        r"(?:[0-9一二三四五六七八九十]+[a-zA-Z]?\s*[：:、.．\s]|[：:]))")
SOURCE_RE = re.compile(r"^\s*(数据来源|资料来源|来源|信息来源|Source|Sources)\s*[：:]", re.I)
CONTINUED_RE = re.compile(r"(续表|[（(]\s*续\s*[)）]|continued)", re.I)
_UNIT_WORDS = r"(?:十亿美元|十亿元|十亿|亿美元|万美元|百万美元|千美元|美元|亿元人民币|亿元|万元|百万元|千元|元|亿港元|港元|亿|万|百万|%|倍|MW|GW|kW|KW|W|小时|美元/小时)"
UNIT_RE = re.compile(r"单位\s*[：:]\s*([^\s，,；;）)]+)|[（(]\s*(" + _UNIT_WORDS + r")\s*[)）]")


@dataclass
class RawTable:
    """A table fragment found on one page, before captions and continuations."""

    page: int
    bbox: BBox
    grid: list[list[str]]
    col_edges: list[float]            # x boundaries of the columns, for continuation matching
    style: str                        # "ruled" | "three_line" | "text_aligned"
    title_row: str = ""               # a first row spanning all columns (a title inside the grid)
    consumed: set[int] = field(default_factory=set)  # ids of lines that belong to it
    col_spans: list[tuple[float, float]] = field(default_factory=list)  # x-extent of each grid column (aligned text)
    open_end: bool = False            # runs to the foot of its page with no closing rule: may go on overleaf


def find_page_tables(page: pymupdf.Page, lines: list[Line]) -> list[RawTable]:
    tables = _ruled_tables(page, lines)
    ruled = [t.bbox for t in tables]
    tables += _fuller(_three_line_tables(page, lines, ruled), _cell_fill_tables(page, lines, ruled))
    taken = [t.bbox for t in tables]
    tables += _unruled_tables(page, lines, [t.bbox for t in tables])
    tables.sort(key=lambda t: t.bbox[1])
    return tables


def _ruled_tables(page: pymupdf.Page, lines: list[Line]) -> list[RawTable]:
    try:
        found = _find_tables(page)
    except Exception:  # a malformed drawing list must not lose the page's text
        return []
    out: list[RawTable] = []
    for t in found:
        rows = [list(r.cells) for r in t.rows]
        if len(rows) < 2 or max(len(r) for r in rows) < 2:
            continue
        grid, consumed = _fill_cells(rows, lines, tuple(t.bbox))
        edges = sorted({round(c[0], 1) for r in rows for c in r if c} | {round(t.bbox[2], 1)})
        table = _finish(RawTable(page.number + 1, tuple(t.bbox), grid, edges, "ruled", consumed=consumed))
        out.append(_columns_inside_cells(table, lines, rows))
    return out


_NUMBER_TOKEN = re.compile(r"[-+−]?\d[\d,]*(?:\.\d+)?%?")


_NOT_WORDS = re.compile(r"[\s%*()（）+\-−–,.，、]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
GLUED_LABEL_CHARS = 12     # a short Latin label (a factor or ticker name) may be glued to the figures


def _glued_cells(grid: list[list[str]]) -> int:
    """Cells that are only figures (and at most a short Latin label) yet hold two or more of
    them: in a grid of figures, several columns read as one. A cell of words that mentions
    several amounts ("120亿美元，最高270亿美元") is not glued."""
    count = 0
    for cell in (c for row in grid for c in row):
        numbers = _NUMBER_TOKEN.findall(cell)
        rest = _NOT_WORDS.sub("", _NUMBER_TOKEN.sub("", cell))
        if len(numbers) >= 2 and not _CJK.search(rest) and (not rest or len(numbers) >= 3 and len(rest) <= GLUED_LABEL_CHARS):
            count += 1
    return count


def _columns_inside_cells(t: RawTable, lines: list[Line], ruled_rows: list[list]) -> RawTable:
    """A ruled table whose rules outline groups of columns (or only the header's cells) leaves
    several columns of figures in one ruled cell. When the text inside the table lines up in
    more columns than the rules draw, and that unglues the figures, the columns of the text win;
    a header label alone in a ruled cell over several of them is the group label of each."""
    glued = _glued_cells(t.grid)
    if glued < 2:
        return t
    inner = [ln for ln in lines if inside(ln.bbox, t.bbox, pad=2)]
    inner += _labels_beside(t.bbox, inner, lines)
    above = _aligned_rows_above(bbox_union([t.bbox] + [ln.bbox for ln in inner]), inner, lines)
    bbox = bbox_union([t.bbox] + [ln.bbox for ln in inner + above])
    aligned = _text_aligned_grid(t.page, bbox, above + inner, style="ruled")
    if aligned is None or len(aligned.grid[0]) <= len(t.grid[0]) or _glued_cells(aligned.grid) >= glued:
        return t
    aligned.consumed = t.consumed | {id(ln) for ln in above}
    _spread_group_labels(aligned, [(c[0], c[2]) for r in ruled_rows for c in r if c])
    return aligned


def _labels_beside(bbox: BBox, inner: list[Line], lines: list[Line]) -> list[Line]:
    """Row labels left of a ruled grid, one on each of its rows' baselines (the label column
    drawn without the grid's rules)."""
    rows = [r[0].cy for r in _rows(inner)]
    width = bbox[2] - bbox[0]
    beside = [ln for ln in lines if ln.x1 <= bbox[0] + 2 and ln.x0 >= bbox[0] - width / 2
              and bbox[1] - 2 <= ln.cy <= bbox[3] + 2 and len(ln.text) <= 2 * LABEL_CHARS]
    on_rows = [ln for ln in beside if any(abs(ln.cy - y) <= max(ln.height, 4) * 0.5 for y in rows)]
    return on_rows if len(on_rows) >= 2 and len(on_rows) == len(beside) else []


def _aligned_rows_above(bbox: BBox, inner: list[Line], lines: list[Line]) -> list[Line]:
    """Rows right above a ruled grid, set like its rows and split into cells, that its rules
    leave out (a header and first rows drawn without the grid's rules)."""
    body = _rows(inner)
    if len(body) < 2:
        return []
    pitch = max(b[0].cy - a[0].cy for a, b in zip(body, body[1:]))
    in_grid = {id(ln) for ln in inner}
    candidates = _rows([ln for ln in lines if ln.cy <= bbox[1] + 2 and ln.x0 >= bbox[0] - 2
                        and ln.x1 <= bbox[2] + 2 and id(ln) not in in_grid])
    taken: list[Line] = []
    top = body[0][0].cy
    for row in reversed(candidates):
        if top - row[0].cy > pitch * 1.5 or any(CAPTION_RE.match(ln.text) or SOURCE_RE.match(ln.text) for ln in row):
            break
        if sum(len(_segments(ln)) for ln in row) < 2:
            break
        taken += row
        top = row[0].cy
    return taken


def _spread_group_labels(t: RawTable, spans: list[tuple[float, float]]) -> None:
    """A label alone in its row over several columns that each have their own label on the row
    below (a two-level header) heads each of them."""
    mids = [(a + b) / 2 for a, b in zip(t.col_edges, t.col_edges[1:])]
    for row, below in zip(t.grid, t.grid[1:]):
        if len(_NUMBER_TOKEN.findall(" ".join(below[1:]))) >= 2:
            break                      # the header ends where the figures begin
        for x0, x1 in spans:
            under = [k for k, m in enumerate(mids) if x0 <= m <= x1]
            labelled = [k for k in under if row[k].strip()]
            if len(under) >= 2 and len(labelled) == 1 and all(below[k].strip() for k in under):
                for k in under:
                    row[k] = row[labelled[0]]


def _find_tables(page: pymupdf.Page) -> list:
    # Newer PyMuPDF gates tables with an ONNX layout model when pymupdf-layout is installed
    # (0.2 s/page here); the ruling lines alone are exact on broker PDFs and 20x faster.
    try:
        return page.find_tables(strategy="lines_strict", use_layout=False).tables
    except TypeError:  # PyMuPDF without the layout option
        return page.find_tables(strategy="lines_strict").tables


def _fill_cells(rows: list[list], lines: list[Line], bbox: BBox) -> tuple[list[list[str]], set[int]]:
    """Assign each character to the cell under its centre; join each cell's lines."""
    n_cols = max(len(r) for r in rows)
    pieces: list[list[dict[int, list[str]]]] = [[{} for _ in range(n_cols)] for _ in rows]
    consumed: set[int] = set()
    for li, ln in enumerate(lines):
        if not inside(ln.bbox, bbox, pad=2):
            continue
        consumed.add(id(ln))
        r = _row_of(rows, ln.cy)
        if r is None:
            continue
        for ch, cb in ln.chars:
            c = _col_of(rows[r], (cb[0] + cb[2]) / 2)
            if c is not None:
                pieces[r][c].setdefault(li, []).append(ch)
    grid = [[join_lines(["".join(p[k]).strip() for k in sorted(p)]) for p in row] for row in pieces]
    return grid, consumed


def _row_of(rows: list[list], y: float) -> int | None:
    for i, r in enumerate(rows):
        ys = [c for c in r if c]
        if ys and min(c[1] for c in ys) - 1 <= y <= max(c[3] for c in ys) + 1:
            return i
    return None


def _col_of(row: list, x: float) -> int | None:
    for j, c in enumerate(row):
        if c and c[0] - 1 <= x <= c[2] + 1:
            return j
    # x falls in a merged (None) cell: attribute it to the nearest cell to its left
    left = [j for j, c in enumerate(row) if c and c[2] <= x]
    return left[-1] if left else None


def _finish(t: RawTable) -> RawTable:
    """Drop empty rows/columns; lift a one-cell first row (a title inside the grid)."""
    grid = [r for r in t.grid if any(c.strip() for c in r)]
    if grid:
        keep = [j for j in range(len(grid[0])) if any(j < len(r) and r[j].strip() for r in grid)]
        grid = [[r[j] if j < len(r) else "" for j in keep] for r in grid]
        if len(t.col_spans) == len(t.grid[0]):
            t.col_spans = [t.col_spans[j] for j in keep]
    if len(grid) > 2 and len(grid[0]) >= 3 and sum(1 for c in grid[0] if c.strip()) == 1:
        t.title_row = next(c for c in grid[0] if c.strip())
        grid = grid[1:]
    t.grid = grid
    return t


# --- three-line (horizontal rules only) tables -------------------------------------------

def _horizontal_rules(page: pymupdf.Page) -> list[tuple[float, float, float]]:
    """(y, x0, x1) of long horizontal strokes: lines and hairline rectangles. A rule drawn cell
    by cell (word processors and HTML renderers draw a table border as one short stroke per
    column) is joined into the one rule it looks like."""
    strokes = []
    for d in _drawings(page):
        for item in d["items"]:
            if item[0] == "l":
                p, q = item[1], item[2]
                if abs(p.y - q.y) < 1 and abs(q.x - p.x) >= 1:
                    strokes.append(((p.y + q.y) / 2, min(p.x, q.x), max(p.x, q.x)))
            elif item[0] == "re":
                r = item[1]
                if r.height < 2 and r.width >= 1:
                    strokes.append(((r.y0 + r.y1) / 2, r.x0, r.x1))
    return [r for r in _join_strokes(strokes) if r[2] - r[1] >= page.rect.width * 0.3]


def _join_strokes(strokes: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """Strokes at the same height that touch end to end, as one rule each."""
    rules: list[list[float]] = []
    for y, x0, x1 in sorted(strokes, key=lambda r: (round(r[0]), r[1])):
        prev = rules[-1] if rules else None
        if prev and abs(prev[0] - y) < 1 and x0 <= prev[2] + 1.5:
            prev[2] = max(prev[2], x1)
        else:
            rules.append([y, x0, x1])
    return sorted((y, x0, x1) for y, x0, x1 in rules)


MAX_HEADER_LINES = 3       # a three-line table's header wraps over at most this many lines
_SENTENCE_PUNCT = re.compile(r"[，。；：、！？,;:!?]")
_BRACKETED = re.compile(r"^\s*[(（\[].*[)）\]]\s*$")
_NUMERIC_CELL = re.compile(r"^[-+−–~≈约(（]?[$¥€£]?\s*\d[\d,.\s]*(?:%|pct|倍|[xX]|[亿万千百]?[元美]?元?)?[)）]?$")


def _three_line_tables(page: pymupdf.Page, lines: list[Line], taken: list[BBox]) -> list[RawTable]:
    rules = [r for r in _horizontal_rules(page)
             if not any(t[1] - 3 <= r[0] <= t[3] + 3 and t[0] - 3 <= r[1] for t in taken)]
    out: list[RawTable] = []
    i = 0
    while i < len(rules):
        # a run of rules sharing (roughly) the same x extent, close enough to be one table;
        # a caption or source line between two rules ends it (two tables one above the other)
        j = i
        while (j + 1 < len(rules) and abs(rules[j + 1][1] - rules[i][1]) < 5
               and abs(rules[j + 1][2] - rules[i][2]) < 5 and rules[j + 1][0] - rules[j][0] < 250
               and not _labelled_between(lines, rules[j], rules[j + 1])):
            j += 1
        t = _ruled_run(page, lines, rules[i:j + 1])
        if t is not None:
            out.append(t)
        i = j + 1
    return out


def _ruled_run(page: pymupdf.Page, lines: list[Line], run: list[tuple[float, float, float]]) -> RawTable | None:
    """The table a run of rules draws. Top rule, header rule, ..., closing rule: what is above
    the second rule is the header. A table cut by a page break is open: its first part has the
    top and header rules and rows down to the foot of the page, its rest rows from the head of
    the next page down to a closing rule."""
    x0, x1 = run[0][1], run[0][2]
    top, bottom = run[0][0], run[-1][0]
    header_bottom = run[1][0] if len(run) >= 3 else None
    open_end = False
    if len(run) == 2 and 1 <= len(_rows(_between(lines, x0, x1, top, bottom))) <= MAX_HEADER_LINES:
        # a header between the two rules (two rules with nothing between are a double rule)
        below = _rows_to_page_edge(page, lines, run[-1], down=True)
        if below:
            header_bottom, bottom, open_end = bottom, max(ln.y1 for ln in below) + 1, True
    elif len(run) == 1:
        above = _rows_to_page_edge(page, lines, run[0], down=False)
        if not above:
            return None
        top = min(ln.y0 for ln in above) - 1
    inner = _between(lines, x0, x1, top, bottom)
    if header_bottom is not None and len(_rows([ln for ln in inner if ln.cy < header_bottom])) > MAX_HEADER_LINES:
        header_bottom = None      # a rule under a group of rows, not under the header
    t = _text_aligned_grid(page.number + 1, (x0, top, x1, bottom), inner, header_bottom=header_bottom)
    if t is not None:
        t.open_end = open_end
    return t


def _between(lines: list[Line], x0: float, x1: float, top: float, bottom: float) -> list[Line]:
    return [ln for ln in lines if inside(ln.bbox, (x0, top, x1, bottom), pad=0)]


PAGE_EDGE_BAND = 0.1       # running headers and footers sit in this share of the page at either end


def _rows_to_page_edge(page: pymupdf.Page, lines: list[Line], rule: tuple[float, float, float],
                       down: bool) -> list[Line]:
    """The rows that run from ``rule`` to the foot of the page (``down``) or from the head of
    the page to ``rule``, tightly spaced, in the rule's width, with no caption, source line or
    prose among them; empty unless nothing but running lines lies beyond them."""
    y, x0, x1 = rule
    # lines centred within the rule's width; one of them sticking out beyond it is prose, not a row
    side = [ln for ln in lines if x0 - 2 <= (ln.x0 + ln.x1) / 2 <= x1 + 2 and (ln.cy > y if down else ln.cy < y)]
    rows = _rows(side)
    if not down:
        rows.reverse()
    body: list[list[Line]] = []
    edge, pitch = y, 0.0                 # pitch: the widest gap between two rows so far
    for r in rows:
        height = max(ln.height for ln in r)
        gap = (min(ln.y0 for ln in r) - edge) if down else (edge - max(ln.y1 for ln in r))
        if gap > max(1.5 * height, 2 * pitch) or any(_ends_table(ln, r, x0, x1 - x0) or _sticks_out(ln, x0, x1)
                                                     for ln in r):
            break
        if body:
            pitch = max(pitch, gap)
        body.append(r)
        edge = max(ln.y1 for ln in r) if down else min(ln.y0 for ln in r)
    if not body:
        return []
    band = page.rect.height * PAGE_EDGE_BAND
    beyond = rows[len(body):]
    if any((min(ln.y0 for ln in r) < page.rect.height - band) if down else (max(ln.y1 for ln in r) > band)
           for r in beyond):
        return []
    return [ln for r in body for ln in r]


def continued_table(prev: RawTable, head: list[Line], page_no: int) -> RawTable | None:
    """The rows at the head of a page that carry on ``prev``, a table left open at the foot of
    the page before. A three-line table prints no rule on a page it only passes through, and its
    last rows above the closing rule may be a single one, so these rows are found by the
    table's own columns, not by rules: read from the top of the page while every piece of text
    of a row stays inside one of ``prev``'s columns (or the gutter beside it), the rows stay
    tightly spaced, and no caption, source line or prose comes between. ``head`` are the page's
    lines outside running headers and other tables, top down."""
    spans = prev.col_spans
    if len(spans) < 2 or not prev.grid or len(prev.grid[0]) != len(spans):
        return None
    x0, x1 = prev.bbox[0], prev.bbox[2]
    rows: list[list[Line]] = []
    row_segs: list[list[tuple[float, float, str]]] = []
    edge, pitch = None, 0.0
    head_rows = _rows(head)
    for r in head_rows:
        segs = sorted(s for ln in r for s in _segments(ln, 0.75))
        height = max(ln.height for ln in r)
        gap = min(ln.y0 for ln in r) - edge if edge is not None else 0.0
        if (edge is not None and gap > max(1.5 * height, 2 * pitch)) or \
                any(_ends_table(ln, r, x0, x1 - x0) or _sticks_out(ln, x0, x1) for ln in r) or \
                not _row_fits(segs, spans):
            break
        if rows:
            pitch = max(pitch, gap)
        rows.append(r)
        row_segs.append(segs)
        edge = max(ln.y1 for ln in r)
    if not rows or not any(len({_col_under([list(c) for c in spans], a, b) for a, b, _ in segs}) >= 2
                           for segs in row_segs):
        return None
    cols = [list(c) for c in spans]
    grid, _ = _fill_grid(rows, row_segs, cols)
    lines = [ln for r in rows for ln in r]
    bbox = (x0, min(ln.y0 for ln in lines) - 1, x1, max(ln.y1 for ln in lines) + 1)
    return RawTable(page_no, bbox, grid, list(prev.col_edges), prev.style, consumed={id(ln) for ln in lines},
                    col_spans=list(spans), open_end=len(rows) == len(head_rows))


def _row_fits(segs: list[tuple[float, float, str]], spans: list[tuple[float, float]]) -> bool:
    """Every piece of text of a row starts in one of the columns (or the gutter left of it) and
    ends before the next column that holds text of this row; a label may run on over columns
    the row leaves empty (a header cell centred over the label column made its own column) when
    the row has other cells, while a line of one piece must keep to one column (prose does not)."""
    if not segs or segs[0][0] < spans[0][0] - 2 or segs[-1][1] > spans[-1][1] + 2:
        return False
    touched = [[k for k, (a, b) in enumerate(spans) if min(s[1], b) - max(s[0], a) > 0] for s in segs]
    if len(segs) == 1:
        return len(touched[0]) <= 1
    # a piece over several columns must have them to itself
    return all(len(ks) <= 1 or not any(set(ks) & set(other) for j, other in enumerate(touched) if j != i)
               for i, ks in enumerate(touched))


def _sticks_out(ln: Line, x0: float, x1: float) -> bool:
    """A line running past a table's side by more than a character is no row of it."""
    tol = max(ln.size, 4.0)
    return ln.x0 < x0 - tol or ln.x1 > x1 + tol


_BULLET = re.compile(r"^[^\w\s]{1,2}$")    # a lone mark: •, ◆, ➢, a Wingdings check (U+F0FC)


def _ends_table(ln: Line, row: list[Line], x0: float, width: float) -> bool:
    """A caption, a source line or a line of prose across the table's width: not a row. Prose
    starts at the table's left edge or after a list bullet; a long line of text starting
    further right, after a label, is a wrapped cell beside a label column."""
    if CAPTION_RE.match(ln.text) or SOURCE_RE.match(ln.text):
        return True
    if not (ln.x1 - ln.x0 > 0.6 * width and len(_segments(ln)) == 1 and _SENTENCE_PUNCT.search(ln.text)):
        return False
    before = [o for o in row if o.x1 <= ln.x0 + 1 and o is not ln]
    return ln.x0 - x0 < max(12.0, 0.05 * width) or bool(before) and all(_BULLET.match(o.text.strip()) for o in before)


def _labelled_between(lines: list[Line], upper: tuple, lower: tuple) -> bool:
    """A table caption or source line lies between two rules: they belong to two tables."""
    return any(upper[0] < ln.cy < lower[0] and upper[1] - 5 <= ln.x0 <= upper[2]
               and (CAPTION_RE.match(ln.text) or SOURCE_RE.match(ln.text)) for ln in lines)


def _segments(ln: Line, gap: float = 1.2) -> list[tuple[float, float, str]]:
    """Split a line where the gap between characters is wider than ``gap`` times the font
    size: those are cell boundaries. Spaces are not characters here (a space's box may fill
    the gap between two cells)."""
    segs: list[tuple[float, float, str]] = []
    gap_limit = max(ln.size, 4.0) * gap
    cur: list[tuple[str, BBox]] = []
    last_ink: BBox | None = None
    for ch, cb in ln.chars:
        if cur and last_ink is not None and ch.strip() and cb[0] - last_ink[2] > gap_limit:
            segs.append(_segment(cur))
            cur = []
        if ch.strip() or cur:
            cur.append((ch, cb))
        if ch.strip():
            last_ink = cb
    if cur:
        segs.append(_segment(cur))
    return [s for s in segs if s[2]]


def _segment(chars: list[tuple[str, BBox]]) -> tuple[float, float, str]:
    ink = [cb for ch, cb in chars if ch.strip()] or [chars[0][1]]
    return ink[0][0], ink[-1][2], "".join(c for c, _ in chars).strip()


def _text_aligned_grid(page_no: int, bbox: BBox, lines: list[Line], style: str = "three_line",
                       header_bottom: float | None = None) -> RawTable | None:
    """The grid of a table whose columns are only aligned text. With ``header_bottom`` (the
    rule under a three-line table's header) every line above it is part of the one header row:
    a header that wraps stays one row, column by column."""
    rows = _rows(lines)
    if len(rows) < 2:
        return None
    # the columns of a table under rules may be set apart by cell padding only: narrower gaps split cells
    gap = 0.75 if style == "three_line" else 1.2
    row_segs = [[s for ln in r for s in _segments(ln, gap)] for r in rows]
    # columns = union of the x-intervals that segments occupy across the rows; a row of one
    # cell across the table (a note) spans columns and does not make them. When the rows split
    # into the most cells separate columns that the union runs together (a group label over
    # several columns), those rows set them.
    split = [segs for segs in row_segs if len(segs) >= 2]
    cols = _columns(split if len(split) >= 2 else row_segs, min_gap=2)
    if len(split) >= 2:
        fullest = _columns_of_fullest_rows(split)
        cols = fullest if len(fullest) > len(cols) else cols
    if len(cols) < 2:
        return None
    # a header set tighter than the body runs cells together: cut them where the columns' gutters are
    row_segs = [[s for ln in r for s in _cut_at_gutters(ln, _segments(ln, gap), cols)] for r in rows]
    grid, n_head = _fill_grid(rows, row_segs, cols, header_bottom)
    if len(grid) < 2:
        return None
    grid, cols = _header_only_columns_merged(grid, cols, max(n_head, 1))
    edges = [c[0] for c in cols] + [bbox[2]]
    consumed = {id(ln) for ln in lines}
    return _finish(RawTable(page_no, bbox, grid, edges, style, consumed=consumed,
                            col_spans=[(a, b) for a, b in cols]))


def _fill_grid(rows: list[list[Line]], row_segs: list[list[tuple[float, float, str]]], cols: list[list[float]],
               header_bottom: float | None = None) -> tuple[list[list[str]], int]:
    """The cells of each line in ``cols``, wrapped lines joined to the row above; and how many
    rows are header (every line above ``header_bottom``, a three-line table's header rule)."""
    grid: list[list[str]] = []
    n_head = 0
    for row, segs, wraps in zip(rows, row_segs, _wrapped_lines(rows, row_segs, cols)):
        cells = [""] * len(cols)
        for x0, x1, text in segs:
            c = _col_under(cols, x0, x1)
            cells[c] = join_lines([cells[c], text]) if cells[c] else text
        in_header = header_bottom is not None and row[0].cy < header_bottom
        # a line a cell wrapped onto continues the row above (with an empty first cell, a row
        # with a label); under the header rule, the header's cells take no more lines
        if grid and (in_header or len(grid) > n_head and wraps and (cells[0] or grid[-1][0])):
            grid[-1] = [join_lines([a, b]) if b else a for a, b in zip(grid[-1], cells)]
        else:
            grid.append(cells)
        n_head = len(grid) if in_header else n_head
    return grid, n_head


def _header_only_columns_merged(grid: list[list[str]], cols: list[list[float]],
                                n_head: int) -> tuple[list[list[str]], list[list[float]]]:
    """A column with text only in the header (and in rows repeating it), none of it a figure,
    beside a column left empty there, is that column's header set apart (a "$" centred over the
    row labels): the two are one column."""
    heads = {row_key(r) for r in grid[:n_head]}
    j = 1
    while j < len(cols):
        rows = [r for r in grid if r[j].strip()]
        if rows and all(row_key(r) in heads and not r[j - 1].strip() and not _NUMERIC_CELL.match(r[j])
                        for r in rows):
            grid = [r[:j - 1] + [r[j - 1] or r[j]] + r[j + 1:] for r in grid]
            cols = cols[:j - 1] + [[cols[j - 1][0], max(cols[j - 1][1], cols[j][1])]] + cols[j + 1:]
        else:
            j += 1
    return grid, cols


def _columns_of_fullest_rows(row_segs: list[list[tuple[float, float, str]]]) -> list[list[float]]:
    """Columns from the rows split into the most cells first; a row whose cell would run two
    of those columns together (a group label over several columns, a note) does not shape them."""
    order = sorted(row_segs, key=len, reverse=True)
    cols = _columns(order[:1], min_gap=2)
    for segs in order[1:]:
        widened = _columns([[(a, b, "") for a, b in cols], segs], min_gap=2)
        if len(widened) >= len(cols):
            cols = widened
    # two neighbouring columns that no row fills both of are one column whose cells are set
    # at different places (centred short cells, left-aligned long ones)
    merged = [cols[0]]
    for col in cols[1:]:
        prev = merged[-1]
        together = any(any(_overlaps(s, prev) and not _overlaps(s, col) for s in segs)
                       and any(_overlaps(s, col) and not _overlaps(s, prev) for s in segs)
                       for segs in row_segs)
        if together:
            merged.append(col)
        else:
            merged[-1] = [prev[0], max(prev[1], col[1])]
    return merged


def _overlaps(seg: tuple[float, float, str], col: list[float]) -> bool:
    return min(seg[1], col[1]) - max(seg[0], col[0]) > 0


GUTTER_CUT = 0.3           # a gap of this share of the font size inside a gutter between columns splits a cell


def _cut_at_gutters(ln: Line, segs: list[tuple[float, float, str]],
                    cols: list[list[float]]) -> list[tuple[float, float, str]]:
    """Split a segment that spans the gutter between two columns at a gap inside that gutter."""
    out: list[tuple[float, float, str]] = []
    min_gap = max(ln.size, 4.0) * GUTTER_CUT
    for seg in segs:
        first, last = _col_at(cols, seg[0]), _col_at(cols, seg[1] - 2)
        if first == last:
            out.append(seg)
            continue
        gutters = [(cols[k][1], cols[k + 1][0]) for k in range(first, last)]
        pieces: list[list[tuple[str, BBox]]] = [[]]
        ink: BBox | None = None
        for ch, cb in ln.chars:
            if not seg[0] - 0.5 <= (cb[0] + cb[2]) / 2 <= seg[1] + 0.5:
                continue
            if ch.strip() and ink is not None and cb[0] - ink[2] >= min_gap and \
                    any(a - 1 <= (ink[2] + cb[0]) / 2 <= b + 1 for a, b in gutters):
                pieces.append([])
            pieces[-1].append((ch, cb))
            ink = cb if ch.strip() else ink
        out += [_segment(p) for p in pieces if any(ch.strip() for ch, _ in p)]
    return out


def _col_under(cols: list[list[float]], x0: float, x1: float) -> int:
    """The column a cell's text starts in; a text starting in a gutter (a header centred over
    right-aligned figures starts left of them) belongs to the column it overlaps most."""
    start = next((k for k, (a, b) in enumerate(cols) if a - 2 <= x0 <= b), None)
    if start is not None:
        return start
    overlaps = [min(x1, b) - max(x0, a) for a, b in cols]
    best = max(range(len(cols)), key=overlaps.__getitem__)
    return best if overlaps[best] > 0 else _col_at(cols, x0)


def _col_at(cols: list[list[float]], x0: float) -> int:
    """The column a text starting at ``x0`` is in: the last one starting at or left of it."""
    return max((k for k, (a, _) in enumerate(cols) if a - 2 <= x0), default=0)


def _wrapped_lines(rows: list[list[Line]], row_segs: list[list[tuple[float, float, str]]],
                   cols: list[list[float]]) -> list[bool]:
    """For each line of a table, whether a cell wrapped onto it from the line above.

    Spacing decides when it can: tables set rows further apart (cell padding) than the lines
    inside one cell, so when the gaps between lines come in two sizes only a line at the small
    gap is wrapped (an empty first cell at the large gap is a row under a label spanning rows),
    and if it has a first cell of its own, each of its cells lies in a column whose text ran to
    (near) the right edge on the line above and none is a figure (a figure starts a row). With
    evenly spaced lines, a line with an empty first cell is wrapped (each row starts with its
    label).
    """
    out = [False] * len(rows)
    gaps = [min(ln.y0 for ln in r) - max(ln.y1 for ln in p) for p, r in zip(rows, rows[1:])]
    if not gaps:
        return out
    size = max(4.0, sorted(ln.size for r in rows for ln in r)[len(rows) // 2])
    tight, loose = min(gaps), max(gaps)
    spaced = loose - tight >= max(1.5, 0.2 * size)
    for k, gap in enumerate(gaps, start=1):
        full = {c for c, (_, x1, _) in ((_col_at(cols, s[0]), s) for s in row_segs[k - 1])
                if x1 >= cols[c][1] - max(1.5 * size, 0.25 * (cols[c][1] - cols[c][0]))}
        within = {_col_at(cols, x0) for x0, _, _ in row_segs[k]}
        if not within:
            continue
        above = {_col_at(cols, x0): t for x0, _, t in row_segs[k - 1]}
        continues = _goes_on_above([(_col_at(cols, x0), t) for x0, _, t in row_segs[k]], above, full)
        if not spaced:
            out[k] = 0 not in within and continues
            continue
        # a line with a label of its own wrapped only where the line above ran to the edge, and
        # holds no figure (a figure starts a row)
        fits = 0 not in within or continues and within <= full and \
            not any(_NUMERIC_CELL.match(t) for _, _, t in row_segs[k])
        out[k] = fits and gap <= tight + min(1.0, (loose - tight) / 2)
    return out


def _goes_on_above(cells: list[tuple[int, str]], above: dict[int, str], full: set[int]) -> bool:
    """Whether the cells of one table line (column, text) continue the cells of the line above
    (``above``; ``full``: its columns whose text ran to the edge), when spacing cannot tell.
    Bracketed figures under figures qualify them (t-statistics, standard errors): they go on.
    A line of figures only is a row of its own, and so is a figure under a figure. Words go on
    only where the text above ran to its column's edge (a short text above ended its cell); a
    cell under nothing (set lower beside a taller cell) does not decide."""
    bracketed = [c for c, t in cells if _BRACKETED.match(t)]
    if 2 * len(bracketed) >= len(cells) and all(_NUMERIC_CELL.match(above.get(c, "")) for c in bracketed):
        return True
    if all(_NUMERIC_CELL.match(t) for _, t in cells):
        return False
    for c, text in cells:
        over = above.get(c, "").strip()
        if not over:
            continue
        if _NUMERIC_CELL.match(over) and _NUMERIC_CELL.match(text) or c not in full:
            return False
    return True


# --- text-aligned tables with no rules at all --------------------------------------------
#
# Some reports print a table as columns of aligned text under a caption, with a 数据来源 line
# below and not a single rule. Found only from a caption downwards, row by row, while every
# row keeps the column structure; stopped by the source line, another caption, a paragraph
# break or a line that runs across the columns (prose). Charts (images, vector drawings)
# and contents pages are never read as such tables.

_LEADER_RE = re.compile(r"(\.{4,}|…{2,}|·{4,}|-{6,})")
_MIN_ROWS = 3          # rows (header included) with cells in >= 2 columns


def _unruled_tables(page: pymupdf.Page, lines: list[Line], taken: list[BBox]) -> list[RawTable]:
    from .boilerplate import is_toc_page
    captions = [ln for ln in lines if CAPTION_RE.match(ln.text)]
    if not captions or is_toc_page(lines, page.rect.width):
        return []
    free = [ln for ln in lines if not any(inside(ln.bbox, t, pad=2) for t in taken)]
    rows = _rows(free)
    out: list[RawTable] = []
    drawings = None
    for cap in captions:
        if any(inside(cap.bbox, t.bbox, pad=2) for t in out) or any(inside(cap.bbox, t, pad=2) for t in taken):
            continue
        body = _aligned_rows_below(cap, rows)
        if body is None:
            continue
        bbox = bbox_union(ln.bbox for r in body for ln in r)
        if any(_overlap(bbox, t) for t in taken + [t.bbox for t in out]):
            continue
        if drawings is None:
            drawings = _graphics(page, lines)
        if any(_overlap(bbox, g) for g in drawings):
            continue  # a chart or picture: its labels line up too, but it is not a table
        t = _text_aligned_grid(page.number + 1, bbox, [ln for r in body for ln in r], style="text_aligned")
        if t is not None and len(t.grid) >= _MIN_ROWS and len(t.grid[0]) >= 2 and not reads_as_prose(t.grid):
            out.append(t)
    return out


LABEL_CHARS = 8            # a table's label: shorter than this; a line of a column of prose: longer


def reads_as_prose(grid: list[list[str]]) -> bool:
    """Side-by-side columns of running text, not a table: no column holds figures or short
    labels (most of every column's lines are long), and many lines have sentence punctuation.

    Two-column body text lines up like a two-column table (left and right lines share rows);
    read as one, its rows would interleave sentences of the two columns. A table has a column
    of figures, or a column of short labels.
    """
    columns = [[c.strip() for c in col if c.strip()] for col in zip(*grid)]
    cells = [c for col in columns for c in col]
    if len(columns) < 2 or not cells:
        return False
    for col in columns:
        if not col or sum(bool(_NUMERIC_CELL.match(c)) for c in col) >= len(col) / 2:
            return False
        if sum(len(c) < LABEL_CHARS for c in col) >= len(col) / 2:
            return False
    return sum(bool(_SENTENCE_PUNCT.search(c)) for c in cells) >= len(cells) / 3


# --- tables drawn as filled cells ----------------------------------------------------------
#
# Word processors export a table as one filled box per cell (often white, with padding boxes
# around the text) and draw no rules at all, or shade only the header row and the label
# column. The edges of those boxes are the column boundaries, exact where aligned text is not:
# a header cell set close to its neighbour reads as one line, and so does a row label with
# the first figure. A box over several columns (a group label) heads each of them.

# a caption of a figure (图 3, Figure 3), not of a table (表 3) or of either (图表 3)
_FIGURE_CAPTION_RE = re.compile(r"^\s*(图(?!表)|Figure|Chart|Exhibit)", re.I)
MIN_FILLED_CELLS = 3       # boxes holding text under a caption, for the caption to head a drawn grid


def _fuller(found: list[RawTable], cell_tables: list[RawTable]) -> list[RawTable]:
    """Tables read from filled cells beside those found by rules: where both read one table,
    the cell grid wins only when it holds more rows of figures (the rules split the table or
    stopped early) and no cell of it runs figures together."""
    out = list(found)
    for c in cell_tables:
        over = [t for t in out if _overlap(c.bbox, t.bbox)]
        if over and not (all(inside(t.bbox, c.bbox, pad=4) for t in over) and not _glued_cells(c.grid)
                         and _figure_rows(c.grid) > sum(_figure_rows(t.grid) for t in over)
                         and len(c.grid[0]) >= max(len(t.grid[0]) for t in over)):
            continue
        out = [t for t in out if not any(t is o for o in over)] + [c]
    return out


def _figure_rows(grid: list[list[str]]) -> int:
    return sum(1 for r in grid if sum(bool(_NUMERIC_CELL.match(c.strip())) for c in r) >= 2)


def _cell_fill_tables(page: pymupdf.Page, lines: list[Line], taken: list[BBox]) -> list[RawTable]:
    captions = [ln for ln in lines if CAPTION_RE.match(ln.text) and not _FIGURE_CAPTION_RE.match(ln.text)]
    if not captions:
        return []
    fills = [d["rect"] for d in _drawings(page) if _filled_box(d) and d["rect"].height >= 2 and d["rect"].width >= 2]
    if len(fills) < MIN_FILLED_CELLS:
        return []
    free = [ln for ln in lines if not any(inside(ln.bbox, t, pad=2) for t in taken)]
    out: list[RawTable] = []
    drawings = None
    for cap in captions:
        t = _cell_fill_table(page, cap, free, fills, taken + [t.bbox for t in out])
        if t is None:
            continue
        if drawings is None:
            drawings = _graphics(page, lines)
        if not any(_overlap(t.bbox, g) for g in drawings):
            out.append(t)
    return out


def _cell_fill_table(page: pymupdf.Page, cap: Line, lines: list[Line], fills: list[pymupdf.Rect],
                     taken: list[BBox]) -> RawTable | None:
    below = sorted((ln for ln in lines if ln.y0 >= cap.y1 - 1 and ln.x1 > cap.x0 - 2), key=lambda l: l.y0)
    end = next((ln.y0 for ln in below if SOURCE_RE.match(ln.text) or CAPTION_RE.match(ln.text)), None)
    bottom = end if end is not None else page.rect.height
    boxes = [r for r in fills if r.y0 >= cap.y1 - 1 and r.y1 <= bottom + 1 and r.x1 > cap.x0 - 2]
    inner = [ln for ln in below if ln.y1 <= bottom + 1]
    holding = [r for r in boxes if any(inside(ln.bbox, tuple(r), pad=1) for ln in inner)]
    if len(holding) < MIN_FILLED_CELLS:
        return None
    cells = _cell_boxes(boxes, holding)
    if not cells:
        return None
    x0, x1 = min(r.x0 for r in cells), max(r.x1 for r in cells)
    top = min(r.y0 for r in cells)
    # shading may stop at the header or the label column: the rows go on to the source line
    last = max(r.y1 for r in cells) if end is None else end
    body = [ln for ln in inner if x0 - 2 <= (ln.x0 + ln.x1) / 2 <= x1 + 2 and top - 1 <= ln.cy <= last]
    if not body or any(_overlap((x0, top, x1, last), t) for t in taken):
        return None
    chars = [cb for ln in body for ch, cb in ln.chars if ch.strip()]
    edges = sorted({round(v, 1) for r in boxes if x0 - 1 <= r.x0 and r.x1 <= x1 + 1 for v in (r.x0, r.x1)})
    # an edge that a character straddles, or that falls between two letters of one word, is
    # inside a cell (a box spanning columns ends there)
    joins = [(a[2], b[0]) for ln in body for a, b in _ink_pairs(ln) if b[0] - a[2] < WORD_GAP * max(ln.size, 4.0)]
    edges = [e for e in edges if not any(c[0] < e - 0.3 and c[2] > e + 0.3 for c in chars)
             and not any(a - 0.5 <= e <= b + 0.5 for a, b in joins)]
    bounds: list[float] = []
    for e in edges:
        if not bounds or e - bounds[-1] > 1.0:
            bounds.append(e)
    cols = [[a, b] for a, b in zip(bounds, bounds[1:]) if any(a <= (c[0] + c[2]) / 2 <= b for c in chars)]
    if len(cols) < 2:
        return None
    rows = _rows(body)
    row_segs = [[s for ln in r for s in _split_at(ln, bounds)] for r in rows]
    first_figures = next((i for i, segs in enumerate(row_segs)
                          if sum(bool(_NUMERIC_CELL.match(t)) for _, _, t in segs) >= 2), None)
    if first_figures is None or first_figures == 0 and len(rows) < _MIN_ROWS:
        return None
    header_bottom = min(ln.y0 for ln in rows[first_figures]) if first_figures else None
    grid, _ = _fill_grid(rows, row_segs, cols, header_bottom)
    if header_bottom is not None and grid:
        _group_labels_over(grid[0], rows[:first_figures], cols, holding)
    bbox = (x0, top, x1, max(ln.y1 for ln in body))
    t = _finish(RawTable(page.number + 1, bbox, grid, [c[0] for c in cols] + [cols[-1][1]], "cell_fill",
                         consumed={id(ln) for ln in body}, col_spans=[(a, b) for a, b in cols]))
    return t if len(t.grid) >= 2 and len(t.grid[0]) >= 2 else None


WORD_GAP = 0.15            # letters of one word stand closer than this share of the font size


def _ink_pairs(ln: Line) -> list[tuple[BBox, BBox]]:
    """Neighbouring printed characters of a line (spaces skipped)."""
    ink = [cb for ch, cb in ln.chars if ch.strip()]
    return list(zip(ink, ink[1:]))


def _split_at(ln: Line, bounds: list[float]) -> list[tuple[float, float, str]]:
    """A line's text cut where it crosses a column boundary (a cell edge)."""
    pieces: list[list[tuple[str, BBox]]] = [[]]
    side = None
    for ch, cb in ln.chars:
        mid = (cb[0] + cb[2]) / 2
        k = sum(1 for b in bounds if b <= mid)
        if ch.strip() and side is not None and k != side:
            pieces.append([])
        if ch.strip():
            side = k
        pieces[-1].append((ch, cb))
    return [s for s in (_segment(p) for p in pieces if any(ch.strip() for ch, _ in p)) if s[2]]


def _group_labels_over(header: list[str], head_rows: list[list[Line]], cols: list[list[float]],
                       holding: list[pymupdf.Rect]) -> None:
    """Put a header label whose cell box spans several columns at the head of each of them
    (its text went to the first column only)."""
    mids = [(a + b) / 2 for a, b in cols]
    for ln in (ln for r in head_rows for ln in r):
        box = min((r for r in holding if inside(ln.bbox, tuple(r), pad=1)), key=lambda r: r.width, default=None)
        if box is None:
            continue
        under = [k for k, m in enumerate(mids) if box.x0 <= m <= box.x1]
        if len(under) < 2:
            continue
        label = ln.text.strip()
        for k in under:
            if label not in header[k]:
                header[k] = join_lines([label, header[k]]) if header[k] else label


def _rows(lines: list[Line]) -> list[list[Line]]:
    rows: list[list[Line]] = []
    for ln in sorted(lines, key=lambda l: l.cy):
        if rows and abs(rows[-1][0].cy - ln.cy) < max(ln.height, 4) * 0.5:
            rows[-1].append(ln)
        else:
            rows.append([ln])
    return [sorted(r, key=lambda l: l.x0) for r in rows]


def _columns(row_segs: list[list[tuple[float, float, str]]], min_gap: float) -> list[list[float]]:
    """x-intervals that the segments of all rows occupy, merged where closer than min_gap."""
    cols: list[list[float]] = []
    for x0, x1 in sorted((s[0], s[1]) for segs in row_segs for s in segs):
        if cols and x0 <= cols[-1][1] + min_gap:
            cols[-1][1] = max(cols[-1][1], x1)
        else:
            cols.append([x0, x1])
    return cols


def _aligned_rows_below(cap: Line, rows: list[list[Line]]) -> list[list[Line]] | None:
    """The rows under a caption that keep >= 2 consistent columns, or None."""
    start = next((i for i, r in enumerate(rows) if r[0].cy > cap.y1 and r[0].y0 >= cap.y1 - 1), None)
    if start is None:
        return None
    size = max(cap.size, 4.0)
    body: list[list[Line]] = []
    segs_so_far: list[list[tuple[float, float, str]]] = []
    n_cols = 0
    prev_y1 = cap.y1
    pitches: list[float] = []
    for r in rows[start:]:
        texts = [ln.text for ln in r]
        if any(CAPTION_RE.match(t) or SOURCE_RE.match(t) or _LEADER_RE.search(t) for t in texts):
            break
        top = min(ln.y0 for ln in r)
        height = max(ln.height for ln in r)
        gap = top - prev_y1
        # a paragraph break: much more space than the rows so far (or than a line) leave
        limit = max(1.2 * height, 2.0 * max(pitches)) if pitches else 2.5 * height
        if gap > limit:
            break
        segs = [s for ln in r for s in _segments(ln)]
        if not segs:
            break
        cols = _columns(segs_so_far + [segs], min_gap=size * 0.8)
        if body and (len(cols) < n_cols or len(cols) < 2):
            break  # this line runs across the columns found so far: prose, not a row
        if not body and len(segs) < 2:
            return None  # the first row under the caption must already be split into cells
        if body:
            pitches.append(max(gap, 0.0))
        body.append(r)
        segs_so_far.append(segs)
        n_cols = len(cols)
        prev_y1 = max(ln.y1 for ln in r)
    if sum(1 for segs in segs_so_far if len(segs) >= 2) < _MIN_ROWS or n_cols < 2:
        return None
    # the caption must sit over the table, not beside it in another column
    x0 = min(ln.x0 for r in body for ln in r)
    x1 = max(ln.x1 for r in body for ln in r)
    if cap.x1 < x0 or cap.x0 > x1:
        return None
    return body


def _graphics(page: pymupdf.Page, lines: list[Line]) -> list[BBox]:
    """Boxes of images and of vector graphics other than rules, row shading and cell fills."""
    boxes = [tuple(i["bbox"]) for i in page.get_image_info()]
    drawings = _drawings(page)
    fills = [d["rect"] for d in drawings if _filled_box(d)]
    cells = _cell_boxes(fills, [r for r in fills if any(inside(ln.bbox, tuple(r), pad=1) for ln in lines)])
    for d in drawings:
        r = d["rect"]
        if r.height < 2 or (r.width > page.rect.width * 0.3 and _filled_box(d)):
            continue  # a horizontal rule, or a wide shaded band behind a row
        if _filled_box(d) and any(r is c for c in cells):
            continue  # the background of a table cell, or of an empty cell or padding beside one
        boxes.append((r.x0, r.y0, r.x1, r.y1))
    return boxes


def _cell_boxes(fills: list[pymupdf.Rect], holding: list[pymupdf.Rect]) -> list[pymupdf.Rect]:
    """The filled boxes of a table's cell backgrounds, with its empty cells and padding: groups
    of touching boxes that hold text and set two boxes of one height side by side (a row of
    cells). Bars of a chart stand apart, or are stacked, or differ in height."""
    groups: list[list[pymupdf.Rect]] = []
    for r in fills:
        joined = [g for g in groups if any(_touch(r, o) for o in g)]
        merged = [r] + [o for g in joined for o in g]
        groups = [g for g in groups if not any(g is j for j in joined)] + [merged]
    return [r for g in groups if any(any(r is h for h in holding) for r in g) and _side_by_side(g) for r in g]


def _side_by_side(boxes: list[pymupdf.Rect], tol: float = 1.0) -> bool:
    return any(abs(a.y0 - b.y0) <= tol and abs(a.y1 - b.y1) <= tol and abs(a.x1 - b.x0) <= tol
               for a in boxes for b in boxes if a is not b)


def _touch(a: pymupdf.Rect, b: pymupdf.Rect, tol: float = 1.0) -> bool:
    return a.x0 <= b.x1 + tol and b.x0 <= a.x1 + tol and a.y0 <= b.y1 + tol and b.y0 <= a.y1 + tol


def _drawings(page: pymupdf.Page) -> list[dict]:
    """The page's vector drawings, read once per page (three table readers look at them, and
    reading them is the slow part on chart-heavy pages)."""
    cached = getattr(page, "_yanbao_drawings", None)
    if cached is None:
        cached = page.get_drawings()
        page._yanbao_drawings = cached
    return cached


def _filled_box(d: dict) -> bool:
    return d.get("fill") is not None and all(it[0] == "re" for it in d["items"])


def _overlap(a: BBox, b: BBox) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


# --- caption, unit, header, continuation ---------------------------------------------------

def unit_hint(*texts: str) -> str:
    for text in texts:
        m = UNIT_RE.search(text or "")
        if m:
            return (m.group(1) or m.group(2)).strip()
    return ""


def split_header(grid: list[list[str]]) -> tuple[list[list[str]], list[list[str]]]:
    """Header rows and data rows. The first row is the header; a second row joins it when
    the first has empty cells over it (a two-level header) and it holds no numbers."""
    if len(grid) < 2:
        return grid[:1], grid[1:]
    n_head = 1
    first, second = grid[0], grid[1]
    if (len(grid) > 3 and any(not c for c in first) and
            not any(re.search(r"\d", c) for c in second[1:]) and all(c for c in second[1:])):
        n_head = 2
    return grid[:n_head], grid[n_head:]


def same_columns(a: RawTable, b: RawTable, tol: float = 4.0) -> bool:
    if len(a.grid[0]) != len(b.grid[0]) if a.grid and b.grid else True:
        return False
    ea, eb = a.col_edges, b.col_edges
    return len(ea) == len(eb) and all(abs(x - y) <= tol for x, y in zip(ea, eb))


def row_key(row: list[str]) -> str:
    return re.sub(r"\s+", "", "|".join(row))


def bbox_of(tables: list[RawTable]) -> BBox:
    return bbox_union(t.bbox for t in tables)

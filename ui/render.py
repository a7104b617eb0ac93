"""Page previews for citations: render a PDF page to PNG with the quoted text highlighted.

A citation is only as good as the reader's ability to check it, so the preview shows the
cited page itself, with a semi-transparent box over the supporting text:

* ``bbox`` (the evidence region, PDF points) is drawn as a light box, and the quote is looked
  for inside it and drawn as a stronger box;
* with no ``bbox`` the quote is located on the page by its characters.

Locating a quote with ``page.search_for`` alone is not enough for Chinese reports: the PDF
breaks lines where the quote has none (``search_for`` then needs a space the quote lacks),
table quotes join cells with `` | `` and the parser normalises width and spacing. So the
quote and the page are compared character by character with whitespace removed and NFKC
applied; when the whole quote is not found its pieces (cells, clauses, then short windows)
are. ``search_for`` remains the first try, since it is exact when it works.

The PDF is opened read-only and the highlight is drawn on the in-memory page only: the
library's copy is never modified.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf

FILL = (1.0, 0.78, 0.0)          # amber: the quote
STROKE = (0.86, 0.45, 0.0)
REGION_FILL = (0.25, 0.5, 0.95)  # blue, faint: the evidence region (bbox)
ZOOM = 2.0                       # 144 dpi: crisp at laptop widths, ~1200 px wide for A4
FOCUS_MARGIN = 36.0              # points of context above/below the quote in the close-up

_SPLIT = re.compile(r"\s*\|\s*|[\t\n\r]+|(?<=[。；;！？!?])")
_SPACE = re.compile(r"\s+")


class PreviewError(ValueError):
    """The page cannot be rendered (missing file, not a PDF, page out of range)."""


@dataclass
class PagePreview:
    page: int                               # 1-based
    png: bytes                              # the whole page, highlights drawn
    width: int
    height: int
    highlights: list[tuple[float, float, float, float]] = field(default_factory=list)  # quote boxes, points
    region: tuple[float, float, float, float] | None = None                             # bbox drawn, points
    focus_png: bytes | None = None          # close-up of the highlighted lines (None: nothing located)

    @property
    def located(self) -> bool:
        """Whether the quote (or the evidence region) is marked on this page."""
        return bool(self.highlights) or self.region is not None


# -- locating a quote ---------------------------------------------------------------------------

def _norm_char(c: str) -> str:
    n = unicodedata.normalize("NFKC", c)
    return (n if len(n) == 1 else c).lower()


def _normalise(text: str) -> str:
    return "".join(_norm_char(c) for c in _SPACE.sub("", text))


@dataclass
class _PageChars:
    """The page's characters without whitespace, each with its box and line."""

    text: str
    rects: list[pymupdf.Rect]
    lines: list[int]

    @classmethod
    def of(cls, page: pymupdf.Page) -> "_PageChars":
        chars: list[str] = []
        rects: list[pymupdf.Rect] = []
        lines: list[int] = []
        line_no = 0
        raw = page.get_text("rawdict", flags=pymupdf.TEXT_PRESERVE_LIGATURES | pymupdf.TEXT_PRESERVE_WHITESPACE)
        for block in raw.get("blocks", []):
            for line in block.get("lines", []):
                line_no += 1
                for span in line.get("spans", []):
                    for ch in span.get("chars", []):
                        c = ch.get("c", "")
                        if not c or c.isspace():
                            continue
                        chars.append(_norm_char(c))
                        rects.append(pymupdf.Rect(ch["bbox"]))
                        lines.append(line_no)
        return cls("".join(chars), rects, lines)

    def find_all(self, needle: str, clip: pymupdf.Rect | None = None) -> list[list[int]]:
        """Index lists of every occurrence of ``needle`` (inside ``clip`` when given)."""
        out = []
        start = self.text.find(needle)
        while start >= 0 and needle:
            idx = list(range(start, start + len(needle)))
            if clip is None or all(_centre_in(self.rects[i], clip) for i in idx):
                out.append(idx)
            start = self.text.find(needle, start + 1)
        return out

    def boxes(self, idx: Iterable[int]) -> list[pymupdf.Rect]:
        """One box per line covered by the characters ``idx``."""
        per_line: dict[int, pymupdf.Rect] = {}
        for i in idx:
            r = self.rects[i]
            line = self.lines[i]
            per_line[line] = per_line[line] | r if line in per_line else pymupdf.Rect(r)
        return list(per_line.values())


def _centre_in(r: pymupdf.Rect, clip: pymupdf.Rect) -> bool:
    return clip.contains(pymupdf.Point((r.x0 + r.x1) / 2, (r.y0 + r.y1) / 2))


def _pieces(quote: str) -> list[str]:
    """Cells / clauses of a quote, normalised, the longest first."""
    parts = {_normalise(p) for p in _SPLIT.split(quote)}
    return sorted((p for p in parts if len(p) >= 2), key=len, reverse=True)


def _windows(piece: str, size: int = 8) -> list[str]:
    return [piece[i:i + size] for i in range(0, max(len(piece) - size, 0) + 1, size)] + (
        [piece[-size:]] if len(piece) % size else [])


def find_quote(page: pymupdf.Page, quote: str, clip: Sequence[float] | None = None) -> list[pymupdf.Rect]:
    """Boxes (one per line, PDF points) covering ``quote`` on ``page``; [] if it is not there.

    ``clip`` limits the search to a region (the citation's bbox)."""
    quote = (quote or "").strip()
    if not quote:
        return []
    area = pymupdf.Rect(clip) + (-2, -2, 2, 2) if clip else None

    hits = page.search_for(quote, clip=area) if "|" not in quote and "\n" not in quote else []
    if hits:
        return _dedupe(hits)

    chars = _PageChars.of(page)
    whole = _normalise(quote)
    found = chars.find_all(whole, area)
    if found:
        return _dedupe(b for idx in found for b in chars.boxes(idx))

    # Pieces: long ones are reliable anywhere; short ones (a number, a 2-character cell) only
    # near what the long ones found, else they would light up every "2026" on the page.
    strong: list[pymupdf.Rect] = []
    weak: list[pymupdf.Rect] = []
    for piece in _pieces(quote):
        occurrences = chars.find_all(piece, area)
        if not occurrences and len(piece) > 12:
            occurrences = [idx for w in _windows(piece) for idx in chars.find_all(w, area)]
        boxes = [b for idx in occurrences for b in chars.boxes(idx)]
        (strong if len(piece) >= 4 or area is not None else weak).extend(boxes)
    if strong:
        band_top = min(r.y0 for r in strong) - 24
        band_bottom = max(r.y1 for r in strong) + 24
        strong += [r for r in weak if r.y0 >= band_top and r.y1 <= band_bottom]
        return _dedupe(strong)
    return _dedupe(weak) if 0 < len(weak) <= 3 else []


def _dedupe(rects: Iterable[pymupdf.Rect]) -> list[pymupdf.Rect]:
    out: list[pymupdf.Rect] = []
    for r in rects:
        r = pymupdf.Rect(r)
        if r.is_empty:
            continue
        if any(abs(r.x0 - o.x0) < 0.5 and abs(r.y0 - o.y0) < 0.5 and abs(r.x1 - o.x1) < 0.5
               and abs(r.y1 - o.y1) < 0.5 for o in out):
            continue
        if any(o.contains(r) for o in out):
            continue
        out.append(r)
    return out


# -- rendering ------------------------------------------------------------------------------------

def _open(pdf_path: str | Path) -> pymupdf.Document:
    path = Path(pdf_path)
    if not path.is_file():
        raise PreviewError(f"PDF not found: {path}")
    try:
        doc = pymupdf.open(path)
    except Exception as exc:  # pymupdf raises several types for broken files
        raise PreviewError(f"cannot open {path.name}: {exc}") from exc
    if doc.needs_pass:
        doc.close()
        raise PreviewError(f"{path.name} is encrypted")
    return doc


def _render(doc: pymupdf.Document, number: int, quote: str | None, bbox, zoom: float,
            focus: bool = True) -> PagePreview:
    if not 1 <= number <= doc.page_count:
        raise PreviewError(f"page {number} is out of range: the PDF has {doc.page_count} pages")
    page = doc[number - 1]
    region = None
    if bbox:
        region = pymupdf.Rect(bbox) & page.rect
        if region.is_empty:
            region = None
    highlights = find_quote(page, quote or "", clip=region) if quote else []
    if not highlights and region is not None and quote:
        # the quote may extend beyond a tight bbox: look on the whole page, but only keep
        # hits overlapping the region
        highlights = [r for r in find_quote(page, quote) if r.intersects(region + (-12, -12, 12, 12))]

    if region is not None:
        page.draw_rect(region + (-3, -3, 3, 3), color=REGION_FILL, fill=REGION_FILL, width=1.0,
                       fill_opacity=0.08, stroke_opacity=0.55, overlay=True)
    for r in highlights:
        page.draw_rect(r + (-1.5, -1.5, 1.5, 1.5), color=STROKE, fill=FILL, width=0.8,
                       fill_opacity=0.35, stroke_opacity=0.9, overlay=True)

    matrix = pymupdf.Matrix(zoom, zoom)
    pix = page.get_pixmap(matrix=matrix, alpha=False)
    focus_png = None
    marked = highlights or ([region] if region is not None else [])
    if focus and marked:
        top = min(r.y0 for r in marked) - FOCUS_MARGIN
        bottom = max(r.y1 for r in marked) + FOCUS_MARGIN
        left, right = _text_extent(page, top, bottom, marked)
        clip = pymupdf.Rect(left, max(page.rect.y0, top), right, min(page.rect.y1, bottom))
        if clip.height < page.rect.height * 0.8:  # a close-up of nearly the whole page is pointless
            focus_png = page.get_pixmap(matrix=pymupdf.Matrix(zoom * 1.25, zoom * 1.25), clip=clip,
                                        alpha=False).tobytes("png")
    return PagePreview(page=number, png=pix.tobytes("png"), width=pix.width, height=pix.height,
                       highlights=[tuple(r) for r in highlights],
                       region=tuple(region) if region is not None else None, focus_png=focus_png)


def _text_extent(page: pymupdf.Page, top: float, bottom: float,
                 marked: list[pymupdf.Rect]) -> tuple[float, float]:
    """Left/right edges of the text around the highlight (plus a small margin): the close-up
    drops the page margins, so the quote is shown larger."""
    x0 = min(r.x0 for r in marked)
    x1 = max(r.x1 for r in marked)
    for b in page.get_text("blocks"):
        if b[1] < bottom and b[3] > top and b[6] == 0:   # text blocks in the band
            x0, x1 = min(x0, b[0]), max(x1, b[2])
    return max(page.rect.x0, x0 - 10), min(page.rect.x1, x1 + 10)


def render_page(pdf_path: str | Path, page: int, quote: str | None = None,
                bbox: Sequence[float] | None = None, zoom: float = ZOOM) -> PagePreview:
    """Render page ``page`` (1-based) of ``pdf_path`` with ``bbox`` and ``quote`` highlighted."""
    with _open(pdf_path) as doc:
        return _render(doc, page, quote, bbox, zoom)


def render_citation(pdf_path: str | Path, page: int, quote: str | None = None,
                    bbox: Sequence[float] | None = None, pages: Sequence[int] | None = None,
                    zoom: float = ZOOM) -> list[PagePreview]:
    """Previews of every page a citation spans, in page order.

    The cited ``page`` is always shown (``bbox`` belongs to it). The other ``pages`` (a chunk
    or table continued across pages) are shown where the quote is found on them; with no
    ``pages`` given, a quote not found on ``page`` is looked for on the next page, where a
    sentence or table row broken by a page break ends."""
    with _open(pdf_path) as doc:
        main = _render(doc, page, quote, bbox, zoom)
        others = sorted({p for p in (pages or []) if p != page and 1 <= p <= doc.page_count})
        if not others and not main.highlights and page < doc.page_count:
            others = [page + 1]
        previews = [main]
        if quote:
            for p in others:
                extra = _render(doc, p, quote, None, zoom)
                if extra.highlights:
                    previews.append(extra)
        return sorted(previews, key=lambda pv: pv.page)

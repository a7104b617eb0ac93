"""What is not report content: running headers/footers, page numbers, TOC pages and the
disclaimer / analyst-statement / rating-definition / office-address sections.

Recognised by position plus repetition across pages (running lines) and by the section
titles Chinese brokers use (disclaimers); the blocks stay in the Document, marked, so the
record is complete but retrieval never sees them.
"""
from __future__ import annotations

import re
from collections import Counter

from .layout import Line

MARGIN = 0.09  # top/bottom share of the page where running lines live

BOILERPLATE_TITLES = re.compile(
    r"^(免责声明|免责条款|重要声明|一般声明|特别声明|法律声明|版权声明|分析师声明|分析师承诺|研究团队简介|"
    r"分析师介绍|分析师简介|作者简介|(股票|行业|公司)?投资评级(说明|标准|定义)?|评级说明|评级标准|"
    r"信息披露|重要提示|法律声明与风险提示|Disclaimer|Analyst Certification|Important Disclosures)[:：]?$",
    re.I,
)
ADDRESS_RE = re.compile(r"(邮编|邮政编码|地址|Postcode|传真|总机)\s*[:：]")
TOC_TITLE_RE = re.compile(r"^(内容目录|图表目录|目录|表格目录|插图目录|Contents)$")
TOC_ENTRY_RE = re.compile(r"(\.{3,}|…{2,}|·{3,})\s*\d*\s*$")


def _norm(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def running_line_keys(pages: list[tuple[float, list[Line]]]) -> set[str]:
    """Normalised texts of lines that repeat in the page margins on most pages."""
    if len(pages) < 2:
        return set()
    counts: Counter[str] = Counter()
    for height, lines in pages:
        keys = {_norm(ln.text) for ln in lines if in_margin(ln, height)}
        counts.update(keys)
    need = max(2, int(len(pages) * 0.5))
    return {k for k, n in counts.items() if n >= need}


def in_margin(ln: Line, page_height: float) -> bool:
    return ln.y1 <= page_height * MARGIN or ln.y0 >= page_height * (1 - MARGIN)


# a download portal's per-copy tracking string: a long run of letters and digits, no word in it,
# printed tiny in the margin ("oPpMoMqOoNxOmOxPsRoMoO8OdNbRoMrRo…")
_TRACKING = re.compile(r"[A-Za-z0-9+/=]{24,}")
TINY_TEXT = 5.0            # points: no reader's text is set this small


def is_tracking_string(ln: Line, page_height: float) -> bool:
    text = ln.text.strip()
    mixed = re.search(r"[a-z]", text) and re.search(r"[A-Z]", text)
    return bool(_TRACKING.fullmatch(text) and mixed and (ln.size < TINY_TEXT or in_margin(ln, page_height)))


def is_running(ln: Line, page_height: float, keys: set[str]) -> bool:
    key = _norm(ln.text)
    if is_tracking_string(ln, page_height):
        return True
    if not in_margin(ln, page_height):
        # a long running line ("请务必阅读正文之后的免责声明…") stranded mid-page by a layout quirk
        return key in keys and len(key) >= 8
    return key in keys or re.fullmatch(r"[-—–\s]*(第)?\s*#\s*(页|/\s*#)?[-—–\s]*", key) is not None


# "12", "- 12 -", "第 12 页", "12/40", "Page 12", "P12": a page number alone on a running line
_PAGE_NUMBER = re.compile(r"^[-—–\s]*(?:第|Page|P\.?)?\s*(\d{1,4})\s*(?:页)?\s*(?:/\s*\d{1,4}|of\s+\d{1,4})?[-—–\s]*$", re.I)


def printed_page_number(running) -> str:
    """The page number a page prints in its header or footer (``running``: blocks or lines with
    ``text``), or "" — citations use the physical page; a reader may want the printed one too."""
    found = [m.group(1) for b in running for m in [_PAGE_NUMBER.match(b.text.strip())] if m]
    return found[-1] if found else ""


def is_boilerplate_title(text: str) -> bool:
    return bool(BOILERPLATE_TITLES.match(re.sub(r"\s+", "", text)))


def is_address_page(lines: list[Line]) -> bool:
    return sum(1 for ln in lines if ADDRESS_RE.search(ln.text)) >= 2


_SENTENCE_END = re.compile(r"[。；！？]|[!?;]\s*$")


def toc_lines(lines: list[Line], page_width: float) -> list[Line]:
    """The lines of a table of contents on this page: every line of a contents page; on a page
    that also prints body text (the contents run on into the first chapter), the title and the
    entries under it, up to the first line of prose (entries are titles: they hold no sentence
    end, though some run long and PyMuPDF may join two into one line) or a heading set larger
    than every entry."""
    if _toc_entries(lines, page_width):       # a page of entries with leader dots or page numbers
        return list(lines)
    ordered = sorted(lines, key=lambda ln: (ln.y0, ln.x0))
    title = next((i for i, ln in enumerate(ordered) if _is_toc_title(ln)), None)
    if title is None:
        return []
    toc, largest = [ordered[title]], 0.0
    for ln in ordered[title + 1:]:
        if _is_toc_title(ln):    # the next list (图表目录 after 目录)
            toc.append(ln)
            continue
        entry = bool(TOC_ENTRY_RE.search(ln.text)) or not _SENTENCE_END.search(ln.text)
        if not entry or len(toc) >= 3 and ln.size > largest + 1:
            break
        toc.append(ln)
        largest = max(largest, ln.size)
    return toc


def _is_toc_title(ln: Line) -> bool:
    return TOC_TITLE_RE.match(re.sub(r"\s+", "", ln.text)) is not None


def is_toc_page(lines: list[Line], page_width: float) -> bool:
    return any(_is_toc_title(ln) for ln in lines) or _toc_entries(lines, page_width)


def _toc_entries(lines: list[Line], page_width: float) -> bool:
    """Many lines ending in leader dots, or many page numbers alone at the right edge, each
    on the line of an entry's title (a chart's axis ticks stand alone at the edge too)."""
    right = [ln for ln in lines if re.fullmatch(r"\d{1,3}", ln.text.strip()) and ln.x0 > page_width * 0.8
             and any(o is not ln and o.x1 <= ln.x0 and abs(o.cy - ln.cy) < max(ln.height, 4) * 0.5
                     and re.search(r"[^\W\d_]{2}", o.text) for o in lines)]
    dotted = [ln for ln in lines if TOC_ENTRY_RE.search(ln.text)]
    return len(right) >= 8 or len(dotted) >= 5

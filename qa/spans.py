"""Answers that are not figures: a date asked with "哪天 / when / what year", or a table cell
asked with "哪些 / which / 什么类型". Read off the chosen evidence, never written: the span is
printed there, and whatever digits it holds pass the NumberCheck like any figure.
"""
from __future__ import annotations

import re

from index.query import ParsedQuery, glossary_synonyms
from index.text import normalize_text, tokenize

from .evidence import Unit, required_terms

# the granularity a date question asks for
_ASKS_DAY = re.compile(r"哪天|哪一天|哪日|几号|哪个日期|什么日期|具体日期|what date|which date|what day|which day|"
                       r"on what date|exact date", re.I)
_ASKS_MONTH = re.compile(r"哪个月|哪一个月|几月份?|(?:what|which) month(?![-\w])", re.I)
_ASKS_YEAR = re.compile(r"哪年|哪一年|几几年|(?:what|which) year(?![-\w])", re.I)    # not "what year-over-year growth"
# "When did…" asks a date; "When X raised prices, what was…" is a clause, not the question
_ASKS_WHEN = re.compile(r"何时|什么时候|什么时间|哪个时间|\bwhen (?:did|does|do|was|were|is|are|will|has|have|had|"
                        r"would|could|should)\b|\buntil when\b", re.I)

_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
           "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
# most specific first: a day is also a month and a year
_DATES = (
    ("day", re.compile(r"(?<!\d)\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*[日号]")),
    ("day", re.compile(r"(?<![\d.])\d{4}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*\d{1,2}(?![\d.])")),
    ("day", re.compile(rf"\b(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b", re.I)),
    ("day", re.compile(rf"\b\d{{1,2}}\s+(?:{_MONTHS})\.?,?\s+\d{{4}}\b", re.I)),
    ("day", re.compile(r"(?<![\d年])\d{1,2}\s*月\s*\d{1,2}\s*[日号]")),
    ("month", re.compile(r"(?<!\d)\d{4}\s*年\s*\d{1,2}\s*月(?!\s*\d)")),
    ("month", re.compile(rf"\b(?:{_MONTHS})\.?\s+\d{{4}}\b", re.I)),
    ("year", re.compile(r"(?<![\d.])(?:19|20)\d{2}\s*年(?![\d度]|\s*\d)")),
)
_RANK = {"day": 3, "month": 2, "year": 1}


def asked_date(question: str) -> str:
    """"day", "month", "year" or "any" (何时 / when) for a question asking for a date; else ""."""
    for kind, rx in (("day", _ASKS_DAY), ("month", _ASKS_MONTH), ("year", _ASKS_YEAR), ("any", _ASKS_WHEN)):
        if rx.search(question):
            return kind
    return ""


def dates_in(text: str) -> list[tuple[int, int, str]]:
    """(start, end, granularity) of each date printed in ``text``, the most specific reading of
    each place (a day is not also listed as its month or year)."""
    found: list[tuple[int, int, str]] = []
    for kind, rx in _DATES:
        for m in rx.finditer(text):
            if not any(s < m.end() and m.start() < e for s, e, _ in found):
                found.append((m.start(), m.end(), kind))
    return sorted(found)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", normalize_text(text)).lower()


def _question_words(q: ParsedQuery) -> set[str]:
    """The question's words, with every form the glossary gives them (公布: 宣布, announce)."""
    words = {t.lower() for t in tokenize(q.matching_text) if len(t) > 1 and not re.search(r"\d", t)}
    return words | {_squash(f) for f in glossary_synonyms(q.text)}


def date_answer(q: ParsedQuery, text: str, least: float = 0.0) -> str:
    """The date the question asks for in a sentence: of the asked granularity (a day for
    "哪天", any date for "when"), not one the question itself prints, and of several the one
    whose surroundings share most words with the question (at least ``least`` of them, names
    of the question's companies not counted)."""
    want = asked_date(q.text)
    if not want:
        return ""
    asked = _squash(q.text)
    names = {t.lower() for e in q.entities for a in (e.alias, e.name) for t in tokenize(a)}
    names |= {t.lower() for forms in required_terms(q) for f in forms for t in tokenize(f)}
    words = _question_words(q) - names
    best, best_score = "", least - 0.01
    for start, end, kind in dates_in(text):
        span = text[start:end].strip()
        if _squash(span) in asked:
            continue                    # a date the question gives as context is not the answer
        if want != "any" and _RANK[kind] < _RANK[want]:
            continue
        if want == "year" and kind != "year":
            span = re.search(r"(?:19|20)\d{2}", span).group(0) + ("年" if "年" in span else "")
        around = _squash(text[max(0, start - 24): end + 24])
        score = sum(1 for w in words if w in around) + (0.5 if want == "any" and kind == "day" else 0)
        if score > best_score:
            best, best_score = span, score
    return best


_SPLIT = re.compile(r"[\s/|、,，;；:：()（）]+")


def _row_named(q: ParsedQuery, cells: list[tuple[str, str]]) -> bool:
    """The question names this row: half the words of one of its cells are in the question (or
    its glossary forms: "compute leasing" names 算力租赁)."""
    asked = _squash(q.text + " " + q.matching_text + " " + " ".join(glossary_synonyms(q.text)))
    for _, cell in cells:
        words = [w for w in tokenize(normalize_text(cell).lower()) if len(w) >= 2 and not re.search(r"\d", w)]
        if words and sum(1 for w in words if w in asked) * 2 >= len(words):
            return True
    return False


def _names_cell(question: str, cell: str) -> bool:
    """The question prints this cell's content (most of its words): it picks the row, it is
    not what is asked."""
    parts = [p for p in _SPLIT.split(normalize_text(cell).lower()) if len(p) >= 2]
    if not parts:
        return False
    text = _squash(question)
    return sum(1 for p in parts if p.replace(" ", "") in text) * 2 >= len(parts)


def header_words(head: str) -> set[str]:
    """The words of a column header a question may name it by: its parts and their words,
    its unit (in brackets) and any figure left out ("当前/规划容量 (MW)": 当前, 规划容量, 容量)."""
    core = re.sub(r"[(（][^)）]*[)）]", " ", normalize_text(head)).lower()
    words = {w for w in _SPLIT.split(core) if len(w) >= 2 and not re.search(r"\d", w)}
    return words | {w for w in tokenize(core) if len(w) >= 2 and not re.search(r"\d", w)}


def _header_named_at(text: str, head: str) -> int:
    """Where the question last names a word of this column header (-1: nowhere)."""
    low = normalize_text(text).lower()
    return max((low.rfind(w) for w in header_words(head)), default=-1)


def cell_answer(q: ParsedQuery, unit: Unit) -> str:
    """The cell of a table row the question asks for: of the cells whose content the question
    does not itself print, the one under the column it names last ("…Nebius 哪年…" under
    "Nebius"; "…什么类型" under "云厂商类型"), or the only one left. A date question reads
    only cells holding a date."""
    cells = [(h, c.strip()) for h, c in unit.cells if c.strip()]
    if len(cells) < 2:
        return ""
    if not _row_named(q, cells):
        return ""                       # a row of the right table, but not the one asked about
    open_cells = [(h, c) for h, c in cells if not _names_cell(q.text, c)]
    if asked_date(q.text):
        open_cells = [(h, c) for h, c in open_cells if dates_in(c)]
    if not open_cells:
        return ""
    for text in (q.text, q.matching_text if q.lang != "zh" else ""):
        if not text:
            continue
        named = [(at, c) for h, c in open_cells for at in [_header_named_at(text, h)] if at >= 0]
        if named:
            return max(named, key=lambda x: x[0])[1]
    return open_cells[0][1] if len(open_cells) == 1 else ""


def asked_span(q: ParsedQuery, unit: Unit, leading: bool = True) -> str:
    """The date or cell a question asking what / which / when reads off this evidence; "" if
    none is clear (the evidence itself is then offered, not an answer). A date needs a word of
    the question beside it ("截至 2031 年末" is no founding year), two in evidence other than
    the leading one."""
    if unit.cells:
        return cell_answer(q, unit)
    return date_answer(q, unit.text, least=1.0 if leading else 2.0)


# --- a revision: "由 A 上调至 B", "被上调 X，至 B" ----------------------------------------------

_REVISE = r"(?:上调|上修|下调|下修|调升|调降|调整|提高|提升|扩张|增长|增加|下降|减少|收窄|降低|升|降)"
_ASKS_FROM_TO = re.compile(r"(?:从|由)多少.{0,12}?(?:到|至|为)了?多少|before and after|"
                           r"from (?:what|how much)\b.{0,60}?\bto (?:what|how much)\b|"
                           r"\bhow did\b.{0,80}?\bchange\b|如何变化|怎样变化|怎么变化|变化情况", re.I)
_ASKS_TO = re.compile(_REVISE + r"[^，,。？?]{0,6}?(?:至|到)(?:了)?\s*(?:什么|多少|哪)|"
                      r"\b(?:raised?|lifted|lift|cut|lowered|increased?|revised?|reduced?|expanded?|narrowed?)\b"
                      r"[^,?]{0,40}?\bto (?:what|how much|which)\b|\bto what (?:range|level|figure)\b", re.I)
_REVISED_TO = re.compile(_REVISE + r"[^，,。；;！!？?]{0,16}?(?:[，,]\s*)?(?:至|到)\s*|"
                         r"\b(?:raised|lifted|cut|lowered|increased|revised|reduced)\b[^.;]{0,40}?\bto\s+", re.I)
_FROM = re.compile(r"(?:从|由)|\bfrom\b", re.I)


def _first_figure(text: str, start: int) -> str:
    from ingest.numbers import extract_quantities
    for qty in extract_quantities(text[start:]):
        if qty.kind == "figure":
            return qty.raw.strip()
    return ""


def revision_answer(question: str, text: str) -> str:
    """A revision the question asks about, read off the sentence: the new figure for "上调至多少
    / to what range", "A → B" for "从多少上调到了多少 / before and after"; "" when the question
    asks neither or the sentence prints no revision."""
    to_q, from_to_q = _ASKS_TO.search(question), _ASKS_FROM_TO.search(question)
    if not (to_q or from_to_q):
        return ""
    m = _REVISED_TO.search(text)
    if not m:
        return ""
    new = _first_figure(text, m.end())
    if not new:
        return ""
    if not from_to_q:
        return new
    start = max((f.end() for f in _FROM.finditer(text, 0, m.start())), default=-1)
    old = _first_figure(text[: m.start()], start) if start >= 0 else ""
    return f"{old} → {new}" if old else ""

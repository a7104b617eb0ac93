"""Computed answers ("高出多少", "相差几个百分点", "上调了多少"): a difference of two figures
that are both printed in one piece of evidence. The inputs are quoted, the result is
derived, and the NumberCheck verifies the inputs instead of the result.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from index.text import normalize_text, tokenize
from ingest import numbers as num

DIFF_RE = re.compile(
    r"(高出|多出|多了|高了|少了|低了|相差|差距|差多少|差了|差几|高多少|多多少|少多少|低多少|高几|低几|"
    r"增加了?多少|减少了?多少|提高了?多少|提升了?多少|上调了?多少|下调了?多少|扩张了?多少|增长了?多少|"
    r"how much (higher|more|lower|less)|how many (\w+ )?(points|percentage points) (higher|lower|more|less)|"
    r"by how much|difference between|gap between)", re.I)
_PAIR_PATTERNS = [
    re.compile(r"(从|由)(?P<a>[^，,。？?到至]+?)(到|至)(?P<b>[^，,。？?]+?)(提高|增加|上升|下降|减少|变化|增长|扩张|提升|上调|下调|收窄)"),
    re.compile(r"(?P<a>[^，,。？?]+?)比(?P<b>[^，,。？?]+?)(高出|多出|多|高|低|少)"),
    re.compile(r"(?P<a>[^，,。？?\s]+?)\s*(与|和|跟|vs\.?|VS)\s*(?P<b>[^，,。？?]+?)(之间)?(相差|差)"),
    re.compile(r"higher is (?P<a>.+?) than (?P<b>.+?)[?？]?$", re.I),
    re.compile(r"between (?P<a>.+?) and (?P<b>.+?)[?？]?$", re.I),
]
SUM_RE = re.compile(r"(合计|总计|加起来|一共|总共|combined|in total|together|sum of)", re.I)
_SUM_PAIR = re.compile(r"(?P<a>[^，,。？?\s]+?)\s*(与|和|跟|及|以及|\band\b|\+)\s*(?P<b>[^，,。？?]+?)\s*"
                       r"(合计|总计|加起来|一共|总共|combined|in total|together)", re.I)
_FROM_TO = re.compile(r"(从|由)\s*(?P<a>[^，,。；;]{1,24}?)\s*(上调|下调|提升|提高|增长|增加|下降|扩张|收窄|变为|升至|降至)?\s*(至|到)\s*(?P<b>[^，,。；;]{1,24})")


@dataclass(frozen=True)
class Computation:
    result: str                    # e.g. "4144 亿元"
    inputs: tuple[str, str]        # the printed figures it rests on
    formula: str                   # "6216 亿元 − 2072 亿元"


def asks_difference(question: str) -> bool:
    return bool(DIFF_RE.search(question))


def asks_sum(question: str) -> bool:
    return bool(_SUM_PAIR.search(normalize_text(question)))


def compute_sum(question: str, text: str) -> Computation | None:
    """A + B when the question names two items and asks for their total, each printed in
    ``text``. A total the report states itself is found by ordinary extraction first."""
    m = _SUM_PAIR.search(normalize_text(question))
    if not m:
        return None
    a_term, b_term = m.group("a").strip(), m.group("b").strip()
    used: set[int] = set()
    picked = []
    for term, other in ((a_term, b_term), (b_term, a_term)):
        pos = _anchor(text, term, other)
        q = _figure_after(text, pos, used) if pos >= 0 else None
        if q is not None:
            picked.append(q)
    if len(picked) != 2 or not _comparable(*picked) or picked[0].scale != picked[1].scale:
        return None
    a, b = picked
    suffix = re.sub(r"^[-+]?[\d,.\s]+", "", a.raw.strip())
    value = _format(a.printed[0] + b.printed[0], [a, b]) + suffix
    return Computation(value.strip(), (a.raw.strip(), b.raw.strip()), f"{a.raw.strip()} + {b.raw.strip()}")


def compared_terms(question: str) -> list[str]:
    q = normalize_text(question)
    for rx in _PAIR_PATTERNS:
        m = rx.search(q)
        if m:
            return [m.group("a").strip(), m.group("b").strip()]
    return []


def _figures(text: str) -> list[num.Quantity]:
    return [q for q in num.extract_quantities(text) if q.kind == "figure"]


def _comparable(a: num.Quantity, b: num.Quantity) -> bool:
    return a.unit == b.unit and (a.currency == b.currency or not a.currency or not b.currency) and \
        not a.is_range and not b.is_range


def _anchor(text: str, term: str, other: str = "") -> int:
    """End of the mention of ``term`` in text. Tried in order: the whole term; a company it
    names, under any alias ("英伟达" finds "NVIDIA"); its words that ``other`` lacks, the
    last first (the head noun: "公有云" in "中国公有云市场规模" vs "私有云…"); then the rest."""
    from index.query import parse_query

    from .evidence import _synonyms
    low = normalize_text(text).lower()
    t = normalize_text(term).lower()
    if t and t in low:
        return low.find(t) + len(t)
    other_names = {e.name for e in parse_query(other).entities} if other else set()
    for e in parse_query(term).entities:
        if e.name in other_names:
            continue
        for alias in sorted(_synonyms("aliases.tsv", e.name), key=len, reverse=True):
            i = low.find(normalize_text(alias).lower())
            if i >= 0:
                return i + len(alias)
    own = [w for w in tokenize(term) if len(w) >= 2 and not w.isdigit()]
    theirs = set(tokenize(other))
    ordered = [w for w in reversed(own) if w not in theirs] + [w for w in reversed(own) if w in theirs]
    for tok in ordered:
        i = low.find(tok)
        if i >= 0:
            return i + len(tok)
    return -1


def _header_match(header: str, term: str, other: str) -> float:
    """How well a column header names ``term``: equal > contains > shares distinctive words."""
    h, t = normalize_text(header).lower().replace(" ", ""), normalize_text(term).lower().replace(" ", "")
    if h == t:
        return 3.0
    if t in h or h in t:
        return 2.0
    own = set(tokenize(term)) - set(tokenize(other))
    return 0.5 * len(own & set(tokenize(header)))


def _figure_after(text: str, pos: int, used: set[int]) -> num.Quantity | None:
    for q in _figures(text):
        start = q.span[0] if q.span else text.find(q.raw)
        if start >= pos and start not in used:
            used.add(start)
            return q
    return None


def _format(value: float, like: list[num.Quantity]) -> str:
    decimals = max((len(q.raw.split(".")[1].split()[0].rstrip("%亿万元美元")) if "." in q.raw else 0) for q in like)
    text = f"{value:.{min(decimals, 4)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _difference(a: num.Quantity, b: num.Quantity, question: str) -> Computation:
    pa, pb = a.printed[0], b.printed[0]
    if a.scale == b.scale:
        diff = abs(pa - pb)
        suffix = re.sub(r"^[-+]?[\d,.\s]+", "", a.raw.strip()) or re.sub(r"^[-+]?[\d,.\s]+", "", b.raw.strip())
        if a.unit == "%" and re.search(r"百分点|points|pp|pct", question, re.I):
            suffix = "个百分点"
        value = _format(diff, [a, b]) + (" " if suffix and not suffix.startswith(("%", "个")) else "") + suffix
    else:
        value = num.format_quantity(_with_value(a, abs(a.value - b.value)))
    big, small = (a, b) if a.value >= b.value else (b, a)
    return Computation(value.strip(), (a.raw.strip(), b.raw.strip()), f"{big.raw.strip()} − {small.raw.strip()}")


def _with_value(q: num.Quantity, value: float) -> num.Quantity:
    from dataclasses import replace
    return replace(q, value=value, low=value, high=value, raw="")


def compute_difference(question: str, text: str, cells: list[tuple[str, str]] | None = None) -> Computation | None:
    """The difference the question asks for, from the figures printed in ``text``."""
    terms = compared_terms(question)
    if cells and terms:  # a table row: the compared terms name columns
        picked = []
        for term, other in (terms, terms[::-1]):
            scored = [(_header_match(h, term, other), c) for h, c in cells if h and _figures(c)]
            scored = [sc for sc in scored if sc[0] > 0]
            if scored:
                picked.append(_figures(max(scored, key=lambda sc: sc[0])[1])[0])
        if len(picked) == 2 and _comparable(*picked):
            return _difference(picked[0], picked[1], question)
        text = " ".join(f"{h} {c}" for h, c in cells)
    m = _FROM_TO.search(text)
    if m and not terms:
        fa, fb = _figures(m.group("a")), _figures(m.group("b"))
        if fa and fb and _comparable(fa[0], fb[0]):
            return _difference(fb[0], fa[0], question)
    if len(terms) == 2:
        used: set[int] = set()
        picked = []
        for term, other in (terms, terms[::-1]):
            pos = _anchor(text, term, other)
            q = _figure_after(text, pos, used) if pos >= 0 else None
            if q is not None:
                picked.append(q)
        if len(picked) == 2 and _comparable(*picked):
            return _difference(picked[0], picked[1], question)
    if m:
        fa, fb = _figures(m.group("a")), _figures(m.group("b"))
        if fa and fb and _comparable(fa[0], fb[0]):
            return _difference(fb[0], fa[0], question)
    return None

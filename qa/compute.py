"""Computed answers: a difference ("高出多少", "相差几个百分点", "从 A 到 B 下降了多少"), the
gap between the highest and the lowest of a list, the width of a range ("上下限相差多少"),
a sum ("合计") and a share ("A 占 B 的比重") — of figures printed in one piece of evidence
(a sentence, optionally with the sentence before it, or a table row).

The inputs are quoted, the result is derived, and the NumberCheck verifies the inputs
instead of the result. Each compared term must anchor its own figure: an asked period is
found by query understanding (``index.query``: the same normalisation as the question, a
relative "上季度末" resolved against the period printed beside it), an item by its name;
evidence that lacks one of the asked periods is no evidence for the difference, and the
caller tries the next unit. A money question is answered from money figures, a
percentage-point question from percentages.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from index.query import ParsedQuery, Period, find_periods, glosses, parse_query
from index.text import normalize_text, tokenize
from ingest import numbers as num
from ingest.tables import unit_hint

DIFF_RE = re.compile(
    r"(高出|多出|多了|高了|少了|低了|相差|差距|差额|差值|差多少|差了|差几|高多少|多多少|少多少|低多少|高几|低几|"
    r"超出[^，,。？?]{0,24}?多少|领先[^，,。？?]{0,24}?多少|落后[^，,。？?]{0,24}?多少|"
    r"增加了?多少|减少了?多少|提高了?多少|提升了?多少|上调了?多少|下调了?多少|扩张了?多少|增长了?多少|"
    r"下降了?多少|降低了?多少|上升了?多少|下滑了?多少|回落了?多少|缩小了?多少|扩大了?多少|"
    r"how much (higher|more|lower|less|larger|bigger|smaller|greater)|"
    r"(exceed|exceeded|exceeds|beat|beats|outpaced|topped) .{1,80}? by\b|(margin|lead) over|how many (\w+ )?(points|percentage points) (higher|lower|more|less)|"
    r"how much (did|has|have|had|does|do|will) .{1,80}? (rise|increase|grow|fall|decline|drop|shrink|expand)|"
    r"by how much|difference between|gap between)", re.I)
# a year-on-year / sequential change asked for: a printed rate ("同比增长 36%")
_RATE_CHANGE = re.compile(r"(同比|环比|yoy|qoq|year[- ]on[- ]year|quarter[- ]on[- ]quarter)\s*"
                          r"(增长|增加|提高|提升|上升|下降|减少|下滑|回落|变化|变动)了?(多少|几)|"
                          # a rise against the previous quarter or the year-ago period (较上季度提升了几) asks the printed
                          # rate; an increase in amount (增加了多少) stays a difference
                          r"(?:较|比|相比)\s*(?:上一?个?季度|去年同期|上年同期)\s*(增长|提升|上升|下降|下滑)了?(多少|几)", re.I)
_PAIR_PATTERNS = [
    re.compile(r"(从|由)(?P<a>[^，,。？?到至]+?)(到|至)(?P<b>[^，,。？?]+?)(提高|增加|上升|下降|减少|变化|增长|扩张|提升|上调|下调|收窄)"),
    re.compile(r"(?P<a>[^，,。？?]+?)(?:(?<![同环])比|较|相比|相较于?)(?P<b>[^，,。？?]+?)(高出|多出|多|高|低|少)"),
    re.compile(r"(?P<a>[^，,。？?]+?)(超出|超过|领先|高出|多出)(?P<b>[^，,。？?]+?)(多少|几)"),
    re.compile(r"(?:larger|bigger|greater|higher|more|smaller|lower|less) (?:was|were|is|are) (?P<a>.+?) than "
               r"(?P<b>.+?)[?？]?$", re.I),
    re.compile(r"(?:did|does|do|has|have) (?P<a>.+?) (?:beat|exceed|outpace|top) (?P<b>.+?)(?: by)?[?？]?$", re.I),
    re.compile(r"(?P<a>[^，,。？?\s]+?)\s*(与|和|跟|vs\.?|VS)\s*(?P<b>[^，,。？?]+?)(之间)?(相差|差)"),
    re.compile(r"higher is (?P<a>.+?) than (?P<b>.+?)[?？]?$", re.I),
    re.compile(r"between (?P<a>.+?) and (?P<b>.+?)[?？]?$", re.I),
]
SUM_RE = re.compile(r"(合计|总计|加起来|一共|总共|combined|in total|together|sum of)", re.I)
_SUM_PAIR = re.compile(r"(?P<a>[^，,。？?\s]+?)\s*(与|和|跟|及|以及|\band\b|\+)\s*(?P<b>[^，,。？?]+?)\s*"
                       r"(合计|总计|加起来|一共|总共|combined|in total|together)", re.I)
_FROM_TO = re.compile(r"(从|由)\s*(?P<a>[^，,。；;]{1,24}?)\s*(上调|下调|提升|提高|增长|增加|下降|扩张|收窄|变为|升至|降至)?\s*(至|到)\s*(?P<b>[^，,。；;]{1,24})")

# the highest and the lowest of a list; the two ends of a range
_EXTREMES = re.compile(r"(最高|最大|最多|峰值|highest|largest|biggest|maximum|peak).*(最低|最小|最少|lowest|smallest|minimum|trough)|"
                       r"(最低|最小|最少|lowest|smallest|minimum).*(最高|最大|最多|highest|largest|maximum)", re.I)
_BOUNDS = re.compile(r"上下限|上限.{0,6}下限|下限.{0,6}上限|(区间|范围).{0,8}(宽|跨度)|"
                     r"upper and lower (end|bound|limit)s?|lower and upper (end|bound|limit)s?|"
                     r"(high|low) and (low|high) ends?|width of the (range|band)", re.I)

# a share of a whole: "A 占 B 的比重", "A 在 B 中的占比", "A as a share of B"
_SHARE_PAIRS = [
    re.compile(r"(?P<a>[^，,。？?]+?)占(?P<b>[^，,。？?]+?)的?(比重|比例|份额|百分比|占比)"),
    re.compile(r"(?P<a>[^，,。？?]+?)在(?P<b>[^，,。？?]+?)中的?(占比|比重|比例|份额)"),
    re.compile(r"(?P<a>[^,?？]+?) as an? (share|percentage|proportion|fraction) of (?P<b>[^,?？]+)", re.I),
    re.compile(r"(what|which) (share|percentage|proportion|portion|fraction) of (?P<b>[^,?？]+?) "
               r"(came|comes|come|was|is|were|are) (from |by |in )?(?P<a>[^,?？]+)", re.I),
    re.compile(r"(share|percentage|proportion|fraction) of (?P<a>[^,?？]+?) in (?P<b>[^,?？]+)", re.I),
]
# a share printed for the item named just before it ("公有云占比 75%", "…6216 亿元，占比 75%")
_STATED_SHARE = re.compile(r"[^，,。；;！？]{0,30}?([，,]\s*)?(占比|比重|份额|占[^，,。；;！？]{0,16}?|accounts? for|"
                           r"accounting for|share of)\s*(约|为|达|达到|超过|近|约为|about|around|roughly|nearly)?\s*"
                           # "占比将从 2029 年的 41.0% 提升至…": words and years before the share
                           r"(?:(?:[^，,。；;！？\d%]|(?:19|20)\d{2}\s*年){0,16}?)"
                           r"\d+(\.\d+)?\s*%", re.I)

_PP_Q = re.compile(r"百分点|percentage points?|\bpp\b|\bppts?\b|\bpcts?\b", re.I)
_RATE_Q = re.compile(r"增速|增长率|增幅|(?<![汇功频效])率|占比|比重|份额|margin|\bshare\b|growth rate|\brate\b", re.I)
_MONEY_KEYS = {"revenue", "capex", "backlog", "bookings", "ai_revenue", "arr", "ebitda", "gross_profit",
               "operating_income", "net_income", "valuation", "financing", "debt", "free_cash_flow",
               "operating_cash_flow", "market_size", "depreciation", "price", "tco", "tcv", "prepayment"}
# a rate of change printed before a figure ("同比+38%", "环比增长 75%"): not a level. "增长至" is.
_CHANGE_BEFORE = re.compile(r"(同比|环比|yoy|qoq|增长|增速|增幅|降幅|涨幅|下降|下滑|上升|提升|growth|up|down)"
                            r"\s*(了|约|达|达到|为|超过|近|of|by)?\s*$", re.I)
_CHANGE_Q = re.compile(r"增速|增长率|增幅|降幅|涨幅|同比|环比|yoy|qoq|growth", re.I)
_WHOLE = re.compile(r"整体|总体|全部|总(?!结)|overall|total|whole", re.I)
_PER = re.compile(r"(?:/[\u4e00-\u9fffA-Za-z]{1,4}){1,3}")          # 万元/台/月
_LIST_GAP = re.compile(r"\s*(、|，|,|/|；|;|和|及|与|以及|and)?\s*", re.I)
_ZH_CURRENCY = {"USD": "美元", "CNY": "元", "HKD": "港元", "EUR": "欧元", "JPY": "日元", "GBP": "英镑"}
_CURRENCY_HEADS = {"$", "US$", "USD", "美元", "RMB", "CNY", "¥", "人民币", "HK$", "HKD", "港元", "€", "EUR"}


@dataclass(frozen=True)
class Computation:
    result: str                    # e.g. "4144 亿元"
    inputs: tuple[str, ...]        # the printed figures it rests on (a range counts as one)
    formula: str                   # "6216 亿元 − 2072 亿元"
    source: str = ""               # the text the inputs were read from (may include the sentence before)


def asks_difference(question: str) -> bool:
    """A difference to compute. "同比增长多少" asks for the rate the report prints, not for one."""
    return bool(DIFF_RE.search(_RATE_CHANGE.sub(" ", normalize_text(question))))


def asks_sum(question: str) -> bool:
    return bool(_sum_terms(question))


# "the combined Q1 market share of A and B", "A 与 B 的合计份额"
_SUM_OF = re.compile(r"\b(?:combined|total|sum of the)\b.{0,60}?\bof\s+(?P<a>[^,?？]+?)\s+and\s+(?P<b>[^,?？]+?)"
                     r"(?:\s+(?:in|for|as of|at)\b.*)?[?？]?$", re.I)


def _sum_terms(question: str) -> tuple[str, str] | None:
    q = normalize_text(question)
    m = _SUM_PAIR.search(q) or _SUM_OF.search(q)
    return (m.group("a").strip(), m.group("b").strip()) if m else None


def asks_share(question: str) -> bool:
    return _share_terms(question) is not None


def compared_terms(question: str) -> list[str]:
    q = normalize_text(question)
    for rx in _PAIR_PATTERNS:
        m = rx.search(q)
        if m:
            return [m.group("a").strip(), m.group("b").strip()]
    return []


# ---------------------------------------------------------------------------------------------
# figures

def _figures(text: str) -> list[num.Quantity]:
    return [q for q in num.extract_quantities(text) if q.kind == "figure"]


def _start(q: num.Quantity, text: str) -> int:
    return q.span[0] if q.span[0] >= 0 else text.find(q.raw)


def _wanted(question: str, q: ParsedQuery) -> str:
    """"pct" for a percentage(-point) question, "money" for an amount of money, else ""."""
    if _PP_Q.search(question):
        return "pct"
    keys = {m.key for m in q.metrics}
    money = bool(keys & _MONEY_KEYS)
    rate_keys = any(k.endswith("margin") or k.startswith("growth") or "share" in k or k in ("cagr", "utilization")
                    for k in keys)
    if _RATE_Q.search(question) or (rate_keys and not money):   # "销量增长了多少" asks an amount
        return "pct"
    return "money" if money else ""


def _fits(f: num.Quantity, want: str, bare_ok: bool = False) -> bool:
    """A percentage question is answered from percentages, a money question from amounts
    (a bare table cell is one when ``bare_ok``: its unit is in the header)."""
    if want == "pct":
        return f.unit in ("%", "pp")
    if want == "money":
        return f.unit == "" and (bare_ok or bool(f.currency) or f.scale > 1)
    return True


def _comparable(a: num.Quantity, b: num.Quantity) -> bool:
    return a.unit == b.unit and (a.currency == b.currency or not a.currency or not b.currency) and \
        not a.is_range and not b.is_range and a.is_bare == b.is_bare


def _decimals(q: num.Quantity) -> int:
    m = re.search(r"\d+(?:\.(\d+))?", q.raw)
    return len(m.group(1)) if m and m.group(1) else 0


def _format(value: float, like: list[num.Quantity]) -> str:
    decimals = max((_decimals(q) for q in like), default=0)
    text = f"{value:.{min(decimals, 4)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _suffix(q: num.Quantity, text: str) -> str:
    """What follows the digits of ``q`` ("亿美元"), with a per-unit tail printed after it
    ("万元/台/月")."""
    suffix = re.sub(r"^[-+]?[\d,.\s]+", "", q.raw.strip())
    end = q.span[1] if q.span[1] >= 0 else -1
    if text and end >= 0:
        per = _PER.match(text, end)
        if per:
            suffix += per.group(0)
    return suffix


def _currency_hint(text: str, scale: float) -> str:
    """The one currency the text's other figures of this scale are in ("12.5 亿" beside "300.0亿元")."""
    found = {f.currency for f in _figures(text) if f.currency and f.scale == scale}
    return _ZH_CURRENCY.get(found.pop(), "") if len(found) == 1 else ""


def _with_value(q: num.Quantity, value: float) -> num.Quantity:
    return replace(q, value=value, low=value, high=value, raw="", is_range=False)


def _render(value: float, a: num.Quantity, b: num.Quantity, question: str, text: str) -> str:
    """``value`` in the unit a and b are printed in."""
    if a.scale != b.scale or not re.match(r"[-+]?\d", a.raw.strip()):
        return num.format_quantity(_with_value(a, value * (a.scale if a.scale == b.scale else 1)))
    suffix = _suffix(a, text) or _suffix(b, text)
    if a.unit in ("%", "pp") and (_PP_Q.search(question) or a.unit == "pp"):
        suffix = "个百分点"
    elif not a.currency and not b.currency and a.scale > 1:
        suffix += _currency_hint(text, a.scale)
    sep = " " if suffix and not suffix.startswith(("%", "个")) else ""
    return _format(value, [a, b]) + sep + suffix


_GROWTH_Q = re.compile(r"增长|增加|提高|提升|上升|上涨|扩大|\b(grow|grew|grown|increase[sd]?|rise|rose|risen)\b", re.I)
_DECLINE_Q = re.compile(r"下降|减少|下滑|降低|缩小|\b(decline[sd]?|decrease[sd]?|fall|fell|fallen|drop(ped)?)\b", re.I)
# a unit the question asks in: the change alone answers it
_UNIT_Q = re.compile(r"%|百分|\bpp\b|率|倍|[亿万千百]|元|金额|数额|多少个|\$|billion|million|percent|\brate\b|amount",
                     re.I)


def growth_rate(earlier: num.Quantity, later: num.Quantity, question: str) -> str:
    """A question asking how much something grew (增长多少), with no unit, asks for the change
    and is often meant as the rate: when the question names growth (or a decline), the figures
    moved that way, and no unit is asked for, the relative change from the earlier figure goes
    beside the absolute one."""
    bare = re.sub(r"\d[\d,.]*\s*(年|月|日|季度|Q|H|E|A|F)?", " ", normalize_text(question))
    growth, decline = bool(_GROWTH_Q.search(bare)), bool(_DECLINE_Q.search(bare))
    if growth == decline or _UNIT_Q.search(bare) or "%" in (earlier.unit, later.unit) \
            or "pp" in (earlier.unit, later.unit) or earlier.value <= 0 or (later.value > earlier.value) != growth:
        return ""
    return f"{(later.value - earlier.value) / earlier.value * 100:+.1f}%"


def _difference(a: num.Quantity, b: num.Quantity, question: str, text: str = "",
                earlier: num.Quantity | None = None) -> Computation:
    """a − b (as a positive change); with ``earlier`` (which of the two came first, when the
    question compares periods or a report says "由 A 上调至 B"), a growth question also gets the rate."""
    big, small = (a, b) if a.value >= b.value else (b, a)
    diff = abs(a.printed[0] - b.printed[0]) if a.scale == b.scale else abs(a.value - b.value)
    value = _render(diff, a, b, question, text).strip()
    formula = f"{big.raw.strip().lstrip('+')} − {small.raw.strip().lstrip('+')}"
    rate = growth_rate(earlier, b if earlier is a else a, question) if earlier is not None else ""
    if rate:
        value, formula = f"{value}（{rate}）", f"{formula}；÷ {earlier.raw.strip().lstrip('+')}"
    return Computation(value, (a.raw.strip(), b.raw.strip()), formula, text)


# ---------------------------------------------------------------------------------------------
# anchoring: where a compared term (an item or a period) is mentioned

def _distinctive(word: str, other: str) -> bool:
    """A word of one term the other term cannot account for: some of its characters are not
    in the other ("海外" against "总销量"; "销量" is not)."""
    return any(ch not in other for ch in word)


def _anchor(text: str, term: str, other: str = "", strict: bool = False) -> int:
    """End of the mention of ``term`` in text. Tried in order: the whole term; a company it
    names, under any alias ("英伟达" finds "NVIDIA"); its words that ``other`` lacks, the
    last first (the head noun: "海外" in "海外电池销量" vs "国内…"); then (unless
    ``strict``) the rest."""
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
    # a model number only this term names ("K20" against "K800"): where it is printed, before
    # any metric word the question attached to this term alone
    theirs_codes = {c.lower() for c in _MODEL_CODE.findall(normalize_text(other))}
    for code in _MODEL_CODE.findall(normalize_text(term)):
        c = code.lower()
        if c in theirs_codes or _PERIOD_CODE.fullmatch(code):
            continue
        m = re.search(rf"(?<![a-z0-9]){re.escape(c)}(?![a-z0-9])", low)
        if m:
            return m.end()
    # a metric the term names, under any of its names ("remaining performance obligations"
    # finds 剩余履约义务) — unless the other term names the same metric
    other_keys = {m.key for m in parse_query(other).metrics} if other else set()
    for m in parse_query(term).metrics:
        if m.key and m.key not in other_keys:
            for alias in sorted(_synonyms("metrics.tsv", m.key, canonical_is_a_word=False), key=len, reverse=True):
                i = low.find(normalize_text(alias).lower())
                if i >= 0:
                    return i + len(normalize_text(alias))
    # a glossary word of the term in the other language ("consensus" finds 一致预期)
    other_glosses = set(glosses(other)) if other else set()
    for g in sorted(set(glosses(term)) - other_glosses, key=len, reverse=True):
        i = low.find(normalize_text(g).lower())
        if i >= 0:
            return i + len(normalize_text(g))
    own = [w for w in tokenize(term) if len(w) >= 2 and not w.isdigit()]
    theirs = set(tokenize(other))
    other_low = normalize_text(other).lower()
    ordered = [w for w in reversed(own) if w not in theirs and _distinctive(w, other_low)]
    if not strict:
        ordered += [w for w in reversed(own) if w not in theirs and w not in ordered]
        ordered += [w for w in reversed(own) if w in theirs]
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


def _figure_after(text: str, pos: int, used: set[int], want: str = "", levels: bool = False,
                  given: tuple[num.Quantity, ...] = ()) -> num.Quantity | None:
    """The first unused figure from ``pos`` that fits ``want``; with ``levels``, rates of
    change ("同比增长 155%") are passed over; figures the question itself ``given`` names
    ("业绩后50%的基金") are part of a term, not an input."""
    for q in _figures(text):
        start = _start(q, text)
        if any(num.same_value(q, g) for g in given):
            continue
        if start >= pos and start not in used and _fits(q, want):
            if levels and _CHANGE_BEFORE.search(text[max(0, start - 12):start]):
                continue
            used.add(start)
            return q
    return None


_SHIFTS = {"last_quarter": (-1, 0), "next_quarter": (1, 0), "last_year": (0, -1), "next_year": (0, 1),
           "last_fiscal_year": (0, -1), "next_fiscal_year": (0, 1)}


def _shift(base: Period, label: str) -> Period | None:
    """A relative period ("上季度", "去年同期") read against the absolute period beside it."""
    if label not in _SHIFTS or base.kind == "relative" or base.year is None:
        return None
    quarters, years = _SHIFTS[label]
    if base.kind == "quarter":
        i = base.year * 4 + base.quarter - 1 + quarters + 4 * years
        return Period("quarter", year=i // 4, quarter=i % 4 + 1, fiscal=base.fiscal)
    if quarters:
        return None
    return replace(base, year=base.year + years, label="")


def _mentions(text: str) -> list[tuple[int, Period]]:
    """Periods mentioned in text (normalised), relative ones resolved against the nearest
    absolute period printed before them (else after)."""
    found = find_periods(text)
    out = []
    for i, (pos, p) in enumerate(found):
        if p.kind == "relative":
            before = [b for _, b in found[:i] if b.kind != "relative"][::-1]
            after = [b for _, b in found[i + 1:] if b.kind != "relative"]
            p = next((s for s in (_shift(b, p.label) for b in before + after) if s), None)
            if p is None:
                continue
        out.append((pos, p))
    return out


def _asked_periods(question: str) -> list[Period]:
    """The periods a question compares. One inside another ("the Aug 2025 report … full-year
    2025") is one period, not two: the broader stands."""
    periods = list(dict.fromkeys(p for _, p in _mentions(normalize_text(question))))
    return [p for p in periods if not any(o != p and _within(o, p) for o in periods)]


def _levels(question: str) -> bool:
    """Is a level asked for (not a rate of change)? Then printed rates of change are skipped."""
    return not _CHANGE_Q.search(question)


def _by_periods(periods: list[Period], text: str, want: str, levels: bool = False) -> list[num.Quantity] | None:
    """The figure each asked period anchors: the first fitting figure after its first mention,
    the periods taken in the order the text mentions them ("2023/2024年分别为 a/b")."""
    mentions = _mentions(text)
    first: dict[Period, int] = {}
    for p in periods:
        pos = next((at for at, found in mentions if p.covers(found)), None)
        if pos is None:
            return None  # the text does not speak of this period
        first[p] = pos
    used: set[int] = set()
    picked: dict[Period, num.Quantity] = {}
    for p in sorted(periods, key=lambda p: first[p]):
        f = _figure_after(text, first[p], used, want, levels)
        if f is None:
            return None
        picked[p] = f
    return [picked[p] for p in periods]


# ---------------------------------------------------------------------------------------------
# evidence scopes: the sentence, then the sentence with the one before it

def _scopes(text: str, context: str, question: str) -> list[str]:
    text = normalize_text(text)
    scopes = [text]
    previous = normalize_text(context.split("\n")[-1]) if context else ""
    if previous.strip() and previous.strip() != text.strip() and not _names_others(previous, question):
        scopes.append(f"{previous} {text}")
    return scopes


def _names_others(text: str, question: str) -> bool:
    """Does text name a company the question does not ask about?"""
    asked = {e.name for e in parse_query(question).entities}
    return any(e.name not in asked for e in parse_query(text).entities if e.kind in ("company", "unit"))


_CJK = re.compile(r"[\u4e00-\u9fff]")

# ---------------------------------------------------------------------------------------------
# complements: the days without a gain = all days − the days with one

_NEGATED_CN = re.compile(r"(?:没有|未(?!来|知)|非(?!常|洲)|不是)(?P<after>[\u4e00-\u9fffA-Za-z]{2,8})|"
                         r"(?P<before>[\u4e00-\u9fffA-Za-z]{2,8})(?:以外|之外)")
_NEGATED_EN = re.compile(r"\b(?:non-|not |other than |excluding |outside (?:of )?)(?:the )?(?P<after>[a-z][\w-]*(?: [a-z][\w-]*)?)",
                         re.I)


def _negated_term(question: str) -> str:
    text = normalize_text(question)
    m = _NEGATED_CN.search(text) or _NEGATED_EN.search(text)
    if not m:
        return ""
    term = (m.groupdict().get("after") or m.groupdict().get("before") or "").strip()
    return re.split(r"是|的|为|有|共|多少|几", term)[0] if term and _CJK.match(term) else term


def asks_complement(question: str) -> bool:
    """A count or amount asked for what is *not* in a category the report counts
    ("未实现盈利的月份", "非云业务收入", "sales other than hardware")."""
    return bool(_negated_term(question)) and bool(re.search(r"多少|几|how (?:much|many)|what (?:was|is|were)",
                                                              question, re.I))


def compute_complement(question: str, text: str, context: str = "") -> Computation | None:
    """The whole minus the part the question negates: the part is the figure printed right
    after the negated words (or their company or metric), the whole the larger comparable
    figure beside it. None unless both are there."""
    term = _negated_term(question)
    if not term:
        return None
    given = tuple(_figures(normalize_text(question)))
    for scope in _scopes(text, context, question):
        levels = [q for q in _figures(scope) if q.unit != "%" and not any(num.same_value(q, g) for g in given)
                  and not _CHANGE_BEFORE.search(scope[max(0, _start(q, scope) - 12):_start(q, scope)])]
        pos = _anchor(scope, term, "", strict=True)
        if pos < 0 or len(levels) < 2:
            continue
        part = next((q for q in levels if _start(q, scope) >= pos), None)
        others = [q for q in levels if q is not part and _comparable(q, part) and q.value > part.value] if part else []
        if part is None or not others:
            continue
        whole = max(others, key=lambda q: q.value)
        return _difference(whole, part, question, scope)
    return None


# ---------------------------------------------------------------------------------------------
# differences

_UP = "高出|多出|超出|领先|高了|多了|提升了?|提高了?|增加了?|高|多"
_DOWN = "低了|少了|下降了?|减少了?|降低了?|低|少"
_COMPARED = r"(?:比|较|相比于?|相较于?)(?P<other>[^，,。；;？?]{1,40}?)"
# (a question may set the compared-to apart with a comma: "相比上一代，新芯片的功耗降低了多少")
_ASKED_GAP = re.compile(r"(?:比|较|相比于?|相较于?)(?P<other>[^。；;？?]{1,40}?)" + rf"(?P<verb>{_UP}|{_DOWN})\s*(?:多少|几)")
_ADVERB = r"(?:了|约|达|高达|近|超过|逾)?\s*"
_STATED_GAP = re.compile(_COMPARED + rf"(?P<verb>{_UP}|{_DOWN})\s*{_ADVERB}(?=[-+]?\d)")
# "…，且单位能耗降低 35%": the change of the asked measure, printed in a clause of its own
_STATED_CHANGE = re.compile(rf"(?P<noun>[^，,。；;：:比较]{{2,16}}?)(?P<verb>{_UP}|{_DOWN})\s*{_ADVERB}(?=[-+]?\d)")


def _direction(verb: str) -> int:
    return -1 if re.fullmatch(_DOWN, verb) else 1


def stated_difference(question: str, text: str) -> str:
    """"A 比 B 高出多少" over a sentence printing "A 比 B 高 25%": the gap the report states is
    the answer, not one computed from other figures. The sentence must compare with the same
    B (most of its words) in the same direction."""
    asked = _ASKED_GAP.search(normalize_text(question))
    if not asked:
        return ""
    wanted = set(tokenize(asked.group("other")))
    norm = normalize_text(text)
    for m in _STATED_GAP.finditer(norm):
        printed = set(tokenize(m.group("other")))
        if not wanted or len(wanted & printed) * 2 < len(wanted):
            continue
        if _direction(m.group("verb")) != _direction(asked.group("verb")):
            continue
        figures = [f for f in _figures(norm[m.end():m.end() + 24]) if _start(f, norm[m.end():]) == 0]
        if figures:
            return figures[0].raw.strip()
    # "相比 B，A 的能耗降低了多少" over "A 比 B 性能提升 3 倍，且单位能耗降低 35%": the
    # change printed right after the asked measure's words, in a sentence naming B
    low = norm.lower()
    if not any(w in low for w in wanted):
        return ""
    for m in _STATED_CHANGE.finditer(norm):
        shared = {w for w in set(tokenize(m.group("noun"))) & wanted if len(w) >= 2}
        if len(shared) < 2 or _direction(m.group("verb")) != _direction(asked.group("verb")):
            continue
        figures = [f for f in _figures(norm[m.end():m.end() + 24]) if _start(f, norm[m.end():]) == 0]
        if figures:
            return figures[0].raw.strip()
    return ""


def compute_difference(question: str, text: str, cells: list[tuple[str, str]] | None = None,
                       context: str = "") -> Computation | None:
    """The difference the question asks for, from the figures printed in ``text`` (a table
    row's ``cells`` when given; the sentence before it, the last line of ``context``, when
    the sentence alone does not print both figures)."""
    q = parse_query(question)
    want = _wanted(question, q)
    periods = _asked_periods(question)
    if cells:
        comp = _row_difference(question, cells, context, want, periods)
        if comp is not None or _has_period_columns(cells):
            return comp
        return _text_difference(question, normalize_text(" ".join(f"{h} {c}" for h, c in cells)), want, periods)
    for scope in _scopes(text, context, question):
        comp = _text_difference(question, scope, want, periods)
        if comp is not None:
            return comp
    return None


def _names_absent_company(text: str, term: str, other: str) -> bool:
    """Two companies compared, and this term's (not the other's) is never mentioned in the text
    ("公司 Backlog … 剩余履约义务" may answer for the one company both terms are about)."""
    from .evidence import _synonyms
    low = normalize_text(text).lower()
    theirs = {e.name for e in parse_query(other).entities if e.kind in ("company", "unit")}
    if not theirs:
        return False
    for e in parse_query(term).entities:
        if e.kind in ("company", "unit") and e.name not in theirs and not any(
                normalize_text(a).lower() in low for a in _synonyms("aliases.tsv", e.name)):
            return True
    return False


_MODEL_CODE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{1,5}-?\d{1,4}[A-Za-z]{0,3}(?![A-Za-z0-9])")


def _names_absent_code(text: str, term: str, other: str) -> bool:
    """A model number only this term names ("K20" against "K800") is not printed in the text."""
    low = normalize_text(text).lower()
    theirs = {c.lower() for c in _MODEL_CODE.findall(normalize_text(other))}
    return any(c.lower() not in theirs and not _PERIOD_CODE.fullmatch(c)
               and not re.search(rf"(?<![a-z0-9]){re.escape(c.lower())}(?![a-z0-9])", low)
               for c in _MODEL_CODE.findall(normalize_text(term)))


_PERIOD_CODE = re.compile(r"[QH][1-4]|FY-?\d{2,4}|CY-?\d{2,4}|\d[QH]\d{2}", re.I)


def _lacks_words(text: str, term: str, other: str) -> bool:
    """A Chinese word only this term has ("混合云" against "私有云") is not in the text: the
    text is about something else."""
    low = normalize_text(text).lower()
    theirs = set(tokenize(other))
    from .evidence import _SCOPE_WORDS      # the report's scope ("中国"), often left unsaid
    own = [w for w in tokenize(term) if len(w) >= 2 and _CJK.match(w) and w not in theirs and w not in low
           and w not in _SCOPE_WORDS]
    return bool(own)


# "A 是 B 的几倍", "how many times larger was A than B"
_MULTIPLE_PAIRS = [
    re.compile(r"(?P<a>[^，,。？?]+?)是(?P<b>[^，,。？?]+?)的(?:多少|几)\s*倍"),
    re.compile(r"how many times (?:larger|bigger|greater|higher|more) (?:was|were|is|are) (?P<a>.+?) than "
               r"(?P<b>.+?)[?？]?$", re.I),
]


def compute_multiple(question: str, text: str, context: str = "") -> Computation | None:
    """A multiple of two figures the question names, each anchored on its own words in the
    evidence (the sentence, or with the one before it)."""
    q = normalize_text(question)
    m = next((rx.search(q) for rx in _MULTIPLE_PAIRS if rx.search(q)), None)
    if m is None:
        return None
    a_term, b_term = m.group("a").strip(), m.group("b").strip()
    given = tuple(_figures(q))
    for scope in _scopes(text, context, question):
        if _names_absent_company(scope, a_term, b_term) or _names_absent_company(scope, b_term, a_term) or \
                _lacks_words(scope, a_term, b_term) or _lacks_words(scope, b_term, a_term):
            continue
        used: set[int] = set()
        picked = []
        for term, other in ((a_term, b_term), (b_term, a_term)):
            pos = _anchor(scope, term, other, strict=True)
            f = _figure_after(scope, pos, used, "", True, given) if pos >= 0 else None
            if f is None:
                break
            picked.append(f)
        if len(picked) == 2 and _comparable(*picked) and picked[1].value:
            a, b = picked
            ratio = a.value / b.value
            return Computation(f"{ratio:.2f}倍".replace(".00倍", "倍"), (a.raw.strip(), b.raw.strip()),
                               f"{a.raw.strip()} ÷ {b.raw.strip()}", scope)
    return None


def _text_difference(question: str, text: str, want: str, periods: list[Period]) -> Computation | None:
    if _BOUNDS.search(question):
        return _range_width(question, text, want)
    if _EXTREMES.search(question):
        return _list_extremes(question, text, want, periods)
    if len(periods) == 2:
        picked = _by_periods(periods, text, want, _levels(question))
        if picked and _comparable(*picked):
            first = _earlier(periods)
            return _difference(picked[0], picked[1], question, text,
                               earlier=None if first is None else picked[first])
        return None  # each asked period must anchor its own figure
    terms = compared_terms(question)
    m = _from_to_match(text, periods)
    if m and (not terms or len(periods) == 1 and periods[0].matches(text[max(0, m.start() - 16): m.start()])):
        # no compared terms, or a change printed right after the asked period
        comp = _from_to(m, question, text, want)
        if comp is not None:
            return comp
    if len(terms) == 2:
        used: set[int] = set()
        picked = []
        levels = _levels(question)
        given = tuple(_figures(normalize_text(question)))
        if any(_names_absent_company(text, term, other) or _names_absent_code(text, term, other)
               for term, other in (terms, terms[::-1])):
            return None      # "Nebius 的增速比 CoreWeave 高多少": a sentence about one of them alone
        for term, other in (terms, terms[::-1]):
            pos = _anchor(text, term, other, strict=True)
            pos = _at_asked_period(text, pos, periods)
            f = _figure_after(text, pos, used, want, levels, given) if pos >= 0 else None
            if f is None and _WHOLE.search(term) and not _WHOLE.search(other):
                f = _figure_after(text, 0, used, want, levels, given)  # "整体收入增速": the headline figure
            if f is None and pos < 0:
                pos = _anchor(text, term, other)
                f = _figure_after(text, pos, used, want, levels, given) if pos >= 0 else None
            if f is not None:
                picked.append(f)
        if len(picked) == 2 and _comparable(*picked):
            return _difference(picked[0], picked[1], question, text)
    if m:
        return _from_to(m, question, text, want)
    return None


def _at_asked_period(text: str, pos: int, periods: list[Period]) -> int:
    """"K800 从 2029 年 3 月的约 12 万元降至 2031 年 3 月的约 7.5 万元" asked for 2031 年 3 月:
    the term's figure is the one after the asked period's mention that follows the term's own
    (the term's figures of other periods come first). Unchanged when the period is not
    printed after the term before the next sentence."""
    if pos < 0 or len(periods) != 1:
        return pos
    norm = normalize_text(text)
    end = next((m.start() for m in re.finditer(r"[。；;!?！？]", norm) if m.start() >= pos), len(norm))
    for at, found in find_periods(norm):
        if pos <= at < end and periods[0].covers(found) and found.kind == periods[0].kind:
            return at
    return pos


def _from_to_match(text: str, periods: list[Period]) -> re.Match | None:
    """The "从 A … 至 B" of the sentence; of several, the one right after the asked period
    ("…整体从 3.78% 下降到 2.98%，2015 年从 6.63% 下降到 3.18%" asked for 2015)."""
    found = list(_FROM_TO.finditer(text))
    if len(found) > 1 and len(periods) == 1:
        for m in found:
            if periods[0].matches(text[max(0, m.start() - 16): m.start()]):
                return m
    return found[0] if found else None


def _from_to(m: re.Match, question: str, text: str, want: str) -> Computation | None:
    """"从 30 亿元上调至约 36 亿元": the change."""
    offset_a, offset_b = m.start("a"), m.start("b")
    fa = [f for f in _figures(m.group("a")) if _fits(f, want)]
    fb = [f for f in _figures(m.group("b")) if _fits(f, want)]
    if fa and fb and _comparable(fa[0], fb[0]):
        a = replace(fa[0], span=(fa[0].span[0] + offset_a, fa[0].span[1] + offset_a))
        b = replace(fb[0], span=(fb[0].span[0] + offset_b, fb[0].span[1] + offset_b))
        return _difference(b, a, question, text, earlier=a)
    return None


def _earlier(periods: list[Period]) -> int | None:
    """Which of two asked periods comes first (None when their years are not both known)."""
    keys = [(p.year, p.quarter or 2 * (p.half or 0) or 0, p.month or 0) for p in periods]
    if any(k[0] is None for k in keys) or keys[0] == keys[1]:
        return None
    return 0 if keys[0] < keys[1] else 1


def _range_width(question: str, text: str, want: str) -> Computation | None:
    """"区间为 660-720 亿美元", asked for the gap between its bounds: 60 亿美元."""
    for f in _figures(text):
        if f.is_range and _fits(f, want):
            low, high = f.printed
            return Computation(_range_result(f, high - low, question), (f.raw.strip(),),
                               f"{_format(high, [f])} − {_format(low, [f])}", text)
    return None


def _range_result(f: num.Quantity, width: float, question: str) -> str:
    if not f.raw.strip()[:1].isdigit():                # "US$66-72 billion"
        return num.format_quantity(_with_value(f, width * f.scale))
    if f.unit in ("%", "pp"):
        return _format(width, [f]) + ("个百分点" if _PP_Q.search(question) or f.unit == "pp" else "%")
    tail = re.sub(r"^.*\d", "", f.raw.strip()).strip()  # "亿美元" after "660-720 亿美元"
    return f"{_format(width, [f])} {tail}".strip()


def _lists(text: str, want: str) -> list[list[num.Quantity]]:
    """Runs of at least three comparable figures printed one after another ("分别为 a、b、c")."""
    runs, run = [], []
    for f in _figures(text):
        if not _fits(f, want) or f.is_range:
            if len(run) >= 3:
                runs.append(run)
            run = []
            continue
        if run and _LIST_GAP.fullmatch(text[run[-1].span[1]:f.span[0]]) and _comparable(run[-1], f):
            run.append(f)
        else:
            if len(run) >= 3:
                runs.append(run)
            run = [f]
    if len(run) >= 3:
        runs.append(run)
    return runs


def _list_extremes(question: str, text: str, want: str, periods: list[Period]) -> Computation | None:
    """The highest minus the lowest of a list; with an asked period, of the list printed
    under that period (the nearest period mentioned before it)."""
    mentions = _mentions(text)
    for run in _lists(text, want):
        if periods:
            before = [p for at, p in mentions if at < run[0].span[0]]
            if not before or not any(_within(p, before[-1]) for p in periods):
                continue
        hi, lo = max(run, key=lambda f: f.value), min(run, key=lambda f: f.value)
        return _difference(hi, lo, question, text)
    return None


def _within(asked: Period, found: Period) -> bool:
    """``found`` is the asked period or a part of it (2025Q2 within 2025)."""
    if asked.covers(found):
        return True
    return asked.kind == "year" and found.kind != "relative" and found.year == asked.year and \
        found.fiscal == asked.fiscal


# ---------------------------------------------------------------------------------------------
# table rows

def _has_period_columns(cells: list[tuple[str, str]]) -> bool:
    return sum(1 for h, _ in cells if h and find_periods(h)) >= 2


def _bracket_unit(text: str) -> str:
    """A unit printed in brackets that the number parser reads as one: "ARR (mn)" -> "mn"."""
    for m in re.finditer(r"[（(]\s*([^()（）]{1,12}?)\s*[)）]", text or ""):
        content = m.group(1).strip()
        found = num.extract_quantities("1" + content)
        if len(found) == 1 and found[0].raw == "1" + content and not found[0].is_bare:
            return content
    return ""


def _cell_unit(head: str, cells: list[tuple[str, str]], context: str) -> tuple[str, str]:
    """(prefix, unit) of a bare cell: from its column header, the row label, the first
    column's header or the caption ("资本开支 (亿美元)", "（单位：亿美元）"); a currency
    printed alone as the first header ("$") is a prefix."""
    label = cells[0][1] if cells else ""
    first_head = cells[0][0] if cells else ""
    unit = ""
    for t in (head, label, first_head, context):
        unit = unit_hint(t) or _bracket_unit(t)
        if unit:
            break
    prefix = ""
    parsed = num.extract_quantities("1" + unit) if unit else []
    if first_head.strip() in _CURRENCY_HEADS and parsed and not parsed[0].currency:
        prefix = first_head.strip()
    return prefix, unit


def _row_figure(cell: str, want: str) -> num.Quantity | None:
    return next((f for f in _figures(cell) if _fits(f, want, bare_ok=True)), None)


def _row_difference(question: str, cells: list[tuple[str, str]], context: str, want: str,
                    periods: list[Period]) -> Computation | None:
    """A row whose columns are periods: the cells under the asked periods (or the highest and
    the lowest of the asked year); else the columns the compared terms name."""
    period_cols = _has_period_columns(cells)
    chosen: list[tuple[str, num.Quantity]] = []
    if period_cols and _EXTREMES.search(question):
        for h, c in cells:
            found = find_periods(h) if h else []
            f = _row_figure(c, want)
            if f is None or not found or (periods and not any(_within(p, found[0][1]) for p in periods)):
                continue
            chosen.append((h, f))
        if len(chosen) < 2:
            return None
        hi, lo = max(chosen, key=lambda hf: hf[1].value), min(chosen, key=lambda hf: hf[1].value)
        return _cells_difference(question, [hi, lo], cells, context)
    if period_cols and len(periods) == 2:
        for p in periods:
            col = [(h, f) for h, c in cells if h and any(p.covers(x) for _, x in find_periods(h))
                   for f in [_row_figure(c, want)] if f is not None]
            if not col:
                return None  # the row has no column for this period
            chosen.append(col[0])
        return _cells_difference(question, chosen, cells, context)
    terms = compared_terms(question)
    if terms:  # the compared terms name columns
        for term, other in (terms, terms[::-1]):
            scored = [(_header_match(h, term, other), h, f) for h, c in cells if h
                      for f in [_row_figure(c, want)] if f is not None]
            scored = [sc for sc in scored if sc[0] > 0]
            if scored:
                best = max(scored, key=lambda sc: sc[0])
                chosen.append((best[1], best[2]))
        if len(chosen) == 2 and chosen[0][0] != chosen[1][0]:
            return _cells_difference(question, chosen, cells, context)
    return None


def _cells_difference(question: str, chosen: list[tuple[str, num.Quantity]], cells: list[tuple[str, str]],
                      context: str) -> Computation | None:
    (ha, a), (hb, b) = chosen
    if not _comparable(a, b):
        return None
    comp = _difference(a, b, question)
    if a.is_bare and b.is_bare:
        # a bare cell takes its unit from the header or the caption: a result must carry it
        prefix, unit = _cell_unit(ha, cells, context)
        if unit == "%":
            unit = "个百分点" if _PP_Q.search(question) else "%"
        if unit:
            sep = "" if unit.startswith(("%", "个")) else " "
            comp = replace(comp, result=f"{prefix}{comp.result}{sep}{unit}")
    return comp


# ---------------------------------------------------------------------------------------------
# sums and shares

def compute_sum(question: str, text: str) -> Computation | None:
    """A + B when the question names two items and asks for their total, each printed in
    ``text``. A total the report states itself is found by ordinary extraction first."""
    terms = _sum_terms(question)
    if not terms:
        return None
    a_term, b_term = terms
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
    return Computation(value.strip(), (a.raw.strip(), b.raw.strip()), f"{a.raw.strip()} + {b.raw.strip()}", text)


def _share_terms(question: str) -> tuple[str, str] | None:
    """(part, whole) of a share question."""
    q = normalize_text(question)
    for rx in _SHARE_PAIRS:
        m = rx.search(q)
        if m:
            return m.group("a").strip(), m.group("b").strip()
    return None


def states_share(question: str, text: str) -> bool:
    """Does ``text`` print the asked share itself ("公有云占比 75%")? Then it is extracted, not
    computed."""
    terms = _share_terms(question)
    if not terms:
        return False
    text = normalize_text(text)
    pos = _anchor(text, terms[0], terms[1], strict=True)
    return pos >= 0 and bool(_STATED_SHARE.match(text, pos))


def _period_before(text: str, at: int) -> str:
    """The label of the last period printed before position ``at`` ("" if none)."""
    return next((p.label for pos, p in reversed(find_periods(text)) if pos < at), "")


def compute_share(question: str, text: str, context: str = "") -> Computation | None:
    """Part / whole, when the question asks what share of B is A and the evidence prints both
    amounts but not the share (the sentence, or it with the sentence before it)."""
    terms = _share_terms(question)
    if not terms:
        return None
    part_term, whole_term = terms
    for scope in _scopes(text, context, question):
        if states_share(question, scope):
            return None
        used: set[int] = set()
        picked = []
        for term, other in ((part_term, whole_term), (whole_term, part_term)):
            pos = _anchor(scope, term, other, strict=True)
            f = _figure_after(scope, pos, used) if pos >= 0 else None
            while f is not None and f.unit in ("%", "pp", "x"):
                f = _figure_after(scope, _start(f, scope) + 1, used)
            picked.append(f)
        part, whole = picked
        if part is None or whole is None or not _comparable(part, whole):
            continue
        if not 0 < part.value < whole.value:
            continue  # a share of a whole is less than the whole
        if _period_before(scope, _start(part, scope)) != _period_before(scope, _start(whole, scope)):
            continue  # a part of one year over the whole of another is no share
        share = 100.0 * part.value / whole.value
        result = f"{share:.1f}".rstrip("0").rstrip(".") + "%"
        return Computation(result, (part.raw.strip(), whole.raw.strip()),
                           f"{part.raw.strip()} / {whole.raw.strip()}", scope)
    return None

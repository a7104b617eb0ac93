"""Ratios computed over typed facts: a growth rate between two periods ("增长了百分之多少",
"by what percentage"), a multiple between two periods or two companies ("是…的几倍",
"how many times"), a level implied by a level and its growth rate ("推算上年收入", "implied
revenue a year earlier"), and a part's share of its whole ("占总收入的比重").

The two inputs are facts of the figure store whose slots say which is which — the asked
periods (the later one is the new value), or the asked companies in the order the question
names them — never the order of the words around them. Both must measure the same thing in
the same unit (two amounts in one currency, two counts, two percentages); otherwise nothing is
computed and the caller answers, or refuses, as usual.
"""
from __future__ import annotations

import re

from index.query import ParsedQuery
from ingest.numbers import Quantity, extract_quantities, format_quantity

from .compute import _PP_Q, Computation, asks_difference, growth_rate
from .slots import ASKS_DERIVED, ASKS_MULTIPLE, GROWTH_KEYS, period_agreement, score_facts

_GROWTH = re.compile(r"(增长|增加|提高|提升|上涨|上升|扩大|下降|减少|下滑|降低|缩小)了?\s*(百分之多少|百分之几|多少\s*%|几成)|"
                     r"增长率|增速|增幅|降幅|by what percentage|what percentage (increase|decrease|growth|rise|drop)|"
                     r"percentage (increase|decrease|growth|change)|growth rate|grow by how much", re.I)
# a printed rate answers "同比增长多少" without computing
_PRINTED_RATE = re.compile(r"同比|环比|yoy|qoq|year[- ]on[- ]year|quarter[- ]on[- ]quarter", re.I)


_WHOLE = re.compile(r"总|合计|整体|全部|全年|total|overall|whole|group", re.I)
# a part of a whole, asked in so many words (narrower than what a share answer must look like:
# "有多大比例的因子…" asks for a printed proportion, not for one to be computed)
_PART_OF_WHOLE = re.compile(r"占比|比重|占[^，,。？?]{0,16}?的?(?:比例|百分之|多少)|share of|as a share|proportion|"
                            r"what percentage of|what fraction", re.I)
_PRINTED_SHARE = re.compile(r"占|比重|份额|比例|share|proportion|accounts? for", re.I)


def asked_ratio(question: str) -> str:
    """"growth", "multiple", "derived" (a level implied by a level and its growth rate),
    "share" (a part of a whole), "difference" or "" for what a question asks to compute."""
    if ASKS_DERIVED.search(question):
        return "derived"
    if ASKS_MULTIPLE.search(question):
        return "multiple"
    if _GROWTH.search(question) and not _PRINTED_RATE.search(question):
        return "growth"
    if _PART_OF_WHOLE.search(question):
        return "share"
    if asks_difference(question):
        return "difference"
    return ""


def _quantity(f: dict) -> Quantity:
    return Quantity(value=f["value"], unit=f["unit"], currency=f["currency"], low=f["low"], high=f["high"],
                    is_range=f["low"] != f["high"])


def _same_measure(a: dict, b: dict, signed: bool = False) -> bool:
    """Two single values of one unit and currency; for a ratio also nonzero and of one sign (a
    difference may cross zero: a loss turned into a profit)."""
    if not (a["unit"] == b["unit"] and a["currency"] == b["currency"] and a["low"] == a["high"]
            and b["low"] == b["high"]):
        return False
    return signed or a["value"] != 0 and b["value"] != 0 and (a["value"] > 0) == (b["value"] > 0)


def _best(q: ParsedQuery, facts: list[dict], keep) -> dict | None:
    """The fact agreeing best with the question among those ``keep`` admits (no growth rates:
    a ratio is computed from levels) — but a gap asked in percentage points is one between two
    rates, growth rates included, and never between amounts."""
    points = bool(_PP_Q.search(q.text))
    ranked = sorted((s for s in score_facts(q, [f for f in facts if keep(f) and (not points or f.get("unit") == "%")])
                     if (points or s.fact.get("metric_key") not in GROWTH_KEYS) and not s.conflict),
                    key=lambda s: -s.score)
    return ranked[0].fact if ranked else None


_BASE_AFTER_TIMES = re.compile(r"\btimes\s+(?:as \w+ as\s+)?(?:the\s+)?", re.I)


def _named_after(text: str, entity, at: int) -> bool:
    """Is the entity's first mention after position ``at`` the first name there?"""
    from index.query import entity_mentions
    later = [(pos, e.name) for pos, e in entity_mentions(text) if pos >= at and e.kind in ("company", "unit")]
    return bool(later) and later[0][1] == entity.name


def _pair(q: ParsedQuery, facts: list[dict], signed: bool = False) -> tuple[dict, dict] | None:
    """(a, b): for two asked periods a is the later one's figure; for two asked companies a is the
    first named. None when the question does not name two of either."""
    from dataclasses import replace
    periods = [p for p in q.periods if p.kind != "relative" and p.year is not None]
    if len(periods) == 2:
        later, earlier = sorted(periods, key=lambda p: (p.year, p.quarter or p.half or p.month or 0), reverse=True)
        picks = [_best(replace(q, periods=[p]), facts, lambda f, p=p: period_agreement([p], f.get("period", "")) > 0)
                 for p in (later, earlier)]
    else:
        names = [e for e in q.entities if e.kind in ("company", "unit")]
        if len(names) != 2:
            return None
        if _BASE_AFTER_TIMES.search(q.text):   # "how many times the X does Y offer": X is the base
            at = _BASE_AFTER_TIMES.search(q.text).end()
            names.sort(key=lambda e: 0 if _named_after(q.text, e, at) else -1)
        picks = [_best(replace(q, entities=[e]), facts, lambda f, e=e: f.get("entity") == e.name) for e in names]
    a, b = picks
    if a is None or b is None or a is b or not _same_measure(a, b, signed):
        return None
    return a, b


def _shifted(period: str, back: str) -> str:
    """The label of the period one year ("yoy") or one quarter ("qoq") before ``period``."""
    m = re.fullmatch(r"(FY)?(\d{4})(?:Q([1-4]))?", period or "")
    if not m:
        return ""
    fiscal, year, quarter = m.group(1) or "", int(m.group(2)), int(m.group(3) or 0)
    if back == "yoy":
        return f"{fiscal}{year - 1}" + (f"Q{quarter}" if quarter else "")
    if not quarter:
        return ""
    year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    return f"{fiscal}{year}Q{quarter}"


def _scaled(f: dict, value: float) -> str:
    """``value`` printed like the fact ``f`` (its scale and unit words), one decimal."""
    q = extract_quantities(f["printed"])
    if not q or not q[0].scale:
        return format_quantity(Quantity(value=value, unit=f["unit"], currency=f["currency"], low=value, high=value))
    m = value / q[0].scale
    # four significant figures at most: an implied value is an estimate, not the report's precision
    mantissa = f"{m:.{max(1, 3 - len(str(int(abs(m)))) if abs(m) >= 1 else 3)}f}".rstrip("0").rstrip(".")
    raw = f["printed"]
    return raw[:q[0].span[0]] + re.sub(r"[\d,.]+", mantissa, raw[q[0].span[0]:q[0].span[1]], count=1) + raw[q[0].span[1]:]


def _inputs(*facts: dict) -> tuple[str, ...]:
    """The inputs as the NumberCheck reads them (a table cell's printed text may lack its unit)."""
    return tuple(f["printed"] if extract_quantities(f["printed"]) else format_quantity(_quantity(f)) for f in facts)


def _rate_of(rate: dict, level: dict) -> bool:
    """Is ``rate`` the growth of ``level``? A bare change belongs to the figure before it, so the
    figure store names it with that figure's metric ("云业务收入 同比增长")."""
    own = re.sub(r"\s+", "", level.get("metric", ""))
    return bool(own) and own in re.sub(r"\s+", "", rate.get("metric", ""))


def _derived(q: ParsedQuery, facts: list[dict]) -> Computation | None:
    """A level implied by a printed level and its printed growth rate: the value a year (or a
    quarter) before = level ÷ (1 + rate). The asked earlier period must be the one the rate
    reaches back to."""
    levels = [s.fact for s in sorted(score_facts(q, facts), key=lambda s: -s.score)
              if s.fact.get("metric_key") not in GROWTH_KEYS and s.fact.get("unit") not in ("%", "pp")
              and s.fact["low"] == s.fact["high"] and s.fact.get("period")]
    asked = {p.label for p in q.periods}
    for level in levels[:1]:          # the level asked about, or nothing: never another one's
        for rate in facts:
            key = rate.get("metric_key")
            if key not in GROWTH_KEYS or rate.get("unit") != "%" or rate.get("period") != level["period"] or \
                    rate.get("entity", "") != level.get("entity", "") or rate["low"] != rate["high"] or \
                    not _rate_of(rate, level):
                continue
            backs = {"growth_yoy": ["yoy"], "growth_qoq": ["qoq"]}.get(key, ["yoy", "qoq"])
            targets = [_shifted(level["period"], b) for b in backs]
            if len(asked) == 2 and not any(t in asked for t in targets):
                continue
            if rate["value"] <= -100:
                continue
            value = level["value"] / (1 + rate["value"] / 100)
            return Computation(_scaled(level, value), _inputs(level, rate), f"{level['printed']} ÷ (1 + {rate['printed'].lstrip('+')})",
                               level["text"] if level["text"] == rate["text"] else f"{level['text']}\n{rate['text']}")
    return None


def _wholes(part: dict, facts: list[dict]) -> list[dict]:
    """The facts that can be ``part``'s whole: the same measure, entity and period, larger, and
    the unqualified (or total) form of its metric."""
    from index.query import metric_qualifier
    return [f for f in facts if f is not part and _same_measure(f, part) and f["value"] > part["value"]
            and f.get("entity", "") == part.get("entity", "") and f.get("period") == part.get("period")
            and (f.get("metric_key") and f.get("metric_key") == part.get("metric_key")
                 and metric_qualifier(part["metric"]) and not metric_qualifier(f["metric"])
                 or _WHOLE.search(f.get("metric", "")) and not _WHOLE.search(part.get("metric", "")))]


def _share(q: ParsedQuery, facts: list[dict]) -> Computation | None:
    """A part as a percentage of its whole, when the evidence prints both and not the share:
    the part is the figure agreeing best with the question; the whole measures the same in the
    same unit, is larger, and is the unqualified or total form of the part's metric."""
    from .slots import about_the_question
    if any(f.get("unit") == "%" and f.get("metric_key") not in GROWTH_KEYS and about_the_question(q, f)
           and _PRINTED_SHARE.search(f"{f.get('metric', '')} {f.get('item', '')}") for f in facts):
        return None                          # the report prints the share: it is looked up
    ranked = [s.fact for s in sorted(score_facts(q, facts), key=lambda s: -s.score) if not s.conflict
              and s.fact.get("unit") not in ("%", "pp") and s.fact["low"] == s.fact["high"] and s.fact["value"] > 0]
    if len(ranked) > 1 and _wholes(ranked[1], facts) == [ranked[0]]:
        ranked = ranked[1:]               # the question names the whole too ("share of revenue"): it ranks first
    wholes = _wholes(ranked[0], facts) if ranked else []   # of the part asked about, or nothing
    if len(wholes) != 1:
        return None
    part, whole = ranked[0], wholes[0]
    return Computation(f"{part['value'] / whole['value'] * 100:.1f}%", _inputs(part, whole),
                       f"{part['printed']} ÷ {whole['printed']}",
                       part["text"] if part["text"] == whole["text"] else f"{whole['text']}\n{part['text']}")


def calculate(q: ParsedQuery, facts: list[dict]) -> Computation | None:
    """The asked growth rate, multiple, implied level or share, computed from facts of the
    evidence, or None."""
    kind = asked_ratio(q.text)
    if kind == "derived":
        return _derived(q, facts)
    if kind == "share":
        return _share(q, facts)
    pair = _pair(q, facts, signed=kind == "difference") if kind else None
    if pair is None:
        return None
    a, b = pair
    if kind == "difference":
        # the size of the change (later minus earlier, first named minus second), as printed
        gap = abs(a["value"] - b["value"])
        result = f"{gap:.2f}".rstrip("0").rstrip(".") + "个百分点" if a["unit"] == "%" else _scaled(a, gap)
        formula = f"{a['printed']} − {b['printed']}"
        # two periods: a is the later; a growth asked with no unit also gets its rate
        rate = growth_rate(_quantity(b), _quantity(a), q.text) if len(q.periods) == 2 else ""
        if rate:
            result, formula = f"{result}（{rate}）", f"{formula}；÷ {b['printed']}"
        return Computation(result, _inputs(a, b), formula,
                           a["text"] if a["text"] == b["text"] else f"{b['text']}\n{a['text']}")
    ratio = a["value"] / b["value"]
    if kind == "growth":
        result = f"{(ratio - 1) * 100:.1f}%"
        formula = f"{a['printed']} ÷ {b['printed']} − 1"
    else:
        result = f"{ratio:.2f}倍".replace(".00倍", "倍")
        formula = f"{a['printed']} ÷ {b['printed']}"
    inputs = _inputs(a, b)
    source = a["text"] if a["text"] == b["text"] else f"{b['text']}\n{a['text']}"
    return Computation(result, inputs, formula, source)

"""Ratios computed over typed facts: a growth rate between two periods ("增长了百分之多少",
"by what percentage") and a multiple between two periods or two companies ("是…的几倍",
"how many times").

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

from .compute import Computation
from .slots import GROWTH_KEYS, period_agreement, score_facts

_GROWTH = re.compile(r"(增长|增加|提高|提升|上涨|上升|扩大|下降|减少|下滑|降低|缩小)了?\s*(百分之多少|百分之几|多少\s*%|几成)|"
                     r"增长率|增速|增幅|降幅|by what percentage|what percentage (increase|decrease|growth|rise|drop)|"
                     r"percentage (increase|decrease|growth|change)|growth rate|grow by how much", re.I)
_MULTIPLE = re.compile(r"(几|多少)\s*倍|how many times|what multiple|times (as large|as much|larger|higher)", re.I)
# a printed rate answers "同比增长多少" without computing
_PRINTED_RATE = re.compile(r"同比|环比|yoy|qoq|year[- ]on[- ]year|quarter[- ]on[- ]quarter", re.I)


def asked_ratio(question: str) -> str:
    """"growth", "multiple" or "" for the ratio a question asks to compute."""
    if _MULTIPLE.search(question):
        return "multiple"
    if _GROWTH.search(question) and not _PRINTED_RATE.search(question):
        return "growth"
    return ""


def _quantity(f: dict) -> Quantity:
    return Quantity(value=f["value"], unit=f["unit"], currency=f["currency"], low=f["low"], high=f["high"],
                    is_range=f["low"] != f["high"])


def _same_measure(a: dict, b: dict) -> bool:
    return a["unit"] == b["unit"] and a["currency"] == b["currency"] and a["low"] == a["high"] \
        and b["low"] == b["high"] and a["value"] != 0 and b["value"] != 0 and (a["value"] > 0) == (b["value"] > 0)


def _best(q: ParsedQuery, facts: list[dict], keep) -> dict | None:
    """The fact agreeing best with the question among those ``keep`` admits (no growth rates:
    a ratio is computed from levels)."""
    ranked = sorted((s for s in score_facts(q, [f for f in facts if keep(f)])
                     if s.fact.get("metric_key") not in GROWTH_KEYS and not s.conflict), key=lambda s: -s.score)
    return ranked[0].fact if ranked else None


_BASE_AFTER_TIMES = re.compile(r"\btimes\s+(?:as \w+ as\s+)?(?:the\s+)?", re.I)


def _named_after(text: str, entity, at: int) -> bool:
    """Is the entity's first mention after position ``at`` the first name there?"""
    from index.query import entity_mentions
    later = [(pos, e.name) for pos, e in entity_mentions(text) if pos >= at and e.kind in ("company", "unit")]
    return bool(later) and later[0][1] == entity.name


def _pair(q: ParsedQuery, facts: list[dict]) -> tuple[dict, dict] | None:
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
    if a is None or b is None or a is b or not _same_measure(a, b):
        return None
    return a, b


def calculate(q: ParsedQuery, facts: list[dict]) -> Computation | None:
    """The asked growth rate or multiple, computed from two facts of the evidence, or None."""
    kind = asked_ratio(q.text)
    pair = _pair(q, facts) if kind else None
    if pair is None:
        return None
    a, b = pair
    ratio = a["value"] / b["value"]
    if kind == "growth":
        result = f"{(ratio - 1) * 100:.1f}%"
        formula = f"{a['printed']} ÷ {b['printed']} − 1"
    else:
        result = f"{ratio:.2f}倍".replace(".00倍", "倍")
        formula = f"{a['printed']} ÷ {b['printed']}"
    # the inputs, as the NumberCheck reads them (a table cell's printed text may lack its unit)
    inputs = tuple(f["printed"] if extract_quantities(f["printed"]) else format_quantity(_quantity(f))
                   for f in (a, b))
    source = a["text"] if a["text"] == b["text"] else f"{b['text']}\n{a['text']}"
    return Computation(result, inputs, formula, source)

"""Extract first, then state: the figure, the quote and the page are chosen by code.

``answer_by_extraction`` picks the best evidence unit for the parsed question, refuses
when the asked period or entity is not in it (giving the nearest evidence instead), picks
the figure nearest the asked metric, and reports other reports that give a different
value (conflicts). ``unsupported_numbers`` is the NumberCheck every answer passes through,
whoever wrote it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.query import ParsedQuery
from ingest import numbers as num

from .evidence import Unit, _mentions, metric_surfaces

_PCT_METRICS = {"growth", "growth_yoy", "growth_qoq", "gross_margin", "margin", "net_margin", "market_share",
                "operating_margin", "ebitda_margin", "share"}


@dataclass
class Extraction:
    unit: Unit | None
    figure: str = ""                       # the figure as printed, e.g. "994 亿美元"
    abstained: bool = False
    reason: str = ""                       # why it refused
    nearest: list[Unit] = field(default_factory=list)
    conflicts: list[tuple[Unit, str]] = field(default_factory=list)


def _figures(text: str) -> list[tuple[int, num.Quantity]]:
    """Figures in text (years, periods and dates left out) with their positions."""
    out, start = [], 0
    for q in num.extract_quantities(text):
        if q.kind != "figure":
            continue
        i = text.find(q.raw, start)
        if i < 0:
            i = text.find(q.raw)
        out.append((max(i, 0), q))
        start = max(i, 0) + len(q.raw) if i >= 0 else start
    return out


def pick_figure(q: ParsedQuery, unit: Unit) -> str:
    """The figure the question asks for: in a table row, the cell under the asked period or
    metric; in a sentence, the first figure after the metric (or period) mention."""
    want_pct = any(m.key in _PCT_METRICS for m in q.metrics)
    if unit.cells:
        best, best_score = "", -1.0
        mets = metric_surfaces(q)
        for i, (head, cell) in enumerate(unit.cells):
            if not _figures(cell):
                continue
            score = 0.0
            score += 2.0 * sum(1 for p in q.periods if p.matches(head))
            score += 1.0 * sum(1 for s in mets if _mentions(head, s) >= 0)
            score += 0.5 if want_pct == ("%" in cell) else 0.0
            score -= 0.01 * i
            if score > best_score:
                best, best_score = cell.strip(), score
        if len(_figures(best)) > 1:  # a sentence inside a cell: pick within it
            return _pick_in_text(q, best, want_pct)
        return best
    return _pick_in_text(q, unit.text, want_pct)


def _pick_in_text(q: ParsedQuery, text: str, want_pct: bool) -> str:
    figures = _figures(text)
    if not figures:
        return ""
    anchors = [p for p in (_mentions(text, s) for s in metric_surfaces(q)) if p >= 0]
    if not anchors:
        anchors = [m.start() for p in q.periods for v in p.variants() for m in re.finditer(re.escape(v), text)]
    anchor = min(anchors) if anchors else 0
    after = [(pos, f) for pos, f in figures if pos >= anchor]
    candidates = after or figures
    if want_pct and any(f.unit == "%" for _, f in candidates):
        candidates = [(p, f) for p, f in candidates if f.unit == "%"]
    elif not want_pct and any(f.unit not in ("%", "pp") for _, f in candidates):
        candidates = [(p, f) for p, f in candidates if f.unit not in ("%", "pp")]
    return candidates[0][1].raw.strip()


def _mismatch(q: ParsedQuery, u: Unit) -> str:
    m = u.matched
    if m.get("periods_wanted") and not m.get("periods"):
        return "period"
    if m.get("entities_wanted") and not m.get("entities"):
        return "entity"
    if q.comparisons:
        wants = set(q.comparisons)
        says = {"yoy" for k in ("同比", "YoY", "yoy", "YOY") if k in u.full} | \
               {"qoq" for k in ("环比", "QoQ", "qoq", "QOQ") if k in u.full}
        if says and not (wants & says):
            return "comparison"
    return ""


def answer_by_extraction(q: ParsedQuery, ranked: list[Unit]) -> Extraction:
    if not ranked:
        return Extraction(None, abstained=True, reason="no evidence")
    top = ranked[:12]
    fitting = [u for u in top if not _mismatch(q, u)]
    if not fitting:
        # the nearest evidence: same entity and metric, whatever the period
        near = sorted(top, key=lambda u: (-(u.matched["entities"] + u.matched["metrics"]), -u.score))
        return Extraction(None, abstained=True, reason=_mismatch(q, top[0]), nearest=near[:2])
    best = fitting[0]
    if q.metrics and not best.matched.get("metrics") and best.matched.get("entities_wanted") and \
            not best.matched.get("entities"):
        return Extraction(None, abstained=True, reason="metric", nearest=[best])
    figure = pick_figure(q, best) if (q.metrics or q.periods) else ""
    ext = Extraction(best, figure=figure)
    ext.conflicts = _conflicts(q, best, figure, fitting[1:])
    return ext


def _conflicts(q: ParsedQuery, best: Unit, figure: str, others: list[Unit]) -> list[tuple[Unit, str]]:
    """Other reports stating the same entity/metric/period with a different value."""
    if not figure or not (q.entities and q.metrics and q.periods):
        return []
    mine = num.extract_quantities(figure)
    out = []
    for u in others:
        if u.chunk.file == best.chunk.file or u.score < best.score * 0.92:
            continue
        m = u.matched
        if (m["entities"] < m["entities_wanted"] or m["periods"] < m["periods_wanted"]
                or m["metrics"] < len(q.metrics)):
            continue
        theirs = pick_figure(q, u)
        other = num.extract_quantities(theirs)
        if mine and other and mine[0].unit == other[0].unit and not num.same_value(mine[0], other[0]):
            out.append((u, theirs))
    return out[:3]


def unsupported_numbers(answer: str, evidence_texts: list[str]) -> list[str]:
    """Figures stated in ``answer`` that no cited evidence contains (unit-normalised)."""
    joined = "\n".join(evidence_texts)
    missing = []
    for q in num.extract_quantities(answer):
        if q.kind != "figure":
            continue
        if not num.number_in_text(q, joined):
            missing.append(q.raw.strip())
    return missing

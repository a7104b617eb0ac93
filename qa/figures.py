"""The figure store, read: every reported value of a metric across the library, with its
report, broker, report date, page and status — a time series and a revision history.

Values are compared only within one *slot* (entity, metric, period, unit): the same slot in two
reports either **agrees**, is a **revision** (a later report changes a forecast, guidance or
target, or a sentence replaces a previous value) or is a **conflict** (two different actuals).
Figures of different slots are never set against each other.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass

from ingest.facts import periods_in
from ingest.numbers import Quantity, same_value

EXPECTATIONS = ("forecast", "guidance", "target", "previous")


@dataclass
class Figure:
    entity: str
    metric: str
    metric_key: str
    period: str
    status: str
    printed: str
    value: float
    unit: str
    currency: str
    file: str
    page: int
    quote: str
    broker: str = ""
    date: str = ""
    title: str = ""
    item: str = ""
    bbox: tuple[float, float, float, float] | None = None
    table_id: str | None = None
    label: str = ""          # agree | revision | conflict | "" (the first of its slot)
    against: str = ""        # what the label compares with: "broker date p.N: printed"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class FigureQuery:
    entities: tuple[str, ...] = ()
    metric_keys: tuple[str, ...] = ()
    metric_like: str = ""
    periods: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.entities or self.metric_keys or self.metric_like or self.periods)


def figure_query(text: str = "", *, entity: str | None = None, metric: str | None = None,
                 period: str | None = None) -> FigureQuery:
    """Slots from free text ("CoreWeave backlog 1Q26") and/or explicit fields; an explicit
    field wins. Names resolve through the alias table, metrics through the metric synonyms
    (an unknown metric is matched as a phrase), periods to their normalised labels."""
    from index.query import find_entities, metric_key_of, parse_query
    q = parse_query(text) if text else None
    entities = [e.name for e in find_entities(entity)] if entity else \
        [e.name for e in q.entities if e.kind in ("company", "unit")] if q else []
    if entity and not entities:
        entities = [entity.strip()]
    keys, like = [], ""
    if metric:
        key = metric_key_of(metric)
        keys, like = ([key], "") if key else ([], metric.strip())
    elif q and q.metrics:
        keys = [m.key for m in q.metrics]
    periods = [label for _, label, _ in periods_in(period or (text if q else ""))]
    return FigureQuery(tuple(entities), tuple(keys), like, tuple(dict.fromkeys(periods)))


def _quantity(f: Figure) -> Quantity:
    return Quantity(value=f.value, unit=f.unit, currency=f.currency, low=f.value, high=f.value)


def _slot(f: Figure) -> tuple:
    return (f.entity, f.metric_key or f.metric, f.period, f.unit, f.currency)


_GENERIC = re.compile(r"[\s\W_]+|公司|其|该|将|单季|全年|季度|年度|的|total|company|its|the", re.I)


def _core(metric: str) -> str:
    """The metric's own words: without company names, spaces and generic words."""
    from index.query import entity_mentions, normalize_text
    text = normalize_text(metric)
    for pos, e in sorted(entity_mentions(metric), key=lambda m: -m[0]):
        text = text[:pos] + text[pos + len(e.alias):]
    return _GENERIC.sub("", text).lower()


def _comparable(a: Figure, b: Figure) -> bool:
    """Same slot and no different qualifier on the metric: "海外电池收入" and "收入" share a key
    but are different figures, so they are never set against each other; "积压订单" and
    "Backlog" (one key, no qualifier) are the same figure in other words."""
    from index.query import metric_qualifier
    if (a.metric_key or b.metric_key) and a.metric_key != b.metric_key:
        return False
    if not a.metric_key:
        return _core(a.metric) == _core(b.metric)
    return metric_qualifier(a.metric) == metric_qualifier(b.metric)


def label_figures(figures: list[Figure]) -> list[Figure]:
    """Order by report date (then page) and label each figure against the earlier ones of its slot."""
    figures.sort(key=lambda f: (f.date or "9999", f.file, f.page))
    seen: dict[tuple, list[Figure]] = {}
    for f in figures:
        group = seen.setdefault(_slot(f), [])
        earlier = [e for e in group if _comparable(f, e)]
        group.append(f)
        if earlier:
            last = earlier[-1]
            if any(same_value(_quantity(f), _quantity(e)) for e in earlier):
                f.label = "agree"
            elif f.status in EXPECTATIONS or last.status in EXPECTATIONS or \
                    (f.file == last.file and last.status == "previous"):
                f.label = "revision"
            else:
                f.label = "conflict"
            f.against = f"{last.broker or last.file} {last.date} p.{last.page}: {last.printed}"
    return figures


def to_csv(figures: list[Figure]) -> str:
    columns = ["entity", "metric", "period", "status", "printed", "value", "unit", "currency", "broker", "date",
               "title", "file", "page", "label", "against", "quote"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for f in figures:
        writer.writerow(f.to_dict())
    return out.getvalue()

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


CHANGE_KEYS = {"growth", "growth_yoy", "growth_qoq"}
_CHANGE_WORDS = re.compile(r"yoy|qoq|同比|环比|增速|增长率|增长|增幅|growth", re.I)
_BRACKETED = re.compile(r"[（(][^）)]*[)）]")


_TOTAL = re.compile(r"合计|总计|共计|累计|加总|总和|[0-9两二三四五六七八九十几多]+\s*家|\b(?:total|combined|aggregate)\b",
                    re.I)


def is_total(metric: str) -> bool:
    """A figure of several companies together ("三家公司资本开支合计", "Acme、Globex 资本开支"):
    it is filed under one of them, but is never that company's own figure."""
    from index.query import entity_mentions
    return bool(_TOTAL.search(metric)) or len({e.name for _, e in entity_mentions(metric)}) > 1


# a security code in a metric phrase: a row of a comparable-companies table ("拓尔思 300229.SZ"),
# which is that company's figure whoever the report is about
_TICKER = re.compile(r"(?<![\w.])(?:\d{6}\.(?:SH|SZ|BJ)|\d{4,5}\.HK|[A-Z]{1,5}\.(?:O|N|US))(?![\w.])", re.I)


def metric_variant(metric_key: str, metric: str) -> str:
    """What, besides its key, tells a metric apart: the words written onto it ("海外电池" in
    "海外电池收入"); for a change (a growth rate), what changes — "收入 YOY" and "毛利 YOY"
    are both ``growth_yoy`` but two different figures; and whether it is a total of several
    companies or a row of another listed company (a security code). "" when nothing does."""
    from index.query import metric_key_of, metric_qualifier
    variant = metric_qualifier(metric)
    if metric_key in CHANGE_KEYS:
        rest = _BRACKETED.sub(" ", _CHANGE_WORDS.sub(" ", metric))     # "积压订单 (十亿) YOY" → 积压订单
        base = metric_key_of(rest)
        # the growth of what: "海外收入" (qualifier and key) or, for an unknown metric, its words
        variant = f"{metric_qualifier(rest)}/{base}" if base else _core(rest)
    ticker = _TICKER.search(metric)
    if ticker:
        variant = f"{variant}@{ticker.group(0).upper()}"
    return f"合计:{variant}" if is_total(metric) else variant


def _comparable(a: Figure, b: Figure) -> bool:
    """Same slot and no different qualifier on the metric: "海外电池收入" and "收入" share a key
    but are different figures, so they are never set against each other, nor are the growth
    of revenue and the growth of gross profit; "积压订单" and "Backlog" (one key, no
    qualifier) are the same figure in other words."""
    if (a.metric_key or b.metric_key) and a.metric_key != b.metric_key:
        return False
    if not a.metric_key:
        return _core(a.metric) == _core(b.metric)
    return metric_variant(a.metric_key, a.metric) == metric_variant(b.metric_key, b.metric)


def label_figures(figures: list[Figure]) -> list[Figure]:
    """Order by report date (then page) and label each figure against the earlier ones of its slot."""
    figures.sort(key=lambda f: (f.date or "9999", f.file, f.page))
    seen: dict[tuple, list[Figure]] = {}
    for f in figures:
        if not (f.period and f.entity):   # whose figure or which period unknown: no slot to compare within
            continue
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


# The export and the app's table share these columns, so a CSV or Excel file holds exactly the
# rows (and in the same order) the figures page shows.
EXPORT_COLUMNS = ["entity", "metric", "period", "status", "printed", "value", "unit", "currency", "broker", "date",
                  "title", "file", "page", "label", "against", "quote"]


def export_rows(figures: list[Figure]) -> list[dict]:
    """One plain dict per figure, ``EXPORT_COLUMNS`` in order (what CSV, Excel and the table hold)."""
    return [{c: getattr(f, c) for c in EXPORT_COLUMNS} for f in figures]


def to_csv(figures: list[Figure]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS)
    writer.writeheader()
    writer.writerows(export_rows(figures))
    return out.getvalue()


def to_xlsx(figures: list[Figure]) -> bytes:
    """The same rows as ``to_csv`` as an Excel workbook (openpyxl): numbers stay numbers, the
    header row is frozen and filterable."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    book = Workbook()
    sheet = book.active
    sheet.title = "figures"
    sheet.append(EXPORT_COLUMNS)
    for row in export_rows(figures):
        sheet.append([_cell(row[c]) for c in EXPORT_COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    widths = {"quote": 60, "title": 30, "metric": 24, "against": 36, "file": 30}
    for i, column in enumerate(EXPORT_COLUMNS, 1):
        sheet.column_dimensions[get_column_letter(i)].width = widths.get(column, 14)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _cell(value):
    """A value as a worksheet cell: text without the control characters XML cannot hold (a PDF's
    text may carry them), and text that a spreadsheet would run as a formula kept as text."""
    if not isinstance(value, str):
        return value
    value = _ILLEGAL_XML.sub("", value)
    return "'" + value if value[:1] in ("=", "+", "-", "@") and not _NUMBER.fullmatch(value) else value


_NUMBER = re.compile(r"[-+]?\d[\d,.]*%?")


# -- a series over periods --------------------------------------------------------------------------

_PERIOD = re.compile(r"(FY)?(\d{4})(?:(Q[1-4])|(H[12]))?(?:(Q[1-4]))?")
PERIOD_KINDS = {"year": "年度", "half": "半年", "quarter": "季度", "fiscal": "财年", "other": "其他"}


def period_kind(period: str) -> str:
    """year | half | quarter | fiscal | other — a series plots periods of one kind, since a
    fiscal year and a calendar year of the same number are different periods."""
    m = _PERIOD.fullmatch(period or "")
    if not m:
        return "other"
    if m[1]:
        return "fiscal"
    return "quarter" if m[3] else "half" if m[4] else "year"


def period_order(period: str) -> tuple:
    """A sort key that puts periods in time order: 2025 < 2026H1 < 2026Q1 … within a year by
    its first month, the whole year first."""
    m = _PERIOD.fullmatch(period or "")
    if not m:
        return (9999, 99, period or "")
    part = m[3] or m[5] or m[4] or ""
    month = {"": 0, "H1": 1, "Q1": 1, "Q2": 4, "H2": 7, "Q3": 7, "Q4": 10}[part]
    return (int(m[2]), month, period)


SCALES = [(1e12, "万亿"), (1e8, "亿"), (1e4, "万"), (1.0, "")]
CURRENCY_WORDS = {"USD": "美元", "CNY": "元", "HKD": "港元", "EUR": "欧元", "JPY": "日元", "GBP": "英镑"}
UNIT_WORDS = {"%": "%", "pp": "个百分点", "x": "倍", "W": "W", "Wh": "Wh"}


def axis_unit(figures: list[Figure]) -> tuple[float, str]:
    """(divisor, label) to plot figures of one unit on a readable axis: 994亿美元 → 994 on
    an axis in 亿美元."""
    if not figures:
        return 1.0, ""
    f = figures[0]
    if f.unit:
        return 1.0, UNIT_WORDS.get(f.unit, f.unit)
    peak = max(abs(x.value) for x in figures)
    divisor, word = next(((d, w) for d, w in SCALES if peak >= d * 10 or d == 1.0), (1.0, ""))
    currencies = {x.currency for x in figures if x.currency}
    return divisor, word + (CURRENCY_WORDS.get(next(iter(currencies)), "") if len(currencies) == 1 else "")


def unit_groups(figures: list[Figure]) -> list[list[Figure]]:
    """Figures by unit family ("" amounts, "%", "x" …), the largest group first: one chart
    plots one of them. Amounts in two named currencies are two groups; an amount whose
    report names no currency (a table "(十亿)") stays with the amounts of its metric."""
    groups: dict[tuple, list[Figure]] = {}
    currencies = {f.currency for f in figures if f.currency}
    for f in figures:
        currency = f.currency if len(currencies) > 1 else ""
        groups.setdefault((f.unit, currency), []).append(f)
    return sorted(groups.values(), key=len, reverse=True)


def figure_slots(rows: list[tuple[str, str, str, int]]) -> list[dict]:
    """(entity, metric_key, metric phrase, count) rows of the store, merged per entity and
    metric — a known metric by key and variant ("收入" and "营业收入" are one choice,
    "海外收入" another, "毛利 YOY" and "收入 YOY" two more), an unknown one by its own words — each shown by its most used
    wording, the most reported first."""
    merged: dict[tuple, dict] = {}
    for entity, key, metric, count in rows:
        if not metric:
            continue
        qualifier = metric_variant(key, metric) if key else None
        slot = (entity, key, qualifier) if key else (entity, "", _core(metric) or metric)
        entry = merged.setdefault(slot, {"entity": entity, "metric_key": key, "qualifier": qualifier,
                                         "metric": metric, "count": 0, "_best": 0})
        entry["count"] += count
        if count > entry["_best"] or count == entry["_best"] and len(metric) < len(entry["metric"]):
            entry["metric"], entry["_best"] = metric, count
    out = sorted(merged.values(), key=lambda e: (-e["count"], e["entity"], e["metric"]))
    for e in out:
        del e["_best"]
    return out

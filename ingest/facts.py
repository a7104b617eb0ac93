"""Facts: every printed figure of a report with the slots an analyst reads around it.

A ``Fact`` is one figure (value, unit, currency, as printed) and what it is *about*: its
**metric** phrase (the words it measures), its **entity** (whose figure), its **period**
(normalised: ``2026Q1``, ``FY2026Q3``, ``2026``, ``2026H1``), its **status** (actual, forecast,
guidance, target, or a ``previous`` value that a later one in the same sentence replaces), and
where it is printed (file, page, bbox; the table cell or the sentence).

Two readers, both general properties of broker reports rather than of any one report:

- **Tables** from the cell grid: a cell's metric is its row label, unless its column header
  is not a period (then the header is the metric and the row label the item); its period comes
  from the column header, else the row label, else the caption; its unit from the cell, the
  column header, the row label, the caption or the table's unit line, in that order.
- **Sentences** split into clauses: a figure's metric is the phrase between the previous figure
  (or the clause start) and itself, without connective verbs; a bare change ("同比增长 57%",
  "up 30% YoY") belongs to the figure before it; its period is the nearest period before it in
  the sentence, else the one after it in its clause, else the paragraph's or the heading's;
  "由 A 上调至 B" / "raised from A to B" makes A ``previous`` and B the current value.

Which words name an entity or a known metric is a dictionary question, answered by the index
stage (aliases and metric synonyms); this module takes those finders as callbacks so ingest
stays free of that data.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace

from .model import BBox, BlockKind, Document, Table
from .numbers import Quantity, extract_quantities, parse_quantity
from .tables import unit_hint

# (position, canonical name) of every entity mention in a text, in order
EntityFinder = Callable[[str], list[tuple[int, str]]]

STATUSES = ("actual", "forecast", "guidance", "target", "previous")


@dataclass
class Fact:
    value: float                   # scale applied: 994亿美元 -> 9.94e10
    low: float
    high: float
    unit: str                      # "" (a plain amount or count), "%", "pp", "x", "W", …
    currency: str                  # "USD", "CNY", … or ""
    printed: str                   # the figure exactly as printed, with the unit it was read with
    kind: str                      # amount | percent | pp | multiple | count | other
    metric: str                    # the metric phrase as printed ("Backlog", "收入 同比增长")
    period: str                    # "2026Q1", "FY2026Q3", "2026", "2026H1", "" if none is printed
    status: str                    # one of STATUSES
    file: str
    page: int
    text: str                      # the sentence, or the table row (cells joined by tabs)
    entity: str = ""               # canonical entity, when an EntityFinder was given
    item: str = ""                 # for table cells: the other axis (row label or column header)
    bbox: BBox | None = None
    table_id: str | None = None
    row: int | None = None         # data-row index in the table
    col: int | None = None
    estimate: bool = False         # the period is marked as an estimate (2026E) or forecast wording

    def to_dict(self) -> dict:
        return asdict(self)


# --- periods ---------------------------------------------------------------------------------

def period_label(q: Quantity) -> str:
    """The normalised label of a period or year quantity ("" for a period without a year)."""
    if q.kind == "year":
        return f"{int(q.low)}-{int(q.high)}" if q.is_range else str(int(q.value))
    if q.kind != "period" or not q.value:
        return ""
    fiscal = q.unit.startswith("FY")
    part = q.unit[2:] if fiscal else q.unit
    year = int(q.value)
    if q.is_range:
        return f"FY{int(q.low)}-FY{int(q.high)}"
    return f"{'FY' if fiscal else ''}{year}{part}"


_YEAR_SPAN = re.compile(r"^\s*(?:年)?\s*(?:-|–|—|~|至|到)\s*$")


_DUE_AFTER = re.compile(r"\s*年?\s*(?:\d{1,2}\s*月\s*(?:\d{1,2}\s*日)?\s*)?前?\s*(?:到期|届满|期满)")
_DUE_BEFORE = re.compile(r"\b(?:due|matur(?:ing|es?)(?:\s+in)?)\s*$", re.I)


def _sentence_periods(text: str, quantities: list[Quantity]) -> list[tuple[int, str, bool]]:
    """(position, label, marked as an estimate) of every dated period; two years joined by a
    dash or 至 are one span ("2024-2027 年": ``2024-2027``)."""
    out: list[tuple[int, str, bool]] = []
    last: Quantity | None = None
    for q in quantities:
        label = period_label(q)
        if not label or _DUE_AFTER.match(text, q.span[1]) or _DUE_BEFORE.search(text[max(0, q.span[0] - 16):q.span[0]]):
            continue          # "2037 年到期", "notes due 2036": a maturity, not the period reported
        est = q.kind == "year" and q.unit in ("E", "F")
        if last is not None and q.kind == last.kind == "year" and _YEAR_SPAN.match(text[last.span[1]:q.span[0]]):
            pos, first, first_est = out.pop()
            out.append((pos, f"{first}-{label}", first_est or est))
        else:
            out.append((q.span[0], label, est))
        last = q
    return out


def periods_in(text: str) -> list[tuple[int, str, bool]]:
    """(position, normalised label, marked as an estimate) of the periods ``text`` names."""
    return _sentence_periods(text, extract_quantities(text))


# --- status words ------------------------------------------------------------------------------

_FORECAST = re.compile(r"预计|预测|预期|有望|将达|将实现|将超|将突破|展望|估计|测算|"
                       r"\b(?:expect\w*|forecast\w*|estimat\w*|project\w*|anticipat\w*|will)\b", re.I)
_GUIDANCE = re.compile(r"指引|guidance|guided|\bguide\b|outlook", re.I)
_TARGET = re.compile(r"目标|\btarget\w*\b|\baims?\b|\bgoal\b", re.I)
# "由 A 上调至 B", "从年化 A 提高到了年化 B", "raised from A to B": A is replaced by B (a short
# qualifier may repeat before each figure)
_REVISED_TO = re.compile(r"^\s*[)）]?\s*(?:(?:上调|下调|上修|下修|提高|提升|调高|调低|调整|修正|增长|增加|下降|降低|减少|扩大|收窄|"
                         r"raised|lowered|cut|revised|increased|reduced|upgraded|downgraded|rose|fell|grew)\s*(?:了)?)?"
                         r"\s*(?:至|到|为|to)\s*(?:了)?\s*[\u4e00-\u9fff]{0,4}\s*$", re.I)
_REVISED_FROM = re.compile(r"(?:由|从|from)\s*[\u4e00-\u9fffA-Za-z ]{0,8}$", re.I)


def _status(before: str, estimate: bool) -> str:
    if _GUIDANCE.search(before):
        return "guidance"
    if _TARGET.search(before):
        return "target"
    if estimate or _FORECAST.search(before):
        return "forecast"
    return "actual"


# --- metric phrases ----------------------------------------------------------------------------

_CONNECTIVES = re.compile(
    r"(?:^|\s)(?:was|were|is|are|of|at|to|reached|hit|totalled|totaled|came in at|stood at|rose to|grew to|"
    r"increased to|fell to|declined to|amounted to|about|approximately|around|nearly|over|roughly|"
    r"more than|less than|up to|by|and|with|from|its|their|a|an|the)\s*$", re.I)
_CN_TAIL = re.compile(r"(?:(?:提升|增长|增加|上升|下降|降低|提高|上调|下调|扩大|缩小|回落|攀升|扩张|收窄)(?:至|到)|由|从|分别|合计|累计|共计|总计|已经|已|达到了|达到|达|为|是|约为|约|超过|超|突破|实现|录得|"
                      r"增长至|提升至|下降至|升至|降至|增至|减至|上调至|下调至|至|到|了|的|在|有|近|逾|仅|高达|"
                      r"大约|左右|接近|将|预计|预期|有望)+\s*$")
_CN_HEAD = re.compile(r"^\s*(?:其中|此外|同时|另外|以及|并且|而|且|和|与|及|将|预计|预期|预测|有望|、|，|,|；|;|：|:)+\s*")
_CHANGE = re.compile(r"^(?:同比|环比|较上年同期|较去年同期|较上季度)?\s*(?:增长|增加|提升|上升|下降|下滑|减少|增速|增幅|降幅|变化|提高)?"
                     r"(?:了)?$|^(?:up|down|growth|grew|rose|fell|increase|decrease)\b.*$", re.I)
_CHANGE_WORD = re.compile(r"同比|环比|增长|增速|增幅|下降|下滑|减少|提升|\bYoY\b|\bQoQ\b|\bup\b|\bdown\b|growth", re.I)
_AFTER_CHANGE = re.compile(r"^\s*(?:[)）])?\s*(?:YoY|QoQ|y/y|q/q|year[- ]over[- ]year|yoy|qoq)", re.I)
MAX_METRIC_CHARS = 24


_FROM_TAIL = re.compile(r"(?:由|从|\bfrom)\s*[\u4e00-\u9fffA-Za-z ]{0,8}$", re.I)


def _clean_metric(phrase: str) -> str:
    # an unclosed parenthesis before the figure: a unit note is dropped ("收入（亿元"), words that
    # name what the figure is are kept ("高可用（如单实例可用性")
    phrase = re.sub(r"[（(]\s*(?:如|例如|e\.g\.)?([^）)]*)$",
                    lambda m: f" {m.group(1)}" if len(re.findall(r"[\u4e00-\u9fff]", m.group(1))) >= 3 else "", phrase)
    phrase = _FROM_TAIL.sub("", phrase)                     # "收入从年化" → "收入": the old value follows
    phrase = re.sub(r"\s+", " ", phrase).strip(" ，,；;：:、（(")
    for _ in range(3):
        phrase = _CN_TAIL.sub("", phrase)
        phrase = _CONNECTIVES.sub("", phrase).strip(" ，,；;：:、")
    phrase = _CN_HEAD.sub("", phrase)
    if len(phrase) > MAX_METRIC_CHARS:
        # the words nearest the figure; cut at a word or CJK boundary
        tail = phrase[-MAX_METRIC_CHARS:]
        phrase = tail.split(" ", 1)[1] if " " in tail[:8] else tail
    return phrase.strip()


def _kind(q: Quantity) -> str:
    if q.unit == "%":
        return "percent"
    if q.unit == "pp":
        return "pp"
    if q.unit == "x":
        return "multiple"
    if q.currency or q.scale != 1.0:
        return "amount"
    if q.unit:
        return "other"
    return "count" if float(q.value).is_integer() else "other"


def _remove_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    out, last = [], 0
    for s, e in sorted(spans):
        if s >= last:
            out.append(text[last:s])
            last = e
    out.append(text[last:])
    return " ".join(p for p in (x.strip() for x in out) if p)


# --- sentences -------------------------------------------------------------------------------

_SENTENCE = re.compile(r"[^。！？!?；;]+[。！？!?；;]?")
_CLAUSE_BREAK = re.compile(r"[，,；;：:]")
# Chinese counts name what they count after the number: a classifier (or a time unit), then the
# noun — "12 家数据中心", "2,000 颗 GPU", "用时 27 分钟" — or "<quantity>的<noun>" ("300 MW 的电力容量").
CLASSIFIER = r"个月|分钟|小时|人(?!民)|股(?!东|价|份|权|票|息|本)|[个颗家台张座名款项条块片套只位次天秒周辆艘架户件部份笔种所栋间枚根支批轮期]"
_COUNTED = re.compile(rf"\s*(?P<cl>{CLASSIFIER})?\s*(?P<de>的)?\s*(?P<noun>(?:[A-Za-z][A-Za-z0-9.+-]*\s?|[\u4e00-\u9fff])*)")
_TIME_UNITS = {"个月", "分钟", "小时", "天", "秒", "周"}
_NOUN_END = re.compile(r"进一步|提升|提高|增长|下降|上升|超过|突破|左右|以上|以下|增加|减少|提供|完成|用于|实现|达到|同比|环比|占|的|为|是|在|于|和|与|及|将|已|并|共|则|以|对")


_UNIT_NOUN = re.compile(r"([\u4e00-\u9fff]{2,8})\s*(?=[，,；;。）)]|$)")


def _counted_noun(after: str, measured: bool = False) -> tuple[str, str]:
    """(classifier, noun) a figure counts or measures, from the text right after it; ("", "")
    when no classifier or 的 ties a noun to it. A ``measured`` figure (it has a unit: "470MW
    有功功率", "23 亿美元债务融资") may be followed by its noun directly, ending its clause."""
    m = _COUNTED.match(after)
    if measured and m and not (m.group("cl") or m.group("de")):
        tail = _UNIT_NOUN.match(after.lstrip())
        noun = tail.group(1) if tail else ""
        cut = _NOUN_END.search(noun)
        noun = noun[:cut.start()] if cut else noun
        return "", noun if len(noun) >= 2 else ""
    if not m or not (m.group("cl") or m.group("de")):
        return (m.group("cl") or "", "") if m else ("", "")
    noun = m.group("noun").strip()
    cut = _NOUN_END.search(noun)
    noun = noun[:cut.start()].strip() if cut else noun
    return m.group("cl") or "", noun[:24] if len(noun) >= 2 else ""


@dataclass
class _Scope:
    """What a sentence inherits when it does not say it: the paragraph's and the heading's period."""
    period: str = ""
    estimate: bool = False
    entity: str = ""


def sentence_facts(text: str, *, file: str = "", page: int = 0, bbox: BBox | None = None,
                   scope: _Scope | None = None, find_entities: EntityFinder | None = None) -> list[Fact]:
    """Facts of one paragraph (one or more sentences)."""
    scope = scope or _Scope()
    out: list[Fact] = []
    para_period, para_est = scope.period, scope.estimate
    para_entity = scope.entity
    for m in _SENTENCE.finditer(text):
        sentence = m.group(0).strip()
        if not sentence:
            continue
        quantities = extract_quantities(sentence)
        figures = [q for q in quantities if q.kind == "figure"]
        periods = _sentence_periods(sentence, quantities)
        entities = find_entities(sentence) if find_entities else []
        prev_end, prev_fact, base_fact = 0, None, None   # base: the last figure that is not a change
        made: list[tuple[Fact, int]] = []                # this sentence's facts and where they start
        # "美元/1000 tokens": a denominator after a unit is not a figure ("31.4/40.0 亿元" is a list)
        figures = [q for q in figures if not re.search(r"[^\d%.\s]\s*/\s*$", sentence[:q.span[0]])]
        for i, q in enumerate(figures):
            s, e = q.span
            clause_start = max((b.end() for b in _CLAUSE_BREAK.finditer(sentence, 0, s)), default=0)
            window_start = max(prev_end, clause_start) if prev_fact is not None else clause_start
            raw_window = sentence[window_start:s]
            metric = _clean_metric(_strip_periods(raw_window))   # period words are not metric words
            after = sentence[e:e + 24]
            # "由 A 上调至 B": B replaces A, the same metric (not a change of it)
            replaces = prev_fact is not None and prev_fact.status == "previous" and \
                bool(_REVISED_TO.match(sentence[prev_end:s]))
            is_change = not replaces and bool(prev_fact is not None and (not metric or _CHANGE.match(metric)) and
                                              (q.unit in ("%", "pp") or _CHANGE_WORD.search(raw_window)))
            if not is_change and not replaces and prev_fact is not None and q.unit in ("%", "pp") and \
                    _AFTER_CHANGE.match(after):
                is_change = True
            if is_change:
                tail = _AFTER_CHANGE.match(after)
                words = _CHANGE_WORD.findall(raw_window) + ([tail.group(0).strip(" )）")] if tail else [])
                base = base_fact or prev_fact
                metric = f"{base.metric} {''.join(words) if _is_cjk_text(words) else ' '.join(words)}".strip()
            elif not metric and prev_fact is not None and _CN_HEAD.match(raw_window + "x") is None:
                metric = prev_fact.metric
            elif not metric and prev_fact is None and clause_start > 0:
                # "X 的相关性较强，为 0.67": a clause that only links to the figure ("为", "达到")
                # continues the clause before it, which names what the figure is
                previous = max((b.end() for b in _CLAUSE_BREAK.finditer(sentence, 0, clause_start - 1)), default=0)
                metric = _clean_metric(_strip_periods(sentence[previous:clause_start]))
            classifier, counted = ("", "") if is_change or q.unit in ("%", "pp") else \
                _counted_noun(sentence[e:e + 32], measured=bool(q.unit or q.currency))
            if counted:   # what the number counts names it better than the verb before it
                inherited = prev_fact is not None and metric == prev_fact.metric
                metric = counted if inherited or not metric else f"{metric} {counted}"
            named_after = None if counted or is_change else _NAMED_AFTER.match(after)
            if named_after:   # "达到 92% 的召回率": the noun after 的 is what the figure measures
                metric = f"{metric} {named_after.group(1)}".strip()
            # period: nearest before in the sentence, else after it within its clause, else inherited
            before = [p for p in periods if p[0] < s]
            clause_end = next((b.start() for b in _CLAUSE_BREAK.finditer(sentence, e)), len(sentence))
            after_p = [p for p in periods if e <= p[0] < clause_end]
            others = [o.start() for o in _OTHER_PERIODS.finditer(sentence, 0, s)]
            if others and others[-1] > max([p[0] for p in before] + [-1]):
                period, est = "", False   # "其余季度…均低于 5%": not the period named before
            elif before:
                _, period, est = before[-1]
            elif after_p:
                _, period, est = after_p[0]
            else:
                period, est = para_period, para_est
            # status: the words of this figure's clause, and the sentence head before it
            status = _status(sentence[clause_start:s] + " " + sentence[:s][:clause_start], est)
            if _REVISED_FROM.search(sentence[max(0, s - 12):s]) or (
                    i + 1 < len(figures) and _REVISED_TO.match(sentence[e:figures[i + 1].span[0]])):
                status = "previous"
            elif replaces:
                metric = prev_fact.metric
                status = "guidance" if _GUIDANCE.search(sentence[:s]) else ("target" if _TARGET.search(sentence[:s])
                                                                              else _status(sentence[:s], est))
            entity = next((name for pos, name in reversed(entities) if pos < s), "") or \
                next((name for pos, name in entities if pos >= e), "") or para_entity
            fact = Fact(value=q.value, low=q.low, high=q.high, unit=q.unit, currency=q.currency,
                        printed=q.raw.strip() + (classifier if classifier and not q.unit and not q.currency else ""),
                        kind=("duration" if classifier in _TIME_UNITS else "count") if classifier and not q.unit and not q.currency
                        else _kind(q),
                        metric=metric, period=period, status=status,
                        file=file, page=page, text=sentence, entity=entity, bbox=bbox,
                        estimate=est or status == "forecast")
            out.append(fact)
            made.append((fact, s))
            # what it counts is its own: the next figure's words start after them
            prev_end, prev_fact = e + (sentence[e:e + 32].find(counted) + len(counted) if counted else 0), fact
            if not is_change:
                base_fact = fact
        _respectively(sentence, made, periods, entities)
        # a later sentence without a period or subject of its own inherits this one's
        if periods:
            _, para_period, para_est = periods[-1]
        if entities:
            para_entity = entities[0][1]
    return out


# "92% 的召回率，…": a figure, 的, and a short noun ending its clause
_NAMED_AFTER = re.compile(r"\s*的\s*([\u4e00-\u9fff]{2,8})(?=[，,。；;：:）)]|$)")
# a clause about the other (or every) periods than the one just named
# ("每年" is a rate per year of the period named: "2024-2026 年每年增长 30%"); and a period
# counted back from the report's date ("今年以来", "近一年", "YTD"), not the one named before
_OTHER_PERIODS = re.compile(r"(?:其他|其余|其它|各)\s*(?:个)?\s*(?:年份|年度|年|时段|时期|季度|月份|月|期)|"
                            r"今年以来|今年|本年|年初至今|去年|"
                            r"(?:近|过去|最近)\s*(?:[一二三四五六七八九十两半]|\d{1,2})\s*(?:个)?\s*(?:年|月|季度|周|日)|"
                            r"\b(?:other|remaining)\s+(?:years?|quarters?|months?|periods?)\b|"
                            r"\b(?:YTD|year[- ]to[- ]date|this year|last year)\b|"
                            r"\b(?:past|last)\s+(?:\d{1,2}|one|two|three|six|twelve)\s+(?:years?|months?|quarters?|weeks?)\b",
                            re.I)
_RESPECTIVELY = re.compile(r"分别|各自|\brespectively\b", re.I)
_FY_SPAN = re.compile(r"^(FY)?(\d{4})-(?:FY)?(\d{4})$")


def _listed_periods(periods: list[tuple[int, str, bool]], before: int) -> list[str]:
    """The periods a sentence lists before ``before``, a span ("FY2022 至 FY2024") spelled out."""
    labels = [label for pos, label, _ in periods if pos < before]
    if len(labels) == 1:
        m = _FY_SPAN.match(labels[0])
        if m and 0 < int(m.group(3)) - int(m.group(2)) <= 10:
            return [f"{m.group(1) or ''}{y}" for y in range(int(m.group(2)), int(m.group(3)) + 1)]
    return labels


def _respectively(sentence: str, made: list[tuple[Fact, int]], periods: list[tuple[int, str, bool]],
                  entities: list[tuple[int, str]]) -> None:
    """"2023-2025 年收入分别为 a、b、c" / "A、B 的收入分别为 a、b": the n periods (or names) listed
    before 分别 go to the n figures after it, in order; a figure in brackets after one of them
    ("a（利润率 4%）") shares its period and name."""
    m = _RESPECTIVELY.search(sentence)
    if not m:
        return
    after = [(f, pos) for f, pos in made if pos > m.start()]
    depth = lambda pos: sentence[:pos].count("（") + sentence[:pos].count("(") - \
        sentence[:pos].count("）") - sentence[:pos].count(")")
    main = [f for f, pos in after if depth(pos) <= 0]
    listed = _listed_periods(periods, m.start())
    names = list(dict.fromkeys(name for pos, name in entities if pos < m.start()))
    if len(main) >= 2 and max(len(listed), len(names)) == len(main):
        first = main[0].metric
        for f, pos in after:
            if depth(pos) > 0:   # "（利润率 4%）": the words inside its bracket name it
                inside = re.split(r"[（(]", sentence[:pos])[-1]
                f.metric = _clean_metric(inside) or f.metric
            elif f is not main[0] and not re.search(r"[\w\u4e00-\u9fff]{2}", _CN_HEAD.sub("", f.metric.strip("）)、，, "))):
                f.metric = first
    for values, slot in ((listed, "period"), (names, "entity")):
        if len(values) < 2 or len(values) != len(main):
            continue
        current = None
        for f, pos in after:
            if depth(pos) <= 0:
                current = values[main.index(f)]
            if current is not None:
                setattr(f, slot, current)


def _is_cjk_text(words: list[str]) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for w in words for ch in w)


def _strip_periods(window: str) -> str:
    spans = [q.span for q in extract_quantities(window) if q.kind in ("period", "year", "date")]
    return _remove_spans(window, spans)


# --- tables ----------------------------------------------------------------------------------

def _is_period_row(row: list[str]) -> bool:
    """A row of period labels only ("", "", "2024A", "2025E", …): the second level of a header
    the parser left among the data rows."""
    cells = [c.strip() for c in row if c.strip()]
    return bool(cells) and all(periods_in(c) and not _has_figure(c) for c in cells)


def _header(table: Table) -> tuple[list[list[str]], int]:
    """Header rows (with period rows moved up from the data) and the first data row's index."""
    header = [list(r) for r in table.header]
    start = 0
    while start < len(table.rows) and _is_period_row(table.rows[start]):
        header.append(list(table.rows[start]))
        start += 1
    return header, start


def _column_heads(header: list[list[str]], n: int) -> list[str]:
    """Each column's header text, upper levels first; an upper-level cell spans the empty cells
    to its right that have a lower-level cell under them ("净利润" over 2024A | 2025E | 2026E)."""
    filled = []
    for level, row in enumerate(header):
        row = _split_merged_periods([c.strip() for c in row] + [""] * (n - len(row)))
        below = header[level + 1] if level + 1 < len(header) else None
        for c in range(1, n):
            if not row[c] and row[c - 1] and below is not None and c < len(below) and below[c].strip():
                row[c] = row[c - 1]
        filled.append(row)
    heads = []
    for c in range(n):
        parts = []
        for row in filled:
            if row[c] and row[c] not in parts:
                parts.append(row[c])
        heads.append(" ".join(parts))
    return heads


def _split_merged_periods(row: list[str]) -> list[str]:
    """"EPS(元) 2021 2022E 2023E" over three columns (two header levels merged into one cell,
    the cells to its right empty): each column gets the label and its own period."""
    row = list(row)
    for c, cell in enumerate(row):
        found = periods_in(cell)
        k = len(found)
        if k < 2 or c + k > len(row) or any(row[c + i] for i in range(1, k)):
            continue
        label = cell[:found[0][0]].strip()
        rest = cell[found[0][0]:]
        tokens = re.findall(r"\S+", rest)
        if len(tokens) != k:
            continue
        for i, token in enumerate(tokens):
            row[c + i] = f"{label} {token}".strip()
    return row


# a multiple, price or ratio is never in the table's money unit
_OWN_UNIT = re.compile(r"\bP/?E\b|\bPEG\b|\bP/?B\b|EV/EBITDA|倍|率|价|\bprice\b|\bratio\b|margin|%", re.I)


def _has_figure(cell: str) -> list[Quantity]:
    return [q for q in extract_quantities(cell) if q.kind == "figure"]


_DATE_HEAD = re.compile(r"年份|年度|日期|时间|时点|成立|上市|发布|创立|\byears?\b|\bdates?\b|founded|since", re.I)


def _bare_count(cell: str, head: str, label: str) -> list[Quantity]:
    """A lone four-digit number in a row of figures, under a header and beside a label that
    are no period or date, is a figure (a rating of 2029, 1980 units), not a year."""
    qs = extract_quantities(cell)
    if len(qs) == 1 and qs[0].kind == "year" and not qs[0].unit and qs[0].raw.strip() == cell.strip() \
            and not periods_in(head) and not _DATE_HEAD.search(f"{head} {label}"):
        return [replace(qs[0], kind="figure")]
    return []


def _with_unit(cell_q: Quantity, unit: str) -> Quantity:
    """A bare cell read with the unit its header, row label or caption gives it."""
    if not unit or not cell_q.is_bare:
        return cell_q
    joined = parse_quantity(f"{cell_q.raw.strip()}{unit}")
    return joined if joined.kind == "figure" and not joined.is_bare else cell_q


def table_facts(table: Table, *, file: str = "", heading: str = "",
                find_entities: EntityFinder | None = None) -> list[Fact]:
    if table.boilerplate or not table.rows:
        return []
    header, first_row = _header(table)
    heads = _column_heads(header, max(table.n_cols, max((len(r) for r in header), default=0)))
    caption = table.caption or ""
    table_unit = table.unit or unit_hint(caption, table.source or "")
    caption_periods = periods_in(caption) or periods_in(heading)
    scope_entities = (find_entities(caption) if find_entities else []) or \
        (find_entities(heading) if find_entities else [])
    out: list[Fact] = []
    above = ""                                  # the last row label that is not a bare change
    for r, row in enumerate(table.rows):
        if r < first_row:
            continue
        first_fig = next((c for c, cell in enumerate(row) if _has_figure(cell)), None)
        if first_fig is None:
            continue
        label = " ".join(cell.strip() for cell in row[:first_fig] if cell.strip())
        if is_change_row(label) and above:
            label = f"{above} {label}"          # "YoY (%)" under "Acme": Acme's growth
        elif label:
            above = label
        page, bbox = _row_page(table, r)
        row_text = "\t".join(cell.strip() for cell in row)
        label_periods = periods_in(label)
        label_entities = find_entities(label) if find_entities else []
        # a row label that names a company is the item, not the metric ("Acme | 300 | 350")
        label_is_metric = bool(label) and not label_entities
        for c in range(first_fig, len(row)):
            cell = row[c].strip()
            figs = _has_figure(cell) or \
                (_bare_count(cell, heads[c] if c < len(heads) else "", label) if c > first_fig else [])
            if len(figs) > 1:   # a sentence in a cell: read as a sentence, kept in its cell
                # its period, unless it names its own: the column's, the row label's, the caption's
                scoped = periods_in(heads[c] if c < len(heads) else "") or label_periods or caption_periods
                for f in sentence_facts(cell, file=file, page=page, bbox=bbox,
                                        scope=_Scope(period=scoped[-1][1] if scoped else "",
                                                     entity=next((n for _, n in label_entities), "")),
                                        find_entities=find_entities):
                    f.metric = f.metric or label
                    f.item, f.table_id, f.row, f.col, f.text = heads[c] if c < len(heads) else "", table.id, r, c, row_text
                    out.append(f)
                continue
            if not figs:
                continue
            head = heads[c] if c < len(heads) else ""
            head_periods = periods_in(head)
            if head_periods:
                _, period, est = head_periods[-1]
                rest = _strip_periods(head)
                # a period column: the metric is the row label, unless the header names one
                # above the period ("收入 | 2026"), and the row label is then the item
                metric, item = (rest, label) if rest and not label_is_metric else (label, rest)
            elif label_periods:
                _, period, est = label_periods[-1]
                metric, item = head, _strip_periods(label)
            else:
                period, est = (caption_periods[-1][1], caption_periods[-1][2]) if caption_periods else ("", False)
                metric, item = (head, label) if head and not _has_figure(head) else (label, head)
            words = re.split(r"[，,；;。]", cell[:figs[0].span[0]])[-1]
            if _clean_metric(words):   # "远期 222 MW" in a notes column: the cell's words qualify it
                metric = f"{metric} {_clean_metric(words)}".strip()
            unit = unit_hint(cell) or unit_hint(head) or unit_hint(label) or \
                ("" if _OWN_UNIT.search(f"{head} {label}") else table_unit)
            q = _with_unit(figs[0], unit)
            head_entities = find_entities(head) if find_entities else []
            entity = next((n for _, n in label_entities), "") or next((n for _, n in head_entities), "") or \
                next((n for _, n in scope_entities), "")
            status = _status(" ".join([head, label, caption]), est)
            out.append(Fact(value=q.value, low=q.low, high=q.high, unit=q.unit, currency=q.currency,
                            printed=figs[0].raw.strip() if q is figs[0] else f"{figs[0].raw.strip()} {unit}", kind=_kind(q),
                            metric=_clean_metric(metric) or metric.strip(), period=period, status=status,
                            file=file, page=page, text=row_text, entity=entity, item=item.strip(),
                            bbox=bbox, table_id=table.id, row=r, col=c, estimate=est or status == "forecast"))
    return out


# a row label that is only a change ("YoY (%)", "同比", "增速", "QoQ"): the growth of the row above it
_CHANGE_ROW = re.compile(r"^\s*(?:[%％]\s*)?(?:yoy|qoq|同比(?:增长|增速|变化)?|环比(?:增长|增速|变化)?|增速|增长率|增幅|"
                         r"growth|y/y|q/q|yoy\s*growth)\s*(?:[(（]\s*[%％]\s*[)）]|[%％])?\s*$", re.I)


def is_change_row(label: str) -> bool:
    """Is a table row label only a rate of change (whose subject is the row above it)?"""
    return bool(_CHANGE_ROW.match(label or ""))


def _row_page(table: Table, row: int) -> tuple[int, BBox | None]:
    for f in table.fragments:
        if f.row_start <= row < f.row_end:
            return f.page, f.bbox
    f = table.fragments[0] if table.fragments else None
    return (f.page, f.bbox) if f else (0, None)


# --- a whole document ------------------------------------------------------------------------

def extract_facts(doc: Document, find_entities: EntityFinder | None = None) -> list[Fact]:
    """Every figure of the report's content (boilerplate left out), tables from their grids."""
    out: list[Fact] = []
    headings: list[tuple[int, str]] = []
    scope = _Scope()
    done_tables: set[str] = set()
    for page in doc.pages:
        for b in page.blocks:
            if b.boilerplate:
                continue
            if b.kind == BlockKind.HEADING:
                while headings and headings[-1][0] >= max(b.level, 1):
                    headings.pop()
                headings.append((max(b.level, 1), b.text))
                heading_periods = periods_in(b.text)
                heading_entities = find_entities(b.text) if find_entities else []
                scope = _Scope(period=heading_periods[-1][1] if heading_periods else "",
                               estimate=heading_periods[-1][2] if heading_periods else False,
                               entity=heading_entities[0][1] if heading_entities else _inherit_entity(scope, headings))
                continue
            if b.kind == BlockKind.TABLE and b.table_id:
                if b.table_id not in done_tables:
                    done_tables.add(b.table_id)
                    out += table_facts(doc.table(b.table_id), file=doc.meta.file,
                                       heading=" ".join(h for _, h in headings), find_entities=find_entities)
                continue
            if b.kind in (BlockKind.PARAGRAPH, BlockKind.LIST_ITEM, BlockKind.CAPTION):
                out += sentence_facts(b.text, file=doc.meta.file, page=b.page, bbox=b.bbox, scope=scope,
                                      find_entities=find_entities)
    # a date printed in the report, not a PDF's creation date (a template's can be years old)
    return not_yet_happened(out, doc.meta.date if doc.meta.sources.get("date") == "cover" else "")


_PERIOD_START = re.compile(r"(\d{4})(?:Q([1-4])|H([12]))?")


def period_start(period: str) -> str:
    """The first day of a calendar period label ("2026Q2" -> "2026-04-01", "2026H2" ->
    "2026-07-01", "2026" -> "2026-01-01"); "" for fiscal periods (their calendar is the
    company's), spans and unknown labels."""
    m = _PERIOD_START.fullmatch(period or "")
    if not m:
        return ""
    month = 3 * (int(m[2]) - 1) + 1 if m[2] else 6 * (int(m[3]) - 1) + 1 if m[3] else 1
    return f"{m[1]}-{month:02d}-01"


def not_yet_happened(facts: list[Fact], report_date: str) -> list[Fact]:
    """A report cannot state an actual for a period that had not begun on its date: such a
    figure is a forecast (or a mistake), never an actual."""
    if not report_date:
        return facts
    for f in facts:
        start = period_start(f.period)
        if f.status == "actual" and start and start > report_date:
            f.status, f.estimate = "forecast", True
    return facts


def _inherit_entity(scope: _Scope, headings: list[tuple[int, str]]) -> str:
    return scope.entity if len(headings) > 1 else ""

"""Extract first, then state: the figure, the quote and the page are chosen by code.

``answer_by_extraction`` picks the best evidence unit for the parsed question, refuses
when the asked period or entity is not in it (giving the nearest evidence instead), picks
the figure nearest the asked metric (``qa.slots`` then checks it against the figure store,
which also finds what other reports say for the same slot). ``unsupported_numbers`` is the
NumberCheck every answer passes through, whoever wrote it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from index.query import (OUTLOOK_MARKERS, Metric, ParsedQuery, extract_periods, find_periods, metric_key_of,
                         parse_query)
from index.text import normalize_text, tokenize
from ingest import numbers as num
from ingest.tables import unit_hint

from .compute import (Computation, stated_difference, _asked_periods, _comparable, _difference, _wanted, asks_complement, asks_difference,
                      asks_share, asks_sum, compute_complement, compute_difference, compute_multiple, compute_share,
                      compute_sum, states_share)
from .evidence import (Unit, _code_forms, _mentions, _surface_regex, _wanted_entities, asked_count, counted_with, metric_surfaces,
                       product_codes, required_terms, score_units)
from .slots import ASKS_MULTIPLE, BOTH, PERCENT_KEYS, question_parts, word_overlap
from .spans import asked_date, asked_span, header_words, revision_answer

# questions that ask for a figure, and questions that ask for a name, a date or a reason
FIGURE_Q = re.compile(r"(多少|几[个%倍家亿万年]|几个百分点|规模|金额|占比|比例|增速|增长率|毛利率|利润率|份额|价格|估值|"
                      r"how much|how many|what (was|is|were|are) the (revenue|value|size|amount|price|share|margin|growth)|"
                      r"\bsize\b|\brevenue\b|\bbacklog\b|\bcapex\b|\barr\b|\bmargin\b|\bprice\b)", re.I)
_HOW_MUCH = re.compile(r"多少|几[个%倍家亿万]|how much|how many", re.I)
NAME_Q = re.compile(r"(哪|什么|谁|何时|为何|为什么|如何|怎样|怎么|\bwho\b|\bwhich\b|\bwhen (?:did|does|do|was|were|is|are|will|has|have|had)\b|\bwhy\b|\bhow did\b|what (company|product|name))", re.I)

_PCT_METRICS = {"growth", "growth_yoy", "growth_qoq", "gross_margin", "margin", "net_margin", "market_share",
                "operating_margin", "ebitda_margin", "share", "coupon"}


_MONEY_METRICS = {"revenue", "capex", "backlog", "bookings", "ai_revenue", "arr", "ebitda", "gross_profit",
                  "operating_income", "net_income", "valuation", "financing", "debt", "free_cash_flow",
                  "operating_cash_flow", "rpo", "price", "target_price"}
# (not market_size: a market is also sized in EFlops, GW or units)
_MONEY_Q = re.compile(r"(金额|多少钱|对价|融资额|how much (money|did .* (pay|raise|spend)))", re.I)


# forecasts, guidance and plans ("规划资本开支指向 1500 亿元" is not an actual)
_ESTIMATE = re.compile("|".join(map(re.escape, OUTLOOK_MARKERS["estimate"] + ("规划", "计划", "plan", "planned")))
                       + r"|\b\d{2,4}E\b", re.I)


@dataclass
class Extraction:
    unit: Unit | None
    figure: str = ""                       # the figure as printed, e.g. "994 亿美元"
    abstained: bool = False
    reason: str = ""                       # why it refused
    nearest: list[Unit] = field(default_factory=list)
    computation: Computation | None = None
    printed: list[str] = field(default_factory=list)  # the unit's figures as the figure store reads them
    also: list[Unit] = field(default_factory=list)   # further evidence a computed answer rests on
    span: bool = False                     # the answer is a date or cell read off the evidence, not a figure


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


def pick_figure(q: ParsedQuery, unit: Unit, exclude: tuple[str, ...] = ()) -> str:
    """The figure the question asks for: in a table row, the cell under the asked period or
    metric; in a sentence, the figure next to the metric (or period) mention. ``exclude``:
    figures already given to another part of the same question."""
    want_pct = any(m.key in _PCT_METRICS for m in q.metrics)
    want_money = _asks_money(q)
    if unit.cells:
        best, best_head, best_score, best_named = "", "", -1.0, 0.0
        # a price beside another metric is the basis ("按收盘价，预测市盈率"), not the column asked
        keys = {m.key for m in q.metrics if m.key}
        basis = {"price", "target_price"} if keys - {"price", "target_price"} else set()
        mets = metric_surfaces(replace(q, metrics=[m for m in q.metrics if m.key not in basis]))
        names = [forms for _, forms in _wanted_entities(q)]
        verbatim = _header_printed(q.text, [h for h, _ in unit.cells])
        for i, (head, cell) in enumerate(unit.cells):
            if not _figures(cell) or _taken(cell, exclude):
                continue
            score = 0.0
            score += 2.0 * sum(1 for p in q.periods if p.matches(head))
            score += 1.0 * sum(max(1.0 if _mentions(head, s) >= 0 else 0.0, 0.75 * _word_share(head, s))
                               for s in mets)
            score += 0.75 * sum(1 for s in mets if _mentions(cell, s) >= 0)  # "109美元/股"
            score += 1.5 * sum(1 for forms in names if _mentions(head, forms) >= 0)  # " | CoreWeave | Nebius"
            # (an English question names a Chinese header through the glossary)
            asked = q.text if q.lang == "zh" else q.matching_text
            score += 1.0 if not mets and head_named(asked, head) else 0.0
            score += 0.5 * word_overlap(asked, head)   # "投票权比例" over "持股比例" when 投票权 is asked
            score += 3.0 if verbatim and head == verbatim else 0.0
            score += 1.5 * len(_spans_of(head) & _spans_of(q.text))   # "持有20日收益" beside "持有5日收益"
            named = score                                   # what names this column, before the tie-breaks
            score += 0.5 if want_pct == ("%" in cell) else 0.0
            score -= 0.01 * i
            if score > best_score:
                best, best_head, best_score, best_named = cell.strip(), head, score, named
        if not best:
            return ""
        if best_named < 0.3 and sum(1 for _, c in unit.cells if _figures(c)) >= 3:
            return ""  # a row of many figures and nothing in the question names a column: no guess
        if _other_period_column(q, unit, best_head):
            return ""  # the column and caption are about another period (a "2030 年目标" column asked for 2031)
        figures = _figures(best)
        if len(figures) > 1:  # a sentence inside a cell: pick within it
            return _pick_in_text(q, best, want_pct, want_money, exclude)
        # "2030 年目标 12-15 亿元": the figure, not the words around it (the quote has them)
        return _with_unit(figures[0][1].raw.strip(), _cell_unit(unit, best_head))
    return _pick_in_text(q, unit.text, want_pct, want_money, exclude)


def _header_printed(question: str, heads: list[str]) -> str:
    """The column header the question prints whole ("市净率10%~20%分层", "持有 3 个月"): the
    longest such header holding a digit — a label of figures, named exactly."""
    asked = re.sub(r"\s+", "", normalize_text(question)).lower()
    printed = [h for h in heads if re.search(r"\d", h) and len(re.sub(r"\s+", "", h)) >= 3
               and re.sub(r"\s+", "", normalize_text(h)).lower() in asked]
    return max(printed, key=len) if printed else ""


# a length of time a column is measured over: a holding period, a look-ahead, a window
# ("8月22日" is a date, "8月" a month and "24年" a year: months count with 个, years in one digit)
_SPAN = re.compile(r"(?<![\d.])(?:(\d{1,3})\s*(个?交易日|日|天|周|个月|个?季度|[dDwWmMyY](?![A-Za-z]))|(\d)\s*(年))")
_DATE = re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*日|\d{1,2}/\d{1,2}")


def _spans_of(text: str) -> set[str]:
    """Lengths of time printed in a text, normalised ("5 日" → "5日", "3个月" → "3月")."""
    text = _DATE.sub(" ", normalize_text(text))
    return {(n or y) + (u or v).replace("个", "").replace("天", "日").upper() for n, u, y, v in _SPAN.findall(text)}


def _asks_money(q: ParsedQuery) -> bool:
    """An amount of money is asked: a money metric (a price only when no other metric is asked —
    "按收盘价，预测市盈率是多少" asks a ratio) or money words."""
    keys = {m.key for m in q.metrics if m.key}
    money = keys & _MONEY_METRICS
    if money and money <= {"price", "target_price"} and keys - money:
        money = set()
    return bool(money) or bool(_MONEY_Q.search(q.text))


def _figure_cell(cell: str) -> bool:
    """A cell that is one figure (with at most a unit or a short qualifier), not a sentence."""
    figures = _figures(cell)
    return len(figures) == 1 and len(cell.strip()) <= len(figures[0][1].raw.strip()) + 6


def head_named(question: str, head: str) -> bool:
    """The question names this column header ("…站点的容量" under "容量 (MW)"): a word of the
    header, its unit and any period left out, printed in the question."""
    text = normalize_text(question).lower()
    return any(w in text for w in header_words(head))


def _other_period_column(q: ParsedQuery, unit: Unit, head: str = "") -> bool:
    """A table row whose caption (or the column read) names a period, none of them the asked one."""
    if not (q.periods and unit.cells):
        return False
    return not any(p.matches(f"{unit.context} {head} {unit.cells[0][1]}") for p in q.periods) \
        and bool(extract_periods(f"{unit.context} {head}"))


def _taken(text: str, exclude: tuple[str, ...]) -> bool:
    mine = [f for _, f in _figures(text)]
    return len(mine) == 1 and any(num.same_value(mine[0], f) for e in exclude for _, f in _figures(e))


def _word_share(text: str, surfaces: list[str]) -> float:
    """How much of a metric's wording a column header has: "FP16算力" under "FP16 (TFLOPS)"."""
    low = normalize_text(text).lower()
    best = 0.0
    for s in surfaces:
        words = [w for w in tokenize(s) if len(w) > 1]
        if words:
            best = max(best, sum(1 for w in words if w.lower() in low) / len(words))
    return best


def _cell_unit(unit: Unit, head: str) -> str:
    """The unit a bare cell is printed in: its column header's, the caption's ("合同金额（亿元）"),
    or its row label's ("CAPEX (mn)")."""
    caption = unit.context.rsplit("\n", 1)[0]  # not the header line: other columns' units are theirs
    own = unit_hint(head)
    if own:
        return own
    # a valuation multiple or a rate takes no amount unit from the caption ("PE" under "（亿元）")
    # the column's own metric; a header with a percentage names a bucket ("市净率前20%"), not a value
    key = metric_key_of(head) if "%" not in head else ""
    if key in MULTIPLE_KEYS:
        return "倍"
    if key in PERCENT_KEYS:
        return ""
    # the row's own label is more specific than the caption ("积压订单 (十亿)" under "单位：百万")
    return _row_label_unit(unit) or unit_hint(caption)


# rates printed as a percentage or as a bare ratio (IC 0.05 or 5%, 换手率 30% or 2.5 倍)
EITHER_WAY_KEYS = {"ic", "turnover"}
# valuation multiples: printed bare in tables, read as 倍
MULTIPLE_KEYS = {"pe", "pb", "ps", "peg", "ev_ebitda", "ev_sales"}


def _with_unit(cell: str, unit: str) -> str:
    figs = _figures(cell)
    if unit and len(figs) == 1 and figs[0][1].is_bare:
        return f"{cell}{unit}" if re.match(r"[A-Za-z%]", unit) else f"{cell} {unit}"  # "550W", "994 亿美元"
    return cell


def printed_with_units(unit: Unit) -> list[str]:
    """The unit's cells as the page prints them, with the unit their header or caption
    gives: what the NumberCheck compares a table answer with."""
    return [_with_unit(cell.strip(), _cell_unit(unit, head)) for head, cell in unit.cells]


_ROW_SCALE = re.compile(r"[(（]\s*(?:(US\$|\$|USD|RMB|CNY)\s*)?(mn|m|bn|million|billion|十亿|百万|亿|万)\s*[)）]", re.I)
_STUB_SCALE = re.compile(r"(US\$|\$|USD|RMB|CNY)?\s*(mn|m|bn|million|billion|十亿|百万|亿|万)", re.I)
_SCALE_WORDS = {"mn": "百万", "m": "百万", "million": "百万", "bn": "十亿", "billion": "十亿"}


def _row_label_unit(unit: Unit) -> str:
    """"CAPEX (mn)": the row label names the scale; the currency is the one the caption or
    headings print (美元/$/USD), else none is assumed."""
    m = _ROW_SCALE.search(unit.cells[0][1]) if unit.cells else None
    m = m or (_STUB_SCALE.fullmatch(unit.cells[0][0].strip()) if unit.cells else None)  # "$ mn" over the row labels
    if not m:
        return ""
    scale = _SCALE_WORDS.get(m.group(2).lower(), m.group(2))
    context = unit.context + " " + (m.group(1) or "")
    currency = "美元" if re.search(r"美元|US\$|USD|\$", context) else "元" if re.search(r"人民币|RMB|CNY|元", context) else ""
    return scale + currency


_ASK = re.compile(r"(是多少|为多少|有多少|多少个?|几个|几何|\bhow (?:much|many)\b|\bwhat\b)", re.I)
_AND = re.compile(r"\s*(?:以及|和|与|及|、|/)\s*")
_EN_PAIR = re.compile(r"\b(?:what|how much|how many)\s+(?:(?:was|were|is|are)\s+)?(?:the\s+)?(?:[\w-]+'s\s+)?"
                      r"([a-z][a-z -]{1,40}?)\s+and\s+(?:the\s+|its\s+)?([a-z][a-z -]{1,40}?)\s+"
                      r"(?:did|does|do|was|were|is|are|of|for|in|at|on)\b", re.I)


def _coordinated(piece: str) -> list[str]:
    """The figures one clause asks for side by side: "…发行的数量和单价分别是多少" →
    [数量, 单价]; "建了多少个仓库、总面积多少" → [仓库, 总面积];
    "What rate and maturity did …" → [rate, maturity]."""
    m = BOTH.search(piece)
    if m:
        tail = re.split(r"[的，,：:]", piece[: m.start()])[-1]
        items = [s for s in _AND.split(tail) if s.strip()]
        # a short noun each: an English word counts as one character ("initial conversion price")
        if len(items) >= 2 and all(len(re.sub(r"[A-Za-z]+", "a", s.strip())) <= 12 for s in items):
            return items
    items = piece.split("、")
    if len(items) >= 2 and all(_ASK.search(s) for s in items):
        return [_asked_term(s) for s in items]
    m = _EN_PAIR.search(piece)
    if m:
        return [m.group(1).strip(), m.group(2).strip()]
    return []


def _asked_term(clause: str) -> str:
    """The noun a "多少" clause asks about: after the question word ("多少个仓库"), else
    before it ("总面积多少")."""
    m = _ASK.search(clause)
    after = re.split(r"[，,。？?]", clause[m.end():])[0].strip()
    before = re.split(r"[，,的了]", clause[: m.start()])[-1].strip()
    return after or before


def sub_questions(q: ParsedQuery) -> list[ParsedQuery]:
    """The parts of a compound question, each with its own metrics: "A 的销量？其增速？",
    "数量和单价分别是多少", "多少个仓库、总面积多少". The company and period of the whole
    question carry over to every part; a part naming no known metric is anchored on its
    own words (a Metric with no key)."""
    out = []
    for piece in (p for p in re.split(r"[？?；;]", q.text) if p.strip()):
        items = _coordinated(piece)
        for item in items or [piece]:
            own = parse_query(item)
            metrics = own.metrics or ([Metric("", item.strip())] if items else [])
            if not metrics and not out:
                metrics = q.metrics
            # "预计" in one part is about that part and those after it, not the ones before
            outlook = own.outlook or (out[-1].outlook if out else [])
            out.append(replace(q, text=item if items else piece, metrics=metrics, periods=own.periods or q.periods,
                               outlook=outlook))
    return out if len(out) > 1 else [q]


def _fits(f: num.Quantity, want_pct: bool, want_money: bool) -> bool:
    """A money question is not answered with a power or a percentage, a share not with money."""
    if want_pct:
        return f.unit in ("%", "pp")
    if want_money:
        return f.unit == "" and (bool(f.currency) or f.scale > 1)
    return True


_CLAUSE = re.compile(r"[，,；;。：:]")
# between a figure and the metric it is printed before: a classifier, or 的 ("达到 92% 的召回率")
_MEASURE = re.compile(r"\s*[个家台张座名款项条颗块片套只]?\s*的?\s*")


def _pick_in_text(q: ParsedQuery, text: str, want_pct: bool, want_money: bool = False,
                  exclude: tuple[str, ...] = ()) -> str:
    figures = [(pos, f) for pos, f in _figures(text) if not _taken(f.raw, exclude)]
    if q.metrics and all(m.key in ("share", "market_share") for m in q.metrics):
        figures = [(pos, f) for pos, f in figures if f.value >= 0]     # a share is never negative
    if not figures:
        return ""
    anchors = [p for p in (_mentions(text, s) for s in metric_surfaces(q)) if p >= 0]
    mentioned = find_periods(text)
    asked = [pos for pos, found in mentioned if any(p.covers(found) for p in q.periods)]
    by_metric = bool(anchors)
    if not anchors:
        anchors = asked
    anchor = min(anchors) if anchors else 0
    if by_metric:
        anchor = _metric_after_name(q, text, anchor)
    figures = [(pos, f) for pos, f in figures if _fits(f, want_pct, want_money)]
    figures = [(pos, f) for pos, f in figures if not _another_group(q.text, text, pos)]
    if not figures:
        return ""
    classifier, noun = asked_count(q.text)
    counted = set(counted_with(text, classifier, noun)) if classifier else set()
    if any(pos in counted for pos, _ in figures):    # a count asked: the figures counting that thing
        figures = [(pos, f) for pos, f in figures if pos in counted]
        # of several ("测试的 18 种语言中，在 15 种语言上优于…"), the one whose words after it
        # are the question's words after its "多少种"
        asked = re.search(rf"(?:多少|几)\s*{re.escape(classifier)}", normalize_text(q.text))
        asked_after = normalize_text(q.text)[asked.end():asked.end() + 10] if asked else ""
        pos, f = max(figures, key=lambda pf: (_shared_chars(_after_classifier(text[pf[0]:], classifier), asked_after),
                                              -pf[0]))
        raw = f.raw.strip()
        printed = text[pos + len(f.raw):pos + len(f.raw) + len(classifier) + 1].strip()
        return raw + classifier if printed.startswith(classifier) and not raw.endswith(classifier) else raw
    if asked and len({found for _, found in mentioned}) > 1:
        # "从 2019 年的 20 亿升至 … 2021 年 6 月突破 90 亿": the asked period picks the
        # figure, which must follow one of its mentions before the next period is named
        # ("并预计 2031 年产量将较 2030 年增加" gives no figure for 2031)
        segments = [(a, min([pos for pos, _ in mentioned if pos > a] or [len(text)])) for a in asked]
        inside = [(a, e) for a, e in segments if any(a <= pos < e for pos, _ in figures)]
        if not inside:
            return ""
        anchor = max(anchor, inside[0][0]) if anchor < inside[0][1] else inside[0][0]
    if by_metric:
        # "1,200个仓库" / "35元/股": the figure printed right before (or around) the
        # metric's name, when none follows it in the same clause
        boundary = _CLAUSE.search(text, anchor)
        clause_end = boundary.start() if boundary else len(text)
        follows = any(anchor <= pos < clause_end for pos, _ in figures)
        for pos, f in figures:
            end = pos + len(f.raw)
            if not follows and pos < anchor and (end >= anchor or _MEASURE.fullmatch(text[end:anchor])):
                return f.raw.strip()
    after = [(pos, f) for pos, f in figures if anchor <= pos]
    candidates = after or figures
    # a rate asked (超额收益, 回撤, 胜率) is printed as a percentage: the months or the stocks
    # counted beside it are not the answer; IC and turnover are printed both ways
    keys = {m.key for m in q.metrics}
    if keys & EITHER_WAY_KEYS and not want_pct:
        return candidates[0][1].raw.strip()
    rate = want_pct or bool(keys) and keys <= PERCENT_KEYS
    if rate and any(f.unit == "%" for _, f in candidates):
        candidates = [(p, f) for p, f in candidates if f.unit == "%"]
    elif not rate and any(f.unit not in ("%", "pp") for _, f in candidates):
        candidates = [(p, f) for p, f in candidates if f.unit not in ("%", "pp")]
    return candidates[0][1].raw.strip()


# "X 是如何设定的", "X 怎么收费": the value a setting, fee or price is set to
_SETTING_Q = re.compile(r"是?(?:如何|怎么|怎样)(?:设定|设置|设为|设|收费|收取|计费|定价|规定)")


def _printed_suffix(before: str, text: str, shortest: int = 2) -> str:
    """The longest tail of the words before the question word that the evidence prints: the
    name of the thing asked ("…组合中调仓频率" → "调仓频率")."""
    words = re.split(r"[，,。：:的]", normalize_text(before).rstrip("是 "))[-1].strip()
    norm = normalize_text(text)
    for i in range(len(words) - shortest + 1):
        tail = words[i:].strip()
        if len(tail) >= shortest and tail in norm:
            return tail
    return ""


# a portfolio group of a backtest: "A 组", "B组", "第 3 组", "Group A", "Q5 组合"
_GROUP = re.compile(r"(?<![A-Za-z0-9])(?:第\s*)?([A-Z]|\d{1,2})\s*组|\bgroup\s+([A-Z]|\d{1,2})\b", re.I)


def _groups(text: str) -> list[tuple[int, str]]:
    return [(m.start(), (m.group(1) or m.group(2)).upper()) for m in _GROUP.finditer(normalize_text(text))]


def _another_group(question: str, text: str, pos: int) -> bool:
    """"A 组…，B 组空头年化收益仅为 1.2%" asked for group A: the group named last before
    a figure is whose figure it is; another group's figure does not answer."""
    asked = {g for _, g in _groups(question)}
    before = [g for at, g in _groups(text) if at < pos]
    return bool(asked and before) and before[-1] not in asked


def _metric_after_name(q: ParsedQuery, text: str, anchor: int) -> int:
    """"其中 A 的 IC 为 4.6；B 的 IC 为 4.9": when the sentence names the asked factor or code
    after the metric's first mention, the metric's mention after that name is the one asked."""
    norm = normalize_text(text)
    named = [p for p in (_mentions(text, forms) for forms in required_terms(q)) if p > anchor]
    if not named:
        return anchor
    later = [m.start() for forms in metric_surfaces(q) for s in forms if s.strip()
             for m in _surface_regex(s).finditer(norm) if m.start() >= min(named)]
    return min(later) if later else anchor


def _after_classifier(text: str, classifier: str, span: int = 10) -> str:
    at = text.find(classifier)
    return text[at + len(classifier):at + len(classifier) + span] if at >= 0 else ""


def _shared_chars(a: str, b: str) -> int:
    return len({c for c in a if c.isalnum()} & {c for c in b if c.isalnum()})


def _mismatch(q: ParsedQuery, u: Unit) -> str:
    m = u.matched
    if m.get("periods_wanted") and not m.get("periods"):
        return "period"
    if m.get("entities_wanted") and not m.get("entities"):
        return "entity"
    if q.metrics and not m.get("metrics") and not _unnamed_share(q, u):
        return "metric"  # the evidence is about another figure of the same company
    if "estimate" in q.outlook and not _ESTIMATE.search(u.full):
        return "outlook"  # a forecast was asked for; the evidence reports an actual
    if "actual" in q.outlook and "estimate" not in q.outlook and _ESTIMATE.search(u.text):
        return "outlook"  # an actual was asked for; the evidence is a plan or a forecast
    if _refers_to_another(q, u):
        return "entity"
    terms = required_terms(q)
    if terms:
        # the subject may be named anywhere in the chunk or its headings (never the file name:
        # a file name is not evidence of content)
        scope = "\n".join([u.full, u.chunk.text, *u.chunk.heading_path])
        if any(_mentions(scope, forms) < 0 for forms in terms):
            return "entity"
    if _names_a_sibling_code(q, u) or _another_generation(q.text, u.text):
        return "entity"
    if q.comparisons:
        wants = set(q.comparisons)
        says = {"yoy" for k in ("同比", "YoY", "yoy", "YOY") if k in u.full} | \
               {"qoq" for k in ("环比", "QoQ", "qoq", "QOQ") if k in u.full}
        if says and not (wants & says):
            return "comparison"
    return ""


def _unnamed_share(q: ParsedQuery, u: Unit) -> bool:
    """A proportion asked ("有多大比例…", "what share of…") may be printed as a bare percentage
    ("因子值86.3%均小于零"): the word need not be there when a percentage is."""
    return all(m.key == "share" for m in q.metrics) and "%" in u.text


def _names_a_sibling_code(q: ParsedQuery, u: Unit) -> bool:
    """The figure's own sentence names another model number and not the asked one ("910B"
    when 910D was asked): the chunk may mention the asked model elsewhere, without this figure."""
    asked = product_codes(q.text)
    if not asked:
        return False
    printed = {c.lower() for c in product_codes(u.text)}
    return bool(printed) and not any(_mentions(u.text, _code_forms(c)) >= 0 for c in asked)


_GENERATION = re.compile(r"第?\s*([一二三四五六七八九十]|\d{1,2})\s*代(?!表|理|替|码|价|工)|"
                         r"\bgen(?:eration)?\.?\s*(\d{1,2})\b|\b(\d{1,2})(?:st|nd|rd|th)[- ]gen(?:eration)?\b", re.I)


def _generations(text: str) -> set[int]:
    out = set()
    for m in _GENERATION.finditer(text):
        token = next(g for g in m.groups() if g)
        out.add(_CN_NUM.get(token) or int(token))
    return out


def _another_generation(question: str, text: str) -> bool:
    """"昆仑芯3代" asked, "昆仑芯2代" printed: a product's generation is part of its name — the
    evidence's figure belongs to another generation when it names only others."""
    asked = _generations(question)
    printed = _generations(text)
    return bool(asked and printed) and not asked & printed


_FORMER_LATTER = re.compile(r"^\s*(前者|后者|the former|the latter)", re.I)
_NAME = re.compile(r"(?<![A-Za-z])[A-Z][A-Za-z0-9]*(?:\s+[A-Z][A-Za-z0-9]*)*")


def _refers_to_another(q: ParsedQuery, u: Unit) -> bool:
    """"公司先后收购 Alpha 和 Beta：前者…；后者以约 2 亿元…": a sentence opening
    with 前者/后者 is about one of the two names its predecessor lists, not the other."""
    m = _FORMER_LATTER.match(u.text)
    if not m:
        return False
    previous = re.split(r"[：:]|前者|the former", u.context.split("\n")[-1], flags=re.I)[0]
    pair = [n.strip() for n in _NAME.findall(previous)][-2:]
    if len(pair) < 2:
        return False
    meant = pair[0] if m.group(1).lower() in ("前者", "the former") else pair[1]
    asked = required_terms(q) + [[e.alias, e.name] for e in q.entities]
    other = pair[1] if meant == pair[0] else pair[0]
    return any(_mentions(other, forms) >= 0 for forms in asked) and not any(_mentions(meant, forms) >= 0 for forms in asked)


def _refuse(q: ParsedQuery, top: list[Unit], reason: str) -> Extraction:
    # the nearest evidence: same entity and metric, whatever the period
    near = sorted(top, key=lambda u: (-(u.matched["entities"] + u.matched["metrics"]), -u.score))
    return Extraction(None, abstained=True, reason=reason, nearest=near[:2])


def _side_figure(side: ParsedQuery, ranked: list[Unit], want: str = "") -> tuple[Unit, num.Quantity] | None:
    """The best unit and figure for one side of a comparison, scored for that side alone; a
    difference asked in points compares rates, one asked in money amounts."""
    copies = score_units(side, [replace(u, matched={}) for u in ranked[:30]])
    for u in copies[:8]:
        own = extract_periods(u.text)
        if _mismatch(side, u) or (own and not any(p.matches(u.text) for p in side.periods)):
            continue  # a sentence naming its own periods must name this side's
        picked = pick_figure(replace(side, metrics=[m for m in side.metrics if m.key in _PCT_METRICS])
                             if want == "pct" and any(m.key in _PCT_METRICS for m in side.metrics) else side, u)
        figs = [f for _, f in _figures(picked) if want != "pct" or f.unit == "%"]
        if figs:
            return u, figs[0]
    return None


def _difference_across(q: ParsedQuery, ranked: list[Unit]) -> Extraction | None:
    """"2031年一季度收入比2029年全年收入多多少？" when no one sentence prints both: each
    period (or company) gets its own figure from its own evidence, and the difference is
    computed from the two, both quoted."""
    periods = _asked_periods(q.text)
    if len(periods) == 2:
        sides = [replace(q, periods=[p]) for p in periods]
    elif len([e for e in q.entities if e.kind != "broker"]) == 2:
        sides = [replace(q, entities=[e]) for e in q.entities if e.kind != "broker"]
    else:
        return None
    want = _wanted(q.text, q)
    found = [_side_figure(side, ranked, want) for side in sides]
    if any(f is None for f in found) or found[0][0].text == found[1][0].text:
        return None
    (ua, a), (ub, b) = found
    if not _comparable(a, b):
        return None
    source = f"{ua.text}\n{ub.text}"
    comp = _difference(a, b, q.text, source)
    return Extraction(ua, figure=comp.result, computation=comp, also=[ub])


def _computed_in_sentences(q: ParsedQuery, units: list[Unit], compute) -> Extraction | None:
    """The first of these sentences (not table rows) ``compute(question, text, context)`` reads
    its inputs from, with the computation."""
    for u in units:
        comp = compute(q.text, u.text, u.context) if not u.cells else None
        if comp is not None:
            return Extraction(u, figure=comp.result, computation=comp)
    return None


def _prefer_qualified(fitting: list[Unit], margin: float = 0.8) -> list[Unit]:
    """Among close candidates, the one naming the metric's qualifiers ("海外 电池收入", not
    "电池收入"; "储能 PCS", not "储能") comes first."""
    k = sum(1 for u in fitting if u.score >= fitting[0].score * margin)  # a prefix: sorted by score
    close = sorted(fitting[:k], key=lambda u: -u.matched.get("qualified", 0.0))  # stable otherwise
    return close + fitting[k:]


def _prefer_counting(q: ParsedQuery, fitting: list[Unit], within: int = 6) -> list[Unit]:
    """A count asked ("多少种语言"): among the leading candidates, those printing a figure with
    that classifier come first — a sentence of percentages cannot answer it."""
    classifier, noun = asked_count(q.text)
    if not classifier or counted_with(fitting[0].text, classifier, noun):
        return fitting
    head = fitting[:within]
    counting = [u for u in head if counted_with(u.text, classifier, noun)]
    return counting + [u for u in head if u not in counting] + fitting[within:] if counting else fitting


def answer_by_extraction(q: ParsedQuery, ranked: list[Unit]) -> Extraction:
    if not ranked:
        return Extraction(None, abstained=True, reason="no evidence")
    top = ranked[:12]
    parts = sub_questions(q)
    # a figure, then a forecast ("X？预计 Y？"): the evidence must fit what is asked first; the
    # forecast wording of a later part is that part's, not the whole question's
    main = replace(q, outlook=parts[0].outlook) if len(parts) > 1 else q
    fitting = [u for u in top if not _mismatch(main, u)]
    if not fitting:
        return _refuse(q, top, _mismatch(main, top[0]))
    fitting = _prefer_counting(q, _prefer_qualified(fitting))
    best = fitting[0]
    for u in fitting[:4]:
        # "上调至多少" / "before and after": the figures of a revision, as the sentence prints them
        revised = revision_answer(q.text, u.text) if not u.cells and u.score >= best.score * 0.75 else ""
        if revised:
            return Extraction(u, figure=revised, span=True)
    # "A 是 B 的几倍": A ÷ B; "没有…的 / 非… / other than": the whole minus the part
    for asked, compute in ((ASKS_MULTIPLE.search(q.text) and len(parts) == 1, compute_multiple),
                           (asks_complement(q.text), compute_complement)):
        computed = _computed_in_sentences(q, fitting[:4], compute) if asked else None
        if computed is not None:
            return computed
    # "租金多少，比去年跌了多少" / "…, and how much had it fallen": a level then its change are two
    # parts, each read as printed (below), not one computed difference
    asked_parts = question_parts(q.text)
    level_then_change = len(asked_parts) >= 2 and not asks_difference(asked_parts[0])
    if asks_difference(q.text) and not level_then_change:
        for u in fitting[:3]:
            stated = stated_difference(q.text, u.text) if u.score >= best.score * 0.75 else ""
            if stated:
                return Extraction(u, figure=stated, span=True)   # read as the sentence states it
        for u in fitting[:6]:
            comp = compute_difference(q.text, u.text, u.cells, context=u.context)
            if comp is not None:
                return Extraction(u, figure=comp.result, computation=comp)
        across = _difference_across(q, ranked)
        if across is not None:
            return across
        if len(parts) == 1:
            return Extraction(best)  # the evidence, but no figure we could compute
    if asks_sum(q.text):
        for u in fitting[:6]:
            comp = compute_sum(q.text, u.text)
            if comp is not None:
                return Extraction(u, figure=comp.result, computation=comp)
    if asks_share(q.text) and not any(states_share(q.text, u.text) for u in fitting[:6]):
        for u in fitting[:6]:  # a share the reports do not print: part / whole
            comp = compute_share(q.text, u.text, u.context)
            if comp is not None:
                return Extraction(u, figure=comp.result, computation=comp)
    nth = asks_rank(q.text)
    if nth and best.cells:
        ext = _rank_in_table(q, best, ranked, nth)
        if ext is not None:
            return ext
    # a question naming a column of figures ("…站点的容量") asks for its figure, unless it asks
    # what or which, or names a metric of its own (then the metric picks the column)
    wants_figure = bool(FIGURE_Q.search(q.text)) or not (q.metrics or NAME_Q.search(q.text)) and any(
        head_named(q.text, h) for h, c in best.cells[1:] if _figure_cell(c))
    if asked_date(q.text) and len(parts) == 1 and not _HOW_MUCH.search(q.text):
        # a date asked: the first leading evidence printing one of the asked kind answers; a
        # figure never does (no span: the evidence is offered as the nearest)
        for i, u in enumerate(fitting[:6]):
            span = asked_span(q, u, leading=i == 0)
            if span:
                return Extraction(u, figure=span, span=True)
        return Extraction(best, span=True)
    setting = _SETTING_Q.search(q.text) if not q.metrics and len(parts) == 1 else None
    if setting:
        # "X 是怎么设定的": a setting asked is the figure printed after its name
        for u in fitting[:4]:
            term = _printed_suffix(q.text[: setting.start()], u.text)
            figure = pick_figure(replace(q, metrics=[Metric("", term)]), u) if term else ""
            if figure:
                return Extraction(u, figure=figure)
    if not wants_figure and NAME_Q.search(q.text):
        # a table cell is read off the evidence; a name or a reason in prose is not picked out:
        # the evidence is offered as the nearest
        for u in fitting[:4]:           # close rows of a table: the one the question names
            if u is best or u.cells and u.score >= best.score * 0.75:
                span = asked_span(q, u)
                if span:
                    return Extraction(u, figure=span, span=True)
        return Extraction(best)
    if not (q.metrics or q.periods or wants_figure):
        return Extraction(best)
    # a figure the question prints ("那笔 7 亿美元融资中…") is its context, never its answer
    given = tuple(f.raw for _, f in _figures(normalize_text(q.text)))
    for u in fitting[:4]:
        if u.score < best.score * 0.75:
            break
        figure = pick_figure(parts[0], u, exclude=given)
        if figure:
            ext = Extraction(u, figure=figure)
            # a level then its change, or two items asked side by side: every part asking for a
            # figure gets its own, from the same evidence, none taken twice
            figures = [figure]
            for p in parts[1:]:
                if p.metrics and p.metrics[0].key == "" or FIGURE_Q.search(p.text):
                    more = pick_figure(p, u, exclude=tuple(figures) + given)
                    if more:
                        figures.append(more)
            ext.figure = "，".join(dict.fromkeys(figures))
            return ext
    if wants_figure:
        return _refuse(q, fitting, "no figure")  # the evidence names it but gives no number
    if q.metrics and _other_period_column(q, best):
        # "What is Google's 2027 capex guidance?" over a table of 2026 guidance: quoting the
        # row would state another period's figure
        return _refuse(q, top, "period")
    return Extraction(best)


_CN_NUM = {c: i for i, c in enumerate("一二三四五六七八九十", 1)}
_RANK_NTH = re.compile(r"(?:排名|排|位列|位居)?第\s*([一二三四五六七八九十]|\d{1,2})\s*(?:名|位|高|大|多)|"
                       r"(?:排名|排|位列|位居)第\s*([一二三四五六七八九十]|\d{1,2})|"
                       r"\b(\d)(?:st|nd|rd|th)[- ](?:highest|largest|biggest)\b", re.I)
_RANK_TOP = re.compile(r"(最高|最大|最多|排名第一|居首|highest|largest|biggest|fastest)", re.I)


def asks_rank(question: str) -> int:
    """N for "排名第三的是哪家" / "2nd-largest"; 1 for "最高/highest"; 0 otherwise."""
    m = _RANK_NTH.search(question)
    if m:
        token = next(g for g in m.groups() if g)
        return _CN_NUM.get(token) or int(token)
    return 1 if _RANK_TOP.search(question) and NAME_Q.search(question) else 0


def _rank_in_table(q: ParsedQuery, best: Unit, ranked: list[Unit], nth: int) -> Extraction | None:
    """The row ranked n-th by the asked column among the rows of the best unit's table."""
    rows = [u for u in ranked if u.chunk.id == best.chunk.id and u.context == best.context and u.cells]
    valued = []
    for u in rows:
        figs = num.extract_quantities(pick_figure(q, u))
        if figs and figs[0].kind == "figure":
            valued.append((figs[0].value, u))
    if len(valued) < max(nth, 2):
        return None
    valued.sort(key=lambda vu: -vu[0])
    u = valued[nth - 1][1]
    return Extraction(u, figure=pick_figure(q, u))


def unsupported_numbers(claim: str | list[str], evidence_texts: list[str]) -> list[str]:
    """Figures stated in ``claim`` that no evidence text prints (the NumberCheck).

    Exact after unit normalisation (994亿美元 == US$99.4 billion), not approximate: a
    verifier that lets 995 pass for 994 is no verifier.
    """
    claims = [claim] if isinstance(claim, str) else claim
    printed = [q for t in evidence_texts for q in num.extract_quantities(t) if q.kind == "figure"]
    missing = []
    for text in claims:
        for q in num.extract_quantities(text):
            if q.kind == "figure" and not any(num.same_value(q, p, rel_tol=1e-6) for p in printed):
                missing.append(q.raw.strip())
    return missing

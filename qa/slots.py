"""Slot matching: which printed figure of the chosen evidence answers the question.

The evidence (a sentence or a table row) often prints several figures: an amount and its
growth, an old and a raised guidance, two periods, two companies. The figure store knows each
one's slots (ingest.facts), so the answer is the fact whose slots agree with the question's —
entity, metric, period, status — not the figure nearest a word of the question. A fact whose
printed period contradicts the asked one is never the answer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from index.query import Metric, ParsedQuery, entity_mentions
from ingest.facts import CLASSIFIER
from ingest.numbers import Quantity, extract_quantities, same_value

from .compute import asks_difference
from .evidence import required_terms

GROWTH_KEYS = ("growth", "growth_yoy", "growth_qoq")
# metrics printed as percentages; any other known metric is a level (an amount, a count, a price)
PERCENT_KEYS = set(GROWTH_KEYS) | {"cagr", "gross_margin", "net_margin", "operating_margin", "ebitda_margin",
                                   "margin", "market_share", "share", "utilization", "win_rate", "annual_return",
                                   "excess_return", "max_drawdown", "volatility", "tracking_error", "ic", "turnover",
                                   "coupon", "price_change"}
_PERCENT_WORDS = re.compile(r"占比|比例|比重|份额|率|%|百分之|percent|share|margin|ratio|rate", re.I)
_OLD_VALUE = re.compile(r"此前|之前|原来|原先|原指引|上调前|下调前|previous|prior|original|before", re.I)
EXPECTED = ("forecast", "guidance", "target")


@dataclass
class SlotScore:
    fact: dict
    score: float
    period_conflict: bool
    index_conflict: bool = False

    @property
    def conflict(self) -> bool:
        return self.period_conflict or self.index_conflict


_LABEL = re.compile(r"^(FY)?(\d{4})(?:([QH])([1-4]))?$")
_SPAN = re.compile(r"^(FY)?(\d{4})-(FY)?(\d{4})$")


def _asked_periods(q: ParsedQuery) -> list:
    return [p for p in q.periods if p.kind != "relative" and p.year is not None]


def period_agreement(asked: list, label: str) -> int:
    """+1 the fact's period is an asked one, -1 it contradicts every asked one, 0 undecided.

    A contradiction is a different year, or the same kind of period (two quarters, two fiscal
    years) with another value. A year against a quarter or month of that year, or a month
    against its quarter, is undecided: facts inherit periods from their paragraph, and a
    month is never a fact's own period."""
    span = _SPAN.match(label or "")
    if asked and span:   # "2026-2027": a year inside is undecided (which one is not known), outside contradicts
        low, high = int(span.group(2)), int(span.group(4))
        return max(0 if low <= p.year <= high and p.fiscal == bool(span.group(1)) else -1 for p in asked)
    m = _LABEL.match(label or "")
    if not asked or not m:
        return 0
    fiscal, year, part, n = bool(m.group(1)), int(m.group(2)), m.group(3), int(m.group(4) or 0)
    verdicts = []
    for p in asked:
        if p.year != year:
            verdicts.append(-1)
        elif p.kind == "year" and not part:
            verdicts.append(1 if p.fiscal == fiscal else 0)
        elif p.kind == "quarter" and part == "Q":
            verdicts.append((1 if p.quarter == n else -1) if p.fiscal == fiscal else 0)
        elif p.kind == "half" and part == "H":
            verdicts.append((1 if p.half == n else -1) if p.fiscal == fiscal else 0)
        elif p.kind == "month" and part == "Q" and not fiscal:
            verdicts.append(0 if (p.month - 1) // 3 + 1 == n else -1)
        else:
            verdicts.append(0)
    return max(verdicts)


_MONEY_WORDS = re.compile(r"金额|规模|收入|营收|花费|成本|投资|融资|估值|价格|多少钱|资本开支|amount|value|cost|"
                          r"revenue|price|capex|funding|valuation|spend", re.I)
_AMOUNT_WORDS = re.compile(r"[亿万元]|美元|金额|\$|\b(?:billion|million|dollars?|yuan|RMB|amount)\b", re.I)
_ASKED_CLASSIFIER = re.compile(rf"(?:多少|几)\s*({CLASSIFIER})")
# the noun a question counts, right after its question word and classifier ("多少台服务器")
_ASKED_NOUN = re.compile(rf"(?:多少|几)\s*(?:{CLASSIFIER})\s*(?P<noun>(?:[A-Za-z0-9]+\s?|[\u4e00-\u9fff]){{2,12}})")
_ASKED_NOUN_EN = re.compile(r"\bhow many\s+(?P<noun>[A-Za-z][\w.+-]*(?:\s+[A-Za-z][\w.+-]*){0,2})", re.I)


# the two ends of a list or a range, each in the words that name it: asked for one end ("上限"),
# a figure labelled with the same end in other words ("最高") is it, one labelled with the
# other end is not
_UPPER_END = ("最多", "最高", "最大", "上限", "峰值", "至多", "highest", "maximum", "most", "largest", "upper",
              "peak", "max")
_LOWER_END = ("最少", "最低", "最小", "下限", "谷值", "至少", "lowest", "minimum", "least", "smallest", "lower",
              "trough", "min")


def _extreme_agreement(question: str, label: str) -> float:
    """+1 when the label names the end the question asks for, -2 when only the other end."""
    q, lab = question.lower(), label.lower()
    for asked, opposite in ((_UPPER_END, _LOWER_END), (_LOWER_END, _UPPER_END)):
        if any(_word_in(w, q) for w in asked) and not any(_word_in(w, q) for w in opposite):
            if any(_word_in(w, lab) for w in asked):
                return 1.0
            if any(_word_in(w, lab) for w in opposite):
                return -2.0
    return 0.0


def _word_in(word: str, text: str) -> bool:
    return bool(re.search(rf"(?<![a-z]){word}(?![a-z])", text)) if word.isascii() else word in text


def _names_the_counted(question: str, label: str) -> bool:
    """Does the label name what the question counts? Half of a Chinese noun's bigrams, or one
    of an English noun's words (a name like "X-3" is the word that matters)."""
    zh = _ASKED_NOUN.search(question)
    if zh and word_overlap(label, zh.group("noun")) >= 0.5:
        return True
    en = _ASKED_NOUN_EN.search(question)
    words = _grams(en.group("noun")) - _STOP_GRAMS - _ASK_GRAMS if en else set()
    return bool({w for w in words if len(w) >= 3} & _grams(label))


_DURATION_WORDS = re.compile(r"多久|多长时间|多少(?:天|分钟|小时|秒|个月|周)|用时|耗时|\bhow long\b|\bduration\b", re.I)
_COUNT_WORDS = re.compile(r"多少(?:个|块|家|台|张|颗|座|名|次|人)|几(?:个|块|家|台|张|颗|座|名|次)|how many", re.I)


# a currency the question names for its answer ("多少港币", "in US dollars"); 元 alone is left
# open (a question may say 亿元 of any amount)
_ASKED_CURRENCY = [(re.compile(r"港币|港元|\bHKD\b|HK\$|Hong Kong dollars?", re.I), "HKD"),
                   (re.compile(r"美元|\bUSD\b|US\$|U\.S\. dollars?|(?<!Kong )\bdollars\b", re.I), "USD"),
                   (re.compile(r"人民币|\bRMB\b|\bCNY\b|\byuan\b", re.I), "CNY")]


def _asked_currency(question: str) -> str:
    named = {code for pattern, code in _ASKED_CURRENCY if pattern.search(question)}
    return named.pop() if len(named) == 1 else ""


def score_fact(q: ParsedQuery, fact: dict, context: str = "") -> SlotScore:
    """How well a fact's slots agree with the question's (higher is better); ``context`` is the
    rest of the question when ``q`` is one part of it."""
    score = 0.0
    keys = [m.key for m in q.metrics]
    wants_growth = any(k in GROWTH_KEYS for k in keys)
    fkey = fact.get("metric_key", "")
    phrase = f"{fact.get('metric', '')} {fact.get('item', '')}".lower()
    # metric: the asked key, or the asked words in the fact's metric phrase
    if fkey and fkey in keys:
        score += 3
    elif any(m.alias.lower() in phrase for m in q.metrics):
        score += 2
    elif fkey and keys and fkey not in keys:
        score -= 1
    if fkey in GROWTH_KEYS and not wants_growth:
        score -= 3          # a growth rate answers "how much" only when growth was asked
    if wants_growth and fact.get("unit") in ("%", "pp"):
        score += 1
    elif wants_growth and not _AMOUNT_WORDS.search(q.text):
        score -= 2          # a growth rate was asked; a level is what grew, not how much
    if keys and not set(keys) & PERCENT_KEYS and fact.get("unit") in ("%", "pp"):
        score -= 2          # a level was asked (a price, revenue); a percentage is a change or a share of it
    if _PERCENT_WORDS.search(q.text) and fact.get("unit") == "%":
        score += 0.5
    # period
    agreement = period_agreement(_asked_periods(q), fact.get("period", ""))
    conflict = agreement < 0
    score += {1: 2, 0: 0, -1: -3}[agreement]
    # status
    status = fact.get("status", "actual")
    wants_expected = "estimate" in q.outlook
    asks_old = bool(_OLD_VALUE.search(q.text))
    if status == "previous":
        score += 2 if asks_old else -2
    elif wants_expected and status in EXPECTED:
        score += 1
    elif wants_expected and status == "actual":
        score -= 1
    # entity
    names = {e.name for e in q.entities if e.kind in ("company", "unit")}
    if names and fact.get("entity"):
        if fact["entity"] in names:
            score += 2
        elif not names & {e.name for _, e in entity_mentions(fact.get("text", ""))}:
            score -= 2      # another company's figure; one sentence naming both is left undecided
    # the stock index a quant result is about (its universe or benchmark)
    asked_index = {e.name for e in q.entities if e.kind == "index"}
    index_conflict = False
    if asked_index:
        said = _index_of(fact)
        if said and not said & asked_index:
            score -= 3
            index_conflict = True
        elif said & asked_index:
            score += 1
    # the words of the fact's metric phrase and row/column label that the question repeats
    label = f"{fact.get('metric', '')} {fact.get('item', '')}"
    score += 2 * word_overlap(_matching(q), label) + (0.5 * word_overlap(context, label) if context else 0)
    # a figure the question itself prints is a condition of the question, not its answer
    if any(q_.kind == "figure" and same_value(q_, _quantity(fact)) for q_ in extract_quantities(q.text)):
        score -= 3
    # the kind of figure asked for: money or a count
    asked = _ASKED_CLASSIFIER.search(q.text)
    if asked and fact.get("printed", "").replace(" ", "").endswith(asked.group(1)):
        score += 1.5        # "多少张" is answered by a figure printed "…张"
    elif asked and asked.group(1) not in ("元", "美元") and fact.get("currency"):
        score -= 2          # "多少股" counts shares: a sum of money does not answer it
    asked_currency = _asked_currency(q.text)
    if asked_currency and fact.get("currency"):
        score += 1 if fact["currency"] == asked_currency else -2   # "多少港币" is not answered in 元
    score += _extreme_agreement(q.text, label)
    if _names_the_counted(q.text, f"{fact.get('metric', '')} {fact.get('item', '')}"):
        score += 2          # "多少股A类普通股": what is counted is named right after the question word
    if _DURATION_WORDS.search(q.text):
        score += 1.5 if fact.get("kind") == "duration" else 0
    elif _COUNT_WORDS.search(q.text):
        score += 1 if fact.get("kind") == "count" else 0
    elif _MONEY_WORDS.search(q.text) and fact.get("kind") == "amount" and fact.get("currency"):
        score += 1
    return SlotScore(fact, score, conflict, index_conflict)


def score_facts(q: ParsedQuery, facts: list[dict], context: str = "") -> list[SlotScore]:
    """``score_fact`` for each of a set of candidate facts, plus how much of the question's wording
    only this fact's label has: words every candidate shares ("持股" in "最多持股" and "最少持股")
    tell nothing, a word one of them alone repeats ("最多") does."""
    scores = [score_fact(q, f, context) for f in facts]
    compared = set(q.comparisons)
    if compared:        # a change against the previous quarter: the sequential rate, not the yearly one
        for s, f in zip(scores, facts):
            kind = {"growth_yoy": "yoy", "growth_qoq": "qoq"}.get(f.get("metric_key", ""))
            if kind:
                s.score += 1.0 if kind in compared else -1.0
    labels = [_grams(f"{f.get('metric', '')} {f.get('item', '')}") - _STOP_GRAMS for f in facts]
    asked = _grams(_matching(q))
    if len(facts) > 1:
        for s, grams in zip(scores, labels):
            shared = [g for g in grams & asked]
            # each repeated word weighs 1 / the number of candidates whose label also has it
            s.score += CONTRAST_WEIGHT * sum(1 / sum(1 for other in labels if g in other) for g in shared) \
                / max(len(grams), 1)
    return scores


CONTRAST_WEIGHT = 1.0


def _matching(q: ParsedQuery) -> str:
    """The question's words to compare with a figure's label: with English words, also their
    glossary forms in Chinese (the label is usually printed in Chinese)."""
    return q.text if q.lang == "zh" else q.matching_text


def _grams(text: str) -> set[str]:
    """CJK character bigrams and lower-cased Latin words (2+ letters) of a text."""
    text = text.lower()
    words = set(re.findall(r"[a-z][a-z0-9.+-]+", text))
    words |= {w[:-1] for w in words if len(w) > 3 and w.endswith("s")}   # "GPUs" is "GPU"
    cjk = "".join(re.findall(r"[\u4e00-\u9fff]", text))
    return words | {cjk[i:i + 2] for i in range(len(cjk) - 1)}


_STOP_GRAMS = {"the", "of", "and", "in", "to", "for", "is", "was", "公司", "多少", "是多", "情况"}


def word_overlap(question: str, phrase: str) -> float:
    """The share of the phrase's bigrams/words that the question repeats (0..1)."""
    grams = _grams(phrase) - _STOP_GRAMS
    return len(grams & _grams(question)) / len(grams) if grams else 0.0


_ASKS_MONEY = re.compile(r"多少(?:亿|万|千|百)?(?:美?元|港元)|how much money|how many (?:dollars|yuan)", re.I)
_ASKS_PERCENT = re.compile(r"百分之(?:多少|几)|多少\s*%|what percentage|how many percent", re.I)
# a difference of rates is asked in points, a ratio as a multiple: a level answers neither
# (a computed difference or multiple never reaches this check)
_ASKS_POINTS = re.compile(r"(?:多少|几)个?百分点|percentage points?|\bbps?\b|basis points", re.I)
ASKS_MULTIPLE = re.compile(r"(?:几|多少)\s*倍|how many times|what multiple|(?:as )?(?:a )?multiple of|"
                           r"times (?:as large|as much|larger|higher)", re.I)
# a share is a percentage; a figure derived from others ("implied", "推算") is computed, never
# looked up; a difference is answered by a printed change, not by one of the two levels
ASKS_SHARE = re.compile(r"占比|比重|比例|份额|占[^，,。？?]{0,16}?(?:的)?(?:多少|百分之|几成)|share of|as a share|"
                         r"proportion|what percentage of|what fraction|what portion", re.I)
# ("implied volatility" is a metric, and "revenue derived from" a source, not a computation)
ASKS_DERIVED = re.compile(r"推算|倒推|反推|back out|(?:隐含|implied|implies)(?!\s*(?:波动率|volatility|vol\b))", re.I)
_CHANGE_WORDS = re.compile(r"增加|增长|提升|提高|上调|下调|上升|下降|减少|降低|下滑|扩大|缩小|高出|多出|相差|差额|差距|变化|"
                           r"increase|decrease|rise|fall|grew|growth|up|down|higher|lower|more|less|change", re.I)
_ASK_GRAMS = {"多少", "是多", "少个", "为多", "有多", "大约", "约多", "哪个", "什么", "目前", "分别", "是什", "the", "what",
              "how", "much", "many", "did", "does", "was", "were", "are", "its", "their", "per", "according"}


def about_the_question(q: ParsedQuery, fact: dict, caption: str = "") -> bool:
    """Is the figure about what is asked (meaning, not digits)? Its metric is an asked one, or its
    label — metric phrase, row/column label, what it counts — repeats a content word of the
    question (names and periods aside). An English question naming no known metric is not
    checked: its words cannot be compared with a Chinese label."""
    if _ASKS_MONEY.search(q.text) and not fact.get("currency") and fact.get("unit") in ("%", "pp"):
        return False        # "多少亿元" is not answered with a percentage
    if _ASKS_PERCENT.search(q.text) and fact.get("unit") not in ("%", "pp") and fact.get("kind") != "other":
        return False        # "百分之多少" is not answered with an amount
    if _ASKS_POINTS.search(q.text) and fact.get("unit") not in ("pp", "bp"):
        return False        # "高出多少个百分点" is not answered with one of the two rates
    if ASKS_MULTIPLE.search(q.text) and fact.get("unit") != "x" and fact.get("kind") != "multiple":
        return False        # "是原来的几倍" is not answered with one of the two amounts
    if ASKS_SHARE.search(q.text) and fact.get("unit") not in ("%", "pp") and fact.get("kind") != "other":
        return False        # "占总收入的比重" is not answered with the amount
    if ASKS_SHARE.search(q.text) and fact.get("metric_key") in GROWTH_KEYS and \
            not any(m.key in GROWTH_KEYS for m in q.metrics):
        return False        # a share is not answered with the growth printed beside it
    if ASKS_DERIVED.search(q.text):
        return False        # "推算其上年收入" is computed from printed figures, or not answered
    if asks_difference(q.text) and not _is_change(fact):
        return False        # "比去年增加了多少" is not answered with this year's level
    keys = {m.key for m in q.metrics if m.key}
    fkey = fact.get("metric_key", "")
    label = f"{fact.get('metric', '')} {fact.get('item', '')} {_around(fact)} {caption}"
    if fkey and fkey in keys or any(m.alias.lower() in label.lower() for m in q.metrics):
        return True
    names = set()
    for e in q.entities:
        names |= _grams(e.alias) | _grams(e.name)
    for forms in required_terms(q):     # a company the dictionary does not know is a name too
        names |= {g for form in forms for g in _grams(form)}
    for p in q.periods:
        names |= {g for v in p.variants() for g in _grams(v)}
    asked = _grams(q.text) - names - _STOP_GRAMS - _ASK_GRAMS
    if q.lang == "en":
        return True   # English words are not compared with a Chinese label (another metric is refused in repick)
    if not asked:
        return True
    return bool(asked & _grams(label))


def _is_change(fact: dict) -> bool:
    """A printed change (a growth rate, points, or a figure whose words say it moved), not a level."""
    text, printed = fact.get("text", "").replace(" ", ""), fact.get("printed", "").replace(" ", "")
    at = text.find(printed)
    just_before = text[max(0, at - 6): at] if at >= 0 and "\t" not in text else ""   # "较上年增加 50 亿"
    return fact.get("unit") == "pp" or fact.get("metric_key") in GROWTH_KEYS or \
        bool(_CHANGE_WORDS.search(f"{fact.get('metric', '')} {fact.get('item', '')} {just_before}"))


def _around(fact: dict) -> str:
    """The words printed next to the figure in its sentence: its clause before it, and what it
    counts after it ("…日均调用量突破 140 万亿 tokens")."""
    text, printed = fact.get("text", "").replace(" ", ""), fact.get("printed", "").replace(" ", "")
    at = text.find(printed)
    if at < 0 or "\t" in text:
        return ""
    return text[max(0, at - 16): at] + " " + text[at + len(printed): at + len(printed) + 8]


def facts_in(text: str, facts: list[dict]) -> list[dict]:
    """The facts printed in one piece of evidence (a fact's sentence or row lies in it, or it in
    the fact's: chunks and sentences are cut differently)."""
    # a table chunk prints its cells joined by " | ", a row fact by tabs: neither joiner counts
    squash = re.sub(r"[\s|]+", "", text)
    out = []
    for f in facts:
        t = re.sub(r"[\s|]+", "", f.get("text", ""))
        if t and (t in squash or (len(squash) >= 12 and squash in t)):
            out.append(f)
    return out


def _quantity(f: dict) -> Quantity:
    return Quantity(value=f["value"], unit=f["unit"], currency=f["currency"], low=f["low"], high=f["high"],
                    is_range=f["low"] != f["high"])


def fact_of(figure: str, facts: list[dict]) -> dict | None:
    """The fact a stated figure is (same value and unit)."""
    stated = [q for q in extract_quantities(figure) if q.kind == "figure"]
    if not stated:
        return None
    return next((f for f in facts if any(same_value(q, _quantity(f)) for q in stated)), None)


_ASK = re.compile(r"多少|几[个块家年月天次倍]?|什么时候|何时|哪一?[年天个家些]|怎样|如何|多[大高快长久]|几何|"
                  r"什么(?:水平|区间|范围)|\bhow (?:much|many|long|large|big|fast|high)\b|"
                  r"\bwhat\b|\bwhen\b|\bwhich\b", re.I)
_PART_BREAK = re.compile(r"[，,；;？?、]|以及|并且|同时|\band\b")
# items asked side by side: "A 和 B 分别/各是多少" ("各年", "各季度" name periods, not items)
BOTH = re.compile(r"分别|各自|各(?:是|为|有|约)|各(?=多少|几|多大|多高)|\brespectively\b", re.I)
# a part asking a figure by a plain noun ("what were the size and pricing of …")
_FIGURE_NOUN = re.compile(r"\b(?:size|amount|value|number|count|total)\b|规模|金额|数量", re.I)


def question_parts(question: str) -> list[str]:
    """The separate figures a question asks for: one part per clause with its own question word
    ("收入是多少，同比增长多少" → two), or one per item asked side by side ("A和B分别是多少").
    A question asking for one figure is one part."""
    pieces = [p.strip() for p in _PART_BREAK.split(question) if p and p.strip()]
    parts: list[str] = []
    keys: set[str] = set()
    lead = ""                       # "截至2025年6月，…租金多少": a leading clause belongs to the first part
    for p in pieces:
        own = _metric_keys(p)
        # "…的 EBITDA 和 EBITDA 利润率" / "its revenue and its YoY growth": a piece naming a
        # metric of its own after a part naming another asks for that figure too
        if _ASK.search(p) or parts and own and not own & keys and (keys or _FIGURE_NOUN.search(parts[-1])):
            parts.append(f"{lead}，{p}" if lead and not parts else p)
            keys = own
        elif not parts:
            lead = f"{lead}，{p}" if lead else p
    if len(parts) >= 2:
        return parts
    m = BOTH.search(question)
    if m:
        head = re.split(r"[，,的：:]", question[:m.start()])[-1]
        items = [i for i in re.split(r"和|与|及|、|/|\band\b", head) if i.strip()]
        if 2 <= len(items) <= 4:
            return items
    return [question]


def _printed_in_question(question: str, fact: dict) -> bool:
    """The fact's figure is printed in the question itself (a model number, a given amount)."""
    from ingest.numbers import extract_quantities
    printed = fact.get("printed", "")
    digits = re.sub(r"[^\d.]", "", printed)
    return bool(digits) and any(re.sub(r"[^\d.]", "", q.raw) == digits
                                for q in extract_quantities(question) if q.kind == "figure")


def _metric_keys(text: str) -> set[str]:
    from index.query import parse_query
    return {m.key for m in parse_query(text).metrics if m.key}


def part_query(q: ParsedQuery, part: str) -> ParsedQuery:
    """A part of a question, read on its own, with the whole question's entities, periods and
    outlook where the part names none."""
    from dataclasses import replace

    from index.query import parse_query
    pq = parse_query(part)
    periods = pq.periods or q.periods
    metrics = pq.metrics
    if _CHANGE_ASK.search(part):
        # "与上年同月相比降了几成": a change from a base period; the base is not the period asked
        periods = [p for p in pq.periods if not _is_base(part, p)]
        if not any(m.key in GROWTH_KEYS for m in metrics):
            metrics = [*metrics, Metric("growth", _CHANGE_ASK.search(part).group(0))]
    return replace(pq, entities=pq.entities or q.entities, metrics=metrics,
                   periods=periods, outlook=pq.outlook or q.outlook)


_CHANGE_ASK = re.compile(r"(?:跌|涨|降|升|增|减|下降|上升|增长|减少|下滑|提升|回落)了?(?:多少|几)|降幅|涨幅|跌幅|增幅|"
                         r"\bhow much\b.{0,40}?\b(?:fall\w*|fell|drop\w*|declin\w*|ris\w*|rose|grow\w*|grew|increas\w*|"
                         r"decreas\w*)", re.I)
_BASE = re.compile(r"(?:相比|相较于?|较|与|比|对比|versus|vs\.?|compared (?:with|to)|from)\s*$", re.I)


def _is_base(part: str, period) -> bool:
    """The period a change is measured from ("相比2023年6月", "compared with June 2023")."""
    from index.query import find_periods
    from index.text import normalize_text
    text = normalize_text(part)
    return any(p == period and _BASE.search(text[max(0, i - 14):i]) for i, p in find_periods(part))


def pick_parts(q: ParsedQuery, facts: list[dict]) -> list[dict]:
    """One fact per part of a question that asks for several figures, each agreeing with its
    part and none taken twice; [] unless every part finds one."""
    parts = question_parts(q.text)
    if len(parts) < 2 or not facts:
        return []
    facts = [f for f in facts if not _printed_in_question(q.text, f)]   # "DDTL 1.0": a name, not an answer
    chosen: list[dict] = []
    for part in parts:
        pq = part_query(q, part)
        # the rest of the question still counts: "同比增长多少" is the growth of what came before
        # each part its own figure: the same printed figure twice answers one of them only
        taken = {f["printed"] for f in chosen}
        ranked = score_facts(pq, [f for f in facts if f["printed"] not in taken], context=q.text)
        if chosen and any(m.key in GROWTH_KEYS for m in pq.metrics):
            # a change asked after a figure is that figure's change (its fact's metric extends it)
            base = chosen[-1].get("metric", "")
            for r in ranked:
                if base and r.fact.get("metric", "").startswith(base):
                    r.score += 2
        ranked.sort(key=lambda s: -s.score)
        if not ranked or ranked[0].score <= 0 or ranked[0].conflict:
            return []
        chosen.append(ranked[0].fact)
    return chosen


def best_fact(q: ParsedQuery, facts: list[dict]) -> dict | None:
    """The fact of the evidence that agrees with the question, when code picked no figure."""
    ranked = sorted(score_facts(q, facts), key=lambda s: -s.score)
    # an English question shares no words with a Chinese label: its agreement scores lower
    need = 0.5 if q.lang == "en" else 2
    if ranked and ranked[0].score >= need and not ranked[0].conflict and \
            (len(ranked) == 1 or ranked[0].score > ranked[1].score):
        return ranked[0].fact
    return None


def _index_of(fact: dict) -> set[str]:
    """The stock index a fact's figure is about: the one named nearest before it in its
    sentence (else the first one after it)."""
    from index.text import normalize_text
    text = normalize_text(fact.get("text", ""))
    mentions = [(pos, e.name) for pos, e in entity_mentions(fact.get("text", "")) if e.kind == "index"]
    if not mentions:
        return set()
    at = text.find(normalize_text(fact.get("printed", "")).split(" ")[0])
    before = [name for pos, name in mentions if at < 0 or pos < at]
    return {before[-1]} if before and at >= 0 else {mentions[0][1]}


def _other_metric(q: ParsedQuery, fact: dict) -> bool:
    """The fact is a known metric other than every one asked (and does not repeat the asked
    words): "信息比率" asked, "夏普比率" printed."""
    keys = {m.key for m in q.metrics} - set(GROWTH_KEYS)
    fkey = fact.get("metric_key", "")
    if not keys or not fkey or fkey in keys or fkey in GROWTH_KEYS:
        return False
    phrase = f"{fact.get('metric', '')} {fact.get('item', '')}".lower()
    return not any(m.alias.lower() in phrase for m in q.metrics)


def _unasked_growth(q: ParsedQuery, fact: dict) -> bool:
    """A growth rate when the question asks for no growth: the change printed beside another
    metric's level says nothing of the asked metric."""
    return fact.get("metric_key", "") in GROWTH_KEYS and not any(m.key in GROWTH_KEYS for m in q.metrics) \
        and not (_CHANGE_WORDS.search(q.text) or _CHANGE_ASK.search(q.text) or ASKS_MULTIPLE.search(q.text))


def _not_the_asked_metric(q: ParsedQuery, fact: dict) -> bool:
    return _other_metric(q, fact) or _unasked_growth(q, fact)


def repick(q: ParsedQuery, figure: str, facts: list[dict], margin: float = 1.0,
           floor: float | None = None) -> tuple[dict | None, str]:
    """(a better fact, "") when one of ``facts`` agrees with the question clearly better than the
    figure picked; (None, "period") when the picked figure's period contradicts the question and
    no fact of the evidence has the asked period; (None, "") to keep the pick."""
    if not facts:
        return None, ""
    ranked = sorted(score_facts(q, facts), key=lambda s: -s.score)
    best = ranked[0]
    current = fact_of(figure, facts) if figure else None
    if current is None:
        return None, ""
    mine = next(s for s in ranked if s.fact is current)
    if mine.period_conflict and all(s.period_conflict or not s.fact.get("period") for s in ranked):
        return None, "period"
    if mine.index_conflict and all(s.index_conflict for s in ranked):
        return None, "entity"
    if _not_the_asked_metric(q, current) and all(_not_the_asked_metric(q, s.fact) for s in ranked):
        return None, "metric"
    floor = margin if floor is None else floor   # how well the better fact must agree on its own
    if best.fact is not current and best.score >= max(mine.score + margin, floor) and not best.conflict:
        return best.fact, ""
    return None, ""


def close_candidates(q: ParsedQuery, facts: list[dict], margin: float = 2.0, limit: int = 5) -> list[dict]:
    """The facts that agree with the question about as well as the best one (none contradicting
    the asked period), best first; fewer than two means code's choice is clear."""
    ranked = sorted((s for s in score_facts(q, facts) if not s.conflict), key=lambda s: -s.score)
    if len(ranked) < 2 or ranked[0].score - ranked[1].score >= margin:
        return []
    close = [s.fact for s in ranked if ranked[0].score - s.score < margin + 1]
    return close[:limit]


def describe(fact: dict) -> str:
    """A candidate as the chooser sees it: the figure and its slots."""
    slots = [x for x in (fact.get("entity"), fact.get("metric"), fact.get("item"), fact.get("period"),
                         None if fact.get("status") == "actual" else fact.get("status")) if x]
    return f"{fact['printed']}（{'，'.join(slots)}）" if slots else fact["printed"]


def mismatch(q: ParsedQuery, slot: str, fact: dict | None) -> str:
    """Which slot of the nearest figure differs from the question's, in the question's language:
    "found 2026Q1, asked 2026Q2"."""
    en = q.lang == "en"
    if fact is None:
        return ""
    if slot == "period":
        asked = "/".join(p.label for p in _asked_periods(q))
        found = fact.get("period", "")
        return (f"(The nearest figure is for {found}; the question asks for {asked}.)" if en
                else f"（最接近的数据是 {found} 的，问的是 {asked}。）")
    if slot == "metric":
        asked = "/".join(m.alias for m in q.metrics)
        found = fact.get("metric") or fact.get("item") or fact.get("metric_key", "")
        figure = fact.get("printed", "")
        if not asked:   # the question names no known metric: say what the nearest figure measures
            return (f"(The nearest figure, {figure}, measures {found or 'something else'}.)" if en
                    else f"（最接近的数字 {figure} 是「{found or '其他指标'}」，与所问不符。）")
        return (f"(The nearest figure is {found}, not {asked}.)" if en
                else f"（最接近的数据是「{found}」，不是「{asked}」。）")
    if slot == "entity":
        asked = "/".join(e.alias for e in q.entities if e.kind == "index")
        found = "/".join(sorted(_index_of(fact)))
        return (f"(The nearest figure is about {found}, not {asked}.)" if en
                else f"（最接近的数据针对的是 {found}，不是 {asked}。）")
    return ""

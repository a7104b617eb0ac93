"""Figures in Chinese/English broker-report text: find them, normalise them, compare them.

One module serves the QA number verifier (is every figure of an answer on its cited page?),
the index's figures table and the eval scorer, so all three agree on what "the same number"
means:

- values are scale-applied and unit-canonical: ``994亿美元`` == ``US$99.4 billion`` ==
  ``99,400 million USD`` (9.94e10 USD); ``994亿元`` is CNY and therefore a different figure;
- percent (``%``) and percentage points (``个百分点``/pp/pct; ``bp``/基点 = 0.01 pp) are
  different units; a plain fraction of at most 1 equals its percent (0.0723 == 7.23%);
- years, periods (1Q26 = 2026Q1 = Q1 2026 = 2026年一季度), dates (7月1日) and ordinals (表1,
  第3, list markers, section numbers) are recognised and tagged by ``kind`` so a verifier can
  skip them; digits inside names (H100, GB200, GPT-4o, 9988.HK) are not numbers at all.

``Quantity.raw`` is always the exact substring of the text given to ``extract_quantities``
(full-width input included) and ``Quantity.span`` its position.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Callable, Literal

Kind = Literal["figure", "year", "period", "date", "ordinal"]
FIGURE: Kind = "figure"


@dataclass(frozen=True)
class Quantity:
    """A number as found in text.

    ``value``/``low``/``high`` have the scale applied (994亿 -> 9.94e10); percentages keep
    their percent number (25% -> 25.0, unit "%"). For a single value ``low == high == value``.
    ``unit`` is a canonical family: "" plain, "%", "pp", "x" (倍), "W" (power), "Wh" (energy);
    for dates "month"/"day"; for years "" or the estimate mark ("E", "A", "F"); for periods
    the part of the year ("Q1", "H2", "FY", "FYQ3") with ``value`` the year (0 if not given).
    ``scale`` is what the printed number was multiplied by, so ``value / scale`` is the
    number as printed (994 for 994亿美元).
    """

    value: float
    unit: str = ""
    currency: str = ""          # "CNY", "USD", "HKD", "EUR", "JPY", "GBP" or "" when not stated
    raw: str = ""
    is_range: bool = False
    low: float = 0.0
    high: float = 0.0
    kind: Kind = FIGURE
    scale: float = 1.0
    span: tuple[int, int] = field(default=(-1, -1), compare=False)

    @property
    def printed(self) -> tuple[float, float]:
        """(low, high) as printed, before the scale was applied."""
        return self.low / self.scale, self.high / self.scale

    @property
    def is_bare(self) -> bool:
        """A figure with nothing to interpret it by: no unit, currency or scale word."""
        return self.kind in (FIGURE, "year") and not self.unit and not self.currency and self.scale == 1


# ---------------------------------------------------------------------------------------------
# vocabulary

_SCALES: dict[str, float] = {
    "万亿": 1e12, "千亿": 1e11, "百亿": 1e10, "十亿": 1e9, "亿": 1e8, "千万": 1e7, "百万": 1e6,
    "十万": 1e5, "万": 1e4, "千": 1e3,
    "trillion": 1e12, "tn": 1e12, "billion": 1e9, "bn": 1e9, "million": 1e6, "mn": 1e6, "mm": 1e6,
    "thousand": 1e3, "k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12,
}
# Single-letter scales only count when glued to the digits ("33K", "$2B"), never "5 M".
_SCALE_RE = (r"万亿|千亿|百亿|十亿|亿|千万|百万|十万|万|千(?![瓦米克])"
             r"|(?:trillion|billion|million|thousand|bn|tn|mn|mm)(?![A-Za-z])"
             r"|(?<=\d)[kKMBT](?![A-Za-z0-9])")

_CURRENCY_PREFIXES: dict[str, str] = {
    "US$": "USD", "HK$": "HKD", "$": "USD", "USD": "USD", "RMB": "CNY", "CNY": "CNY", "HKD": "HKD",
    "¥": "CNY", "€": "EUR", "EUR": "EUR", "£": "GBP", "GBP": "GBP", "JPY": "JPY",
}
_CURRENCY_SUFFIXES: list[tuple[str, str]] = [
    (r"美元|美金|USD(?![A-Za-z])|US dollars?|dollars?", "USD"),
    (r"港元|港币|HKD(?![A-Za-z])|HK dollars?", "HKD"),
    (r"日元|JPY(?![A-Za-z])|yen(?![A-Za-z])", "JPY"),
    (r"欧元|EUR(?![A-Za-z])|euros?", "EUR"),
    (r"英镑|GBP(?![A-Za-z])", "GBP"),
    (r"元人民币|人民币|元|RMB(?![A-Za-z])|CNY(?![A-Za-z])|yuan(?![A-Za-z])", "CNY"),
]

# (pattern, canonical unit, factor to the canonical unit)
_UNITS: list[tuple[str, str, float]] = [
    (r"%", "%", 1.0),
    (r"个百分点|百分点|percentage points?|ppts?(?![A-Za-z])|pcts?(?![A-Za-z])|pp(?![A-Za-z])", "pp", 1.0),
    (r"个基点|基点|basis points?|bps?(?![A-Za-z])", "pp", 0.01),
    (r"倍|(?<=\d)[xX](?![A-Za-z0-9])", "x", 1.0),
    (r"成(?![\u4e00-\u9fff])", "%", 10.0),          # 2~3 成 = 20%-30%; 成本/成为 are words
    (r"TWh|太瓦时", "Wh", 1e12), (r"GWh", "Wh", 1e9), (r"MWh|兆瓦时", "Wh", 1e6),
    (r"[kK]Wh|千瓦时", "Wh", 1e3),
    (r"GW(?![A-Za-z])|吉瓦|千兆瓦", "W", 1e9), (r"MW(?![A-Za-z])|兆瓦", "W", 1e6),
    (r"[kK]W(?![A-Za-z])|千瓦", "W", 1e3), (r"(?:(?<=\d)|(?<=\d[ \n]))W(?![A-Za-z])|瓦", "W", 1.0),
]


def _named_alternation(name: str, patterns: list[str]) -> str:
    return "|".join(f"(?P<{name}{i}>{p})" for i, p in enumerate(patterns))


_FIGURE_RE = re.compile(
    # A sign right after a quantity (年-, 亿-, %-) is a range dash, not a minus.
    r"(?:(?<![A-Za-z0-9_.,%)\]年月日号元亿万千百倍成瓦度])(?P<sign>[-+]))?"
    r"(?:(?<![A-Za-z0-9_.,%)\]])"                    # not glued to a word, a number or a closer,
    # unless an amount in 亿 follows: a metric name glued to its figure ("GMV35-40 亿元")
    r"|(?<=[A-Za-z])(?=\d+(?:\.\d+)?(?:[ ]*[-–~至][ ]*\d+(?:\.\d+)?)?[ ]?(?:亿|万(?:美元|元|港元))))"
    r"(?:(?P<pre>US\$|HK\$|RMB|CNY|USD|HKD|EUR|GBP|JPY|[$¥€£])[ ]?(?P<sign2>-)?)?"   # $-5
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?!\d|\.\d|,\d{3}(?!\d))"
    # The unit may be wrapped onto the next line of a PDF column ("0.8\n元", "8\nMW").
    rf"(?:[ \n]?(?P<scale>{_SCALE_RE}))?"
    rf"(?:[ \n]?(?:{_named_alternation('cur', [p for p, _ in _CURRENCY_SUFFIXES])}))?"
    rf"(?:[ \n]?(?:{_named_alternation('unit', [p for p, _, _ in _UNITS])}))?"
)

_MONTHS = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
           "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}
_MONTH_RE = (r"(?P<mon>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
             r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_YEAR_LIKE = range(1980, 2041)      # a bare integer in this range reads as a year
_COUNTERS = "块张个台家卡颗片枚件名位人次项条套座户只艘辆"
_RANGE_GAP = re.compile(r"[ ]*(?:(?P<dash>-|–|—|~|−)|(?P<word>至|到|to))[ ]*")
_CHANGE_FROM = re.compile(r"(?:从|由|from)[ ]*(?:约|近|about)?[ ]*$")   # 从 24% 至 45% is a change
_ALNUM_DASH_BEFORE = re.compile(r"[A-Za-z][A-Za-z0-9]*-$")     # "GPT-" in GPT-4o


# ---------------------------------------------------------------------------------------------
# normalisation with a map back to the original text

def _is_cjk(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff"


@dataclass
class _Text:
    """NFKC-normalised text (full-width digits, ％, ＄ … become ASCII) that can map spans back.

    The Chinese comma "，" is kept: after NFKC it would look like a thousands separator. A line
    break between two Chinese characters is a PDF wrap ("亿美\n元") and is dropped.
    """

    original: str
    norm: str
    origin: list[int]        # origin[i] = index in ``original`` of norm[i]

    @classmethod
    def of(cls, text: str) -> _Text:
        chars, origin = [], []
        for i, c in enumerate(text):
            if c == "\n" and 0 < i < len(text) - 1 and _is_cjk(text[i - 1]) and _is_cjk(text[i + 1]):
                continue
            n = c if c in "，。" else unicodedata.normalize("NFKC", c)
            n = n.replace("\u2212", "-").replace("\u3000", " ")
            chars.append(n)
            origin.extend([i] * len(n))
        return cls(text, "".join(chars), origin)

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.origin[start], self.origin[end - 1] + 1

    def raw(self, start: int, end: int) -> str:
        s, e = self.span(start, end)
        return self.original[s:e]


class _Scanner:
    """Runs recognisers from most to least specific; each claims (masks) what it matched."""

    def __init__(self, text: str) -> None:
        self.text = _Text.of(text)
        self.masked = list(self.text.norm)
        self.found: list[Quantity] = []

    @property
    def current(self) -> str:
        return "".join(self.masked)

    def claim(self, start: int, end: int) -> None:
        self.masked[start:end] = " " * (end - start)

    def emit(self, start: int, end: int, **fields) -> None:
        value = fields.pop("value")
        fields.setdefault("low", value)
        fields.setdefault("high", value)
        self.found.append(Quantity(value=value, raw=self.text.raw(start, end),
                                   span=self.text.span(start, end), **fields))


# ---------------------------------------------------------------------------------------------
# recognisers for non-figures

def _year(two_or_four: str) -> int:
    y = int(two_or_four)
    return y + 2000 if y < 100 else y


def _period(sc: _Scanner, m: re.Match, year: str | None, part: str, *, fiscal: bool = False) -> None:
    sc.emit(m.start(), m.end(), value=float(_year(year)) if year else 0.0,
            unit=("FY" if fiscal else "") + part, kind="period")


PeriodHandler = Callable[["_Scanner", re.Match], None]
# Tried in definition order, most specific first: FY2026 Q3 must not be read as FY2026 + Q3.
_PERIOD_PATTERNS: list[tuple[re.Pattern, PeriodHandler]] = []


def _period_pattern(pattern: str) -> Callable[[PeriodHandler], PeriodHandler]:
    def register(handler: PeriodHandler) -> PeriodHandler:
        _PERIOD_PATTERNS.append((re.compile(pattern), handler))
        return handler
    return register


@_period_pattern(r"(?<![A-Za-z0-9])FY[ ]?(\d{4}|\d{2})[ ]?(?:-|–|—|~|至)[ ]?(?:FY[ ]?)?(\d{4}|\d{2})(?!\d)")
def _fy_range(sc: _Scanner, m: re.Match) -> None:
    low, high = _year(m[1]), _year(m[2])
    sc.emit(m.start(), m.end(), value=float(low), low=float(low), high=float(high), is_range=True,
            unit="FY", kind="period")


@_period_pattern(r"(?<![A-Za-z0-9])FY[ ]?(\d{4}|\d{2})[ ]?([QH])([1-4])(?!\d)")
def _fy_year_part(sc: _Scanner, m: re.Match) -> None:
    _period(sc, m, m[1], f"{m[2]}{m[3]}", fiscal=True)


@_period_pattern(r"(?<![A-Za-z0-9])FY[ ]?([1-4])([QH])[ ]?(\d{4}|\d{2})(?!\d)")
def _fy_part_year(sc: _Scanner, m: re.Match) -> None:
    _period(sc, m, m[3], f"{m[2]}{m[1]}", fiscal=True)


@_period_pattern(r"(?<![A-Za-z0-9])FY[ ]?(\d{4}|\d{2})(?![\d.])")
def _fy_year(sc: _Scanner, m: re.Match) -> None:
    _period(sc, m, m[1], "", fiscal=True)


@_period_pattern(r"(?<!\d)(\d{4}|\d{2})[ ]?财年[ ]?(?:第)?(?:([一二三四1-4])[ ]?季度?|Q([1-4]))?")
def _cn_fiscal(sc: _Scanner, m: re.Match) -> None:
    quarter = m[2] or m[3]
    _period(sc, m, m[1], f"Q{_CN_DIGITS[quarter]}" if quarter else "", fiscal=True)


@_period_pattern(r"(?<!\d)(\d{4}|\d{2})[ ]?年[ ]?([QH])([1-4])(?!\d)")
def _cn_year_q(sc: _Scanner, m: re.Match) -> None:
    _period(sc, m, m[1], f"{m[2]}{m[3]}")


@_period_pattern(r"(?:(?<!\d)(\d{4}|\d{2})[ ]?年[ ]?)?(?:第[ ]?([一二三四1-4])[ ]?季度?|(?<![\d.上下每本这前后])([一二三四1-4])[ ]?季度)")
def _cn_quarter(sc: _Scanner, m: re.Match) -> None:
    _period(sc, m, m[1], f"Q{_CN_DIGITS[m[2] or m[3]]}")


@_period_pattern(r"(?:(?<!\d)(\d{4}|\d{2})[ ]?年?[ ]?)?([上下])半年")
def _cn_half(sc: _Scanner, m: re.Match) -> None:
    _period(sc, m, m[1], "H1" if m[2] == "上" else "H2")


@_period_pattern(r"(?<![A-Za-z0-9.])([1-4])([QH])[ ]?(\d{4}|\d{2})(?!\d)")
def _part_year(sc: _Scanner, m: re.Match) -> None:
    if m[2] == "H" and m[1] not in "12":
        return
    _period(sc, m, m[3], f"{m[2]}{m[1]}")


@_period_pattern(r"(?<![A-Za-z0-9.])(\d{4}|\d{2})[ ]?([QH])([1-4])(?![\d])")
def _year_part(sc: _Scanner, m: re.Match) -> None:
    if m[2] == "H" and m[3] not in "12":
        return
    _period(sc, m, m[1], f"{m[2]}{m[3]}")


@_period_pattern(r"(?<![A-Za-z0-9])([QH])([1-4])(?:[ ]?(\d{4}))?(?![\dA-Za-z])")
def _part_only(sc: _Scanner, m: re.Match) -> None:
    if m[1] == "H" and m[2] not in "12":
        return
    _period(sc, m, m[3], f"{m[1]}{m[2]}")


def _english_dates(sc: _Scanner) -> None:
    """July 1, 2026 / 1 July 2026 / May 2025: a month token, a day token, a year token."""
    year = r"(?:,?[ ](?P<year>(?:19|20)\d{2}))"
    patterns = [
        rf"\b{_MONTH_RE}[ ](?P<day>\d{{1,2}})(?:st|nd|rd|th)?{year}?(?!\d)",
        rf"(?<![\d.])(?P<day>\d{{1,2}})(?:st|nd|rd|th)?[ ]{_MONTH_RE}{year}?",
        rf"\b{_MONTH_RE}{year}\b",
    ]
    for pattern in patterns:
        for m in re.finditer(pattern, sc.current):
            day = int(m["day"]) if m.groupdict().get("day") else None
            if day is not None and not 1 <= day <= 31:
                continue
            sc.emit(m.start("mon"), m.end("mon"), value=float(_MONTHS[m["mon"][:3].lower()]),
                    unit="month", kind="date")
            if day is not None:
                sc.emit(m.start("day"), m.end("day"), value=float(day), unit="day", kind="date")
            if m["year"]:
                sc.emit(m.start("year"), m.end("year"), value=float(m["year"]), kind="year")
            sc.claim(m.start(), m.end())


def _numeric_dates(sc: _Scanner) -> None:
    """2025/4/16, 2025-04-16: year, month and day tokens."""
    for m in re.finditer(r"(?<![\d/.])((?:19|20)\d{2})([-/.])(\d{1,2})\2(\d{1,2})(?![\d/])", sc.current):
        month, day = int(m[3]), int(m[4])
        if not (1 <= month <= 12 and 1 <= day <= 31):
            continue
        sc.emit(m.start(1), m.end(1), value=float(m[1]), kind="year")
        sc.emit(m.start(3), m.end(3), value=float(month), unit="month", kind="date")
        sc.emit(m.start(4), m.end(4), value=float(day), unit="day", kind="date")
        sc.claim(m.start(), m.end())
    # 2013.01-2020.06, 2019/01 至 2020/12: a span of months (a sample period), never a figure
    for m in re.finditer(r"(?<![\d/.])((?:19|20)\d{2})([./])(0[1-9]|1[0-2])\s*(?:-|–|—|~|～|至|到)\s*"
                         r"((?:19|20)\d{2})\2(0[1-9]|1[0-2])(?![\d/.%])(?!\s*(?:[亿万千百元倍]|美元))", sc.current):
        if int(m[4]) < int(m[1]):
            continue
        for y, mon in ((1, 3), (4, 5)):
            sc.emit(m.start(y), m.end(y), value=float(m[y]), kind="year")
            sc.emit(m.start(mon), m.end(mon), value=float(int(m[mon])), unit="month", kind="date")
        sc.claim(m.start(), m.end())


# index names that end in digits: 沪深300, 中证1000, 上证50, 创业板50, CSI 500, S&P 500, Nasdaq 100
_INDEX_NAME = (r"(?:沪深|中证|上证|深证|国证|创业板|科创|恒生|标普|纳斯达克|富时|"
               r"\bCSI|\bSSE|\bSZSE|\bS&P|\bNasdaq|\bNASDAQ|\bFTSE|\bRussell|\bDAX|\bNikkei|\bKOSPI)"
               r"[ ]?\d{2,4}(?![\d.%])")


def _skip_codes(sc: _Scanner) -> None:
    """Things made of digits that are not numbers: clock times, tickers, phone numbers, the
    names of stock indexes."""
    for pattern in (_INDEX_NAME, r"(?<![\d:])\d{1,2}:\d{2}(?![\d:])",
                    r"(?<![\d.])\d{4,6}\.(?:HK|SZ|SH|SS|BJ|HI|GI|GSI|CSI|US|N|O)(?![A-Za-z])",
                    r"(?<![\d-])0\d{2,3}-\d{7,8}(?![\d-])"):
        for m in re.finditer(pattern, sc.current):
            sc.claim(m.start(), m.end())


def _estimate_years(sc: _Scanner) -> None:
    """2026E / 2024A / 2025F column headers of forecast tables."""
    for m in re.finditer(r"(?<![A-Za-z0-9])((?:19|20)\d{2})([AEF])(?![A-Za-z0-9])", sc.current):
        sc.emit(m.start(), m.end(), value=float(m[1]), unit=m[2], kind="year")
        sc.claim(m.start(), m.end())


def _accounting_negatives(sc: _Scanner) -> None:
    """(68) alone in a table cell is -68 (the line or tab-separated cell holds nothing else)."""
    for m in re.finditer(r"(?m)(?:^|(?<=\t))[ ]*\((\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\)[ ]*(?=$|\t)",
                         sc.current):
        value = -float(m[1].replace(",", ""))
        sc.emit(m.start(1) - 1, m.end(1) + 1, value=value)
        sc.claim(m.start(), m.end())


def _ordinals(sc: _Scanner) -> None:
    """表1, 图 15, 第3, 1st, list markers (1) 1) 1、 and section numbers 1.2.1. / 2.1、 / 1.1 标题."""
    patterns = [
        r"(?:图表|图|表|Figure|Fig\.|Table|Chart|Exhibit|No\.|#)[ ]?(\d+)",
        r"第[ ]?(\d+)",
        r"(?<![A-Za-z0-9.])(\d+)(?:st|nd|rd|th)(?![A-Za-z])",
        r"(?<![A-Za-z0-9_.])\(?(\d{1,2})\)",
        r"(?m)(?:^|(?<=[。：:；;，]))[ \t]*(\d{1,2}(?:\.\d{1,2})*)(?:、|\.(?!\d))",
        r"(?m)^[ \t]*(\d{1,2}(?:\.\d{1,2})+)(?=[ ]+(?:[\u4e00-\u9fff](?<![万亿千百十美港元人欧日英个倍成兆吉瓦年月日号天秒分小])"
        r"|(?!(?:[kMGT]?Wh?|USD|RMB|CNY|HKD|EUR|GBP|JPY|[bmt]n|billion|million|trillion|thousand)\b)[A-Z][A-Za-z]+))",
    ]
    for pattern in patterns:
        for m in re.finditer(pattern, sc.current):
            sc.emit(m.start(1), m.end(1), value=float(m[1].split(".")[0]), kind="ordinal")
            sc.claim(m.start(), m.end())


# ---------------------------------------------------------------------------------------------
# figures

def _which(m: re.Match, prefix: str, count: int) -> int | None:
    """Index of the alternative that matched in a named alternation, if any."""
    return next((i for i in range(count) if m[f"{prefix}{i}"] is not None), None)


# units printed glued to the digits that the figure pattern does not know: 1346EFlops, 256 TOPS, 80GB
_GLUED_UNIT = re.compile(r"(?:[KMGTPE]?(?:FLOPS|Flops|flops|FLOP|OPS|B|b|W|Wh|Hz|bps)|TOPS|Tokens?|V|A|[KMGTPE])(?![A-Za-z])")


def _figure(sc: _Scanner, m: re.Match, text: str) -> None:
    negative = (m["sign"] or m["sign2"] or "") == "-"
    scale = _SCALES[m["scale"]] if m["scale"] else 1.0
    currency = _CURRENCY_PREFIXES.get(m["pre"] or "", "")
    cur = _which(m, "cur", len(_CURRENCY_SUFFIXES))
    if cur is not None:
        currency = currency or _CURRENCY_SUFFIXES[cur][1]
    unit, factor = "", 1.0
    matched_unit = _which(m, "unit", len(_UNITS))
    if matched_unit is not None:
        _, unit, factor = _UNITS[matched_unit]

    start, end = m.start(), m.end()
    if _ALNUM_DASH_BEFORE.search(text[max(0, start - 24):start]) and not (scale != 1.0 and currency):
        if unit != "%":
            return                  # GPT-4o, Claude-3.5: part of a name
        negative = True             # YoY-5%

    if not (scale != 1.0 or currency or unit) and re.match(r"[A-Z]", text[end:end + 1]) \
            and not _GLUED_UNIT.match(text, end):
        return                      # 910D, 4NP: digits glued to a capital are a model's name
    number = float(m["num"].replace(",", ""))
    kind: Kind = FIGURE
    if not (scale != 1.0 or currency or unit or negative) and re.fullmatch(r"\d+", m["num"]):
        kind, unit, number, end = _classify_bare_integer(int(m["num"]), text, end)
    # ``scale`` keeps what the printed digits were multiplied by (bp's 0.01 included).
    sc.emit(start, end, value=number * scale * factor * (-1 if negative else 1), unit=unit,
            currency=currency, kind=kind, scale=scale * factor)


def _classify_bare_integer(n: int, text: str, end: int) -> tuple[Kind, str, float, int]:
    """A bare integer is a year (2026年, 24年4月, a lone 2026), a month (7月), a day (1日)
    or a plain count; returns (kind, unit, value, end) with ``end`` past any 年/月/日."""
    j = end
    while j < len(text) and text[j] == " ":
        j += 1
    nxt, rest = text[j:j + 1], text[j + 1:j + 5]
    if nxt == "年":
        if 1000 <= n <= 2999:
            return "year", "", float(n), j + 1
        if n < 100 and re.match(r"[ ]?(?:\d{1,2}[ ]?月|[初底末中])", rest):
            return "year", "", float(2000 + n), j + 1
        if 15 <= n <= 39 and re.match(r"[ ]?(?:[A-Za-z]|[\u4e00-\u9fff](?<![内期以来后前间多左里的之至到]))", rest):
            return "year", "", float(2000 + n), j + 1   # "26年营收", "26年 Blackwell": a short year
        return FIGURE, "", float(n), end          # 服务期限4年: a duration
    if nxt == "月" and 1 <= n <= 12:
        return "date", "month", float(n), j + 1
    if nxt in ("日", "号") and nxt and not rest.startswith("均") and 1 <= n <= 31:
        return "date", "day", float(n), j + 1
    if n in _YEAR_LIKE and not (nxt and nxt in _COUNTERS):
        return "year", "", float(n), end
    return FIGURE, "", float(n), end


def _figures(sc: _Scanner) -> None:
    text = sc.current                   # figures claim nothing: one snapshot serves them all
    for m in _FIGURE_RE.finditer(text):
        _figure(sc, m, text)


# ---------------------------------------------------------------------------------------------
# joining neighbours: ranges and slash lists

def _inherit(target: Quantity, source: Quantity) -> Quantity:
    """``target`` printed next to ``source`` without scale/unit/currency takes source's."""
    if target.kind != FIGURE:
        return target
    if target.scale == 1.0 and not target.unit and (source.scale != 1.0 or source.unit):
        f = source.scale
        target = replace(target, value=target.value * f, low=target.low * f, high=target.high * f,
                         unit=source.unit, scale=source.scale)
    return replace(target, currency=target.currency or source.currency)


def _as_figure(q: Quantity, other: Quantity) -> Quantity:
    """A lone year-like count beside a figure is a figure too: 2000-3000 亿."""
    if q.kind == "year" and other.kind == FIGURE and not q.unit and "年" not in q.raw:
        return replace(q, kind=FIGURE)
    return q


def _joinable(a: Quantity, b: Quantity) -> tuple[Quantity, Quantity] | None:
    """a and b with shared units if they can stand for one range or list, else None."""
    a, b = _as_figure(a, b), _as_figure(b, a)
    if a.kind != b.kind or a.kind not in (FIGURE, "year") or a.is_range or b.is_range:
        return None
    a, b = _inherit(a, b), _inherit(b, a)
    same_currency = not a.currency or not b.currency or a.currency == b.currency
    return (a, b) if a.unit == b.unit and a.scale == b.scale and same_currency else None


def _as_range(a: Quantity, b: Quantity, original: str) -> Quantity:
    span = (a.span[0], b.span[1])
    return replace(a, value=a.low, high=b.high, is_range=True, currency=a.currency or b.currency,
                   raw=original[span[0]:span[1]], span=span)


def _is_range_gap(text: str, left: Quantity, right: Quantity) -> bool:
    gap = _RANGE_GAP.fullmatch(unicodedata.normalize("NFKC", text[left.span[1]:right.span[0]]))
    if not gap:
        return False
    return bool(gap["dash"]) or not _CHANGE_FROM.search(text[max(0, left.span[0] - 8):left.span[0]])


def _join_neighbours(found: list[Quantity], text: str) -> list[Quantity]:
    """300-350 亿元, 12%-15%, 2029-2031年 become ranges; 2.5/3.0 亿元 shares its unit."""
    out: list[Quantity] = []
    for q in found:
        if out:
            prev = out[-1]
            pair = _joinable(prev, q)
            if pair and _is_range_gap(text, prev, q):
                out[-1] = _as_range(*pair, text)
                continue
            if pair and text[prev.span[1]:q.span[0]].strip() == "/":
                out[-1] = pair[0]
        out.append(q)
    return out


# ---------------------------------------------------------------------------------------------
# public API

def extract_quantities(text: str) -> list[Quantity]:
    """Every number in ``text`` with its unit, in reading order (see the module doc)."""
    sc = _Scanner(text)
    _skip_codes(sc)
    _numeric_dates(sc)
    for pattern, handler in _PERIOD_PATTERNS:
        for m in pattern.finditer(sc.current):
            before = len(sc.found)
            handler(sc, m)
            if len(sc.found) > before:
                sc.claim(m.start(), m.end())
    _estimate_years(sc)
    _english_dates(sc)
    _accounting_negatives(sc)
    _ordinals(sc)
    _figures(sc)
    found = sorted(sc.found, key=lambda q: q.span)
    return _join_neighbours(found, text)


def parse_quantity(text: str) -> Quantity:
    """The one quantity ``text`` holds ("994", "20%-30%", "994亿美元"); ValueError otherwise."""
    found = extract_quantities(text)
    if len(found) != 1:
        raise ValueError(f"expected one figure in {text!r}, found {len(found)}")
    return found[0]


def _close(a: float, b: float, rel_tol: float) -> bool:
    return math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-12)


def _bounds_in(q: Quantity, unit: str) -> tuple[float, float] | None:
    """q's (low, high) in ``unit``; a plain fraction <= 1 converts to percent (0.0723 -> 7.23%)."""
    if q.unit == unit:
        return q.low, q.high
    if unit == "%" and q.unit == "" and not q.currency and q.scale == 1 and max(abs(q.low), abs(q.high)) <= 1:
        return q.low * 100, q.high * 100
    return None


def same_value(a: Quantity, b: Quantity, rel_tol: float = 0.005) -> bool:
    """Same figure, possibly printed in another scale or unit: 994亿美元 == US$99.4 billion.

    A different stated currency never matches (an unstated one does not contradict);
    % and pp never match; a range matches only the same range. Years, periods, dates and
    ordinals must match exactly.
    """
    if a.kind != b.kind or a.is_range != b.is_range:
        return False
    if a.kind != FIGURE:
        return a.unit == b.unit and a.low == b.low and a.high == b.high
    if a.currency and b.currency and a.currency != b.currency:
        return False
    pair = (_bounds_in(a, b.unit), (b.low, b.high)) if a.unit != b.unit else ((a.low, a.high), (b.low, b.high))
    if pair[0] is None:
        pair = ((a.low, a.high), _bounds_in(b, a.unit))
        if pair[1] is None:
            return False
    (a_low, a_high), (b_low, b_high) = pair
    return _close(a_low, b_low, rel_tol) and _close(a_high, b_high, rel_tol)


def _printed_match(needle: Quantity, q: Quantity) -> bool:
    """Bare needle: the same digits printed, whatever scale or unit the text puts after them."""
    if q.kind == "period" or q.kind == "ordinal":
        return False
    low, high = q.printed
    n_low, n_high = needle.printed
    if needle.is_range:
        return q.is_range and _close(low, n_low, 1e-9) and _close(high, n_high, 1e-9)
    return _close(low, n_low, 1e-9) or _close(high, n_high, 1e-9)


def _endpoint_match(needle: Quantity, q: Quantity, rel_tol: float) -> bool:
    """A single value is present when a range in the text starts or ends with it."""
    if needle.is_range or not q.is_range:
        return False
    return any(same_value(needle, replace(q, value=v, low=v, high=v, is_range=False), rel_tol) for v in (q.low, q.high))


def number_in_text(number: str | Quantity, text: str, rel_tol: float = 0.005) -> bool:
    """Is this figure present in ``text``?

    With a unit, currency or scale word the comparison is unit-normalised (``same_value``),
    and a single value also counts as present when a range in the text starts or ends with
    it. A bare number ("994", "10,865", "70-90") carries no scale, so it matches where the
    same digits are printed with any scale or unit after them (994 in "994亿美元", not in
    "9940" nor in "US$99.4 billion": re-scaling needs the unit the bare number lacks — give
    a Quantity with its unit, e.g. parsed from "994亿美元", to match across scales).
    """
    needle = parse_quantity(number) if isinstance(number, str) else number
    for q in extract_quantities(text):
        if same_value(needle, q, rel_tol) or _endpoint_match(needle, q, rel_tol):
            return True
        if needle.is_bare and _printed_match(needle, q):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# formatting

_ZH_SCALES = [(1e12, "万亿"), (1e8, "亿"), (1e4, "万"), (1.0, "")]
_EN_SCALES = [(1e12, " trillion"), (1e9, " billion"), (1e6, " million"), (1.0, "")]
_SI = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, "")]
_ZH_CURRENCY = {"USD": "美元", "CNY": "元", "HKD": "港元", "EUR": "欧元", "JPY": "日元", "GBP": "英镑"}
_EN_CURRENCY = {"USD": "US$", "CNY": "RMB ", "HKD": "HK$", "EUR": "€", "JPY": "JPY ", "GBP": "£"}
_MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December"]


def _digits(x: float, grouping: bool = False) -> str:
    text = f"{round(x, 6):,.6f}" if grouping else f"{round(x, 6):.6f}"
    return text.rstrip("0").rstrip(".")


def _pick_scale(q: Quantity, scales: list[tuple[float, str]]) -> tuple[float, str]:
    """The scale giving the shortest mantissa of at least 1 (994亿 rather than 9.94百亿)."""
    biggest = max(abs(q.low), abs(q.high))
    fits = [(f, name) for f, name in scales if biggest >= f or f == 1.0]
    return min(fits, key=lambda s: (len(_digits(biggest / s[0])), -s[0]))


def _mantissa(q: Quantity, factor: float, grouping: bool = False) -> str:
    if q.is_range:
        return f"{_digits(q.low / factor, grouping)}-{_digits(q.high / factor, grouping)}"
    return _digits(q.value / factor, grouping)


def format_quantity(q: Quantity, lang: str = "zh") -> str:
    """Render canonically: 9.94e10 USD -> "994亿美元" (zh) / "US$99.4 billion" (en)."""
    en = lang == "en"
    if q.kind == "year":
        return _mantissa(q, 1) + q.unit + ("" if en else "年")
    if q.kind == "period":
        prefix = "FY" if q.unit.startswith("FY") else ""
        part = q.unit[len(prefix):]
        if q.is_range:
            return f"{prefix}{int(q.low)}-{prefix}{int(q.high)}"
        return f"{prefix}{int(q.value) if q.value else ''}{part}"
    if q.kind == "date":
        if q.unit == "month":
            return _MONTH_NAMES[int(q.value) - 1] if en else f"{int(q.value)}月"
        return _digits(q.value) if en else f"{_digits(q.value)}日"
    if q.kind == "ordinal":
        return f"#{_digits(q.value)}" if en else f"第{_digits(q.value)}"
    return _format_figure(q, en)


def _format_figure(q: Quantity, en: bool) -> str:
    if q.unit == "%":
        return "-".join(f"{_digits(v)}%" for v in ((q.low, q.high) if q.is_range else (q.value,)))
    if q.unit == "pp":
        return _mantissa(q, 1) + (" pp" if en else "个百分点")
    if q.unit == "x":
        return _mantissa(q, 1) + ("x" if en else "倍")
    if q.unit in ("W", "Wh"):
        factor, prefix = _pick_scale(q, _SI)
        return _mantissa(q, factor) + prefix + q.unit
    if en:
        factor, word = _pick_scale(q, _EN_SCALES)
        return _EN_CURRENCY.get(q.currency, "") + _mantissa(q, factor, grouping=True) + word
    factor, word = _pick_scale(q, _ZH_SCALES)
    return _mantissa(q, factor) + word + _ZH_CURRENCY.get(q.currency, "")

"""Deterministic query understanding: which companies, metrics and periods a question is
about, in Chinese, English or both, and which extra terms to give BM25.

Periods are normalised so that every notation of one period compares equal
(Q1 2026 = 1Q26 = 2026Q1 = 26Q1 = 2026年一季度). Fiscal periods (FY2026 Q3, 2026财年第三季度,
FY3Q26) stay fiscal: company fiscal calendars differ, so they are never equated with a
calendar quarter here.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Any, Callable, Iterable, Literal, TypeVar

from index.text import (
    ALIASES_FILE,
    GLOSSARY_FILE,
    METRICS_FILE,
    SynonymRow,
    dictionary_signature,
    normalize_text,
    read_synonym_table,
)

Lang = Literal["zh", "en", "mixed"]
PeriodKind = Literal["year", "half", "quarter", "ytd", "month", "relative"]
T = TypeVar("T")

CN_DIGITS = "〇一二三四五六七八九"
MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4,
            "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}

# Relative periods: label -> (fiscal, surface forms). Resolving them needs the report date,
# which only the retriever knows, so they are recognised here but not resolved.
RELATIVE_PERIODS: dict[str, tuple[bool, tuple[str, ...]]] = {
    "this_fiscal_year": (True, ("本财年", "当前财年", "this fiscal year", "current fiscal year")),
    "last_fiscal_year": (
        True,
        ("上财年", "上一财年", "上个财年", "last fiscal year", "previous fiscal year"),
    ),
    "next_fiscal_year": (True, ("下财年", "下一财年", "下个财年", "next fiscal year")),
    "latest_quarter": (
        False,
        ("最新季度", "最新一季度", "最新一个季度", "最近一个季度", "最近一季度", "最近季度",
         "latest quarter", "most recent quarter"),
    ),
    "this_quarter": (
        False,
        ("本季度", "本季", "当季度", "当季", "当前季度", "这个季度", "这一季度",
         "this quarter", "current quarter"),
    ),
    "last_quarter": (
        False,
        ("上季度", "上一季度", "上个季度", "上季", "前一季度",
         "last quarter", "previous quarter", "prior quarter"),
    ),
    "next_quarter": (
        False,
        ("下一季度", "下一个季度", "下个季度", "下季度", "next quarter", "following quarter"),
    ),
    "this_year": (False, ("今年", "本年度", "本年", "this year", "current year")),
    "last_year": (False, ("去年", "上年", "上一年", "前一年", "last year", "previous year", "prior year")),
    "next_year": (False, ("明年", "下一年", "来年", "next year")),
}

# Words that say the figure asked for is a forecast or a reported actual. "实现" is left out
# on purpose: "实现 50 亿元 ARR 需要…" is hypothetical, not a reported figure.
OUTLOOK_MARKERS: dict[str, tuple[str, ...]] = {
    "estimate": (
        "预测", "预计", "预期", "一致预期", "指引", "展望", "估计", "估算", "测算", "目标",
        "forecast", "forecasts", "estimate", "estimates", "estimated", "expected", "expects",
        "projected", "projection", "guidance", "outlook", "consensus",
    ),
    "actual": ("实际", "已实现", "实际值", "actual", "actuals", "actually", "reported"),
}
COMPARISON_METRICS = {"growth_yoy": "yoy", "growth_qoq": "qoq"}
_COMPARED_WITH = (
    ("qoq", re.compile(r"(?:较|比|相比|相较于?)\s*上一?个?季度|(?:from|over|versus|vs\.?) the (?:previous|prior|preceding) "
                       r"quarter", re.I)),
    ("yoy", re.compile(r"(?:较|比|相比|相较于?)\s*(?:去年|上年)同期|(?:from|over|versus|vs\.?) (?:a year earlier|the "
                       r"year-ago|the same (?:quarter|period) (?:of )?last year)", re.I)),
)


# --- data model -------------------------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    name: str  # canonical name from aliases.tsv
    alias: str  # the surface form found in the question
    kind: str  # company | unit | institution | broker


@dataclass(frozen=True)
class Metric:
    key: str  # canonical key from metrics.tsv, e.g. "backlog"
    alias: str  # the surface form found in the question


@dataclass(frozen=True)
class Period:
    """A reporting period. `label` is derived from the other fields (it may be given, but
    must then agree), so equal periods have equal labels whatever notation they came from.
    year=None means the year was not stated ("一季度"); relative periods carry only a label."""

    kind: PeriodKind
    year: int | None = None
    quarter: int | None = None  # for kind="ytd": the last quarter included (前三季度 → 3)
    half: int | None = None
    month: int | None = None
    fiscal: bool = False
    label: str = ""

    def __post_init__(self) -> None:
        if self.kind == "relative":
            if self.label not in RELATIVE_PERIODS:
                raise ValueError(f"unknown relative period {self.label!r}; "
                                 f"expected one of {sorted(RELATIVE_PERIODS)}")
            return
        derived = self._derived_label()
        if self.label and self.label != derived:
            raise ValueError(f"label {self.label!r} does not match the period {derived!r}")
        object.__setattr__(self, "label", derived)

    def _derived_label(self) -> str:
        prefix = "FY" if self.fiscal else ""
        year = str(self.year) if self.year is not None else ""
        match self.kind:
            case "year":
                return f"{prefix}{year}"
            case "quarter":
                return f"{prefix}{year}Q{self.quarter}"
            case "half":
                return f"{prefix}{year}H{self.half}"
            case "ytd":
                return f"{prefix}{year}Q1-Q{self.quarter}"
            case "month":
                return f"{year}-{self.month:02d}" if year else f"M{self.month:02d}"
        raise ValueError(f"unknown period kind {self.kind!r}; expected one of "
                         "year, half, quarter, ytd, month, relative")

    def variants(self) -> list[str]:
        """Surface forms a report may print for this period."""
        if self.kind == "relative":
            return list(RELATIVE_PERIODS[self.label][1])
        return _VARIANT_BUILDERS[self.kind](self)

    def matches(self, text: str) -> bool:
        """Does `text` mention this period, in any notation? A period without a year
        matches that period in any year."""
        return any(self.covers(found) for found in extract_periods(text))

    def covers(self, other: Period) -> bool:
        if self.year is None and self.kind == other.kind != "relative":
            return self == replace(other, year=None, label="")
        return self == other



@dataclass(frozen=True)
class ParsedQuery:
    text: str  # the normalised question
    lang: Lang
    entities: list[Entity] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)
    outlook: list[str] = field(default_factory=list)  # "estimate" and/or "actual"
    expansions: list[str] = field(default_factory=list)
    glosses: list[str] = field(default_factory=list)   # glossary words in the other language
    # names of the question that no report of the library prints (filled by the answerer)
    unprinted: tuple[str, ...] = ()

    @property
    def chinese_glosses(self) -> list[str]:
        """The Chinese forms of the question's English glossary words (the reports are mostly
        Chinese; the English forms of its Chinese words would only add noise)."""
        return [g for g in self.glosses if _CJK.search(g)]

    @property
    def matching_text(self) -> str:
        """The question with the Chinese forms of its English words, for matching words against
        evidence printed in Chinese."""
        return " ".join([self.text, *self.chinese_glosses])

    @property
    def comparisons(self) -> list[str]:
        """"yoy" / "qoq" when the question asks for a year-on-year or sequential change — by the
        metric's name (同比, QoQ) or by the period it is measured from (较上一季度, 较去年同期)."""
        found = [COMPARISON_METRICS[m.key] for m in self.metrics if m.key in COMPARISON_METRICS]
        found += [kind for kind, rx in _COMPARED_WITH if rx.search(self.text)]
        return list(dict.fromkeys(found))

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "comparisons": self.comparisons}


# --- period variants --------------------------------------------------------------------


def _short(year: int) -> str:
    return f"{year % 100:02d}"


def _quarter_variants(p: Period) -> list[str]:
    q, cn = p.quarter, CN_DIGITS[p.quarter]
    if p.fiscal:
        if p.year is None:
            return [f"第{cn}财季", f"{cn}财季"]
        y, yy = p.year, _short(p.year)
        return [
            f"FY{y} Q{q}", f"FY{y}Q{q}", f"FY{yy}Q{q}", f"FY{yy} Q{q}", f"FY{q}Q{yy}",
            f"{q}QFY{yy}", f"Q{q} FY{yy}", f"Q{q} FY{y}", f"FY{yy} {q}Q",
            f"{y}财年第{cn}季度", f"{y}财年{cn}季度", f"{y} 财年{cn}季度", f"{y}财年Q{q}",
            f"{y}财年第{cn}财季", f"FY{y}第{cn}财季",
        ]
    if p.year is None:
        return [f"Q{q}", f"{q}Q", f"{cn}季度", f"第{cn}季度"]
    y, yy = p.year, _short(p.year)
    return [
        f"{q}Q{yy}", f"{y}Q{q}", f"Q{q} {y}", f"{y}年{cn}季度", f"{y}年第{cn}季度", f"{yy}Q{q}",
        f"{y} 年 Q{q}", f"{y}年Q{q}", f"{yy}年Q{q}", f"{yy}年{cn}季度", f"{y}年第{q}季度",
        f"{q}Q{y}", f"Q{q}'{yy}", f"{y} Q{q}", f"{y}{cn}季度",
    ]


def _half_variants(p: Period) -> list[str]:
    h, cn = p.half, "上" if p.half == 1 else "下"
    if p.fiscal:
        if p.year is None:
            return [f"{cn}半财年"]
        y, yy = p.year, _short(p.year)
        return [f"FY{y} H{h}", f"FY{yy}H{h}", f"{h}HFY{yy}", f"H{h} FY{yy}", f"FY{h}H{yy}",
                f"{y}财年{cn}半年", f"{y}财年H{h}"]
    if p.year is None:
        return [f"H{h}", f"{h}H", f"{cn}半年"]
    y, yy = p.year, _short(p.year)
    return [f"{y}H{h}", f"{h}H{yy}", f"{h}H{y}", f"H{h} {y}", f"{yy}H{h}", f"{y}年{cn}半年",
            f"{yy}年{cn}半年", f"{y}年H{h}", f"{y} 年 H{h}", f"H{h}'{yy}"]


def _year_variants(p: Period) -> list[str]:
    y = p.year
    if p.fiscal:
        yy = _short(y)
        return [f"FY{y}", f"FY{yy}", f"{y}财年", f"{y} 财年", f"{yy}财年", f"FY{y}E", f"fiscal {y}"]
    return [f"{y}年", f"{y}", f"{y}E", f"{y}A", f"{y}年度", f"CY{y}"]


def _ytd_variants(p: Period) -> list[str]:
    n, cn, months = p.quarter, CN_DIGITS[p.quarter], 3 * p.quarter
    if p.year is None:
        return [f"前{cn}季度", f"Q1-Q{n}"]
    y, yy = p.year, _short(p.year)
    return [f"{y}年前{cn}季度", f"{y}Q1-Q{n}", f"Q1-Q{n} {y}", f"1-{n}Q{yy}", f"{months}M{yy}",
            f"{months}M{y}", f"{y}年1-{months}月"]


def _month_variants(p: Period) -> list[str]:
    m = p.month
    if p.year is None:
        return [f"{m}月"]
    y, yy, name = p.year, _short(p.year), MONTH_NAMES[m - 1].capitalize()
    return [f"{y}年{m}月", f"{y}年{m:02d}月", f"{yy}年{m}月", f"{y}-{m:02d}", f"{y}/{m:02d}",
            f"{name} {y}"]


_VARIANT_BUILDERS: dict[str, Callable[[Period], list[str]]] = {
    "quarter": _quarter_variants,
    "half": _half_variants,
    "year": _year_variants,
    "ytd": _ytd_variants,
    "month": _month_variants,
}


# --- period extraction ------------------------------------------------------------------

# Building blocks. Text is matched case-insensitively after normalize_text().
_START = r"(?<![0-9a-z])"
# A period code ends at a non-alphanumeric, or at an estimate/actual suffix ("2026E").
_END = r"(?:(?=[ea](?![a-z]))|(?![0-9a-z]))"
_YEAR = r"(?<!\d)(?P<year>(?:19|20)\d{2}|\d{2})"
_YEAR4 = r"(?<!\d)(?P<year>(?:19|20)\d{2})"
_Q = r"(?P<q>[1-4])"
_CN_Q = r"(?P<q>[1-4一二三四])"
_H = r"(?P<h>[12])"
_FY = r"(?:fy|fiscal\s*(?:year)?)\s*'?" + _YEAR
_CN_FY = _YEAR + r"\s*财年度?"
_CN_YEAR = _YEAR + r"\s*年度?"
_QUARTER_WORD = r"季\s*度|季\s*报"
_ORDINAL_Q = r"(?P<q>first|second|third|fourth|1st|2nd|3rd|4th)"
_ORDINAL_H = r"(?P<h>first|second|1st|2nd)"
_MONTH_NAME = r"(?P<mon>" + "|".join(
    ("jan(?:uary)?", "feb(?:ruary)?", "mar(?:ch)?", "apr(?:il)?", "may", "june?", "july?",
     "aug(?:ust)?", "sep(?:t(?:ember)?)?", "oct(?:ober)?", "nov(?:ember)?", "dec(?:ember)?")
) + r")"
# A bare four-digit number is a year only when it is not an amount ("2030亿元", "2048 GPUs").
_NOT_AMOUNT = r"(?![.,]\d)(?!\s*(?:亿|万|千|百|元|美元|人民币|个|家|台|张|块|卡|倍|%|mw|gw))"


def _number(token: str) -> int:
    if token in ORDINALS:
        return ORDINALS[token]
    return CN_DIGITS.index(token) if token in CN_DIGITS else int(token)


def _year(token: str) -> int:
    return 2000 + int(token) if len(token) == 2 else int(token)


def _group(match: re.Match[str], name: str) -> str | None:
    return match.groupdict().get(name)


def _year_of(match: re.Match[str]) -> int | None:
    token = _group(match, "year")
    return _year(token) if token else None


def _quarter(fiscal: bool) -> Callable[[re.Match[str]], Period]:
    return lambda m: Period("quarter", _year_of(m), quarter=_number(m["q"].lower()), fiscal=fiscal)


def _half(fiscal: bool) -> Callable[[re.Match[str]], Period]:
    def build(m: re.Match[str]) -> Period:
        token = m["h"].lower()
        half = {"上": 1, "下": 2}.get(token) or _number(token)
        return Period("half", _year_of(m), half=half, fiscal=fiscal)

    return build


def _year_period(fiscal: bool) -> Callable[[re.Match[str]], Period]:
    return lambda m: Period("year", _year_of(m), fiscal=fiscal)


def _first_quarters(m: re.Match[str]) -> Period:
    """"前三季度"/"9M26"/"1-9月": the year to date. Through Q1 or Q2 is simply Q1 or H1."""
    if _group(m, "n"):
        last_quarter = _number({"两": "2"}.get(m["n"], m["n"]))
    else:
        last_quarter = int(m["months"]) // 3
    year = _year_of(m)
    if last_quarter == 1:
        return Period("quarter", year, quarter=1)
    if last_quarter == 2:
        return Period("half", year, half=1)
    return Period("ytd", year, quarter=last_quarter)


def _month(m: re.Match[str]) -> Period:
    if _group(m, "mon"):
        month = MONTH_NAMES.index(m["mon"][:3].lower()) + 1
    else:
        month = int(m["m"])
    return Period("month", _year_of(m), month=month)


def _relative(label: str) -> Callable[[re.Match[str]], Period]:
    return lambda m: Period("relative", label=label, fiscal=RELATIVE_PERIODS[label][0])


def _relative_rules() -> list[tuple[str, Callable[[re.Match[str]], Period]]]:
    rules = []
    for label, (_, surfaces) in RELATIVE_PERIODS.items():
        alternatives = "|".join(re.escape(s).replace(r"\ ", r"\s+") for s in surfaces)
        rules.append((rf"(?<![a-z])(?:{alternatives})(?![a-z])", _relative(label)))
    return rules


# Ordered: fiscal before calendar and longer notations before the shorter ones they contain;
# a later rule never matches text an earlier rule already claimed.
_PERIOD_RULES: list[tuple[str, Callable[[re.Match[str]], Period]]] = [
    # fiscal quarters: FY26Q3, FY2026 Q3, FY26 3Q, Q3 FY26, 3QFY26, FY3Q26, 2026财年第三季度
    (_START + _FY + r"\s*[-/]?\s*q" + _Q + _END, _quarter(True)),
    # "fiscal Q3 2026", "fiscal third quarter of 2026", "fiscal year 2026 fourth quarter"
    (_START + r"(?:fiscal|fy)\s*(?:year\s*)?q" + _Q + r"\s*(?:['’/-]|of)?\s*" + _YEAR + _END, _quarter(True)),
    (_START + r"fiscal\s+" + _ORDINAL_Q + r"\s+quarter\s+(?:of\s+)?(?:(?:fiscal|fy)\s*)?(?:year\s*)?'?" + _YEAR + _END,
     _quarter(True)),
    (_START + _FY + r"\s+" + _ORDINAL_Q + r"\s+quarter" + _END, _quarter(True)),
    (_START + _FY + r"\s*" + _Q + r"\s*q" + _END, _quarter(True)),
    (_START + r"q" + _Q + r"\s*[-/]?\s*" + _FY + _END, _quarter(True)),
    (_START + _Q + r"\s*q\s*[-/]?\s*" + _FY + _END, _quarter(True)),
    (_START + r"fy\s*" + _Q + r"\s*q\s*'?" + _YEAR + _END, _quarter(True)),
    (_CN_FY + r"\s*(?:第\s*)?" + _CN_Q + r"\s*(?:财季|" + _QUARTER_WORD + ")", _quarter(True)),
    (_START + _FY + r"\s*(?:第\s*)?" + _CN_Q + r"\s*(?:财季|" + _QUARTER_WORD + ")", _quarter(True)),
    (_CN_FY + r"\s*q" + _Q + _END, _quarter(True)),
    (_START + _ORDINAL_Q + r"\s+quarter\s+(?:of\s+)?(?:fiscal|fy)\s*(?:year\s*)?'?" + _YEAR + _END,
     _quarter(True)),
    (r"(?:第\s*)?" + _CN_Q + r"\s*财季", _quarter(True)),
    # fiscal halves: FY26H1, H1 FY26, 1HFY26, FY1H26, 2026财年上半年
    (_START + _FY + r"\s*[-/]?\s*h" + _H + _END, _half(True)),
    (_START + r"h" + _H + r"\s*[-/]?\s*" + _FY + _END, _half(True)),
    (_START + _H + r"\s*h\s*" + _FY + _END, _half(True)),
    (_START + r"fy\s*" + _H + r"\s*h\s*'?" + _YEAR + _END, _half(True)),
    (_CN_FY + r"\s*(?P<h>[上下])\s*半\s*(?:财)?年", _half(True)),
    (_START + _FY + r"\s*(?P<h>[上下])\s*半\s*(?:财)?年", _half(True)),
    (_CN_FY + r"\s*h" + _H + _END, _half(True)),
    (r"(?P<h>[上下])半财年", _half(True)),
    # fiscal years: FY2026, FY26, fiscal 2026, 2026财年
    (_START + _FY + r"(?:\s*财年度?)?" + _END, _year_period(True)),
    (_CN_FY, _year_period(True)),
    # relative: 本季度, 上一季度, 最近一季度, 去年 (before the calendar rules, which would
    # read "上一季度" as a yearless Q1)
    *_relative_rules(),
    # year to date: 2026年前三季度, 9M26, Q1-Q3 2026, 1-3Q26, 2026Q1-Q3, 2026年1-9月
    (r"(?:" + _CN_YEAR + r"\s*)?前\s*(?P<n>[两二三2-3])\s*个?\s*(?:" + _QUARTER_WORD + ")",
     _first_quarters),
    (_START + r"(?P<months>[369])\s*m\s*'?" + _YEAR + _END, _first_quarters),
    (_START + r"q1\s*[-–~]\s*q(?P<n>[23])\s*'?" + _YEAR + _END, _first_quarters),
    (_START + r"1\s*[-–~]\s*(?P<n>[23])\s*q\s*'?" + _YEAR + _END, _first_quarters),
    (_START + _YEAR4 + r"\s*q1\s*[-–~]\s*q(?P<n>[23])" + _END, _first_quarters),
    (_START + r"q1\s*[-–~]\s*q(?P<n>[23])" + _END, _first_quarters),
    (_CN_YEAR + r"\s*1\s*[-–~至]\s*(?P<months>[369])\s*月", _first_quarters),
    # calendar quarters: 2026Q1, 26Q1, 2026年Q1, Q1 2026, Q1'26, 1Q26, 2026年第一季度, 一季度
    (_START + r"(?:cy\s*)?" + _YEAR + r"\s*(?:年度?)?\s*[-/]?\s*q" + _Q + _END, _quarter(False)),
    (_START + r"q" + _Q + r"\s*(?:['’/-]|of)?\s*" + _YEAR4 + _END, _quarter(False)),
    (_START + r"q" + _Q + r"\s*['’/-]?" + _YEAR + _END, _quarter(False)),
    (_START + _Q + r"\s*q\s*['’]?" + _YEAR + _END, _quarter(False)),
    (_CN_YEAR + r"\s*(?:第\s*)?" + _CN_Q + r"\s*(?:" + _QUARTER_WORD + ")", _quarter(False)),
    (_START + _YEAR4 + r"\s*(?:第\s*)?" + _CN_Q + r"\s*(?:" + _QUARTER_WORD + ")", _quarter(False)),
    (r"(?:第\s*)?" + _CN_Q + r"\s*(?:" + _QUARTER_WORD + ")", _quarter(False)),
    (_START + _ORDINAL_Q + r"\s+quarter(?:\s+(?:of\s+)?" + _YEAR4 + r")?" + _END, _quarter(False)),
    (_START + r"q" + _Q + _END, _quarter(False)),
    (_START + _Q + r"q" + _END, _quarter(False)),
    # calendar halves: 2026H1, 1H26, H1 2026, 2026年上半年, 上半年
    (_START + r"(?:cy\s*)?" + _YEAR + r"\s*(?:年度?)?\s*[-/]?\s*h" + _H + _END, _half(False)),
    (_START + r"h" + _H + r"\s*(?:['’/-]|of)?\s*" + _YEAR4 + _END, _half(False)),
    (_START + r"h" + _H + r"\s*['’/-]?" + _YEAR + _END, _half(False)),
    (_START + _H + r"\s*h\s*['’]?" + _YEAR + _END, _half(False)),
    (r"(?:" + _CN_YEAR + r"\s*)?(?P<h>[上下])\s*半\s*年度?", _half(False)),
    (_START + _ORDINAL_H + r"\s+half(?:\s+(?:of\s+)?" + _YEAR4 + r")?" + _END, _half(False)),
    (_START + r"h" + _H + _END, _half(False)),
    (_START + _H + r"h" + _END, _half(False)),
    # months: 2026年3月, 2026-03, 2026/3, March 2026, 3月
    (_CN_YEAR + r"\s*(?P<m>1[0-2]|0?[1-9])\s*月", _month),
    (_START + _YEAR4 + r"\s*[-/]\s*(?P<m>1[0-2]|0?[1-9])(?![0-9])", _month),
    (_START + _YEAR4 + r"\.(?P<m>1[0-2]|0[1-9])(?![0-9])", _month),
    (_START + _MONTH_NAME + r"\.?\s+(?:\d{1,2},?\s+)?" + _YEAR4 + _END, _month),
    (r"(?<![0-9\-–~至])(?P<m>1[0-2]|[1-9])\s*月", _month),
    # calendar years: 2026年, CY2026, 2026, 2026E
    (_START + r"(?:cy\s*)?" + _YEAR4 + r"\s*年度?", _year_period(False)),
    (_START + r"(?:cy\s*)?" + _YEAR4 + _END + _NOT_AMOUNT, _year_period(False)),
    # a two-digit year where only a year can stand: "17 年至今", "19年以来", "20 年底" ("10 年"
    # alone is ten years)
    (r"(?<![0-9.])(?P<year>[0-3]\d)\s*年(?=\s*(?:至今|以来|年初|初|年末|末|年底|底|全年))", _year_period(False)),
]



@lru_cache(maxsize=1)
def _compiled_period_rules() -> list[tuple[re.Pattern[str], Callable[[re.Match[str]], Period]]]:
    return [(re.compile(pattern, re.IGNORECASE), build) for pattern, build in _PERIOD_RULES]


@dataclass(frozen=True)
class _PeriodMatch:
    start: int
    end: int
    period: Period


def _claim(found: list[_PeriodMatch], start: int, end: int) -> bool:
    """True when [start, end) overlaps no earlier match."""
    return all(end <= f.start or start >= f.end for f in found)


def _find_periods(text: str) -> list[_PeriodMatch]:
    found: list[_PeriodMatch] = []
    for pattern, build in _compiled_period_rules():
        for match in pattern.finditer(text):
            if _claim(found, match.start(), match.end()):
                found.append(_PeriodMatch(match.start(), match.end(), build(match)))
    return sorted(found, key=lambda f: f.start)


def find_periods(text: str) -> list[tuple[int, Period]]:
    """(position, period) for each period mention in `text` (positions in normalize_text(text))."""
    return [(f.start, f.period) for f in _find_periods(normalize_text(text))]


def extract_periods(text: str) -> list[Period]:
    """Periods mentioned in `text`, in order of appearance, each once."""
    periods = (f.period for f in _find_periods(normalize_text(text)))
    return list(dict.fromkeys(periods))


# --- alias and metric matching ------------------------------------------------------------

_CJK = re.compile(r"[\u3400-\u9fff]")


def _surface_pattern(surface: str) -> str:
    """Regex for one alias: spacing between words and between Chinese and Latin script is
    free ("AI 相关收入" = "AI相关收入"), and a Latin edge must not continue a longer word
    ("Meta" is not in "metadata"; "EBIT" is not in "EBITDA")."""
    parts: list[str] = []
    previous = ""
    for char in surface:
        if char.isspace():
            previous = ""
            parts.append(r"\s*")
            continue
        if char in "_-" and previous.isascii() and previous.isalnum():
            # a code name joins its parts with "_" or "-" as the printer likes ("F_1d" = "F-1d")
            parts.append(r"[-_‐]")
            previous = char
            continue
        if previous and bool(_CJK.match(previous)) != bool(_CJK.match(char)):
            parts.append(r"\s*")
        parts.append(re.escape(char))
        previous = char
    body = "".join(parts)
    return _edge_guard(surface[0], before=True) + body + _edge_guard(surface[-1], before=False)


def _edge_guard(char: str, before: bool) -> str:
    if char.isascii() and char.isalpha():
        neighbours = "a-z"
    elif char.isascii() and char.isdigit():
        neighbours = "0-9"
    else:
        return ""
    return f"(?<![{neighbours}])" if before else f"(?![{neighbours}])"


def _lookup_key(surface: str) -> str:
    # "_", "-" and "‐" join a code name's parts alike (see _surface_pattern): one key for all
    key = re.sub(r"\s+", "", normalize_text(surface)).lower()
    return re.sub(r"(?<=[a-z0-9])[-_‐](?=[a-z0-9])", "-", key)


@dataclass(frozen=True)
class _TermMatcher:
    """Finds the aliases of a synonym table in text; where two aliases overlap the longer,
    earlier one wins ("亚马逊云科技" is AWS, not 亚马逊)."""

    pattern: re.Pattern[str] | None
    rows_by_alias: dict[str, SynonymRow]
    rows_by_canonical: dict[str, SynonymRow]

    @classmethod
    def from_rows(cls, rows: list[SynonymRow]) -> _TermMatcher:
        rows_by_alias: dict[str, SynonymRow] = {}
        for row in rows:
            for alias in row.aliases:
                rows_by_alias.setdefault(_lookup_key(alias), row)
        rows_by_canonical = {row.canonical: row for row in rows}
        surfaces = {normalize_text(alias) for row in rows for alias in row.aliases}
        if not surfaces:
            return cls(None, rows_by_alias, rows_by_canonical)
        # Longest first: the regex takes the first alternative that matches at a position.
        longest_first = sorted(surfaces, key=len, reverse=True)
        pattern = re.compile("|".join(map(_surface_pattern, longest_first)), re.IGNORECASE)
        return cls(pattern, rows_by_alias, rows_by_canonical)

    def find(self, text: str) -> list[tuple[SynonymRow, str]]:
        """(row, surface form as written) for each alias occurrence, in order."""
        if self.pattern is None:
            return []
        return [
            (self.rows_by_alias[_lookup_key(m.group(0))], m.group(0))
            for m in self.pattern.finditer(text)
        ]


@lru_cache(maxsize=2)
def _matchers(signature: tuple[tuple[str, int], ...]) -> tuple[_TermMatcher, _TermMatcher, _TermMatcher]:
    """Alias, metric and glossary matchers for one state of the dictionary files (see
    dictionary_signature): edits to the files take effect on the next question."""
    del signature  # only the cache key
    return (
        _TermMatcher.from_rows(read_synonym_table(ALIASES_FILE)),
        _TermMatcher.from_rows(read_synonym_table(METRICS_FILE)),
        _TermMatcher.from_rows(read_synonym_table(GLOSSARY_FILE)),
    )


def _entities(text: str, matcher: _TermMatcher) -> list[Entity]:
    found = [Entity(row.canonical, alias, row.kind) for row, alias in matcher.find(text)]
    return _unique_by(found, lambda e: e.name)


def entity_mentions(text: str) -> tuple[tuple[int, Entity], ...]:
    """(position, entity) for every known company/unit/institution/broker named in `text`
    (positions in normalize_text(text)). Cached per state of the dictionary files: evidence
    scoring asks about the same chunks for every sentence in them, and an edited alias file
    takes effect at once."""
    return _entity_mentions(text, dictionary_signature())


@lru_cache(maxsize=8192)
def _entity_mentions(text: str, signature: tuple) -> tuple[tuple[int, Entity], ...]:
    alias_matcher = _matchers(signature)[0]
    if alias_matcher.pattern is None:
        return ()
    norm = normalize_text(text)
    return tuple((m.start(), Entity(row.canonical, m.group(0), row.kind))
                 for m in alias_matcher.pattern.finditer(norm)
                 for row in [alias_matcher.rows_by_alias[_lookup_key(m.group(0))]])


def find_entities(text: str, kinds: tuple[str, ...] | None = None, last: bool = False) -> list[Entity]:
    """Known companies/units/institutions/brokers named in `text`, in order of first mention
    (``last=True``: in order of last mention, latest first)."""
    found = [e for _, e in entity_mentions(text) if kinds is None or e.kind in kinds]
    if last:
        found = found[::-1]
    return _unique_by(found, lambda e: e.name)


FACT_ENTITY_KINDS = ("company", "unit")   # a data source or a broker is not whose figure it is


def fact_entities(text: str) -> list[tuple[int, str]]:
    """(position, canonical name) of the companies and business units named in ``text``: the
    entity finder the figure store binds facts with."""
    return [(pos, e.name) for pos, e in entity_mentions(text) if e.kind in FACT_ENTITY_KINDS]


def metric_key_of(phrase: str) -> str:
    """The key of the known metric a fact's metric phrase names — the mention nearest its end
    (the words next to the figure), so "收入 同比增长" is growth, not revenue — or ""."""
    return _metric_key_of(phrase, dictionary_signature())


@lru_cache(maxsize=16384)
def _metric_key_of(phrase: str, signature: tuple) -> str:
    matcher = _matchers(signature)[1]
    if matcher.pattern is None or not phrase.strip():
        return ""
    found = list(matcher.pattern.finditer(normalize_text(phrase)))
    return matcher.rows_by_alias[_lookup_key(found[-1].group(0))].canonical if found else ""


def metric_qualifier(phrase: str) -> str:
    """The words written onto a metric phrase's known metric ("海外电池" in "海外电池收入"): the
    unbroken run of letters right before the last mention of the metric, lower-cased. A space,
    punctuation, a company name or a period ends it, so a heading left before the sentence
    ("点评 某公司 收入") is no qualifier. "" when nothing qualifies it or no metric is known."""
    matcher = _matchers(dictionary_signature())[1]
    text = normalize_text(phrase)
    found = list(matcher.pattern.finditer(text)) if matcher.pattern is not None else []
    if not found:
        return ""
    before = text[:found[-1].start()]
    for pos, e in entity_mentions(before):
        before = before[:pos] + " " * len(e.alias) + before[pos + len(e.alias):]
    run = re.search(r"[\u4e00-\u9fffA-Za-z]*$", before).group(0)
    run = re.sub(r"^[年月]", "", run)      # the tail of a period whose digits were read off ("2025 年收入")
    return _GENERIC_QUALIFIER.sub("", run).lower()


# words that qualify nothing: pronouns, "company", "total", the possessive and period words
_GENERIC_QUALIFIER = re.compile(r"公司|其|该|将|单季度?|全年|季度|年度|当期|期末|末|的|合计|总|"
                                r"实现|录得|取得|获得|达到|完成|贡献|total|company|its|the", re.IGNORECASE)


# English asks a market's size without the words "market size": "how big was the X market",
# "what size does the X market reach", "size of the X market"
_MARKET_SIZE_EN = re.compile(r"\b(?:how (?:big|large)|what size|the size of|size)\b(?=.{0,60}\bmarkets?\b)|"
                             r"\bmarkets?\b(?=.{0,40}\b(?:how (?:big|large)|size)\b)", re.I)


_SHARE_CLASS = re.compile(r"\b[ABH]-shares?\b", re.I)      # "A-share market" is a market, not a share of one


def _metrics(text: str, matcher: _TermMatcher) -> list[Metric]:
    found = [Metric(row.canonical, alias) for row, alias in matcher.find(_SHARE_CLASS.sub("A股", text))]
    if not any(m.key == "market_size" for m in found):
        m = _MARKET_SIZE_EN.search(text)
        if m:
            found.insert(0, Metric("market_size", m.group(0)))
    return _unique_by(found, lambda m: m.key)


def _unique_by(items: Iterable[T], key: Callable[[T], str]) -> list[T]:
    """First occurrence of each key, in order."""
    seen: dict[str, T] = {}
    for item in items:
        seen.setdefault(key(item), item)
    return list(seen.values())


# --- the parse ------------------------------------------------------------------------------

_LATIN_WORD = re.compile(r"[a-z]", re.IGNORECASE)


def detect_lang(text: str) -> Lang:
    """zh: Chinese only; en: no Chinese; mixed: Chinese with Latin words (names, tickers and
    metric abbreviations included: "Tesla 2030年收入" is mixed)."""
    has_chinese = bool(_CJK.search(text))
    if not has_chinese:
        return "en"
    return "mixed" if _LATIN_WORD.search(text) else "zh"


@lru_cache(maxsize=1)
def _outlook_patterns() -> dict[str, re.Pattern[str]]:
    return {
        kind: re.compile("|".join(map(_surface_pattern, markers)), re.IGNORECASE)
        for kind, markers in OUTLOOK_MARKERS.items()
    }


def _outlook(text: str, periods: list[_PeriodMatch]) -> list[str]:
    """"estimate"/"actual" from marker words and from E/A suffixes on periods ("2026E")."""
    kinds: dict[str, int] = {}
    for kind, pattern in _outlook_patterns().items():
        match = pattern.search(text)
        if match:
            kinds[kind] = match.start()
    for found in periods:
        suffix = text[found.end : found.end + 1].lower()
        kind = {"e": "estimate", "a": "actual"}.get(suffix)
        if kind:
            kinds[kind] = min(kinds.get(kind, found.end), found.end)
    return sorted(kinds, key=kinds.__getitem__)


def _expansions(text: str, entity_names: list[str], metric_keys: list[str],
                periods: list[Period], matchers: tuple[_TermMatcher, ...]) -> list[str]:
    """Other names for what the question mentions, minus what it already says."""
    alias_matcher, metric_matcher = matchers[:2]
    candidates: list[str] = []
    for name in entity_names:
        candidates.extend(alias_matcher.rows_by_canonical[name].aliases)
    for key in metric_keys:
        candidates.extend(metric_matcher.rows_by_canonical[key].aliases)
    for period in periods:
        candidates.extend(period.variants())
    present = _lookup_key(text)
    new_terms = (term for term in candidates if _lookup_key(term) not in present)
    return _unique_by(new_terms, _lookup_key)


def glossary_forms(text: str) -> list[str]:
    """The glossary words ``text`` uses, as written ("Northbound" is a common word, not a name)."""
    matcher = _matchers(dictionary_signature())[2]
    return [said for _, said in matcher.find(normalize_text(text))] if matcher.pattern is not None else []


def glossary_words(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """(the glossary word as ``text`` writes it, every form of it in either language)."""
    matcher = _matchers(dictionary_signature())[2]
    if matcher.pattern is None:
        return []
    return [(said, row.aliases) for row, said in matcher.find(normalize_text(text))]


def glossary_synonyms(text: str) -> list[str]:
    """Every form, in either language, of the glossary words ``text`` uses (公布: 宣布,
    announce …)."""
    return list(dict.fromkeys(f for _, forms in glossary_words(text) for f in forms))


def glosses(text: str) -> list[str]:
    """The other-language forms of the glossary words ``text`` uses ("data center" ->
    数据中心; 超额收益 -> excess return), minus what it already says: a question in one
    language matched against reports written in the other."""
    matcher = _matchers(dictionary_signature())[2]
    if matcher.pattern is None:
        return []
    text = normalize_text(text)
    present = _lookup_key(text)
    out: list[str] = []
    for row, said in matcher.find(text):
        latin = bool(_LATIN_WORD.search(said)) and not _CJK.search(said)
        # the forms in the other script (a Latin word's Chinese forms, and the reverse)
        out += [form for form in row.aliases if bool(_CJK.search(form)) == latin and _lookup_key(form) not in present]
    return _unique_by(out, _lookup_key)


def parse_query(question: str) -> ParsedQuery:
    text = normalize_text(question).strip()
    matchers = _matchers(dictionary_signature())
    period_matches = _find_periods(text)
    periods = list(dict.fromkeys(f.period for f in period_matches))
    entities = _entities(text, matchers[0])
    metrics = _metrics(text, matchers[1])
    return ParsedQuery(
        text=text,
        lang=detect_lang(text),
        entities=entities,
        metrics=metrics,
        periods=periods,
        outlook=_outlook(text, period_matches),
        expansions=_expansions(
            text, [e.name for e in entities], [m.key for m in metrics], periods, matchers
        ),
        glosses=glosses(text),
    )

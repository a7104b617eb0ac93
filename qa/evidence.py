"""Evidence units — a sentence of a text chunk or a row of a table chunk — and how well
each one matches the parsed question (entity, metric, period, figure).

Code, not the LLM, chooses the evidence and the quote: a 1.5B model picks the wrong
quarter as soon as several passages are in its context (see MODELS.md).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from functools import lru_cache

from index.query import (ParsedQuery, _surface_pattern, entity_mentions, extract_periods, find_entities, find_periods,
                         glossary_forms, glossary_words, metric_key_of)
from index.text import normalize_text, tokenize
from ingest.facts import is_change_row
from ingest.model import Chunk
from ingest.numbers import extract_quantities

_SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]?")
_FIGURE = re.compile(r"\d")


@dataclass
class Unit:
    """One quotable piece of evidence with its provenance."""

    text: str                  # what is quoted
    context: str               # heading / caption / column headers that qualify it
    chunk: Chunk
    rank: int                  # retrieval rank of its chunk (0 = best)
    cells: list[tuple[str, str]] = field(default_factory=list)  # (column header, cell) for table rows
    score: float = 0.0
    matched: dict = field(default_factory=dict)
    offset: int = 0            # where the unit starts in its chunk's text

    @property
    def full(self) -> str:
        return f"{self.context}\n{self.text}"


def units_from(chunk: Chunk, rank: int) -> list[Unit]:
    heading = " / ".join(chunk.heading_path)  # the chapter title often names the company
    if chunk.kind == "table":
        lines = chunk.text.split("\n")
        caption = lines[0]
        rows = [ln.split(" | ") for ln in lines[1:] if " | " in ln]
        if not rows:
            return []
        header, body = rows[0], rows[1:]
        if body and _is_sub_header(body[0]):
            header, body = _two_level(header, body[0]), body[1:]
        out = []
        for lo, hi in _side_by_side(header):
            head = header[lo:hi]
            above = ""                    # a "YoY (%)" row is the growth of the row above it
            for row in body:
                part = row[lo:hi] if hi <= len(row) else row[lo:]
                if not any(c.strip() for c in part):
                    continue
                cells = list(zip(head + [""] * (len(part) - len(head)), part))
                label = part[0].strip()
                subject = above if is_change_row(label) else ""
                above = above if subject or not label else label
                context = f"{heading}\n{caption}\n" + (f"{subject}\n" if subject else "") + " | ".join(head)
                out.append(Unit("\t".join(part), context, chunk, rank, cells))
        return out
    out = []
    previous = ""
    for m in _SENTENCE.finditer(chunk.text):
        sent = m.group(0).strip()
        if len(sent) >= 6:
            # the subject is often named one sentence earlier ("CoreWeave …。其 Backlog …")
            out.append(Unit(sent, f"{heading}\n{previous}", chunk, rank, offset=m.start()))
            previous = sent
    return out


def _is_sub_header(row: list[str]) -> bool:
    """The second level of a two-level header ("收入(亿)" over "2026E | 2027E | CAGR", "原始因子"
    over "RankIC | IC_IR"): no row label, no figures, and either mostly period labels or a
    label over most columns."""
    from ingest.numbers import extract_quantities
    cells = [c.strip() for c in row]
    filled = [c for c in cells if c]
    if cells[0] or len(filled) < 2:
        return False
    quantities = [q for c in filled for q in extract_quantities(c)]
    if any(q.kind == "figure" for q in quantities):
        return False
    return sum(1 for q in quantities if q.kind in ("year", "period")) >= len(filled) / 2 or \
        len(filled) >= (len(cells) - 1) * 0.75 and all(re.search(r"[^\W\d_]", c) for c in filled)


def _two_level(top: list[str], sub: list[str]) -> list[str]:
    """One header from two levels: the top label spans the empty cells after it."""
    out, span = [], ""
    for i, s in enumerate(sub):
        t = top[i].strip() if i < len(top) else ""
        span = t or (span if s.strip() else "")
        out.append(f"{span} {s.strip()}".strip() if s.strip() else t)
    return out


@lru_cache(maxsize=4096)
def _surface_regex(surface: str) -> re.Pattern[str]:
    # the same matching rules as query understanding: free spacing between words and
    # scripts ("月活MAU" = "月活 MAU"), Latin names not matched inside longer words
    return re.compile(_surface_pattern(normalize_text(surface).strip()), re.IGNORECASE)


def _side_by_side(header: list[str]) -> list[tuple[int, int]]:
    """Column ranges of lists printed side by side in one grid ("产品名称 | 月访问量 |
    产品名称 | 环比增速": each half is its own list, its rows are not the same item)."""
    n = len(header)
    key = normalize_text(header[0]).strip().lower() if header else ""
    for k in range(1, n // 2 + 1):
        if key and n % k == 0 and all(normalize_text(header[j]).strip().lower() == key for j in range(0, n, k)):
            return [(j, j + k) for j in range(0, n, k)] if k < n else [(0, n)]
    return [(0, n)]


def _mentions(text: str, surfaces: list[str]) -> int:
    """Position of the first surface form in text, or -1."""
    norm = normalize_text(text)
    best = -1
    for s in surfaces:
        if not s.strip():
            continue
        m = _surface_regex(s).search(norm)
        if m and (best < 0 or m.start() < best):
            best = m.start()
    return best


def _synonyms(table: str, key: str, canonical_is_a_word: bool = True) -> list[str]:
    from index.text import read_synonym_table
    wanted = normalize_text(key).strip().lower()
    for row in read_synonym_table(table):
        names = [row.canonical, *row.aliases]
        if wanted in (normalize_text(n).strip().lower() for n in names):
            # metric keys ("gross_margin") are identifiers, never printed in a report
            return names if canonical_is_a_word else list(row.aliases)
    return [key] if canonical_is_a_word else []


def _wanted_entities(q: ParsedQuery) -> list[tuple[str, list[str]]]:
    """(canonical name, surface forms) of each entity the question is about; a broker named
    in the question scopes the search instead (see qa.library)."""
    return [(e.name, sorted({e.alias, *_synonyms("aliases.tsv", e.name)}, key=len, reverse=True))
            for e in q.entities if e.kind != "broker"]


def metric_surfaces(q: ParsedQuery) -> list[list[str]]:
    return [sorted({m.alias, *_synonyms("metrics.tsv", m.key, canonical_is_a_word=False)}, key=len, reverse=True)
            for m in q.metrics]


_NOT_NAMES = {"What", "How", "Which", "Who", "When", "Why", "The", "According", "From", "With", "Does", "Were",
              "Per", "For", "And", "But", "Not", "Did", "Was", "Are", "Has", "Have", "Its", "These", "Those",
              "Between", "After", "Before", "During", "Since", "Until", "Over", "Under", "About", "Also", "Both",
              "Across", "Among", "Based", "Compared", "Excluding", "Including", "Into", "Than", "Then", "Where",
              "That", "This", "Their", "Capex", "Backlog", "Revenue", "Cloud", "Pass", "Training", "Inference",
              "January", "February", "March", "April", "June", "July", "August", "September", "October",
              "November", "December", "Sept", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Oct",
              "Nov", "Dec", "Fiscal", "Year", "Quarter", "Report", "Note", "Data", "Center",
              # words about the document, not names: "In Kaiyuan's Table 5"
              "Table", "Tables", "Figure", "Chart", "Exhibit", "Page", "Section", "Appendix", "Source",
              "Securities", "Research", "Broker", "Analyst", "Analysts", "Company", "Group", "Holdings",
              "Guidance", "Estimate", "Forecast", "Consensus", "Total", "Average", "Annual", "Latest",
              # generic business and securities nouns, capitalised in titles and names of classes
              "Class", "Series", "Round", "Shares", "Stock", "Preferred", "Common", "Business", "Services", "Enterprise", "Advertising", "Gaming", "Games",
              "Intelligent", "Platform", "Platforms", "Solutions", "Segment", "Devices", "Consumer"}
# "全球科技公司" is not a name: a suffix followed by a generic noun is left out
# (no name starts with a period's last character: "2031年一季度金融科技" holds none; a
# business line named like a company — 金融科技, fintech — is none either)
_COMPANY_SUFFIX = re.compile(r"(?<![度月季])(?![年度月季日])(?!金融科技)[\u4e00-\u9fa5]{2,4}(科技|通信|股份|控股|电子|光电|电气)"
                             r"(?!公司|企业|厂商|巨头|行业|板块|类)")


_GLOSS = re.compile(r"\s*[(（]([^()（）]{1,20})[)）]")
_GLOSSED = re.compile(r"(?:的|之)?([\u4e00-\u9fff]{2,6})\s*[(（]\s*$")  # "北极星（Polaris）": the name it glosses


_POSSESSIVE = re.compile(r"['’]s?\b")


def _opens_sentence(text: str, pos: int) -> bool:
    """Nothing but spaces, quotes or a sentence end before ``pos``."""
    before = text[:pos].rstrip(" \"'“‘(（")
    return not before or before[-1] in ".?!:;。？！：；\n"


def required_terms(q: ParsedQuery) -> list[list[str]]:
    """Names in the question that the evidence must mention: capitalised Latin names the
    alias table does not know ("Omniva", "Tavily") and Chinese company names ("宏景科技").
    Each is a list of surface forms: a gloss in brackets is an alternative ("Polaris (北极星)",
    "北极星（Polaris）")."""
    known = {a.lower() for e in q.entities for a in [e.alias, e.name]}
    known |= {w for m in q.metrics for w in re.findall(r"[a-z]+", m.alias.lower())}  # "Sharpe ratio"
    # a name no report prints is a translation or an ordinary word ("Chinese"), not something
    # the evidence could show — when the question names a subject the library does know
    anchored = any(e.kind not in ("broker",) for e in q.entities)
    names: list[list[str]] = []
    for m in re.finditer(r"(?<![A-Za-z0-9_-])(?:[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+|"
                         r"[A-Z][a-z]*[A-Z]?[a-z]{2,})(?![A-Za-z0-9_-])", q.text):
        w = m.group(0)
        if w in _NOT_NAMES or w.lower() in known or any(w.lower() in k for k in known) or glossary_forms(w):
            continue
        if anchored and w in q.unprinted:
            continue
        if q.lang == "en" and w in q.unprinted and _opens_sentence(q.text, m.start()) and \
                not _POSSESSIVE.match(q.text, m.end()):
            continue  # "Roughly what…": capitalised because it opens an English question, not a name
        gloss = _GLOSS.match(q.text, m.end())
        glossed = _GLOSSED.search(q.text[: m.start()]) if q.text[m.end():m.end() + 1] in ")）" else None
        names.append([w] + ([gloss.group(1).strip()] if gloss else [])
                     # "阿里云百炼(Bailian)": any tail of the Chinese run may be the glossed name
                     + ([glossed.group(1)[i:] for i in range(len(glossed.group(1)) - 1)] if glossed else []))
    # (a suffix match inside a known name — "中国信息通信" of 中国信息通信研究院 — is that name)
    names += [[m.group(0)] for m in _COMPANY_SUFFIX.finditer(q.text)
              if m.group(0).lower() not in known and not any(m.group(0).lower() in k for k in known)]
    names += [_code_forms(code) for code in product_codes(q.text)
              if code.lower() not in known and not any(code.lower() in k for k in known)]
    return list({tuple(n): n for n in names}.values())


# a model or part number: letters then digits (V900, H20, MI300X) or digits then a letter (910D)
_CODE = re.compile(r"(?<![A-Za-z0-9_.-])(?:[A-Z]{1,4}\d{2,5}[A-Za-z]{0,3}|\d{3,5}[A-Z]{1,2})(?![A-Za-z0-9_])")
_UNIT_SUFFIX = {"W", "KW", "MW", "GW", "TW", "GB", "TB", "MB", "PB", "E", "A", "F", "T", "B", "M", "K"}
_NUMBER_FORMATS = {"FP", "BF", "TF", "INT", "UINT"}      # FP16, INT8: a precision, not a product


def _code_forms(code: str) -> list[str]:
    """A code as printed with or without hyphens where letters and digits meet ("XR-300X")."""
    letters_digits = re.sub(r"(?<=[A-Za-z])(?=\d)", "-", code)
    digits_letters = re.sub(r"(?<=\d)(?=[A-Za-z])", "-", code)
    both = re.sub(r"(?<=\d)(?=[A-Za-z])", "-", letters_digits)
    return list(dict.fromkeys([code, letters_digits, digits_letters, both]))


def product_codes(text: str) -> list[str]:
    """Model and part numbers a question names. The evidence must print the very code: a
    sibling (910B for 910D, H20 for H200) is another product, and a code no report prints is
    something the library does not cover — never a translation to look past."""
    out = []
    for m in _CODE.finditer(text):
        code = m.group(0)
        letters = re.sub(r"\d", "", code)
        if code[0].isdigit() and letters in _UNIT_SUFFIX or letters in _NUMBER_FORMATS or extract_periods(code):
            continue                  # 800GB, 2026E, 1000W: an amount or a period
        out.append(code)
    return out


_COMPANIES = ("company", "unit")


def _cjk_aliases(name: str) -> list[str]:
    return [a for a in _synonyms("aliases.tsv", name) if re.match(r"[\u4e00-\u9fff]{2}", a)]


@lru_cache(maxsize=1024)
def _related(a: str, b: str) -> bool:
    """A company and its own business unit: 阿里巴巴/阿里云, 谷歌/谷歌云, 微软/微软智能云."""
    if a == b:
        return True
    pa, pb = _cjk_aliases(a), _cjk_aliases(b)
    return any(x.startswith(y) or y.startswith(x) for x in pa for y in pb)


@lru_cache(maxsize=1024)
def _business_pattern(surface: str) -> re.Pattern[str] | None:
    # "甲骨文云" is also written "甲骨文 2030 年云业务": the parent, a few words, then its business
    m = re.fullmatch(r"([\u4e00-\u9fff]{2,4})(云|智能云)", surface)
    return re.compile(re.escape(m.group(1)) + r"[^，。；,;！？、]{0,12}?" + m.group(2) + "(?:业务|服务|收入|计算)") if m else None


def _parent_then_business(text: str, surfaces: list[str]) -> bool:
    return any(p.search(text) for p in filter(None, map(_business_pattern, surfaces)))


def _entity_hit(u: Unit, name: str, surfaces: list[str], wanted: frozenset[str] = frozenset()) -> bool:
    """Is the unit about this entity? Named in the sentence (or row) itself; or, when the
    sentence names no other company, named just before it (previous sentence, headings), or
    the subject it refers back to ("公司同时给出…指引": the last company named in its chunk)."""
    if _mentions(u.text, surfaces) >= 0 or _parent_then_business(u.text, surfaces):
        return True
    # a sentence about another company: named before its first figure, where the subject
    # stands ("AMD 同时给出…98 亿美元"; customers named after the figure do not count)
    first_figure = _FIGURE.search(u.text)
    head = u.text[: first_figure.start()] if first_figure else u.text
    if any(not _related(e.name, name) and e.name not in wanted for e in find_entities(head, kinds=_COMPANIES)):
        return False
    if _mentions(u.context, surfaces) >= 0:
        return True
    if u.chunk.kind != "table":  # the last company named before the sentence in its chunk
        earlier = [e for pos, e in entity_mentions(u.chunk.text) if pos < u.offset]
        if any(e.kind == "institution" and e.name == name for e in earlier):
            return True  # "据某研究院统计，…。其中，某细分…": the source stands for the paragraph
        before = [e for e in earlier if e.kind in _COMPANIES]
        if before:
            return _related(before[-1].name, name)
    named = find_entities(" / ".join(u.chunk.heading_path), kinds=_COMPANIES, last=True)
    return bool(named) and _related(named[0].name, name)


def _words_in(text: str, surfaces: list[str]) -> bool:
    """A table splits a metric's name between caption and column header ("…重大合同" over
    "金额（亿元）" is 合同金额): every word of one surface form is somewhere in the text."""
    low = normalize_text(text).lower()
    for s in surfaces:
        whole = re.sub(r"\s+", "", normalize_text(s)).lower()
        words = [w for w in tokenize(s) if len(w) > 1 and w.lower() != whole]
        if len(words) > 1 and all(w.lower() in low for w in words):
            return True
    return False


_SCOPE_WORDS = {"中国", "国内", "我国", "全球", "海外", "国外", "全国",  # the report's scope, not a qualifier
                "china", "chinese", "global", "domestic", "overseas", "worldwide"}
# English function words around a metric ("what was its YoY growth") narrow nothing
_FUNCTION_WORDS = {"its", "their", "the", "a", "an", "what", "was", "were", "is", "are", "and", "of", "in", "on",
                   "for", "to", "by", "at", "as", "how", "much", "many", "did", "does", "do", "has", "have",
                   "had", "which", "that", "this", "these", "those", "with", "from", "be", "been", "it"}
_QUALIFIER_STOP = re.compile(r"[，,。？?！!：:；;、（）()的及和与在了是为]|中(?![国文美])|\d{2,4}\s*年|截至|据|根据"
                             r"|[上下]半年|全年|[一二三四]季度|单季|\b[1-4]Q|\bQ[1-4]|\bH[12]\b|\bFY")  # periods are not qualifiers


def metric_qualifiers(q: ParsedQuery) -> list[str]:
    """The words that narrow an asked metric, just before its last mention in the question:
    "海外电池" in "总收入中海外电池收入", "储能 PCS" in "国内储能 PCS 出货量". Among
    sentences giving the same metric, the one naming these words is the one asked about."""
    text = normalize_text(q.text)
    names = {t.lower() for e in q.entities for a in (e.alias, e.name) for t in tokenize(a)}
    out: list[str] = []
    for m in q.metrics:
        found = list(_surface_regex(m.alias).finditer(text))
        if not found:
            continue
        window = re.sub(r"^[A-Za-z-]+", "", text[max(0, found[-1].start() - 24): found[-1].start()]) \
            if found[-1].start() > 24 else text[: found[-1].start()]  # no word cut in half
        # the words right before the metric, or — when a period or 的 stands there ("公有云IaaS在2024年的
        # 市场规模") — the last words before that
        before = next((p for p in reversed(_QUALIFIER_STOP.split(window)) if p and p.strip()), "")
        words = [t.lower() for t in tokenize(before) if not t.isdigit() and t.lower() not in names
                 and t not in _SCOPE_WORDS and not re.fullmatch(r"[A-Za-z]", t)]   # the "s" of "Acme's"
        words = [w for w in words if not any(w != o and w in o for o in words)]  # "公有" is in "公有云"
        # in English, a word of another asked metric's name ("YoY" of "YoY growth") is that
        # metric, not a narrowing of this one; function words narrow nothing
        own = {t.lower() for o in q.metrics if o.alias.isascii() for t in tokenize(o.alias)}
        words = [w for w in words if w not in _FUNCTION_WORDS and w not in own]
        if q.lang != "zh":
            words = _glossed(before, words)
        out += words[-3:]
        # English also narrows after the metric: "growth in AI inference compute", "revenue of
        # the cloud segment"
        after = _EN_AFTER.match(text, found[-1].end()) if q.lang != "zh" else None
        if after:
            phrase = after.group(1)
            tail = [t.lower() for t in tokenize(phrase) if re.search(r"[a-z]", t.lower()) and len(t) > 1
                    and t.lower() not in names and t.lower() not in _FUNCTION_WORDS and t.lower() not in _SCOPE_WORDS]
            out += _glossed(phrase, tail)[-3:]
    return list(dict.fromkeys(out))


_EN_AFTER = re.compile(r"\s+(?:in|of|for|from)\s+((?:[A-Za-z][\w-]*\s*){1,5}?)(?=\s+(?:does|did|do|is|was|were|are|has|"
                       r"have|had|will|according|by|in|for|at|from|over|during|since|to)\b|\s*[,?.;]|\s*$)", re.I)


def _glossed(phrase: str, words: list[str]) -> list[str]:
    """English qualifier words with their glossary forms as alternatives ("data center" ->
    "data|center|数据中心" as one qualifier), so Chinese evidence can name them."""
    groups, covered = [], set()
    for said, forms in glossary_words(phrase):
        other = [f for f in forms if _CJK_CHAR.search(f) and f not in _SCOPE_WORDS]
        # an English word's own tokens; a Chinese word whole ("智能" alone names too much)
        mine = ({said} if _CJK_CHAR.search(said) else {t.lower() for t in tokenize(said)}) - _SCOPE_WORDS
        if other and mine:
            covered |= mine
            groups.append("|".join([*sorted(mine), *other]))   # one qualifier per glossary word
    if not groups:
        return words
    return [w for w in words if w not in covered] + list(dict.fromkeys(groups))


_CJK_CHAR = re.compile(r"[\u4e00-\u9fff]")


def _qualified(u: Unit, qualifiers: list[str], mets: list[list[str]]) -> float:
    """Share of the question's metric qualifiers the unit names before the figure it gives
    for the metric (a note after the figure naming "GenAI IaaS" does not count)."""
    text = u.text
    at = min([p for p in (_mentions(text, s) for s in mets) if p >= 0] or [0])
    figure = _FIGURE.search(text, at)
    before = text[: figure.end()] if figure else text
    words = {t.lower() for t in tokenize(before)}
    # a qualifier may list alternatives (an English word and its Chinese forms): any one names it
    return sum(1 for w in qualifiers if any(a in words or (_CJK_CHAR.search(a) and a in before)
                                            for a in w.split("|"))) / len(qualifiers)


_TABLE_REF = re.compile(r"(?:图表|表|图|Table|Figure|Exhibit|Chart)\s*(\d{1,3})(?!\d)", re.I)


def table_refs(text: str) -> set[tuple[str, str]]:
    """("表", "3") for "某券商表3中" / "Table 3": a table or chart the question names."""
    kind = {"图表": "表", "表": "表", "table": "表", "exhibit": "表", "图": "图", "figure": "图", "chart": "图"}
    return {(kind[m.group(0)[: -len(m.group(1))].strip().lower()], m.group(1)) for m in _TABLE_REF.finditer(text)}


_BARE_YEAR = re.compile(r"全年|本年|当年|年内|full[- ]year", re.I)


def _year_named_before(u: Unit, p) -> bool:
    """"甲公司将2030年全年产量…，并预计2031年将进一步增加；乙公司将全年产量…": a bare
    "全年" is the year the paragraph is about — the year named most often before the sentence
    in its chunk (the earliest of equals), not the last one, which is often a forecast."""
    if p.kind != "year" or u.chunk.kind == "table" or not _BARE_YEAR.search(u.text) or extract_periods(u.text):
        return False
    years = [found for _, found in find_periods(u.chunk.text[: u.offset]) if found.kind == "year"]
    if not years:
        return False
    dominant = max(dict.fromkeys(years), key=years.count)  # first-seen order breaks ties
    return p.covers(dominant)


def _whole_year_of(u: Unit, p) -> bool:
    """A sentence about the whole year of an asked quarter, half or month: it prints that year
    and no part of a year ("全年营收合计…" answers no question about its third quarter, whatever the
    sentence before it named)."""
    if u.chunk.kind == "table" or p.year is None or p.kind not in ("month", "quarter", "half"):
        return False
    printed = extract_periods(u.text)
    return any(f.kind == "year" and f.year == p.year for f in printed) and \
        not any(f.kind in ("month", "quarter", "half") for f in printed)


def _year_carried_over(u: Unit, p) -> bool:
    """"同年 8 月…" / "In March, …": a month or quarter printed without its year takes the year
    named last before it in its chunk (or its heading)."""
    if p.year is None or p.kind not in ("month", "quarter", "half"):
        return False
    from dataclasses import replace as _replace
    yearless = _replace(p, year=None, label="")
    if not any(found.year is None and yearless.covers(found) for found in extract_periods(u.text)):
        return False
    before = " ".join(u.chunk.heading_path) + "\n" + u.chunk.text[: u.offset] + u.text[:1]
    years = [found.year for _, found in find_periods(before) if found.year is not None]
    return bool(years) and years[-1] == p.year


# "多少个样本" / "几种语言" / "共有多少天": a count, answered by a figure printed with that classifier
_COUNT_Q = re.compile(r"(?:多少|几)\s*(个(?:月|季度|小时)?|种|家|只|天|次|名|位|款|项|条|张|台|块|篇|份|期|年)(?!百分点|基点)")


_COUNTED_NOUN = re.compile(r"\s*([A-Za-z]{2,}|[\u4e00-\u9fff]{2})")


def asked_classifier(question: str) -> str:
    """The classifier of a count the question asks for ("个", "种", "天"; "个月" is a duration), or ""."""
    return asked_count(question)[0]


def asked_count(question: str) -> tuple[str, str]:
    """(classifier, the noun counted after it: "多少块GPU" → ("块", "GPU")), or ("", "")."""
    text = normalize_text(question)
    m = _COUNT_Q.search(text)
    if not m:
        return "", ""
    noun = _COUNTED_NOUN.match(text, m.end())
    return m.group(1), noun.group(1) if noun else ""


def counted_with(text: str, classifier: str, noun: str = "") -> list[int]:
    """Where ``text`` prints a number followed by ``classifier`` or by the counted ``noun``
    ("800块", "~4000 GPU"): the number's start."""
    after = re.escape(classifier) + (f"|{re.escape(noun)}" if noun else "")
    return [m.start() for m in re.finditer(rf"(?<![\d.])\d[\d,]*(?:\.\d+)?\s*(?:{after})", text, re.I)]


_ROW_KEY = re.compile(r"\d{1,3}(?:\.\d+)?")
_KEY_STOP = set("的为是时在和与及下中个")


def keyed_row_hit(q: ParsedQuery, u: Unit) -> bool:
    """A table row keyed by a bare number (a holding period, a window length, a group) whose
    first column's header names the parameter ("持有期/月"): the question names the same number
    with a word of that header beside it ("持有期为3个月")."""
    if not u.cells or not _ROW_KEY.fullmatch(u.cells[0][1].strip()):
        return False
    key, head = u.cells[0][1].strip(), normalize_text(u.cells[0][0]).lower()
    marks = {c for c in head if _CJK_CHAR.match(c) and c not in _KEY_STOP} | \
        {w for w in re.findall(r"[a-z]{2,}", head)}
    if not marks:
        return False
    text = normalize_text(q.text).lower()
    for m in re.finditer(rf"(?<![\d.]){re.escape(key)}(?![\d.])", text):
        near = text[max(0, m.start() - 6):m.end() + 3]
        if any(mark in near for mark in marks):
            return True
    return False


def _row_label(u: Unit) -> str:
    """A table row's label: its first cell of words (not a figure)."""
    for _, cell in u.cells:
        cell = cell.strip()
        if re.search(r"[^\W\d_]", cell):
            return re.sub(r"\s+", "", normalize_text(cell)).lower()
    return ""


def _shadowed_rows(q: ParsedQuery, units: list[Unit]) -> set[int]:
    """Rows whose label the question prints only inside a longer row label it prints: asked
    "Δ毛利率" or "Factor_A_Adj", the rows "毛利率" and "Factor_A" are not named."""
    asked = re.sub(r"\s+", "", normalize_text(q.text)).lower()
    named = {id(u): label for u in units if u.cells and len(label := _row_label(u)) >= 2 and label in asked}
    out = set()
    for i, label in named.items():
        rest = asked
        for other in sorted({o for o in named.values() if label in o and o != label}, key=len, reverse=True):
            rest = rest.replace(other, " ")
        if label not in rest:         # every mention of it lies inside a longer label
            out.add(i)
    return out


def score_units(q: ParsedQuery, units: list[Unit]) -> list[Unit]:
    # a question with English words also matches Chinese evidence through the glossary
    q_tokens = {t for t in tokenize(q.text if q.lang == "zh" else q.matching_text) if len(t) > 1}
    refs = table_refs(q.text)
    ents = _wanted_entities(q)
    wanted = frozenset(name for name, _ in ents)
    mets = metric_surfaces(q)
    qualifiers = metric_qualifiers(q)
    classifier, noun = asked_count(q.text)
    shadowed = _shadowed_rows(q, units)
    keys = {m.key for m in q.metrics if m.key}
    for u in units:
        full = u.full
        ent_hit = sum(1 for name, s in ents if _entity_hit(u, name, s, wanted))
        met_hit = sum(1 for s in mets if _mentions(full, s) >= 0 or (u.cells and _words_in(full, s)))
        per_hit = sum(1 for p in q.periods if (p.matches(full) or _year_named_before(u, p) or _year_carried_over(u, p))
                      and not _whole_year_of(u, p))
        overlap = len(q_tokens & set(tokenize(full))) / max(len(q_tokens), 1)
        figure = bool(_FIGURE.search(u.text))
        qualified = _qualified(u, qualifiers, mets) if qualifiers else 0.0
        keyed = keyed_row_hit(q, u)
        counted = bool(classifier and counted_with(full, classifier, noun))
        u.matched = {"entities": ent_hit, "entities_wanted": len(ents), "metrics": met_hit,
                     "periods": per_hit, "periods_wanted": len(q.periods), "figure": figure,
                     "qualified": round(qualified, 2)}
        u.score = (-1.0 if id(u) in shadowed else 0.0) + (1.0 / (1 + u.rank) + 2.0 * (ent_hit / len(ents) if ents else 0)
                   + 1.5 * (met_hit / len(mets) if mets else 0) + 0.5 * qualified
                   + (2.0 if refs and refs & table_refs(u.context) else 0.0)
                   + 2.0 * (per_hit / len(q.periods) if q.periods else 0)
                   + 3.0 * overlap + (0.5 if figure else 0) + (2.0 if keyed else 0.0)
                   + (1.0 if counted else 0.0) + _row_metric_agreement(keys, u))
    return sorted(units, key=lambda u: -u.score)


def _row_metric_agreement(keys: set[str], u: Unit) -> float:
    """A table row whose label is a metric ("经营利润率", "YOY"): the row measuring the asked
    metric is the one asked, not the rows of other metrics under the same caption and header
    (which name the asked metric for every row alike). Where a column is the asked metric
    ("最大回撤"), the rows are the things measured, whatever their labels say."""
    if not keys or not u.cells or any(metric_key_of(head) in keys for head, _ in u.cells[1:] if head):
        return 0.0
    label = next((c.strip() for _, c in u.cells if re.search(r"[^\W\d_]", c)), "")
    row_key = metric_key_of(label) if label else ""
    if not row_key:
        return 0.0
    return 1.0 if row_key in keys else -0.5

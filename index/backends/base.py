"""The search backend interface: what a library asks of the engine that holds its dense
vectors and its BM25 index.

The library itself keeps the system of record — documents, chunks with provenance and
figures, in segment catalogs (see ``index.store``) — and publishes generations; a backend
indexes chunks for search. Shaped after Haystack 2.x document stores (write and delete by
document, count, filters that never widen), split into the two halves a generation needs:

- ``SearchBackend``: the writer's side, called under the library's writer lock, and the
  factory of readers;
- ``SearchIndex``: one generation's view, used by ``HybridRetriever``. Rows are the
  generation's chunk rows (``Generation.catalog``), so hits map back to chunks whatever
  the engine calls them.

Filters reach a backend as ``Allowed`` — already resolved against the catalog by
``SearchFilters`` (one definition of what a filter means for every backend). A filter that
matches nothing never reaches a backend: the retriever returns [] first (fail closed).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from index.store import Generation, VectorCache


@dataclass(frozen=True)
class Allowed:
    """The chunks a filtered search may return: their ``rows`` (sorted), and ``files`` when
    the filter admits whole documents (a backend may filter on the file field instead)."""

    rows: np.ndarray
    files: tuple[str, ...] | None = None


@dataclass(frozen=True)
class SyncedChunk:
    """What a backend indexes of one chunk (its text lives in the catalog)."""

    id: str
    file: str
    vector_key: bytes
    tokens: list[str]


class SearchIndex(Protocol):
    """One generation's dense and sparse search."""

    def count(self) -> int:
        """Live (searchable) chunks."""

    def dense_search(self, query_vector: np.ndarray, n: int, allowed: Allowed | None) -> dict[int, float]:
        """Up to ``n`` rows by cosine (inner product of normalised vectors), best first."""

    def dense_scores(self, query_vector: np.ndarray, rows: Sequence[int]) -> dict[int, float]:
        """Cosine of the given rows (to fuse BM25-only candidates on real scores)."""

    def sparse_search(self, terms: list[str], n: int, allowed: Allowed | None) -> dict[int, float]:
        """Up to ``n`` rows with a positive BM25 score for the (jieba) ``terms``: the best
        ``n``, in any order (the retriever ranks them)."""

    def sparse_scores(self, terms: list[str], rows: Sequence[int]) -> dict[int, float]:
        """BM25 score of the given rows (0.0 where no term matches)."""

    def has_terms(self, terms: list[str]) -> bool:
        """Does every term occur in some chunk? (True when there is no vocabulary to ask.)"""


class SearchBackend(Protocol):
    """The writer's side of an engine, and the factory of readers."""

    name: str                   # what the manifest records, e.g. "embedded", "milvus-lite:/x.db"

    def open_index(self, generation: Generation, reuse: SearchIndex | None) -> SearchIndex:
        """The reader of ``generation`` (``reuse``: the previous generation's reader)."""

    def index_segment(self, segment_dir: Path, cache: VectorCache, dim: int) -> dict:
        """Build whatever search files a new segment (its catalog already in ``segment_dir``)
        needs; returns what the manifest records of it."""

    def sync_documents(self, delete_files: Sequence[str], add: Sequence[SyncedChunk],
                       cache: VectorCache, dim: int) -> None:
        """Delete every chunk of ``delete_files``, then index ``add``. Called before the new
        generation is published; the embedded backend does nothing here (tombstones in the
        manifest are its deletes), a server backend writes through."""

    def committed(self) -> None:
        """The generation ``sync_documents`` prepared is published."""

    def recover(self, generation: Generation | None, cache: VectorCache, dim: int) -> None:
        """Undo what a writer killed between ``sync_documents`` and publishing left behind."""

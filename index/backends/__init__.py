"""Search backends: the embedded default (FAISS + bm25s files in the library directory) and
Milvus (a server at ``milvus://host:port``, or Milvus Lite in a local ``.db`` file).

    backend = "embedded"                      # yanbao.toml, [yanbao] table (the default)
    backend = "milvus://milvus.internal:19530"
    backend = "~/yanbao-milvus.db"            # Milvus Lite, embedded in this process
"""
from __future__ import annotations

from pathlib import Path

from index.backends.base import Allowed, SearchBackend, SearchIndex, SyncedChunk

__all__ = ["Allowed", "SearchBackend", "SearchIndex", "SyncedChunk", "backend_for_manifest", "open_backend"]

EMBEDDED = "embedded"


def is_milvus(spec: str) -> bool:
    return spec.startswith(("milvus://", "http://", "https://")) or spec.endswith(".db")


def open_backend(spec: str | None, library_root: Path, faiss_factory: str = "auto") -> SearchBackend:
    """The backend ``spec`` names, for the library at ``library_root``."""
    spec = (spec or EMBEDDED).strip()
    if spec == EMBEDDED:
        from index.backends.embedded import EmbeddedBackend
        return EmbeddedBackend(faiss_factory)
    if is_milvus(spec):
        from index.backends.milvus import MilvusBackend
        return MilvusBackend(spec, library_root)
    raise ValueError(f"backend must be 'embedded', 'milvus://host:port' or a Milvus Lite '.db' path; got {spec!r}")


def backend_for_manifest(manifest: dict, library_root: Path) -> SearchBackend:
    """The backend a generation was written with (libraries before backends: embedded)."""
    return open_backend(manifest.get("backend", EMBEDDED), library_root, manifest.get("faiss_factory", "auto"))

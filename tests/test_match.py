"""The match step of ``qa.Library.ask``: within the chosen evidence, the figure that measures what
is asked — a share asked is a percentage, a derived level is computed — over a library of
invented sentences (Acme, Globex)."""
from __future__ import annotations

import pytest
from conftest import sentence_library

TEXTS = ["2029 年，Acme 实现收入 80 亿元，同比增长 10%；其中云业务收入 20 亿元，占总收入的 25%。",
         "2029 年 Globex 实现收入 90 亿元，同比增长 20%。"]


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    yield from sentence_library(tmp_path_factory, TEXTS, "Acme\tAcme\tcompany\nGlobex\tGlobex\tcompany\n")


def test_a_share_asked_is_answered_with_the_printed_share(lib):
    assert lib.ask("Acme 2029 年云业务收入占总收入的比重是多少？", llm="none").statement.replace(" ", "") == "25%"


def test_a_derived_level_is_computed_from_the_level_and_its_rate(lib):
    answer = lib.ask("根据 Globex 2029 年收入及同比增速，推算其 2028 年收入大约是多少？", llm="none")
    assert answer.statement.replace(" ", "") == "75亿元" and not answer.abstained


def test_a_derived_level_without_a_rate_is_refused(lib):
    answer = lib.ask("推算 Acme 云业务 2028 年收入大约是多少？", llm="none")
    assert answer.abstained

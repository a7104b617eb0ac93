"""The sets the answerer was not tuned on: rewordings of the gold questions
(evals/gold/paraphrase.jsonl) and known-figure questions over real broker PDFs
(evals/gold/realworld_dev.jsonl, whose PDFs are kept out of git: those checks are skipped when
the PDFs are absent)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pymupdf
import pytest

from conftest import GOLD
from evals.runner import GOLD_SETS, realworld_dir
from evals.scoring import NOT_IN_CORPUS, quote_on_page, support_figures
from ingest.numbers import number_in_text

FIELDS = {"id", "question", "answer", "numbers", "kind", "lang", "quote", "file", "page", "source"}


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


REAL = load(GOLD_SETS["realworld-dev"])
PARA = load(GOLD_SETS["paraphrase"]) if GOLD_SETS["paraphrase"].exists() else []
GOLD_BY_ID = {g["id"]: g for g in load(GOLD)}


def test_realworld_set_is_large_and_mixed():
    kinds = {k: sum(it["kind"] == k for it in REAL) for k in ("text", "table", "multi", "unanswerable")}
    assert len(REAL) >= 60 and kinds["table"] >= len(REAL) / 4 and kinds["multi"] and kinds["unanswerable"]
    assert {it["lang"] for it in REAL} == {"zh", "en", "mixed"}
    assert len({it["id"] for it in REAL}) == len(REAL)


@pytest.mark.parametrize("item", REAL, ids=[it["id"] for it in REAL])
def test_realworld_item_schema(item):
    assert FIELDS <= set(item) and item["source"] == "realworld-dev"
    if item["answer"] == NOT_IN_CORPUS:
        assert item["kind"] == "unanswerable" and item["file"] is None and not item["numbers"]
    else:
        assert item["file"].endswith(".pdf") and item["page"] >= 1 and item["quote"]
        assert item["kind"] != "multi" or item.get("inputs")


@pytest.mark.parametrize("item", [it for it in REAL if it["answer"] != NOT_IN_CORPUS],
                         ids=[it["id"] for it in REAL if it["answer"] != NOT_IN_CORPUS])
def test_realworld_quote_is_on_its_page(item):
    pdf = realworld_dir() / item["file"]
    if not pdf.exists():
        pytest.skip(f"real PDFs are not in git; put them in {realworld_dir()} (see shared/evals/realworld-dev)")
    with pymupdf.open(pdf) as doc:
        text = doc[item["page"] - 1].get_text()
    assert quote_on_page(item["quote"], text)
    assert all(number_in_text(n, item["quote"]) for n in support_figures(item))


@pytest.mark.skipif(not PARA, reason="no paraphrase set")
def test_every_gold_item_has_two_rewordings_that_keep_its_answer():
    by_orig: dict[str, list[dict]] = {}
    for p in PARA:
        by_orig.setdefault(p["orig"], []).append(p)
    assert set(by_orig) == set(GOLD_BY_ID)
    for orig, items in by_orig.items():
        g = GOLD_BY_ID[orig]
        assert len(items) == 2 and {p["id"] for p in items} == {f"{orig}-p1", f"{orig}-p2"}
        for p in items:
            assert p["source"] == "paraphrase" and p["question"] != g["question"]
            assert {k: v for k, v in p.items() if k not in ("id", "question", "lang", "orig", "source")} == \
                {k: v for k, v in g.items() if k not in ("id", "question", "lang", "source")}


CDEV = load(GOLD_SETS["corpus-dev"])


def test_corpus_dev_set_asks_new_figures():
    kinds = {k: sum(it["kind"] == k for it in CDEV) for k in ("text", "table", "multi", "unanswerable")}
    assert len(CDEV) >= 100 and all(kinds.values()) and {it["lang"] for it in CDEV} == {"zh", "en", "mixed"}
    assert len({it["id"] for it in CDEV}) == len(CDEV)
    # another figure of a sentence the gold set quotes is a new question; the same figure is not
    asked = {(g["quote"], tuple(g["numbers"])) for g in GOLD_BY_ID.values() if g.get("quote")}
    assert not [it["id"] for it in CDEV if (it["quote"], tuple(it["numbers"])) in asked]


@pytest.mark.parametrize("item", [it for it in CDEV if it["answer"] != NOT_IN_CORPUS],
                         ids=[it["id"] for it in CDEV if it["answer"] != NOT_IN_CORPUS])
def test_corpus_dev_quote_is_on_its_page(item):
    with pymupdf.open(Path(__file__).resolve().parents[1] / "evals" / "corpus" / item["file"]) as doc:
        text = doc[item["page"] - 1].get_text()
    assert quote_on_page(item["quote"], text) and item["source"] == "corpus-dev"
    assert all(number_in_text(n, item["quote"]) for n in support_figures(item))


DEV2 = load(GOLD_SETS["realworld-dev2"])


def test_second_real_pdf_set_is_mixed_and_names_its_sources():
    kinds = {k: sum(it["kind"] == k for it in DEV2) for k in ("text", "table", "multi", "unanswerable")}
    assert len(DEV2) >= 60 and all(kinds.values()) and {it["lang"] for it in DEV2} == {"zh", "en", "mixed"}
    assert len({it["id"] for it in DEV2}) == len(DEV2)
    sources = json.loads((GOLD_SETS["realworld-dev2"].parent / "realworld_dev2_sources.json").read_text("utf-8"))
    assert {it["file"] for it in DEV2} <= set(sources)
    # none of its reports is one the other real-PDF sets ask about
    assert not set(sources) & {it["file"] for it in REAL}


@pytest.mark.parametrize("item", [it for it in DEV2 if it["answer"] != NOT_IN_CORPUS],
                         ids=[it["id"] for it in DEV2 if it["answer"] != NOT_IN_CORPUS])
def test_second_real_pdf_set_quote_is_on_its_page(item):
    pdf = realworld_dir("realworld-dev2") / item["file"]
    if not pdf.exists():
        pytest.skip(f"real PDFs are not in git; put them in {realworld_dir('realworld-dev2')}")
    assert FIELDS <= set(item) and item["source"] == "realworld-dev2"
    with pymupdf.open(pdf) as doc:
        text = doc[item["page"] - 1].get_text()
    assert quote_on_page(item["quote"], text)
    # a figure glued to a name ("EMA-26") is no figure to the number reader, yet printed
    assert all(number_in_text(n, item["quote"]) or n in re.sub(r"\s+", "", item["quote"]) for n in support_figures(item))

"""The project gold set (evals/gold/gold.jsonl) and the held-out set (evals/gold/heldout.jsonl):
schema, coverage, and every quote on its page."""
from __future__ import annotations

import json
from collections import Counter
from functools import lru_cache

import pymupdf
import pytest

from conftest import CORPUS, DEV, GOLD, HELDOUT
from evals.scoring import NOT_IN_CORPUS, interpret, quote_on_page, support_figures
from ingest.numbers import number_in_text

KINDS = {"text", "table", "multi", "unanswerable"}
LANGS = {"zh", "en", "mixed"}
SOURCES = {"dev", "project", "heldout"}
FIELDS = {"id", "question", "answer", "numbers", "kind", "lang", "quote", "file", "page", "source"}

# Dev items are copied as they are; these defects are theirs (strict: fixing them must be noticed).
QUOTE_NOT_LITERALLY_ON_PAGE = {
    "a007": "the quote escapes the dollar sign (\\$6.155) as Markdown; the page prints $6.155",
    "c57": "the quote splices two sentences; on p.23 other text sits between them",
}
NUMBER_NOT_IN_OWN_ANSWER = {
    "c24": "numbers lists 5000 (the cluster size in the question), which the answer does not state",
}


def load(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


GOLD_ITEMS = load(GOLD)
HELDOUT_ITEMS = load(HELDOUT)
ALL_ITEMS = GOLD_ITEMS + HELDOUT_ITEMS      # the consistency checks cover both files
ANSWERABLE = [it for it in ALL_ITEMS if it["answer"] != NOT_IN_CORPUS]
UNANSWERABLE = [it for it in ALL_ITEMS if it["answer"] == NOT_IN_CORPUS]
PROJECT = [it for it in GOLD_ITEMS if it.get("source") == "project"]


def known_defect(items: list[dict], defects: dict[str, str]) -> list:
    return [pytest.param(it, id=it["id"], marks=pytest.mark.xfail(reason=defects[it["id"]], strict=True))
            if it["id"] in defects else pytest.param(it, id=it["id"]) for it in items]


@lru_cache(maxsize=None)
def page_text(file: str, page: int) -> str:
    with pymupdf.open(CORPUS / file) as doc:
        return doc[page - 1].get_text()


@lru_cache(maxsize=None)
def page_count(file: str) -> int:
    with pymupdf.open(CORPUS / file) as doc:
        return doc.page_count


# ---------------------------------------------------------------------------------------------
# schema

def test_ids_are_unique():
    assert [i for i, n in Counter(it["id"] for it in ALL_ITEMS).items() if n > 1] == []


@pytest.mark.parametrize("item", ALL_ITEMS, ids=[it["id"] for it in ALL_ITEMS])
def test_schema(item):
    assert FIELDS <= set(item), FIELDS - set(item)
    assert item["kind"] in KINDS and item["lang"] in LANGS and item["source"] in SOURCES
    assert isinstance(item["question"], str) and item["question"].strip()
    assert isinstance(item["answer"], str) and item["answer"].strip()
    assert isinstance(item["numbers"], list) and all(isinstance(n, str) and n.strip() for n in item["numbers"])
    assert (item["kind"] == "unanswerable") == (item["answer"] == NOT_IN_CORPUS)
    if item["kind"] == "multi":
        assert item.get("inputs") and all(isinstance(n, str) for n in item["inputs"])


@pytest.mark.parametrize("item", UNANSWERABLE, ids=[it["id"] for it in UNANSWERABLE])
def test_unanswerable_items_name_no_figure_and_no_page(item):
    assert item["numbers"] == [] and item["quote"] == ""
    assert item["file"] is None and item["page"] is None


@pytest.mark.parametrize("item", ANSWERABLE, ids=[it["id"] for it in ANSWERABLE])
def test_answerable_items_point_at_a_real_page(item):
    assert (CORPUS / item["file"]).is_file(), item["file"]
    assert isinstance(item["page"], int) and 1 <= item["page"] <= page_count(item["file"])
    assert item["quote"].strip()


# ---------------------------------------------------------------------------------------------
# provenance

@pytest.mark.parametrize("item", known_defect(ANSWERABLE, QUOTE_NOT_LITERALLY_ON_PAGE))
def test_quote_is_on_its_page(item):
    """Whitespace-insensitive, on raw PyMuPDF text; a tab-joined table row is checked cell by cell."""
    assert quote_on_page(item["quote"], page_text(item["file"], item["page"])), \
        f"{item['id']}: quote not on p.{item['page']} of {item['file']}"


@pytest.mark.parametrize("item", ANSWERABLE, ids=[it["id"] for it in ANSWERABLE])
def test_figures_are_printed_on_the_page(item):
    """The page shows each gold figure, or each input of a computed (multi) answer."""
    text = page_text(item["file"], item["page"])
    assert [n for n in support_figures(item) if not number_in_text(n, text)] == []


@pytest.mark.parametrize("item", known_defect(ANSWERABLE, NUMBER_NOT_IN_OWN_ANSWER))
def test_gold_answer_states_its_own_numbers(item):
    """The scorer reads each number's unit from the answer, so the answer must print it."""
    assert [n for n in item["numbers"] if not number_in_text(interpret(n, item["answer"]), item["answer"])] == []


# ---------------------------------------------------------------------------------------------
# composition

@pytest.mark.skipif(not DEV.exists(), reason="the shared dev set is not mounted")
def test_every_dev_item_is_copied_unchanged():
    gold = {it["id"]: it for it in GOLD_ITEMS}
    for dev in load(DEV):
        copied = dict(gold[dev["id"]])
        assert copied.pop("source") == "dev"
        assert copied == dev, dev["id"]


def test_dev_and_project_items_are_labelled():
    assert Counter(it["source"] for it in GOLD_ITEMS)["dev"] == 85
    assert all(not it["id"].startswith("y") for it in GOLD_ITEMS if it["source"] == "dev")


def test_project_items_cover_every_kind_and_language():
    assert len(PROJECT) >= 45
    kinds = Counter(it["kind"] for it in PROJECT)
    assert all(kinds[k] >= 5 for k in KINDS), kinds
    assert kinds["unanswerable"] >= 15
    langs = Counter(it["lang"] for it in PROJECT)
    assert all(langs[lang] >= 5 for lang in LANGS), langs
    assert {it["file"] for it in PROJECT if it["file"]} == {p.name for p in CORPUS.glob("*.pdf")}


def test_heldout_items_are_labelled_and_kept_apart():
    assert HELDOUT_ITEMS and all(it["source"] == "heldout" and it["id"].startswith("h") for it in HELDOUT_ITEMS)
    assert all(it["source"] != "heldout" for it in GOLD_ITEMS)


def test_no_question_is_asked_twice():
    questions = Counter(it["question"].strip() for it in ALL_ITEMS)
    assert [q for q, n in questions.items() if n > 1] == []

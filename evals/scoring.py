"""Deterministic scoring of one answer against one gold item, and the aggregate report.

Three outcomes, as in FinanceBench: "correct", "wrong", "refused". Scoring is **strict**: an
answerable item is correct when every gold figure is in the answer's *statement* — the answer in
its own words, without its citation line or quote (unit-aware, via ``ingest.numbers``) — and,
for answers that are names, every name part is; abstaining on it is "refused". An answerable
item answered but not correctly is **misstated**: a confident wrong figure, the worst outcome
for an analyst. For an unanswerable item (answer "NOT_IN_CORPUS") abstaining is the correct
answer; answering is wrong, and answering with a figure is also a hallucination.

The old *lenient* figure (the gold number anywhere in the display text, quote included) is kept
only as a diagnostic: a wrong figure stated beside a quote holding the right one passes it.

Gold ``numbers`` are printed without units; the gold ``answer`` gives them their unit
("994" in "994亿美元" means 9.94e10 USD), so "US$99.4 billion" is correct and "994亿元" is not.
"""
from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from ingest.numbers import Quantity, extract_quantities, number_in_text, parse_quantity

Outcome = Literal["correct", "wrong", "refused"]
PageTexts = Callable[[str, int], str]
NOT_IN_CORPUS = "NOT_IN_CORPUS"
HIT_KS = (1, 3, 5)


@dataclass(frozen=True)
class ItemScore:
    id: str
    kind: str
    lang: str
    outcome: Outcome
    abstained: bool
    cited_correct: bool          # a cited page holds the gold figures (inputs for multi items)
    hallucinated: bool           # unanswerable gold, answered with a figure
    missing: tuple[str, ...] = ()                          # gold figures/names not in the statement
    retrieval: dict[str, float] = field(default_factory=dict)  # page_hits(), if ranked pages given
    lenient_correct: bool = False   # diagnostic: gold figures anywhere in the display text (quote included)

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable"

    @property
    def misstated(self) -> bool:
        """An answerable item answered (not abstained) without the right figure."""
        return self.answerable and not self.abstained and self.outcome != "correct"


def is_answerable(gold: dict) -> bool:
    return gold["answer"] != NOT_IN_CORPUS


# ---------------------------------------------------------------------------------------------
# what the gold asks for

def _same_digits(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def interpret(number: str, gold_answer: str) -> Quantity:
    """The gold figure with the unit the gold answer prints it with.

    "120" with answer "120亿美元" -> 1.2e10 USD; "30.5" with "30.5–32.5亿美元" -> 3.05e9 USD
    (an endpoint of the range); a figure already carrying a unit ("20%-30%") is kept as is;
    a figure the answer does not print stays bare (matched on its digits).
    """
    needle = parse_quantity(number)
    if not needle.is_bare:
        return needle
    printed = extract_quantities(gold_answer)
    for q in printed:
        if q.kind not in ("period", "ordinal") and q.is_range == needle.is_range and \
                all(_same_digits(x, y) for x, y in zip(q.printed, needle.printed)):
            return q
    for q in printed:
        if q.is_range and not needle.is_range and any(_same_digits(x, needle.value) for x in q.printed):
            value = needle.value * q.scale
            return replace(q, value=value, low=value, high=value, is_range=False)
    return needle


def _normalise_name(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[\s\"'“”‘’《》「」『』·]", "", text)


def _head(answer: str) -> str:
    """The answer without its parenthetical remarks: "Alpha（环比12%）" -> "Alpha"."""
    return re.sub(r"[(（][^()（）]*[)）]", "", answer).strip()


def name_parts(gold: dict) -> list[str]:
    """Names the answer must contain, when the gold answer is a name rather than a figure.

    The answer is a name when its head holds no number at all; it is scored by its parts
    (甲公司、乙公司 … ; 原料价格及下游需求 -> 原料价格, 下游需求).
    """
    head = _head(gold["answer"])
    if not is_answerable(gold) or not head or extract_quantities(head):
        return []
    parts = re.split(r"[、，,;；/]|以及|及|和|与|\band\b", head)
    return [p.strip() for p in parts if _normalise_name(p)]


def missing_in_answer(gold: dict, answer_text: str) -> list[str]:
    """Gold figures and name parts the answer does not contain."""
    missing = [n for n in gold["numbers"] if not number_in_text(interpret(n, gold["answer"]), answer_text)]
    said = _normalise_name(answer_text)
    missing += [p for p in name_parts(gold) if _normalise_name(p) not in said]
    return missing


def states_a_figure(answer_text: str) -> bool:
    return any(q.kind == "figure" for q in extract_quantities(answer_text))


# ---------------------------------------------------------------------------------------------
# citations and retrieval

def _same_page(gold: dict, file: str, page: int) -> bool:
    return os.path.basename(file) == gold["file"] and int(page) == gold["page"]


def support_figures(gold: dict) -> list[str]:
    """What a supporting page must show: the inputs of a computed (multi) answer, else the figures."""
    return list(gold.get("inputs") or []) if gold["kind"] == "multi" else list(gold["numbers"])


def page_supports(gold: dict, page_text: str) -> bool:
    """Every support figure printed on the page (tables put the unit in a header, so digits
    are matched as printed) and every name part present."""
    figures = support_figures(gold)
    names = name_parts(gold)
    if not figures and not names:
        return False
    text = _normalise_name(page_text)
    return all(number_in_text(n, page_text) for n in figures) and all(_normalise_name(p) in text for p in names)


def cited_correctly(gold: dict, citations: Iterable[dict], page_texts: PageTexts | None) -> bool:
    """A citation names the gold page, or (given page texts) a page showing the gold figures."""
    if not is_answerable(gold):
        return False
    for c in citations:
        if _same_page(gold, c["file"], c["page"]):
            return True
        if page_texts is not None and page_supports(gold, page_texts(os.path.basename(c["file"]), int(c["page"]))):
            return True
    return False


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)      # whitespace never matters in PDF text


def quote_on_page(quote: str, page_text: str) -> bool:
    """The quote is on the page, ignoring whitespace; a tab-joined table row may be checked
    cell by cell (cells of one row need not be adjacent in the page's text)."""
    text = _squash(page_text)
    cells = [_squash(c) for c in quote.split("\t") if c.strip()]
    return bool(cells) and (_squash(quote) in text or all(c in text for c in cells))


def _holds_gold(gold: dict, file: str, page: int, page_texts: PageTexts | None) -> bool:
    if _same_page(gold, file, page):
        return True
    return page_texts is not None and bool(gold.get("quote")) and \
        quote_on_page(gold["quote"], page_texts(os.path.basename(file), int(page)))


def page_hits(gold: dict, ranked: list[tuple[str, int]], page_texts: PageTexts | None = None) -> dict[str, float]:
    """hit@1/3/5 and reciprocal rank of the gold page in ``ranked`` (file, page) pairs.

    With ``page_texts`` any page holding the gold quote counts too (abstracts repeat figures).
    Unanswerable items have no gold page: the result is empty.
    """
    if not is_answerable(gold):
        return {}
    rank = next((i for i, (file, page) in enumerate(ranked, start=1) if _holds_gold(gold, file, page, page_texts)), None)
    hits = {f"hit@{k}": float(rank is not None and rank <= k) for k in HIT_KS}
    return hits | {"rr": 1.0 / rank if rank else 0.0}


# ---------------------------------------------------------------------------------------------
# one item

def score_item(gold: dict, answer_text: str, abstained: bool, citations: list[dict],
               page_texts: PageTexts | None = None, ranked: list[tuple[str, int]] | None = None,
               statement: str | None = None) -> ItemScore:
    """Score one answer; ``citations`` are {file, page, quote} dicts, ``ranked`` retrieved pages.

    ``statement`` is the answer in its own words (``Answer.statement``); the outcome is decided
    on it alone. Without one (a system that only has a display text) the text is the statement.
    """
    said = answer_text if statement is None else statement
    retrieval = page_hits(gold, ranked, page_texts) if ranked is not None else {}
    base = dict(id=gold["id"], kind=gold["kind"], lang=gold["lang"], abstained=abstained, retrieval=retrieval)
    if not is_answerable(gold):
        if abstained:
            return ItemScore(outcome="correct", cited_correct=False, hallucinated=False, **base)
        return ItemScore(outcome="wrong", cited_correct=False, hallucinated=states_a_figure(said or answer_text), **base)
    cited = cited_correctly(gold, citations, page_texts)
    if abstained:
        return ItemScore(outcome="refused", cited_correct=cited, hallucinated=False, **base)
    missing = missing_in_answer(gold, said)
    lenient = not missing_in_answer(gold, f"{said}\n{answer_text}")
    outcome: Outcome = "wrong" if missing else "correct"
    return ItemScore(outcome=outcome, cited_correct=cited, hallucinated=False, missing=tuple(missing),
                     lenient_correct=lenient, **base)


# ---------------------------------------------------------------------------------------------
# the report

def _rate(count: int, total: int) -> float | None:
    return count / total if total else None


def _metrics(scores: list[ItemScore]) -> dict[str, float | int | None]:
    answerable = [s for s in scores if s.answerable]
    unanswerable = [s for s in scores if not s.answerable]
    with_retrieval = [s.retrieval for s in scores if s.retrieval]
    out: dict[str, float | int | None] = {
        "n": len(scores),
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
        "accuracy": _rate(sum(s.outcome == "correct" for s in scores), len(scores)),
        "answerable_accuracy": _rate(sum(s.outcome == "correct" for s in answerable), len(answerable)),
        "cited_and_correct": _rate(sum(s.outcome == "correct" and s.cited_correct for s in answerable), len(answerable)),
        "false_refusal_rate": _rate(sum(s.outcome == "refused" for s in answerable), len(answerable)),
        "misstated_rate": _rate(sum(s.misstated for s in answerable), len(answerable)),
        "lenient_accuracy": _rate(sum(s.lenient_correct for s in answerable), len(answerable)),
        "unanswerable_refusal_rate": _rate(sum(s.abstained for s in unanswerable), len(unanswerable)),
        "hallucination_rate": _rate(sum(s.hallucinated for s in unanswerable), len(unanswerable)),
    }
    for key in [f"hit@{k}" for k in HIT_KS]:
        out[key] = _rate(sum(r[key] for r in with_retrieval), len(with_retrieval)) if with_retrieval else None
    out["mrr"] = _rate(sum(r["rr"] for r in with_retrieval), len(with_retrieval)) if with_retrieval else None
    return out


def aggregate(scores: list[ItemScore]) -> dict:
    """Overall metrics and the same broken down by kind and by lang.

    accuracy counts a correct refusal of an unanswerable as correct; answerable_accuracy (strict),
    cited_and_correct, false_refusal_rate, misstated_rate and the diagnostic lenient_accuracy
    are over answerable items; refusal and
    hallucination rates over unanswerable ones; hit@k and MRR over items with a gold page
    that were given ranked pages. A rate with nothing to count is None.
    """
    def grouped(key: Callable[[ItemScore], str]) -> dict[str, dict]:
        groups: dict[str, list[ItemScore]] = {}
        for s in scores:
            groups.setdefault(key(s), []).append(s)
        return {name: _metrics(items) for name, items in sorted(groups.items())}

    return {"overall": _metrics(scores), "by_kind": grouped(lambda s: s.kind), "by_lang": grouped(lambda s: s.lang)}

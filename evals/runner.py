"""``yanbao eval``: run the gold set through retrieval and answering, score it, report it.

The eval library is built from ``evals/corpus`` into a per-user cache (incremental: vectors
are cached), so repeated runs and CI only pay for what changed.

``--corpus DIR`` evaluates against other PDFs of the same reports, e.g. a relaid copy from
``python -m evals.relayout DIR``: their library is cached apart (the name carries a hash of
DIR), pages are read from DIR, and each gold item's page becomes the page of DIR that prints
its quote (page numbers differ in a copy laid out anew; citations and retrieval are then also
credited by page content, as always).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import statistics
import sys
import time
from functools import lru_cache
from pathlib import Path

from .scoring import _squash, aggregate, is_answerable, quote_on_page, score_item

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
DEFAULT_GOLD = HERE / "gold" / "gold.jsonl"
THRESHOLDS = HERE / "thresholds.json"


def load_gold(path: str | Path | None = None) -> list[dict]:
    path = Path(path) if path else DEFAULT_GOLD
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def corpus_dir(corpus: str | Path | None = None) -> Path:
    return Path(corpus).resolve() if corpus else CORPUS


def _corpus_tag(corpus: str | Path | None) -> str:
    """"" for evals/corpus, else a short hash of the folder: its library is kept apart."""
    path = corpus_dir(corpus)
    return "" if path == CORPUS else "-corpus-" + hashlib.sha1(str(path).encode()).hexdigest()[:10]


@lru_cache(maxsize=None)
def _pages(corpus: str, file: str) -> tuple[str, ...]:
    import pymupdf
    path = Path(corpus) / file
    if not path.exists():
        return ()
    with pymupdf.open(path) as doc:
        return tuple(page.get_text() for page in doc)


def _page_text(file: str, page: int, corpus: str | Path | None = None) -> str:
    pages = _pages(str(corpus_dir(corpus)), file)
    return pages[page - 1] if 1 <= page <= len(pages) else ""


def page_texts(corpus: str | Path | None = None):
    """``(file, page) -> text`` of the PDFs in ``corpus`` (default evals/corpus)."""
    path = corpus_dir(corpus)
    return _page_text if path == CORPUS else lambda file, page: _page_text(file, page, path)


def _runs_over(quote: str, page: str, next_page: str) -> bool:
    """The quote begins on ``page`` and ends on ``next_page`` (a footer may sit between)."""
    k = next((k for k in range(len(quote) - 1, 0, -1) if quote[:k] in page), 0)
    return k > 0 and quote[k:] in next_page


def quote_page(item: dict, corpus: str | Path | None) -> int | None:
    """The page of ``corpus``'s copy of the item's report that prints its gold quote.

    Of several such pages, the one at about the same place in the report as the gold page.
    A quote a page break cuts counts for the page it starts on; a table row split by one, for
    the page with most of its cells. A markdown escape in a quote ("\\$6.155") is not printed.
    None if no page has it."""
    pages = _pages(str(corpus_dir(corpus)), item["file"])
    quote = re.sub(r"\\(?=[^\w\s])", "", item["quote"])
    hits = [i for i, text in enumerate(pages, start=1) if quote_on_page(quote, text)]
    if not hits and pages:
        squashed = [_squash(t) for t in pages]
        cells = [_squash(c) for c in quote.split("\t") if c.strip()]
        if len(cells) == 1:
            hits = [i for i in range(1, len(pages)) if _runs_over(cells[0], squashed[i - 1], squashed[i])]
        else:
            found = [sum(c in t for c in cells) for t in squashed]
            hits = [i for i, n in enumerate(found, start=1) if n and n == max(found)]
    if not hits:
        return None
    original = len(_pages(str(CORPUS), item["file"])) or len(pages)
    where = item["page"] / original * len(pages)
    return min(hits, key=lambda p: (abs(p - where), p))


def relocate_gold(gold: list[dict], corpus: str | Path | None) -> list[dict]:
    """Gold items with their pages in ``corpus`` (unchanged for evals/corpus); the page in
    evals/corpus is kept as ``corpus_page``. An item whose quote is on no page gets page None:
    only a page showing its figures credits a citation then."""
    if corpus_dir(corpus) == CORPUS:
        return gold
    out = []
    for g in gold:
        if is_answerable(g) and g.get("file") and g.get("quote"):
            g = {**g, "page": quote_page(g, corpus), "corpus_page": g["page"]}
        out.append(g)
    return out


def eval_library_path(embedder: str, corpus: str | Path | None = None) -> Path:
    tag = _corpus_tag(corpus)
    base = os.environ.get("YANBAO_EVAL_LIBRARY")
    if base:
        return Path(base + tag)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "yanbao" / f"eval-library-{Path(embedder).name}{tag}"


def open_library(library: str | None, embedder: str, quiet: bool = False, llm: str = "none",
                 corpus: str | Path | None = None):
    """The library to evaluate; the eval library is (re)built from the corpus if needed."""
    from qa import Config, Library
    path = Path(library) if library else eval_library_path(embedder, corpus)
    lib = Library(path, Config.load(library=path, embedder=embedder, llm=llm))
    if not library:
        report = lib.ingest([corpus_dir(corpus)])
        if not quiet:
            print(f"eval library {path}: {report}", file=sys.stderr)
    return lib


def ranked_pages(hits) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for h in hits:
        for p in h.chunk.pages:
            if (h.chunk.file, p) not in out:
                out.append((h.chunk.file, p))
    return out


def run_retrieval(lib, gold: list[dict], mode: str, texts=_page_text) -> dict:
    from .scoring import page_hits
    rows, latencies = [], []
    for g in gold:
        if g.get("answer") == "NOT_IN_CORPUS" or not g.get("file"):
            continue
        t = time.perf_counter()
        hits = lib.index.search(g["question"], k=8, mode=mode)
        latencies.append(time.perf_counter() - t)
        r = page_hits(g, ranked_pages(hits), texts)
        rows.append({"id": g["id"], "kind": g["kind"], "lang": g["lang"], **r})

    def summary(items):
        n = len(items)
        return {"n": n, **{k: round(sum(i[k] for i in items) / n, 3) for k in ("hit@1", "hit@3", "hit@5", "rr")}} if n else {}
    by = lambda key: {v: summary([r for r in rows if r[key] == v]) for v in sorted({r[key] for r in rows})}
    return {"mode": mode, "overall": summary(rows), "by_kind": by("kind"), "by_lang": by("lang"),
            "latency_ms": _latency(latencies), "items": rows}


def _latency(values: list[float]) -> dict:
    if not values:
        return {}
    v = sorted(values[1:] or values)  # the first query warms up
    return {"p50": round(1000 * statistics.median(v), 1), "p95": round(1000 * v[int(0.95 * (len(v) - 1))], 1)}


def run_answers(answer_fn, gold: list[dict], texts=_page_text) -> dict:
    """``answer_fn(question) -> (text, abstained, citations[dict], ranked_pages)``; ``texts``
    reads the pages that citations and retrieved pages name."""
    scores, items, latencies = [], [], []
    for g in gold:
        t = time.perf_counter()
        text, abstained, citations, ranked = answer_fn(g["question"])
        latencies.append(time.perf_counter() - t)
        s = score_item(g, text, abstained, citations, texts, ranked)
        scores.append(s)
        items.append({"id": g["id"], "kind": g["kind"], "question": g["question"], "gold": g["answer"],
                      "answer": text, "abstained": abstained, "citations": citations,
                      "outcome": s.outcome, "cited_correct": s.cited_correct, "hallucinated": s.hallucinated,
                      "seconds": round(latencies[-1], 3)})
    # dev items were looked at while building; project items ("y…") were not: report both
    by_source = {}
    for source in sorted({g.get("source", "dev") for g in gold}):
        subset = [s for s, g in zip(scores, gold) if g.get("source", "dev") == source]
        by_source[source] = aggregate(subset)["overall"]
    return {"summary": aggregate(scores), "by_source": by_source, "latency_ms": _latency(latencies), "items": items}


def yanbao_answer_fn(lib):
    def fn(question: str):
        ans = lib.ask(question)
        cites = [{"file": c.file, "page": c.page, "quote": c.quote} for c in ans.citations]
        ranked = [(e["file"], p) for e in ans.evidence for p in e["pages"]]
        return ans.text, ans.abstained, cites, list(dict.fromkeys(ranked))
    return fn


def _fmt(x) -> str:
    return "  -  " if x is None else f"{x:5.3f}"


def print_summary(title: str, summary: dict) -> None:
    keys = ["n", "answerable_accuracy", "cited_and_correct", "unanswerable_refusal_rate", "hallucination_rate",
            "hit@1", "hit@5", "mrr"]
    print(f"\n{title}")
    print(f"  {'group':<14}" + "".join(f"{k[:12]:>13}" for k in keys))
    rows = [("overall", summary["overall"])] + [(f"kind:{k}", v) for k, v in summary["by_kind"].items()] + \
           [(f"lang:{k}", v) for k, v in summary["by_lang"].items()]
    for name, m in rows:
        print(f"  {name:<14}" + "".join(f"{m[k]:>13}" if k == "n" else f"{_fmt(m[k]):>13}" for k in keys))


def print_sources(by_source: dict) -> None:
    for source, m in by_source.items():
        print(f"  source:{source:<7} n={m['n']:<4} answerable {_fmt(m['answerable_accuracy'])}  cited&correct "
              f"{_fmt(m['cited_and_correct'])}  refused-unanswerable {_fmt(m['unanswerable_refusal_rate'])}  "
              f"hallucination {_fmt(m['hallucination_rate'])}")


def check_gate(report: dict, thresholds: dict) -> list[str]:
    """Ratchet: every checked-in floor must still be met."""
    failures = []
    for dotted, floor in thresholds.items():
        node = report
        for part in dotted.split("."):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        value = node if isinstance(node, (int, float)) else None
        ceiling = dotted.endswith("hallucination_rate")
        if value is None or (value > floor if ceiling else value < floor):
            failures.append(f"{dotted}: {value} {'>' if ceiling else '<'} {floor}")
    return failures


def main(args) -> int:
    gold = load_gold(args.gold)
    if args.limit:
        gold = gold[: args.limit]
    embedder = args.embedder or "embeddinggemma"
    corpus = corpus_dir(getattr(args, "corpus", None))
    texts = page_texts(corpus)
    gold = relocate_gold(gold, corpus)
    lib = open_library(args.library, embedder, llm=getattr(args, "llm", None) or "none", corpus=corpus)
    report: dict = {"gold": str(args.gold or DEFAULT_GOLD), "n_items": len(gold), "embedder": lib.index.embedder.name,
                    "corpus": str(corpus), "config": lib.config.to_dict(), "retrieval": {}}
    if corpus != CORPUS:
        lost = [g["id"] for g in gold if "corpus_page" in g and g["page"] is None]
        print(f"corpus {corpus}" + (f" (gold quotes on no page: {', '.join(lost)})" if lost else ""))
    for mode in args.modes.split(","):
        r = run_retrieval(lib, gold, mode.strip(), texts)
        report["retrieval"][mode] = r
        o = r["overall"]
        print(f"retrieval {mode:<7} hit@1 {o['hit@1']:.3f}  hit@3 {o['hit@3']:.3f}  hit@5 {o['hit@5']:.3f}  "
              f"MRR {o['rr']:.3f}  p50 {r['latency_ms'].get('p50')} ms  p95 {r['latency_ms'].get('p95')} ms")
        for k, v in r["by_kind"].items():
            print(f"    {k:<8} n={v['n']:<3} hit@5 {v['hit@5']:.3f}  MRR {v['rr']:.3f}")
        for k, v in r["by_lang"].items():
            print(f"    {k:<8} n={v['n']:<3} hit@5 {v['hit@5']:.3f}  MRR {v['rr']:.3f}")
    if not args.retrieval_only:
        report["yanbao"] = run_answers(yanbao_answer_fn(lib), gold, texts)
        print_summary(f"yanbao (mode {lib.config.llm}, latency p50 {report['yanbao']['latency_ms'].get('p50')} ms)",
                      report["yanbao"]["summary"])
        print_sources(report["yanbao"]["by_source"])
        if args.baseline:
            from .baseline import NaiveRag
            base = NaiveRag(corpus, lib.index.embedder)
            report["baseline"] = run_answers(base.answer, gold, texts)
            print_summary("baseline: naive LangChain RAG (page text, RecursiveCharacterTextSplitter, FAISS)",
                          report["baseline"]["summary"])
            print_sources(report["baseline"]["by_source"])
    out = Path(args.report) if args.report else Path("artifacts") / "eval-report.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str))
    print(f"\nreport: {out}")
    if args.gate:
        floors = json.loads(THRESHOLDS.read_text())
        failures = check_gate(report, floors)
        for f in failures:
            print(f"GATE FAILED {f}", file=sys.stderr)
        return 1 if failures else 0
    return 0

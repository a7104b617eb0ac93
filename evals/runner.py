"""``yanbao eval``: run gold sets through retrieval and answering, score them, report them.

Named sets (``--sets``): ``gold`` (tuned on: not a measure of generalisation), ``heldout`` and
``paraphrase`` (rewordings of the gold questions, written without reading the answering code),
``realworld-dev`` (real broker PDFs, kept out of git: their folder is ``YANBAO_REALWORLD_DIR`` or
``~/.cache/yanbao/realworld-dev``; the set is skipped when it is absent). Scoring is strict: the
figure the answer *states* (``Answer.statement``), with misstated answers counted.

``--neutral-names`` asks everything again over a copy of each corpus whose files are named
``report-01.pdf`` …: broker, title, date and entities must come from the content, never the file
name. The CI gate runs that way.

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
import shutil
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
GOLD_SETS = {
    "gold": HERE / "gold" / "gold.jsonl",
    "heldout": HERE / "gold" / "heldout.jsonl",
    # a second unseen set over the sample reports, written by someone who read neither the
    # answering code nor the other sets; scored as aggregates only
    "heldout2": HERE / "gold" / "heldout2.jsonl",
    "paraphrase": HERE / "gold" / "paraphrase.jsonl",
    "realworld-dev": HERE / "gold" / "realworld_dev.jsonl",
    # new questions over the sample reports (figures no other set asks), written without reading
    # the answering code; a development set: its items are read for error analysis
    "corpus-dev": HERE / "gold" / "corpus_dev.jsonl",
    # questions over eight other real broker PDFs (gold/realworld_heldout_sources.json says where
    # each comes from), written without reading the answering code; scored as aggregates only
    "realworld-heldout": HERE / "gold" / "realworld_heldout.jsonl",
    # questions over ten more real broker PDFs of other brokers and layouts (sources in
    # gold/realworld_dev2_sources.json), written without reading the answering code; a
    # development set whose PDFs no rule was written on before it was added
    "realworld-dev2": HERE / "gold" / "realworld_dev2.jsonl",
}
# over PDFs that may not be committed: each set's folder, see realworld_dir()
REAL_PDF_SETS = {"realworld-dev": "realworld-dev", "realworld-heldout": "realworld-heldout",
                 "realworld-dev2": "realworld-dev2"}


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "yanbao"


def realworld_dir(name: str = "realworld-dev") -> Path:
    """Where the real broker PDFs of a real-PDF set are kept (never in git):
    ``$YANBAO_REALWORLD_DIR`` (realworld-dev) or ``$YANBAO_REALWORLD_HELDOUT_DIR``, else the
    set's folder in the per-user cache."""
    folder = REAL_PDF_SETS[name]
    env = "YANBAO_" + folder.upper().replace("-", "_").replace("_DEV", "") + "_DIR"
    return Path(os.environ.get(env) or cache_root() / folder)


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


def neutral_copy(corpus: str | Path | None) -> tuple[Path, dict[str, str]]:
    """A copy of the corpus's PDFs named ``report-01.pdf`` … in the order of their content
    hashes, so a name says nothing about broker, date or subject; and the renaming map.
    Kept in the per-user cache under a name derived from the content (its library and vectors
    are reused by later runs and other clones)."""
    from ingest.parser import file_sha256
    src = corpus_dir(corpus)
    hashes = {p: file_sha256(p) for p in src.glob("*.pdf")}
    pdfs = sorted(hashes, key=hashes.get)
    # named by content, not by path: a fresh clone (CI) reuses the copy, its library and vectors
    out = cache_root() / f"neutral-{hashlib.sha1(''.join(sorted(hashes.values())).encode()).hexdigest()[:10]}"
    out.mkdir(parents=True, exist_ok=True)
    mapping = {p.name: f"report-{i:02d}.pdf" for i, p in enumerate(pdfs, start=1)}
    wanted = set(mapping.values())
    for stale in out.glob("*.pdf"):
        if stale.name not in wanted:
            stale.unlink()
    for p in pdfs:
        target = out / mapping[p.name]
        if not target.exists() or target.stat().st_size != p.stat().st_size:
            tmp = target.with_suffix(".part")
            shutil.copyfile(p, tmp)
            tmp.replace(target)
    return out, mapping


def rename_gold(gold: list[dict], mapping: dict[str, str]) -> list[dict]:
    return [{**g, "file": mapping.get(g["file"], g["file"])} if g.get("file") else g for g in gold]


def eval_library_path(embedder: str, corpus: str | Path | None = None) -> Path:
    tag = _corpus_tag(corpus)
    base = os.environ.get("YANBAO_EVAL_LIBRARY")
    if base:
        return Path(base + tag)
    return cache_root() / f"eval-library-{Path(embedder).name}{tag}"


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
    """``answer_fn(question) -> (text, abstained, citations[dict], ranked_pages[, statement])``;
    ``texts`` reads the pages that citations and retrieved pages name. A system that returns
    no statement is scored on its whole text (as strictly as the text allows)."""
    scores, items, latencies = [], [], []
    for g in gold:
        t = time.perf_counter()
        text, abstained, citations, ranked, *rest = answer_fn(g["question"])
        statement = rest[0] if rest else None
        latencies.append(time.perf_counter() - t)
        s = score_item(g, text, abstained, citations, texts, ranked, statement=statement)
        scores.append(s)
        items.append({"id": g["id"], "kind": g["kind"], "lang": g["lang"], "question": g["question"],
                      "gold": g["answer"], "statement": statement, "answer": text, "abstained": abstained,
                      "citations": citations, "outcome": s.outcome, "misstated": s.misstated,
                      "lenient_correct": s.lenient_correct, "cited_correct": s.cited_correct,
                      "hallucinated": s.hallucinated, "seconds": round(latencies[-1], 3)})
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
        return ans.text, ans.abstained, cites, list(dict.fromkeys(ranked)), ans.statement
    return fn


def _fmt(x) -> str:
    return "  -  " if x is None else f"{x:5.3f}"


SUMMARY_KEYS = ["n", "answerable_accuracy", "misstated_rate", "cited_and_correct", "unanswerable_refusal_rate",
                "hallucination_rate", "lenient_accuracy", "hit@5", "mrr"]
SUMMARY_HEAD = ["n", "strict acc", "misstated", "cited&corr", "refused-U", "halluc-U", "(lenient)", "hit@5", "MRR"]


def print_summary(title: str, summary: dict) -> None:
    print(f"\n{title}")
    print(f"  {'group':<14}" + "".join(f"{k:>11}" for k in SUMMARY_HEAD))
    rows = [("overall", summary["overall"])] + [(f"kind:{k}", v) for k, v in summary["by_kind"].items()] + \
           [(f"lang:{k}", v) for k, v in summary["by_lang"].items()]
    for name, m in rows:
        print(f"  {name:<14}" + "".join(f"{m[k]:>11}" if k == "n" else f"{_fmt(m[k]):>11}" for k in SUMMARY_KEYS))


def print_sources(by_source: dict) -> None:
    for source, m in by_source.items():
        print(f"  source:{source:<10} n={m['n']:<4} strict {_fmt(m['answerable_accuracy'])}  misstated "
              f"{_fmt(m['misstated_rate'])}  cited&correct {_fmt(m['cited_and_correct'])}  refused-unanswerable "
              f"{_fmt(m['unanswerable_refusal_rate'])}  hallucination {_fmt(m['hallucination_rate'])}")


def print_scoreboard(report: dict) -> None:
    """One line per set and system: the headline of the whole run."""
    print(f"\nscoreboard (strict: the figure the answer states; neutral names: {report['neutral_names']})")
    print(f"  {'set':<14}{'system':<10}" + "".join(f"{k:>11}" for k in SUMMARY_HEAD))
    for name, r in report["sets"].items():
        if "skipped" in r:
            print(f"  {name:<14}skipped: {r['skipped']}")
            continue
        for system in ("yanbao", "baseline"):
            if system in r:
                m = r[system]["summary"]["overall"]
                print(f"  {name:<14}{system:<10}" + "".join(
                    f"{m[k]:>11}" if k == "n" else f"{_fmt(m[k]):>11}" for k in SUMMARY_KEYS))


CEILINGS = ("hallucination_rate", "misstated_rate")   # lower is better: the floor is a ceiling


def check_gate(report: dict, thresholds: dict) -> list[str]:
    """Ratchet: every checked-in floor (or ceiling, for error rates) must still be met."""
    failures = []
    for dotted, floor in thresholds.items():
        node = report
        for part in dotted.split("."):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        value = node if isinstance(node, (int, float)) else None
        ceiling = dotted.endswith(CEILINGS)
        if value is None or (value > floor if ceiling else value < floor):
            failures.append(f"{dotted}: {value} {'>' if ceiling else '<'} {floor}")
    return failures


def gate_floors() -> dict:
    """``{"neutral_names": bool, "sets": {set: {metric: floor}}}`` from evals/thresholds.json."""
    return json.loads(THRESHOLDS.read_text())


def check_gates(report: dict, floors: dict) -> list[str]:
    """Every gated set's floors against its part of a multi-set report."""
    failures = []
    for name, thresholds in floors["sets"].items():
        part = report.get("sets", {}).get(name)
        if part is None or "skipped" in part:
            failures.append(f"{name}: not evaluated")
            continue
        failures += [f"{name}: {f}" for f in check_gate(part, thresholds)]
    return failures


def set_items(name: str, args) -> tuple[list[dict], Path | None, str]:
    """A named set's items and the corpus it asks about; a reason instead when it cannot run."""
    path = GOLD_SETS[name]
    if not path.exists():
        return [], None, f"{path.name} is missing"
    corpus = realworld_dir(name) if name in REAL_PDF_SETS else corpus_dir(getattr(args, "corpus", None))
    gold = load_gold(path)
    if name in REAL_PDF_SETS:
        absent = sorted({g["file"] for g in gold if g.get("file") and not (corpus / g["file"]).exists()})
        if absent:
            return [], None, f"{len(absent)} of its PDFs are not in {corpus} (see shared/evals/realworld-dev)"
    return gold, corpus, ""


def evaluate(gold: list[dict], corpus: Path, args, neutral: bool, embedder: str, quiet: bool = False) -> dict:
    """Retrieval and answers for one set of items over one corpus (and the baseline if asked)."""
    if args.limit:
        gold = gold[: args.limit]
    gold = relocate_gold(gold, corpus)
    lost = [g["id"] for g in gold if "corpus_page" in g and g["page"] is None]
    if neutral:
        corpus, mapping = neutral_copy(corpus)
        gold = rename_gold(gold, mapping)
    texts = page_texts(corpus)
    lib = open_library(getattr(args, "library", None), embedder, llm=getattr(args, "llm", None) or "none",
                       corpus=corpus, quiet=quiet)
    out: dict = {"n_items": len(gold), "corpus": str(corpus), "embedder": lib.index.embedder.name,
                 "config": lib.config.to_dict(), "quotes_on_no_page": lost, "retrieval": {}}
    for mode in args.modes.split(","):
        r = run_retrieval(lib, gold, mode.strip(), texts)
        out["retrieval"][mode] = r
        o = r["overall"]
        if o and not quiet:
            print(f"retrieval {mode:<7} hit@1 {o['hit@1']:.3f}  hit@3 {o['hit@3']:.3f}  hit@5 {o['hit@5']:.3f}  "
                  f"MRR {o['rr']:.3f}  p50 {r['latency_ms'].get('p50')} ms  p95 {r['latency_ms'].get('p95')} ms")
    if not args.retrieval_only:
        out["yanbao"] = run_answers(yanbao_answer_fn(lib), gold, texts)
        if not quiet:
            print_summary(f"yanbao (mode {lib.config.llm}, latency p50 {out['yanbao']['latency_ms'].get('p50')} ms)",
                          out["yanbao"]["summary"])
            print_sources(out["yanbao"]["by_source"])
        if args.baseline:
            from .baseline import NaiveRag
            base = NaiveRag(corpus, lib.index.embedder)
            out["baseline"] = run_answers(base.answer, gold, texts)
            if not quiet:
                print_summary("baseline: naive LangChain RAG (page text, RecursiveCharacterTextSplitter, FAISS)",
                              out["baseline"]["summary"])
    return out


def main(args) -> int:
    floors = gate_floors() if args.gate else None
    neutral = bool(args.neutral_names or (floors and floors.get("neutral_names")))
    if args.gold:
        named = {Path(args.gold).stem: None}
    else:
        names = args.sets.split(",") if args.sets else list(floors["sets"]) if floors else ["gold"]
        unknown = [n for n in names if n not in GOLD_SETS]
        if unknown:
            print(f"error: unknown set(s) {', '.join(unknown)}; known: {', '.join(GOLD_SETS)}", file=sys.stderr)
            return 2
        named = dict.fromkeys(names)
    embedder = args.embedder or "embeddinggemma"
    report: dict = {"embedder": embedder, "neutral_names": neutral, "llm": getattr(args, "llm", None) or "none",
                    "sets": {}}
    for name in named:
        if args.gold:
            gold, corpus, why = load_gold(args.gold), corpus_dir(getattr(args, "corpus", None)), ""
        else:
            gold, corpus, why = set_items(name, args)
        if why:
            print(f"\n=== {name}: skipped ({why})")
            report["sets"][name] = {"skipped": why}
            continue
        print(f"\n=== {name}: {len(gold[: args.limit] if args.limit else gold)} items over {corpus}"
              + (" (neutral file names)" if neutral else ""))
        report["sets"][name] = evaluate(gold, corpus, args, neutral, embedder)
    print_scoreboard(report)
    out = Path(args.report) if args.report else Path("artifacts") / "eval-report.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str))
    print(f"\nreport: {out}")
    if floors:
        failures = check_gates(report, floors)
        for f in failures:
            print(f"GATE FAILED {f}", file=sys.stderr)
        return 1 if failures else 0
    return 0

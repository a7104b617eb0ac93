"""The ``yanbao`` command line: parse, ingest, ask, remove, eval, ui, doctor, models."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _cmd_parse(args) -> int:
    from ingest import IngestError, chunk_document, parse
    from ingest.render import to_json, to_markdown
    status = 0
    for path in args.files:
        try:
            doc = parse(path, ocr=not args.no_ocr)
        except IngestError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
            continue
        if args.chunks:
            for c in chunk_document(doc):
                print(json.dumps(c.to_dict(), ensure_ascii=False))
        elif args.json:
            print(to_json(doc))
        else:
            print(to_markdown(doc, show_boilerplate=args.boilerplate))
    return status


def _cmd_models(args) -> int:
    from index import provision
    return provision.main(args.names)


def _cmd_doctor(args) -> int:
    from qa.doctor import run_doctor
    return run_doctor(load=not args.no_load)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--library", help="library directory (default: $YANBAO_LIBRARY or ~/.local/share/yanbao/library)")
    p.add_argument("--config", help="a yanbao.toml")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="yanbao", description="Cited answers from Chinese broker research PDFs, offline.")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="show what the parser extracts from PDFs")
    p.add_argument("files", nargs="+")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true", help="the full Document as JSON")
    g.add_argument("--markdown", action="store_true", help="readable Markdown (default)")
    g.add_argument("--chunks", action="store_true", help="the retrieval chunks, one JSON per line")
    p.add_argument("--boilerplate", action="store_true", help="also show headers/footers/disclaimers (struck through)")
    p.add_argument("--no-ocr", action="store_true")
    p.set_defaults(func=_cmd_parse)

    p = sub.add_parser("models", help="provision the offline models into the per-user cache")
    p.add_argument("names", nargs="*", help="model names (default: all)")
    p.set_defaults(func=_cmd_models)

    p = sub.add_parser("doctor", help="what is installed, where, and whether it loads offline")
    p.add_argument("--no-load", action="store_true", help="only check files, do not load models")
    p.set_defaults(func=_cmd_doctor)

    _register_later_stages(sub)
    return ap


def _register_later_stages(sub) -> None:
    """Commands of the index/qa/evals/ui stages; each imports its stage lazily."""
    try:
        from qa.commands import register
    except ImportError:
        return
    register(sub, _add_common)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except Exception as exc:
        # library-level problems get one clear line, not a traceback
        if type(exc).__name__ in ("LibraryBusy", "EmbedderMismatch", "LibraryMissing", "LibraryCorrupt",
                                  "EmbedderUnavailable", "LlmUnavailable", "ProvisionError"):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `yanbao parse x.pdf | head`
        return 0


if __name__ == "__main__":
    raise SystemExit(main())

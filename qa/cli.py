"""The ``yanbao`` command line: parse, ingest, ask, remove, eval, ui, doctor, models.

Every failure is one line on stderr (``error: …``) and a non-zero exit: 2 for a problem the
user can act on (a damaged or busy library, a bad argument), 1 for an unexpected error.
``--debug`` shows the traceback instead.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from qa.terminal import CommandError, json_safe, one_line, plain

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
            print(f"error: {one_line(exc)}", file=sys.stderr)
            status = 1
            continue
        if args.chunks:
            for c in chunk_document(doc):
                print(json_safe(json.dumps(c.to_dict(), ensure_ascii=False)))
        elif args.json:
            print(json_safe(to_json(doc)))
        else:   # PDF text may carry escape sequences: never hand them to the terminal
            print(plain(to_markdown(doc, show_boilerplate=args.boilerplate)))
    return status


def _cmd_models(args) -> int:
    from index import provision
    from qa.config import Config
    exports = args.export
    if exports is None:    # the configured backend, when it is an exported one
        backend = Config.load(args.config).embed_backend
        exports = [backend] if backend != "torch" and not args.names else []
    return provision.main(args.names, exports=exports)


def _cmd_doctor(args) -> int:
    from qa.doctor import run_doctor, run_library_doctor
    if args.library or args.repair:
        from qa.config import Config
        cfg = Config.load(args.config, library=args.library)
        return run_library_doctor(cfg.library, repair=args.repair, embedder=args.embedder, config=cfg)
    return run_doctor(load=not args.no_load)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--library", help="library directory (default: $YANBAO_LIBRARY or ~/.local/share/yanbao/library)")
    p.add_argument("--config", help="a yanbao.toml")


class _Parser(argparse.ArgumentParser):
    """Usage errors are one line too; the full usage is one ``--help`` away."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="yanbao", description="Cited answers from Chinese broker research PDFs, offline.")
    ap.add_argument("--debug", action="store_true", help="on failure, show the traceback, not one line")
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
    p.add_argument("--export", action="append", choices=["openvino", "openvino-int8", "onnx-int8"],
                   help="export EmbeddingGemma for this backend, once (default: the configured embed_backend)")
    p.add_argument("--config", help="a yanbao.toml")
    p.set_defaults(func=_cmd_models)

    p = sub.add_parser("doctor", help="what is installed, where, and whether it loads offline; "
                                      "with --library: whether that library's files are sound")
    p.add_argument("--no-load", action="store_true", help="only check files, do not load models")
    _add_common(p)
    p.add_argument("--repair", action="store_true",
                   help="rebuild what is damaged from the library's stored PDFs (the vector cache is recreated)")
    p.add_argument("--embedder", help="rebuild with this embedder (default: the one that built the library)")
    p.set_defaults(func=_cmd_doctor)

    _register_later_stages(sub)
    for p in sub.choices.values():   # `yanbao ask … --debug` works as well as `yanbao --debug ask …`
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return ap


def _register_later_stages(sub) -> None:
    """Commands of the index/qa/evals/ui stages; each imports its stage lazily."""
    try:
        from qa.commands import register
    except ImportError:
        return
    register(sub, _add_common)


# Failures whose message already says what happened and what to do.
_EXPLAINED = ("LibraryBusy", "LibraryMissing", "LibraryCorrupt", "EmbedderUnavailable", "LlmUnavailable",
              "ProvisionError", "IngestError")


def failure_message(exc: BaseException, args: argparse.Namespace | None = None) -> tuple[str, int]:
    """One line saying what failed and the way out, and the exit status."""
    import sqlite3
    name = type(exc).__name__
    if isinstance(exc, CommandError) or name in _EXPLAINED:
        return str(exc), 2
    if name == "EmbedderMismatch":
        return (f"{exc} From the command line, leave out --embedder to use the library's own, "
                "or ingest into another --library."), 2
    if isinstance(exc, PermissionError) or isinstance(exc, OSError) and exc.errno == 30:   # EROFS
        where = exc.filename or "a file"
        return (f"permission denied: {where} ({exc.strerror or exc}); "
                "ingest and remove need a writable library directory"), 2
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError) \
            or name == "RuntimeError" and "faiss" in str(exc).lower():
        root = _library_root(args)
        if root is not None:   # a file opened fine but broke later: find which one
            from index.health import damage_message
            return damage_message(root, exc), 2
        return f"a library file is damaged ({exc}): check it with `yanbao doctor --library DIR`", 2
    if isinstance(exc, UnicodeError):
        return f"text that is not valid UTF-8 ({exc}); check the terminal's or file's encoding", 2
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror or exc}: {exc.filename}", 2
    if isinstance(exc, ValueError):   # bad configuration or argument: its message says which
        return str(exc), 2
    return f"{name}: {exc} (unexpected: run again with --debug for the traceback)", 1


def _library_root(args) -> object:
    if args is None or "library" not in args:
        return None
    try:
        from qa.config import Config
        return Config.load(getattr(args, "config", None), library=args.library).library
    except Exception:  # noqa: BLE001 — only used to word a message
        return None


def _silence_stdout() -> None:
    """After a broken pipe (`yanbao parse x.pdf | head`), the interpreter's last flush of
    stdout must not fail again at exit."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:   # usage error (one line, printed) or --help: a status, for callers too
        return exc.code if isinstance(exc.code, int) else 0
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except Exception as exc:
        if getattr(args, "debug", False):
            raise
        message, status = failure_message(exc, args)
        print(f"error: {one_line(message)}", file=sys.stderr)
        return status


if __name__ == "__main__":
    raise SystemExit(main())

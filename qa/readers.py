"""Reading reports in parallel for ``Library.ingest``: parsing (PyMuPDF, OCR, fact extraction)
is CPU-bound and independent per report, so it fans out — over processes on this machine, or
as Ray tasks on a cluster — while the library write stays in the calling process (one writer,
atomic commits) and embedding stays there too (one model in memory, batched across reports).

Results come back in submission order, with at most a window of reports in flight, so a slow
writer never makes the readers pile up thousands of parsed reports in memory.
"""
from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ingest import IngestError, OcrBudget, chunk_document, parse
from ingest.facts import extract_facts
from index.query import fact_entities

from .config import Config

# reports read ahead of the writer per worker: enough to keep every worker busy while the
# parent embeds and commits, few enough to bound memory
READ_AHEAD_PER_WORKER = 4
# fewer reports than this are read here: starting worker processes costs more than it saves
MIN_REPORTS_FOR_PROCESSES = 4


def read_report(path: Path, name: str, ocr: bool, ocr_max_pages: int, ocr_max_seconds: float):
    """One report parsed, chunked and its facts extracted under library id ``name``:
    ``((meta, chunks, facts), "")``, or ``(None, why)`` when the file cannot be read (a bad
    file is reported, not raised: exceptions crossing process boundaries lose their type)."""
    try:
        doc = parse(path, ocr=ocr, ocr_budget=OcrBudget(ocr_max_pages, ocr_max_seconds))
    except IngestError as exc:
        return None, exc.detail
    doc.meta.file = name   # chunks and facts carry the id the library keeps the report under
    return (doc.meta, chunk_document(doc), extract_facts(doc, fact_entities)), ""


def worker_count(config: Config) -> int:
    return config.ingest_workers or os.cpu_count() or 1


class ReportReaders:
    """``map(fn, jobs)`` in order: in this process (one worker or one job), in a process pool,
    or as Ray tasks when ``config.ray`` names a cluster ("auto" or an address)."""

    def __init__(self, config: Config, jobs: int) -> None:
        self.ray_address = config.ray
        self.workers = worker_count(config)
        self._executor: ProcessPoolExecutor | None = None
        self._ray = None
        if self.ray_address:
            self._ray = _connect_ray(self.ray_address)
            self.workers = max(1, int(self._ray.cluster_resources().get("CPU", 1)))
        elif self.workers > 1 and jobs >= MIN_REPORTS_FOR_PROCESSES:
            # forkserver: workers fork from a clean server process, not from this one, which
            # may hold model threads (torch, OpenMP) that a plain fork would copy mid-lock
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
            self._executor = ProcessPoolExecutor(min(self.workers, jobs), mp_context=context)

    def __enter__(self) -> ReportReaders:
        return self

    def __exit__(self, *exc) -> None:
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)

    def map(self, fn: Callable, jobs: Iterable[tuple]) -> Iterator:
        if self._ray is not None:
            remote = self._ray.remote(fn)
            submit, result = (lambda args: remote.remote(*args)), self._ray.get
        elif self._executor is not None:
            submit, result = (lambda args: self._executor.submit(fn, *args)), (lambda f: f.result())
        else:
            yield from (fn(*args) for args in jobs)
            return
        yield from _in_order(submit, result, jobs, READ_AHEAD_PER_WORKER * self.workers)


def _in_order(submit: Callable, result: Callable, jobs: Iterable[tuple], window: int) -> Iterator:
    """Results of ``jobs`` in order, with at most ``window`` submitted and not yet returned."""
    pending: deque = deque()
    jobs = iter(jobs)
    for args in jobs:
        pending.append(submit(args))
        if len(pending) >= window:
            break
    while pending:
        value = result(pending.popleft())
        following = next(jobs, None)
        if following is not None:
            pending.append(submit(following))
        yield value


def _connect_ray(address: str):
    """Ray, connected to ``address`` ("auto": the cluster this machine belongs to). Ray is an
    optional dependency (``pip install 'yanbao[ray]'``), imported only when asked for."""
    try:
        import ray
    except ImportError:
        raise RuntimeError("ray = %r is configured but Ray is not installed: pip install 'yanbao[ray]'"
                           % address) from None
    if not ray.is_initialized():
        # the workers import this project's code: ship the packages when the cluster is remote
        root = Path(__file__).resolve().parents[1]
        modules = [str(root / package) for package in ("ingest", "index", "qa")]
        ray.init(address=address, runtime_env={"py_modules": modules}, ignore_reinit_error=True,
                 log_to_driver=False)
    return ray

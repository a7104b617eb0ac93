"""Scale benchmark of the index layer: a synthetic library grown to 10^3 … 10^6 chunks, per
backend — time to add one report against library size (incremental writes), the same for a
compaction of everything (what every write cost before segments: the baseline, measured in the
same run), query latency p50/p95, dense recall@10 against exact search, peak RSS and disk.

    python -m evals.bench_scale                                   # embedded to 10^6, Milvus Lite to 10^5
    python -m evals.bench_scale --sizes 1000,10000 --backends embedded --json out.json

Chunks are the sample corpus' chunks with entities and numbers perturbed (companies swapped
for invented ones, every figure redrawn), so BM25 sees report-like text and vocabulary; each
ends in a short unique tail (file, paragraph, a figure). jieba needs ~3 ms a chunk here (50
minutes for 10^6), so while the library is *grown* the tokens of a perturbed body are computed
once and reused (the tail is tokenized for real); the timed single-report writes tokenize
everything for real.
Vectors are synthetic (768-d like EmbeddingGemma, drawn around 2,000 random cluster centres so
that neighbours exist and approximate search has something to miss): fine for latency, not a
measure of retrieval quality. Each backend runs in its own process (its own peak RSS). A
script, not a test: numbers depend on the machine.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from evals.bench_index import percentile  # noqa: E402

CORPUS = Path(__file__).parent / "corpus"
REPORT_CHUNKS = 60          # a broker report is ~60 chunks (600,000 chunks per 10,000 reports)
DIM = 768
CLUSTERS = 2_000
SYLLABLES = "星河青岚北辰云杉泰和远帆墨石金穗海纳天衡启明鼎新华越瑞丰中恒博远卓信凯盛"
SUFFIXES = ["科技", "能源", "半导体", "医药", "物流", "汽车", "软件", "云", "智能", "电子"]
BROKERS = ["甲乙证券", "丙丁证券", "戊己证券", "庚辛证券", "壬癸证券"]


class SyntheticEmbedder:
    """768-d unit vectors around fixed random centres; a text's centre comes from its hash."""

    name = "synthetic-768"
    spec = "synthetic-768"
    dim = DIM

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        centres = rng.standard_normal((CLUSTERS, DIM)).astype(np.float32)
        self.centres = centres / np.linalg.norm(centres, axis=1, keepdims=True)
        self.rng = np.random.default_rng(1)

    def _vectors(self, texts, noise: float) -> np.ndarray:
        ids = [int.from_bytes(hashlib.blake2b(t.encode(), digest_size=4).digest(), "little") % CLUSTERS
               for t in texts]
        vectors = self.centres[ids] + noise * self.rng.standard_normal((len(texts), DIM)).astype(np.float32) / DIM ** .5
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)

    def embed_documents(self, texts):
        return self._vectors(list(texts), 1.0) if texts else np.zeros((0, DIM), np.float32)

    def embed_query(self, text):
        return self._vectors([text], 1.0)[0]


def corpus_templates() -> list[str]:
    """Chunk texts of the sample corpus (parsed without OCR)."""
    from ingest import chunk_document, parse
    texts = []
    for pdf in sorted(CORPUS.glob("*.pdf")):
        texts += [c.text for c in chunk_document(parse(pdf, ocr=False)) if len(c.text) > 40]
    return texts


def company_pattern() -> re.Pattern[str]:
    from index.text import ALIASES_FILE, read_synonym_table
    names = {n for row in read_synonym_table(ALIASES_FILE) for n in (row.canonical, *row.aliases) if len(n) >= 2}
    return re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))


TAIL = "｜"     # between a chunk's perturbed body and its unique tail
BODIES = 3_000  # distinct perturbed bodies


class ReportMaker:
    """Reports of REPORT_CHUNKS perturbed corpus chunks each."""

    def __init__(self, seed: int) -> None:
        self.templates = corpus_templates()
        self.companies = company_pattern()
        self.rng = random.Random(seed)
        self.made = 0
        self.bodies = [self._perturb(self.rng.choice(self.templates), self._company()) for _ in range(BODIES)]
        self._body_tokens: dict[str, list[str]] = {}

    def fast_tokenize(self, text: str) -> list[str]:
        """``index.text.tokenize`` with a body's tokens computed once (used while growing)."""
        from index.text import tokenize
        body, mark, tail = text.partition(TAIL)
        if not mark:
            return tokenize(text)
        if body not in self._body_tokens:
            self._body_tokens[body] = tokenize(body)
        return self._body_tokens[body] + tokenize(tail)

    def _company(self) -> str:
        return "".join(self.rng.sample(SYLLABLES, 2)) + self.rng.choice(SUFFIXES)

    def _perturb(self, text: str, company: str) -> str:
        text = self.companies.sub(company, text)
        return re.sub(r"\d+(\.\d+)?", lambda m: str(round(self.rng.uniform(1, 10 ** len(m.group(0).split(".")[0])),
                                                          1 if m.group(1) else None)), text)

    def report(self):
        from ingest.model import Chunk, DocumentMeta
        file = f"syn_{self.made:07d}.pdf"
        self.made += 1
        company = self._company()
        chunks = [Chunk(id=f"{file}#{i}", file=file, kind="text",
                        text=f"{self.rng.choice(self.bodies)}{TAIL}{company} 第{i + 1}段 "
                             f"{self.rng.uniform(1, 1000):.1f} 亿元 {file}",
                        pages=[i // 4 + 1], bboxes=[(i // 4 + 1, (50.0, 100.0, 500.0, 140.0))])
                  for i in range(REPORT_CHUNKS)]
        meta = DocumentMeta(file=file, sha256=file, broker=self.rng.choice(BROKERS),
                            date=f"2026-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}",
                            title=f"{company}：深度报告")
        return meta, chunks

    def query(self) -> str:
        return self._perturb(self.rng.choice(self.templates)[:30], self._company())


def directory_size(*paths: Path) -> int:
    """Bytes on disk, each hard-linked file once."""
    seen, total = set(), 0
    for root in paths:
        for p in ([root] if root.is_file() else root.rglob("*")):
            if p.is_file():
                st = p.stat()
                if (st.st_dev, st.st_ino) not in seen:
                    seen.add((st.st_dev, st.st_ino))
                    total += st.st_blocks * 512
    return total


def exact_recall(lib, queries: list[np.ndarray], k: int = 10) -> float:
    """recall@k of the library's dense search against brute force over every live vector."""
    import faiss

    from index.store import VectorCache
    generation = lib.current()
    cache = VectorCache(lib.layout.cache_path)
    exact = faiss.IndexFlatIP(DIM)
    rows: list[int] = []
    try:
        for segment in generation.segments:
            dead = set(generation.deleted_rows(segment).tolist())
            keys = segment.catalog.vector_keys()
            live = [i for i in range(len(keys)) if i not in dead]
            for start in range(0, len(live), 50_000):
                part = live[start:start + 50_000]
                exact.add(cache.get_many([keys[i] for i in part], DIM))
                rows += [segment.base + i for i in part]
    finally:
        cache.close()
    row_of = np.array(rows, dtype=np.int64)
    found = 0
    for vector in queries:
        _, truth = exact.search(vector[None, :], k)
        got = generation.index.dense_search(vector, k, None)
        found += len(set(row_of[truth[0]].tolist()) & set(got))
    return found / (k * len(queries))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_backend(backend: str, sizes: list[int], args) -> None:
    """Grow one library through ``sizes``, printing one JSON line per size."""
    import logging

    import index.library
    from index import Library
    from index.text import tokenize
    logging.disable(logging.WARNING)
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-scale-"))
    root = work / f"lib-{backend}"
    spec = str(work / "milvus.db") if backend == "milvus-lite" else "embedded"
    embedder = SyntheticEmbedder()
    lib = Library(root, embedder=embedder, backend=spec, show_progress=False, lock_timeout=None)
    maker = ReportMaker(seed=7)
    maker.made = len(lib.documents())          # a library grown before (--work) grows on
    size = len(lib)
    for target in sizes:
        if args.compact_first and size >= target:   # measure the library merged into one segment
            lib.compact()
        started = time.perf_counter()
        index.library.tokenize = maker.fast_tokenize
        while size < target:         # grow in bulk writes of at most 100k chunks
            batch = [maker.report() for _ in range(min(target - size, 100_000) // REPORT_CHUNKS or 1)]
            lib.add_documents(batch)
            size += len(batch) * REPORT_CHUNKS
        index.library.tokenize = tokenize
        grow_seconds = time.perf_counter() - started
        adds = []
        for _ in range(args.adds):
            started = time.perf_counter()
            lib.add_documents([maker.report()])
            adds.append(time.perf_counter() - started)
        size += args.adds * REPORT_CHUNKS
        texts = [maker.query() for _ in range(args.queries)]
        for text in texts[:3]:
            lib.search(text)                                   # warm-up
        latencies = {}
        for mode in ("hybrid", "dense", "bm25"):
            seconds = []
            for text in texts:
                started = time.perf_counter()
                lib.search(text, k=8, mode=mode)
                seconds.append(time.perf_counter() - started)
            latencies[mode] = seconds
        recall = exact_recall(lib, [embedder.embed_query(t) for t in texts]) if args.recall else None
        compact = None
        if target <= args.compact_max:                         # the baseline: rewrite everything
            started = time.perf_counter()
            lib.compact()
            compact = time.perf_counter() - started
        extra = [Path(spec)] if backend == "milvus-lite" and Path(spec).exists() else []
        row = {
            "backend": backend, "chunks": len(lib), "grow_s": round(grow_seconds, 1),
            "add_report_s": {"median": round(statistics.median(adds), 3), "max": round(max(adds), 3)},
            "compact_all_s": round(compact, 2) if compact is not None else None,
            "segments": len(lib.manifest["segments"]),
            "query_ms": {mode: {"p50": round(percentile(s, 0.5) * 1000, 1), "p95": round(percentile(s, 0.95) * 1000, 1)}
                         for mode, s in latencies.items()},
            "dense_recall_at_10": round(recall, 3) if recall is not None else None,
            "segment_indexes": sorted({s.get("faiss_factory", "milvus") for s in lib.manifest["segments"]}),
            "peak_rss_mb": round(peak_rss_mb()), "disk_mb": round(directory_size(root, *extra) / 1e6, 1),
        }
        print(json.dumps(row, ensure_ascii=False), flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--backends", default="embedded,milvus-lite")
    parser.add_argument("--milvus-max", type=int, default=10_000,
                        help="largest size tried on Milvus Lite (a pure-Python engine: ~6 s a hybrid query at 10^4)")
    parser.add_argument("--compact-max", type=int, default=100_000, help="largest size the baseline is timed at")
    parser.add_argument("--adds", type=int, default=5, help="single-report writes timed per size")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--no-recall", dest="recall", action="store_false")
    parser.add_argument("--work", help="where the libraries are built (default: a new temp dir); "
                                       "a library already there is grown on, not rebuilt")
    parser.add_argument("--compact-first", action="store_true",
                        help="with --work: merge an existing library into one segment before measuring")
    parser.add_argument("--json", help="also write every row to this JSON file")
    parser.add_argument("--one", help=argparse.SUPPRESS)       # internal: run one backend in this process
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.one:
        measure_backend(args.one, sizes, args)
        return 0
    rows = []
    for backend in args.backends.split(","):
        mine = [s for s in sizes if backend != "milvus-lite" or s <= args.milvus_max]
        skipped = [s for s in sizes if s not in mine]
        if skipped:
            print(f"{backend}: not run at {skipped} chunks (--milvus-max {args.milvus_max})", flush=True)
        command = [sys.executable, "-m", "evals.bench_scale", "--one", backend, "--sizes", ",".join(map(str, mine)),
                   "--adds", str(args.adds), "--queries", str(args.queries), "--compact-max", str(args.compact_max)]
        command += ["--work", args.work] if args.work else []
        command += [] if args.recall else ["--no-recall"]
        command += ["--compact-first"] if args.compact_first else []
        child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        for line in child.stdout:
            print(line, end="", flush=True)
            if line.startswith("{"):
                rows.append(json.loads(line))
        if child.wait() != 0:
            print(f"{backend}: stopped with exit code {child.returncode}", flush=True)
    summarize(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, ensure_ascii=False, indent=2))
    return 0


def summarize(rows: list[dict]) -> None:
    by = {(r["backend"], r["chunks"] // 1000 * 1000): r for r in rows}
    print("\nbackend       chunks     add report (median/max s)  compact all s  hybrid p50/p95 ms  "
          "dense p50 ms  recall@10  segments  peak RSS MB  disk MB")
    for r in rows:
        q = r["query_ms"]
        print(f"{r['backend']:<12} {r['chunks']:>9,}  {r['add_report_s']['median']:>8.3f} / {r['add_report_s']['max']:<8.3f}"
              f"      {r['compact_all_s'] if r['compact_all_s'] is not None else '-':>10}   "
              f"{q['hybrid']['p50']:>7.1f} / {q['hybrid']['p95']:<7.1f}  {q['dense']['p50']:>9.1f}  "
              f"{r['dense_recall_at_10'] if r['dense_recall_at_10'] is not None else '-':>9}  {r['segments']:>8}  "
              f"{r['peak_rss_mb']:>10}  {r['disk_mb']:>8}")
    small = next((r for (b, n), r in by.items() if b == "embedded" and n <= 1_100), None)
    mid = next((r for (b, n), r in by.items() if b == "embedded" and 100_000 <= n < 110_000), None)
    big = next((r for (b, n), r in by.items() if b == "embedded" and n >= 1_000_000), None)
    if small and mid:
        ratio = mid["add_report_s"]["median"] / small["add_report_s"]["median"]
        print(f"\nacceptance: add one report at {mid['chunks']:,} chunks / at {small['chunks']:,} = {ratio:.2f}× "
              f"(≤ 2×: {'yes' if ratio <= 2 else 'NO'})")
    if big:
        p50 = big["query_ms"]["hybrid"]["p50"]
        print(f"acceptance: hybrid query p50 at {big['chunks']:,} chunks = {p50} ms (≤ 150 ms: "
              f"{'yes' if p50 <= 150 else 'NO'}), dense recall@10 vs exact {big['dense_recall_at_10']}")


if __name__ == "__main__":
    raise SystemExit(main())

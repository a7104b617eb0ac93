"""Benchmark answering: latency per question with and without the local LLM, and the peak
memory of one process holding the embedder and the LLM (the issue's targets: p50 ≤ 3 s
without the LLM, ≤ 15 s with it, peak RSS ≤ 4 GB).

    python -m evals.bench_answer                    # 20 gold questions, both modes
    python -m evals.bench_answer --limit 40 --modes none

Both modes run in the same process on the same questions, after a warm-up, so the LLM's
cost is read against extraction alone (the baseline) in the same run. A script, not a test:
the numbers depend on the machine and on what else runs on it.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
WARM_UP = 2


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    from evals.runner import load_gold, open_library
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=20, help="gold questions to time (answerable first)")
    ap.add_argument("--modes", default="none,local", help="answer modes, in order: none,local")
    ap.add_argument("--embedder", default="embeddinggemma")
    args = ap.parse_args(argv)

    gold = load_gold()
    questions = [g["question"] for g in sorted(gold, key=lambda g: g["answer"] == "NOT_IN_CORPUS")][: args.limit]
    lib = open_library(None, args.embedder, quiet=True)
    print(f"{len(questions)} questions, embedder {args.embedder}, {os.cpu_count()} cores")
    for mode in args.modes.split(","):
        for q in questions[:WARM_UP]:  # loads the models and warms caches
            lib.ask(q, llm=mode)
        seconds, phrased = [], 0
        for q in questions:
            t = time.perf_counter()
            ans = lib.ask(q, llm=mode)
            seconds.append(time.perf_counter() - t)
            phrased += bool(ans.mode == "local" and not ans.abstained and "llm_rejected" not in ans.parsed)
        line = (f"mode {mode:5}  p50 {statistics.median(seconds):6.2f} s  p95 {_quantile(seconds, 0.95):6.2f} s  "
                f"max {max(seconds):6.2f} s  RSS now {_rss_mib():6.0f} MiB  peak {_peak_mib():6.0f} MiB")
        if mode == "local":
            line += f"  LLM wording kept for {phrased}/{len(questions)}"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

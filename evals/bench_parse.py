"""Parser benchmark: pages/s and peak RSS of ``ingest.parse`` (+ chunking), of the same plus
fact extraction (the figure store), and of ``pymupdf4llm.to_markdown``, on the same files in the
same run. Each contender runs in its own child process so peak RSS is its own.
    python -m evals.bench_parse [--repeat 3] [--contenders yanbao,yanbao+facts,pymupdf4llm] [PDF ...]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"

_CHILD = r"""
import json, resource, sys, time
files, which, repeat = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
if which == "yanbao":
    from ingest import chunk_document, parse
    run = lambda f: chunk_document(parse(f, ocr=False))
elif which == "yanbao+facts":
    from index.query import fact_entities
    from ingest import chunk_document, parse
    from ingest.facts import extract_facts
    def run(f):
        doc = parse(f, ocr=False)
        return chunk_document(doc), extract_facts(doc, fact_entities)
else:
    import pymupdf4llm
    run = lambda f: pymupdf4llm.to_markdown(f, show_progress=False)
import pymupdf
pages = sum(pymupdf.open(f).page_count for f in files)
run(files[0])  # warm-up: imports, fonts
best = float("inf")
for _ in range(repeat):
    t = time.perf_counter()
    for f in files:
        run(f)
    best = min(best, time.perf_counter() - t)
print(json.dumps({"pages": pages, "seconds": best, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(which: str, files: list[str], repeat: int) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(files), which, str(repeat)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="*")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--contenders", default="yanbao,yanbao+facts,pymupdf4llm")
    args = ap.parse_args()
    files = args.files or sorted(str(p) for p in CORPUS.glob("*.pdf"))
    rows = {}
    for which in args.contenders.split(","):
        try:
            rows[which] = measure(which, files, args.repeat)
        except subprocess.CalledProcessError as exc:
            print(f"{which}: failed ({exc.stderr.strip().splitlines()[-1] if exc.stderr else exc})")
    print(f"{'parser':<14}{'pages':>7}{'seconds':>10}{'pages/s':>10}{'peak RSS MB':>13}")
    for which, r in rows.items():
        print(f"{which:<14}{r['pages']:>7}{r['seconds']:>10.2f}{r['pages'] / r['seconds']:>10.1f}{r['peak_rss_mb']:>13.0f}")
    if "yanbao" in rows and "yanbao+facts" in rows:
        print(f"with facts / without = {rows['yanbao+facts']['seconds'] / rows['yanbao']['seconds']:.2f}")
    if "yanbao" in rows and "pymupdf4llm" in rows:
        print(f"yanbao time / pymupdf4llm time = {rows['yanbao']['seconds'] / rows['pymupdf4llm']['seconds']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

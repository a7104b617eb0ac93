"""The Streamlit app, driven headlessly with ``streamlit.testing.v1.AppTest``.

A small fake library implements the ``qa.Library`` contract (ingest / ask / documents /
remove / pdf_path) and is injected through ``ui.set_library_factory``: no models, fast.
The fake serves real PDFs from the sample corpus, so previews are really rendered.
"""
from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pymupdf
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

import ui  # noqa: E402
from ui.app import sanitize_filename  # noqa: E402 — importing the app module does not run it
from ui.render import find_quote, render_citation, render_page  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "ui" / "app.py"
CORPUS = ROOT / "evals" / "corpus"
DONGWU = "dongwu_20260531_neocloud-leaders.pdf"
GUOXIN = "guoxin_20260320_alibaba-cloud-ai.pdf"
BACKLOG_QUOTE = ("截至 1Q26，CoreWeave 收入达到 20.78 亿美元，同比增长 112%，Backlog 达到 994 亿美元，"
                 "较2025 年底的 668 亿美元进一步提升")
META = {DONGWU: ("东吴证券", "2026-05-31", "NeoCloud 龙头"), GUOXIN: ("国信证券", "2026-03-20", "阿里云 AI")}


# -- the fake library ------------------------------------------------------------------------------

@dataclass
class FakeConfig:
    max_upload_mb: float = 200
    llm: str = "auto"


@dataclass
class Citation:
    file: str
    page: int
    quote: str
    bbox: tuple | None = None
    broker: str = ""
    date: str = ""
    title: str = ""
    pages: list = field(default_factory=list)


@dataclass
class Answer:
    text: str
    abstained: bool
    citations: list = field(default_factory=list)
    nearest: list = field(default_factory=list)
    conflicts: list = field(default_factory=list)
    mode: str = "none"
    timings: dict = field(default_factory=dict)
    statement: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class IngestReport:
    added: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: list = field(default_factory=list)


class FakeLibrary:
    def __init__(self, path, config=None, max_upload_mb: float = 200):
        self.path = Path(path)
        self.config = FakeConfig(max_upload_mb=max_upload_mb)
        self.docs: dict[str, dict] = {}
        self.asked: list[tuple[str, dict]] = []
        self.ingest_calls: list[list[str]] = []
        (self.path / "pdfs").mkdir(parents=True, exist_ok=True)

    def pdf_path(self, file: str) -> Path:
        return self.path / "pdfs" / Path(file).name

    def documents(self) -> list[dict]:
        return [dict(d) for d in self.docs.values()]

    def ingest(self, paths) -> IngestReport:
        self.ingest_calls.append([Path(p).name for p in paths])
        report = IngestReport()
        for p in map(Path, paths):
            try:
                with pymupdf.open(p) as doc:
                    pages = doc.page_count
                    if pages == 0:
                        raise ValueError("no pages")
            except Exception as exc:  # noqa: BLE001
                report.failed.append((p.name, f"damaged or not a PDF ({type(exc).__name__})"))
                continue
            data = p.read_bytes()
            if p.name in self.docs and self.pdf_path(p.name).read_bytes() == data:
                report.skipped.append(p.name)
                continue
            shutil.copy2(p, self.pdf_path(p.name))
            broker, date, title = META.get(p.name, ("测试证券", "2026-01-01", p.stem))
            self.docs[p.name] = {"file": p.name, "title": title, "broker": broker, "date": date, "pages": pages,
                                 "tables": 1, "status": "indexed", "ingested_at": "2026-07-01T10:00:00"}
            report.added.append(p.name)
        return report

    def remove(self, file: str) -> bool:
        self.pdf_path(file).unlink(missing_ok=True)
        return self.docs.pop(file, None) is not None

    def ask(self, question, broker=None, since=None, until=None, file=None, llm=None) -> Answer:
        self.asked.append((question, {"broker": broker, "since": since, "until": until, "file": file, "llm": llm}))
        cite = Citation(DONGWU, 9, BACKLOG_QUOTE, None, "东吴证券", "2026-05-31", "NeoCloud 龙头", [9])
        if "backlog" in question.lower():
            return Answer("994亿美元。依据：东吴证券（2026-05-31）第9页", False, [cite],
                          timings={"retrieve": 0.12, "extract": 0.01}, statement="994亿美元")
        if "收入" in question:
            other = Citation(GUOXIN, 3, "阿里云收入 100 亿元", None, "国信证券", "2026-03-20", "阿里云 AI", [3])
            return Answer("100亿元（两份报告数值不同）", False, [cite], conflicts=[[cite, other]])
        return Answer("已收录研报中未找到特斯拉销量的相关数据。", True, nearest=[cite])


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A fresh fake library holding the dongwu report, opened by the app via the factory."""
    libdir = tmp_path / "library"
    holder: dict[str, FakeLibrary] = {}

    def factory(path, config):
        holder["lib"] = FakeLibrary(path, config)
        holder["lib"].ingest([CORPUS / DONGWU])
        holder["lib"].ingest_calls.clear()
        return holder["lib"]

    monkeypatch.setenv("YANBAO_LIBRARY", str(libdir))
    ui.set_library_factory(factory)
    yield holder
    ui.set_library_factory(None)


def app() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=60)


def _markdown(at) -> str:
    return "\n".join(str(m.value) for m in at.markdown)


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


# -- chat -------------------------------------------------------------------------------------------

def test_empty_conversation_offers_example_questions(fake):
    at = app().run()
    assert not at.exception
    labels = [b.label for b in at.button if b.key and b.key.startswith("example-")]
    assert "CoreWeave Q1 2026 backlog" in labels
    at.button(key="example-0").click().run()
    assert not at.exception
    assert fake["lib"].asked[0][0] == "CoreWeave Q1 2026 backlog"
    assert "994" in _markdown(at)


def test_ask_shows_answer_and_citation_chips(fake):
    at = app().run()
    at.chat_input(key="question").set_value("CoreWeave Q1 2026 backlog").run()
    assert not at.exception
    assert "**994亿美元**" in _markdown(at)   # the statement leads, in bold
    assert "依据：东吴证券" in _markdown(at)     # then the source line
    chip = at.button(key="chips-1-0")
    assert chip.label == "东吴证券 · 2026-05-31 · p.9"
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    # the answer stays in the history on the next run
    at.run()
    assert "994" in _markdown(at)
    assert at.button(key="chips-1-0").label == "东吴证券 · 2026-05-31 · p.9"


def test_citation_chip_opens_page_preview(fake):
    at = app().run()
    at.chat_input(key="question").set_value("CoreWeave Q1 2026 backlog").run()
    assert len(at.image) == 0
    at.button(key="chips-1-0").click().run()
    assert not at.exception
    assert len(at.image) >= 1                       # close-up + whole page
    assert at.session_state["preview"]["page"] == 9
    assert "第9页" in _markdown(at)
    at.button(key="preview-close").click().run()
    assert len(at.image) == 0


def test_refusal_shows_nearest_evidence(fake):
    at = app().run()
    at.chat_input(key="question").set_value("特斯拉 2026 年销量").run()
    assert not at.exception
    assert "未找到" in _texts(at.info)
    near = at.button(key="near-1-0")
    assert near.label == "东吴证券 · 2026-05-31 · p.9"
    near.click().run()
    assert len(at.image) >= 1


def test_conflicting_figures_side_by_side(fake):
    at = app().run()
    at.chat_input(key="question").set_value("阿里云本季度收入多少").run()
    assert not at.exception
    assert "冲突" in _markdown(at)
    assert at.button(key="conf-open-1-0-0").label == "p.9 查看原文"
    assert at.button(key="conf-open-1-0-1").label == "p.3 查看原文"
    at.button(key="conf-open-1-0-1").click().run()
    assert at.session_state["preview"]["file"] == GUOXIN


def test_filters_are_passed_to_ask(fake):
    at = app().run()
    at.sidebar.multiselect(key="filter_brokers").set_value(["东吴证券"]).run()
    at.sidebar.radio(key="answer_mode").set_value("none").run()
    at.chat_input(key="question").set_value("CoreWeave Q1 2026 backlog").run()
    question, kwargs = fake["lib"].asked[-1]
    assert kwargs["broker"] == "东吴证券" and kwargs["llm"] == "none"


def test_date_range_and_several_brokers(fake):
    at = app().run()
    fake["lib"].ingest([CORPUS / GUOXIN])               # a second broker, dated 2026-03-20
    at.run()
    at.sidebar.multiselect(key="filter_brokers").set_value(["东吴证券", "国信证券"]).run()
    at.sidebar.checkbox(key="filter_by_date").check().run()
    assert at.sidebar.date_input(key="filter_dates").value == (dt.date(2026, 3, 20), dt.date(2026, 5, 31))
    at.chat_input(key="question").set_value("CoreWeave Q1 2026 backlog").run()
    _, kwargs = fake["lib"].asked[-1]
    assert kwargs["broker"] == ["东吴证券", "国信证券"]       # a list: any of them
    assert (kwargs["since"], kwargs["until"]) == ("2026-03-20", "2026-05-31")


# -- library page --------------------------------------------------------------------------------------

def _library_page() -> AppTest:
    at = app().run()
    at.sidebar.radio(key="page").set_value("library").run()
    assert not at.exception
    return at


def _upload(at, files):
    at.file_uploader[0].set_value(files).run()
    at.button(key="ingest-uploads").click().run()
    assert not at.exception
    return at


def test_library_page_lists_documents(fake):
    at = _library_page()
    table = at.dataframe[0].value
    assert list(table["文件"]) == [DONGWU]
    assert list(table["券商"]) == ["东吴证券"]


def test_upload_valid_pdf_is_added(fake):
    at = _library_page()
    data = (CORPUS / GUOXIN).read_bytes()
    _upload(at, [(GUOXIN, data, "application/pdf")])
    assert GUOXIN in fake["lib"].docs
    assert "已加入文库" in _texts(at.success)
    assert GUOXIN in list(at.dataframe[0].value["文件"])


def test_upload_corrupt_pdf_is_reported_and_library_unchanged(fake):
    at = _library_page()
    before = fake["lib"].documents()
    _upload(at, [("坏文件.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 200, "application/pdf"),
                 ("notes.pdf", b"just some text, not a pdf", "application/pdf")])
    errors = _texts(at.error)
    assert "坏文件.pdf" in errors and "无法读取" in errors
    assert "notes.pdf" in errors and "不是 PDF" in errors
    assert fake["lib"].documents() == before
    assert sorted(p.name for p in (fake["lib"].path / "pdfs").iterdir()) == [DONGWU]


def test_upload_over_size_limit_is_refused_before_writing(fake):
    at = _library_page()
    fake["lib"].config.max_upload_mb = 0.01          # 10 KB: the size check is the app's, not the browser's
    data = (CORPUS / GUOXIN).read_bytes()
    assert len(data) > 0.01 * 1024 * 1024
    at.run()
    _upload(at, [(GUOXIN, data, "application/pdf")])
    assert "超过上传上限" in _texts(at.error)
    assert fake["lib"].ingest_calls == []             # never handed to the library
    assert GUOXIN not in fake["lib"].docs


def test_upload_file_name_is_sanitised(fake):
    at = _library_page()
    data = (CORPUS / GUOXIN).read_bytes()
    _upload(at, [("../../etc/.国信 研报.pdf", data, "application/pdf")])
    assert fake["lib"].ingest_calls == [["国信 研报.pdf"]]
    assert "国信 研报.pdf" in fake["lib"].docs


def test_delete_flow_asks_for_confirmation(fake):
    at = _library_page()
    at.multiselect(key="manage_files").set_value([DONGWU]).run()
    at.button(key="delete").click().run()
    assert DONGWU in fake["lib"].docs                  # not yet: a confirmation is shown
    assert "确认" in _texts(at.warning)
    at.button(key="cancel-delete").click().run()
    assert DONGWU in fake["lib"].docs
    at.multiselect(key="manage_files").set_value([DONGWU]).run()
    at.button(key="delete").click().run()
    at.button(key="confirm-delete").click().run()
    assert not at.exception
    assert DONGWU not in fake["lib"].docs
    assert "已从文库删除" in _texts(at.success)
    assert len(at.dataframe) == 0


def test_reindex_reingests_the_library_copy(fake):
    at = _library_page()
    at.multiselect(key="manage_files").set_value([DONGWU]).run()
    at.button(key="reindex").click().run()
    assert not at.exception
    assert fake["lib"].ingest_calls == [[DONGWU]]
    assert DONGWU in fake["lib"].docs
    assert "已重新索引" in _texts(at.success)


def test_empty_library_points_to_upload(tmp_path, monkeypatch):
    monkeypatch.setenv("YANBAO_LIBRARY", str(tmp_path / "empty"))
    ui.set_library_factory(lambda path, config: FakeLibrary(path, config))
    try:
        at = app().run()
        assert not at.exception
        assert "上传" in _texts(at.info)
        at.button(key=next(b.key for b in at.button if b.label == "前往文库")).click().run()
        assert at.session_state["page"] == "library"
    finally:
        ui.set_library_factory(None)


# -- helpers --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, safe", [
    ("报告.pdf", "报告.pdf"),
    ("../../x/东吴 研报.PDF", "东吴 研报.pdf"),
    ("C:\\Users\\a\\b.pdf", "b.pdf"),
    (".hidden.pdf", "hidden.pdf"),
    ("...", "upload.pdf"),
    ("a<b>:c|d?.pdf", "a_b__c_d_.pdf"),
    ("no_extension", "no_extension.pdf"),
])
def test_sanitize_filename(raw, safe):
    assert sanitize_filename(raw) == safe


def test_render_highlights_quote_across_line_break():
    pv = render_page(CORPUS / DONGWU, 9, BACKLOG_QUOTE)
    assert len(pv.highlights) == 2                      # the quote wraps onto a second line
    assert pv.png.startswith(b"\x89PNG") and pv.focus_png.startswith(b"\x89PNG")


def test_render_with_bbox_marks_region_and_quote_inside():
    pv = render_page(CORPUS / DONGWU, 24, "Backlog 达到 994 亿美元", bbox=(40, 300, 560, 420))
    assert pv.region == (40, 300, 560, 420)
    assert len(pv.highlights) == 1 and 300 <= pv.highlights[0][1] <= 420


def test_render_table_row_quote_and_missing_quote():
    with pymupdf.open(CORPUS / DONGWU) as doc:
        page = doc[8]
        assert find_quote(page, "CoreWeave | 994 亿美元 | 20.78 亿美元") != []
        assert find_quote(page, "这句话不在页面上出现过") == []
    previews = render_citation(CORPUS / DONGWU, 9, "这句话不在页面上出现过")
    assert [p.page for p in previews] == [9] and not previews[0].located


def test_render_multi_page_citation():
    previews = render_citation(CORPUS / DONGWU, 9, "Backlog 达到 994 亿美元", pages=[9, 24])
    assert [p.page for p in previews] == [9, 24]
    assert all(p.highlights for p in previews)


def test_render_rejects_bad_page():
    from ui.render import PreviewError
    with pytest.raises(PreviewError):
        render_page(CORPUS / DONGWU, 999)


class _HugeUpload:
    """A 200 MB upload that must be refused on its declared size, before a byte is read."""
    name = "huge.pdf"
    size = 200 * 1000 * 1000

    def getbuffer(self):
        raise AssertionError("a file over the limit must not be read")


def test_a_200_mb_upload_is_refused(tmp_path):
    from qa.config import Config
    from ui.app import ingest_uploads
    lib = FakeLibrary(tmp_path / "library", Config.load(library=tmp_path / "library"))
    lib.ingest([CORPUS / DONGWU])
    lib.ingest_calls.clear()
    before = lib.documents()
    results = ingest_uploads(lib, [_HugeUpload()], 200)
    assert [r["status"] for r in results] == ["rejected"] and "超过上传上限" in results[0]["message"]
    assert lib.ingest_calls == [] and lib.documents() == before


# -- the analyst's workspace: figures page, series link, labelled disagreements, streaming, warm start --

def _figure(period, printed, value, status, file, broker, date, page=9, quote=BACKLOG_QUOTE):
    from qa.figures import Figure
    return Figure(entity="CoreWeave", metric="Backlog", metric_key="backlog", period=period, status=status,
                  printed=printed, value=value, unit="", currency="USD", file=file, page=page, quote=quote,
                  broker=broker, date=date, title="t")


@dataclass
class AnswerEvent:
    kind: str
    answer: object = None
    text: str = ""


class WorkspaceLibrary(FakeLibrary):
    """The fake library, with the figure store, a streamed answer and a warm-up."""

    def __init__(self, path, config=None):
        super().__init__(path, config)
        self.figure_calls: list[dict] = []
        self.warmed = 0

    def figure_slots(self):
        return [{"entity": "CoreWeave", "metric_key": "backlog", "qualifier": "", "metric": "Backlog", "count": 4},
                {"entity": "CoreWeave", "metric_key": "revenue", "qualifier": "", "metric": "收入", "count": 1},
                {"entity": "Nebius", "metric_key": "arr", "qualifier": "", "metric": "ARR", "count": 2}]

    def figures(self, entity=None, metric=None, period=None, *, query="", qualifier=None):
        from qa.figures import label_figures
        self.figure_calls.append({"entity": entity, "metric": metric, "qualifier": qualifier})
        if (entity, metric) != ("CoreWeave", "Backlog"):
            return []
        return label_figures([
            _figure("2025Q4", "668 亿美元", 668e8, "actual", DONGWU, "东吴证券", "2026-05-31"),
            _figure("2026Q1", "994 亿美元", 994e8, "actual", DONGWU, "东吴证券", "2026-05-31"),
            _figure("2026Q1", "988 亿美元", 988e8, "actual", GUOXIN, "国信证券", "2026-06-09", page=3,
                    quote="阿里云收入 100 亿元"),
            _figure("2026Q2", "1100 亿美元", 1100e8, "forecast", DONGWU, "东吴证券", "2026-05-31"),
            _figure("2026Q2", "1200 亿美元", 1200e8, "forecast", GUOXIN, "国信证券", "2026-06-09", page=3,
                    quote="阿里云收入 100 亿元"),
            _figure("FY2026", "60%", 60.0, "guidance", GUOXIN, "国信证券", "2026-06-09", page=3),
        ])

    def ask_stream(self, question, **options):
        ans = self.ask(question, **options)
        ans.slot = {"entity": "CoreWeave", "metric": "Backlog", "metric_key": "backlog", "qualifier": "",
                    "period": "2026Q1", "status": "actual"}
        ans.others = [{"file": GUOXIN, "page": 3, "quote": "阿里云收入 100 亿元", "bbox": None, "broker": "国信证券",
                       "date": "2026-06-09", "title": "t", "printed": "988 亿美元", "status": "actual",
                       "label": "conflict", "entity": "CoreWeave"}]
        ans.mode, ans.parsed = "local", {}
        yield AnswerEvent("answer", ans)
        for piece in ("CoreWeave 的 Backlog ", "为 994亿美元", "。"):
            yield AnswerEvent("token", text=piece)
        ans.statement = "CoreWeave 的 Backlog 为 994亿美元。"
        yield AnswerEvent("done", ans)

    def warm_up(self, progress=None):
        self.warmed += 1
        for i, step in enumerate(("index", "embedder")):
            progress(step, i, 2)
        progress("ready", 2, 2)
        return [("index", 0.0), ("embedder", 0.0)]


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    holder: dict[str, WorkspaceLibrary] = {}

    def factory(path, config):
        holder["lib"] = WorkspaceLibrary(path, config)
        holder["lib"].ingest([CORPUS / DONGWU, CORPUS / GUOXIN])
        return holder["lib"]

    monkeypatch.setenv("YANBAO_LIBRARY", str(tmp_path / "library"))
    ui.set_library_factory(factory)
    yield holder
    ui.set_library_factory(None)


def _figures_page(at: AppTest) -> AppTest:
    at.sidebar.radio(key="page").set_value("figures").run()
    assert not at.exception, at.exception
    return at


def test_figures_page_shows_chart_table_and_exports(workspace):
    at = _figures_page(app().run())
    assert at.selectbox(key="fig_entity").value == "CoreWeave"
    assert at.selectbox(key="fig_metric").value.split("\x1f")[3] == "Backlog"
    assert "6 个数值 · 2 份报告 · 1 处修订 · 1 处冲突" in _markdown(at)
    assert len(at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")) == 1
    table = at.dataframe[0].value
    assert list(table["数值"]) == ["668 亿美元", "994 亿美元", "1100 亿美元", "988 亿美元", "1200 亿美元", "60%"]
    assert list(table["比较"]) == ["首次", "首次", "首次", "冲突", "修订", "首次"]
    assert "其余 1 个" in _texts(at.caption)          # the % guidance is not on the amount chart
    assert len(at.get("download_button")) == 2


def test_a_chart_point_or_table_row_opens_its_page(workspace):
    import streamlit as st

    from ui.figures_page import _open_picked
    figures = workspace_figures()
    opened = []
    st.session_state["chart"] = {"selection": {"pick": [{"row": 3}]}}
    _open_picked("chart", figures, None, opened.append)
    st.session_state["table"] = {"selection": {"rows": [1]}}
    _open_picked("table", figures, list(range(len(figures))), opened.append)
    st.session_state["none"] = {"selection": {"pick": []}}
    _open_picked("none", figures, None, opened.append)
    assert [(c["file"], c["page"], c["quote"][:5]) for c in opened] == \
        [(GUOXIN, 3, "阿里云收入"), (DONGWU, 9, BACKLOG_QUOTE[:5])]


def workspace_figures():
    class Calls:             # figures() only records its calls on the library
        figure_calls: list = []
    return WorkspaceLibrary.figures(Calls(), "CoreWeave", "Backlog")


def test_an_answer_streams_links_its_series_and_labels_the_conflict(workspace):
    at = app().run()
    at.chat_input(key="question").set_value("CoreWeave Q1 2026 backlog").run()
    assert not at.exception
    text = _markdown(at)
    assert "CoreWeave 的 Backlog 为 994亿美元。" in text            # the streamed wording, whole
    assert "**冲突**" in text and "988 亿美元" in text and "994亿美元" in text
    assert "模型表述已通过数字核对" in _texts(at.caption)
    assert at.button(key="conf-open-1-0-1").label == "p.3 查看原文"
    at.button(key="series-1").click().run()
    assert not at.exception and at.session_state["page"] == "figures"
    assert at.selectbox(key="fig_metric").value.split("\x1f")[:2] == ["CoreWeave", "backlog"]
    assert workspace["lib"].figure_calls[-1] == {"entity": "CoreWeave", "metric": "Backlog", "qualifier": ""}


def test_the_models_load_once_when_the_app_opens(workspace):
    at = app().run()
    assert not at.exception and workspace["lib"].warmed == 1
    assert [s.label for s in at.get("status")][0].startswith("模型已就绪")
    at.chat_input(key="question").set_value("CoreWeave Q1 2026 backlog").run()
    app().run()                                          # another session: the same warm library
    assert workspace["lib"].warmed == 1


def test_entities_are_offered_by_count_and_figures_of_no_company_last():
    from ui.figures_page import NO_ENTITY, entity_options, metric_options
    slots = [{"entity": "", "metric_key": "max_drawdown", "qualifier": "", "metric": "最大回撤", "count": 90},
             {"entity": "Nebius", "metric_key": "arr", "qualifier": "", "metric": "ARR", "count": 2},
             {"entity": "CoreWeave", "metric_key": "backlog", "qualifier": "", "metric": "Backlog", "count": 5}]
    assert entity_options(slots) == ["CoreWeave", "Nebius", NO_ENTITY]
    assert [s["metric"] for s in metric_options(slots, NO_ENTITY)] == ["最大回撤"]

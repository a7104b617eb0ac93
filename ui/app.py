"""yanbao 研报问答 — the Streamlit app: cited answers over a library of broker research PDFs.

Run with ``yanbao ui`` (or ``streamlit run ui/app.py``; the library comes from
``$YANBAO_LIBRARY`` / the config). Two pages:

* 问答 — ask in Chinese or English; the answer, its citations as chips that open the cited
  page with the quote highlighted, refusals with the nearest evidence, and conflicting
  figures from different reports side by side;
* 数据 — every value of a metric across the reports as a chart over periods and a table,
  revisions and conflicts marked, exported as CSV or Excel (``ui.figures_page``);
* 文库 — upload PDFs (checked and sanitised before anything is written), see the
  documents, delete or re-index them.

One warm library per process (``st.cache_resource`` keyed by its path): models load once,
when the app opens (behind a progress bar; ``warm_start`` in the config), never per question.
With the local LLM the answer's figure and citation show first, then its wording as the model
writes it (``lib.ask_stream``). Everything here goes through the ``qa.Library`` contract only.
"""
from __future__ import annotations

import datetime as dt
import inspect
import math
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import unicodedata
from pathlib import Path
from typing import Any

import streamlit as st

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:  # `streamlit run ui/app.py` puts ui/, not the project, on the path
    sys.path.insert(0, str(_ROOT))

import ui  # noqa: E402
from ui.figures_page import figures_page  # noqa: E402
from ui.render import PreviewError, render_citation  # noqa: E402

EXAMPLES = [
    "CoreWeave Q1 2026 backlog",
    "阿里云本季度收入多少",
    "Nebius 1Q26 ARR",
    "GPU 云租赁价格趋势",
]
MODE_LABELS = {"local": "本地大模型", "none": "仅抽取（不调用模型）"}
ANSWER_MODE_CAPTION = {"local": "本地模型作答", "none": "抽取式作答"}
TIMING_LABELS = {"parse": "理解", "retrieve": "检索", "rerank": "重排", "extract": "抽取",
                 "generate": "生成", "llm": "生成", "check": "核对", "total": "合计"}
STATUS_LABELS = {"indexed": "已索引", "failed": "解析失败", "pending": "处理中"}
PAGES = {"chat": ":material/forum: 问答", "figures": ":material/monitoring: 数据", "library": ":material/library_books: 文库"}
WARM_STEPS = {"index": "打开文库索引", "embedder": "加载向量模型与检索索引", "llm": "加载本地大模型",
              "pipeline": "试运行问答流程", "ready": "就绪"}
LIBRARY_ERRORS = ("LibraryCorrupt", "LibraryBusy", "EmbedderMismatch", "LibraryMissing")

CSS = """
<style>
.block-container {padding-top: 2.2rem; padding-bottom: 2rem;}
div[class*="st-key-chips-"] button, div[class*="st-key-near-"] button {
    border-radius: 999px; min-height: 1.9rem; padding: 0.1rem 0.8rem; font-size: 0.84rem;
}
div[class*="st-key-chips-"] button p, div[class*="st-key-near-"] button p {font-size: 0.84rem;}
div[data-testid="stColumn"]:has(div.st-key-preview-panel) {position: sticky; top: 3.5rem; align-self: flex-start;}
div.st-key-preview-pages, div[data-testid="stLayoutWrapper"]:has(> div.st-key-preview-pages) {
    height: calc(100vh - 30rem) !important; flex: 0 0 calc(100vh - 30rem) !important; min-height: 240px;
}
div.st-key-preview-head h4 {padding: 0.2rem 0;}
.yb-quote {border-left: 3px solid #f0b429; background: #fffaf0; padding: 0.45rem 0.8rem;
           border-radius: 0 6px 6px 0; color: #3d3d3d; font-size: 0.9rem; margin: 0.25rem 0 0.6rem 0;}
.yb-muted {color: #6b7280; font-size: 0.85rem;}
.yb-brand {font-size: 1.25rem; font-weight: 650; letter-spacing: 0.02em;}
</style>
"""


# -- library access -------------------------------------------------------------------------------

def _load_config(path: str | None = None):
    """The one configuration object (``qa.config.Config``), None if qa cannot be imported."""
    try:
        from qa.config import Config
    except Exception:  # noqa: BLE001 — the app still runs on a library factory without qa
        return None
    return Config.load(library=path) if path else Config.load()


def _default_library_path() -> str:
    if os.environ.get("YANBAO_LIBRARY"):
        return str(Path(os.environ["YANBAO_LIBRARY"]).expanduser())
    cfg = _load_config()
    if cfg is not None:
        return str(cfg.library)
    return str(Path.home() / ".local" / "share" / "yanbao" / "library")


@st.cache_resource(show_spinner="正在打开文库并加载模型（每个进程只加载一次）…", max_entries=4)
def _open_library(path: str, factory_token: int):
    """One warm library per (path, factory) per process, shared by every session."""
    del factory_token  # part of the cache key only: a new factory opens a new library
    factory = ui.library_factory()
    return factory(path, _load_config(path))


@st.cache_resource(max_entries=8)
def _write_lock(path: str) -> threading.Lock:
    """Sessions share the library: serialise ingest/remove on it."""
    return threading.Lock()


def library_path() -> str:
    if "library_path" not in st.session_state:
        st.session_state.library_path = _default_library_path()
    return st.session_state.library_path


def get_library():
    path = library_path()
    return _open_library(path, id(ui.library_factory()))


@st.cache_resource(max_entries=4)
def _warm_state(path: str, factory_token: int) -> dict:
    """Whether this process' library has loaded its models (shared by every session)."""
    del path, factory_token  # cache key only
    return {"done": False, "lock": threading.Lock(), "steps": [], "error": ""}


def warm_library(lib) -> dict:
    """Load the models when the app opens, behind a progress bar, so that the first question
    is answered as fast as later ones (``lib.warm_up``; off with ``warm_start = false``)."""
    state = _warm_state(library_path(), id(ui.library_factory()))
    if state["done"] or not hasattr(lib, "warm_up") or not getattr(library_config(lib), "warm_start", True):
        return state
    with state["lock"]:                  # a second session waits for the first one's loading
        if state["done"]:
            return state
        with st.status("正在加载模型（每个进程只加载一次）…", expanded=True) as status:
            bar = st.progress(0.0, text="准备中…")

            def progress(step: str, done: int, total: int) -> None:
                bar.progress(done / max(total, 1), text=f"{WARM_STEPS.get(step, step)}（{done}/{total}）")
            t0 = time.perf_counter()
            try:
                state["steps"] = lib.warm_up(progress=progress)
            except Exception as exc:  # noqa: BLE001 — questions still work, loading on first use
                state["error"] = f"{type(exc).__name__}: {exc}"
                status.update(label=f"模型预加载失败，将在首次提问时加载：{md_escape(state['error'])}", state="error")
            else:
                status.update(label=f"模型已就绪 · {time.perf_counter() - t0:.1f}s", state="complete", expanded=False)
        state["done"] = True
    return state


def library_config(lib) -> Any:
    return getattr(lib, "config", None) or _load_config(library_path())


def max_upload_mb(lib) -> float:
    cfg = library_config(lib)
    return float(getattr(cfg, "max_upload_mb", 200) or 200)


def _accepts(func, name: str) -> bool:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def doc_rows(lib) -> list[dict]:
    """``lib.documents()`` as plain dicts (tolerates record objects with a ``metadata`` dict)."""
    rows = []
    for d in lib.documents():
        if isinstance(d, dict):
            row = dict(d)
        else:
            meta = dict(getattr(d, "metadata", {}) or {})
            status = getattr(d, "status", "")
            row = {"file": getattr(d, "file", meta.get("file", "")), "title": meta.get("title", ""),
                   "broker": meta.get("broker", ""), "date": meta.get("date", ""),
                   "pages": getattr(d, "n_pages", meta.get("page_count", 0)),
                   "tables": getattr(d, "n_tables", 0), "status": getattr(status, "value", status),
                   "ingested_at": getattr(d, "ingested_at", ""), "error": getattr(d, "error", "")}
        st_ = row.get("status", "")
        row["status"] = getattr(st_, "value", st_) or "indexed"
        rows.append(row)
    return rows


# -- small helpers --------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|$~:])")


def md_escape(text: str) -> str:
    """Plain text for anything Streamlit renders as Markdown (markdown, captions, alerts,
    button labels, tooltips): no accidental LaTeX ($), emphasis or tables, and — since titles,
    brokers and quotes come from PDFs anyone can write — no images, links or HTML
    (``![x](http://…/beacon.png)`` would load a remote image when shown); ":" too, so that
    neither a Streamlit directive (":red[…]") nor a bare URL is recognised."""
    return _MD_SPECIAL.sub(r"\\\1", text or "")


# Inside our own HTML snippets (quotes, with unsafe_allow_html) Markdown still runs: between
# inline tags, and after a blank line inside a block. So HTML and Markdown characters alike
# become character references, which both read as literal text; ":" too, so that neither a
# Streamlit directive (":red[…]", ":material/…:") nor a bare URL is recognised.
_HTML_OR_MD = re.compile(r"[&<>\"'\\`*_{}\[\]()#|$~!:]")


def html_escape(text: str) -> str:
    """Plain text for a snippet of our HTML: shows literally, on one line."""
    text = _HTML_OR_MD.sub(lambda m: f"&#{ord(m.group())};", text or "")
    return " ".join(text.splitlines())


_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


def sanitize_filename(name: str, max_chars: int = 120) -> str:
    """A safe file name for an upload: no directories, no leading dots, no control or
    shell-hostile characters; Chinese and other letters are kept; always ``.pdf``."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]                       # drop any directory part
    name = _UNSAFE.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip().lstrip(". ").strip()
    stem, ext = (name[:-4], name[-4:]) if name.lower().endswith(".pdf") else (name, "")
    stem = stem.rstrip(". ").strip()
    if len(stem) > max_chars:
        stem = stem[:max_chars].rstrip(". ")
    return f"{stem or 'upload'}.pdf"


def citation_to_dict(c) -> dict:
    if isinstance(c, dict):
        d = dict(c)
    else:
        d = {k: getattr(c, k, None) for k in ("file", "page", "quote", "bbox", "broker", "date", "title", "pages")}
    d["page"] = int(d.get("page") or 1)
    d["bbox"] = tuple(d["bbox"]) if d.get("bbox") else None
    d["pages"] = tuple(int(p) for p in (d.get("pages") or ()))
    return d


def citation_label(c: dict) -> str:
    """The chip text (plain: escape it with ``md_escape`` where Markdown renders it)."""
    return f"{c.get('broker') or c.get('file')} · {c.get('date') or '日期未知'} · p.{c['page']}"


def citation_tooltip(c: dict) -> str:
    """A chip's tooltip, which Streamlit renders as Markdown: the title comes from the PDF."""
    return f"{md_escape(c.get('title') or c['file'])} — 查看原文页面"


def _same_citation(a: dict | None, b: dict) -> bool:
    return bool(a) and (a["file"], a["page"], a.get("quote")) == (b["file"], b["page"], b.get("quote"))


def _parse_date(value: str) -> dt.date | None:
    for fmt, n in (("%Y-%m-%d", 10), ("%Y-%m", 7), ("%Y", 4)):
        try:
            return dt.datetime.strptime((value or "")[:n], fmt).date()
        except ValueError:
            continue
    return None


def _timings_caption(ans) -> str:
    timings = dict(getattr(ans, "timings", {}) or {})
    mode = ANSWER_MODE_CAPTION.get(getattr(ans, "mode", ""), getattr(ans, "mode", "") or "")
    total = timings.pop("total", None)
    if total is None and timings:
        total = sum(float(v) for v in timings.values())
    parts = [mode] if mode else []
    parts += [f"{TIMING_LABELS.get(k, k)} {float(v):.2f}s" for k, v in timings.items()]
    if total is not None:
        parts.append(f"共 {float(total):.2f}s")
    return " · ".join(parts)


def _stream(text: str, step: int = 6, delay: float = 0.012):
    for i in range(0, len(text), step):
        yield text[i:i + step]
        time.sleep(delay)


# -- callbacks ------------------------------------------------------------------------------------

def _open_preview(citation: dict) -> None:
    st.session_state.preview = citation


def _close_preview() -> None:
    st.session_state.preview = None


def _ask_example(question: str) -> None:
    st.session_state.pending_question = question


def _new_conversation() -> None:
    st.session_state.messages = []
    st.session_state.preview = None


def _go_to(page: str) -> None:
    st.session_state.page = page


def _show_series(slot: dict) -> None:
    """From an answer to the figures page, with its entity and metric picked."""
    st.session_state.fig_entity = slot.get("entity") or ""
    st.session_state.fig_want = dict(slot)
    st.session_state.pop("fig_metric", None)
    st.session_state.page = "figures"


def _set_library_path() -> None:
    value = (st.session_state.get("library_path_input") or "").strip()
    if value:
        st.session_state.library_path = str(Path(value).expanduser())
        st.session_state.messages = []
        st.session_state.preview = None


# -- chat page ------------------------------------------------------------------------------------

def _chips(citations: list[dict], key: str) -> None:
    current = st.session_state.get("preview")
    with st.container(horizontal=True, key=key, gap="small"):
        for j, c in enumerate(citations):
            st.button(md_escape(citation_label(c)), key=f"{key}-{j}", icon=":material/description:",
                      type="primary" if _same_citation(current, c) else "secondary",
                      on_click=_open_preview, args=(c,), help=citation_tooltip(c))


def render_answer(i: int, ans, stream: bool = False) -> None:
    """One assistant turn: answer or refusal, citation chips, the metric's series, same-slot
    disagreements side by side, timings."""
    render_answer_head(i, ans, stream)
    render_answer_tail(i, ans)


def render_answer_head(i: int, ans, stream: bool = False) -> None:
    """The answer (or refusal) and its citation chips: what shows before any LLM wording."""
    text = getattr(ans, "text", "") or ""
    if getattr(ans, "abstained", False):
        shown = text if ("未找到" in text or "not found" in text.lower()) else f"未找到相关数据。{text}"
        st.info(md_escape(shown), icon=":material/search_off:")
        nearest = [citation_to_dict(c) for c in (getattr(ans, "nearest", None) or [])][:5]
        if nearest:
            st.markdown("<span class='yb-muted'>最接近的证据（未被采信为答案）：</span>", unsafe_allow_html=True)
            current = st.session_state.get("preview")
            for j, c in enumerate(nearest[:3]):
                quote = (c.get("quote") or "").replace("\n", " ")
                with st.container(horizontal=True, key=f"near-{i}-row-{j}", vertical_alignment="center"):
                    st.button(md_escape(citation_label(c)), key=f"near-{i}-{j}", icon=":material/description:",
                              type="primary" if _same_citation(current, c) else "secondary",
                              on_click=_open_preview, args=(c,), help=citation_tooltip(c))
                    st.markdown(f"<span class='yb-muted'>{html_escape(quote[:90])}{'…' if len(quote) > 90 else ''}</span>",
                                unsafe_allow_html=True)
        return
    # the statement (the answer in its own words) leads in bold; the source and quote follow
    statement = (getattr(ans, "statement", "") or getattr(ans, "figure", "") or "").strip()
    body = md_escape(text)
    if statement:
        rest = text[len(statement):].lstrip("。. \n") if text.startswith(statement) else text
        body = f"**{md_escape(statement)}**\n\n{md_escape(rest)}"
    if stream:
        st.write_stream(_stream(body))
    else:
        st.markdown(body)
    citations = [citation_to_dict(c) for c in (getattr(ans, "citations", None) or [])]
    if citations:
        _chips(citations, key=f"chips-{i}")


def render_answer_tail(i: int, ans) -> None:
    slot = getattr(ans, "slot", None) or {}
    if not getattr(ans, "abstained", False) and slot.get("entity") and (slot.get("metric_key") or slot.get("metric")):
        st.button(f"{slot['entity']} · {slot.get('metric') or slot['metric_key']}：全部数值（图表）",
                  key=f"series-{i}", icon=":material/monitoring:", type="tertiary", on_click=_show_series,
                  args=(slot,), help="在「数据」页查看各报告对该指标给出的全部数值、修订与冲突")
    _disagreements(i, ans)
    others = getattr(ans, "others", None) or []
    if others:
        # every other report's figure for the same slot, by report date: agreement is evidence too
        with st.expander(f"其他报告的同一指标（{len(others)}）", icon=":material/library_books:"):
            for o in others:
                label = OTHER_LABELS.get(o.get("label", ""), o.get("label", ""))
                st.markdown(f"{md_escape(o.get('date') or '日期未知')} · **{md_escape(o.get('broker') or o['file'])}** · "
                            f"{md_escape(o.get('printed', ''))} · p.{o.get('page')} · {md_escape(label)}")
    caption = _timings_caption(ans)
    if caption:
        st.caption(caption)


OTHER_LABELS = {"agree": "一致", "conflict": "冲突", "revision": "修订"}
DISAGREEMENT_HEADS = {
    "conflict": ":material/compare_arrows: **冲突**：另一份报告对同一公司、指标、期间给出了不同的数值，请对照原文：",
    "revision": ":material/update: **修订**：同一公司、指标、期间的预测或指引在不同报告中有更新：",
}


def _disagreements(i: int, ans) -> None:
    """Same-slot figures of other reports that differ, each beside the answer's own, labelled
    conflict or revision (``answer.others``: the library compared only same-slot figures)."""
    others = [o for o in (getattr(ans, "others", None) or []) if o.get("label") in DISAGREEMENT_HEADS]
    citations = [citation_to_dict(c) for c in (getattr(ans, "citations", None) or [])]
    if others and citations:
        mine = dict(citations[0], printed=getattr(ans, "figure", "") or getattr(ans, "statement", ""),
                    status=(getattr(ans, "slot", None) or {}).get("status", ""))
        pairs = [(o["label"], [mine, _other_citation(o)]) for o in others]
    else:   # a library that sets figures side by side without labels
        pairs = [("conflict", [citation_to_dict(c) for c in group])
                 for group in (getattr(ans, "conflicts", None) or []) if len(group) >= 2]
    for g, (label, group) in enumerate(pairs):
        st.markdown(DISAGREEMENT_HEADS[label])
        for j, (col, c) in enumerate(zip(st.columns(len(group)), group)):
            with col, st.container(border=True, key=f"conf-{i}-{g}-{j}"):
                st.markdown(f"**{md_escape(c.get('broker') or c['file'])}** · {md_escape(c.get('date') or '日期未知')}")
                if c.get("printed"):
                    status = FIGURE_STATUS.get(c.get("status", ""), "")
                    st.markdown(f"#### {md_escape(c['printed'])}" + (f" <span class='yb-muted'>{status}</span>"
                                                                      if status else ""), unsafe_allow_html=True)
                if c.get("title"):
                    st.caption(md_escape(c["title"]))
                quote = c.get("quote") or ""
                st.markdown(f"<div class='yb-quote'>{html_escape(quote[:220])}{'…' if len(quote) > 220 else ''}</div>",
                            unsafe_allow_html=True)
                st.button(f"p.{c['page']} 查看原文", key=f"conf-open-{i}-{g}-{j}", icon=":material/description:",
                          on_click=_open_preview, args=(c,))


FIGURE_STATUS = {"actual": "实际", "guidance": "指引", "forecast": "预测", "target": "目标", "previous": "此前值"}


def _other_citation(o: dict) -> dict:
    c = citation_to_dict({k: o.get(k) for k in ("file", "page", "quote", "bbox", "broker", "date", "title")})
    return dict(c, pages=(c["page"],), printed=o.get("printed", ""), status=o.get("status", ""))


def _ask(lib, question: str, filters: dict) -> Any:
    return lib.ask(question, **_ask_options(lib, filters))


def _ask_options(lib, filters: dict) -> dict:
    kwargs = {k: v for k, v in filters.items() if v not in (None, "", [], ())}
    if "llm" in kwargs and not _accepts(lib.ask, "llm"):
        kwargs.pop("llm")
    return kwargs


def _sidebar_filters(lib, rows: list[dict]) -> dict:
    cfg = library_config(lib)
    configured = getattr(cfg, "llm", "auto") or "auto"
    supports_mode = _accepts(lib.ask, "llm")
    with st.sidebar:
        st.markdown("**作答方式**")
        mode = st.radio("作答方式", ["local", "none"], format_func=MODE_LABELS.get, key="answer_mode",
                        index=1 if configured == "none" else 0, label_visibility="collapsed",
                        disabled=not supports_mode,
                        help=None if supports_mode else f"由配置决定（llm = {configured}）")
        st.markdown("**筛选**")
        brokers = sorted({r.get("broker") for r in rows if r.get("broker")})
        chosen = st.multiselect("券商", brokers, key="filter_brokers", placeholder="全部券商")
        files = [r["file"] for r in rows if r.get("status", "indexed") == "indexed"]
        titles = {r["file"]: (r.get("title") or r["file"]) for r in rows}
        only = st.selectbox("报告", ["", *files], key="filter_file",
                            format_func=lambda f: "全部报告" if not f else titles.get(f, f))
        since = until = None
        dates = sorted(d for d in (_parse_date(r.get("date", "")) for r in rows) if d)
        if st.checkbox("按报告日期筛选", key="filter_by_date", disabled=not dates):
            lo, hi = (dates[0], dates[-1]) if dates else (dt.date.today(), dt.date.today())
            picked = st.date_input("日期范围", (lo, hi), key="filter_dates", format="YYYY-MM-DD")
            if isinstance(picked, (tuple, list)) and len(picked) == 2:
                since, until = picked[0].isoformat(), picked[1].isoformat()
            elif isinstance(picked, (tuple, list)) and len(picked) == 1:
                since = picked[0].isoformat()
        st.button("新对话", icon=":material/add_comment:", on_click=_new_conversation, width="stretch")
        st.divider()
    broker: str | list[str] | None = None
    if len(chosen) == 1:
        broker = chosen[0]
    elif len(chosen) > 1:
        broker = list(chosen)  # the index accepts a list (any of them)
    return {"broker": broker, "since": since, "until": until, "file": only or None,
            "llm": mode if supports_mode else None}


def render_preview(lib) -> None:
    c = st.session_state.get("preview")
    if not c:
        with st.container(border=True, key="preview-placeholder"):
            st.markdown("#### :material/plagiarism: 原文预览")
            st.markdown("<span class='yb-muted'>点击答案下方的引用（券商 · 日期 · 页码），"
                        "这里显示该页原文，引文以黄色标出。</span>", unsafe_allow_html=True)
        return
    pdf = Path(lib.pdf_path(c["file"]))
    with st.container(border=True, key="preview-panel"):
        with st.container(horizontal=True, vertical_alignment="center", key="preview-head"):
            st.markdown(f"#### {md_escape(c.get('broker') or c['file'])} · {md_escape(c.get('date') or '')} · "
                        f"第{c['page']}页", width="stretch")
            if pdf.exists():
                st.download_button("", data=pdf.read_bytes, file_name=pdf.name, mime="application/pdf",
                                   icon=":material/download:", key="preview-download", on_click="ignore",
                                   help="下载原文 PDF", type="tertiary")
            st.button("", icon=":material/close:", key="preview-close", on_click=_close_preview, help="关闭预览",
                      type="tertiary")
        if c.get("title"):
            st.caption(f"《{md_escape(c['title'])}》 · {md_escape(c['file'])}")
        quote = c.get("quote") or ""
        if quote:
            st.markdown(f"<div class='yb-quote'>{html_escape(quote[:240])}{'…' if len(quote) > 240 else ''}</div>",
                        unsafe_allow_html=True)
        try:
            previews = _render_previews(str(pdf), pdf.stat().st_mtime if pdf.exists() else 0.0, c["page"],
                                        quote, c.get("bbox"), tuple(c.get("pages") or ()))
        except PreviewError as exc:
            st.error(f"无法显示原文页面：{md_escape(str(exc))}", icon=":material/error:")
            return
        if not any(p.located for p in previews):
            st.caption("未能在页面文字中定位引文（可能是扫描页），显示整页。")
        # the pages scroll inside the panel, so header and quote stay in view
        with st.container(height=480, border=False, key="preview-pages"):
            for pv in previews:
                if pv.focus_png:
                    st.image(pv.focus_png, caption=f"引文位置 · 第{pv.page}页", width="stretch")
            for pv in previews:
                st.image(pv.png, caption=f"第{pv.page}页（整页）", width="stretch")


@st.cache_data(max_entries=64, show_spinner="正在渲染页面…")
def _render_previews(pdf: str, mtime: float, page: int, quote: str, bbox, pages: tuple):
    del mtime  # cache key: a re-ingested PDF renders afresh
    return render_citation(pdf, page, quote, bbox, pages=list(pages) or None)


def chat_page(lib) -> None:
    rows = doc_rows(lib)
    indexed = [r for r in rows if r.get("status", "indexed") == "indexed"]
    filters = _sidebar_filters(lib, rows)
    messages: list[dict] = st.session_state.setdefault("messages", [])

    from qa.library import MAX_QUESTION_CHARS
    prompt = st.chat_input("输入问题，例如：CoreWeave Q1 2026 backlog / 阿里云本季度收入多少",
                           key="question", disabled=not indexed, max_chars=MAX_QUESTION_CHARS)
    question = prompt or st.session_state.pop("pending_question", None)

    # the preview gets more room once it shows a page
    left, right = st.columns([1, 1] if st.session_state.get("preview") else [3, 2], gap="large")
    with left:
        st.markdown("### 研报问答")
        if not indexed:
            st.info("文库中还没有可检索的研报。请先在「文库」页上传 PDF。", icon=":material/upload_file:")
            st.button("前往文库", icon=":material/library_books:", on_click=_go_to, args=("library",))
        elif not messages and not question:
            st.markdown(f"<span class='yb-muted'>基于文库中 {len(indexed)} 份研报作答，"
                        "每个数字都标注出处；找不到时会明确说明，不会编造。</span>", unsafe_allow_html=True)
            st.markdown("**可以这样问：**")
            with st.container(horizontal=True, key="examples"):
                for k, ex in enumerate(EXAMPLES):
                    st.button(ex, key=f"example-{k}", on_click=_ask_example, args=(ex,))
        for i, msg in enumerate(messages):
            with st.chat_message(msg["role"]):
                if msg["role"] == "user":
                    st.markdown(md_escape(msg["content"]))
                elif msg.get("error"):
                    st.error(md_escape(msg["error"]), icon=":material/error:")
                else:
                    render_answer(i, msg["answer"])
        if question:
            with st.chat_message("user"):
                st.markdown(md_escape(question))
            messages.append({"role": "user", "content": question})
            i = len(messages)
            with st.chat_message("assistant"):
                ans = _answer_streamed(i, lib, question, filters, messages)
                if ans is not None:
                    messages.append({"role": "assistant", "answer": ans, "question": question})
    with right:
        render_preview(lib)


def _answer_streamed(i: int, lib, question: str, filters: dict, messages: list[dict]):
    """Ask and show the answer as it comes: the figure and its citations as soon as code has
    checked them, then the local LLM's wording token by token (``lib.ask_stream``), then the
    disagreements and timings. Returns the final answer (None on an error)."""
    options = _ask_options(lib, filters)
    with st.status("正在检索研报并核对数字…", expanded=False) as status:
        t0 = time.perf_counter()
        try:
            if hasattr(lib, "ask_stream"):
                events = lib.ask_stream(question, **options)
                first = next(events)
                ans = first.answer
            else:
                events, ans = None, lib.ask(question, **options)
        except Exception as exc:  # noqa: BLE001 — show it, keep the session alive
            status.update(label="作答失败", state="error")
            err = f"作答失败：{type(exc).__name__}: {exc}"
            st.error(md_escape(err), icon=":material/error:")
            messages.append({"role": "assistant", "error": err})
            return None
        found = "未找到可靠依据" if getattr(ans, "abstained", False) else "已找到出处"
        status.update(label=f"{found} · {time.perf_counter() - t0:.1f}s", state="complete")
    render_answer_head(i, ans, stream=events is None)
    if events is not None:
        final = {"answer": ans}
        try:
            event = next(events)
            if event.kind == "token":
                with st.container(border=True, key=f"wording-{i}"):
                    st.caption(":material/edit_note: 本地模型表述（生成中，完成后核对数字）")
                    st.write_stream(_tokens(event, events, final))
            else:
                final["answer"] = event.answer
        except Exception as exc:  # noqa: BLE001 — the checked figure above stands
            st.caption(md_escape(f"模型表述失败：{type(exc).__name__}: {exc}"))
        ans = final["answer"]
        if "llm_rejected" in (getattr(ans, "parsed", None) or {}):
            st.caption(":material/rule: 模型表述中的数字未能在原文中核对，已采用上面的抽取结果。")
        elif ans.mode == "local" and not ans.abstained and getattr(ans, "statement", ""):
            st.caption(":material/check_circle: 模型表述已通过数字核对。")
    render_answer_tail(i, ans)
    return ans


def _tokens(first, events, final: dict):
    """The LLM's tokens for ``st.write_stream``; the final answer goes into ``final``."""
    yield md_escape(first.text)
    for event in events:
        if event.kind == "token":
            yield md_escape(event.text)
        elif event.kind == "done":
            final["answer"] = event.answer


# -- figures page ---------------------------------------------------------------------------------

def series_page(lib) -> None:
    """The figures page (``ui.figures_page``) beside the page preview its points and rows open."""
    left, right = st.columns([3, 2] if st.session_state.get("preview") else [5, 2], gap="large")
    with left:
        figures_page(lib, _open_preview, md_escape)
    with right:
        render_preview(lib)


# -- library page ---------------------------------------------------------------------------------

def ingest_uploads(lib, files, max_mb: float) -> list[dict]:
    """Check, stage and ingest uploaded files one by one; one result dict per file.

    Nothing is written into the library for a rejected file: size and type are checked on
    the upload in memory, the file is staged in a temporary directory outside the library,
    and ``lib.ingest`` (atomic per call) decides whether it gets in."""
    results: list[dict] = []
    known = {r["file"] for r in doc_rows(lib)}
    limit = max_mb * 1000 * 1000  # "under 200 MB" in the stricter, decimal reading (as ingest.parser)
    bar = st.progress(0.0, text="准备中…")
    staging = Path(tempfile.mkdtemp(prefix="yanbao-upload-"))
    try:
        for n, f in enumerate(files):
            name = sanitize_filename(f.name)
            bar.progress(n / len(files), text=f"正在处理 {name}（{n + 1}/{len(files)}）…")
            size = getattr(f, "size", None)
            if size is None:
                size = len(f.getbuffer())
            if size >= limit:
                results.append({"file": name, "status": "rejected",
                                "message": f"文件 {size / 1e6:.1f} MB，超过上传上限 {max_mb:g} MB，未加入文库"})
                continue
            data = f.getbuffer()
            if b"%PDF-" not in bytes(data[:1024]):
                results.append({"file": name, "status": "rejected", "message": "不是 PDF 文件（缺少 %PDF 文件头），未加入文库"})
                continue
            staged = staging / name
            staged.write_bytes(data)
            try:
                with _write_lock(library_path()):
                    report = lib.ingest([staged])
            except Exception as exc:  # noqa: BLE001 — one bad file must not stop the batch
                results.append({"file": name, "status": "failed", "message": f"入库失败：{type(exc).__name__}: {exc}"})
                continue
            finally:
                staged.unlink(missing_ok=True)
            failed = dict(getattr(report, "failed", []) or [])
            if name in (report.added or []) or (report.added and not failed):
                results.append({"file": name, "status": "added",
                                "message": "已替换同名报告并重新索引" if name in known else "已加入文库"})
            elif name in (report.skipped or []) or report.skipped:
                results.append({"file": name, "status": "skipped", "message": "内容未变化，已在文库中"})
            else:
                reason = failed.get(name) or next(iter(failed.values()), "") or "原因未知"
                results.append({"file": name, "status": "failed", "message": f"无法读取：{reason}；文库未改动"})
        bar.progress(1.0, text=f"完成：{len(files)} 个文件")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return results


def reindex(lib, files: list[str]) -> list[dict]:
    """Parse and index ``files`` again from the library's own copies."""
    results = []
    for name in files:
        src = Path(lib.pdf_path(name))
        if not src.exists():
            results.append({"file": name, "status": "failed", "message": "文库中找不到这份 PDF 的副本"})
            continue
        try:
            with _write_lock(library_path()):
                if _accepts(lib.ingest, "force"):
                    report = lib.ingest([src], force=True)
                else:
                    # No force flag: re-ingest a copy after removing the entry (same file name).
                    tmp = Path(tempfile.mkdtemp(prefix="yanbao-reindex-"))
                    try:
                        copy = tmp / name
                        shutil.copy2(src, copy)
                        lib.remove(name)
                        report = lib.ingest([copy])
                    finally:
                        shutil.rmtree(tmp, ignore_errors=True)
        except Exception as exc:  # noqa: BLE001
            results.append({"file": name, "status": "failed", "message": f"重新索引失败：{exc}"})
            continue
        if report.failed:
            results.append({"file": name, "status": "failed", "message": f"重新索引失败：{report.failed[0][1]}"})
        else:
            results.append({"file": name, "status": "added", "message": "已重新索引"})
    return results


def _ask_delete() -> None:
    st.session_state.confirm_delete = list(st.session_state.get("manage_files") or [])


def _cancel_delete() -> None:
    st.session_state.confirm_delete = None


def _confirm_delete() -> None:
    lib = get_library()
    files = st.session_state.get("confirm_delete") or []
    results = []
    with _write_lock(library_path()):
        for name in files:
            try:
                ok = lib.remove(name)
            except Exception as exc:  # noqa: BLE001
                results.append({"file": name, "status": "failed", "message": f"删除失败：{exc}"})
                continue
            results.append({"file": name, "status": "removed" if ok else "failed",
                            "message": "已从文库删除" if ok else "文库中没有这份报告"})
    preview = st.session_state.get("preview")
    if preview and preview.get("file") in files:
        st.session_state.preview = None
    st.session_state.confirm_delete = None
    st.session_state.manage_files = []
    st.session_state.manage_results = results


def _show_results(results: list[dict]) -> None:
    for r in results:
        text = f"**{md_escape(r['file'])}** — {md_escape(r['message'])}"
        if r["status"] in ("added", "removed"):
            st.success(text, icon=":material/check_circle:")
        elif r["status"] == "skipped":
            st.info(text, icon=":material/info:")
        else:
            st.error(text, icon=":material/error:")


def library_page(lib) -> None:
    rows = doc_rows(lib)
    max_mb = max_upload_mb(lib)
    st.markdown("### 文库")
    st.caption(f"目录：{md_escape(library_path())}")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("研报", len([r for r in rows if r.get("status") == "indexed"]))
    c2.metric("页数", sum(int(r.get("pages") or 0) for r in rows))
    c3.metric("表格", sum(int(r.get("tables") or 0) for r in rows))
    c4.metric("券商", len({r.get("broker") for r in rows if r.get("broker")}))

    with st.container(border=True):
        st.markdown("#### :material/upload_file: 上传研报")
        nonce = st.session_state.setdefault("uploader_nonce", 0)
        files = st.file_uploader(f"PDF 文件，可多选；单个文件不超过 {max_mb:g} MB", type=["pdf"],
                                 accept_multiple_files=True, key=f"uploader-{nonce}",
                                 max_upload_size=max(1, math.ceil(max_mb)))
        if files:
            if st.button(f"加入文库（{len(files)} 个文件）", type="primary", key="ingest-uploads",
                         icon=":material/library_add:"):
                results = ingest_uploads(lib, files, max_mb)
                st.session_state.upload_results = results
                st.session_state.uploader_nonce = nonce + 1  # clear the uploader
                st.rerun()
        _show_results(st.session_state.get("upload_results") or [])

    st.markdown("#### :material/library_books: 文档")
    if not rows:
        st.caption("文库为空：上传 PDF 研报后即可提问。")
        _show_results(st.session_state.get("manage_results") or [])
        return
    table = [{"标题": r.get("title") or r["file"], "券商": r.get("broker", ""), "日期": r.get("date", ""),
              "页数": int(r.get("pages") or 0), "表格": int(r.get("tables") or 0),
              "状态": STATUS_LABELS.get(r.get("status", ""), r.get("status", ""))
              + (f"：{r['error']}" if r.get("error") else ""),
              "文件": r["file"], "入库时间": str(r.get("ingested_at") or "")[:19].replace("T", " ")}
             for r in rows]
    st.dataframe(table, hide_index=True, width="stretch", key="documents")

    with st.container(border=True):
        st.markdown("#### :material/tune: 管理")
        titles = {r["file"]: f"{r.get('broker') or ''} · {r.get('title') or r['file']}" for r in rows}
        chosen = st.multiselect("选择报告", [r["file"] for r in rows], key="manage_files",
                                format_func=lambda f: titles.get(f, f), placeholder="选择要删除或重新索引的报告")
        b1, b2, _ = st.columns([1, 1, 4])
        reindex_clicked = b1.button("重新索引", key="reindex", icon=":material/refresh:", disabled=not chosen,
                                    width="stretch")
        b2.button("删除", key="delete", icon=":material/delete:", disabled=not chosen, on_click=_ask_delete,
                  width="stretch")
        pending = st.session_state.get("confirm_delete")
        if pending:
            st.warning(f"确认从文库删除 {len(pending)} 份报告？删除后不可在问答中检索，原 PDF 副本也会移除。",
                       icon=":material/warning:")
            d1, d2, _ = st.columns([1, 1, 4])
            d1.button("确认删除", type="primary", key="confirm-delete", on_click=_confirm_delete, width="stretch")
            d2.button("取消", key="cancel-delete", on_click=_cancel_delete, width="stretch")
        if reindex_clicked and chosen:
            with st.spinner(f"正在重新索引 {len(chosen)} 份报告…"):
                st.session_state.manage_results = reindex(lib, list(chosen))
        _show_results(st.session_state.get("manage_results") or [])


# -- main -------------------------------------------------------------------------------------------

def main() -> None:
    st.set_page_config(page_title="yanbao 研报问答", page_icon=":material/library_books:", layout="wide",
                       initial_sidebar_state="expanded")
    st.markdown(CSS, unsafe_allow_html=True)
    st.session_state.setdefault("preview", None)
    with st.sidebar:
        st.markdown("<div class='yb-brand'>yanbao 研报问答</div>", unsafe_allow_html=True)
        st.caption("离线运行 · 每个数字可溯源到原文页")
        page = st.radio("页面", list(PAGES), key="page", label_visibility="collapsed", format_func=PAGES.get)
        st.divider()
    try:
        lib = get_library()
    except Exception as exc:  # noqa: BLE001 — a bad path or config must be explained, not a traceback
        st.error(md_escape(f"无法打开文库 {library_path()}：{type(exc).__name__}: {exc}"), icon=":material/error:")
        _library_path_box()
        return
    try:
        warm_library(lib)
        if page == "library":
            library_page(lib)
        elif page == "figures":
            series_page(lib)
        else:
            chat_page(lib)
    except Exception as exc:  # noqa: BLE001
        # a damaged, busy or mismatched library: its message names the file and the way out
        if type(exc).__name__ not in LIBRARY_ERRORS:
            raise
        st.error(md_escape(f"文库 {library_path()} 无法使用：{exc}"), icon=":material/error:")
    _library_path_box()


def _library_path_box() -> None:
    with st.sidebar:
        with st.expander("文库位置", icon=":material/folder:"):
            st.text_input("文库目录", value=library_path(), key="library_path_input", on_change=_set_library_path,
                          help="回车切换；目录不存在时会新建一个空文库")


if __name__ == "__main__":  # `streamlit run` (and AppTest) execute this file as __main__
    main()

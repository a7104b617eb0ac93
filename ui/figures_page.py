"""The figures page: every value a metric was reported at across the library, as a chart over
periods and as a table, with revisions and conflicts marked, exported as CSV or Excel.

An analyst reads numbers as series ("how did CoreWeave's backlog move quarter by quarter, and
which broker said what, when?"). The entity and metric are picked from what the figure store
holds (or typed); the chart plots one unit family and one kind of period (a fiscal year is not
the calendar year of the same number), one series per broker or per status; clicking a point
or a row opens the cited page with the figure highlighted, as the chat's citations do.

Everything goes through the library contract (``lib.figure_slots()``, ``lib.figures()``) and
``qa.figures`` (export rows and period order), so the page, ``yanbao figures --csv`` and the
exported files hold the same rows.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from qa.figures import (PERIOD_KINDS, Figure, axis_unit, export_rows, period_kind, period_order, to_csv, to_xlsx,
                        unit_groups)

STATUS_NAMES = {"actual": "实际", "guidance": "指引", "forecast": "预测", "target": "目标", "previous": "此前值"}
LABEL_NAMES = {"agree": "一致", "revision": "修订", "conflict": "冲突", "": "首次"}
SERIES_BY = {"broker": "券商", "status": "状态"}
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TABLE_COLUMNS = ["期间", "数值", "状态", "比较", "券商", "报告日期", "页码", "指标原文", "较此前", "引文"]


def slot_id(slot: dict) -> str:
    """A picked metric as one string (a selectbox value that survives reruns)."""
    return "\x1f".join([slot.get("entity") or "", slot.get("metric_key") or "",
                        "" if slot.get("qualifier") is None else slot["qualifier"], slot.get("metric") or ""])


NO_ENTITY = "（未指明公司）"   # figures of no named company: an index, a market, a strategy's backtest


def entity_options(slots: list[dict]) -> list[str]:
    """Entities by how many figures the store holds for them; figures of no company last."""
    counts: dict[str, int] = {}
    for s in slots:
        counts[s["entity"]] = counts.get(s["entity"], 0) + s["count"]
    named = sorted((e for e in counts if e), key=lambda e: (-counts[e], e))
    return named + ([NO_ENTITY] if "" in counts else [])


def metric_options(slots: list[dict], entity: str) -> list[dict]:
    entity = "" if entity == NO_ENTITY else entity
    return [s for s in slots if s["entity"] == entity]


def metric_label(slot: dict) -> str:
    key = f" · {slot['metric_key']}" if slot.get("metric_key") else ""
    return f"{slot['metric']}{key}（{slot['count']}）"


def citation_of(f: Figure) -> dict:
    """A figure as the chat's citation dict: the page preview highlights its quote in its bbox."""
    return {"file": f.file, "page": int(f.page), "quote": f.quote, "bbox": tuple(f.bbox) if f.bbox else None,
            "broker": f.broker, "date": f.date, "title": f.title, "pages": (int(f.page),)}


def table_frame(figures: list[Figure]) -> pd.DataFrame:
    """The table the page shows: one row per figure, in the export's order."""
    rows = []
    for row in export_rows(figures):
        rows.append({"期间": row["period"] or "—", "数值": row["printed"],
                     "状态": STATUS_NAMES.get(row["status"], row["status"]),
                     "比较": LABEL_NAMES.get(row["label"], row["label"]), "券商": row["broker"] or row["file"],
                     "报告日期": row["date"], "页码": f"{row['file']} p.{row['page']}", "指标原文": row["metric"],
                     "较此前": row["against"], "引文": row["quote"]})
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def chart_frame(figures: list[Figure], indices: list[int], series_by: str) -> tuple[pd.DataFrame, str]:
    """The points to plot (``indices`` into ``figures``: one unit family, one period kind) and
    the y axis' unit."""
    chosen = [figures[i] for i in indices]
    divisor, unit = axis_unit(chosen)
    rows = []
    for i in indices:
        f = figures[i]
        series = (f.broker or f.file) if series_by == "broker" else STATUS_NAMES.get(f.status, f.status)
        mark = {"revision": "修订", "conflict": "冲突"}.get(f.label, "")
        rows.append({"row": i, "period": f.period, "value": f.value / divisor, "series": series,
                     "status": STATUS_NAMES.get(f.status, f.status), "label": LABEL_NAMES.get(f.label, f.label),
                     "mark": mark, "printed": f.printed, "broker": f.broker or f.file, "date": f.date,
                     "page": f"p.{f.page}", "against": f.against})
    return pd.DataFrame(rows), unit


def build_chart(frame: pd.DataFrame, unit: str, metric: str) -> alt.LayerChart:
    """Points per series over periods in time order, a line through each series' latest value
    per period, and revisions/conflicts labelled where they are."""
    periods = sorted(frame["period"].unique(), key=period_order)
    x = alt.X("period:O", sort=periods, title="期间", axis=alt.Axis(labelAngle=0))
    name = re.sub(r"\s*[（(][^）)]*[)）]", "", metric).strip() or metric   # "积压订单 (十亿)": the axis has the unit
    y = alt.Y("value:Q", title=f"{name}（{unit}）" if unit else name, scale=alt.Scale(zero=False))
    color = alt.Color("series:N", title="系列")
    pick = alt.selection_point(name="pick", fields=["row"], on="click")
    tooltip = [alt.Tooltip("printed:N", title="数值"), alt.Tooltip("period:N", title="期间"),
               alt.Tooltip("broker:N", title="券商"), alt.Tooltip("date:N", title="报告日期"),
               alt.Tooltip("status:N", title="状态"), alt.Tooltip("label:N", title="比较"),
               alt.Tooltip("against:N", title="较此前"), alt.Tooltip("page:N", title="页码")]
    latest = frame.sort_values(["date", "row"]).groupby(["series", "period"], as_index=False).last()
    line = alt.Chart(latest).mark_line(strokeWidth=1.5, opacity=0.6).encode(x=x, y=y, color=color)
    points = alt.Chart(frame).mark_point(filled=True, size=110, cursor="pointer").encode(
        x=x, y=y, color=color, shape=alt.Shape("status:N", title="状态"), tooltip=tooltip,
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.45)),
    ).add_params(pick)
    marks = alt.Chart(frame[frame["mark"] != ""]).mark_text(dy=-14, fontSize=12, fontWeight="bold").encode(
        x=x, y=y, text="mark:N", color=alt.value("#b45309"))
    return alt.layer(line, points, marks).properties(height=360)


def _picked_row(event: Any, name: str = "pick") -> int | None:
    """The figure index a chart click or a table row selection names, if any."""
    selection = (event or {}).get("selection", {}) if isinstance(event, dict) else getattr(event, "selection", {})
    points = selection.get(name) if isinstance(selection, dict) else getattr(selection, name, None)
    if points:
        value = points[0].get("row") if isinstance(points[0], dict) else None
        return int(value) if value is not None else None
    rows = selection.get("rows") if isinstance(selection, dict) else getattr(selection, "rows", None)
    return int(rows[0]) if rows else None


def _open_picked(key: str, figures: list[Figure], table_rows: list[int] | None,
                 open_citation: Callable[[dict], None]) -> None:
    row = _picked_row(st.session_state.get(key))
    if row is None:
        return
    if table_rows is not None:            # a table row: its position in the shown table
        if row >= len(table_rows):
            return
        row = table_rows[row]
    if 0 <= row < len(figures):
        open_citation(citation_of(figures[row]))


def _same_metric(slot: dict, want: dict) -> bool:
    if want.get("metric_key"):
        return slot["metric_key"] == want["metric_key"] and slot["qualifier"] == want.get("qualifier")
    return slot["metric"] == want.get("metric")


def _typed(value: str | None) -> str:
    return (value or "").strip()


def figures_page(lib, open_citation: Callable[[dict], None], md_escape: Callable[[str], str]) -> None:
    st.markdown("### 数据序列")
    slots = lib.figure_slots() if hasattr(lib, "figure_slots") else []
    if not slots:
        st.info("文库中还没有可列出的数字。先在「文库」页加入研报。", icon=":material/table_chart:")
        return
    entities = entity_options(slots)
    c1, c2 = st.columns([1, 2])
    with c1:
        entity = _typed(st.selectbox("公司 / 业务", entities, key="fig_entity", accept_new_options=True,
                                     placeholder="选择或输入公司", help="按文库中数字的多少排序；可直接输入别名"))
    choices = metric_options(slots, entity)
    ids = [slot_id(s) for s in choices]
    by_id = dict(zip(ids, choices))
    want = st.session_state.pop("fig_want", None)
    if want:                                # from a chat answer: its metric among this entity's
        match = next((i for i, s in zip(ids, choices) if _same_metric(s, want)), None)
        if match is not None:
            st.session_state.fig_metric = match
    with c2:
        wanted_metric = st.session_state.get("fig_metric")
        if wanted_metric is not None and wanted_metric not in by_id:
            st.session_state.pop("fig_metric")   # another entity's metric: start from this one's first
        picked = st.selectbox("指标", ids, key="fig_metric", accept_new_options=True,
                              format_func=lambda i: metric_label(by_id[i]) if i in by_id else i,
                              placeholder="选择或输入指标（如 收入、backlog）")
    if not entity or not picked:
        st.caption("选择公司和指标后，这里列出各报告给出的全部数值。")
        return
    slot = by_id.get(picked)
    unnamed = entity == NO_ENTITY           # the store's figures of no company: asked without one
    asked = None if unnamed else entity
    if slot is not None:
        figures = lib.figures(entity=asked, metric=slot["metric"], qualifier=slot["qualifier"]) if slot["metric_key"] \
            else [f for f in lib.figures(entity=asked, metric=slot["metric"]) if f.metric == slot["metric"]]
        metric_name = slot["metric"]
    else:                                   # typed: resolved through the alias and metric tables
        figures = lib.figures(entity=asked, metric=_typed(picked))
        metric_name = _typed(picked)
    if unnamed:
        figures = [f for f in figures if not f.entity]
    if not figures:
        st.info(f"文库中没有 {md_escape(entity)} 的「{md_escape(metric_name)}」数值。", icon=":material/search_off:")
        return

    revisions = sum(f.label == "revision" for f in figures)
    conflicts = sum(f.label == "conflict" for f in figures)
    reports = len({f.file for f in figures})
    st.markdown(f"<span class='yb-muted'>{len(figures)} 个数值 · {reports} 份报告 · "
                f"{revisions} 处修订 · {conflicts} 处冲突（同一公司、指标、期间与单位内比较）</span>",
                unsafe_allow_html=True)

    # the chart: one unit family, one kind of period
    # one unit family per chart: a report may print the metric as a share and as an amount
    groups = [g for g in unit_groups(figures) if any(f.period for f in g)] or unit_groups(figures)
    index_of = {id(f): i for i, f in enumerate(figures)}
    group = groups[0]
    if len(groups) > 1:
        names = [f"{axis_unit(g)[1] or '无单位'}（{len(g)}）" for g in groups]
        chosen = st.selectbox("图中单位", range(len(groups)), key="fig_unit", format_func=names.__getitem__,
                              help="同一指标以不同单位报告时，图中一次只画一种；表中列出全部")
        group = groups[chosen if chosen is not None and chosen < len(groups) else 0]
    kinds: dict[str, list[int]] = {}
    for f in group:
        if f.period:                        # a figure of no known period has no place on the time axis
            kinds.setdefault(period_kind(f.period), []).append(index_of[id(f)])
    if not kinds:
        st.caption("这些数值都没有可识别的期间，无法按期间作图；见下表。")
    else:
        _chart(figures, kinds, slot_id(slot) if slot else picked, metric_name, open_citation)

    # the table: every figure, in report-date order (the export's rows)
    table = table_frame(figures)
    table_key = f"fig-table-{slot_id(slot) if slot else picked}"
    st.dataframe(table, key=table_key, hide_index=True, width="stretch", on_select=_on_table(
        table_key, figures, open_citation), selection_mode="single-row",
        column_config={"引文": st.column_config.TextColumn(width="large"),
                       "较此前": st.column_config.TextColumn(width="medium")})
    st.caption("点击图中的点或表中的一行，右侧显示该数值所在的原文页，数字以黄色标出。")
    stem = f"yanbao-figures-{entity}-{metric_name}"[:80].replace("/", "_")
    with st.container(horizontal=True, key="fig-export"):
        st.download_button("导出 CSV", data=to_csv(figures).encode("utf-8-sig"), file_name=f"{stem}.csv",
                           mime="text/csv", icon=":material/download:", key="fig-csv", on_click="ignore")
        st.download_button("导出 Excel", data=to_xlsx(figures), file_name=f"{stem}.xlsx", mime=XLSX_MIME,
                           icon=":material/table_view:", key="fig-xlsx", on_click="ignore")


def _chart(figures: list[Figure], kinds: dict[str, list[int]], slot_key: str, metric_name: str,
           open_citation: Callable[[dict], None]) -> None:
    """The chart of one period kind (picked when there are several), series by broker or status."""
    kind_names = sorted(kinds, key=lambda k: -len(kinds[k]))
    o1, o2, _ = st.columns([1, 1, 2])
    kind = o1.selectbox("期间类型", kind_names, key="fig_kind", format_func=lambda k: PERIOD_KINDS.get(k, k)) \
        if len(kind_names) > 1 else kind_names[0]
    series_by = o2.radio("系列", list(SERIES_BY), key="fig_series", horizontal=True, format_func=SERIES_BY.get)
    frame, unit = chart_frame(figures, kinds.get(kind, kinds[kind_names[0]]), series_by)
    chart_key = f"fig-chart-{slot_key}-{kind}-{series_by}"
    with st.container(key="fig-chart-box"):
        st.altair_chart(build_chart(frame, unit, metric_name), key=chart_key, on_select=_on_chart(
            chart_key, figures, open_citation), selection_mode="pick", width="stretch")
    left_out = len(figures) - len(frame)
    if left_out:
        st.caption(f"图中为{PERIOD_KINDS.get(kind, kind)}、单位「{unit or '无'}」的 {len(frame)} 个数值；"
                   f"其余 {left_out} 个（其他期间类型、单位或无期间）见下表。")


def _on_chart(key: str, figures: list[Figure], open_citation) -> Callable[[], None]:
    return lambda: _open_picked(key, figures, None, open_citation)


def _on_table(key: str, figures: list[Figure], open_citation) -> Callable[[], None]:
    return lambda: _open_picked(key, figures, list(range(len(figures))), open_citation)

"""ingest.facts: every printed figure with its slots (metric, entity, period, status).

All sentences and tables here are invented (companies 甲/乙/Acme/Globex); none comes from the
sample reports or a gold question."""
from __future__ import annotations

import pytest

from index.query import metric_key_of, metric_qualifier
from ingest.facts import Fact, extract_facts, not_yet_happened, period_label, period_start, sentence_facts, table_facts
from ingest.model import Block, BlockKind, Document, DocumentMeta, Page, Table, TableFragment
from ingest.numbers import extract_quantities

NAMES = {"甲公司": "Jia", "乙公司": "Yi", "Acme": "Acme", "Globex": "Globex"}


def finder(text: str) -> list[tuple[int, str]]:
    out = []
    for alias, name in NAMES.items():
        start = text.find(alias)
        while start >= 0:
            out.append((start, name))
            start = text.find(alias, start + 1)
    return sorted(out)


def fact(text: str, printed: str, **kw) -> Fact:
    facts = sentence_facts(text, find_entities=finder, **kw)
    found = [f for f in facts if f.printed.replace(" ", "") == printed.replace(" ", "")]
    assert found, f"{printed!r} not among {[f.printed for f in facts]}"
    return found[0]


# ---------------------------------------------------------------------------------------------
# sentences: metric, period and status of each figure

SENTENCES = [
    # text, printed figure, expected slots (metric_key via the metric synonyms; "" = unknown)
    ("截至 2Q25 末，甲公司在手订单达到 120 亿美元，同比增长 40%。", "120 亿美元",
     dict(period="2025Q2", status="actual", key="backlog", entity="Jia", kind="amount")),
    ("截至 2Q25 末，甲公司在手订单达到 120 亿美元，同比增长 40%。", "40%",
     dict(period="2025Q2", status="actual", key="growth_yoy", entity="Jia", kind="percent")),
    ("乙公司 2024 年营业收入 56.3 亿元，环比增长 8%。", "8%",
     dict(period="2024", key="growth_qoq", entity="Yi")),
    ("公司将 2027 年营收指引由 30-32 亿美元上调至 34-36 亿美元。", "30-32 亿美元",
     dict(period="2027", status="previous", key="revenue")),
    ("公司将 2027 年营收指引由 30-32 亿美元上调至 34-36 亿美元。", "34-36 亿美元",
     dict(period="2027", status="guidance", key="revenue")),
    ("Management raised FY2027 revenue guidance from $8.0 billion to $8.6 billion.", "$8.0 billion",
     dict(period="FY2027", status="previous", key="revenue")),
    ("Management raised FY2027 revenue guidance from $8.0 billion to $8.6 billion.", "$8.6 billion",
     dict(period="FY2027", status="guidance", key="revenue")),
    ("我们预计 2028 年甲公司净利润将达到 15 亿元。", "15 亿元",
     dict(period="2028", status="forecast", key="net_income", entity="Jia")),
    ("Acme expects capex of $12 billion in 2029.", "$12 billion",
     dict(period="2029", status="forecast", key="capex", entity="Acme")),
    ("2027 财年第二季度 Globex 营收 88 亿元。", "88 亿元",
     dict(period="FY2027Q2", status="actual", key="revenue", entity="Globex")),
    ("Globex FY2026 Q4 revenue was $3.2 billion.", "$3.2 billion",
     dict(period="FY2026Q4", key="revenue", entity="Globex")),
    ("Acme revenue was $2.1 billion in Q3 2025, up 25% YoY.", "25%",
     dict(period="2025Q3", key="growth_yoy", entity="Acme")),
    ("Acme revenue was $2.1 billion in Q3 2025, up 25% YoY.", "$2.1 billion",
     dict(period="2025Q3", key="revenue", status="actual")),
    ("甲公司收入 12 亿元（2024 年），毛利率 35%。", "12 亿元",
     dict(period="2024", key="revenue")),
    ("公司目标 2030 年数据中心容量达到 5 GW。", "5 GW",
     dict(period="2030", status="target")),
    ("乙公司毛利率同比提升 3.5 个百分点至 41%。", "3.5 个百分点",
     dict(kind="pp", entity="Yi")),
    ("乙公司毛利率同比提升 3.5 个百分点至 41%。", "41%",
     dict(kind="percent", entity="Yi")),
    ("2025-2028 年行业市场规模复合增速为 18%。", "18%",
     dict(period="2025-2028")),
    ("2026 年一季度 Acme 的 ARR 为 9.5 亿美元，Globex 的 ARR 为 4.1 亿美元。", "9.5 亿美元",
     dict(period="2026Q1", key="arr", entity="Acme")),
    ("2026 年一季度 Acme 的 ARR 为 9.5 亿美元，Globex 的 ARR 为 4.1 亿美元。", "4.1 亿美元",
     dict(period="2026Q1", key="arr", entity="Globex")),
    ("Globex's gross margin reached 62% in 1H26.", "62%",
     dict(period="2026H1", key="gross_margin", entity="Globex")),
    ("预计 2027E 甲公司 EBITDA 为 7.7 亿元。", "7.7 亿元",
     dict(period="2027", status="forecast", key="ebitda")),
]


@pytest.mark.parametrize("text, printed, want", SENTENCES, ids=[f"s{i}" for i in range(len(SENTENCES))])
def test_sentence_fact_slots(text, printed, want):
    f = fact(text, printed)
    got = {"period": f.period, "status": f.status, "key": metric_key_of(f.metric), "entity": f.entity,
           "kind": f.kind}
    assert {k: got[k] for k in want} == want, f"metric phrase {f.metric!r}"


def test_a_later_sentence_inherits_the_paragraph_period_and_subject():
    text = "2025 年 Acme 实现收入 10 亿元。毛利率为 42%。"
    f = fact(text, "42%")
    assert (f.period, f.entity, metric_key_of(f.metric)) == ("2025", "Acme", "gross_margin")


def test_a_change_belongs_to_the_figure_before_it_not_to_another_change():
    text = "甲公司在手订单 300 亿美元，同比增长 80%、环比增长 20%。"
    assert "在手订单" in fact(text, "20%").metric and "环比" in fact(text, "20%").metric
    assert "同比" not in fact(text, "20%").metric


def test_figures_keep_their_value_unit_and_currency():
    f = fact("Acme 2025 年资本开支 1,250 亿美元。", "1,250 亿美元")
    assert (f.value, f.currency, f.unit) == (1.25e11, "USD", "")


def test_sentence_provenance():
    f = fact("甲公司收入 5 亿元。", "5 亿元", file="r.pdf", page=3, bbox=(1.0, 2.0, 3.0, 4.0))
    assert (f.file, f.page, f.bbox, f.text) == ("r.pdf", 3, (1.0, 2.0, 3.0, 4.0), "甲公司收入 5 亿元。")


def test_years_dates_and_ordinals_are_not_facts():
    facts = sentence_facts("2025 年 7 月 1 日，公司发布第 3 版报告（表 2）。")
    assert facts == []


@pytest.mark.parametrize("printed, label", [
    ("1Q26", "2026Q1"), ("2026年一季度", "2026Q1"), ("FY2026 Q3", "FY2026Q3"), ("2026财年第三季度", "FY2026Q3"),
    ("2026H1", "2026H1"), ("2027E", "2027"), ("2025", "2025"),
])
def test_period_labels_are_normalised(printed, label):
    q = next(q for q in extract_quantities(f"{printed} 收入") if q.kind in ("period", "year"))
    assert period_label(q) == label


# ---------------------------------------------------------------------------------------------
# tables: from the cell grid

def table(header, rows, caption="", unit="", fragments=None, boilerplate=False) -> Table:
    return Table(id="t1", caption=caption, unit=unit, header=header, rows=rows, boilerplate=boilerplate,
                 fragments=fragments or [TableFragment(page=4, bbox=(0, 0, 100, 100), row_start=0, row_end=len(rows))])


def cell(facts, row, col) -> Fact:
    return next(f for f in facts if (f.row, f.col) == (row, col))


FORECAST_TABLE = table([["项目", "2025A", "2026E", "2027E"]],
                       [["营业收入(亿元)", "100", "120", "150"], ["净利润(亿元)", "10", "12", "15"],
                        ["毛利率(%)", "30.1", "31.5", "33.0"]])


def test_period_columns_give_period_and_status_and_row_labels_give_the_metric():
    facts = table_facts(FORECAST_TABLE, file="r.pdf")
    f = cell(facts, 0, 2)
    assert (f.period, f.status, metric_key_of(f.metric), f.value, f.currency) == \
        ("2026", "forecast", "revenue", 1.2e10, "CNY")
    actual = cell(facts, 1, 1)
    assert (actual.period, actual.status, metric_key_of(actual.metric), actual.value) == \
        ("2025", "actual", "net_income", 1e9)


def test_a_percent_row_label_makes_its_cells_percentages():
    f = cell(table_facts(FORECAST_TABLE), 2, 3)
    assert (f.unit, f.value, f.kind, f.period) == ("%", 33.0, "percent", "2027")


def test_caption_unit_and_caption_period_reach_bare_cells():
    t = table([["公司", "资本开支"]], [["Acme", "350"], ["Globex", "120"]], caption="表3：2026 年资本开支（亿美元）")
    facts = table_facts(t, find_entities=finder)
    f = cell(facts, 0, 1)
    assert (f.value, f.currency, f.period, f.entity, metric_key_of(f.metric)) == (3.5e10, "USD", "2026", "Acme", "capex")
    assert cell(facts, 1, 1).entity == "Globex"


def test_metric_columns_each_name_their_own_metric():
    t = table([["公司", "收入(亿元)", "毛利率"]], [["甲公司", "20", "35%"]], caption="表1：2024 年经营数据")
    facts = table_facts(t, find_entities=finder)
    assert metric_key_of(cell(facts, 0, 1).metric) == "revenue" and cell(facts, 0, 1).value == 2e9
    assert metric_key_of(cell(facts, 0, 2).metric) == "gross_margin" and cell(facts, 0, 2).unit == "%"
    assert {f.period for f in facts} == {"2024"} and {f.entity for f in facts} == {"Jia"}


def test_two_level_headers_put_the_metric_above_the_period():
    t = table([["", "收入", "收入"], ["公司", "2025", "2026"]], [["Acme", "5.0", "6.5"]], unit="亿元")
    f = cell(table_facts(t, find_entities=finder), 0, 2)
    assert (metric_key_of(f.metric), f.period, f.entity, f.value) == ("revenue", "2026", "Acme", 6.5e8)


def test_a_row_on_the_next_page_is_cited_on_that_page():
    frags = [TableFragment(page=4, bbox=(0, 0, 1, 1), row_start=0, row_end=2),
             TableFragment(page=5, bbox=(0, 0, 2, 2), row_start=2, row_end=3)]
    t = table(FORECAST_TABLE.header, FORECAST_TABLE.rows, fragments=frags)
    facts = table_facts(t)
    assert cell(facts, 0, 1).page == 4 and cell(facts, 2, 1).page == 5
    assert cell(facts, 2, 1).text == "毛利率(%)\t30.1\t31.5\t33.0"


def test_a_sentence_in_a_cell_is_read_as_a_sentence_and_keeps_its_cell():
    t = table([["公司", "最新进展"]], [["Acme", "2026 年收入 8 亿美元，同比增长 60%"]])
    facts = table_facts(t, find_entities=finder)
    growth = next(f for f in facts if f.printed == "60%")
    assert (growth.row, growth.col, growth.table_id, metric_key_of(growth.metric)) == (0, 1, "t1", "growth_yoy")
    assert next(f for f in facts if f.value == 8e8).entity == "Acme"


@pytest.mark.parametrize("header, row, period", [
    ([["公司", "季度", "最新进展"]], ["Acme", "2026Q1", "收入 8 亿美元，同比增长 60%"], "2026Q1"),
    ([["公司", "年份", "要点"]], ["Acme", "2025 年", "营收 30 亿元，同比增长 12%"], "2025"),
    ([["公司", "2026Q2"]], ["Acme", "收入 9 亿美元，环比增长 5%"], "2026Q2"),
])
def test_a_sentence_in_a_cell_takes_the_period_of_its_row_or_column(header, row, period):
    facts = table_facts(table(header, [row]), find_entities=finder)
    assert len(facts) == 2 and {f.period for f in facts} == {period}


def test_a_sentence_in_a_cell_naming_its_own_period_keeps_it():
    t = table([["公司", "季度", "最新进展"]], [["Acme", "2026Q1", "2025 年收入 8 亿美元，同比增长 6%"]])
    assert {f.period for f in table_facts(t, find_entities=finder)} == {"2025"}


def test_boilerplate_tables_have_no_facts():
    assert table_facts(table([["评级", "说明"]], [["买入", "超越基准 15%以上"]], boilerplate=True)) == []


def test_a_guidance_caption_makes_its_cells_guidance():
    t = table([["公司", "2026"]], [["Acme", "40"]], caption="表2：各公司资本开支指引（亿美元）")
    assert cell(table_facts(t), 0, 1).status == "guidance"


# ---------------------------------------------------------------------------------------------
# a document: headings carry period and subject; boilerplate is skipped

def test_extract_facts_walks_paragraphs_and_tables_and_skips_boilerplate():
    blocks = [Block(BlockKind.HEADING, "1. Acme：2026 年一季度业绩", 1, (0, 0, 1, 1), level=1),
              Block(BlockKind.PARAGRAPH, "收入 12 亿美元，同比增长 30%。", 1, (0, 10, 1, 11)),
              Block(BlockKind.PARAGRAPH, "免责声明：过往业绩 100% 不代表未来。", 1, (0, 20, 1, 21), boilerplate=True),
              Block(BlockKind.TABLE, "", 1, (0, 30, 1, 31), table_id="t1")]
    doc = Document(DocumentMeta(file="r.pdf"), [Page(1, 100, 100, blocks)], [table(
        [["项目", "2026E"]], [["收入(亿美元)", "55"]])])
    facts = extract_facts(doc, find_entities=finder)
    revenue = next(f for f in facts if f.value == 1.2e9)
    assert (revenue.period, revenue.entity, revenue.page) == ("2026Q1", "Acme", 1)
    assert not any(f.value == 100.0 for f in facts)
    assert any(f.table_id == "t1" and f.status == "forecast" for f in facts)


def test_a_row_of_periods_under_a_spanning_header_is_the_second_header_level():
    t = table([["代码", "公司", "营业收入", "", "", "PE", "", ""]],
              [["", "", "2024A", "2025E", "2026E", "2024A", "2025E", "2026E"],
               ["000001.SZ", "甲公司", "10", "12", "15", "30", "25", "20"]], unit="亿元")
    facts = table_facts(t, find_entities=finder)
    revenue = cell(facts, 1, 3)
    assert (metric_key_of(revenue.metric), revenue.period, revenue.status, revenue.value, revenue.entity) == \
        ("revenue", "2025", "forecast", 1.2e9, "Jia")
    pe = cell(facts, 1, 6)
    assert (metric_key_of(pe.metric), pe.period, pe.value, pe.currency) == ("pe", "2025", 25.0, "")
    assert not any(f.row == 0 for f in facts)          # the period row holds no facts


def test_a_price_or_ratio_column_does_not_take_the_tables_money_unit():
    t = table([["公司", "收盘价", "市值", "毛利率"]], [["Acme", "50.5", "142", "35.1"]], unit="亿元")
    facts = table_facts(t)
    assert cell(facts, 0, 1).currency == "" and cell(facts, 0, 1).value == 50.5
    assert cell(facts, 0, 2).value == 1.42e10
    assert cell(facts, 0, 3).currency == ""


def test_a_header_cell_holding_a_label_and_its_periods_spans_their_columns():
    t = table([["公司", "代码", "EPS(元) 2024 2025E 2026E", "", ""]],
              [["甲公司", "000001.SZ", "0.50", "0.62", "0.80"]], unit="亿元")
    facts = table_facts(t, find_entities=finder)
    f = cell(facts, 0, 4)
    assert (metric_key_of(f.metric + " " + f.item), f.period, f.status, f.printed) == ("eps", "2026", "forecast", "0.80 元")
    assert cell(facts, 0, 2).period == "2024" and cell(facts, 0, 2).status == "actual"


@pytest.mark.parametrize("text, old, new", [
    ("甲公司组合多空收益从年化 12.5% 提高到了年化 15.0%。", "12.5%", "15.0%"),
    ("跟踪误差从静态组合的 4.10% 下降到了 3.20%。", "4.10%", "3.20%"),
    ("Globex revenue rose from $3.0 billion to $3.6 billion.", "$3.0 billion", "$3.6 billion"),
])
def test_a_value_replaced_in_the_same_sentence_is_previous_and_keeps_the_metric(text, old, new):
    before, after = fact(text, old), fact(text, new)
    assert (before.status, after.status) == ("previous", "actual")
    assert before.metric == after.metric and before.metric


def test_from_at_the_start_of_a_sentence_is_not_a_revision():
    assert fact("从技术上看，甲公司在 5 个数据集上领先。", "5个").status == "actual"


# --- counts name what they count: number, classifier, noun ------------------------------------

def test_a_count_is_named_by_the_noun_after_its_classifier():
    f = fact("截至年底，甲公司共运营 18 座数据中心，服务客户 600 家。", "18座")
    assert "数据中心" in f.metric and f.kind == "count"


def test_a_count_after_a_comma_takes_its_own_noun_not_the_previous_figures():
    facts = sentence_facts("乙公司部署了 40 个机房，9,000 块加速卡，以及 75 兆瓦的供电容量。", find_entities=finder)
    by = {f.printed.replace(" ", ""): f.metric for f in facts}
    assert "机房" in by["40个"] and "加速卡" in by["9,000块"] and "加速卡" not in by["40个"]
    assert "供电容量" in by["75兆瓦"]


def test_a_duration_keeps_its_time_unit():
    f = fact("该集群完成一次全量训练用时 41.5 分钟。", "41.5分钟")
    assert f.kind == "duration"


def test_a_percentage_is_not_a_count():
    f = fact("丙公司毛利率 35% 的水平高于同业。", "35%")
    assert f.unit == "%" and f.kind == "percent"


def test_a_clause_that_only_links_to_the_figure_continues_the_clause_before():
    assert "毛利率" in fact("甲公司本季度整体毛利率持续改善，达到 41.2%。", "41.2%").metric
    assert "渗透率" in fact("从时间上看，乙产品的渗透率快速提升，约为 18%。", "18%").metric
    assert "相关性" in fact("两个因子之间的相关性较强，为0.58，高于同类。", "0.58").metric


def test_the_denominator_of_a_per_unit_price_is_not_a_figure():
    facts = sentence_facts("标准版请求收费为 0.04 美元/1000 token，回复收费为 0.08 美元/1000 token。")
    assert [f.printed.replace(" ", "") for f in facts] == ["0.04美元", "0.08美元"]


def test_a_scale_in_the_row_label_beats_the_tables_unit():
    t = table([["项目", "1Q30", "2Q30"]], [["订单余额 (十亿)", "12.5", "14.0"], ["收入", "300", "320"]],
              unit="百万美元")
    facts = table_facts(t)
    assert cell(facts, 0, 1).value == 1.25e10
    assert cell(facts, 1, 1).value == 3e8


def test_the_words_before_a_figure_in_a_notes_cell_qualify_it():
    t = table([["站点", "状态", "容量", "说明"]], [["甲站点", "建设中", "40 MW", "一期工程，远期 180 MW 可扩展"]])
    facts = table_facts(t)
    assert "远期" in cell(facts, 0, 3).metric and "远期" not in cell(facts, 0, 2).metric


def test_shares_are_counted_in_gu():
    f = fact("乙公司获得可转换为逾 1500 万股 A 类普通股的认股权证。", "1500 万股")
    assert f.kind == "count" and "普通股" in f.metric


# --- "分别": listed periods or names go to the listed figures in order ---------------------------

def test_listed_periods_go_to_the_figures_respectively():
    facts = sentence_facts("2027年、2028年和2029年甲公司收入分别为10亿元、15亿元和22亿元。", find_entities=finder)
    assert [(f.printed, f.period) for f in facts] == [("10亿元", "2027"), ("15亿元", "2028"), ("22亿元", "2029")]
    assert all("收入" in f.metric for f in facts)


def test_a_span_of_fiscal_years_is_spelled_out_and_a_bracketed_figure_shares_its_period():
    facts = sentence_facts("FY2027 至 FY2029 的 EBITDA 分别为 12.0 亿元（利润率 5%）、15.5 亿元（利润率 6%）以及 20.1 亿元"
                           "（利润率 8%）。", find_entities=finder)
    by = {f.printed.replace(" ", ""): f for f in facts}
    assert [by[p].period for p in ("12.0亿元", "15.5亿元", "20.1亿元")] == ["FY2027", "FY2028", "FY2029"]
    margins = [f for f in facts if f.unit == "%"]
    assert [(f.period, "利润率" in f.metric) for f in margins] == [("FY2027", True), ("FY2028", True), ("FY2029", True)]


def test_listed_names_go_to_the_figures_respectively():
    facts = sentence_facts("Acme、Globex 的资本开支分别为 80 亿美元、65 亿美元。", find_entities=finder)
    assert [(f.printed.replace(" ", ""), f.entity) for f in facts] == [("80亿美元", "Acme"), ("65亿美元", "Globex")]


def test_a_count_mismatch_leaves_the_figures_alone():
    facts = sentence_facts("2027年、2028年收入分别为10亿元、15亿元和22亿元。", find_entities=finder)
    # two periods, three figures: not paired off (each keeps the period named nearest before it)
    assert [f.period for f in facts] == ["2028", "2028", "2028"]


def test_slash_paired_periods_and_figures_go_together_respectively():
    facts = sentence_facts("Acme 2027 /2028年收入同比增速分别为 120%/85%。", find_entities=finder)
    assert [(f.printed, f.period) for f in facts] == [("120%", "2027"), ("85%", "2028")]


def test_words_inside_an_open_bracket_before_a_figure_name_it():
    f = fact("服务质量高（如乙公司单实例可用性99.95%，跨区99.99%）", "99.95%")
    assert "可用性" in f.metric
    assert fact("营业收入（亿元 120）", "120").metric == "营业收入"


def test_what_one_count_counts_is_not_the_next_counts_name():
    facts = sentence_facts("每台整机包含 64 颗 Orion Max 加速芯片、32 个 Nova 主控处理器以及 16 个 Link-2 网络单元。")
    by = {f.printed.replace(" ", ""): f.metric for f in facts}
    assert "加速芯片" in by["64颗"] and "加速芯片" not in by["32个"] and "主控处理器" in by["32个"]
    assert "主控处理器" not in by["16个"] and "网络单元" in by["16个"]


def test_a_measured_figure_may_be_followed_directly_by_what_it_measures():
    by = {f.printed.replace(" ", ""): f.metric for f in
          sentence_facts("截至年末，乙公司拥有 12个园区，380MW有功功率，总签约电力1.6GW。")}
    assert "有功功率" in by["380MW"] and "签约电力" in by["1.6GW"]
    assert "提升" not in fact("甲公司收入 20 亿美元进一步提升，毛利率 30%。", "20 亿美元").metric


# --- a report cannot state an actual of a period that had not begun --------------------------

@pytest.mark.parametrize("period, start", [("2026Q2", "2026-04-01"), ("2026H2", "2026-07-01"), ("2027", "2027-01-01"),
                                           ("2026Q4", "2026-10-01"), ("FY2026Q1", ""), ("2025-2027", ""), ("", "")])
def test_period_start(period, start):
    assert period_start(period) == start


def _fact(period: str, status: str = "actual") -> Fact:
    return Fact(value=1.0, low=1.0, high=1.0, unit="", currency="", printed="1", kind="amount", metric="订单",
                period=period, status=status, file="r.pdf", page=1, text="")


@pytest.mark.parametrize("period, status, after", [
    ("2027Q1", "actual", "forecast"),     # the quarter starts after the report: not an actual
    ("2026Q1", "actual", "actual"),       # it had begun (a quarter in progress may be reported)
    ("2026", "actual", "actual"),         # a year to date
    ("2027", "target", "target"),         # only actuals change
    ("FY2027", "actual", "actual"),       # a fiscal calendar is the company's: unknown
])
def test_a_figure_of_a_period_not_yet_begun_is_a_forecast(period, status, after):
    (fact,) = not_yet_happened([_fact(period, status)], "2026-02-15")
    assert fact.status == after and fact.estimate == (after == "forecast")


def test_no_report_date_changes_nothing():
    assert not_yet_happened([_fact("2030Q1")], "")[0].status == "actual"


# --- what qualifies a metric (same key, different figure) ------------------------------------

@pytest.mark.parametrize("phrase, qualifier", [
    ("收入", ""), ("海外收入", "海外"), ("海外 电池收入", "电池"), ("公司 毛利率", ""), ("年收入", ""),
    ("点评 某某 收入", ""),             # a heading before the sentence is not part of the metric
    ("Zeta 云业务收入", "云业务"),
])
def test_metric_qualifier(phrase, qualifier):
    assert metric_qualifier(phrase) == qualifier


# --- a row that is only a change belongs to the row above it ------------------------------------

@pytest.mark.parametrize("label, change", [("YoY (%)", True), ("同比", True), ("yoy", True), ("环比增长", True),
                                           ("增速（%）", True), ("QoQ%", True), ("收入", False), ("YoY 收入", False),
                                           ("Acme", False), ("", False)])
def test_a_change_row_label(label, change):
    from ingest.facts import is_change_row
    assert is_change_row(label) is change


def test_a_change_row_is_the_growth_of_the_row_above():
    t = table([["公司", "2025Q4", "2026Q1"]],
              [["Acme", "120", "150"], ["YoY (%)", "30%", "45%"], ["Globex", "80", "84"], ["同比", "10%", "5%"]],
              caption="表1：资本开支（亿美元）")
    facts = table_facts(t, find_entities=finder)
    acme_growth, globex_growth = cell(facts, 1, 2), cell(facts, 3, 2)
    assert (acme_growth.entity, acme_growth.value, acme_growth.period) == ("Acme", 45.0, "2026Q1")
    assert globex_growth.entity == "Globex" and globex_growth.value == 5.0
    assert cell(facts, 2, 2).entity == "Globex"            # a level row is its own subject


def test_a_change_row_unit_names_its_subject_in_the_evidence():
    from ingest.model import Chunk
    from qa.evidence import units_from
    text = "表1：资本开支（亿美元）\n公司 | 2025Q4 | 2026Q1\nAcme | 120 | 150\nYoY (%) | 30% | 45%\nGlobex | 80 | 84"
    units = units_from(Chunk(id="r.pdf#0", file="r.pdf", kind="table", text=text, pages=[1], bboxes=[]), 0)
    growth = next(u for u in units if u.text.startswith("YoY"))
    assert "Acme" in growth.full and "Globex" not in growth.full
    assert "Acme" not in next(u for u in units if u.text.startswith("Globex")).full.split("\n")[-2]


# --- a four-digit number among figures is a figure, not a year -------------------------------


def test_a_four_digit_score_in_a_row_of_scores_is_a_figure():
    t = table([["评测", "样例模型甲", "样例模型乙", "样例模型丙"]], [["Arena (Elo)", "1187", "1642", "2031"]])
    facts = table_facts(t)
    assert [f.value for f in sorted(facts, key=lambda f: f.col)] == [1187, 1642, 2031]
    assert cell(facts, 0, 3).item == "样例模型丙" or cell(facts, 0, 3).metric == "样例模型丙"


def test_a_year_column_of_founding_dates_stays_years():
    t = table([["公司", "成立年份", "员工数"]], [["样例科技", "2015", "1200"], ["样例云", "2019", "860"]])
    assert {f.value for f in table_facts(t)} == {1200, 860}


def test_a_year_as_the_row_label_stays_the_label():
    t = table([["年份", "收入(亿元)", "利润(亿元)"]], [["2024", "1,980", "120"], ["2025", "2,030", "150"]])
    facts = table_facts(t)
    assert sorted(round(f.value / 1e8) for f in facts) == [120, 150, 1980, 2030]
    assert cell(facts, 1, 1).period.startswith("2025")


@pytest.mark.parametrize("text, printed, period", [
    # a clause about the other (or each) periods does not take the period just named
    ("2027 年甲公司毛利率 38%，其余年份毛利率均低于 30%。", "30%", ""),
    ("除 2028 年亏损 2 亿元外，其他时段的利润率均不低于 6%。", "6%", ""),
    ("2029 年乙公司出货 300 万台，各年的库存周转率都在 4.5 以上，净利率都在 3% 以上。", "3%", ""),
    ("In 2027 Acme's margin was 12%; in other years it stayed below 9%.", "9%", ""),
    # a period counted back from the report's date is not the period of the sentence before
    ("2026 年乙公司净利率为 12%。今年以来股价上涨 18%。", "18%", ""),
    ("2025 年乙公司收入 100 亿元，近一年股价上涨 30%。", "30%", ""),
    # the period named keeps its figures
    ("2027 年甲公司毛利率 38%，其余年份毛利率均低于 30%。", "38%", "2027"),
    ("除 2028 年亏损 2 亿元外，其他时段的利润率均不低于 6%。", "2 亿元", "2028"),
    # a rate per year of the period named stays that period's
    ("预计 2027-2029 年甲公司收入每年增长 30%。", "30%", "2027-2029"),
])
def test_a_clause_about_other_periods_takes_no_period(text, printed, period):
    assert fact(text, printed).period == period


def test_a_return_to_drawdown_ratio_is_not_the_drawdown():
    assert metric_key_of("收益回撤比") == "return_drawdown"
    assert metric_key_of("Calmar ratio") == "return_drawdown"
    assert metric_key_of("最大回撤") == "max_drawdown"


@pytest.mark.parametrize("text, printed, words", [
    # "N 的 X": the noun after 的, ending its clause, is what the figure measures
    ("甲公司的检索模型能够达到 81.5% 的召回率，而排序模型仅为 70.2%。", "81.5%", "召回率"),
    ("乙公司实现 120 亿元的营业收入，同比增长 15%。", "120 亿元", "营业收入"),
    ("Acme 持有该合资公司 35% 的股权。", "35%", "股权"),
])
def test_the_noun_after_a_figure_and_de_names_it(text, printed, words):
    assert words in fact(text, printed).metric


def test_a_noun_after_de_that_runs_on_is_not_taken():
    # the noun phrase does not end its clause: not what the figure measures
    assert "用户" not in fact("甲公司覆盖 30% 的用户群体中的头部客户。", "30%").metric


@pytest.mark.parametrize("text, printed, period", [
    # a maturity date is not the period a figure is reported for
    ("2031年4月甲公司发行可转债 20 亿元，票息1.5%，2037年到期，初始转股价约88.5元。", "88.5元", "2031"),
    ("乙公司债券将于 2035 年 6 月到期，票面利率 3.2%。", "3.2%", ""),
    ("In 2031 Acme issued notes due 2036 with a coupon of 4.5%.", "4.5%", "2031"),
    # a year that is not a maturity stays the period
    ("2031 年甲公司收入 50 亿元，2032 年收入 60 亿元。", "60 亿元", "2032"),
])
def test_a_maturity_date_is_not_the_reported_period(text, printed, period):
    assert fact(text, printed).period == period

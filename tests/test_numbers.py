"""ingest.numbers: finding, normalising, comparing and formatting figures."""
from __future__ import annotations

import pytest

from ingest.numbers import Quantity, extract_quantities, format_quantity, number_in_text, parse_quantity, same_value


def figures(text: str) -> list[Quantity]:
    return [q for q in extract_quantities(text) if q.kind == "figure"]


def one(text: str) -> Quantity:
    return parse_quantity(text)


# ---------------------------------------------------------------------------------------------
# scales, units and currencies

@pytest.mark.parametrize("text, value, unit, currency", [
    ("994亿美元", 9.94e10, "", "USD"),
    ("994 亿美元", 9.94e10, "", "USD"),
    ("994 亿 美元", 9.94e10, "", "USD"),
    ("US$99.4 billion", 9.94e10, "", "USD"),
    ("$99.4bn", 9.94e10, "", "USD"),
    ("99,400 million USD", 9.94e10, "", "USD"),
    ("5,530万美元", 5.53e7, "", "USD"),
    ("5 万亿", 5e12, "", ""),
    ("3 千亿元", 3e11, "", "CNY"),
    ("2 百万", 2e6, "", ""),
    ("3 千万元人民币", 3e7, "", "CNY"),
    ("5千", 5e3, "", ""),
    ("1.2 trillion", 1.2e12, "", ""),
    ("700 thousand", 7e5, "", ""),
    ("RMB 300mn", 3e8, "", "CNY"),
    ("33K tokens/s", 3.3e4, "", ""),
    ("198.7 亿元人民币", 1.987e10, "", "CNY"),
    ("CNY 5", 5.0, "", "CNY"),
    ("12亿港元", 1.2e9, "", "HKD"),
    ("HK$5.2", 5.2, "", "HKD"),
    ("HKD 8", 8.0, "", "HKD"),
    ("25%", 25.0, "%", ""),
    ("25％", 25.0, "%", ""),
    ("2 个百分点", 2.0, "pp", ""),
    ("3pct", 3.0, "pp", ""),
    ("1.5pp", 1.5, "pp", ""),
    ("50bp", 0.5, "pp", ""),
    ("25 基点", 0.25, "pp", ""),
    ("3.3倍", 3.3, "x", ""),
    ("18.3x", 18.3, "x", ""),
    ("360兆瓦", 3.6e8, "W", ""),
    ("1.2GW", 1.2e9, "W", ""),
    ("550 W", 550.0, "W", ""),          # a spaced unit, as an LLM writes it
    ("950TWh", 9.5e14, "Wh", ""),
])
def test_scale_unit_and_currency_are_canonical(text, value, unit, currency):
    q = one(text)
    assert q.kind == "figure"
    assert q.value == pytest.approx(value)
    assert (q.unit, q.currency) == (unit, currency)


def test_scale_is_what_the_printed_digits_were_multiplied_by():
    q = one("994 亿美元")
    assert q.scale == 1e8 and q.printed == (994.0, 994.0)


@pytest.mark.parametrize("text, low, high, unit, currency", [
    ("1800-1900 亿美元", 1.8e11, 1.9e11, "", "USD"),
    ("1800亿-1900亿美元", 1.8e11, 1.9e11, "", "USD"),
    ("15%-20%", 15.0, 20.0, "%", ""),
    ("15-20%", 15.0, 20.0, "%", ""),
    ("1800~1900", 1800.0, 1900.0, "", ""),
    ("1800 至 1900", 1800.0, 1900.0, "", ""),
    ("51.5–53.5亿美元", 5.15e9, 5.35e9, "", "USD"),
    ("660亿美元至720亿美元", 6.6e10, 7.2e10, "", "USD"),
    ("US$180-190 billion", 1.8e11, 1.9e11, "", "USD"),
    ("2~3 成", 20.0, 30.0, "%", ""),
    ("-5%—5%", -5.0, 5.0, "%", ""),
])
def test_ranges(text, low, high, unit, currency):
    q = one(text)
    assert q.is_range
    assert (q.low, q.high) == (pytest.approx(low), pytest.approx(high))
    assert (q.unit, q.currency) == (unit, currency)


def test_a_change_from_one_value_to_another_is_not_a_range():
    assert [q.value for q in figures("利润率从 24%至 45%")] == [24.0, 45.0]


def test_slash_list_shares_the_unit_printed_after_it():
    assert [(q.value, q.currency) for q in figures("上调至 40.0/60.0 亿元")] == [(4e9, "CNY"), (6e9, "CNY")]


@pytest.mark.parametrize("text, value", [
    ("10,865", 10865.0),
    ("2,496 颗", 2496.0),
    ("33,333,334股", 33333334.0),
    ("９９４亿美元", 9.94e10),
    ("１０，８６５", None),        # a full-width comma is a Chinese comma, not a separator
])
def test_thousands_separators_and_full_width_digits(text, value):
    found = figures(text)
    if value is None:
        assert [q.value for q in found] == [10.0, 865.0]
    else:
        assert [q.value for q in found] == [pytest.approx(value)]


def test_raw_is_the_exact_substring_of_the_input_even_when_full_width():
    text = "收入 ９９４ 亿美元，同比＋２８％"
    for q in extract_quantities(text):
        assert text[q.span[0]:q.span[1]] == q.raw
    assert [q.raw for q in extract_quantities(text)] == ["９９４ 亿美元", "＋２８％"]


@pytest.mark.parametrize("text, value", [
    ("-5%", -5.0), ("同比-3%", -3.0), ("环比 -22.54%", -22.54), ("YoY-5%", -5.0), ("−0.4", -0.4),
    ("$-5", -5.0), ("YOY+684%", 684.0),
])
def test_signs(text, value):
    assert one(text).value == pytest.approx(value)


def test_accounting_parentheses_in_a_table_cell_are_negative():
    assert [q.value for q in figures("EBITDA (mn)\n343\n(68)\n(52)")] == [343.0, -68.0, -52.0]


def test_pdf_wraps_between_number_and_unit_are_read_through():
    assert one("1250-1450 亿美\n元").currency == "USD"
    assert one("约输入 0.8\n元/百万 tokens").currency == "CNY"


# ---------------------------------------------------------------------------------------------
# non-figures

@pytest.mark.parametrize("text, kind, value, unit", [
    ("2026年", "year", 2026.0, ""),
    ("2026 年", "year", 2026.0, ""),
    ("in 2024 revenue", "year", 2024.0, ""),
    ("2026E", "year", 2026.0, "E"),
    ("1Q26", "period", 2026.0, "Q1"),
    ("Q1 2026", "period", 2026.0, "Q1"),
    ("2026Q1", "period", 2026.0, "Q1"),
    ("2024 Q1", "period", 2024.0, "Q1"),
    ("2026年一季度", "period", 2026.0, "Q1"),
    ("2026 年第三季", "period", 2026.0, "Q3"),
    ("25年Q1", "period", 2025.0, "Q1"),
    ("Q3", "period", 0.0, "Q3"),
    ("2025H1", "period", 2025.0, "H1"),
    ("2025 上半年", "period", 2025.0, "H1"),
    ("FY2026 Q3", "period", 2026.0, "FYQ3"),
    ("FY26Q3", "period", 2026.0, "FYQ3"),
    ("FY1Q27", "period", 2027.0, "FYQ1"),
    ("FY2025", "period", 2025.0, "FY"),
    ("2026 财年四季度", "period", 2026.0, "FYQ4"),
    ("表1：", "ordinal", 1.0, ""),
    ("图 15: ", "ordinal", 15.0, ""),
    ("第3名", "ordinal", 3.0, ""),
    ("(1) 需求端", "ordinal", 1.0, ""),
    ("1.3.1. 收入模式", "ordinal", 1.0, ""),
    ("1.1 各大云厂商", "ordinal", 1.0, ""),
])
def test_years_periods_and_ordinals_are_tagged(text, kind, value, unit):
    q = one(text)
    assert (q.kind, q.value, q.unit) == (kind, value, unit)


def test_equal_periods_in_different_notations():
    labels = {format_quantity(one(t)) for t in ("1Q26", "Q1 2026", "2026Q1", "2026年一季度", "2026 年第一季度")}
    assert labels == {"2026Q1"}


def test_previous_quarter_is_not_q1():
    assert [q.kind for q in extract_quantities("对比上一季度（25Q3）")] == ["period"]


@pytest.mark.parametrize("text, expected", [
    ("2026 年 7 月 1 日", [("year", 2026.0, ""), ("date", 7.0, "month"), ("date", 1.0, "day")]),
    ("July 1, 2026", [("date", 7.0, "month"), ("date", 1.0, "day"), ("year", 2026.0, "")]),
    ("2025/4/16", [("year", 2025.0, ""), ("date", 4.0, "month"), ("date", 16.0, "day")]),
    ("2022年-2024年", [("year", 2022.0, "")]),
])
def test_dates_are_split_into_year_month_day(text, expected):
    assert [(q.kind, q.value, q.unit) for q in extract_quantities(text)] == expected


def test_a_year_range_is_one_year_quantity():
    q = one("2024-2026年")
    assert (q.kind, q.is_range, q.low, q.high) == ("year", True, 2024.0, 2026.0)


def test_durations_and_counts_stay_figures():
    assert [(q.kind, q.value) for q in extract_quantities("服务期限4年，3 个月，2048块H800")] == \
        [("figure", 4.0), ("figure", 3.0), ("figure", 2048.0)]


@pytest.mark.parametrize("text", ["H100 GPU", "GB200 NVL72", "GPT-4o-0513", "DeepSeek-R1", "9988.HK",
                                  "021-60199793", "12:58 pm"])
def test_digits_inside_names_codes_and_times_are_not_numbers(text):
    assert extract_quantities(text) == []


def test_year_like_figure_with_unit_is_a_figure():
    assert one("超过 2060GW").kind == "figure"


# ---------------------------------------------------------------------------------------------
# same_value

@pytest.mark.parametrize("a, b", [
    ("994亿美元", "US$99.4 billion"),
    ("994亿美元", "99,400 million USD"),
    ("994亿美元", "994亿"),                 # an unstated currency does not contradict
    ("0.07亿美元", "700万美元"),
    ("6.43亿美元", "$643 million"),
    ("1800-1900 亿美元", "US$180-190 billion"),
    ("50bp", "0.5个百分点"),
    ("0.0723", "7.23%"),
    ("36%", "36.00%"),
    ("1Q26", "2026年一季度"),
])
def test_same_value(a, b):
    assert same_value(one(a), one(b)) and same_value(one(b), one(a))


@pytest.mark.parametrize("a, b", [
    ("994亿美元", "994亿元"),               # currency mismatch
    ("994亿美元", "994亿港元"),
    ("2%", "2个百分点"),                    # percent is not percentage points
    ("994亿美元", "988亿美元"),             # 0.6 % apart: beyond the tolerance
    ("1800-1900 亿美元", "1800亿美元"),     # range vs single value
    ("15%-20%", "15%-25%"),
    ("25", "2500%"),                        # only a fraction <= 1 reads as a percent
    ("2026年", "2026E"),                   # actual year vs estimate column
    ("2026Q1", "2026Q2"),
    ("7月", "7日"),
])
def test_different_value(a, b):
    assert not same_value(one(a), one(b))


def test_years_compare_exactly_not_within_tolerance():
    assert not same_value(one("2026年"), one("2030年"))


# ---------------------------------------------------------------------------------------------
# number_in_text

@pytest.mark.parametrize("number, text, present", [
    ("994", "Backlog 达到 994 亿美元", True),        # bare: the printed digits with any scale
    ("994", "9940", False),
    ("994", "US$99.4 billion", False),             # re-scaling needs the unit a bare number lacks
    ("994亿美元", "US$99.4 billion", True),
    ("994亿美元", "积压订单升至 994 亿元", False),
    ("10,865", "收入 10865 亿元", True),
    ("51.5", "51.5–53.5亿美元", True),              # an endpoint of a range is present
    ("51.5亿美元", "51.5–53.5亿美元", True),
    ("70-90", "ARR 指引 70-90 亿美元", True),
    ("70-90", "ARR 指引 70 亿美元，90 亿美元", False),  # a range needs the range
    ("2个百分点", "增速高出 2%", False),
    ("25", "毛利率约 25%", True),
    ("1", "1Q26 收入", False),                      # digits of a period are not a figure
    ("994", "９９４亿美元", True),
])
def test_number_in_text(number, text, present):
    assert number_in_text(number, text) is present


def test_number_in_text_rejects_a_needle_without_exactly_one_figure():
    with pytest.raises(ValueError):
        number_in_text("EasyClaw", "EasyClaw 449%")


# ---------------------------------------------------------------------------------------------
# format_quantity

@pytest.mark.parametrize("text, zh, en", [
    ("994亿美元", "994亿美元", "US$99.4 billion"),
    ("US$99.4 billion", "994亿美元", "US$99.4 billion"),
    ("700万美元", "700万美元", "US$7 million"),
    ("5 万亿", "5万亿", "5 trillion"),
    ("10,865", "10865", "10,865"),
    ("1800-1900 亿美元", "1800-1900亿美元", "US$180-190 billion"),
    ("25%", "25%", "25%"),
    ("2 个百分点", "2个百分点", "2 pp"),
    ("3.3倍", "3.3倍", "3.3x"),
    ("360兆瓦", "360MW", "360MW"),
    ("2026年", "2026年", "2026"),
    ("FY2026 Q3", "FY2026Q3", "FY2026Q3"),
    ("7月", "7月", "July"),
])
def test_format_quantity(text, zh, en):
    q = one(text)
    assert format_quantity(q, "zh") == zh
    assert format_quantity(q, "en") == en


@pytest.mark.parametrize("text", ["994亿美元", "6.43亿美元", "1800-1900 亿美元", "4975亿元", "15%-20%", "0.5个百分点"])
def test_formatting_round_trips(text):
    q = one(text)
    for lang in ("zh", "en"):
        assert same_value(one(format_quantity(q, lang)), q)


@pytest.mark.parametrize("text, figures", [
    ("沪深300增强组合年化超额收益 12.3%", ["12.3%"]),
    ("中证1000中的月均 RankIC 为 5%", ["5%"]),
    ("The CSI 500 enhanced portfolio returned 18.91%", ["18.91%"]),
    ("上证50成分股共 30 只", ["30"]),
    ("沪深 300 指数上涨 2%", ["2%"]),
    ("公司收入 300 亿元", ["300 亿元"]),          # a plain amount stays an amount
])
def test_digits_in_a_stock_index_name_are_not_figures(text, figures):
    assert [q.raw for q in extract_quantities(text) if q.kind == "figure"] == figures


def test_digits_glued_to_a_capital_are_a_models_name_not_a_figure():
    assert [q for q in extract_quantities("公司将推出芯片 770D，制程升级至 3NE。") if q.kind == "figure"] == []
    assert [q.raw for q in extract_quantities("模型参数量 70B") if q.kind == "figure"] == ["70B"]   # a scale


def test_a_two_digit_year_before_a_word_is_a_year_and_a_duration_is_not():
    assert [(q.kind, q.value) for q in extract_quantities("31年出货量有望翻倍")] == [("year", 2031.0)]
    assert [(q.kind, q.value) for q in extract_quantities("28年 Rubin 平台放量")] == [("year", 2028.0)]
    assert [q.kind for q in extract_quantities("合同期限 20 年以上")] == ["figure"]
    assert [q.kind for q in extract_quantities("过去 18 年，")] == ["figure"]


def test_a_single_scale_letter_glued_to_digits_is_a_unit():
    assert [q.raw for q in extract_quantities("算力规模最高可达 18000P") if q.kind == "figure"] == ["18000"]


@pytest.mark.parametrize("text", ["分组月度收益（2011.03-2018.09）", "样本期 2009.01 至 2017.12", "回测区间：2015/06~2019/03"])
def test_a_span_of_months_is_dates_not_a_figure(text):
    found = extract_quantities(text)
    assert not [q for q in found if q.kind == "figure"], found
    assert sorted(q.value for q in found if q.kind == "year")[0] >= 2009


@pytest.mark.parametrize("text, raw", [("规模 2019.12-2020.03亿元", "2019.12-2020.03亿元"),
                                       ("收益率区间 2015.06 - 2014.03", "2015.06 - 2014.03")])
def test_figures_that_only_look_like_months_stay_figures(text, raw):
    assert [q.raw for q in extract_quantities(text) if q.kind == "figure"] == [raw]


@pytest.mark.parametrize("text, raw, value", [
    # a metric name glued to its amount (PDF text without the space)
    ("2031 年指引 GMV55-60 亿美元", "55-60 亿美元", 5.5e9),
    ("经调整EBITDA12亿元", "12亿元", 1.2e9),
    ("Capex180-190亿美元", "180-190亿美元", 1.8e10),
    ("GMV35万元", "35万元", 3.5e5),
])
def test_an_amount_glued_to_a_metric_name_is_a_figure(text, raw, value):
    found = [q for q in extract_quantities(text) if q.kind == "figure"]
    assert [q.raw for q in found] == [raw] and found[0].value == value


@pytest.mark.parametrize("text", ["H100万卡集群", "GPT-4 的上下文", "Claude-3.5", "A800 显卡"])
def test_a_model_name_with_digits_stays_a_name(text):
    assert not [q for q in extract_quantities(text) if q.kind == "figure" and q.scale > 1]

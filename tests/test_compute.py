"""Computed answers (qa/compute.py) on small synthetic evidence: each compared term anchors
its own figure, the result carries its unit, and evidence missing a term computes nothing."""
from __future__ import annotations

import pytest

from qa.answer import unsupported_numbers
from qa.compute import (asks_difference, asks_share, compute_difference, compute_share, compute_sum,
                        states_share)

# ---------------------------------------------------------------------------------------------
# 1. a table row of bare cells: the result takes the unit of the header or the caption

ROW = [("营收 (亿美元)", "甲公司"), ("2025Q1", "120"), ("2025Q2", "135"), ("2025Q3", "150"), ("2025Q4", "171"),
       ("2026Q1", "198")]
ROW_CONTEXT = "第二章\n表3：营收\n营收 (亿美元) | 2025Q1 | 2025Q2 | 2025Q3 | 2025Q4 | 2026Q1"


def test_a_difference_of_bare_cells_carries_the_header_unit():
    comp = compute_difference("甲公司2026Q1营收比2025Q1增加了多少？", "", ROW, context=ROW_CONTEXT)
    assert comp.result == "78 亿美元" and comp.formula == "198 − 120"
    assert set(comp.inputs) == {"198", "120"}


def test_the_unit_may_come_from_the_caption():
    row = [("", "乙公司"), ("2024", "30"), ("2025", "45")]
    comp = compute_difference("乙公司2025年订单比2024年多多少？", "", row, context="h\n表2：订单（单位：亿元）\n | 2024 | 2025")
    assert comp.result == "15 亿元"


def test_a_bracketed_row_unit_and_a_currency_header():
    row = [("$", "Bookings (mn)"), ("2025 Q3", "300"), ("2025 Q4", "420"), ("2026Q1", "610")]
    comp = compute_difference("By how much did bookings (US$ mn) increase from 2025Q4 to 2026Q1?", "", row,
                              context="h\nTable 2\n$ | 2025 Q3 | 2025 Q4 | 2026Q1")
    assert comp.result == "$190 mn" and comp.formula == "610 − 420"


def test_a_row_without_the_asked_period_computes_nothing():
    assert compute_difference("甲公司2026Q1营收比2024Q1增加了多少？", "", ROW, context=ROW_CONTEXT) is None


def test_percentage_cells_give_percentage_points():
    row = [("", "客户甲"), ("2023", "30%"), ("2024", "55%")]
    comp = compute_difference("客户甲的收入占比从2023年到2024年提高了多少个百分点？", "", row)
    assert comp.result == "25个百分点"


# ---------------------------------------------------------------------------------------------
# 2. the asked periods anchor the figures; money questions take money, pp questions take %

def test_a_sentence_missing_an_asked_period_is_no_evidence():
    q = "丙公司2025年收入比2024年增加了多少？"
    assert compute_difference(q, "2021年-2024年丙公司收入从0.5亿美元增长至12.3亿美元。") is None


def test_each_period_anchors_its_own_figure():
    q = "丙公司2025年收入比2024年增加了多少？"
    comp = compute_difference(q, "丙公司 2024 年收入 12.3 亿美元，2025 年收入提升至 30.5 亿美元，同比增长 148%。")
    # growth asked with no unit: the change, and the rate from the earlier year beside it
    assert comp.result == "18.2 亿美元（+148.0%）" and set(comp.inputs) == {"12.3 亿美元", "30.5 亿美元"}


def test_the_sentence_before_may_print_the_other_period():
    q = "丙公司2025年收入比2024年增加了多少？"
    sentence = "2025 年收入进一步提升至 30.5 亿美元，同比增长 148%；"
    assert compute_difference(q, sentence) is None
    comp = compute_difference(q, sentence, context="第三章\n丙公司 2024 年收入 12.3 亿美元，同比增长约 600%；")
    assert comp.result == "18.2 亿美元（+148.0%）"
    # not when the sentence before speaks of another company
    other = compute_difference(q, sentence, context="第三章\nCoreWeave 2024 年收入 19.15 亿美元；")
    assert other is None


TEXT = "2023年，丁科技云业务收入为2.10亿元，2024年提升至5.35亿元，同比增长155%，云业务收入占比从20%提升至60%。"


def test_a_money_question_takes_money_figures():
    comp = compute_difference("丁科技2024年云业务收入比2023年增加多少？", TEXT)
    assert comp.result == "3.25 亿元（+154.8%）" and set(comp.inputs) == {"2.10亿元", "5.35亿元"}


def test_a_percentage_point_question_takes_percentages_not_growth_rates():
    comp = compute_difference("丁科技云业务收入占比从2023年到2024年提高了多少个百分点？", TEXT)
    assert comp.result == "40个百分点" and set(comp.inputs) == {"20%", "60%"}


def test_a_relative_period_is_read_against_the_period_beside_it():
    q = "By how much did Foo's ARR rise from the end of 4Q25 to the end of 1Q26?"
    comp = compute_difference(q, "1Q26 末，ARR 达到 9.6 亿美元，较上季度末的 7.1 亿美元环比增长超过30%。")
    assert comp.result == "2.5 亿美元（+35.2%）"
    assert compute_difference(q, "1Q26 末，ARR 达到 9.6 亿美元，环比增长超过30%。") is None


def test_a_period_inside_another_is_not_a_second_compared_period():
    q = "Per the report (Aug 2025), by how much did Foo raise its full-year 2025 capex guidance?"
    comp = compute_difference(q, "Foo将2025年全年资本支出预期从600亿美元上调至约680亿美元；")
    assert comp.result == "80 亿美元"


def test_the_overall_figure_is_the_headline_one():
    row = [("公司", "戊"), ("最新披露期", "2026 财年二季度"), ("财务表现", "云收入 300 亿元，同比+21%；外部客户收入增速 26%。")]
    comp = compute_difference("戊云2026财年二季度外部客户收入增速比整体收入增速高几个百分点？", "", row)
    assert comp.result == "5个百分点"


# ---------------------------------------------------------------------------------------------
# 3. from … to …: the change, not a figure picked verbatim

def test_a_decline_between_two_months_keeps_the_per_unit():
    q = "A100服务器的月租金从2023年3月到2025年3月下降了多少？"
    assert asks_difference(q)
    comp = compute_difference(q, "A100的租金从2023年3月的约8万元/台/月，下降到2025年3月的约5.5万元/台/月，降幅31%；")
    assert comp.result == "2.5 万元/台/月（-31.2%）" and set(comp.inputs) == {"8万元", "5.5万元"}


# ---------------------------------------------------------------------------------------------
# 4. the highest minus the lowest of a list, under the asked period

LIST = ("2025 年全年研发费用合计 100.0亿元（各季度分别为 20.0 亿、30.5 亿、25.0 亿、24.5 亿），"
        "2024 年合计 80.0 亿元（各季度分别为 10.0 亿、25.0 亿、20.0 亿、25.0 亿）。")


def test_max_minus_min_of_the_list_of_the_asked_year():
    comp = compute_difference("己公司2025年各季度研发费用中，最高的季度比最低的季度多多少？", LIST)
    assert comp.result == "10.5 亿元" and set(comp.inputs) == {"30.5 亿", "20.0 亿"}
    comp = compute_difference("己公司2024年各季度研发费用中，最高的季度比最低的季度多多少？", LIST)
    assert comp.result == "15 亿元" and set(comp.inputs) == {"25.0 亿", "10.0 亿"}


def test_no_list_for_the_asked_year_computes_nothing():
    assert compute_difference("己公司2023年各季度研发费用中，最高的季度比最低的季度多多少？", LIST) is None


def test_max_minus_min_across_period_columns_of_a_row():
    comp = compute_difference("甲公司2025年各季度营收中最高的季度比最低的季度高多少？", "", ROW, context=ROW_CONTEXT)
    assert comp.result == "51 亿美元" and comp.formula == "171 − 120"


# ---------------------------------------------------------------------------------------------
# 5. the bounds of a range

def test_the_gap_between_the_bounds_of_a_range():
    q = "庚公司2026年全年资本开支指引的上下限相差多少？"
    assert compute_difference(q, "庚公司将全年资本开支指引上调，区间为 450-520 亿美元。").result == "70 亿美元"
    comp = compute_difference(q, "资本支出范围在450亿美元至520亿美元之间；")
    assert comp.result == "70 亿美元" and comp.inputs == ("450亿美元至520亿美元",)
    assert not unsupported_numbers(list(comp.inputs), ["资本支出范围在450亿美元至520亿美元之间；"])


def test_a_change_is_not_a_range():
    q = "庚公司2026年全年资本开支指引的上下限相差多少？"
    assert compute_difference(q, "庚公司将全年资本开支从450亿美元上调至520亿美元。") is None


# ---------------------------------------------------------------------------------------------
# 6. a share of a whole, when the share is not printed

SHARE_Q = "2024年中国私有云市场规模占云计算市场总规模的比重是多少？"


def test_a_share_from_the_part_and_the_whole():
    assert asks_share(SHARE_Q) and not asks_share("2024年私有云市场规模是多少？")
    sentence = "其中，公有云市场规模 3000 亿元，同比增长 30%，私有云市场规模 1000 亿元，同比增长 20%。"
    assert compute_share(SHARE_Q, sentence) is None  # the whole is not in the sentence
    comp = compute_share(SHARE_Q, sentence, "h\n据统计，2024 年我国云计算市场规模 4000 亿元，同比增长 28%。")
    assert comp.result == "25%" and comp.inputs == ("1000 亿元", "4000 亿元")
    assert comp.formula == "1000 亿元 / 4000 亿元"


def test_a_printed_share_is_not_computed():
    text = "2024 年我国云计算市场规模 4000 亿元，其中私有云占比 25%。"
    assert states_share(SHARE_Q, text)
    assert compute_share(SHARE_Q, text) is None
    # a share of something else in another clause does not count
    assert not states_share(SHARE_Q, "根据 IDC 的中国芯片出货报告，甲公司出货量占比 70%。")


def test_an_english_share_question():
    q = "What share of Foo's FY1Q27 revenue came from data center?"
    comp = compute_share(q, "FY1Q27, revenue was US$81.0 billion, of which data center revenue was US$70.2 billion.")
    assert comp.result == "86.7%"


def test_a_part_larger_than_the_whole_is_no_share():
    text = "私有云市场规模 1000 亿元，云计算 IaaS 市场规模 400 亿元。"
    assert compute_share(SHARE_Q, text) is None


# ---------------------------------------------------------------------------------------------
# the earlier mechanisms still hold

def test_two_named_items_in_one_sentence():
    comp = compute_difference("2024年中国公有云市场规模比私有云市场规模高出多少？",
                              "其中，公有云市场规模 6216 亿元，同比增长 36.6%，私有云市场规模 2072 亿元。")
    assert comp.result == "4144 亿元" and comp.inputs == ("6216 亿元", "2072 亿元")


def test_a_sum_of_two_named_items():
    comp = compute_sum("甲公司与乙公司的融资合计多少？", "甲公司融资 2.5亿美元，乙公司融资 3.5亿美元。")
    assert comp.result == "6亿美元"


def test_a_year_on_year_rate_is_asked_not_computed():
    assert not asks_difference("甲公司2025Q1收入是多少？同比增长多少？")
    assert not asks_difference("乙公司毛利率环比提升多少个百分点？")
    assert asks_difference("甲公司1Q26利息费用较去年同期增加了多少？")
    comp = compute_difference("甲公司1Q26利息费用较去年同期增加了多少？", "1Q26，公司利息费用 3.05 亿美元，去年同期为 1.20 亿美元。")
    assert comp.result == "1.85 亿美元（+154.2%）"


# --- "增长多少" with no unit asked: the change and the rate ----------------------------------------

GROWN = "样例机构数据显示，2023年样例储能市场规模为820亿元，2024年将增至1,066亿元。"


@pytest.mark.parametrize("question, result", [
    ("2024年样例储能市场规模较2023年增长多少？", "246 亿元（+30.0%）"),
    ("How much does the market grow from 2023 to 2024?", "246 亿元（+30.0%）"),
    ("2024年样例储能市场规模较2023年增长多少亿元？", "246 亿元"),       # a unit asked: the change alone
    ("2023年与2024年样例储能市场规模相差多少？", "246 亿元"),            # a gap, not a growth
    ("2024年样例储能市场规模较2023年下降多少？", "246 亿元"),            # it grew: no rate for a decline
])
def test_a_growth_question_without_a_unit_gets_the_rate_beside_the_change(question, result):
    comp = compute_difference(question, GROWN)
    assert comp is not None and comp.result == result


def test_a_raised_guidance_grows_from_the_earlier_figure():
    comp = compute_difference("公司资本开支指引上调后提高了多少？", "公司将全年资本开支指引由 40 亿元上调至 52 亿元。")
    assert comp.result == "12 亿元（+30.0%）" and comp.formula.endswith("÷ 40 亿元")
    assert compute_difference("资本开支指引上调了多少亿元？", "公司将全年资本开支指引由 40 亿元上调至 52 亿元。").result == "12 亿元"


# ---------------------------------------------------------------------------------------------
# differences asked as an excess, a gap or a beat

EXCESS = "截至 2031 年末，Zeta 在手订单达到 512 亿元，剩余履约义务达到 498 亿元。"


@pytest.mark.parametrize("question", [
    "Zeta 2031 年末的在手订单超出剩余履约义务多少？",
    "Zeta 2031 年末在手订单与剩余履约义务的差额是多少？",
    "At the end of 2031, how much larger was Zeta's backlog than its remaining performance obligations?",
])
def test_an_excess_or_a_gap_is_a_difference(question):
    assert asks_difference(question)
    comp = compute_difference(question, EXCESS)
    assert comp is not None and comp.result == "14 亿元"


def test_a_beat_against_consensus_is_a_difference():
    text = "2031Q1 Zeta 收入 5.12 亿美元, 同比+80%, 高于彭博一致预期 (4.98 亿)。"
    for question in ("By how much did Zeta's Q1 2031 revenue beat the consensus estimate?",
                     "Zeta 2031Q1 实际收入较一致预期多出多少？"):
        assert asks_difference(question)
        assert compute_difference(question, text).result == "0.14 亿美元"


def test_exceeding_a_threshold_is_not_a_difference():
    assert not asks_difference("收入超过 100 亿元的公司有多少家？")
    assert not asks_difference("Zeta 上线 5 天时用户数已超过多少？")          # a level reached, not a gap
    assert not asks_difference("How many customers exceeded 1,000 GPUs?")


def test_two_metrics_of_one_sentence_are_told_apart_by_their_names_in_either_language():
    # the English names of a metric anchor its figure in a Chinese sentence
    comp = compute_difference("How much larger was Zeta's backlog than its RPO at the end of 2031?", EXCESS)
    assert comp.inputs == ("512 亿元", "498 亿元")


# ---------------------------------------------------------------------------------------------
# complements, and figures that belong to a compared term

def test_a_negated_category_is_the_whole_minus_the_part():
    from qa.compute import asks_complement, compute_complement
    days = "回测期 1200 个交易日中获得正收益的 700 天，盈利天数占比 58.33%。"
    q = "Zeta 策略回测中没有取得正收益的交易日有多少天？"
    assert asks_complement(q) and compute_complement(q, days).result == "500"
    sales = "2031Q1，公司实现收入 300 亿元，同比增长 40%；其中数据中心收入达到 210 亿元，同比增长 60%。"
    for q in ("Zeta 2031Q1 数据中心以外的收入是多少？", "Zeta 2031Q1 非数据中心收入是多少？",
              "What was Zeta's Q1 2031 revenue other than data center?"):
        assert compute_complement(q, sales).result == "90 亿元", q


def test_no_complement_without_a_negation_or_a_whole():
    from qa.compute import asks_complement, compute_complement
    assert not asks_complement("Zeta 未来三年的收入是多少？")            # 未来 is the future, not a negation
    assert not asks_complement("Zeta 2031Q1 云业务收入是多少？")
    # the part alone is printed: nothing to subtract it from
    assert compute_complement("Zeta 非数据中心收入是多少？", "其中数据中心收入达到 210 亿元。") is None


def test_a_figure_inside_a_compared_term_is_not_an_input():
    text = "基于业绩后50%的基金所构建的因子溢价延续比例为61.5%，远高于基于业绩前50%的基金所构建的因子（45.1%）。"
    comp = compute_difference("业绩后50%基金的因子溢价延续比例比业绩前50%基金的因子高多少个百分点？", text)
    assert comp.inputs == ("61.5%", "45.1%")


def test_the_change_printed_after_the_asked_period():
    text = "跟踪误差从静态组合的3.78%下降到了2.98%，2031 年的跟踪误差从6.63%下降到了3.18%。"
    comp = compute_difference("Zeta 组合 2031 年的跟踪误差比静态组合下降了多少个百分点？", text)
    assert set(comp.inputs) == {"6.63%", "3.18%"}
    whole = compute_difference("Zeta 组合的跟踪误差比静态组合下降了多少个百分点？", text)
    assert set(whole.inputs) == {"3.78%", "2.98%"}


def test_a_multiple_of_two_items_of_one_sentence():
    from qa.compute import compute_multiple
    text = "其中，Zeta 公有云市场规模 6216 亿元，同比增长 36.6%，私有云市场规模 2072 亿元，同比增长 29.3%。"
    for q in ("2031 年 Zeta 公有云市场规模是私有云的几倍？",
              "How many times larger was Zeta's public cloud market than its private cloud market in 2031?"):
        comp = compute_multiple(q, text)
        assert comp.result == "3倍" and comp.inputs == ("6216 亿元", "2072 亿元"), q
    assert compute_multiple("私有云市场规模是公有云的几倍？", text).result == "0.33倍"
    # one side missing from the evidence: nothing computed
    assert compute_multiple("Zeta 混合云市场规模是私有云的几倍？", text) is None


def test_one_company_named_on_one_side_only_still_computes_from_a_sentence_about_it():
    text = "截至 2031Q1 末，公司在手订单达到 512 亿元，剩余履约义务达到 498 亿元。"
    comp = compute_difference("英伟达 2031Q1 末的在手订单超出剩余履约义务多少？", text)   # a known company
    assert comp is not None and comp.result == "14 亿元"


def test_a_combined_figure_asked_in_english_word_order():
    from qa.compute import asks_sum
    text = "据此我们估算，Zeta 份额 29%，Borealis 份额 21%，Acme 份额 16%。"
    q = "What is the combined Q1 2031 market share of Zeta and Borealis?"
    assert asks_sum(q) and compute_sum(q, text).result == "50%"
    ipo = "2031年3月 IPO 15亿元; Zeta 锚定2.5亿元, Borealis 同步认购3.5亿元"
    assert compute_sum("What was the combined amount of Zeta's anchor order and Borealis's subscription?",
                       ipo).result == "6亿元"
    assert not asks_sum("What is the total revenue of Zeta in 2031?")


@pytest.mark.parametrize("question, text", [
    # the whole of one year over the part of another is no share
    ("2031年公有云市场规模占云计算市场总规模的比重是多少？",
     "2029 年我国云计算市场规模 4000 亿元，2031 年公有云市场规模 3000 亿元。"),
    ("What share of Foo's FY2032 revenue came from data center?",
     "FY2030 revenue was US$81.0 billion; FY2032 data center revenue was US$70.2 billion."),
    ("2031年私有云市场规模占云计算市场总规模的比重是多少？",
     "2029 年我国云计算市场规模 4000 亿元，2031 年私有云市场规模 1000 亿元。"),
])
def test_a_share_takes_part_and_whole_of_one_period(question, text):
    assert compute_share(question, text) is None


@pytest.mark.parametrize("text", [
    "其中私有云占比将从 2029 年的 20.5% 提升至 2031 年的 25.0%。",
    "其中私有云占比预计为 25%。",
    "私有云的份额进一步提升到 25%。",
])
def test_a_share_printed_after_words_and_years_is_stated(text):
    assert states_share(SHARE_Q, text)


@pytest.mark.parametrize("question, text", [
    # one of two compared models, and its own change over time: not the asked gap
    ("2031年6月，K800与K20 两款服务器的月租金相差多少？",
     "K800 的租赁价格从 2029 年 6 月的约 12 万元/台/月，下降到 2031 年 6 月的约 7.5 万元/台/月。"),
    ("Z7 与 Z5 芯片的售价相差多少？", "Z7 芯片售价由 1200 美元下调至 999 美元。"),
    ("Q900 与 R500 的显存相差多少？", "Q900 显存从 40GB 升级到 80GB。"),
])
def test_two_things_compared_are_not_answered_by_one_things_change(question, text):
    assert compute_difference(question, text) is None


def test_a_gap_between_two_models_both_printed_is_computed():
    comp = compute_difference("2031年6月，K800与K20 两款服务器的月租金相差多少？",
                              "2031 年 6 月 K800 的租金约 7.5 万元/台/月，K20 约 2.8 万元/台/月。")
    assert comp is not None and comp.result.startswith("4.7")
    # the same thing earlier is still its change
    assert compute_difference("甲公司的毛利率比去年同期高多少？", "甲公司毛利率从 30% 提升至 35%。").result.startswith("5")
    # a period code is no model number
    assert compute_difference("By how much did Zeta's Q1 2031 revenue beat the consensus estimate?",
                              "2031Q1 Zeta 收入 5.12 亿美元，高于彭博一致预期 (4.98 亿)。") is not None


@pytest.mark.parametrize("question, text, result", [
    # each model's figure of the asked period, not its first figure
    ("2031年6月，K800与K20 两款服务器的月租金相差多少？",
     "K800 的租赁价格从 2029 年 6 月的约 12 万元/台/月，下降到 2031 年 6 月的约 7.5 万元/台/月；"
     "K20 的租赁价格从 2030 年 6 月的约 3.4 万元/台/月，下降到 2031 年 6 月的约 2.8 万元/台/月。", "4.7"),
    ("2032年，M3 与 M2 芯片的出货量相差多少？",
     "M3 出货量 2031 年 120 万片，2032 年 300 万片；M2 出货量 2031 年 200 万片，2032 年 180 万片。", "120"),
    ("Z9与Z7 平台的月活相差多少？", "Z7 平台月活 800 万，Z9 平台月活 1500 万。", "700"),
])
def test_a_gap_between_two_models_takes_each_ones_asked_figure(question, text, result):
    comp = compute_difference(question, text)
    assert comp is not None and comp.result.startswith(result)

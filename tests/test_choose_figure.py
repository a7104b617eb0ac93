"""Which figure of a sentence answers: a rate asked is a percentage, a factor named in the
question picks its own mention of the metric, a setting asked is the value after its name, and
a gap the sentence states is read rather than computed. Invented sentences throughout."""
from __future__ import annotations

import pytest

from index.query import parse_query
from ingest.model import Chunk
from qa.answer import answer_by_extraction
from qa.compute import stated_difference
from qa.evidence import score_units, units_from


def _chunk(text: str, file: str = "q.pdf") -> Chunk:
    return Chunk(id=f"{file}#0", file=file, kind="text", text=text, pages=[3],
                 bboxes=[(3, (0, 0, 100, 100))], heading_path=["模型回测"])


def _figure(question: str, text: str) -> str:
    q = parse_query(question)
    units = units_from(_chunk(text), 0)
    return answer_by_extraction(q, score_units(q, units)).figure


@pytest.mark.parametrize("question, text, figure", [
    # months counted beside the rate are not the rate
    ("组合在60个月样本期内的月度超额收益均值是多少？",
     "样本期共 60 个月，组合月度超额收益均值 1.25%，其中 7 个月跑输基准。", "1.25%"),
    ("策略的最大回撤是多少？", "策略最大回撤为 8.6%，发生在持仓 38 只股票的 2 个月间。", "8.6%"),
    ("模型的胜率是多少？", "回测覆盖 96 个调仓期，模型胜率 63.5%，共交易 2400 次。", "63.5%"),
])
def test_a_rate_asked_is_answered_with_a_percentage(question, text, figure):
    assert _figure(question, text).replace(" ", "") == figure


def test_a_level_asked_still_prefers_a_figure_that_is_not_a_percentage():
    text = "Zeta 公司 2031 年营业收入为 42 亿元，同比增长 15%。"
    assert _figure("Zeta 公司 2031 年的营业收入是多少？", text).replace(" ", "") == "42亿元"


@pytest.mark.parametrize("question, figure", [
    ("XYZ_10d的IC_IR是多少？", "3.10"),
    ("XYZ_5d 的 IC_IR 是多少？", "2.20"),
])
def test_the_factor_named_picks_its_own_mention_of_the_metric(question, figure):
    text = ("两个因子中 IC_IR 较高的是长周期因子：XYZ_5d 的 IC 均值 6.1%，IC_IR 为 2.20，"
            "XYZ_10d 的 IC 均值 5.2%，IC_IR 为 3.10。")
    assert _figure(question, text) == figure


def test_a_rate_printed_either_way_takes_the_first_figure_after_its_name():
    # IC is printed as a percentage or as a decimal: neither kind is preferred
    assert _figure("该因子的 IC 均值是多少？", "该因子的 IC 均值 5.2%，IC_IR 为 0.61。") == "5.2%"
    assert _figure("该因子的 IC 均值是多少？", "该因子的 IC 均值 0.052，IC 胜率 71%。") == "0.052"


@pytest.mark.parametrize("question, text, figure", [
    ("回测中佣金是怎么设定的？", "样本覆盖 2012 年至 2020 年，调仓按周进行，佣金按单边 0.15% 计。", "0.15%"),
    ("该产品的订阅如何收费？", "公司推出企业版，订阅收费为每席位 30 美元/月，另含 200 次调用额度。", "30 美元"),
    ("组合调仓周期是如何设定的？", "组合的个股权重上限为 5%，调仓周期设定为 20 个交易日。", "20"),
])
def test_a_setting_asked_is_the_value_printed_after_its_name(question, text, figure):
    assert _figure(question, text).startswith(figure)


@pytest.mark.parametrize("question, text, gap", [
    ("Model-X 的评测得分比 Model-W 高出多少？",
     "Model-X 的召回率为 81.2%，在第三方评测中，Model-X 的评测得分比 Model-W 高 32%。", "32%"),
    ("新工艺的良率比旧工艺低多少？", "新工艺初期的良率比旧工艺低 6 个百分点，预计半年内追平。", "6 个百分点"),
    ("A 组合的年化收益比基准高出多少？", "A 组合年化收益 18%，比基准高出 7.5%，比 B 组合低 2%。", "7.5%"),
])
def test_a_gap_the_sentence_states_is_read_not_computed(question, text, gap):
    assert stated_difference(question, text).replace(" ", "") == gap.replace(" ", "")


@pytest.mark.parametrize("question, text, change", [
    # the change printed right after the asked measure, in a sentence naming what it is compared to
    ("X-2 相比 X-1 单位能耗降低了多少？", "X-2 的吞吐比 X-1 提升高达 3 倍，且单位能耗降低 35%。", "35%"),
    ("相比上一代，新芯片的单卡功耗降低了多少？", "新芯片相比上一代性能提升 2 倍，单卡功耗降低 30%。", "30%"),
    ("与旧版相比，新版模型的推理速度提升了多少？", "新版模型较旧版参数量减少一半，推理速度提升约 40%。", "40%"),
])
def test_a_change_of_the_asked_measure_is_read_as_printed(question, text, change):
    assert stated_difference(question, text) == change


@pytest.mark.parametrize("question, text", [
    # another measure, or the other direction: not the asked change
    ("相比上一代，新芯片的单卡功耗降低了多少？", "新芯片相比上一代售价降低 30%。"),
    ("相比上一代，新芯片的单卡功耗降低了多少？", "新芯片相比上一代单卡功耗提升 10%。"),
])
def test_another_measures_change_is_not_read(question, text):
    assert stated_difference(question, text) == ""


@pytest.mark.parametrize("question, text", [
    # compared with something else, or in the other direction: no stated gap
    ("A 组合的年化收益比基准高出多少？", "A 组合年化收益 18%，比 B 组合高 2%。"),
    ("新工艺的良率比旧工艺低多少？", "新工艺的良率比旧工艺高 3 个百分点。"),
    ("新工艺的良率是多少？", "新工艺的良率比旧工艺低 6 个百分点。"),
])
def test_no_stated_gap_for_another_comparison(question, text):
    assert stated_difference(question, text) == ""


def test_a_stated_gap_answers_the_question_end_to_end():
    text = "Model-X 的召回率为 81.2%，精确率 71.0%。在第三方评测中，Model-X 的评测得分比 Model-W 高 32%。"
    assert _figure("Model-X 的评测得分比 Model-W 高出多少？", text) == "32%"


def _table(caption: str, rows: list[list[str]]) -> Chunk:
    text = "\n".join([caption] + [" | ".join(r) for r in rows])
    return Chunk(id="t.pdf#t", file="t.pdf", kind="table", text=text, pages=[2],
                 bboxes=[(2, (0, 0, 100, 100))], heading_path=["财务"], table_id="t1")


QUARTERS = _table("表2：Zeta 季度收入、经营利润、经营利润率、净利润与净利率（百万美元）", [
    ["项目", "2031Q1", "2031Q2"],
    ["营业收入", "410", "455"],
    ["经营利润", "-12", "31"],
    ["经营利润率", "-2.9%", "6.8%"],
    ["净利润", "-20", "18"],
    ["净利率", "-4.9%", "4.0%"]])


@pytest.mark.parametrize("question, figure", [
    # the row of the asked metric, not a row of another metric under the same caption
    ("Zeta 2031Q2 的 operating margin 是多少？", "6.8%"),
    ("Zeta 2031Q1 的经营利润率是多少？", "-2.9%"),
    ("What was Zeta's net margin in 2031Q2?", "4.0%"),
    ("Zeta 2031Q2 的净利润是多少？", "18"),
])
def test_the_row_measuring_the_asked_metric_answers(question, figure):
    q = parse_query(question)
    ext = answer_by_extraction(q, score_units(q, units_from(QUARTERS, 0)))
    assert ext.figure.split(" ")[0] == figure


@pytest.mark.parametrize("question, figure", [
    ("窗口为2个月时，A组空头年化收益是多少？", "0.91%"),
    ("Group B 的空头年化收益是多少？", "0.12%"),
    ("第10组的年化收益是多少？", "21.5%"),
])
def test_the_group_named_last_before_a_figure_owns_it(question, figure):
    text = {"A": "按 A、B 两组比较：A 组换手更低，窗口为 2 个月时，B 组空头年化收益 0.12%，"
                 "A 组空头年化收益 0.91%。",
            "1": "分组回测中，第 1 组年化收益 3.2%，第 10 组年化收益 21.5%。"}
    body = text["1"] if "第10组" in question else text["A"]
    assert _figure(question, body) == figure


def test_another_groups_figure_alone_does_not_answer():
    assert not _figure("A组空头年化收益是多少？", "A 组换手更低，B 组空头年化收益为 0.12%。")


def test_rows_under_a_column_of_the_asked_metric_are_items_whatever_their_labels():
    # the row labels name series ("…超额收益"), the asked metric is a column: no row is "another metric"
    backtest = _table("表5：甲策略回测表现", [
        ["组合", "累计收益", "年化收益", "最大回撤"],
        ["低估值组合", "520.1%", "31.2%", "48.5%"],
        ["多空超额收益", "301.7%", "18.6%", "9.8%"],
        ["基准指数", "80.4%", "6.1%", "70.3%"]])
    q = parse_query("甲策略多空超额收益的最大回撤是多少？")
    assert answer_by_extraction(q, score_units(q, units_from(backtest, 0))).figure == "9.8%"


@pytest.mark.parametrize("figure, question, en, stated", [
    ("1.9", "Acme 策略的平均杠杆倍数是多少？", False, "1.9倍"),
    ("3", "Acme 的收入是 Globex 的几倍？", False, "3倍"),
    ("2.5", "How many times larger is Acme's backlog than Globex's?", True, "2.5x"),
    ("1.9倍", "Acme 策略的平均杠杆倍数是多少？", False, "1.9倍"),     # printed with its unit already
    ("1.9", "Acme 策略的夏普比率是多少？", False, "1.9"),             # a ratio is no multiple
    ("12 亿元", "Acme 收入是多少倍？", False, "12 亿元"),
])
def test_a_bare_figure_answering_a_multiple_is_stated_as_one(figure, question, en, stated):
    from qa.library import _as_multiple
    assert _as_multiple(figure, question, en) == stated

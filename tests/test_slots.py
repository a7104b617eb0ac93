"""qa.slots: within the chosen evidence, the figure whose slots agree with the question.

Invented sentences about invented companies (Acme, Globex), registered as aliases for the test."""
from __future__ import annotations

import pytest

from index.query import fact_entities, metric_key_of, parse_query
from ingest.facts import sentence_facts
from qa.slots import period_agreement, repick


@pytest.fixture(autouse=True)
def aliases(tmp_path, monkeypatch):
    (tmp_path / "aliases.tsv").write_text("Acme\tAcme|艾克美\tcompany\nGlobex\tGlobex|格罗贝\tcompany\n",
                                          encoding="utf-8")
    monkeypatch.setenv("YANBAO_DICT_DIR", str(tmp_path))


def facts(text: str) -> list[dict]:
    out = []
    for f in sentence_facts(text, find_entities=fact_entities):
        d = f.to_dict()
        d["metric_key"] = metric_key_of(f"{f.metric} {f.item}")
        out.append(d)
    return out


def choose(question: str, text: str, picked: str):
    better, why = repick(parse_query(question), picked, facts(text))
    return (better["printed"] if better else None), why


def test_the_raised_guidance_not_the_previous_one():
    text = "Acme 将 2027 年资本开支指引由 300-320 亿美元上调至 350-370 亿美元。"
    assert choose("Acme 2027 年资本开支指引上调到多少？", text, "300-320 亿美元") == ("350-370 亿美元", "")
    # unless the question asks for the old value
    assert choose("Acme 上调前的 2027 年资本开支指引是多少？", text, "300-320 亿美元") == (None, "")


def test_an_amount_question_is_not_answered_with_its_growth_rate():
    text = "2026 年一季度 Acme 在手订单 520 亿美元，同比增长 75%。"
    assert choose("Acme 1Q26 backlog?", text, "75%") == ("520 亿美元", "")
    assert choose("Acme 一季度在手订单同比增长多少？", text, "75%") == (None, "")


def test_the_asked_company_of_two_in_one_sentence():
    text = "2026 年一季度 Acme 收入 12 亿美元，Globex 收入 9 亿美元。"
    assert choose("Globex Q1 2026 revenue", text, "12 亿美元") == ("9 亿美元", "")


def test_a_figure_of_another_period_is_refused_when_the_evidence_has_no_asked_one():
    text = "Acme 2025 年收入 40 亿美元。"
    assert choose("Acme 2026 年收入是多少？", text, "40 亿美元") == (None, "period")


def test_the_asked_period_of_two_in_one_sentence():
    text = "Acme 2025 年收入 40 亿美元，2026 年收入 52 亿美元。"
    assert choose("Acme 2026 年收入", text, "40 亿美元") == ("52 亿美元", "")


def test_a_clear_pick_is_kept():
    text = "Acme 2026 年一季度毛利率 45%，净利率 12%。"
    assert choose("Acme 1Q26 毛利率", text, "45%") == (None, "")


@pytest.mark.parametrize("question, label, verdict", [
    ("2026 年一季度收入", "2026Q1", 1), ("Q1 2026 revenue", "2026Q2", -1), ("2026 年收入", "2025", -1),
    ("2026 年收入", "2026", 1), ("2026 年收入", "2026Q3", 0),          # a year against its quarter: undecided
    ("2026年3月收入", "2026Q1", 0), ("2026年3月收入", "2026Q2", -1),      # a month against its quarter
    ("FY2026 Q3 revenue", "2026Q3", 0), ("FY2026 Q3 revenue", "FY2026Q2", -1),  # fiscal vs calendar: undecided
    ("收入是多少", "2026Q1", 0),                                          # no period asked
])
def test_period_agreement(question, label, verdict):
    assert period_agreement(parse_query(question).periods, label) == verdict


def test_each_part_of_a_two_part_question_gets_its_own_figure():
    from qa.slots import pick_parts
    text = "2026 年一季度 Acme 云收入 30 亿美元，同比增长 45%，其中 GPU 云收入同比增长 160%。"
    q = parse_query("Acme 2026Q1 云收入是多少？同比增长多少？")
    assert [f["printed"] for f in pick_parts(q, facts(text))] == ["30 亿美元", "45%"]


def test_items_asked_side_by_side_each_get_theirs():
    from qa.slots import pick_parts, question_parts
    assert question_parts("Acme 与 Globex 的合同金额和服务年限分别是多少？")[-2:] == ["合同金额", "服务年限"]
    text = "Acme 与 Globex 签订合同，合同金额 18 亿元，服务年限 5 年。"
    q = parse_query("Acme 与 Globex 的合同金额和服务年限分别是多少？")
    assert [f["printed"] for f in pick_parts(q, facts(text))] == ["18 亿元", "5"]


def test_a_one_figure_question_is_one_part():
    from qa.slots import question_parts
    assert question_parts("Acme 2026 年一季度收入是多少？") == ["Acme 2026 年一季度收入是多少？"]


def test_a_figure_the_question_prints_is_not_its_answer():
    text = "回测期的 44 个月中，Acme 组合月度超额收益均值 1.76%。"
    assert choose("Acme 组合在 44 个月回测期内的月度超额收益均值是多少？", text, "44") == ("1.76%", "")


def test_another_known_metric_is_refused_when_the_evidence_lacks_the_asked_one():
    text = "Acme 策略年化收益 25.1%，夏普比率 1.03。"
    assert choose("Acme 策略的信息比率是多少？", text, "1.03") == (None, "metric")
    assert choose("Acme 策略的夏普比率是多少？", text, "1.03") == (None, "")


def test_a_result_about_another_stock_index_is_refused():
    text = "中证500 增强组合年化超额收益 20.8%。"
    assert choose("中证800 增强组合年化超额收益是多少？", text, "20.8%")[0] is None
    assert choose("中证500 增强组合年化超额收益是多少？", text, "20.8%") == (None, "")


def test_the_asked_stock_index_of_two():
    text = "APB 因子在沪深300 中 RankIC 均值 8.1%，在中证1000 中 RankIC 均值 9.0%。"
    assert choose("APB 因子在中证1000 内的 RankIC 均值是多少？", text, "8.1%") == ("9.0%", "")


def test_a_refusal_says_which_slot_differs():
    from qa.slots import fact_of, mismatch
    q = parse_query("Acme 2026 年收入是多少？")
    fs = facts("Acme 2025 年收入 40 亿美元。")
    assert mismatch(q, "period", fact_of("40 亿美元", fs)) == "（最接近的数据是 2025 的，问的是 2026。）"
    q = parse_query("What was Acme's 2026 revenue?")
    assert "for 2025" in mismatch(q, "period", fact_of("40 亿美元", fs))


def test_a_level_question_is_not_answered_with_a_percentage_change():
    text = "5 月 21 日，Acme 将 GPU 租赁价格上调近 30%，至每小时 2.5 美元。"
    assert choose("Acme 的 GPU 租赁价格是多少？", text, "30%") == ("2.5 美元", "")


def test_parts_separated_by_a_list_comma_each_get_theirs():
    from qa.slots import pick_parts, question_parts
    question = "截至 2026 年底 Acme 拥有多少座仓库、多少辆货车？"
    assert len(question_parts(question)) == 2
    text = "截至 2026 年底，Acme 共拥有 35 座仓库，1,800 辆货车，由 90 兆瓦的光伏电站供电。"
    assert [f["printed"].replace(" ", "") for f in pick_parts(parse_query(question), facts(text))] == ["35座", "1,800辆"]


def test_a_how_long_question_takes_the_duration():
    from qa.slots import pick_parts
    text = "Globex 使用 640 颗芯片，在基准任务中用 12.5 分钟完成训练。"
    q = parse_query("How many chips did Globex use and how long did the benchmark run take?")
    assert [f["printed"].replace(" ", "") for f in pick_parts(q, facts(text))] == ["640颗", "12.5分钟"]


def test_a_sentence_naming_the_asked_company_among_others_is_not_another_companys():
    from qa.slots import score_fact
    text = "Globex 与 Acme 联合发布结果，使用 640 颗芯片。"
    fact = next(f for f in facts(text) if f["printed"].startswith("640"))
    assert score_fact(parse_query("How many chips did Acme use?"), fact).score > 0


def test_within_a_table_row_the_column_agreeing_with_the_question_wins_on_any_margin():
    row = [{"value": 75.0, "low": 75.0, "high": 75.0, "unit": "W", "currency": "", "printed": "75W", "kind": "other",
            "metric": "型号：X1 加速卡", "item": "功耗", "metric_key": "", "period": "", "status": "actual",
            "entity": "Globex", "text": "功耗\t75W\t150W"},
           {"value": 150.0, "low": 150.0, "high": 150.0, "unit": "W", "currency": "", "printed": "150W",
            "kind": "other", "metric": "型号：X2 加速卡", "item": "功耗", "metric_key": "", "period": "",
            "status": "actual", "entity": "Globex", "text": "功耗\t75W\t150W"}]
    q = parse_query("Acme 产品对比中，X2 加速卡的功耗是多少？")
    better, why = repick(q, "75W", row, margin=0.25, floor=float("-inf"))
    assert better["printed"] == "150W" and why == ""


def test_the_measure_word_asked_picks_the_figure_printed_with_it():
    text = "目前 Acme 平台已有超过 300 万人在使用，每天生成超过 450 万张图片。"
    assert choose("Acme 平台每天生成多少张图片？", text, "300 万人")[0].replace(" ", "") == "450万张"
    assert choose("Acme 平台有多少人在使用？", text, "300 万人") == (None, "")


def test_a_figure_measuring_something_else_is_not_about_the_question():
    from qa.slots import about_the_question
    text = "目前，Acme 芯片已累计出货 56 万片，服务了 400 多家客户。"
    shipped = next(f for f in facts(text) if f["printed"].replace(" ", "").startswith("56万"))
    assert not about_the_question(parse_query("Acme 的 FP16 算力是多少？"), shipped)
    assert about_the_question(parse_query("Acme 芯片累计出货多少片？"), shipped)


def test_a_known_metric_or_a_table_caption_makes_the_figure_about_the_question():
    from qa.slots import about_the_question
    text = "Acme 2026 年一季度收入 12 亿美元。"
    revenue = next(f for f in facts(text) if f["printed"].startswith("12"))
    assert about_the_question(parse_query("Acme 2026Q1 营业收入是多少？"), revenue)   # a synonym, by key
    cell = {"printed": "58", "metric": "2027Q2", "item": "特斯拉", "metric_key": "", "text": "特斯拉\t58"}
    asked = parse_query("表3中特斯拉2027年第二季度研发费用是多少？")
    assert not about_the_question(asked, cell)
    assert about_the_question(asked, cell, caption="表3：研发费用（亿元）")


def test_english_questions_are_not_compared_word_for_word_with_chinese_labels():
    from qa.slots import about_the_question
    shipped = next(f for f in facts("Acme 芯片已累计出货 56 万片。") if f["printed"].replace(" ", "").startswith("56万"))
    assert about_the_question(parse_query("How many Acme chips have shipped?"), shipped)


def test_a_growth_question_is_not_answered_with_the_level_that_grew():
    text = "1Q30，Acme 实现集团收入 4.2 亿美元，同比增长 310%，环比增长 45%。"
    assert choose("What was Acme's quarter-on-quarter group revenue growth in 1Q30?", text, "4.2 亿美元") == ("45%", "")
    assert choose("Acme 1Q30 集团收入是多少？", text, "4.2 亿美元") == (None, "")


@pytest.mark.parametrize("question, label, verdict", [
    ("2028 年上限是多少", "2026-2027", -1), ("2027 年上限是多少", "2026-2027", 0), ("FY2027 上限", "2026-2027", -1),
])
def test_a_span_of_years_contradicts_a_year_outside_it(question, label, verdict):
    assert period_agreement(parse_query(question).periods, label) == verdict


def test_the_unit_asked_for_must_be_the_figures():
    from qa.slots import about_the_question
    text = "Acme 2029 年收入 42 亿元，毛利率 37%。"
    margin = next(f for f in facts(text) if f["unit"] == "%")
    revenue = next(f for f in facts(text) if f["unit"] != "%")
    assert not about_the_question(parse_query("Acme 2029 年收入是多少亿元？"), margin)
    assert about_the_question(parse_query("Acme 2029 年收入是多少亿元？"), revenue)
    assert not about_the_question(parse_query("Acme 2029 年毛利率是百分之多少？"), revenue)


def test_an_english_question_may_take_the_clearly_best_fact_of_chinese_evidence():
    from qa.slots import best_fact
    text = "Acme 组合的 Fama-3-alpha 为0.48%，t 值为 2.1。"
    fact = best_fact(parse_query("What Fama-3-alpha does the Acme portfolio earn?"), facts(text))
    assert fact is not None and fact["printed"] == "0.48%"


# --- the kind of figure asked: points for a difference of rates, a multiple for a ratio ------

def _one(text: str, starts: str) -> dict:
    return next(f for f in facts(text) if f["printed"].replace(" ", "").startswith(starts))


_RATES = "Acme 毛利率为 42%，Globex 毛利率为 35%，差距扩大 7 个百分点。"
_AMOUNTS = "Acme 日均订单量 120 万单，Globex 日均订单量 40 万单，前者约为后者的 3 倍。"


@pytest.mark.parametrize("question, text, level, answer", [
    ("Acme 的毛利率比 Globex 高出多少个百分点？", _RATES, "42", "7个百分点"),
    ("By how many percentage points does Acme's margin exceed Globex's?", _RATES, "42", "7个百分点"),
    ("Acme 毛利率比 Globex 高几个百分点？", _RATES, "35", "7个百分点"),
    ("Acme 的日均订单量是 Globex 的几倍？", _AMOUNTS, "120", "3倍"),
    ("How many times Globex's daily orders are Acme's?", _AMOUNTS, "40", "3倍"),
    ("Acme 订单量是 Globex 的多少倍？", _AMOUNTS, "120", "3倍"),
])
def test_a_difference_or_ratio_is_not_answered_with_one_of_its_terms(question, text, level, answer):
    from qa.slots import about_the_question
    assert not about_the_question(parse_query(question), _one(text, level))
    assert about_the_question(parse_query(question), _one(text, answer))


def test_a_rate_question_without_points_or_multiples_is_unchanged():
    from qa.slots import about_the_question
    text = "Acme 毛利率为 42%，Globex 毛利率为 35%。"
    assert about_the_question(parse_query("Acme 的毛利率是多少？"), _one(text, "42"))


@pytest.mark.parametrize("question, text, wrong, right", [
    # a share is a percentage, not the part's amount
    ("Acme 云业务收入占总收入的比重是多少？", "Acme 云业务收入 20 亿元，占总收入的 25%。", "20", "25%"),
    ("What share of Acme's revenue came from cloud?", "Acme 云业务收入 20 亿元，占总收入的 25%。", "20", "25%"),
    # a difference is a printed change, not this year's level
    ("Acme 2029 年收入比上年增加了多少？", "2029 年 Acme 收入 90 亿元，较上年增加 15 亿元。", "90", "15"),
    ("By how much did Acme's revenue increase in 2029?", "2029 年 Acme 收入 90 亿元，较上年增加 15 亿元。", "90", "15"),
])
def test_the_asked_kind_of_figure_is_the_answered_one(question, text, wrong, right):
    from qa.slots import about_the_question
    assert not about_the_question(parse_query(question), _one(text, wrong))
    assert about_the_question(parse_query(question), _one(text, right))


@pytest.mark.parametrize("question", ["推算 Acme 2028 年收入", "What was Acme's implied 2028 revenue?",
                                      "据增速倒推 Acme 上年收入"])
def test_an_implied_figure_is_never_looked_up(question):
    from qa.slots import about_the_question
    assert not about_the_question(parse_query(question), _one("2029 年 Acme 收入 90 亿元。", "90"))


@pytest.mark.parametrize("question, text, picked, right", [
    ("Acme 以认购认股权证的方式注资后，可转换为多少股普通股？",
     "Globex 以认购认股权证的方式向 Acme 注资约 20 亿美元，可转换为逾 2100 万股普通股。", "20 亿美元", "2100万股"),
    ("Acme 新建数据中心投资后共部署多少台服务器？",
     "Acme 投资 15 亿元新建数据中心，部署服务器 3 万台。", "15 亿元", "3万台"),
    ("Acme 融资后门店扩张到多少家？", "Acme 融资 8 亿元，门店扩张到 1200 家。", "8 亿元", "1200家"),
])
def test_a_counted_question_is_not_answered_with_a_sum_of_money(question, text, picked, right):
    _repicks(question, text, picked, right)


@pytest.mark.parametrize("question, text, picked, right", [
    ("Acme 在全球设有多少个区域？", "Acme 在全球建成 30 个数据中心，覆盖 12 个区域。", "30 个", "12个"),
    ("Acme 共有多少名研发人员？", "Acme 共有员工 5000 名，其中研发人员 1800 名。", "5000 名", "1800名"),
    ("Acme 部署了多少台推理服务器？", "Acme 部署训练服务器 400 台、推理服务器 900 台。", "400 台", "900台"),
])
def test_the_noun_after_the_question_word_names_the_count(question, text, picked, right):
    _repicks(question, text, picked, right)


@pytest.mark.parametrize("question, text, picked, right", [
    ("How many Zeta-7 accelerators does each Acme rack hold?",
     "每个 Acme 机架集成 64 颗 Omega 芯片、32 个 CPU 以及 16 个 Zeta-7 加速器。", "64 颗", "16个"),
    ("How many engineers does Acme employ?", "Acme 拥有员工 5000 名，其中 engineers 1800 名。", "5000 名", "1800名"),
    ("How many Polaris satellites has Acme launched?", "Acme 已发射 Vega 卫星 40 颗、Polaris 卫星 12 颗。", "40 颗", "12颗"),
])
def test_an_english_count_question_names_the_counted_noun(question, text, picked, right):
    _repicks(question, text, picked, right)


@pytest.mark.parametrize("question, text, picked, right", [
    ("Acme 持仓最多时持有多少只股票？", "Acme 平均持股 12 只，最少时持股 0 只，最多时持股 54 只。", "0 只", "54只"),
    ("Acme 月度收益最低是多少？", "Acme 月度收益最高为 8.5%，最低为 -6.2%。", "8.5%", "-6.2%"),
    ("What was the lowest monthly return of the Acme fund?", "Acme 基金 highest monthly return 为 9%，lowest monthly return 为 -4%。",
     "9%", "-4%"),
])
def test_one_end_of_a_range_is_not_the_other(question, text, picked, right):
    _repicks(question, text, picked, right)


def _repicks(question: str, text: str, picked: str, right: str) -> None:
    better, why = repick(parse_query(question), picked, facts(text))
    assert why == "" and better is not None and better["printed"].replace(" ", "") == right


def test_a_second_clause_asking_how_large_or_how_fast_is_a_part():
    from qa.slots import question_parts
    assert len(question_parts("Acme 2031 年云业务规模有多大，同比增速几何？")) == 2
    assert len(question_parts("What was the size of Acme's cloud market in 2031, and how fast did it grow?")) == 2
    assert len(question_parts("Acme 的定期贷款规模多大、定价大约在什么水平？")) == 2


def test_a_second_metric_after_and_is_a_part_of_its_own():
    from qa.slots import pick_parts, question_parts
    assert question_parts("What were Acme's FY2031 EBITDA and EBITDA margin?")[-1] == "EBITDA margin"
    assert len(question_parts("What was Acme's 2031 revenue and its year-over-year growth?")) == 2
    text = "Acme FY2031 全年 EBITDA 达到 12.5 亿元，利润率升至 11%。"
    q = parse_query("What were Acme's FY2031 EBITDA and EBITDA margin?")
    assert [f["printed"] for f in pick_parts(q, facts(text))] == ["12.5 亿元", "11%"]


def test_names_joined_by_and_are_not_parts():
    from qa.slots import question_parts
    # no metric on the first side: two companies' one metric, or a gap between them
    assert len(question_parts("What was the revenue growth of Acme and Globex in 2031?")) == 1
    assert len(question_parts("What is the gap between Acme's and Globex's market share in 2031?")) == 1


def test_a_share_is_not_answered_with_the_growth_beside_it():
    from qa.slots import about_the_question
    text = "2031Q1，Zeta 数据中心收入达到 210 亿元，同比增长 60%，占总收入比重超过 7 成。"
    growth = next(f for f in facts(text) if f["printed"] == "60%")
    assert not about_the_question(parse_query("Zeta 2031Q1 数据中心收入占总收入的比重是多少？"), growth)
    assert not about_the_question(parse_query("What share of Zeta's Q1 2031 revenue came from data centers?"), growth)
    # the growth itself, asked, is about the question
    assert about_the_question(parse_query("Zeta 2031Q1 数据中心收入同比增长多少？"), growth)


def test_a_level_then_its_fall_from_a_base_period():
    from qa.slots import part_query, pick_parts, question_parts
    text = "Zeta 服务器的租赁价格从2029年6月的约6万元/台/月，下降到2031年6月的约2.8万元/台/月，下降幅度53%。"
    q = parse_query("Zeta 服务器在2031年6月的租金大约是多少？相比2029年6月跌了多少？")
    second = part_query(q, question_parts(q.text)[1])
    assert [m.key for m in second.metrics] == ["growth"] and second.periods == []   # 2029-06 is the base
    assert [f["printed"] for f in pick_parts(q, facts(text))][1] == "53%"


def test_a_leading_clause_belongs_to_the_first_part():
    from qa.slots import question_parts
    parts = question_parts("截至2031年6月，Zeta 服务器的租金大约多少？与2030年6月相比降幅多少？")
    assert parts[0].startswith("截至2031年6月") and len(parts) == 2


def test_an_english_level_then_its_fall_is_two_parts_not_a_difference():
    from qa.compute import asks_difference
    from qa.slots import part_query, question_parts
    q = parse_query("By June 2031, roughly what was the rental price of a Zeta server, and how much had it fallen "
                    "from June 2029?")
    parts = question_parts(q.text)
    assert len(parts) == 2 and not asks_difference(parts[0])
    second = part_query(q, parts[1])
    assert [m.key for m in second.metrics] == ["growth"] and second.periods == []


def test_the_rate_against_the_asked_base_wins_over_the_other():
    from qa.slots import best_fact
    text = "截至 2031Q1 末，Zeta 在手订单达到 500 亿元，同比增长 284%、环比增长 50%。"
    assert best_fact(parse_query("Zeta 2031Q1 在手订单较上一季度增长了多少？"), facts(text))["printed"] == "50%"
    assert best_fact(parse_query("Zeta 2031Q1 在手订单较去年同期增长了多少？"), facts(text))["printed"] == "284%"


def test_a_plain_figure_noun_then_a_metric_are_two_parts_and_a_name_s_number_is_no_answer():
    from qa.slots import pick_parts, question_parts
    q = parse_query("What were the size and pricing of Zeta's TL 2.0 facility?")
    assert question_parts(q.text) == ["What were the size", "pricing of Zeta's TL 2.0 facility"]
    text = "2031年8月，Zeta TL 2.0 贷款规模 23 亿元，以 GPU 为抵押，定价约 SOFR+11%。"
    assert "2.0" not in [f["printed"] for f in pick_parts(q, facts(text))]


@pytest.mark.parametrize("phrase, key", [
    ("price increases on cloud storage", "price_change"),
    ("存储涨价幅度", "price_change"),
    ("租赁价格", "price"),
])
def test_a_price_change_is_not_a_price(phrase, key):
    assert metric_key_of(phrase) == key


@pytest.mark.parametrize("phrase", ["month-over-month", "MoM", "month on month", "月环比"])
def test_month_on_month_is_the_sequential_change(phrase):
    # 环比 compares with the period before, a month or a quarter as the data comes
    assert metric_key_of(phrase) == "growth_qoq"


@pytest.mark.parametrize("phrase, key", [
    # a code name joined by "-" where the table prints "_" (or the reverse) is the same name
    ("因子的 IC-IR 为 1.2", "ic_ir"),
    ("LongShort-Sharpe 为 2.1", "sharpe"),
    ("IC‐IR", "ic_ir"),
])
def test_code_names_match_whichever_joiner_is_printed(phrase, key):
    assert metric_key_of(phrase) == key


@pytest.mark.parametrize("question, parts", [
    ("Acme 2027 年的票面利率和转股价各是多少？", ["票面利率", "转股价"]),
    ("Globex 的装机容量与利用率各为多少？", ["装机容量", "利用率"]),
    ("Acme 的 senior notes：coupon 和 initial conversion price 各是多少？", ["coupon", "initial conversion price"]),
])
def test_items_asked_with_ge_are_parts(question, parts):
    from qa.slots import question_parts
    assert [p.strip() for p in question_parts(question)] == parts


@pytest.mark.parametrize("question", ["Acme 各年的收入是多少？", "Globex 各季度毛利率如何？",
                                      "Acme 各业务收入合计多少？"])
def test_ge_naming_periods_or_segments_is_one_part(question):
    from qa.slots import question_parts
    assert question_parts(question) == [question]


def test_two_parts_are_not_answered_with_one_figure_twice():
    from qa.slots import pick_parts
    text = "Acme 与 Globex 签订长期协议：保底金额 40 亿元，最高 90 亿元，其中 40 亿元已确认。"
    q = parse_query("Acme 与 Globex 协议的保底金额和上限金额各是多少？")
    assert [f["printed"].replace(" ", "") for f in pick_parts(q, facts(text))] == ["40亿元", "90亿元"]


@pytest.mark.parametrize("question, label, sign", [
    ("协议的上限金额", "最高", 1), ("产能的峰值", "最大 产能", 1), ("最低报价", "下限", 1),
    ("协议的上限金额", "最低", -1), ("the maximum price", "lowest", -1), ("最少人数", "至多", -1),
    ("协议金额", "最高", 0),
])
def test_either_end_of_a_range_in_other_words(question, label, sign):
    from qa.slots import _extreme_agreement
    score = _extreme_agreement(question, label)
    assert (score > 0) - (score < 0) == sign


@pytest.mark.parametrize("question, text, picked", [
    ("What was Acme's order backlog in Q2 2026?", "2026 年二季度 Acme 收入环比增长 18% 至 12 亿美元。", "12 亿美元"),
    ("Acme 2026 年一季度的云收入是多少？", "图 5：2026Q1 Acme 云收入 YOY+35%", "35%"),
    ("Globex 2025 年的在手订单是多少？", "2025 年 Globex 营收 80 亿元，同比增长 20%。", "80 亿元"),
])
def test_evidence_holding_only_another_metric_and_its_growth_is_refused(question, text, picked):
    assert choose(question, text, picked) == (None, "metric")


@pytest.mark.parametrize("question", ["Acme 2026 年一季度云收入同比增长多少？",
                                      "How much did Acme's Q1 2026 cloud revenue increase?",
                                      "Acme 2026 年一季度云收入是去年同期的几倍？"])
def test_a_growth_is_kept_when_a_change_is_asked(question):
    assert choose(question, "图 5：2026Q1 Acme 云收入 YOY+35%", "35%")[1] != "metric"


def test_the_facts_of_a_table_chunk_are_found_whatever_joins_its_cells():
    from qa.slots import facts_in
    row = {"printed": "8 亿美元", "text": "Acme\t2026Q1\t收入 8 亿美元"}
    other = {"printed": "9 亿美元", "text": "Globex\t2026Q1\t收入 9 亿美元"}
    chunk = "表 3：各公司季度进展\n公司 | 季度 | 要点\nAcme | 2026Q1 | 收入 8 亿美元"
    assert facts_in(chunk, [row, other]) == [row]
    assert facts_in("Acme\t2026Q1\t收入 8 亿美元", [row, other]) == [row]


@pytest.mark.parametrize("question, text, picked, better", [
    ("Acme 的港股目标价上调到多少港币？", "上调 Acme A 股目标价至 119 元，港股目标价至 63 港币。", "119 元", "63 港币"),
    ("What is Acme's H-share target price in Hong Kong dollars?", "Acme A 股目标价 119 元，H 股目标价 63 港元。",
     "119 元", "63 港元"),
    ("Acme 2026 年收入预计多少亿美元？", "预计 Acme 2026 年收入 700 亿元（约 97 亿美元）。", "700 亿元", "97 亿美元"),
])
def test_the_currency_the_question_names_answers(question, text, picked, better):
    assert choose(question, text, picked) == (better, "")

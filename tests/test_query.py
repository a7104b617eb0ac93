"""Query understanding (index.query) and BM25 tokenisation (index.text)."""

from __future__ import annotations

import json

import pytest

from index.query import Period, extract_periods, parse_query
from index.text import normalize_text, tokenize

Q1_2026 = Period("quarter", 2026, quarter=1)
FISCAL_Q3_2026 = Period("quarter", 2026, quarter=3, fiscal=True)


# --- period normalisation ---------------------------------------------------------------


@pytest.mark.parametrize(
    "notation",
    ["Q1 2026", "1Q26", "2026Q1", "26Q1", "2026年一季度", "2026年第一季度", "2026 年 Q1", "26年Q1",
     "2026年Q1", "1Q2026", "Q1'26", "q1 2026", "first quarter of 2026", "2026年第1季度",
     "2026 年 第一 季度", "２０２６Ｑ１"],
)
def test_calendar_quarter_notations_are_one_period(notation: str) -> None:
    assert extract_periods(notation) == [Q1_2026]
    assert extract_periods(notation)[0].label == "2026Q1"


@pytest.mark.parametrize(
    "notation",
    ["FY2026 Q3", "FY26Q3", "FY3Q26", "2026财年第三季度", "2026 财年三季度", "Q3 FY26", "3QFY26",
     "FY26 3Q", "2026财年Q3", "FY2026第三财季", "third quarter of fiscal 2026", "fiscal Q3 2026",
     "fiscal third quarter of 2026", "fiscal year 2026 third quarter"],
)
def test_fiscal_quarter_notations_stay_fiscal(notation: str) -> None:
    [period] = extract_periods(notation)
    assert period == FISCAL_Q3_2026
    assert period.label == "FY2026Q3"
    assert period != Period("quarter", 2026, quarter=3)


@pytest.mark.parametrize(
    ("notation", "expected"),
    [
        ("H1 2026", Period("half", 2026, half=1)),
        ("1H26", Period("half", 2026, half=1)),
        ("2026年上半年", Period("half", 2026, half=1)),
        ("first half of 2026", Period("half", 2026, half=1)),
        ("2H25", Period("half", 2025, half=2)),
        ("2026财年上半年", Period("half", 2026, half=1, fiscal=True)),
        ("1HFY26", Period("half", 2026, half=1, fiscal=True)),
        ("2026年", Period("year", 2026)),
        ("2026E", Period("year", 2026)),
        ("FY2026", Period("year", 2026, fiscal=True)),
        ("2026财年", Period("year", 2026, fiscal=True)),
        ("fiscal year 2027", Period("year", 2027, fiscal=True)),
        ("2026年3月", Period("month", 2026, month=3)),
        ("2026-03", Period("month", 2026, month=3)),
        ("March 2026", Period("month", 2026, month=3)),
        ("2026年前三季度", Period("ytd", 2026, quarter=3)),
        ("9M26", Period("ytd", 2026, quarter=3)),
        ("2026年1-9月", Period("ytd", 2026, quarter=3)),
        ("2026年1-6月", Period("half", 2026, half=1)),
        ("本季度", Period("relative", label="this_quarter")),
        ("上一季度", Period("relative", label="last_quarter")),
        ("last quarter", Period("relative", label="last_quarter")),
        ("下一季度", Period("relative", label="next_quarter")),
        ("next quarter", Period("relative", label="next_quarter")),
        ("上财年", Period("relative", label="last_fiscal_year", fiscal=True)),
        ("一季度", Period("quarter", None, quarter=1)),
    ],
)
def test_period_kinds(notation: str, expected: Period) -> None:
    assert extract_periods(notation) == [expected]


@pytest.mark.parametrize(
    ("first", "second"),
    [("1Q26", "2Q26"), ("2026年一季度", "2026年二季度"), ("1Q26", "1Q25"), ("2026H1", "2026H2"),
     ("FY2026 Q3", "2026Q3"), ("FY2026", "2026年"), ("2026年3月", "2026年4月")],
)
def test_different_periods_differ(first: str, second: str) -> None:
    assert extract_periods(first) != extract_periods(second)


@pytest.mark.parametrize("text", ["2030亿元", "4,975亿美元", "NVIDIA H100", "H20 价格", "增长 2048 倍"])
def test_amounts_and_product_names_are_not_periods(text: str) -> None:
    assert extract_periods(text) == []


def test_several_periods_in_order() -> None:
    labels = [p.label for p in extract_periods("经调整EBITDA利润率从4Q25到1Q26怎样变化，与2024年相比")]
    assert labels == ["2025Q4", "2026Q1", "2024"]


def test_label_must_agree_with_fields() -> None:
    with pytest.raises(ValueError, match="2026Q1"):
        Period("quarter", 2026, quarter=1, label="2026Q2")
    with pytest.raises(ValueError, match="relative period"):
        Period("relative", label="someday")


# --- variants() and matches() -----------------------------------------------------------

ROUND_TRIP_PERIODS = [
    Q1_2026,
    Period("quarter", 2025, quarter=4),
    FISCAL_Q3_2026,
    Period("quarter", None, quarter=2),
    Period("half", 2026, half=1),
    Period("half", 2025, half=2, fiscal=True),
    Period("year", 2026),
    Period("year", 2027, fiscal=True),
    Period("ytd", 2026, quarter=3),
    Period("month", 2026, month=3),
    Period("relative", label="this_quarter"),
]


@pytest.mark.parametrize("period", ROUND_TRIP_PERIODS, ids=lambda p: p.label)
def test_every_variant_parses_back_to_its_period(period: Period) -> None:
    variants = period.variants()
    assert len(variants) >= 1
    for variant in variants:
        assert extract_periods(variant) == [period], variant
        assert period.matches(f"报告期 {variant} 收入同比增长"), variant


def test_quarter_variants_include_common_report_notations() -> None:
    assert {"1Q26", "2026Q1", "Q1 2026", "2026年一季度", "2026年第一季度", "26Q1", "2026 年 Q1"} <= set(
        Q1_2026.variants()
    )
    assert {"FY2026 Q3", "FY26Q3", "2026财年第三季度", "FY3Q26", "2026 财年三季度"} <= set(
        FISCAL_Q3_2026.variants()
    )


def test_matches_tolerates_spacing_and_rejects_other_periods() -> None:
    assert Q1_2026.matches("2026 年 第 一 季 度，公司收入 3.99 亿美元")
    assert Q1_2026.matches("Q1  2026 revenue")
    assert not Q1_2026.matches("2026年二季度收入")
    assert not Q1_2026.matches("FY2026 Q1 revenue")
    assert not FISCAL_Q3_2026.matches("2026Q3 收入")


def test_period_without_year_matches_any_year() -> None:
    first_quarter = Period("quarter", None, quarter=1)
    assert first_quarter.matches("2025年一季度")
    assert not first_quarter.matches("2025年二季度")
    assert not first_quarter.matches("本季度")


# --- entities, metrics, markers ---------------------------------------------------------


def test_chinese_question() -> None:
    query = parse_query("阿里云本季度收入多少？")
    assert query.lang == "zh"
    assert [(e.name, e.alias, e.kind) for e in query.entities] == [("Alibaba Cloud", "阿里云", "unit")]
    assert [(m.key, m.alias) for m in query.metrics] == [("revenue", "收入")]
    assert query.periods == [Period("relative", label="this_quarter")]


def test_english_question() -> None:
    query = parse_query("What is Microsoft Azure's revenue growth YoY in FY2026 Q3?")
    assert query.lang == "en"
    assert [e.name for e in query.entities] == ["Azure"]
    assert [m.key for m in query.metrics] == ["revenue", "growth", "growth_yoy"]
    assert query.comparisons == ["yoy"]
    assert query.periods == [FISCAL_Q3_2026]


def test_mixed_question() -> None:
    query = parse_query("CoreWeave 1Q26 的在手订单和 RPO 分别是多少")
    assert query.lang == "mixed"
    assert [e.name for e in query.entities] == ["CoreWeave"]
    assert [(m.key, m.alias) for m in query.metrics] == [("backlog", "在手订单"), ("rpo", "RPO")]   # two metrics
    assert query.periods == [Q1_2026]


@pytest.mark.parametrize(
    ("question", "entities"),
    [
        ("亚马逊云科技的资本开支", ["AWS"]),
        ("谷歌云和谷歌的收入", ["Google Cloud", "Alphabet"]),
        ("英伟达 (NVDA) 数据中心收入", ["NVIDIA"]),
        ("微软智能云收入", ["Azure"]),
        ("百度智能云的价格", ["Baidu AI Cloud"]),
        ("google cloud revenue", ["Google Cloud"]),
        ("Google  Cloud 收入", ["Google Cloud"]),
        ("metadata 的增长", []),
        ("全国信息化建设", []),
    ],
)
def test_entity_detection(question: str, entities: list[str]) -> None:
    assert [e.name for e in parse_query(question).entities] == entities


def test_broker_is_tagged_as_broker() -> None:
    [broker, company] = parse_query("据东吴证券测算，Nebius 的 ARR").entities
    assert (broker.name, broker.kind) == ("Soochow Securities", "broker")
    assert (company.name, company.kind) == ("Nebius", "company")


@pytest.mark.parametrize(
    ("question", "metrics"),
    [
        ("归母净利润是多少", ["net_income"]),
        ("资本支出指引", ["capex"]),
        ("EBITDA margin", ["ebitda_margin"]),
        ("调整后EBITDA", ["ebitda"]),
        ("收入同比增长", ["revenue", "growth_yoy"]),
        ("环比增速", ["growth_qoq"]),
        ("剩余履约义务", ["rpo"]),          # reported beside backlog, and not the same figure
        ("AI 相关收入", ["ai_revenue"]),
        ("H100 每小时价格", ["price"]),
        ("年化收入 (ARR)", ["arr"]),
    ],
)
def test_metric_detection(question: str, metrics: list[str]) -> None:
    assert [m.key for m in parse_query(question).metrics] == metrics


@pytest.mark.parametrize(
    ("question", "outlook"),
    [
        ("阿里巴巴2026E收入", ["estimate"]),
        ("微软2026年资本开支指引", ["estimate"]),
        ("2025年实际收入", ["actual"]),
        ("2025A 收入比一致预期高多少", ["actual", "estimate"]),
        ("2025年收入", []),
    ],
)
def test_estimate_and_actual_markers(question: str, outlook: list[str]) -> None:
    assert parse_query(question).outlook == outlook


def test_expansions_add_other_names_but_not_what_is_asked() -> None:
    expansions = parse_query("CoreWeave 1Q26 在手订单").expansions
    assert {"CRWV", "backlog", "积压订单", "2026年一季度", "2026Q1"} <= set(expansions)
    assert "在手订单" not in expansions
    assert "RPO" not in expansions        # remaining performance obligations are another metric
    assert "1Q26" not in expansions
    assert len(expansions) == len({e.lower() for e in expansions})


def test_to_dict_is_json_ready() -> None:
    payload = json.loads(json.dumps(parse_query("Google Cloud 2026Q1 收入同比增速").to_dict()))
    assert payload["entities"][0]["name"] == "Google Cloud"
    assert payload["periods"][0]["label"] == "2026Q1"
    assert payload["comparisons"] == ["yoy"]


def test_user_dictionary_directory_is_merged(tmp_path, monkeypatch) -> None:
    (tmp_path / "aliases.tsv").write_text("Nebius\t星云算力\n示例云\t示例云|Examplecloud\tcompany\n",
                                          encoding="utf-8")
    (tmp_path / "metrics.tsv").write_text("backlog\t订单余量\n", encoding="utf-8")
    (tmp_path / "userdict.txt").write_text("算力券 3000 n\n", encoding="utf-8")
    monkeypatch.setenv("YANBAO_DICT_DIR", str(tmp_path))
    query = parse_query("星云算力和Examplecloud的订单余量")
    assert [e.name for e in query.entities] == ["Nebius", "示例云"]
    assert [m.key for m in query.metrics] == ["backlog"]
    assert {"星云算力", "算力券"} <= set(tokenize("星云算力发放算力券"))
    assert "Nebius" in query.expansions  # packaged aliases are kept


# --- tokenizer and normalisation --------------------------------------------------------


def test_tokenizer_keeps_dictionary_terms_whole() -> None:
    tokens = tokenize("阿里巴巴归母净利润、资本开支与在手订单；CoreWeave 和 Google Cloud")
    assert {"归母净利润", "资本开支", "在手订单", "coreweave", "google_cloud"} <= set(tokens)
    # a dictionary term must also win against a neighbouring word: not "智能" + "云业务"
    assert "智能云" in tokenize("智能云业务收入")


def test_tokenizer_drops_punctuation_whitespace_and_stop_words() -> None:
    tokens = tokenize("收入（同比）是  多少？的，。%  ")
    assert tokens == ["收入", "同比"]


def test_tokenizer_keeps_numbers_and_period_codes() -> None:
    tokens = tokenize("1Q26 收入 3.99 亿美元，2026Q1 backlog 4,975亿，YOY+684%，FY26Q3")
    assert {"1q26", "3.99", "2026q1", "4975", "684", "fy26q3", "backlog"} <= set(tokens)


def test_tokenizer_exposes_plain_forms_inside_compound_tokens() -> None:
    tokens = tokenize("2026E 调整后EBITDA")
    assert {"2026e", "2026", "ebitda"} <= set(tokens)


def test_full_width_input_is_normalised() -> None:
    assert normalize_text("ＡＢＣ１２３．４％") == "ABC123.4%"
    assert "123.4" in tokenize("收入１２３．４亿元")
    assert "nvda" in tokenize("ＮＶＤＡ")


def test_normalisation_keeps_chinese_punctuation_and_fixes_pdf_radicals() -> None:
    assert normalize_text("收入，同比增长。") == "收入，同比增长。"
    assert normalize_text("⼈⺠币") == "人民币"
    assert normalize_text("a\u3000b\u200bc") == "a bc"


# --- the bilingual glossary: a question in one language, reports in the other -----------------

@pytest.mark.parametrize("question, chinese", [
    ("What was Acme's data center revenue in 2025?", ["数据中心"]),
    ("How much did the backtest charge in transaction costs?", ["交易费用", "交易成本", "手续费", "回测"]),
    ("What is the win rate of the long-short portfolio?", ["胜率", "多空", "组合"]),
])
def test_english_words_bring_their_chinese_forms(question, chinese):
    parsed = parse_query(question)
    assert all(c in parsed.chinese_glosses for c in chinese), parsed.glosses
    assert all(c in parsed.matching_text for c in chinese)


def test_chinese_words_bring_english_forms_but_only_chinese_ones_are_matched():
    parsed = parse_query("Acme 的数据中心收入和回测胜率是多少？")
    assert "data center" in parsed.glosses and "win rate" in parsed.glosses
    assert parsed.chinese_glosses == [] and parsed.matching_text == parsed.text


def test_what_a_question_already_says_is_not_glossed_again():
    parsed = parse_query("Acme 数据中心 (data center) 收入")
    assert "数据中心" not in parsed.glosses and "data center" not in parsed.glosses


def test_a_glossary_word_is_not_a_name_the_evidence_must_print():
    from qa.evidence import required_terms
    assert required_terms(parse_query("Northbound inflows above the threshold: what was the win rate?")) == []
    assert required_terms(parse_query("What did Zorblax report as its backtest drawdown?")) == [["Zorblax"]]


def test_an_english_qualifier_is_found_in_chinese_evidence():
    from qa.evidence import _qualified, metric_qualifiers, metric_surfaces
    q = parse_query("What was Tesla's data center revenue in 2025?")
    qualifiers = metric_qualifiers(q)
    assert any("数据中心" in w.split("|") for w in qualifiers), qualifiers

    class _Unit:
        def __init__(self, text):
            self.text = text
    mets = metric_surfaces(q)
    assert _qualified(_Unit("2025 年特斯拉数据中心收入 52 亿美元"), qualifiers, mets) == 1.0
    assert _qualified(_Unit("2025 年特斯拉收入 80 亿美元"), qualifiers, mets) == 0.0


# --- code names printed with "_" or "-" --------------------------------------------------------


@pytest.mark.parametrize(("name", "printed"), [
    ("Factor_5d", "因子Factor-5d：月度收益"), ("Factor-5d", "Factor_5d 的 IC"), ("ROE_TTM", "roe-ttm 排名"),
])
def test_a_code_name_matches_with_either_joiner(name: str, printed: str) -> None:
    from index.query import _surface_pattern
    import re
    assert re.search(_surface_pattern(name), printed, re.I)


@pytest.mark.parametrize(("name", "printed"), [
    ("Factor_5d", "Factor_5dx 的 IC"), ("Factor_5d", "Factor 5d 的 IC"), ("MA_20", "MA_200 的收益"),
])
def test_a_code_name_still_needs_its_joiner_and_its_edges(name: str, printed: str) -> None:
    from index.query import _surface_pattern
    import re
    assert not re.search(_surface_pattern(name), printed, re.I)


@pytest.mark.parametrize("question, key", [
    ("What share of Zeta's servers run inference?", "share"),
    ("推理工作负载占比是多少？", "share"),
    ("Zeta 海外业务的比重是多少？", "share"),
    ("Zeta 2031Q1 市场份额是多少？", "market_share"),
    ("What was Zeta's market share in Q1 2031?", "market_share"),
])
def test_a_share_of_something_is_not_a_market_share(question: str, key: str) -> None:
    assert [m.key for m in parse_query(question).metrics] == [key]


@pytest.mark.parametrize("question", [
    "What size does Zeta expect the global robot market to reach by 2031?",
    "How big was the Zeta cloud market in 2030?",
    "How large was China's data center market in 2030?",
])
def test_an_english_question_asking_a_market_how_big_asks_its_size(question: str) -> None:
    assert "market_size" in [m.key for m in parse_query(question).metrics]


def test_how_big_without_a_market_is_no_market_size() -> None:
    assert "market_size" not in [m.key for m in parse_query("How big is Zeta's order book in 2031?").metrics]


@pytest.mark.parametrize("text, label", [("择时策略17 年至今胜率58.6%", "2017"), ("19年以来累计收益", "2019"),
                                         ("20 年底持仓", "2020")])
def test_a_two_digit_year_where_only_a_year_can_stand(text: str, label: str) -> None:
    assert [p.label for p in extract_periods(text)] == [label]


@pytest.mark.parametrize("text", ["持有 10 年的收益", "共 15 年样本", "期限 5 年"])
def test_a_number_of_years_is_no_year(text: str) -> None:
    assert extract_periods(text) == []


def test_an_a_share_market_is_no_share_metric() -> None:
    assert [m.key for m in parse_query("What Sharpe ratio did Zeta's A-share backtest reach?").metrics] == ["sharpe"]
    assert "share" in [m.key for m in parse_query("What share of Zeta's A-share revenue is overseas?").metrics]


@pytest.mark.parametrize("question, comparison", [
    ("Zeta 2031Q1 收入较上一季度增长了多少？", "qoq"),
    ("Zeta 收入比上季度增长多少？", "qoq"),
    ("Zeta 2031Q1 收入较去年同期增长了多少？", "yoy"),
    ("How much did Zeta's revenue grow from the previous quarter?", "qoq"),
])
def test_a_change_against_the_previous_quarter_or_year_is_sequential_or_yearly(question: str, comparison: str) -> None:
    assert parse_query(question).comparisons == [comparison]


def test_a_target_price_is_a_metric_of_its_own() -> None:
    assert [m.key for m in parse_query("东吴证券给予 Zeta 的目标价是多少？").metrics] == ["target_price"]
    assert [m.key for m in parse_query("What is the price target for Zeta?").metrics] == ["target_price"]


@pytest.mark.parametrize("question, broker", [
    # brokers are named by their Chinese name, their English name, or its short form
    ("Per Zhongtai's note, what was the 2031 revenue?", "Zhongtai Securities"),
    ("据东兴证券报告，2031 年收入是多少？", "Dongxing Securities"),
    ("In Tebon's report, what is the target price?", "Debon Securities"),
    ("华鑫证券预计 2031 年净利润是多少？", "Huaxin Securities"),
])
def test_brokers_by_any_of_their_names(question, broker):
    assert (broker, "broker") in [(e.name, e.kind) for e in parse_query(question).entities]

"""ingest.metadata: title, broker and date from the report's content, never from a file name,
a download portal or a spoofable PDF author field. Invented firms and titles throughout."""
from __future__ import annotations

import pytest

from ingest.layout import Line
from ingest.metadata import broker_from_text, extract_meta


def line(text: str, size: float = 10.0, y: float = 100.0) -> Line:
    return Line(text=text, bbox=(50.0, y, 400.0, y + size), size=size)


COVER = [line("证券研究报告 | 行业深度", 9, 40), line("2024 年 03 月 05 日", 10, 60),
         line("算力租赁：从试点走向规模化", 22, 100), line("投资要点", 12, 160)]
DISCLAIMER = ("本报告仅供甲乙证券股份有限公司客户使用。甲乙证券研究所认为……分析师声明：……"
              "版权归甲乙证券股份有限公司所有。数据来源：丙丁证券研究所。")


def test_the_broker_is_the_firm_the_report_names_as_itself():
    assert broker_from_text(DISCLAIMER) == "甲乙证券"


def test_a_copyright_phrase_glued_to_the_name_is_read_as_the_name():
    text = "版权属于戊己证券股份有限公司。" * 3 + "戊己证券研究所"
    assert broker_from_text(text) == "戊己证券"


def test_a_four_character_brand_is_kept_as_it_is():
    assert broker_from_text("庚辛壬癸证券有限公司 " * 2) == "庚辛壬癸"


@pytest.mark.parametrize("text, broker", [
    ("本报告由甲乙证券股份有限公司制作。" * 2, "甲乙证券"),            # "告由甲乙" is no firm
    ("本报告仅供甲乙证券股份有限公司的客户使用。" * 2, "甲乙证券"),
    ("该研究报告系由丙丁证券研究所发布，著作权归丙丁证券股份有限公司。", "丙丁证券"),
    ("本文版权属于戊己证券研究所", "戊己证券"),
])
def test_a_word_before_the_firm_name_is_not_part_of_it(text, broker):
    assert broker_from_text(text) == broker


def test_spoofed_pdf_metadata_cannot_set_the_broker_or_title():
    pdf = {"author": "乙丙证券", "title": "慧博投研资讯 - www.example.com.cn", "creationDate": "D:20200101"}
    meta = extract_meta("x.pdf", pdf, COVER, [], [], 10, document_text=DISCLAIMER)
    assert (meta.broker, meta.sources["broker"]) == ("甲乙证券", "content")
    assert (meta.title, meta.sources["title"]) == ("算力租赁：从试点走向规模化", "cover")
    assert (meta.date, meta.sources["date"]) == ("2024-03-05", "cover")


def test_a_file_name_or_tool_is_never_a_title():
    cover = [line("行业深度报告", 24, 80)]                 # a report-type label printed large
    for junk in ("x.pdf", "x", "PowerPoint 演示文稿", "Microsoft Word - draft.docx"):
        meta = extract_meta("x.pdf", {"title": junk}, cover, [], [], 3)
        assert meta.title == "" and "title" not in meta.sources


def test_a_pdf_title_printed_on_the_cover_is_taken():
    cover = [line("一季度点评：利润率继续改善", 14, 90), line("图表较大的横幅文字", 26, 200)]
    meta = extract_meta("x.pdf", {"title": "一季度点评：利润率继续改善"}, cover, [], [], 3)
    assert meta.title == "一季度点评：利润率继续改善"


def test_a_date_printed_in_the_title_line_is_not_part_of_the_title():
    cover = [line("2021 年 06 月 01 日", 20, 80), line("北向资金还能流入多久", 20, 100)]
    assert extract_meta("x.pdf", {}, cover, [], [], 3).title == "北向资金还能流入多久"


def test_no_date_on_the_cover_falls_back_to_the_pdf_and_says_so():
    meta = extract_meta("x.pdf", {"creationDate": "D:20220304101010"}, [line("标题足够长的一行", 20)], [], [], 3)
    assert (meta.date, meta.sources["date"]) == ("2022-03-04", "pdf-metadata")

from datetime import date

import pytest

from policies import detection
from policies.detection import (
    cn_to_int,
    detect,
    detect_dates,
    find_doc_number,
    find_issuer,
    int_to_cn,
    parse_date,
    parse_structure,
)

from .files import SAMPLE_NOTICE


@pytest.mark.parametrize(
    "text,value",
    [
        ("一", 1),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("一百零五", 105),
        ("一百二十三", 123),
        ("一千零一", 1001),
        ("两百", 200),
        ("二〇一九", 2019),
        ("123", 123),
        ("１２", 12),
    ],
)
def test_chinese_numerals(text, value):
    assert cn_to_int(text) == value


@pytest.mark.parametrize("value", [1, 9, 10, 11, 19, 20, 21, 100, 101, 110, 123, 999, 1005, 1010])
def test_numerals_round_trip(value):
    assert cn_to_int(int_to_cn(value)) == value


def test_int_to_cn_forms_of_articles():
    assert int_to_cn(12) == "十二"
    assert int_to_cn(105) == "一百零五"
    assert int_to_cn(110) == "一百一十"
    assert int_to_cn(123) == "一百二十三"


def test_bad_numeral_is_refused():
    with pytest.raises(ValueError):
        cn_to_int("十甲")


@pytest.mark.parametrize(
    "text,value",
    [
        ("二〇一九年三月八日", date(2019, 3, 8)),
        ("二○二〇年十二月三十一日", date(2020, 12, 31)),
        ("2019年3月8日", date(2019, 3, 8)),
        ("2019 年 03 月 08 日印发", date(2019, 3, 8)),
        ("发布于2019-03-08", date(2019, 3, 8)),
        ("2019.3.8", date(2019, 3, 8)),
        ("没有日期", None),
        ("2019年2月30日", None),
    ],
)
def test_parse_date(text, value):
    assert parse_date(text) == value


@pytest.mark.parametrize(
    "line,number",
    [
        ("元人办发〔2019〕13号", "元人办发〔2019〕13号"),
        ("元人办发[2019]13号", "元人办发〔2019〕13号"),
        ("元人办发（2019）013号", "元人办发〔2019〕13号"),
        ("元人办发(2019)13号", "元人办发〔2019〕13号"),
        ("元人办发【2019】13号", "元人办发〔2019〕13号"),
        ("元人办发［2019］第13号", "元人办发〔2019〕13号"),
        ("财预〔2020〕 7 号", "财预〔2020〕7号"),
    ],
)
def test_doc_number_variants(line, number):
    assert find_doc_number(f"某某文件\n{line}\n标题") == number


def test_doc_number_inside_a_sentence_drops_the_verb():
    text = "关于转发的通知\n现将省财政厅印发的湘财预〔2020〕5号转发给你们。"
    assert find_doc_number(text) == "湘财预〔2020〕5号"


def test_no_doc_number():
    assert find_doc_number("元江县财政资金管理办法\n第一条 为了……") == ""


def test_normalise_typed_doc_number():
    assert detection.normalise_doc_number_text(" 元政发(2022)003号 ") == "元政发〔2022〕3号"
    assert detection.normalise_doc_number_text("") == ""


def test_issuer_from_header_stamp_and_sign_off():
    assert find_issuer(SAMPLE_NOTICE) == "元江县人民政府办公室"
    sign_off = "关于做好决算工作的通知\n各单位：\n请按时报送。\n\n元江县财政局\n2022年1月5日\n"
    assert find_issuer(sign_off) == "元江县财政局"


def test_issuer_from_the_meeting_that_passed_a_law():
    text = (
        "# 某某法\n\n1994年3月22日第八届全国人民代表大会第二次会议通过\n"
        "2014年8月31日第十二届全国人民代表大会常务委员会第十次会议修正\n\n第一章 总则\n第一条 为了……"
    )
    assert find_issuer(text) == "全国人民代表大会常务委员会"


def test_issuer_from_the_title():
    assert find_issuer("正文", title="元江县审计局关于开展专项审计的通知") == "元江县审计局"


def test_dates_of_a_notice():
    found = detect_dates(SAMPLE_NOTICE)
    assert found.written_on == date(2021, 3, 8)
    assert found.issued_on == date(2021, 3, 8)
    assert found.effective_on == date(2021, 5, 1)


def test_effective_on_issue_day():
    text = "标题\n2020年6月1日发布\n第一条 内容。\n第二条 本办法自发布之日起施行。"
    found = detect_dates(text)
    assert found.issued_on == date(2020, 6, 1)
    assert found.effective_on == date(2020, 6, 1)
    assert found.effective_on_issue


def test_effective_on_in_chinese_numerals():
    found = detect_dates("第九条 本条例自二〇二〇年一月一日起施行。")
    assert found.effective_on == date(2020, 1, 1)


def test_law_issued_on_is_the_latest_amendment():
    text = (
        "# 某某法\n\n1994年3月22日第八届全国人民代表大会第二次会议通过\n"
        "2018年12月29日第十三届全国人民代表大会常务委员会第七次会议第二次修正\n\n"
        "第一章 总则\n第一条 内容。\n第二条 本法自1995年1月1日起施行。"
    )
    found = detect_dates(text)
    assert found.issued_on == date(2018, 12, 29)
    assert found.effective_on == date(1995, 1, 1)


def test_structure_of_the_notice():
    structure = parse_structure(SAMPLE_NOTICE)
    labels = [article.label for article in structure.articles]
    assert labels == ["第一条", "第二条", "第三条", "第三条之一", "第四条", "第五条"]
    third = structure.articles[2]
    assert third.paragraphs == [
        "预算单位申请预算时，应当同时设定绩效目标。",
        "绩效目标应当清晰、可衡量。",
    ]
    assert third.chapter == "第二章 绩效目标"
    assert third.section == "第一节 目标设定"
    assert structure.articles[4].section == "第二节 目标审核"
    # a new chapter clears the section
    assert structure.articles[5].chapter == "第三章 附则"
    assert structure.articles[5].section == ""
    assert [d.label for d in structure.divisions][:3] == ["第一章", "第二章", "第一节"]
    # the sign-off is not part of the last article
    assert structure.articles[-1].paragraphs == ["本办法自2021年5月1日起施行。"]
    assert structure.tail == ["元江县人民政府办公室", "二〇二一年三月八日"]
    assert structure.preamble[0] == "元江县人民政府办公室文件"


def test_articles_up_to_one_hundred_twenty_three_and_books():
    lines = ["第一编 总则", "第一章 一般规定"]
    lines += [f"第{int_to_cn(n)}条 第{n}条的内容。" for n in range(1, 124)]
    structure = parse_structure("\n".join(lines))
    assert len(structure.articles) == 123
    last = structure.articles[-1]
    assert (last.label, last.number, last.book) == ("第一百二十三条", 123, "第一编 总则")


def test_article_numbers_in_arabic_digits_are_normalised():
    structure = parse_structure("第1条 甲。\n第12条 乙。")
    assert [a.label for a in structure.articles] == ["第一条", "第十二条"]


def test_reference_at_line_start_stays_in_its_article():
    text = "第五条 一般规定。\n第三十条第一款规定的情形除外。\n第六条为了衔接，另行规定。"
    structure = parse_structure(text)
    assert [a.label for a in structure.articles] == ["第五条", "第六条"]
    assert structure.articles[0].paragraphs[1] == "第三十条第一款规定的情形除外。"
    assert structure.articles[1].paragraphs == ["为了衔接，另行规定。"]


def test_duplicate_labels_get_unique_anchors():
    structure = parse_structure("第一条 正文。\n第二条 正文。\n附件\n第一条 附件条文。")
    assert [a.anchor for a in structure.articles] == ["第一条", "第二条", "第一条-2"]


def test_count_article_lines():
    assert detection.count_article_lines(SAMPLE_NOTICE) == 6


def test_detect_everything():
    found = detect(SAMPLE_NOTICE)
    assert found.title == "元江县人民政府办公室关于印发《元江县县级预算绩效管理办法》的通知"
    assert found.doc_number == "元政办发〔2021〕7号"
    assert found.issuer == "元江县人民政府办公室"
    assert found.effect_level == "normative"
    assert found.article_count == 6


def test_effect_levels():
    assert (
        detection.detect_effect_level("中华人民共和国预算法", "全国人民代表大会常务委员会") == "law"
    )
    assert detection.detect_effect_level("某某条例", "国务院") == "admin_regulation"
    assert (
        detection.detect_effect_level("某省预算审查监督条例", "某省人民代表大会常务委员会")
        == "local_regulation"
    )
    assert detection.detect_effect_level("机关内部财务管理制度", "元江县财政局") == "internal"
    assert detection.detect_effect_level("一份材料", "") == ""


def test_wrapped_title_is_joined():
    text = "元江县财政局关于进一步规范\n专项资金管理的通知\n各单位：\n内容。"
    assert detection.detect_title(text) == "元江县财政局关于进一步规范专项资金管理的通知"


def test_title_is_not_joined_with_a_chapter_heading():
    text = "元江县部门预算编制规程\n第一章 一般规定\n第一条 内容。"
    assert detection.detect_title(text) == "元江县部门预算编制规程"

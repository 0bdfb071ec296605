"""The search box syntax: space = AND, | = OR, - = NOT, quotes = phrase."""

import pytest
from modelsearch.query import And, Not, Or, Phrase, PlainText

from search.query_syntax import QuerySyntaxError, groups_to_text, parse_query


def shape(node):
    """A comparable picture of a modelsearch query tree."""
    if isinstance(node, PlainText):
        return node.query_string
    if isinstance(node, Phrase):
        return ("phrase", node.query_string)
    if isinstance(node, Not):
        return ("not", shape(node.subquery))
    if isinstance(node, And):
        return ("and", *[shape(s) for s in node.subqueries])
    if isinstance(node, Or):
        return ("or", *[shape(s) for s in node.subqueries])
    raise AssertionError(node)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("预算", "预算"),
        ("预算 审计", ("and", "预算", "审计")),
        ("预算\u3000审计", ("and", "预算", "审计")),
        ("预算 | 决算", ("or", "预算", "决算")),
        ("预算｜决算", ("or", "预算", "决算")),
        ("预算 -草案", ("and", "预算", ("not", "草案"))),
        ('"预算 执行"', ("phrase", "预算 执行")),
        ("“预算 执行” 报告", ("and", ("phrase", "预算 执行"), "报告")),
        ('-"征求 意见" 预算', ("and", ("not", ("phrase", "征求 意见")), "预算")),
        ("预算 | 决算 审计 -草案", ("and", ("or", "预算", "决算"), "审计", ("not", "草案"))),
        ("a | b | c", ("or", "a", "b", "c")),
        ("| 预算 |", "预算"),
        ("2019-2020", "2019-2020"),
        ("元人办发〔2019〕13号", "元人办发〔2019〕13号"),
    ],
)
def test_parse_shapes(text, expected):
    assert shape(parse_query(text).query) == expected


def test_terms_for_highlighting_leave_out_exclusions():
    parsed = parse_query('预算 | 决算 "三公 经费" -草案')
    assert parsed.positive_terms == ["预算", "决算", "三公 经费"]
    assert parsed.negative_terms == ["草案"]


def test_empty_query_is_empty():
    assert parse_query("   ").is_empty
    assert parse_query('""').is_empty


def test_unclosed_quote_becomes_phrase_with_notice():
    parsed = parse_query('"预算 执行')
    assert shape(parsed.query) == ("phrase", "预算 执行")
    assert parsed.notices and "引号" in parsed.notices[0]


def test_only_exclusions_is_refused_in_chinese():
    with pytest.raises(QuerySyntaxError, match="不能只包含排除词"):
        parse_query("-草案 -征求意见稿")


def test_too_long_is_refused():
    with pytest.raises(QuerySyntaxError, match="过长"):
        parse_query("预" * 201)
    with pytest.raises(QuerySyntaxError, match="过多"):
        parse_query(" ".join(f"词{i}" for i in range(21)))


def test_groups_write_back_to_the_same_syntax():
    parsed = parse_query('预算 | 决算 "三公 经费" -草案')
    again = parse_query(groups_to_text(parsed.groups))
    assert shape(again.query) == shape(parsed.query)


# --- issue 16: questions and operators; issue 15: bounded cost ----------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("政府债务怎么管理", ("and", "政府债务", "管理")),
        ("如何管理政府债务", "管理政府债务"),
        ("债务怎么管", ("and", "债务", "管")),
        ("什么是三公经费", "三公经费"),
        ("三公经费是什么？", "三公经费"),
        ("哪些项目是否需要公示呢", ("and", "项目", "公示")),  # the modal verb goes too
        ("预算调整需要报哪里批准", ("and", "预算调整", "批准")),
        ("设施需要改正吗", ("and", "设施", "改正")),
        ("征收土地有哪些规定", "征收土地"),
        ("需要公示", "需要公示"),  # no question: a modal verb stays
        ("预算公开了吗", "预算公开了"),
        ("吗啡", "吗啡"),  # a particle only at the end of a longer word
        ('"如何管理"', ("phrase", "如何管理")),  # a phrase is searched as typed
        ("-如何 预算", ("and", ("not", "如何"), "预算")),  # so is an exclusion
    ],
)
def test_question_wording_is_left_out(text, expected):
    parsed = parse_query(text)
    assert shape(parsed.query) == expected
    if shape(parsed.query) != text:
        assert any("提问用语" in n for n in parsed.notices) or '"' in text or "-" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("预算 AND 决算", ("and", "预算", "决算")),
        ("预算 and 决算", ("and", "预算", "决算")),
        ("预算 和 决算", ("and", "预算", "决算")),
        ("预算 OR 决算", ("or", "预算", "决算")),
        ("预算 Or 决算", ("or", "预算", "决算")),
        ("预算 或 决算", ("or", "预算", "决算")),
        ("预算 NOT 草案", ("and", "预算", ("not", "草案"))),
        ("预算 not 草案", ("and", "预算", ("not", "草案"))),
        ("政府和社会资本合作", "政府和社会资本合作"),  # 和 inside a word is a character
        ("AND", "AND"),  # nothing to join: the word itself
    ],
)
def test_operator_words(text, expected):
    parsed = parse_query(text)
    assert shape(parsed.query) == expected
    if shape(parsed.query) != text and text != "AND":
        assert any("逻辑运算符" in n for n in parsed.notices)


def test_brackets_and_wildcards_are_dropped_with_a_notice():
    parsed = parse_query("预算 AND (决算 OR *) ~ ^ \\ / : ? [ ] { }")
    assert shape(parsed.query) == ("and", "预算", "决算")
    assert any("无法检索的符号" in n for n in parsed.notices)
    assert "《" not in " ".join(parse_query("《预算法》").notices)


def test_twenty_single_characters_are_refused_with_what_to_narrow():
    with pytest.raises(QuerySyntaxError, match="单字检索词过多.*连成词语"):
        parse_query(" ".join("税费债罚款项目资金收支预决算审计监督管理"))
    assert parse_query("税 费 债 罚")  # four are fine


def test_too_many_words_after_segmentation_are_refused():
    long_sentence = "全县各级人民政府应当依照本级人民代表大会批准的预算执行情况报告加强预算绩效管理"
    with pytest.raises(QuerySyntaxError, match="词语过多"):
        parse_query(long_sentence + "并向社会公开政府采购信息")


def test_a_word_that_is_only_question_wording():
    parsed = parse_query("预算 执行 是什么？")
    assert shape(parsed.query) == ("and", "预算", "执行")
    assert "提问用语" in parsed.notices[0]
    assert shape(parse_query("什么").query) == "什么"  # nothing else: searched as typed

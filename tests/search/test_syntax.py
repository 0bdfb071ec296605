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

"""One behavioural test suite for every Chinese search backend of the project.

Shaped after modelsearch's own shared backend tests (search, query classes, filters,
ordering, facets, scores, autocomplete, index maintenance), with the Chinese cases that
matter here: sub-word recall, one-character queries, exact phrases, document numbers,
synonyms, full-width characters and mixed scripts. The ``search_backend`` fixture
(tests/search/conftest.py) runs each test on the Whoosh backend and, on PostgreSQL,
on the jieba-segmented PostgreSQL backend.
"""

import pytest
from django.core.management import call_command
from modelsearch.backends.base import FilterFieldError
from modelsearch.query import And, Boost, MatchAll, Not, Or, Phrase, PlainText
from modelsearch.utils import parse_query_string

from tests.search.testapp.models import Document, EffectLevel, Note


def titles(results):
    return {obj.title for obj in results}


def keys(corpus, results):
    by_pk = {(type(obj), obj.pk): key for key, obj in corpus.items()}
    return {by_pk[(type(obj), obj.pk)] for obj in results}


def search(backend, corpus, query, model_or_queryset=Document, **kwargs):
    return keys(corpus, backend.search(query, model_or_queryset, **kwargs))


# --- plain text ------------------------------------------------------------------------


def test_sub_word_recall(search_backend, corpus):
    assert "knowledge" in search(search_backend, corpus, "知识")
    assert "knowledge" in search(search_backend, corpus, "管理")
    assert "knowledge" in search(search_backend, corpus, "知识管理制度")


def test_plain_text_does_not_match_unrelated(search_backend, corpus):
    assert search(search_backend, corpus, "知识") == {"knowledge"}
    assert search(search_backend, corpus, "审计署") == set()


def test_one_character_query(search_backend, corpus):
    found = search(search_backend, corpus, "税")
    assert {"tax"} <= found
    assert "knowledge" not in found and "compilation" not in found


def test_multiple_words_and_or(search_backend, corpus):
    assert search(search_backend, corpus, "绩效 评价") == {"evaluation"}
    either = search(search_backend, corpus, "知识 个人所得税", operator="or")
    assert {"knowledge", "tax"} <= either
    assert search(search_backend, corpus, "知识 个人所得税", operator="and") == set()


def test_search_is_per_model(search_backend, corpus):
    assert search(search_backend, corpus, "知识", Note) == {"note_knowledge"}
    assert search(search_backend, corpus, "知识", Document) == {"knowledge"}
    assert search(search_backend, corpus, "预算审查", Note) == {"note_budget"}


def test_count_and_slicing(search_backend, corpus):
    results = search_backend.search("预算", Document)
    total = results.count()
    assert total >= 4
    assert len(list(results[:2])) == 2
    assert results[:2].count() == 2
    assert len(list(results[1:])) == total - 1


def test_blank_query_finds_nothing(search_backend, corpus):
    assert list(search_backend.search("", Document)) == []


# --- phrases ---------------------------------------------------------------------------


def test_phrase_matches_exactly_that_string(search_backend, corpus):
    # Both documents contain 预算 and 绩效; only one has them as the phrase 预算绩效.
    assert {"performance", "evaluation"} <= search(search_backend, corpus, "预算 绩效")
    assert search(search_backend, corpus, Phrase("预算绩效")) == {"performance"}
    assert search(search_backend, corpus, Phrase("绩效预算")) == set()


def test_quoted_phrase_from_user_input(search_backend, corpus):
    query = parse_query_string('"预算绩效管理"')[1]
    assert search(search_backend, corpus, query) == {"performance"}
    # A phrase crossing a comma in the source does not match across the punctuation
    # differently from the text: the exact string must be present.
    query = parse_query_string('"资金使用效益"')[1]
    assert search(search_backend, corpus, query) == {"performance"}


# --- query classes ---------------------------------------------------------------------


def test_match_all(search_backend, corpus):
    assert len(list(search_backend.search(MatchAll(), Document))) == Document.objects.count()


def test_and(search_backend, corpus):
    query = And([PlainText("预算"), PlainText("绩效")])
    assert {"performance", "evaluation"} <= search(search_backend, corpus, query)
    query = And([PlainText("预算"), PlainText("知识")])
    assert search(search_backend, corpus, query) == set()


def test_or(search_backend, corpus):
    query = Or([PlainText("知识"), PlainText("公务接待")])
    assert search(search_backend, corpus, query) == {"knowledge", "reception"}


def test_not(search_backend, corpus):
    query = And([PlainText("预算"), Not(PlainText("绩效"))])
    found = search(search_backend, corpus, query)
    assert "compilation" in found
    assert "performance" not in found and "evaluation" not in found


def test_not_match_all_finds_nothing(search_backend, corpus):
    assert list(search_backend.search(Not(MatchAll()), Document)) == []


def test_boost_changes_the_order(search_backend, corpus):
    first = Or([Boost(PlainText("知识"), 10.0), PlainText("议事规则")])
    results = list(search_backend.search(first, Document))
    assert [doc.title for doc in results] == ["知识管理制度", "议事规则"]
    second = Or([PlainText("知识"), Boost(PlainText("议事规则"), 10.0)])
    results = list(search_backend.search(second, Document))
    assert [doc.title for doc in results] == ["议事规则", "知识管理制度"]


def test_title_boost_ranks_title_hits_first(search_backend, corpus):
    # 公务接待 is in the title of one document and only in the body of none other;
    # 预算 is in the titles of several and the bodies of others.
    results = list(search_backend.search("绩效", Document))
    assert results[0].title in {"预算绩效管理办法", "绩效评价结果应用规定"}
    results = list(search_backend.search("财政承受能力", Document))
    assert results[0].title == "ＰＰＰ项目财政承受能力论证指引"


# --- filters, ordering, facets, scores -------------------------------------------------


def test_filter_on_filter_fields(search_backend, corpus):
    assert search(search_backend, corpus, "预算", Document.objects.filter(year=2022)) == {
        "performance",
        "evaluation",
    }
    assert search(
        search_backend, corpus, "办法", Document.objects.filter(issuer="县人民政府办公室")
    ) == {"reception"}
    in_force = Document.objects.filter(effect_level=EffectLevel.NORMATIVE, published=True)
    assert "repealed" not in search(search_backend, corpus, "预算", in_force)
    assert "repealed" in search(
        search_backend, corpus, "预算", Document.objects.filter(status="已废止")
    )
    assert search(
        search_backend, corpus, "预算", Document.objects.filter(year__gte=2021, year__lt=2022)
    ) == {"compilation"}
    assert search(
        search_backend, corpus, "预算", Document.objects.exclude(year__in=[2021, 2022, 2010])
    ) == {"congress"}


def test_filter_on_undeclared_field_is_refused(search_backend, corpus):
    with pytest.raises(FilterFieldError):
        list(search_backend.search("预算", Document.objects.filter(body="x")))


def test_order_by_field(search_backend, corpus):
    results = list(
        search_backend.search("预算", Document.objects.order_by("year"), order_by_relevance=False)
    )
    years = [doc.year for doc in results]
    assert len(years) >= 4
    assert years == sorted(years)
    results = list(
        search_backend.search("预算", Document.objects.order_by("-year"), order_by_relevance=False)
    )
    assert [doc.year for doc in results] == sorted(years, reverse=True)


def test_facet_counts(search_backend, corpus):
    facets = search_backend.search("预算", Document).facet("issuer")
    assert facets["县财政局"] == 2
    assert facets["县人大常委会办公室"] == 2
    assert "国务院" not in facets
    facets = search_backend.search("管理", Document).facet("effect_level")
    assert facets[EffectLevel.NORMATIVE] >= 2


def test_facet_on_undeclared_field_is_refused(search_backend, corpus):
    with pytest.raises(FilterFieldError):
        search_backend.search("预算", Document).facet("body")


def test_score_annotation(search_backend, corpus):
    results = list(search_backend.search("预算绩效", Document).annotate_score("_score"))
    assert results, "no results"
    scores = [doc._score for doc in results]
    assert all(isinstance(score, float) for score in scores)
    assert scores == sorted(scores, reverse=True)
    assert results[0].title == "预算绩效管理办法"
    assert scores[0] > 0


# --- autocomplete ----------------------------------------------------------------------


def test_autocomplete_partial_term(search_backend, corpus):
    found = keys(corpus, search_backend.autocomplete("制度汇", Document))
    assert found == {"compilation"}


def test_autocomplete_prefix_of_a_word(search_backend, corpus):
    assert "tax" in keys(corpus, search_backend.autocomplete("个人所", Document))
    assert "note_knowledge" in keys(corpus, search_backend.autocomplete("知识库", Note))


# --- Chinese specifics -----------------------------------------------------------------


@pytest.mark.parametrize("query", ["13号", "元人办发", "元人办发〔2019〕13号"])
def test_document_number(search_backend, corpus, query):
    assert search(search_backend, corpus, query) == {"reception"}


def test_synonyms(search_backend, corpus):
    # The document names only 公务接待费, one of the 三公经费.
    assert "reception" in search(search_backend, corpus, "三公经费")
    # The document says 人民代表大会, the query the short form.
    assert "congress" in search(search_backend, corpus, "人大")


def test_full_width_letters_and_digits(search_backend, corpus):
    assert "fullwidth" in search(search_backend, corpus, "PPP")
    assert "fullwidth" in search(search_backend, corpus, "ｐｐｐ项目")
    assert "fullwidth" in search(search_backend, corpus, "2023")
    assert "mixed" in search(search_backend, corpus, "２０２４")


def test_mixed_chinese_english_digits(search_backend, corpus):
    assert search(search_backend, corpus, "api 接口 2024") == {"mixed"}
    assert search(search_backend, corpus, "HTTPS") == {"mixed"}
    assert "mixed" in search(search_backend, corpus, "采购API")


# --- index maintenance -----------------------------------------------------------------


def test_delete_removes_from_index(search_backend, corpus):
    tax = corpus["tax"]
    search_backend.delete(tax)
    search_backend.refresh_indexes()
    assert "tax" not in search(search_backend, corpus, "个人所得税")


def test_update_replaces_old_text(search_backend, corpus):
    doc = corpus["knowledge"]
    doc.title = "档案管理制度"
    doc.body = "档案应当按年度整理归档。"
    doc.save()
    search_backend.add(doc)
    search_backend.refresh_indexes()
    assert search(search_backend, corpus, "知识") == set()
    assert "knowledge" in search(search_backend, corpus, "档案")


def test_reset_and_rebuild_with_update_index(search_backend, corpus):
    search_backend.reset_indexes()
    search_backend.refresh_indexes()
    assert search(search_backend, corpus, "知识") == set()
    call_command("update_index", backend_name="default", verbosity=0)
    assert search(search_backend, corpus, "知识") == {"knowledge"}
    assert search(search_backend, corpus, "知识", Note) == {"note_knowledge"}
    assert search(search_backend, corpus, Phrase("预算绩效")) == {"performance"}


def test_saving_a_model_indexes_it(search_backend, corpus):
    doc = Document.objects.create(title="政府债务限额管理办法", body="地方政府专项债券。")
    search_backend.refresh_indexes()
    assert doc.pk in {d.pk for d in search_backend.search("专项债券", Document)}


# --- issue 15/16: questions, operator words, the time budget ---------------------------


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("预算绩效怎么管理", "预算绩效 管理"),
        ("如何管理预算绩效", "管理预算绩效"),
        ("公务接待费是什么？", "公务接待费"),
        ("绩效 OR 接待", "绩效 | 接待"),
        ("绩效 和 评价", "绩效 评价"),
    ],
)
def test_box_questions_and_operator_words_find_what_the_words_find(
    search_backend, corpus, question, words
):
    from search.query_syntax import parse_query

    asked = search(search_backend, corpus, parse_query(question).query)
    plain = search(search_backend, corpus, parse_query(words).query)
    assert asked and asked == plain


def test_search_past_its_time_budget_is_stopped(search_backend, corpus):
    from search.budget import SearchTooSlow, time_budget

    with pytest.raises(SearchTooSlow, match="检索耗时超过限制"), time_budget(-1):
        list(search_backend.search("预算", Document))
    assert search(search_backend, corpus, "预算")  # no budget left behind


# --- issue 19: the same answers on both backends, kind by kind --------------------------
# (the kinds of benchmarks/quality.py: titles, two words, phrases, prefixes, questions,
# domain terms, and article hits listed under their document)

KINDS_DOCUMENTS = {
    "adjustment": dict(
        title="预算调整程序规定",
        body="预算执行中确需增加支出的，由本级政府编制预算调整方案，"
        "报本级人大常委会审查批准；未经批准，不得擅自调整。",
        issuer="县人民政府",
        year=2021,
        effect_level=EffectLevel.NORMATIVE,
    ),
    "transfer": dict(
        title="转移支付资金监管办法",
        body="上级下达的一般性转移支付资金应当及时列入本级预算，任何单位不得截留挪用。",
        issuer="县财政局",
        year=2020,
        effect_level=EffectLevel.NORMATIVE,
    ),
    "debt": dict(
        title="政府债务风险防控意见",
        body="举借债务只能在批准的限额以内进行，债务资金用于公益性资本支出，不得用于经常性开支。",
        issuer="县人民政府",
        year=2022,
        effect_level=EffectLevel.NORMATIVE,
    ),
}


@pytest.fixture
def kinds_corpus(search_backend, corpus):
    """The shared corpus plus three documents written for the query kinds."""
    added = {key: Document.objects.create(**fields) for key, fields in KINDS_DOCUMENTS.items()}
    search_backend.add_bulk(Document, list(added.values()))
    search_backend.refresh_indexes()
    return {**corpus, **added}


def box(text):
    """The query the search box makes of ``text`` (question wording, operators)."""
    from search.query_syntax import parse_query

    return parse_query(text).query


def test_kind_title_finds_the_document_first(search_backend, kinds_corpus):
    for key in ("adjustment", "transfer", "debt"):
        title = KINDS_DOCUMENTS[key]["title"]
        results = list(search_backend.search(box(title), Document))
        assert results and results[0].title == title


def test_kind_two_words_need_both(search_backend, kinds_corpus):
    assert search(search_backend, kinds_corpus, box("调整 批准")) == {"adjustment"}
    assert search(search_backend, kinds_corpus, box("债务 截留")) == set()
    # a word that is only part of a longer word of the text still counts (资本 in 资本支出)
    assert search(search_backend, kinds_corpus, box("资本 开支")) == {"debt"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"编制预算调整方案"', {"adjustment"}),
        ('"不得截留挪用"', {"transfer"}),
        ('"限额以内"', {"debt"}),
        ('"限额之内"', set()),
        ('"批准的限额"', {"debt"}),  # across a word boundary and a stop word
    ],
)
def test_kind_phrase(search_backend, kinds_corpus, text, expected):
    assert search(search_backend, kinds_corpus, box(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("截留挪", {"transfer"}),  # a word typed half-way
        ("公益性资", {"debt"}),
        ("级政府编", {"adjustment"}),  # the end of one word and the start of the next
        ("经常性开", {"debt"}),
        ("擅自调", {"adjustment"}),
    ],
)
def test_kind_prefix_of_what_is_being_typed(search_backend, kinds_corpus, text, expected):
    assert search(search_backend, kinds_corpus, box(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("预算调整需要报哪里批准", {"adjustment"}),
        ("转移支付资金能不能截留", {"transfer"}),
        ("债务资金可以用于经常性开支吗", {"debt"}),
        ("举借债务有哪些规定", {"debt"}),
    ],
)
def test_kind_question_in_natural_language(search_backend, kinds_corpus, text, expected):
    assert search(search_backend, kinds_corpus, box(text)) == expected


def test_kind_domain_term(search_backend, kinds_corpus):
    # 转移支付 is a dictionary word; the text has the longer 一般性转移支付
    assert search(search_backend, kinds_corpus, box("转移支付")) == {"transfer"}
    assert search(search_backend, kinds_corpus, box("一般性转移支付")) == {"transfer"}
    assert search(search_backend, kinds_corpus, box("预算调整方案")) == {"adjustment"}


GROUPED_POLICY = """元江县财政局文件

元财发〔2024〕3号

元江县财政局关于规范政府债务资金使用的办法

第一条 为规范政府债务资金使用，防范债务风险，制定本办法。
第二条 债务资金只能用于公益性资本支出，不得挪作他用。
第三条 项目单位应当每季度报送债务资金使用情况。
第四条 本办法自发布之日起施行。
"""


def test_kind_article_hits_are_listed_under_their_document(search_backend, django_user_model):
    from policies import ingest
    from policies.models import PolicyArticle, PolicyPage
    from search.registry import run_search

    (record,) = ingest.import_path_data("debt.txt", GROUPED_POLICY.encode(), publish=True)
    assert record.page is not None, record.message
    search_backend.refresh_indexes()
    admin = django_user_model.objects.create_superuser("kinds-admin", "k@example.invalid", "x")

    outcome = run_search(admin, "债务资金")
    policies = [hit for hit in outcome.results if isinstance(hit.obj, PolicyPage)]
    assert [hit.obj.pk for hit in policies] == [record.page.pk]  # listed once
    assert not any(isinstance(hit.obj, PolicyArticle) for hit in outcome.results)
    children = policies[0].children
    assert {article.obj.label for article in children} >= {"第二条", "第三条"}
    assert all(article.obj.page_id == record.page.pk for article in children)

    # an article-only word: the policy is listed for its article
    outcome = run_search(admin, "每季度报送")
    (hit,) = [hit for hit in outcome.results if isinstance(hit.obj, PolicyPage)]
    assert [article.obj.label for article in hit.children] == ["第三条"]

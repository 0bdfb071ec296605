"""The search page /search/: per-role results, counts and facets, drafts and private
pages, pagination, sorting, highlighting, the no-results suggestion, usage records."""

import datetime

import pytest
from modelsearch.backends import get_search_backend
from wagtail.models import Page, PageViewRestriction, Site

from cms import roles
from cms.models import HomePage
from cms.usage.models import UsageAction, UsageRecord
from search.registry import register_searchable, run_search, unregister_searchable
from tests.browser.fixtures import login
from tests.search.testapp.models import Document, EffectLevel, Note, Status


def document_queryset_for_user(user):
    """Published test documents; restricted ones only for 系统管理员 / 工作人员."""
    queryset = Document.objects.filter(published=True)
    if not roles.has_role(user, roles.ADMIN, roles.STAFF):
        queryset = queryset.filter(restricted=False)
    return queryset


@pytest.fixture(params=["configured", "database"])
def site_backend(request, db, settings, tmp_path):
    """Run on the configured default backend (the project's Whoosh + jieba) and on
    modelsearch's generic database backend: the site search depends on neither."""
    if request.param == "database":
        settings.WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "modelsearch.backends.database"}}
    get_search_backend().reset_indexes()
    return request.param


@pytest.fixture
def searchable_types(db):
    # the index outlives each test's rolled-back transaction: start from an empty one
    get_search_backend().reset_indexes()
    register_searchable(
        Document,
        type_label="测试文件",
        queryset_for_user=document_queryset_for_user,
        url_for=lambda doc: f"/test-documents/{doc.pk}/",
        title_for=lambda doc: doc.title,
        body_for=lambda doc: doc.body,
        date_for=lambda doc: datetime.date(doc.year, 1, 1) if doc.year else None,
        facets={
            "year": lambda doc: doc.year,
            "issuer": lambda doc: doc.issuer,
            "effect_level": lambda doc: doc.effect_level,
            "status": lambda doc: doc.status,
        },
    )
    register_searchable(
        Note,
        type_label="测试笔记",
        queryset_for_user=lambda user: Note.objects.all(),
        url_for=lambda note: f"/test-notes/{note.pk}/",
        title_for=lambda note: note.title,
        body_for=lambda note: note.content,
    )
    yield
    unregister_searchable(Document)
    unregister_searchable(Note)


def refresh():
    get_search_backend().refresh_indexes()


def add_page(title, *, live=True, private=False, parent=None):
    parent = parent or Site.objects.get(is_default_site=True).root_page
    new = parent.add_child(instance=HomePage(title=title, slug=f"p{Page.objects.count()}"))
    if not live:
        new.live = False
        new.save()
    if private:
        PageViewRestriction.objects.create(page=new, restriction_type="login")
    return new


@pytest.fixture
def corpus(site_backend, searchable_types):
    """Material about 预算 of every kind: open, restricted, unpublished; pages live,
    draft and private."""
    objects = {
        "open": Document.objects.create(
            title="预算 执行 情况 报告",
            body="全县 预算 执行 总体 平稳，收入 增长。",
            issuer="县财政局",
            year=2024,
            effect_level=EffectLevel.NORMATIVE,
        ),
        "older": Document.objects.create(
            title="预算 编制 说明",
            body="关于 年初 预算 编制 的 说明。",
            issuer="县财政局",
            year=2020,
            effect_level=EffectLevel.NORMATIVE,
            status=Status.REPEALED,
        ),
        "restricted": Document.objects.create(
            title="预算 审计 内部 报告",
            body="审计 发现 预算 问题 三项。",
            issuer="县审计局",
            year=2023,
            effect_level=EffectLevel.INTERNAL,
            restricted=True,
        ),
        "unpublished": Document.objects.create(
            title="预算 草稿 文件",
            body="尚未 发布 的 预算 文件。",
            issuer="县发改局",
            year=2022,
            published=False,
        ),
        "note": Note.objects.create(title="预算 调研 笔记", content="调研 预算 执行。"),
        "page": add_page("预算 公开 栏目"),
        "draft_page": add_page("预算 草稿 栏目", live=False),
        "private_page": add_page("预算 私密 栏目", private=True),
    }
    refresh()
    return objects


def titles(response):
    return [hit.title for hit in response.context["page_obj"]]


def facet(response, key):
    return {o.label: o.count for o in response.context["outcome"].facets[key]}


def test_login_required(client, db):
    response = client.get("/search/?q=预算")
    assert response.status_code == 302
    assert "/accounts/login" in response["Location"]


def test_deputy_never_sees_restricted_in_results_counts_or_facets(client, deputy_user, corpus):
    client.force_login(deputy_user)
    response = client.get("/search/", {"q": "预算"})
    assert response.status_code == 200
    assert sorted(titles(response)) == sorted(
        ["预算 执行 情况 报告", "预算 编制 说明", "预算 调研 笔记", "预算 公开 栏目"]
    )
    assert response.context["outcome"].total == 4
    assert facet(response, "type") == {"测试文件": 2, "测试笔记": 1, "网页": 1}
    assert "县审计局" not in facet(response, "issuer")
    assert "2023" not in facet(response, "year")
    assert "内部制度" not in facet(response, "effect_level")
    html = response.content.decode()
    for hidden in ("审计 内部", "县审计局", "草稿", "私密"):
        assert hidden not in html
    # filtering on a hidden facet value cannot reveal anything either
    response = client.get("/search/", {"q": "预算", "issuer": "县审计局"})
    assert response.context["outcome"].total == 0


@pytest.mark.parametrize("role", [roles.ADMIN, roles.STAFF])
def test_admin_and_staff_see_restricted(client, make_user, corpus, role):
    client.force_login(make_user(role))
    response = client.get("/search/", {"q": "预算"})
    assert "预算 审计 内部 报告" in titles(response)
    assert response.context["outcome"].total == 5
    assert facet(response, "type")["测试文件"] == 3
    assert facet(response, "issuer")["县审计局"] == 1
    # never unpublished documents, drafts or private pages, whatever the role
    assert not {"预算 草稿 文件", "预算 草稿 栏目", "预算 私密 栏目"} & set(titles(response))


@pytest.mark.parametrize("role", [roles.ARCHIVIST, roles.LIAISON])
def test_other_roles_do_not_see_restricted(client, make_user, corpus, role):
    client.force_login(make_user(role))
    response = client.get("/search/", {"q": "预算"})
    assert "预算 审计 内部 报告" not in titles(response)
    assert response.context["outcome"].total == 4


def test_drafts_and_private_pages_are_excluded(admin_user_role, corpus):
    outcome = run_search(admin_user_role, "栏目")
    assert [hit.title for hit in outcome.hits] == ["预算 公开 栏目"]
    assert outcome.hits[0].url == corpus["page"].url
    # a page under a private page is private too
    child = add_page("栏目 下级", parent=corpus["private_page"])
    refresh()
    assert child.live
    assert [hit.title for hit in run_search(admin_user_role, "栏目").hits] == ["预算 公开 栏目"]


def test_facet_filter_and_type_counts(client, staff_user, corpus):
    client.force_login(staff_user)
    response = client.get("/search/", {"q": "预算", "issuer": "县财政局"})
    assert sorted(titles(response)) == ["预算 执行 情况 报告", "预算 编制 说明"]
    # the issuer facet keeps its other values (own filter not applied to itself)
    assert facet(response, "issuer") == {"县财政局": 2, "县审计局": 1}
    assert facet(response, "type") == {"测试文件": 2}
    response = client.get("/search/", {"q": "预算", "type": "searchtestapp.note"})
    assert titles(response) == ["预算 调研 笔记"]
    response = client.get("/search/", {"q": "预算", "status": "已废止"})
    assert titles(response) == ["预算 编制 说明"]


def test_sort_by_date_puts_newest_first_and_undated_last(client, staff_user, corpus):
    client.force_login(staff_user)
    response = client.get(
        "/search/", {"q": "预算", "type": "searchtestapp.document", "sort": "date"}
    )
    assert titles(response) == ["预算 执行 情况 报告", "预算 审计 内部 报告", "预算 编制 说明"]
    response = client.get("/search/", {"q": "预算 | 调研", "sort": "date"})
    assert titles(response)[-1] == "预算 调研 笔记"  # no date


def test_sort_by_relevance_follows_the_backend(client, staff_user, site_backend, searchable_types):
    """Hits keep the backend's relevance order, scored 1.0 for the best down to 0.
    On the project's Whoosh backend a word in the title outweighs one in the text."""
    Document.objects.create(title="一般 文件", body="内容 提到 绩效 一次。")
    Document.objects.create(title="绩效 评价 绩效 管理", body="绩效 评价 绩效 结果。")
    Note.objects.create(title="会议 记录", content="绩效")
    refresh()
    client.force_login(staff_user)
    response = client.get("/search/", {"q": "绩效", "type": "searchtestapp.document"})
    backend_order = [
        doc.title for doc in get_search_backend().search("绩效", Document.objects.all())
    ]
    assert titles(response) == backend_order
    if type(get_search_backend()).__module__ == "search.backend":  # the project's Whoosh
        assert backend_order == ["绩效 评价 绩效 管理", "一般 文件"]
    scores = [hit.score for hit in response.context["page_obj"]]
    assert scores[0] == 1.0 and 0 < scores[1] < 1.0
    # merged across types: the best hit of each type comes before the second of any
    merged = client.get("/search/", {"q": "绩效"}).context["page_obj"]
    assert {merged[0].score, merged[1].score} == {1.0}
    assert merged[2].score < 1.0


def test_pagination_twenty_per_page(client, deputy_user, site_backend, searchable_types):
    for i in range(45):
        Note.objects.create(title=f"分页 笔记 {i:02d}", content="分页 测试")
    refresh()
    client.force_login(deputy_user)
    first = client.get("/search/", {"q": "分页"})
    assert first.context["outcome"].total == 45
    assert len(titles(first)) == 20
    third = client.get("/search/", {"q": "分页", "page": 3})
    assert len(titles(third)) == 5
    assert not set(titles(first)) & set(titles(third))
    assert "下一页" in first.content.decode()
    beyond = client.get("/search/", {"q": "分页", "page": 99})
    assert beyond.context["page_obj"].number == 3


def test_highlighted_title_and_snippet_escape_markup(
    client, deputy_user, site_backend, searchable_types
):
    Document.objects.create(
        title="审计 报告 <b>加粗</b>", body="开头 文字。本年度 审计 发现 <script>x</script> 问题。"
    )
    refresh()
    client.force_login(deputy_user)
    html = client.get("/search/", {"q": "审计"}).content.decode()
    assert "<mark>审计</mark> 报告 &lt;b&gt;加粗&lt;/b&gt;" in html
    assert "本年度 <mark>审计</mark> 发现 &lt;script&gt;" in html
    assert "<script>x</script>" not in html


def test_no_results_shows_the_query_without_a_term(client, deputy_user, corpus):
    client.force_login(deputy_user)
    response = client.get("/search/", {"q": "预算 火星"})
    assert response.context["outcome"].total == 0
    relaxed = response.context["relaxed"]
    assert relaxed.dropped_terms == ["火星"]
    assert relaxed.total == 4  # counted within what the deputy may see
    assert len(titles(response)) == 4
    html = response.content.decode()
    assert "部分匹配" in html and "去掉“火星”后找到的 4 条结果" in html


def test_no_results_suggests_titles_that_complete_the_word(
    client, deputy_user, site_backend, searchable_types
):
    Document.objects.create(title="Budgetary framework", body="medium term")
    Document.objects.create(title="Budgeting secret", body="hidden", restricted=True)
    refresh()
    client.force_login(deputy_user)
    response = client.get("/search/", {"q": "budg"})
    assert response.context["outcome"].total == 0
    assert [s["query"] for s in response.context["suggestions"]] == ["Budgetary framework"]


def test_no_suggestion_when_nothing_is_near(client, deputy_user, corpus):
    client.force_login(deputy_user)
    response = client.get("/search/", {"q": "火星"})
    assert response.context["suggestions"] == []
    assert "您是不是要找" not in response.content.decode()


def test_each_search_writes_a_usage_record(client, deputy_user, corpus):
    client.force_login(deputy_user)
    client.get("/search/", {"q": "预算 | 决算"})
    record = UsageRecord.objects.filter(action=UsageAction.SEARCH).get()
    assert record.user == deputy_user
    assert record.detail == "预算 | 决算"
    client.get("/search/")  # an empty box is not a search
    assert UsageRecord.objects.filter(action=UsageAction.SEARCH).count() == 1


def test_bad_syntax_gets_a_chinese_message(client, deputy_user, corpus):
    client.force_login(deputy_user)
    response = client.get("/search/", {"q": "-预算"})
    assert response.status_code == 200
    assert "不能只包含排除词" in response.content.decode()
    assert response.context["outcome"] is None


def test_syntax_operators_on_the_page(client, staff_user, corpus):
    client.force_login(staff_user)
    assert titles(
        client.get("/search/", {"q": "预算 -审计"})
    ) and "预算 审计 内部 报告" not in titles(client.get("/search/", {"q": "预算 -审计"}))
    assert sorted(titles(client.get("/search/", {"q": "编制 | 调研"}))) == [
        "预算 编制 说明",
        "预算 调研 笔记",
    ]
    assert titles(client.get("/search/", {"q": '"执行 情况"'})) == ["预算 执行 情况 报告"]


def test_empty_page_shows_help(client, deputy_user, db):
    client.force_login(deputy_user)
    html = client.get("/search/").content.decode()
    assert "检索语法" in html and "竖线" in html


def test_suggest_endpoint_lists_only_visible_titles(client, deputy_user, corpus):
    client.force_login(deputy_user)
    data = client.get("/search/suggest/", {"q": "预算"}).json()
    found = {item["title"] for item in data["suggestions"]}
    assert "预算 执行 情况 报告" in found
    assert not found & {"预算 审计 内部 报告", "预算 草稿 文件", "预算 草稿 栏目", "预算 私密 栏目"}
    assert all(set(item) == {"title", "url", "type"} for item in data["suggestions"])
    assert client.get("/search/suggest/", {"q": " "}).json()["suggestions"] == []


# --- the suggestion dropdown in a real browser ------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_header_box_suggests_visible_titles_by_keyboard(page, make_user, searchable_types):  # noqa: F811
    Document.objects.create(title="预算 受限 资料", restricted=True)
    target = add_page("预算 公开 栏目")
    Note.objects.create(title="预算 调研 笔记")
    deputy = make_user(roles.DEPUTY, username="suggestdeputy")
    login(page, deputy.username, deputy.test_password)

    box = page.locator("form.site-search input[name=q]")
    box.click()
    box.type("预算", delay=30)
    listbox = page.locator("form.site-search [role=listbox]")
    listbox.locator("[role=option]").first.wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    options = listbox.locator("[role=option]").all_inner_texts()
    assert any("预算 公开 栏目" in text for text in options)
    assert not any("受限" in text for text in options)
    assert "检索“预算”" in options[-1]

    page.keyboard.press("ArrowDown")
    first_id = box.get_attribute("aria-activedescendant")
    assert page.locator(f"#{first_id}").get_attribute("aria-selected") == "true"
    page.keyboard.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"

    box.fill("")
    box.type("预算 公开", delay=30)
    listbox.locator("[role=option]").first.wait_for(state="visible")
    page.keyboard.press("ArrowDown")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.rstrip("/").endswith(target.url.rstrip("/"))


# --- issue 15/16: bounded cost, questions, zero results, long queries, grouping -------


def test_question_finds_what_the_words_find(client, deputy_user, corpus):
    client.force_login(deputy_user)
    plain = titles(client.get("/search/", {"q": "预算 执行"}))
    assert plain
    for question in ("预算怎么执行", "如何 执行 预算", "预算 执行 是什么？"):
        response = client.get("/search/", {"q": question})
        assert set(titles(response)) >= set(plain[:1]), question
        assert "提问用语" in response.content.decode()


def test_operator_words_are_understood(client, deputy_user, corpus):
    client.force_login(deputy_user)
    both = titles(client.get("/search/", {"q": "预算 调研"}))
    assert both == ["预算 调研 笔记"]
    assert titles(client.get("/search/", {"q": "预算 AND 调研"})) == both
    assert titles(client.get("/search/", {"q": "预算 和 调研"})) == both
    either = sorted(titles(client.get("/search/", {"q": "编制 OR 调研"})))
    assert either == ["预算 编制 说明", "预算 调研 笔记"]
    assert sorted(titles(client.get("/search/", {"q": "编制 或 调研"}))) == either


def test_zero_results_show_the_closest_partial_match(client, deputy_user, corpus):
    client.force_login(deputy_user)
    response = client.get("/search/", {"q": "预算 调研 火星"})
    assert response.context["outcome"].total == 0
    relaxed = response.context["relaxed"]
    assert relaxed is not None and relaxed.dropped_terms == ["火星"]
    html = response.content.decode()
    assert "部分匹配" in html and "“火星”" in html
    assert titles(response) == ["预算 调研 笔记"]


def test_expensive_query_is_refused_quickly_in_chinese(client, deputy_user, corpus):
    client.force_login(deputy_user)
    response = client.get("/search/", {"q": " ".join("税费债罚款项目资金收支预决算审计监督管理")})
    assert response.status_code == 200
    assert "单字检索词过多" in response.content.decode()
    assert response.context["outcome"] is None


def test_time_budget_stops_a_search_with_a_chinese_message(client, deputy_user, corpus, settings):
    settings.SEARCH_TIME_BUDGET = -1.0  # spent before it starts
    client.force_login(deputy_user)
    response = client.get("/search/", {"q": "预算"})
    assert response.status_code == 200
    assert "检索耗时超过限制" in response.content.decode()


def test_query_longer_than_the_form_gets_the_chinese_message(client, deputy_user, corpus):
    client.force_login(deputy_user)
    response = client.get("/search/", {"q": "预算执行情况" * 90})  # 540 characters
    assert response.status_code == 200
    assert "检索式过长" in response.content.decode()


def test_parts_are_grouped_under_their_document(client, deputy_user, corpus):
    """Notes named after a document stand for its articles: the document is listed once,
    its best parts beneath it and the rest counted."""
    from search.registry import searchables

    note_entry = next(e for e in searchables() if e.model is Note)
    note_entry.parent_for = lambda note: Document.objects.filter(title=note.author).first()
    note_entry.parent_key = "searchtestapp.document"
    try:
        for number in range(5):
            Note.objects.create(
                title=f"第{number + 1}条", content="预算 执行 的 条文。", author="预算 编制 说明"
            )
        refresh()
        client.force_login(deputy_user)
        response = client.get("/search/", {"q": "预算"})
        results = response.context["page_obj"].object_list
        listed = [hit.title for hit in results]
        assert listed.count("预算 编制 说明") == 1
        group = next(hit for hit in results if hit.title == "预算 编制 说明")
        assert len(group.children) == 5 and len(group.shown_children) == 3
        assert group.more_children == 2
        assert not any(hit.title.startswith("第") for hit in results)
        assert "另有 2 条命中" in response.content.decode()
        assert response.context["outcome"].total == len(listed) + 5
    finally:
        note_entry.parent_for = None
        note_entry.parent_key = ""


def test_hits_load_only_their_fields_and_shown_text_in_one_query(
    client, deputy_user, corpus, django_assert_max_num_queries
):
    """A type with hit_fields loads only those for every hit; the text of the hits shown is
    read in one query per type, so the page's query count does not grow with the hits."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from search.registry import searchables

    note_entry = next(e for e in searchables() if e.model is Note)
    note_entry.hit_fields = ("id", "title")
    try:
        client.force_login(deputy_user)

        def queries_for(count):
            Note.objects.filter(title__startswith="决算").delete()
            for number in range(count):
                Note.objects.create(title=f"决算 笔记 {number}", content=f"决算 正文 第{number}号")
            refresh()
            with CaptureQueriesContext(connection) as captured:
                response = client.get("/search/", {"q": "决算"})
            html = response.content.decode()
            assert response.context["outcome"].total == count
            assert html.count("正文 第") == min(count, 20)  # every shown snippet has its text
            return len(captured.captured_queries)

        queries_for(3)  # the first request fills per-process caches
        assert queries_for(3) == queries_for(18)
    finally:
        note_entry.hit_fields = ()

"""Saved searches (我的检索) and their subscriptions."""

import pytest
from django.urls import reverse

from cms.notifications.models import Message
from search.query_syntax import parse_query
from search.saved import services
from search.saved.models import SavedSearch, SavedSearchDelivery
from search.saved.services import notify_saved_search_matches, query_matches_text
from search.saved.tasks import check_saved_search_subscriptions, notify_matches_for
from tests.search.test_page import add_page, refresh, searchable_types  # noqa: F401
from tests.search.testapp.models import Document, Note


@pytest.fixture
def material(searchable_types):  # noqa: F811
    objects = {
        "open": Document.objects.create(
            title="预算 执行 报告", body="预算 执行 平稳", issuer="县财政局", year=2024
        ),
        "restricted": Document.objects.create(
            title="预算 审计 内部 报告", body="审计", issuer="县审计局", year=2023, restricted=True
        ),
    }
    refresh()
    return objects


def inbox(user):
    return list(Message.objects.filter(recipient=user).order_by("pk"))


def test_save_from_results_page_and_list(client, deputy_user, material):
    client.force_login(deputy_user)
    response = client.post(
        reverse("search:saved_create"),
        {
            "name": "财政局预算",
            "q": "预算",
            "issuer": "县财政局",
            "sort": "date",
            "subscribed": "1",
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("search:saved_list")
    saved = SavedSearch.objects.get(user=deputy_user)
    assert (saved.name, saved.query, saved.filters, saved.sort) == (
        "财政局预算",
        "预算",
        {"issuer": "县财政局"},
        "date",
    )
    assert saved.subscribed and saved.baseline_at is not None
    # what already matched is the baseline: known, not announced
    assert inbox(deputy_user) == []
    assert SavedSearchDelivery.objects.filter(saved_search=saved, notified=False).count() == 1

    html = client.get(reverse("search:saved_list")).content.decode()
    assert "财政局预算" in html and "发文机关：县财政局" in html and "已订阅" in html
    run_url = services.saved_search_url(saved)
    assert run_url in html.replace("&amp;", "&")
    results = client.get(run_url)
    assert [hit.title for hit in results.context["page_obj"]] == ["预算 执行 报告"]


def test_results_page_offers_to_save(client, deputy_user, material):
    client.force_login(deputy_user)
    html = client.get("/search/", {"q": "预算", "year": "2024"}).content.decode()
    assert "保存此检索" in html
    assert 'name="year" value="2024"' in html


def test_saving_refuses_bad_input_in_chinese(client, deputy_user, material):
    client.force_login(deputy_user)
    url = reverse("search:saved_create")
    client.post(url, {"name": "甲", "q": "预算"})
    response = client.post(url, {"name": "甲", "q": "决算"}, follow=True)
    assert "已有名为“甲”的检索" in response.content.decode()
    response = client.post(url, {"name": "乙", "q": "-预算"}, follow=True)
    assert "不能只包含排除词" in response.content.decode()
    response = client.post(url, {"name": "", "q": "预算"}, follow=True)
    assert "保存失败" in response.content.decode()
    assert SavedSearch.objects.filter(user=deputy_user).count() == 1


def test_saved_searches_are_private_to_their_owner(client, make_user, material):
    owner, other = make_user("代表/专家"), make_user("代表/专家")
    saved = services.create_saved_search(owner, name="我的预算", query="预算")
    client.force_login(other)
    assert "我的预算" not in client.get(reverse("search:saved_list")).content.decode()
    assert client.post(reverse("search:saved_delete", args=[saved.pk])).status_code == 404
    response = client.post(
        reverse("search:saved_subscription", args=[saved.pk]), {"subscribed": "1"}
    )
    assert response.status_code == 404
    saved.refresh_from_db()
    assert not saved.subscribed

    client.force_login(owner)
    assert "我的预算" in client.get(reverse("search:saved_list")).content.decode()
    client.post(reverse("search:saved_subscription", args=[saved.pk]), {"subscribed": "1"})
    saved.refresh_from_db()
    assert saved.subscribed and saved.baseline_at is not None
    client.post(reverse("search:saved_delete", args=[saved.pk]))
    assert not SavedSearch.objects.filter(pk=saved.pk).exists()


def test_mutations_need_post(client, deputy_user, material):
    saved = services.create_saved_search(deputy_user, name="甲", query="预算")
    client.force_login(deputy_user)
    assert client.get(reverse("search:saved_delete", args=[saved.pk])).status_code == 405
    assert SavedSearch.objects.filter(pk=saved.pk).exists()


def test_publication_notifies_once_and_only_who_may_see(make_user, material):
    staff, deputy = make_user("工作人员"), make_user("代表/专家")
    staff_search = services.create_saved_search(staff, name="预算", query="预算", subscribed=True)
    services.create_saved_search(deputy, name="预算", query="预算", subscribed=True)
    services.create_saved_search(deputy, name="预算报告", query="预算 报告", subscribed=True)

    new_open = Document.objects.create(title="预算 调整 报告", body="调整 方案", year=2025)
    assert notify_saved_search_matches(new_open) == 2
    assert [m.subject for m in inbox(staff)] == ["您订阅的检索“预算”有 1 条新结果"]
    # two matching searches of one deputy: still one message
    assert len(inbox(deputy)) == 1
    message = inbox(deputy)[0]
    assert "预算 调整 报告" in message.body and message.url == f"/test-documents/{new_open.pk}/"
    assert message.category == "search"

    assert notify_saved_search_matches(new_open) == 0  # at most once per object
    assert len(inbox(staff)) == 1 and len(inbox(deputy)) == 1

    secret = Document.objects.create(title="预算 机密 报告", body="内部", restricted=True)
    assert notify_saved_search_matches(secret) == 1
    assert len(inbox(staff)) == 2
    assert len(inbox(deputy)) == 1  # the deputy may not see it: never told

    unpublished = Document.objects.create(title="预算 未发布", published=False)
    assert notify_saved_search_matches(unpublished) == 0

    # the periodic check finds nothing new: all of it was announced or baseline
    refresh()
    assert check_saved_search_subscriptions.delay().get() == 0
    assert len(inbox(staff)) == 2
    assert SavedSearchDelivery.objects.filter(saved_search=staff_search, notified=True).count() == 2


def test_no_notice_without_match_filter_or_subscription(make_user, material):
    deputy = make_user("代表/专家")
    services.create_saved_search(deputy, name="不订阅", query="预算", subscribed=False)
    services.create_saved_search(
        deputy, name="审计局", query="预算", filters={"issuer": "县审计局"}, subscribed=True
    )
    services.create_saved_search(deputy, name="排除", query="预算 -调整", subscribed=True)
    services.create_saved_search(
        deputy, name="笔记", query="预算", filters={"type": "searchtestapp.note"}, subscribed=True
    )
    doc = Document.objects.create(title="预算 调整 通知", issuer="县财政局", year=2025)
    assert notify_saved_search_matches(doc) == 0
    assert inbox(deputy) == []
    note = Note.objects.create(title="预算 学习 笔记")
    assert notify_saved_search_matches(note) == 1
    assert "预算 学习 笔记" in inbox(deputy)[0].body


def test_periodic_check_announces_new_material_once(make_user, material):
    deputy = make_user("代表/专家")
    services.create_saved_search(deputy, name="预算", query="预算", subscribed=True)
    assert check_saved_search_subscriptions.delay().get() == 0  # only the baseline so far

    Document.objects.create(title="预算 公开 文件 一", year=2025)
    Document.objects.create(title="预算 公开 文件 二", year=2025)
    Document.objects.create(title="预算 受限 文件", year=2025, restricted=True)
    refresh()
    assert check_saved_search_subscriptions.delay().get() == 2
    [message] = inbox(deputy)
    assert "2 条新结果" in message.subject
    assert "预算 公开 文件 一" in message.body and "受限" not in message.body
    assert message.url.startswith("/search/?")
    assert check_saved_search_subscriptions.delay().get() == 0
    assert len(inbox(deputy)) == 1


def test_notify_task_for_modules_that_enqueue(make_user, material):
    staff = make_user("工作人员")
    services.create_saved_search(staff, name="预算", query="预算", subscribed=True)
    doc = Document.objects.create(title="预算 新 文件")
    assert notify_matches_for.delay("searchtestapp", "document", doc.pk).get() == 1
    assert notify_matches_for.delay("searchtestapp", "document", 999999).get() == 0


def test_pages_are_announced_only_when_live_and_public(make_user, searchable_types):  # noqa: F811
    deputy = make_user("代表/专家")
    services.create_saved_search(deputy, name="栏目", query="栏目", subscribed=True)
    private = add_page("预算 栏目 私密", private=True)
    assert notify_saved_search_matches(private) == 0
    public = add_page("预算 栏目 公开")
    assert notify_saved_search_matches(public) == 1
    assert inbox(deputy)[0].url == public.url


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("预算", "县级预算执行情况", True),
        ("预算 审计", "预算执行", False),
        ("预算 | 审计", "审计报告", True),
        ("预算 -草案", "预算草案", False),
        ('"预算 执行"', "预算执行情况", True),
        ('"执行 预算"', "预算执行情况", False),
        ("tax", "syntax rules", False),
        ("tax", "Tax rules", True),
        ("ＰＰＰ", "ppp 项目", True),
    ],
)
def test_query_matches_text(query, text, expected):
    assert query_matches_text(parse_query(query), text) is expected


@pytest.mark.usefixtures("searchable_types")
def test_publishing_a_page_announces_it(make_user, django_capture_on_commit_callbacks):
    deputy = make_user("代表/专家")
    services.create_saved_search(deputy, name="公告", query="公告", subscribed=True)
    draft = add_page("预算 公告 栏目", live=False)
    with django_capture_on_commit_callbacks(execute=True):
        draft.save_revision().publish()
    [message] = inbox(deputy)
    assert "预算 公告 栏目" in message.body
    with django_capture_on_commit_callbacks(execute=True):
        draft.save_revision().publish()  # publishing again tells nobody twice
    assert len(inbox(deputy)) == 1

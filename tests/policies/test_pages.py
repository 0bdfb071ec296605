import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from policies import ingest, services
from policies.choices import RelationKind
from policies.models import (
    Bookmark,
    Excerpt,
    PolicyCategory,
    PolicyFile,
    PolicyPage,
    PolicyRelation,
)

from .files import SAMPLE_NOTICE

pytestmark = pytest.mark.django_db

BUDGET_LAW = "# 中华人民共和国预算法\n\n2014年8月31日发布\n\n" + "\n".join(
    f"第{n}条 预算法第{n}条的内容。" for n in ("一", "二", "十一", "十二", "十三")
)


@pytest.fixture
def notice():
    (record,) = ingest.import_path_data("notice.txt", SAMPLE_NOTICE.encode(), publish=True)
    return PolicyPage.objects.get(pk=record.page_id)


@pytest.fixture
def budget_law():
    (record,) = ingest.import_path_data("law.md", BUDGET_LAW.encode(), publish=True)
    return PolicyPage.objects.get(pk=record.page_id)


def test_reading_page_has_toc_anchors_and_citation_links(client, deputy_user, notice, budget_law):
    client.force_login(deputy_user)
    html = client.get(notice.url).content.decode()
    assert 'id="第十二条"' not in html
    assert 'id="第三条之一"' in html
    assert 'href="#第三条之一"' in html  # the table of contents
    assert "第二章 绩效目标" in html
    # 《中华人民共和国预算法》第十二条 becomes a link to that article
    assert f'href="{budget_law.url}#第十二条"' in html


def test_search_words_are_highlighted(client, deputy_user, notice):
    client.force_login(deputy_user)
    html = client.get(notice.url, {"q": "绩效目标"}).content.decode()
    assert '<mark class="hit">绩效目标</mark>' in html
    assert "在本文件 2 条中出现" in html


def test_highlight_does_not_inject_markup(client, deputy_user, notice):
    client.force_login(deputy_user)
    html = client.get(notice.url, {"q": "<script>"}).content.decode()
    assert "<script>" not in html.split("<main", 1)[1].split("</main>")[0]


def test_liaison_may_not_read(client, liaison_user, notice):
    client.force_login(liaison_user)
    assert client.get(notice.url).status_code == 403
    assert client.get(reverse("policies:browse")).status_code == 403


def test_anonymous_is_sent_to_login(client, notice):
    response = client.get(notice.url)
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_repealed_document_says_so_everywhere(client, deputy_user, notice, budget_law):
    budget_law.relations.add(PolicyRelation(kind=RelationKind.REPEALS, target=notice))
    budget_law.save_revision().publish()
    services.apply_relation_effects(budget_law)
    client.force_login(deputy_user)
    for url in (notice.url, reverse("policies:print", args=[notice.pk])):
        html = client.get(url).content.decode()
        assert "本文件已废止" in html
        assert "中华人民共和国预算法" in html
    Bookmark.objects.create(user=deputy_user, page=notice)
    assert "已废止" in client.get(reverse("policies:bookmarks")).content.decode()
    assert "已废止" in client.get(reverse("policies:browse")).content.decode()


def test_print_view_and_original_download(client, deputy_user, notice):
    client.force_login(deputy_user)
    html = client.get(reverse("policies:print", args=[notice.pk])).content.decode()
    assert "data-print" in html and 'id="第五条"' in html  # site.js prints (no inline script)
    record = notice.files.get()
    response = client.get(reverse("policies:download", args=[record.pk]))
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == record.sha256
    assert "attachment" in response["Content-Disposition"]


def test_draft_original_is_not_for_deputies(client, deputy_user, staff_user):
    (record,) = ingest.import_path_data("draft.txt", SAMPLE_NOTICE.encode())
    client.force_login(deputy_user)
    assert client.get(reverse("policies:download", args=[record.pk])).status_code == 403
    assert client.get(reverse("policies:print", args=[record.page_id])).status_code == 404
    client.force_login(staff_user)
    assert client.get(reverse("policies:download", args=[record.pk])).status_code == 200


def test_bookmarks_are_per_user(client, deputy_user, make_user, notice):
    from cms import roles

    other = make_user(roles.DEPUTY)
    client.force_login(deputy_user)
    client.post(reverse("policies:bookmark", args=[notice.pk]))
    assert Bookmark.objects.filter(user=deputy_user, page=notice).exists()
    assert notice.title in client.get(reverse("policies:bookmarks")).content.decode()
    client.force_login(other)
    assert notice.title not in client.get(reverse("policies:bookmarks")).content.decode()
    client.force_login(deputy_user)
    client.post(reverse("policies:bookmark", args=[notice.pk]))  # toggles off
    assert not Bookmark.objects.exists()


def test_excerpt_of_article_and_passage_private_to_owner(client, deputy_user, make_user, notice):
    from cms import roles

    client.force_login(deputy_user)
    response = client.post(
        reverse("policies:excerpt", args=[notice.pk]),
        {"article": "第三条", "note": "审查时引用", "tags": "绩效，审查"},
    )
    from urllib.parse import unquote

    assert unquote(response["Location"]).endswith("#第三条")
    excerpt = Excerpt.objects.get()
    assert excerpt.text.startswith("预算单位申请预算时")
    assert sorted(excerpt.tags.names()) == ["审查", "绩效"]
    assert excerpt.citation == f"《{notice.title}》第三条"
    client.post(
        reverse("policies:excerpt", args=[notice.pk]),
        {"article": "第四条", "text": "县财政局对绩效目标进行审核"},
    )
    assert Excerpt.objects.get(article_label="第四条").text == "县财政局对绩效目标进行审核"
    page = client.get(reverse("policies:excerpts")).content.decode()
    assert "审查时引用" in page

    other = make_user(roles.DEPUTY)
    client.force_login(other)
    assert "审查时引用" not in client.get(reverse("policies:excerpts")).content.decode()
    response = client.post(reverse("policies:delete_excerpt", args=[excerpt.pk]))
    assert response.status_code == 403
    assert Excerpt.objects.filter(pk=excerpt.pk).exists()


def test_excerpt_of_missing_article_is_refused(client, deputy_user, notice):
    client.force_login(deputy_user)
    client.post(reverse("policies:excerpt", args=[notice.pk]), {"article": "第九十九条"})
    assert not Excerpt.objects.exists()


def test_browse_facets_with_counts(client, deputy_user, notice, budget_law):
    parent = PolicyCategory.objects.create(name="预算管理")
    child = PolicyCategory.objects.create(name="预算绩效", parent=parent)
    notice.categories.set([child])
    notice.save_revision().publish()
    client.force_login(deputy_user)
    response = client.get(reverse("policies:browse"))
    facets = {f["name"]: f for f in response.context["facets"]}
    assert {o["label"].strip(): o["count"] for o in facets["category"]["options"]} == {
        "预算管理": 1,
        "预算绩效": 1,
    }
    assert {o["value"]: o["count"] for o in facets["year"]["options"]} == {2021: 1, 2014: 1}
    # both documents are in force: one status row counting two, not two rows of one
    statuses = {o["label"]: o["count"] for o in facets["status"]["options"]}
    assert statuses["现行有效"] == 2
    assert sum(statuses.values()) == 2
    response = client.get(reverse("policies:browse"), {"category": parent.pk})
    assert [p.pk for p in response.context["results"]] == [notice.pk]
    response = client.get(reverse("policies:browse"), {"year": "2014"})
    assert [p.pk for p in response.context["results"]] == [budget_law.pk]


def test_deputy_cannot_upload(client, deputy_user):
    client.force_login(deputy_user)
    response = client.post(
        reverse("policies_admin:upload"),
        {"files": [SimpleUploadedFile("a.txt", SAMPLE_NOTICE.encode())]},
    )
    assert response.status_code in (302, 403)
    assert not PolicyFile.objects.exists()


def test_staff_upload_many_files_and_watch_status(
    client, staff_user, django_capture_on_commit_callbacks
):
    client.force_login(staff_user)
    files = [
        SimpleUploadedFile("a.txt", SAMPLE_NOTICE.encode()),
        SimpleUploadedFile("b.txt", b""),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("policies_admin:upload"), {"files": files})
    assert response.status_code == 302
    data = client.get(response["Location"] + "&format=json").json()
    assert data["finished"]
    assert sorted(f["status"] for f in data["files"]) == ["created", "error"]
    html = client.get(response["Location"]).content.decode()
    assert "文件为空" in html and "审核并发布" in html


def test_upload_with_publish_through_the_admin_as_staff_and_as_an_uploader_who_may_not(
    client, staff_user, make_user, django_capture_on_commit_callbacks
):
    """发布 ticked on the upload page: the worker's task publishes the page for a 工作人员
    (the publication logged as theirs); an account that may upload but not publish gets a
    Chinese reason on the status page and no page."""
    from django.contrib.auth.models import Permission
    from wagtail.models import PageLogEntry

    def upload(user, name, text):
        client.force_login(user)
        files = [SimpleUploadedFile(name, text.encode())]
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("policies_admin:upload"), {"files": files, "publish": "1"}
            )
        assert response.status_code == 302
        return response["Location"]

    upload(staff_user, "a.txt", SAMPLE_NOTICE)
    page = PolicyPage.objects.get()
    assert page.live and page.live_revision_id == page.latest_revision_id
    assert PageLogEntry.objects.get(page=page, action="wagtail.publish").user == staff_user

    uploader = make_user(username="uploads-only")
    uploader.user_permissions.add(
        Permission.objects.get(content_type__app_label="cms", codename="publish_material"),
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"),
    )
    status = upload(uploader, "b.txt", SAMPLE_NOTICE.replace("〔2021〕7号", "〔2021〕8号"))
    html = client.get(status).content.decode()
    assert "没有在政策法规库发布文件的权限" in html
    assert PolicyPage.objects.count() == 1


def test_excerpts_export_to_docx_is_registered(client, deputy_user, liaison_user, notice):
    import io

    import docx

    from cms.usage.models import ExportRegistration

    services.create_excerpt(deputy_user, notice, article_label="第三条", note="初审引用")
    client.force_login(deputy_user)
    url = reverse("policies:export_excerpts")
    assert url in client.get(reverse("policies:excerpts")).content.decode()
    # 代表/专家 state the purpose first
    assert client.get(url).status_code == 200
    assert not ExportRegistration.objects.exists()
    response = client.post(url, {"purpose": "准备预算初审发言材料"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(response.content)).paragraphs)
    assert f"《{notice.title}》第三条" in text
    assert "预算单位申请预算时" in text and "笔记：初审引用" in text
    registration = ExportRegistration.objects.get()
    assert registration.row_count == 1 and registration.purpose == "准备预算初审发言材料"

    client.force_login(liaison_user)
    assert client.get(url).status_code == 403


def test_staff_review_in_the_admin(client, staff_user, deputy_user):
    (record,) = ingest.import_path_data("draft.txt", SAMPLE_NOTICE.encode())
    client.force_login(staff_user)
    response = client.get(f"/admin/pages/{record.page_id}/edit/")
    assert response.status_code == 200
    assert "元政办发〔2021〕7号" in response.content.decode()
    client.force_login(deputy_user)
    assert client.get(f"/admin/pages/{record.page_id}/edit/").status_code in (302, 403)

"""Who sees and does what: deputies (URL guessing), liaisons (their units only), staff;
contact details only for 系统管理员 — pages, admin, export, search."""

import io

import pytest
from django.urls import reverse
from modelsearch.backends import get_search_backend
from openpyxl import load_workbook

from cms import roles
from search.registry import run_search
from suggestions import services
from suggestions.choices import Status
from suggestions.models import Suggestion

pytestmark = pytest.mark.django_db

PERSONAL = ["13912345678", "530000197001011234", "秘密单位", "红河路88号"]


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def private_b(make_suggestion, deputies, staff):
    """Deputy B's own suggestion, not public."""
    return make_suggestion(
        title="关于曼来镇茶叶加工厂用电的建议",
        content="茶叶加工旺季电力容量不足。",
        lead=deputies["b"],
    )


@pytest.fixture
def public_b(make_suggestion, deputies):
    return make_suggestion(
        title="关于公开县级部门预算三公经费的建议",
        content="部门预算公开不够细。",
        lead=deputies["b"],
        is_public=True,
    )


def test_deputy_sees_own_and_cosigned_and_public_only(
    client, assigned, private_b, public_b, deputies, make_suggestion
):
    cosigned = make_suggestion(
        title="关于那诺乡村级卫生室建设的建议", lead=deputies["b"], co_signers=[deputies["a"]]
    )
    visible = set(services.visible_to(deputies["user_a"]))
    assert visible == {assigned, public_b, cosigned}
    login(client, deputies["user_a"])
    page = client.get(reverse("suggestions:mine")).content.decode()
    assert assigned.title in page and cosigned.title in page and public_b.title in page
    assert private_b.title not in page
    # guessing another deputy's URL: not found, in every form of the URL
    for name in ("mine_detail", "detail", "department_detail"):
        response = client.get(reverse(f"suggestions:{name}", args=[private_b.pk]))
        assert response.status_code in (403, 404), name
        assert private_b.title not in response.content.decode()
    # nor can the deputy act on it or download from it
    response = client.post(
        reverse("suggestions:step", args=[private_b.pk, "evaluate"]), {"result": "satisfied"}
    )
    assert response.status_code == 404
    assert client.get(reverse("suggestions:mine_detail", args=[public_b.pk])).status_code == 200


def test_deputy_is_refused_the_office_pages(client, deputies, assigned):
    login(client, deputies["user_a"])
    for url in (
        reverse("suggestions:list"),
        reverse("suggestions:submit"),
        reverse("suggestions:import"),
        reverse("suggestions:department"),
    ):
        assert client.get(url).status_code == 403, url
    # staff URL of an own item leads to the portal
    response = client.get(reverse("suggestions:detail", args=[assigned.pk]))
    assert response.status_code == 302 and response["Location"] == reverse(
        "suggestions:mine_detail", args=[assigned.pk]
    )
    # a deputy cannot take staff steps on an own item
    response = client.post(reverse("suggestions:step", args=[assigned.pk, "close"]), {"note": "x"})
    assert response.status_code == 403
    assert Suggestion.objects.get(pk=assigned.pk).status == Status.ASSIGNED


def test_deputy_evaluates_through_the_portal(client, assigned, staff, deputies, answer_a):
    services.answer(
        assigned, staff, answer_class=answer_a, signed_by="张局长", summary="管网已更换"
    )
    login(client, deputies["user_a"])
    page = client.get(reverse("suggestions:mine_detail", args=[assigned.pk])).content.decode()
    assert "提交评价" in page and "管网已更换" in page
    response = client.post(
        reverse("suggestions:step", args=[assigned.pk, "evaluate"]),
        {"result": "basically", "comment": "基本解决"},
    )
    assert response.status_code == 302
    assigned.refresh_from_db()
    assert assigned.status == Status.EVALUATED
    assert assigned.evaluations.get().get_result_display() == "基本满意"


def test_illegal_step_through_the_page_shows_message_and_changes_nothing(client, assigned, staff):
    login(client, staff)
    response = client.post(
        reverse("suggestions:step", args=[assigned.pk, "close"]), {"note": "x"}, follow=True
    )
    assert "当前为“已交办”，不能“办结”" in response.content.decode()
    assert Suggestion.objects.get(pk=assigned.pk).status == Status.ASSIGNED
    assert not assigned.events.filter(action="close").exists()


def test_liaison_sees_and_acts_only_for_own_units(
    client, assigned, finance_liaison, transport_liaison, make_user, units, answer_a, private_b
):
    water_liaison = make_user(roles.LIAISON, username="water_liaison")
    units["water"].liaisons.add(water_liaison)
    assert set(services.visible_to(finance_liaison)) == {assigned}
    assert set(services.visible_to(transport_liaison)) == {assigned}  # co-unit
    assert not services.visible_to(water_liaison).exists()
    login(client, water_liaison)
    assert (
        client.get(reverse("suggestions:department_detail", args=[assigned.pk])).status_code == 404
    )
    response = client.post(
        reverse("suggestions:step", args=[assigned.pk, "answer"]),
        {"answer_class": answer_a.pk, "signed_by": "x", "summary": "y"},
    )
    assert response.status_code == 404
    assert assigned.title not in client.get(reverse("suggestions:department")).content.decode()
    # the co-unit's liaison sees it but cannot answer for the lead unit
    login(client, transport_liaison)
    assert (
        client.get(reverse("suggestions:department_detail", args=[assigned.pk])).status_code == 200
    )
    response = client.post(
        reverse("suggestions:step", args=[assigned.pk, "answer"]),
        {"answer_class": answer_a.pk, "signed_by": "x", "summary": "y"},
    )
    assert response.status_code == 403
    assert not assigned.replies.exists()
    # the lead unit's liaison answers with a document
    login(client, finance_liaison)
    page = client.get(reverse("suggestions:department")).content.decode()
    assert assigned.title in page and private_b.title not in page
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        reverse("suggestions:step", args=[assigned.pk, "answer"]),
        {
            "answer_class": answer_a.pk,
            "signed_by": "张局长",
            "answered_on": "2026-03-20",
            "document": SimpleUploadedFile("答复函.pdf", b"%PDF-1.4 x"),
        },
    )
    assert response.status_code == 302
    reply = assigned.replies.get()
    assert reply.unit == units["finance"] and reply.document_name == "答复函.pdf"
    # the document is readable by the deputy, not by another liaison
    url = reverse("suggestions:download", args=[assigned.pk, "reply", reply.pk])
    assert client.get(url).status_code == 200
    login(client, water_liaison)
    assert client.get(url).status_code == 404


def test_liaison_cannot_send_a_view_for_another_unit(
    assigned, finance_liaison, transport_liaison, units
):
    with pytest.raises(Exception, match="协办"):
        services.add_co_unit_view(assigned, finance_liaison, unit=units["transport"], text="代交")
    assert not assigned.co_unit_views.exists()


def test_others_see_nothing(make_user, assigned):
    archivist = make_user(roles.ARCHIVIST, username="arch")
    assert not services.visible_to(archivist).exists()


def test_personal_details_only_for_admin_pages(
    client, assigned, staff, admin_user_role, deputies, finance_liaison
):
    url = reverse("suggestions:detail", args=[assigned.pk])
    for user in (staff, finance_liaison, deputies["user_a"]):
        login(client, user)
        response = client.get(url, follow=True)
        assert response.status_code == 200
        text = response.content.decode()
        assert "王秀兰" in text
        for value in PERSONAL:
            assert value not in text, (user.username, value)
    login(client, admin_user_role)
    text = client.get(url).content.decode()
    assert "13912345678" in text and "红河路88号" in text


def test_personal_details_never_in_the_admin_form_for_staff(
    client, staff, admin_user_role, deputies
):
    url = reverse("wagtailsnippets_suggestions_deputy:edit", args=[deputies["a"].pk])
    login(client, staff)
    response = client.get(url)
    assert response.status_code == 200
    text = response.content.decode()
    assert "王秀兰" in text
    for value in PERSONAL:
        assert value not in text
    # saving the form as staff keeps the details untouched
    login(client, admin_user_role)
    assert "13912345678" in client.get(url).content.decode()


def test_export_has_no_personal_details(client, assigned, staff, public_b):
    login(client, staff)
    response = client.get(reverse("suggestions:export") + "?status=assigned")
    assert response.status_code == 200
    book = load_workbook(
        io.BytesIO(
            b"".join(response.streaming_content)
            if hasattr(response, "streaming_content")
            else response.content
        )
    )
    values = [
        str(c) for row in book.active.iter_rows(values_only=True) for c in row if c is not None
    ]
    joined = " ".join(values)
    assert assigned.title in joined and public_b.title not in joined  # the filter applies
    assert "王秀兰" in joined
    for value in PERSONAL:
        assert value not in joined


def test_export_rows_limited_to_what_the_deputy_sees(client, assigned, private_b, deputies):
    login(client, deputies["user_a"])
    response = client.post(reverse("suggestions:export"), {"purpose": "准备代表小组活动的材料"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    joined = " ".join(str(c) for row in book.active.iter_rows(values_only=True) for c in row if c)
    assert assigned.title in joined and private_b.title not in joined


def test_search_respects_visibility_and_never_indexes_contact_details(
    assigned,
    private_b,
    deputies,
    staff,
    finance_liaison,
    make_user,
    django_capture_on_commit_callbacks,
):
    backend = get_search_backend()  # the project's jieba backend; writes wait for commit
    backend.reset_indexes()
    with django_capture_on_commit_callbacks(execute=True):
        for s in Suggestion.objects.all():
            backend.add(s)
    archivist = make_user(roles.ARCHIVIST, username="arch2")

    def titles(user, q):
        return {h.obj.pk for h in run_search(user, q).hits if h.searchable.model is Suggestion}

    assert titles(staff, "供水") == {assigned.pk}
    assert titles(deputies["user_b"], "供水") == set()
    assert titles(deputies["user_a"], "供水") == {assigned.pk}
    assert titles(finance_liaison, "供水") == {assigned.pk}
    assert titles(finance_liaison, "茶叶") == set()
    assert titles(archivist, "供水") == set()
    # the phone number is not searchable and not in any snippet
    assert titles(staff, "13912345678") == set()
    for hit in run_search(staff, "王秀兰").hits:
        for value in PERSONAL:
            assert value not in hit.snippet_html(2000)


def test_opening_a_suggestion_is_logged(client, assigned, deputies):
    from cms.usage.models import UsageAction, UsageRecord

    client.force_login(deputies["user_a"])
    client.get(reverse("suggestions:mine_detail", args=[assigned.pk]))
    record = UsageRecord.objects.get(action=UsageAction.VIEW_RESTRICTED)
    assert record.user == deputies["user_a"] and record.object_id == str(assigned.pk)
    client.force_login(deputies["user_b"])
    client.get(reverse("suggestions:mine_detail", args=[assigned.pk]))
    assert UsageRecord.objects.filter(action=UsageAction.DENIED, user=deputies["user_b"]).exists()

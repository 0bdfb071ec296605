import pytest

from briefings.models import BriefingRendition, RecipientGroup
from briefings.services import plan_year
from cms import roles

from .conftest import approve, make_briefing

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(workflow, quarterly, drafter, head, departments, django_capture_on_commit_callbacks):
    page = make_briefing(quarterly)
    page.recipient_departments.set([departments["finance"]])
    page.save_revision()
    with django_capture_on_commit_callbacks(execute=True):
        approve(page, drafter, head)
    page.refresh_from_db()
    return page


def test_who_reads_a_briefing(client, live, deputy_user, make_user, departments):
    client.force_login(deputy_user)
    html = client.get(live.url).content.decode()
    assert "第1期" in html and "下载 Word（DOCX）" in html
    docx = BriefingRendition.objects.get(page=live, kind="docx")
    response = client.get(f"/briefings/renditions/{docx.pk}/")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    # a liaison of a recipient department reads it; another liaison is refused
    finance = make_user(roles.LIAISON, username="fin")
    departments["finance"].liaisons.add(finance)
    client.force_login(finance)
    assert client.get(live.url).status_code == 200
    other = make_user(roles.LIAISON, username="edu")
    departments["education"].liaisons.add(other)
    client.force_login(other)
    assert client.get(live.url).status_code == 403
    assert client.get(f"/briefings/renditions/{docx.pk}/").status_code == 403


def test_group_member_reads_without_query_permission(client, live, make_user):
    member = make_user(roles.LIAISON, username="member")
    group = RecipientGroup.objects.create(name="测试组")
    group.members.add(member)
    client.force_login(member)
    assert client.get(live.url).status_code == 403
    live.recipient_groups.add(group)
    live.save()  # a ParentalManyToManyField is written when the page is saved
    assert client.get(live.url).status_code == 200


def test_schedule_is_for_staff(client, staff_user, deputy_user, liaison_user, quarterly):
    plan_year(2026, [quarterly])
    client.force_login(staff_user)
    response = client.get("/briefings/schedule/?state=all")
    html = response.content.decode()
    assert response.status_code == 200 and "2026年第四季度季度简报" in html and "暂定" in html
    assert client.get("/briefings/schedule/?state=overdue").status_code == 200
    assert client.get("/briefings/schedule/?year=2026&month=10").status_code == 200
    for user in (deputy_user, liaison_user):
        client.force_login(user)
        assert client.get("/briefings/schedule/").status_code == 403


def test_render_on_demand_is_for_staff(client, live, deputy_user, staff_user):
    client.force_login(deputy_user)
    assert client.post(f"/briefings/pages/{live.pk}/render/").status_code == 403
    client.force_login(staff_user)
    before = BriefingRendition.objects.filter(page=live).count()
    assert client.post(f"/briefings/pages/{live.pk}/render/").status_code == 302
    assert BriefingRendition.objects.filter(page=live).count() >= before


def test_uploads_page_refuses_archivist_less_roles(client, make_user):
    nobody = make_user(None, username="norole")
    client.force_login(nobody)
    assert client.get("/briefings/uploads/").status_code == 403


def test_home_panel_and_nav(client, staff_user, deputy_user, quarterly):
    plan_year(2026, [quarterly])
    client.force_login(staff_user)
    html = client.get("/").content.decode()
    assert "工作资料" in html and "/briefings/schedule/" in html
    client.force_login(deputy_user)
    html = client.get("/").content.decode()
    assert "工作资料 · 到期事项" not in html


def test_search_finds_briefing_for_readers_only(
    live, deputy_user, make_user, departments, settings, tmp_path
):
    from modelsearch.backends import get_search_backend

    from briefings.models import BriefingPage
    from search.registry import run_search

    settings.WAGTAILSEARCH_BACKENDS = {
        "default": {"BACKEND": "search.backend", "PATH": str(tmp_path / "index")}
    }
    backend = get_search_backend()
    backend.reset_indexes()
    backend.add(live)
    backend.refresh_indexes()
    assert any(isinstance(h.obj, BriefingPage) for h in run_search(deputy_user, "支出进度").hits)
    other = make_user(roles.LIAISON, username="edu2")
    departments["education"].liaisons.add(other)
    assert not any(isinstance(h.obj, BriefingPage) for h in run_search(other, "支出进度").hits)

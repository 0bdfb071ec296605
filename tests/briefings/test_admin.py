"""The sign-off in Wagtail's own page editor: drafters submit, only the head approves."""

import pytest
from django.urls import reverse

from cms import roles

from .conftest import make_briefing

pytestmark = pytest.mark.django_db


def test_editor_offers_submit_not_publish_to_the_drafter(client, workflow, quarterly, drafter):
    page = make_briefing(quarterly)
    client.force_login(drafter)
    html = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).content.decode()
    assert 'name="action-submit"' in html
    assert 'name="action-publish"' not in html


def test_head_approves_in_the_editor_others_cannot(
    client, workflow, quarterly, drafter, head, make_user, django_capture_on_commit_callbacks
):
    page = make_briefing(quarterly)
    page.get_workflow().start(page, drafter)
    page.refresh_from_db()
    state = page.current_workflow_task_state
    url = reverse("wagtailadmin_pages:workflow_action", args=[page.pk, "approve", state.pk])

    other = make_user(roles.STAFF, username="otherstaff")
    client.force_login(other)
    html = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).content.decode()
    assert "批准并发布" not in html
    client.post(url)
    page.refresh_from_db()
    assert not page.live

    client.force_login(head)
    html = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).content.decode()
    # the admin's button, in the project's translation: “批准并发布” (not “批准发布和发布”)
    assert "批准并发布" in html and "退回修改" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code in (200, 302)
    page.refresh_from_db()
    assert page.live and page.issue_number == 1


def test_head_sends_back_with_comment_in_the_editor(client, workflow, quarterly, drafter, head):
    from briefings.models import BriefingEvent

    page = make_briefing(quarterly)
    page.get_workflow().start(page, drafter)
    page.refresh_from_db()
    state = page.current_workflow_task_state
    client.force_login(head)
    client.post(
        reverse("wagtailadmin_pages:workflow_action", args=[page.pk, "reject", state.pk]),
        {"comment": "请补充预警情况。"},
    )
    page.refresh_from_db()
    assert not page.live
    assert BriefingEvent.objects.get(page=page, action="退回修改").note == "请补充预警情况。"


def test_editor_of_a_briefing_links_back_to_the_schedule_and_the_site(
    client, workflow, quarterly, drafter
):
    """Drafting opens Wagtail's editor; the editor itself shows the way back to the site."""
    page = make_briefing(quarterly)
    client.force_login(drafter)
    html = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).content.decode()
    assert f'href="{reverse("briefings:schedule")}">返回报送计划</a>' in html
    assert 'href="/">返回网站首页</a>' in html

import pytest
from django.core.exceptions import PermissionDenied
from wagtail.actions.publish_revision import PublishPermissionError

from briefings.models import (
    BriefingEvent,
    BriefingPage,
    IssueCounter,
    RecipientGroup,
    ScheduledItem,
)
from briefings.services import plan_year
from cms import roles
from cms.notifications.models import Message

from .conftest import approve, make_briefing

pytestmark = pytest.mark.django_db


def test_drafter_cannot_publish_without_approval(workflow, quarterly, drafter):
    page = make_briefing(quarterly)
    assert not page.permissions_for_user(drafter).can_publish()
    with pytest.raises(PublishPermissionError):
        page.get_latest_revision().publish(user=drafter)
    # not even without a user (a script): only an approved revision goes out
    with pytest.raises(PublishPermissionError):
        page.get_latest_revision().publish()
    page.refresh_from_db()
    assert not page.live and page.issue_number is None


def test_only_the_head_approves(workflow, quarterly, drafter, head, make_user):
    other_staff = make_user(roles.STAFF, username="other")
    admin = make_user(roles.ADMIN, username="boss", is_superuser=True)
    page = make_briefing(quarterly)
    page.get_workflow().start(page, drafter)
    page.refresh_from_db()
    state = page.current_workflow_task_state
    task = state.task.specific
    assert task.get_actions(page, other_staff) == []
    assert task.get_actions(page, admin) == []
    assert [a[0] for a in task.get_actions(page, head)] == ["reject", "approve", "approve"]
    with pytest.raises(PermissionDenied):
        task.on_action(state, other_staff, "approve")
    page.refresh_from_db()
    assert not page.live
    # the head was told there is something to sign off
    assert Message.objects.filter(recipient=head, subject__startswith="待审批").exists()
    task.on_action(state, head, "approve")
    page.refresh_from_db()
    assert page.live and page.issue_number == 1
    actions = list(BriefingEvent.objects.filter(page=page).values_list("action", flat=True))
    assert actions[0] == "提交审核" and {"审批通过", "发布", "编号", "印送"} <= set(actions)


def test_send_back_with_comment(workflow, quarterly, drafter, head):
    page = make_briefing(quarterly)
    page.get_workflow().start(page, drafter)
    page.refresh_from_db()
    state = page.current_workflow_task_state
    state.task.specific.on_action(state, head, "reject", comment="第二部分数据请核实。")
    page.refresh_from_db()
    assert not page.live and page.issue_number is None
    event = BriefingEvent.objects.get(page=page, action="退回修改")
    assert event.note == "第二部分数据请核实。" and event.actor == head
    message = Message.objects.get(recipient=drafter, subject__startswith="退回修改")
    assert "第二部分数据请核实。" in message.body


def test_edit_after_approval_needs_approval_again(workflow, quarterly, drafter, head):
    page = approve(make_briefing(quarterly), drafter, head)
    assert page.live
    page.title = "改过的标题"
    revision = page.save_revision(user=drafter)
    with pytest.raises(PublishPermissionError):
        revision.publish(user=drafter)
    assert BriefingPage.objects.get(pk=page.pk).title != "改过的标题"
    page = approve(BriefingPage.objects.get(pk=page.pk), drafter, head)
    assert page.title == "改过的标题" and page.issue_number == 1  # number kept


def test_numbers_have_no_gaps_and_survive_unpublish(workflow, quarterly, drafter, head):
    pages = [
        approve(make_briefing(quarterly, period=p, title=f"第{p}季度"), drafter, head)
        for p in (1, 2, 3)
    ]
    assert [p.issue_number for p in pages] == [1, 2, 3]
    assert {p.issue_year for p in pages} == {pages[0].first_published_at.year}
    second = pages[1]
    second.unpublish()
    # a draft that is never published takes no number
    make_briefing(quarterly, period=4, title="未发布")
    # republishing the approved revision keeps 第2期; the next new one is 第4期
    second.get_latest_revision().publish(user=head)
    second.refresh_from_db()
    assert second.live and second.issue_number == 2
    fourth = approve(make_briefing(quarterly, period=4, title="第四季度"), drafter, head)
    assert fourth.issue_number == 4
    assert IssueCounter.objects.get(year=fourth.issue_year).last_number == 4
    assert BriefingEvent.objects.filter(page=second, action="重新发布").exists()


def test_publication_pushes_to_recipients_and_closes_the_item(
    workflow, quarterly, drafter, head, make_user, departments
):
    leader = make_user(roles.DEPUTY, username="leader")
    liaison = make_user(roles.LIAISON, username="fin")
    bystander = make_user(roles.DEPUTY, username="bystander")
    departments["finance"].liaisons.add(liaison)
    group = RecipientGroup.objects.create(name="县人大常委会领导（测试）")
    group.members.add(leader)
    plan_year(2026, [quarterly])
    page = make_briefing(quarterly, period=3)
    page.recipient_groups.set([group])
    page.recipient_departments.set([departments["finance"]])
    page.save_revision()
    page = approve(page, drafter, head)
    for person in (leader, liaison):
        message = Message.objects.get(recipient=person, category="briefings")
        assert "第1期" in message.subject and message.url == page.url
    assert not Message.objects.filter(recipient=bystander).exists()
    item = ScheduledItem.objects.get(material_type=quarterly, year=2026, period=3)
    assert item.status == "done" and item.briefing_id == page.pk
    # unpublishing reopens the item; republishing does not push a second time
    page.unpublish()
    item.refresh_from_db()
    assert item.status == "open"
    page.get_latest_revision().publish(user=head)
    assert Message.objects.filter(recipient=leader, category="briefings").count() == 1


def test_head_publishing_directly_is_recorded_as_sign_off(workflow, quarterly, head):
    page = make_briefing(quarterly)
    assert page.permissions_for_user(head).can_publish()
    page.get_latest_revision().publish(user=head)
    page.refresh_from_db()
    assert page.live and page.issue_number == 1
    assert BriefingEvent.objects.filter(page=page, action="负责同志直接签发").exists()


def test_publication_reaches_matching_saved_searches(
    workflow, quarterly, drafter, head, deputy_user, make_user, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from search.saved.models import SavedSearch

    outsider = make_user(roles.LIAISON, username="outsider")
    for user in (deputy_user, outsider):
        SavedSearch.objects.create(
            user=user, name="进度", query="支出进度", subscribed=True, baseline_at=timezone.now()
        )
    page = make_briefing(quarterly)
    with django_capture_on_commit_callbacks(execute=True):
        approve(page, drafter, head)
    assert Message.objects.filter(recipient=deputy_user).exclude(category="briefings").exists()
    # a liaison who may not read the briefing is not told about it
    assert not Message.objects.filter(recipient=outsider).exists()

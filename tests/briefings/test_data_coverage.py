"""Issue 16 part 3: a briefing never states more than its data holds."""

import pytest
from django.core.exceptions import PermissionDenied
from wagtail.actions.publish_revision import PublishPermissionError

from briefings.drafting import create_draft
from briefings.models import CONFIRM_INCOMPLETE, BriefingEvent
from briefings.services import plan_year

pytestmark = pytest.mark.django_db


def paragraphs(page):
    return [str(b.value) for b in page.body if b.block_type == "paragraph"]


def test_q4_draft_with_data_through_september_says_so(figures, drafter, quarterly):
    """Before: “1—12月 … 序时进度 100%” from data that stopped at September."""
    page, created = create_draft(drafter, quarterly, 2026, 4)
    assert created and page.data_month == 9 and page.data_incomplete
    text = " ".join(paragraphs(page))
    assert "预算执行数据截至9月（10—12月数据尚未导入）" in text
    assert "序时进度按9个月计为75.00%" in text
    assert "1—9月，一般公共预算支出累计完成2,880.00万元" in text
    assert "低于序时进度6.43个百分点" in text
    assert "1—12月，" not in text and "100.00%" not in text
    general = [b.value for b in page.body if b.block_type == "table"][0]
    assert general["title"] == "2026年1—9月一般公共预算支出执行情况"
    assert "| 75.00% |" in general["rows"]
    event = BriefingEvent.objects.get(page=page, action="生成初稿")
    assert event.note.endswith("（数据截至9月）")


def test_complete_data_adds_no_note(figures, drafter, quarterly):
    page, _created = create_draft(drafter, quarterly, 2026, 3)
    assert page.data_month == 9 and not page.data_incomplete
    assert not any("数据截至" in p for p in paragraphs(page))


def test_incomplete_briefing_is_published_only_when_the_head_confirms(
    figures, workflow, drafter, head, quarterly
):
    page, _created = create_draft(drafter, quarterly, 2026, 4)
    page.get_workflow().start(page, drafter)
    page.refresh_from_db()
    state = page.current_workflow_task_state
    task = state.task.specific
    actions = task.get_actions(page, head)
    assert [a[0] for a in actions] == ["reject", CONFIRM_INCOMPLETE]
    assert actions[1][1] == "确认数据截至9月并批准"
    with pytest.raises(PermissionDenied, match="数据截至9月"):
        task.on_action(state, head, "approve")
    # nor may the head publish it directly, outside the workflow
    with pytest.raises(PublishPermissionError, match="数据截至9月"):
        page.get_latest_revision().publish(user=head)
    page.refresh_from_db()
    assert not page.live
    task.on_action(state, head, CONFIRM_INCOMPLETE, comment="")
    page.refresh_from_db()
    assert page.live and page.issue_number == 1
    confirmed = BriefingEvent.objects.get(page=page, action="确认数据不完整")
    assert confirmed.actor == head and confirmed.note == "数据截至9月，本期应至12月"


def test_schedule_row_shows_review_and_data_coverage(client, figures, workflow, drafter, quarterly):
    plan_year(2026, [quarterly])
    page, _created = create_draft(drafter, quarterly, 2026, 4)
    client.force_login(drafter)
    html = client.get("/briefings/schedule/?state=all&year=2026").content.decode()
    row = html[html.index("2026年第四季度") :][:1500]
    assert "数据截至9月" in row and "审核中" not in row
    page.get_workflow().start(page, drafter)
    html = client.get("/briefings/schedule/?state=all&year=2026").content.decode()
    row = html[html.index("2026年第四季度") :][:1500]
    assert "审核中" in row and "数据截至9月" in row

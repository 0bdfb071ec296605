import datetime

import pytest
from django.core.exceptions import ValidationError

from briefings import services
from briefings.choices import ItemState, ItemStatus
from briefings.models import MaterialType, ScheduledItem, ScheduleEvent
from cms.notifications.models import Message

from .conftest import day

pytestmark = pytest.mark.django_db


def test_default_types_are_configurable_data():
    names = set(MaterialType.objects.values_list("name", flat=True))
    assert {"季度简报", "半年简报", "年报", "专项查询分析报告", "联网查询情况通报"} <= names
    assert {"财政局季度预算执行分析", "审计局季度报告", "财经委半年预算监督报告"} <= names
    assert MaterialType.objects.get(code="quarterly-briefing").due_workdays == 15


def test_plan_year_due_dates_count_working_days(quarterly):
    services.plan_year(2026, [quarterly])
    items = {i.period: i for i in ScheduledItem.objects.filter(material_type=quarterly)}
    assert sorted(items) == [1, 2, 3, 4]
    # 15 working days after 31 March and after 30 September (the National Day week skipped)
    assert items[1].due_date == day("2026-04-22") and not items[1].due_provisional
    assert items[3].due_date == day("2026-10-27") and not items[3].due_provisional
    assert items[3].title == "2026年第三季度季度简报"
    # Q4 ends in 2026 but falls due in 2027, whose holiday notice is not in the calendar
    assert items[4].due_date.year == 2027 and items[4].due_provisional
    # 元旦 is a statutory holiday even before the 2027 notice is entered (before: 01-21)
    assert items[4].due_date == day("2027-01-22")
    assert ScheduleEvent.objects.filter(item=items[4], action="列入计划").exists()


def test_plan_year_is_idempotent_and_monthly_types_have_twelve(db):
    first = services.plan_year(2026)
    again = services.plan_year(2026)
    assert first and again == []
    monthly = MaterialType.objects.get(code="four-budgets-tables")
    assert ScheduledItem.objects.filter(material_type=monthly, year=2026).count() == 12
    adhoc = MaterialType.objects.get(code="special-query-report")
    assert not ScheduledItem.objects.filter(material_type=adhoc).exists()


def test_due_rule_is_data(quarterly):
    quarterly.due_workdays = 10
    quarterly.save()
    services.plan_year(2026, [quarterly])
    item = ScheduledItem.objects.get(material_type=quarterly, period=1)
    assert item.due_date == day("2026-04-15")


def test_states_upcoming_due_overdue_done(quarterly):
    services.plan_year(2026, [quarterly])
    q1, q2, q3, q4 = ScheduledItem.objects.filter(material_type=quarterly).order_by("period")
    today = day("2026-10-23")  # Friday; Q3 due Tuesday 27th (within 3 working days)
    assert services.item_state(q2, today) == ItemState.OVERDUE
    assert services.item_state(q3, today) == ItemState.DUE
    assert services.item_state(q4, today) == ItemState.UPCOMING
    services.mark_done(q1, when=datetime.datetime(2026, 4, 20, 10, tzinfo=datetime.UTC))
    q1.refresh_from_db()
    assert services.item_state(q1, today) == ItemState.DONE and not q1.is_late
    assert list(services.items_in_state(ItemState.OVERDUE, today)) == [q2]
    assert list(services.items_in_state(ItemState.DUE, today)) == [q3]


def test_transition_table_refuses_illegal_moves(quarterly):
    services.plan_year(2026, [quarterly])
    item = ScheduledItem.objects.filter(material_type=quarterly).first()
    services.cancel(item)
    item.refresh_from_db()
    with pytest.raises(ValidationError):
        services.mark_done(item)
    assert item.status == ItemStatus.CANCELLED


def test_reminders_before_due_and_when_overdue(quarterly, make_user, departments):
    from cms import roles

    staff = make_user(roles.STAFF, username="s1")
    liaison = make_user(roles.LIAISON, username="l1")
    departments["finance"].liaisons.add(liaison)
    analysis = MaterialType.objects.get(code="finance-quarterly-analysis")
    analysis.responsible_department = departments["finance"]
    analysis.save()
    services.plan_year(2026, [quarterly, analysis])
    for item in ScheduledItem.objects.filter(period=1):
        services.mark_done(item)
    today = day("2026-10-23")
    assert services.send_reminders(today) == 4  # Q3 of each due; Q2 of each overdue
    assert Message.objects.filter(recipient=staff, subject__startswith="即将到期").count() == 1
    assert Message.objects.filter(recipient=staff, subject__startswith="已逾期").count() == 1
    assert Message.objects.filter(recipient=liaison).count() == 2
    # the next day nothing is repeated; a week later the overdue items are reminded again
    assert services.send_reminders(today + datetime.timedelta(days=1)) == 0
    # a week later: Q2 of each again, Q3 of each now overdue
    assert services.send_reminders(today + datetime.timedelta(days=7)) == 4


def test_submitted_briefing_makes_its_schedule_row_say_in_review(
    client, quarterly, workflow, drafter, head
):
    """After the drafter submits the period's briefing, its row says 审核中 (not 未到期) until
    the head approves (then 已完成) or sends it back (then the date decides again)."""
    from .conftest import make_briefing

    services.plan_year(2026, [quarterly])
    q4 = ScheduledItem.objects.get(material_type=quarterly, year=2026, period=4)
    q3 = ScheduledItem.objects.get(material_type=quarterly, year=2026, period=3)
    today = day("2026-12-01")  # Q4 due in January 2027: 未到期
    assert services.item_state(q4, today) == ItemState.UPCOMING
    page = make_briefing(quarterly, year=2026, period=4, title="2026年第四季度预算执行情况")
    assert services.item_state(q4, today) == ItemState.UPCOMING  # a draft alone is not review
    page.get_workflow().start(page, drafter)
    assert services.periods_in_review() == {(quarterly.pk, 2026, 4)}
    assert services.item_state(q4, today) == ItemState.IN_REVIEW
    assert ItemState(services.item_state(q4, today)).label == "审核中"
    assert services.item_state(q3, today) == ItemState.OVERDUE  # another period is untouched
    assert list(services.items_in_state(ItemState.IN_REVIEW, today)) == [q4]
    assert q4 not in services.items_in_state(ItemState.UPCOMING, today)

    client.force_login(drafter)
    response = client.get("/briefings/schedule/?state=all")
    html = response.content.decode()
    assert response.status_code == 200, html[:500]
    row = html[html.index(f'data-item="{q4.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "审核中" in row and "未到期" not in row

    page.refresh_from_db()
    state = page.current_workflow_task_state
    state.task.specific.on_action(state, head, "reject", comment="请补充第三部分")
    assert services.periods_in_review() == set()
    assert services.item_state(q4, today) == ItemState.UPCOMING

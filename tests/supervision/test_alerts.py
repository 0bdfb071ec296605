import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from budget.importing import import_file
from cms.notifications.models import Message
from cms.usage.models import AppendOnlyError
from cms.workdays import add_workdays
from supervision import alerts
from supervision.choices import AlertGrade, AlertStatus, RuleKind, RuleScope
from supervision.models import Alert, AlertEvent, AlertRule
from supervision.wagtail_hooks import due_alerts_panel
from tests.budget.conftest import LONG_HEADER, csv_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def lagging(classification, departments):
    """201 spends 40% at September (time progress 75%); 205 spends 74%."""
    rows = [
        LONG_HEADER,
        [2026, 0, "一般公共预算", "2010101", "", "101", "", "年初预算", "100"],
        [2026, 9, "一般公共预算", "2010101", "", "101", "", "累计执行", "40"],
        [2026, 0, "一般公共预算", "2050202", "", "201", "", "年初预算", "100"],
        [2026, 9, "一般公共预算", "2050202", "", "201", "", "累计执行", "74"],
    ]
    assert import_file(csv_bytes(rows), "x.csv").ok


@pytest.fixture
def rule(staff_user):
    return AlertRule.objects.create(
        name="进度落后",
        kind=RuleKind.EXECUTION_LAG,
        scope=RuleScope.CATEGORY,
        threshold=Decimal(10),
        grade=AlertGrade.GENERAL,
        owner=staff_user,
    )


def test_lag_rule_fires_once_with_figures_and_due_date(lagging, rule, staff_user):
    raised = alerts.evaluate_rule(rule)
    assert [a.code for a in raised] == ["201"]
    alert = raised[0]
    assert alert.figures["执行率"] == "40.00%" and alert.figures["进度差"] == "-35.00%"
    # points, not a percentage, behind the time progress (the wording goes into letters)
    assert alert.title.endswith("执行率40.00%，序时进度75.00%，落后35.00个百分点")
    assert alert.due_date == add_workdays(timezone.localtime(alert.created_at).date(), 10)
    assert alert.owner == staff_user and alert.status == AlertStatus.NEW
    assert list(alert.events.values_list("action", flat=True)) == ["产生预警"]
    assert Message.objects.filter(recipient=staff_user).exists()
    assert alerts.evaluate_rule(rule) == []  # the same finding is not raised twice
    assert Alert.objects.count() == 1


def test_department_scope_and_threshold(lagging, rule):
    rule.scope = RuleScope.DEPARTMENT
    rule.threshold = Decimal(40)
    rule.save()
    assert alerts.evaluate_rule(rule) == []
    rule.threshold = Decimal(30)
    rule.save()
    [alert] = alerts.evaluate_rule(rule)
    assert alert.department.name == "县财政局"


def test_transitions_follow_the_table(lagging, rule, staff_user):
    [alert] = alerts.evaluate_rule(rule)
    alert = alerts.transition(alert, AlertStatus.BULLETIN, staff_user, "联网查询情况通报第3期")
    assert alert.status == AlertStatus.BULLETIN
    assert alert.due_date == add_workdays(datetime.date.today(), 10)
    alert = alerts.transition(alert, AlertStatus.ANSWERED, staff_user, "财预函〔2026〕5号")
    alert = alerts.transition(alert, AlertStatus.CLOSED, staff_user, "已整改")
    assert alert.due_date is None
    actions = list(alert.events.values_list("action", "to_status"))
    assert actions[1:] == [
        ("发出联网查询情况通报", "bulletin"),
        ("登记部门书面答复", "answered"),
        ("关闭", "closed"),
    ]


@pytest.mark.parametrize(
    "path, target, message",
    [
        ([], AlertStatus.ANSWERED, "预警当前为“新”，不能改为“已回复”"),
        ([], "nonsense", "未知的预警状态"),
        ([], AlertStatus.CLOSED, "关闭预警须说明理由"),
        ([(AlertStatus.CLOSED, "重复")], AlertStatus.LETTER, "不能改为“已函询”"),
    ],
)
def test_illegal_transitions_change_nothing(lagging, rule, staff_user, path, target, message):
    [alert] = alerts.evaluate_rule(rule)
    for step, note in path:
        alert = alerts.transition(alert, step, staff_user, note)
    events = alert.events.count()
    with pytest.raises(alerts.TransitionError) as error:
        alerts.transition(alert, target, staff_user, "")
    assert message in " ".join(error.value.messages)
    alert.refresh_from_db()
    assert alert.events.count() == events
    assert alert.status == (path[-1][0] if path else AlertStatus.NEW)


def test_major_alerts_need_a_letter_with_fifteen_days(lagging, rule, staff_user):
    rule.grade = AlertGrade.MAJOR
    rule.save()
    [alert] = alerts.evaluate_rule(rule)
    with pytest.raises(alerts.TransitionError, match="函询"):
        alerts.transition(alert, AlertStatus.BULLETIN, staff_user, "")
    alert = alerts.transition(alert, AlertStatus.LETTER, staff_user, "")
    assert alert.due_date == add_workdays(datetime.date.today(), 15)


def test_who_may_handle(lagging, rule, deputy_user, client):
    [alert] = alerts.evaluate_rule(rule)
    with pytest.raises(PermissionDenied):
        alerts.transition(alert, AlertStatus.BULLETIN, deputy_user, "")
    client.force_login(deputy_user)
    url = reverse("supervision:alert_handle", args=[alert.pk])
    assert client.post(url, {"to": "bulletin"}).status_code == 403
    alert.refresh_from_db()
    assert alert.status == AlertStatus.NEW and alert.events.count() == 1
    assert client.get(reverse("supervision:alert", args=[alert.pk])).status_code == 200


def test_handling_through_the_page(lagging, rule, staff_user, client):
    [alert] = alerts.evaluate_rule(rule)
    client.force_login(staff_user)
    url = reverse("supervision:alert_handle", args=[alert.pk])
    response = client.post(url, {"to": "answered", "note": "x"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.NEW
    client.post(url, {"to": "bulletin", "note": "通报"})
    alert.refresh_from_db()
    assert alert.status == AlertStatus.BULLETIN
    page = client.get(reverse("supervision:alert", args=[alert.pk])).content.decode()
    assert "发出联网查询情况通报" in page


def test_events_are_append_only(lagging, rule):
    [alert] = alerts.evaluate_rule(rule)
    event = AlertEvent.objects.get(alert=alert)
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AlertEvent.objects.all().update(note="x")


def test_overdue_alerts_remind_their_owner_once(lagging, rule, staff_user):
    [alert] = alerts.evaluate_rule(rule)
    Message.objects.all().delete()
    later = alert.due_date + datetime.timedelta(days=1)
    assert alerts.remind_overdue(today=later) == [alert]
    assert (
        Message.objects.filter(recipient=staff_user, subject__startswith="预警已逾期").count() == 1
    )
    assert alerts.remind_overdue(today=later + datetime.timedelta(days=1)) == []
    assert alert.events.filter(action="逾期提醒").count() == 1


def test_home_panel_lists_overdue_for_staff(lagging, rule, staff_user, deputy_user):
    [alert] = alerts.evaluate_rule(rule)
    Alert.objects.filter(pk=alert.pk).update(due_date=datetime.date(2020, 1, 1))
    request = RequestFactory().get("/")
    request.user = staff_user
    panel = due_alerts_panel(request)
    assert panel.items[0].overdue and "已逾期" in panel.items[0].meta
    request.user = deputy_user
    assert due_alerts_panel(request) is None


def test_three_public_and_final_rules(classification, departments):
    rows = [
        [*LONG_HEADER, "科目分类"],
        [2026, 0, "一般公共预算", "30217", "", "101", "", "年初预算", "10", "支出经济分类"],
        [2026, 9, "一般公共预算", "30217", "", "101", "", "累计执行", "12", "支出经济分类"],
        [2025, 0, "一般公共预算", "2010101", "", "201", "", "年初预算", "100", ""],
        [2025, 0, "一般公共预算", "2010101", "", "201", "", "决算", "150", ""],
    ]
    assert import_file(csv_bytes(rows), "x.csv").ok
    over = AlertRule.objects.create(
        name="三公", kind=RuleKind.THREE_PUBLIC_OVER, threshold=0, grade=AlertGrade.IMPORTANT
    )
    [alert] = alerts.evaluate_rule(over)
    assert alert.department.code == "101" and alert.figures["超出比例"] == "20.00%"
    final = AlertRule.objects.create(
        name="决算",
        kind=RuleKind.FINAL_DEVIATION,
        scope=RuleScope.DEPARTMENT,
        threshold=30,
        grade=AlertGrade.MAJOR,
    )
    [alert] = alerts.evaluate_rule(final)
    assert alert.year == 2025 and alert.figures["较年初预算偏离"] == "50.00%"


def test_alert_list_for_deputy_but_not_liaison(lagging, rule, client, deputy_user, liaison_user):
    alerts.evaluate_rule(rule)
    client.force_login(deputy_user)
    assert "一般公共服务支出" in client.get(reverse("supervision:alerts")).content.decode()
    client.force_login(liaison_user)
    assert client.get(reverse("supervision:alerts")).status_code == 403


def test_nightly_task_evaluates_and_reminds(lagging, rule):
    from cms.celery import app
    from supervision import tasks

    assert app.conf.beat_schedule["nightly-alerts"]["task"] == "supervision.tasks.nightly_alerts"
    result = tasks.nightly_alerts.delay().get()
    assert result == {"raised": 1, "reminded": 0}
    assert Alert.objects.count() == 1


def test_old_budget_addresses_redirect_to_supervision(client, staff_user):
    """Alerts moved to /supervision/alerts/ (issue 18); links in old messages still arrive."""
    client.force_login(staff_user)
    response = client.get("/budget/alerts/?status=closed")
    assert response.status_code == 301
    assert response["Location"] == "/supervision/alerts/?status=closed"
    response = client.get("/budget/alerts/42/")
    assert response.status_code == 301 and response["Location"] == "/supervision/alerts/42/"

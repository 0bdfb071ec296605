"""The beat task: reminders before a due date, overdue lists for staff and each unit."""

import datetime

import pytest
from django.conf import settings

from cms.notifications.models import Message
from suggestions import reminders, services, tasks
from suggestions.models import Suggestion

pytestmark = pytest.mark.django_db


def test_task_is_scheduled():
    entry = settings.CELERY_BEAT_SCHEDULE["suggestions-reminders"]
    assert entry["task"] == "suggestions.tasks.send_reminders"
    assert tasks.send_reminders.name == "suggestions.tasks.send_reminders"


def test_reminder_once_per_due_date(assigned, staff, finance_liaison, transport_liaison):
    # due 2026-06-02; 7 days before
    result = reminders.run_reminders(datetime.date(2026, 5, 27))
    assert result == {"reminded": 1, "overdue": 0, "units_notified": 0}
    liaison_msgs = Message.objects.filter(recipient=finance_liaison)
    assert liaison_msgs.count() == 1 and "将于 2026-06-02 到期" in liaison_msgs.get().subject
    assert liaison_msgs.get().url == f"/suggestions/department/{assigned.pk}/"
    assert Message.objects.filter(recipient=staff).count() == 1
    assert not Message.objects.filter(recipient=transport_liaison).exists()
    # the next day: no second reminder for the same date
    assert reminders.run_reminders(datetime.date(2026, 5, 28))["reminded"] == 0
    # an extension resets it
    services.extend(assigned, staff, reason="需要协调用地")
    assert reminders.run_reminders(datetime.date(2026, 8, 30))["reminded"] == 1


def test_overdue_lists_for_staff_and_each_unit(
    assigned, make_suggestion, staff, units, finance_liaison, make_user
):
    from cms import roles

    other = make_suggestion(title="关于咪哩乡通村公路养护的建议")
    with services.as_of(datetime.date(2026, 3, 2)):
        services.register(other, staff)
        services.assign(other, staff, lead_unit=units["transport"])
    transport = make_user(roles.LIAISON, username="t2")
    units["transport"].liaisons.add(transport)
    result = reminders.run_reminders(datetime.date(2026, 6, 10))
    assert result["overdue"] == 2 and result["units_notified"] == 2
    staff_list = Message.objects.get(recipient=staff, subject__startswith="代表建议逾期")
    assert assigned.code in staff_list.body and other.code in staff_list.body
    finance_list = Message.objects.get(recipient=finance_liaison, subject__contains="逾期")
    assert assigned.code in finance_list.body and other.code not in finance_list.body
    transport_list = Message.objects.get(recipient=transport, subject__contains="逾期")
    assert other.code in transport_list.body and assigned.code not in transport_list.body


def test_beat_task_runs_through_celery(assigned, staff):
    # the task function itself (eager Celery in tests), with today's date: the item is overdue
    result = tasks.send_reminders.delay().get()
    assert result["overdue"] == 1
    assert Suggestion.objects.get(pk=assigned.pk).reminded_for is None


def test_second_answer_deadline_counts(assigned, staff, deputies, answer_a):
    with services.as_of(datetime.date(2026, 4, 1)):
        services.answer(assigned, staff, answer_class=answer_a, signed_by="甲", summary="已处理")
        services.evaluate(assigned, deputies["user_a"], result="dissatisfied", comment="没有解决")
        services.rehandle(assigned, staff)
    assigned.refresh_from_db()
    assert assigned.second_due_on == datetime.date(2026, 6, 1)
    assert list(services.overdue(datetime.date(2026, 6, 2))) == [assigned]
    assert reminders.run_reminders(datetime.date(2026, 5, 30))["reminded"] == 1

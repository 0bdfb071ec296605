"""Deadlines: calendar months from 交办, working days for 退办, extension limits, second answer."""

import datetime

import pytest

from cms.notifications.models import Message
from cms.workdays import add_months, add_workdays
from suggestions import services
from suggestions.choices import Status

from .conftest import TODAY

pytestmark = pytest.mark.django_db


def test_due_dates_at_assignment(assigned):
    assert assigned.assigned_on == TODAY
    assert assigned.due_on == datetime.date(2026, 6, 2)  # 3 calendar months
    assert assigned.co_unit_due_on == datetime.date(2026, 4, 2)  # 1 month
    assert assigned.return_deadline == add_workdays(TODAY, 7)
    assert assigned.events.get(action="assign").due_on == assigned.due_on


def test_month_end_is_clamped(make_suggestion, staff, units):
    s = make_suggestion()
    with services.as_of(datetime.date(2026, 11, 30)):
        services.register(s, staff)
        s = services.assign(s, staff, lead_unit=units["water"])
    assert s.due_on == datetime.date(2027, 2, 28)


def test_return_window_counts_working_days_across_national_day(
    make_suggestion, staff, units, finance_liaison
):
    s = make_suggestion()
    assigned_on = datetime.date(2026, 9, 30)
    with services.as_of(assigned_on):
        services.register(s, staff)
        services.assign(s, staff, lead_unit=units["finance"])
    s.refresh_from_db()
    deadline = add_workdays(assigned_on, 7)
    assert s.return_deadline == deadline
    # the 国庆 holiday makes the window far longer than 7 calendar days
    assert deadline >= datetime.date(2026, 10, 15)
    with services.as_of(deadline + datetime.timedelta(days=1)):
        with pytest.raises(services.TransitionError, match="7 个工作日内"):
            services.request_return(s, finance_liaison, "不属于本单位职责")
        assert "request_return" not in services.allowed_steps(finance_liaison, s)
    with services.as_of(deadline):
        services.request_return(s, finance_liaison, "不属于本单位职责，应由县水利局办理")
    assert services.Suggestion.objects.get(pk=s.pk).status == Status.RETURN_REQUESTED


def test_return_approved_goes_back_for_reassignment(assigned, staff, finance_liaison, units):
    with services.as_of(TODAY + datetime.timedelta(days=1)):
        services.request_return(assigned, finance_liaison, "职责不符")
    with pytest.raises(services.TransitionError, match="须说明理由"):
        services.decide_return(assigned, staff, approve=False)
    services.decide_return(assigned, staff, approve=True)
    assigned.refresh_from_db()
    assert assigned.status == Status.REGISTERED
    assert assigned.lead_unit is None and not assigned.co_units.exists() and assigned.due_on is None
    later = TODAY + datetime.timedelta(days=5)
    with services.as_of(later):
        services.assign(assigned, staff, lead_unit=units["water"])
    assigned.refresh_from_db()
    assert assigned.due_on == add_months(later, 3)


def test_extension_up_to_six_months_with_explanation(
    assigned, staff, deputies, django_capture_on_commit_callbacks
):
    with pytest.raises(services.TransitionError, match="说明理由"):
        services.extend(assigned, staff, reason="")
    with pytest.raises(services.TransitionError, match="6 个月"):
        services.extend(
            assigned, staff, reason="需要跨年度安排资金", new_due_on=datetime.date(2026, 9, 3)
        )
    with pytest.raises(services.TransitionError, match="须晚于原期限"):
        services.extend(
            assigned, staff, reason="需要跨年度安排资金", new_due_on=datetime.date(2026, 5, 1)
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.extend(assigned, staff, reason="需要跨年度安排资金")
    assigned.refresh_from_db()
    assert assigned.due_on == datetime.date(2026, 9, 2) and assigned.extended
    assert Message.objects.filter(
        recipient=deputies["user_a"], body__contains="需要跨年度安排资金"
    ).exists()
    event = assigned.events.get(action="extend")
    assert "2026-06-02" in event.note and "2026-09-02" in event.note and "跨年度" in event.note
    with pytest.raises(services.TransitionError, match="延期过一次"):
        services.extend(assigned, staff, reason="再延")


def test_deadline_settings(assigned, settings, make_suggestion, staff, units):
    settings.SUGGESTIONS_ANSWER_MONTHS = 2
    settings.SUGGESTIONS_RETURN_WORKDAYS = 3
    s = make_suggestion(title="关于羊街乡中心小学校舍维修的建议")
    with services.as_of(TODAY):
        services.register(s, staff)
        s = services.assign(s, staff, lead_unit=units["water"])
    assert s.due_on == datetime.date(2026, 5, 2)
    assert s.return_deadline == add_workdays(TODAY, 3)


def test_overdue_and_due_soon(assigned, staff, answer_a):
    assert not services.overdue(TODAY).exists()
    assert services.is_overdue(assigned, datetime.date(2026, 6, 3))
    assert list(services.overdue(datetime.date(2026, 6, 3))) == [assigned]
    assert list(services.due_soon(datetime.date(2026, 5, 28))) == [assigned]
    assert not services.due_soon(datetime.date(2026, 5, 20)).exists()
    services.answer(assigned, staff, answer_class=answer_a, signed_by="甲", summary="已解决")
    assert not services.overdue(datetime.date(2026, 6, 3)).exists()


def test_on_time_measure(assigned, staff, answer_a):
    assert services.answered_on_time(assigned) is None
    with services.as_of(datetime.date(2026, 6, 2)):
        services.answer(assigned, staff, answer_class=answer_a, signed_by="甲", summary="按期")
    assigned.refresh_from_db()
    assert services.answered_on_time(assigned) is True

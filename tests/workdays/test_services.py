import datetime
import pickle

import pytest

from cms.workdays import (
    DueDate,
    add_months,
    add_workdays,
    day_info,
    is_provisional,
    is_workday,
    uncovered_years_to_warn,
    workdays_between,
)
from cms.workdays.models import DayKind, DayOverride, HolidayNotice
from cms.workdays.services import statutory_holidays

pytestmark = pytest.mark.django_db

D = datetime.date


def test_national_day_2026_with_swapped_saturday():
    for day in range(1, 8):
        assert not is_workday(D(2026, 10, day)), f"2026-10-{day:02d} 是国庆节假期"
    # The package says the holiday ends on the 7th: Thursday the 8th is a normal working day.
    assert is_workday(D(2026, 10, 8))
    info = day_info(D(2026, 10, 10))  # Saturday, 调休上班
    assert info.is_workday
    assert info.kind == "swapped_workday"
    assert info.name == "国庆节"
    assert not is_workday(D(2026, 10, 11))  # the Sunday after stays off
    assert is_workday(D(2026, 9, 20))  # the other swapped Sunday


def test_spring_festival_2026():
    assert is_workday(D(2026, 2, 14))  # Saturday before the festival: 调休上班
    for day in range(15, 24):
        info = day_info(D(2026, 2, day))
        assert not info.is_workday
        assert info.kind == "holiday" and info.name == "春节"
    assert is_workday(D(2026, 2, 24))
    assert is_workday(D(2026, 2, 28))  # Saturday, 调休上班


def test_q3_briefing_deadline_is_fifteen_working_days_after_quarter_end():
    # Counting from Thursday 2026-10-01 (the day after 2026-09-30):
    #   10-01..10-07 国庆节 — not counted
    #   10-08 Thu 1, 10-09 Fri 2, 10-10 Sat (调休上班) 3, 10-11 Sun off,
    #   10-12..10-16 Mon–Fri 4–8, 10-17/18 weekend,
    #   10-19..10-23 Mon–Fri 9–13, 10-24/25 weekend,
    #   10-26 Mon 14, 10-27 Tue 15.
    due = add_workdays(D(2026, 9, 30), 15)
    assert due == D(2026, 10, 27)
    assert isinstance(due, DueDate) and isinstance(due, datetime.date)
    assert due.provisional is False


def test_add_workdays_small_cases():
    assert add_workdays(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert add_workdays(D(2026, 10, 9), 1) == D(2026, 10, 10)
    assert add_workdays(D(2026, 10, 10), 1) == D(2026, 10, 12)
    # n = 0 is the day itself, even a holiday.
    assert add_workdays(D(2026, 10, 3), 0) == D(2026, 10, 3)
    with pytest.raises(ValueError, match="不能为负数"):
        add_workdays(D(2026, 10, 3), -1)
    with pytest.raises(TypeError):
        add_workdays(D(2026, 10, 3), 1.5)


def test_due_date_arithmetic_drops_the_flag_and_pickles():
    due = add_workdays(D(2030, 12, 20), 10)
    assert due.provisional is True
    shifted = due + datetime.timedelta(days=1)
    assert type(shifted) is datetime.date
    copy = pickle.loads(pickle.dumps(due))
    assert copy == due and copy.provisional is True


def test_workdays_between_convention():
    # (a, b]: a is not counted, b is.
    assert workdays_between(D(2026, 9, 30), D(2026, 10, 8)) == 1
    assert workdays_between(D(2026, 9, 30), D(2026, 10, 27)) == 15
    # National Day week: no working days in (09-30, 10-07].
    assert workdays_between(D(2026, 9, 30), D(2026, 10, 7)) == 0
    # An ordinary week: (Mon, next Mon] = 5.
    assert workdays_between(D(2026, 11, 2), D(2026, 11, 9)) == 5
    assert workdays_between(D(2026, 11, 2), D(2026, 11, 2)) == 0
    # Backwards gives the negative count of (b, a].
    assert workdays_between(D(2026, 10, 27), D(2026, 9, 30)) == -15
    count = workdays_between(D(2026, 1, 1), D(2026, 12, 31))
    assert count.provisional is False


def test_round_trip_between_and_add():
    a = D(2026, 4, 1)
    for b in (D(2026, 5, 6), D(2026, 6, 22), D(2026, 10, 8)):
        assert is_workday(b)
        assert add_workdays(a, workdays_between(a, b)) == b


def test_unknown_year_is_provisional_weekends_and_statutory_holidays():
    assert is_provisional(D(2031, 5, 1))
    info = day_info(D(2031, 5, 6))  # Tuesday; no notice, so a plain working day
    assert info.is_workday and info.provisional and info.source == "weekend_rule"
    info = day_info(D(2031, 5, 1))  # Thursday, 劳动节 by the 放假办法
    assert not info.is_workday and info.provisional and info.source == "statutory"
    assert info.kind == "holiday" and info.name == "劳动节"
    due = add_workdays(D(2031, 1, 6), 5)  # Monday + 5 weekdays = next Monday
    assert due == D(2031, 1, 13)
    assert due.provisional is True
    count = workdays_between(D(2031, 1, 5), D(2031, 1, 12))
    assert count == 5 and count.provisional is True
    # A count that only reaches into the unknown year is provisional too.
    assert add_workdays(D(2026, 12, 30), 3).provisional is True
    assert add_workdays(D(2026, 12, 28), 2).provisional is False


def test_override_making_a_holiday_moves_the_due_date():
    assert add_workdays(D(2026, 9, 30), 15) == D(2026, 10, 27)
    DayOverride.objects.create(date=D(2026, 10, 19), kind=DayKind.HOLIDAY, name="县庆")
    assert not is_workday(D(2026, 10, 19))
    assert day_info(D(2026, 10, 19)).name == "县庆"
    assert add_workdays(D(2026, 9, 30), 15) == D(2026, 10, 28)
    # Deleting the override restores the package's answer (cache invalidated on delete).
    DayOverride.objects.filter(date=D(2026, 10, 19)).delete()
    assert add_workdays(D(2026, 9, 30), 15) == D(2026, 10, 27)


def test_override_swapped_workday_and_changes_seen_after_update():
    override = DayOverride.objects.create(date=D(2026, 10, 11), kind=DayKind.WORKDAY)
    assert is_workday(D(2026, 10, 11))
    override.kind = DayKind.HOLIDAY
    override.save()
    assert not is_workday(D(2026, 10, 11))


def test_entering_a_notice_makes_the_year_definitive():
    assert is_provisional(D(2031, 3, 2))
    notice = HolidayNotice.objects.create(
        year=2031, title="国务院办公厅关于2031年部分节假日安排的通知"
    )
    DayOverride.objects.create(date=D(2031, 1, 1), kind=DayKind.HOLIDAY, name="元旦", notice=notice)
    assert not is_provisional(D(2031, 3, 2))
    assert not is_workday(D(2031, 1, 1))
    due = add_workdays(D(2030, 12, 31), 1)
    # 2030 is provisional too unless its notice exists; only check the 2031 part here.
    assert due == D(2031, 1, 2)
    notice.delete()  # cascades to its dates
    assert is_provisional(D(2031, 3, 2))
    # without the notice, 元旦 is again the 放假办法's holiday (provisional)
    assert day_info(D(2031, 1, 1)).source == "statutory"


def test_other_process_sees_change_through_version_stamp():
    from cms.workdays import services

    assert is_workday(D(2026, 11, 30))
    # Simulate another process: write the row without signals, then bump the stamp.
    DayOverride.objects.bulk_create([DayOverride(date=D(2026, 11, 30), kind=DayKind.HOLIDAY)])
    assert is_workday(D(2026, 11, 30))  # this process still has its copy
    services.bump_version()
    assert not is_workday(D(2026, 11, 30))


def test_override_date_must_lie_in_the_notice_year():
    from django.core.exceptions import ValidationError

    notice = HolidayNotice.objects.create(year=2027, title="2027年放假通知")
    override = DayOverride(date=D(2028, 1, 1), kind=DayKind.HOLIDAY, notice=notice)
    with pytest.raises(ValidationError, match="不在所属通知的年度"):
        override.full_clean()


def test_add_months_clamps_to_month_end():
    assert add_months(D(2026, 3, 15), 3) == D(2026, 6, 15)
    assert add_months(D(2026, 11, 30), 3) == D(2027, 2, 28)
    assert add_months(D(2027, 11, 30), 3) == D(2028, 2, 29)
    assert add_months(D(2026, 8, 31), 1) == D(2026, 9, 30)
    assert add_months(D(2026, 1, 31), -2) == D(2025, 11, 30)
    assert add_months(D(2026, 5, 20), 0) == D(2026, 5, 20)


def test_coverage_warning_years():
    # chinesecalendar 1.11 covers 2004–2026; 2027 has no notice yet.
    assert uncovered_years_to_warn(D(2026, 11, 26)) == [2027]
    assert uncovered_years_to_warn(D(2026, 3, 1)) == []
    HolidayNotice.objects.create(year=2027, title="2027年放假通知")
    assert uncovered_years_to_warn(D(2026, 11, 26)) == []
    assert uncovered_years_to_warn(D(2028, 1, 5)) == [2028]


def test_rolled_back_override_does_not_linger_in_memory():
    from django.db import transaction

    with pytest.raises(RuntimeError):
        with transaction.atomic():
            DayOverride.objects.create(date=D(2026, 12, 1), kind=DayKind.HOLIDAY)
            assert not is_workday(D(2026, 12, 1))
            raise RuntimeError("roll back")
    assert is_workday(D(2026, 12, 1))


def test_statutory_holidays_of_a_year_without_notice():
    """Before: 2027 counted only weekends; the Q4 2026 briefing was due “2027-01-21 暂定”
    although 1 January is a holiday every year."""
    days = {d.isoformat(): n for d, n in statutory_holidays(2027).items()}
    assert days["2027-01-01"] == "元旦"
    # 春节 2027: 正月初一 is 6 February (a Saturday); 除夕 and 初一至初三, and two 补假
    assert [days[f"2027-02-0{d}"] for d in range(5, 9)] == ["春节"] * 4
    assert days["2027-02-09"] == days["2027-02-10"] == "春节（补假）"
    assert days["2027-04-05"] == "清明节"
    assert days["2027-05-01"] == days["2027-05-02"] == "劳动节"
    assert days["2027-06-09"] == "端午节" and days["2027-09-15"] == "中秋节"
    assert [days[f"2027-10-0{d}"] for d in (1, 2, 3)] == ["国庆节"] * 3
    info = day_info(D(2027, 2, 8))
    assert (info.is_workday, info.kind, info.name, info.provisional) == (
        False, "holiday", "春节", True,
    )  # fmt: skip
    due = add_workdays(D(2026, 12, 31), 15)
    assert due == D(2027, 1, 22) and due.provisional is True


def test_statutory_table_agrees_with_the_notices_of_2025_and_2026():
    """Every statutory holiday the table computes (not 补假, which notices arrange with
    调休) is a day off in the State Council's notices the package carries."""
    for year in (2025, 2026):
        for d, name in statutory_holidays(year).items():
            if not name.endswith("（补假）"):
                info = day_info(d)
                assert not info.is_workday and info.source == "package", (d, name)


def test_entering_the_notice_replaces_the_statutory_rule():
    assert not is_workday(D(2027, 2, 10))  # 春节（补假）
    notice = HolidayNotice.objects.create(year=2027, title="2027年放假通知")
    DayOverride.objects.create(date=D(2027, 1, 1), kind=DayKind.HOLIDAY, notice=notice)
    assert not is_provisional(D(2027, 2, 10))
    assert is_workday(D(2027, 2, 10))  # the notice, not the rule, decides now
    assert not is_workday(D(2027, 1, 1))

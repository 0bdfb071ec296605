import datetime

import pytest
from django.contrib.auth.models import Permission

from cms.workdays.models import DayKind, DayOverride, HolidayNotice

pytestmark = pytest.mark.django_db


def test_calendar_requires_login(client):
    response = client.get("/calendar/")
    assert response.status_code == 302


def test_month_grid_shows_holidays_and_swapped_days(client, deputy_user):
    client.force_login(deputy_user)
    body = client.get("/calendar/?month=2026-10").content.decode()
    assert "2026年10月" in body
    assert "国庆节放假" in body
    assert "国庆节调休上班" in body
    assert 'href="?month=2026-09"' in body and 'href="?month=2026-11"' in body
    assert "暂定" not in body.split("期限计算")[0]


def test_month_of_unknown_year_says_provisional(client, deputy_user):
    client.force_login(deputy_user)
    body = client.get("/calendar/?month=2031-05").content.decode()
    assert "系统尚未录入2031年的放假通知" in body


def test_bad_month_parameter_falls_back_with_message(client, deputy_user):
    client.force_login(deputy_user)
    response = client.get("/calendar/?month=2026-13")
    assert response.status_code == 200
    assert "月份格式应为 2026-10" in response.content.decode()


def test_due_date_calculator(client, staff_user):
    client.force_login(staff_user)
    body = client.get("/calendar/?start=2026-09-30&amount=15&unit=workdays").content.decode()
    assert "2026年10月27日（星期二）" in body
    assert 'class="badge badge--provisional"' not in body


def test_calculator_marks_provisional_and_calendar_months(client, staff_user):
    client.force_login(staff_user)
    body = client.get("/calendar/?start=2026-12-30&amount=3&unit=workdays").content.decode()
    assert "2027年1月5日" in body  # 12-31, (元旦 off), 01-04, 01-05
    assert 'class="badge badge--provisional"' in body
    body = client.get("/calendar/?start=2026-11-30&amount=3&unit=months").content.decode()
    assert "2027年2月28日" in body


def test_calculator_rejects_bad_input_in_chinese(client, staff_user):
    client.force_login(staff_user)
    body = client.get("/calendar/?start=2026-02-30&amount=-2&unit=workdays").content.decode()
    assert "日期格式应为 2026-09-30。" in body
    assert "期限不能为负数。" in body


# --- admin -----------------------------------------------------------------


def test_dashboard_warns_when_next_year_is_not_covered(client, admin_user_role, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: datetime.date(2026, 11, 26))
    client.force_login(admin_user_role)
    body = client.get("/admin/").content.decode()
    assert "工作日历尚未覆盖2027年" in body
    assert "录入放假通知" in body

    HolidayNotice.objects.create(year=2027, title="2027年放假通知")
    body = client.get("/admin/").content.decode()
    assert "工作日历尚未覆盖" not in body


def test_archivist_cannot_edit_calendar(client, archivist_user):
    client.force_login(archivist_user)
    response = client.get("/admin/snippets/workdays/dayoverride/add/")
    assert response.status_code in (302, 403)
    response = client.post(
        "/admin/snippets/workdays/dayoverride/add/",
        {"date": "2026-12-01", "kind": DayKind.HOLIDAY, "name": "县庆"},
    )
    assert not DayOverride.objects.exists()


def test_model_permission_is_enough(client, archivist_user):
    archivist_user.user_permissions.add(
        Permission.objects.get(content_type__app_label="workdays", codename="add_dayoverride")
    )
    client.force_login(archivist_user)
    response = client.post(
        "/admin/snippets/workdays/dayoverride/add/",
        {"date": "2026-12-01", "kind": DayKind.HOLIDAY, "name": "县庆"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert DayOverride.objects.get().name == "县庆"


def test_staff_role_enters_overrides(client, staff_user):
    """Staff enter next year's holiday notice (domain.md §9): their role holds the rights."""
    client.force_login(staff_user)
    response = client.post(
        "/admin/snippets/workdays/dayoverride/add/",
        {"date": "2026-12-02", "kind": DayKind.HOLIDAY, "name": "县庆"},
    )
    assert response.status_code == 302
    assert DayOverride.objects.get().name == "县庆"


def test_settings_permission_enters_a_notice_with_dates(client, admin_user_role):
    from cms.workdays import is_provisional, is_workday

    client.force_login(admin_user_role)
    data = {
        "year": "2027",
        "title": "国务院办公厅关于2027年部分节假日安排的通知",
        "reference": "",
        "published_on": "2026-11-20",
        "note": "",
        "overrides-TOTAL_FORMS": "2",
        "overrides-INITIAL_FORMS": "0",
        "overrides-MIN_NUM_FORMS": "0",
        "overrides-MAX_NUM_FORMS": "1000",
        "overrides-0-date": "2027-01-01",
        "overrides-0-kind": DayKind.HOLIDAY,
        "overrides-0-name": "元旦",
        "overrides-0-id": "",
        "overrides-0-ORDER": "1",
        "overrides-0-DELETE": "",
        "overrides-1-date": "2027-02-20",
        "overrides-1-kind": DayKind.WORKDAY,
        "overrides-1-name": "春节",
        "overrides-1-id": "",
        "overrides-1-ORDER": "2",
        "overrides-1-DELETE": "",
    }
    response = client.post("/admin/snippets/workdays/holidaynotice/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    notice = HolidayNotice.objects.get()
    assert notice.entered_by == admin_user_role
    assert notice.overrides.count() == 2
    assert not is_provisional(datetime.date(2027, 6, 1))
    assert not is_workday(datetime.date(2027, 1, 1))
    assert is_workday(datetime.date(2027, 2, 20))  # a Saturday, 调休上班


def test_notice_date_outside_its_year_is_refused(client, admin_user_role):
    client.force_login(admin_user_role)
    data = {
        "year": "2027",
        "title": "2027年放假通知",
        "overrides-TOTAL_FORMS": "1",
        "overrides-INITIAL_FORMS": "0",
        "overrides-MIN_NUM_FORMS": "0",
        "overrides-MAX_NUM_FORMS": "1000",
        "overrides-0-date": "2028-01-01",
        "overrides-0-kind": DayKind.HOLIDAY,
        "overrides-0-name": "元旦",
        "overrides-0-id": "",
        "overrides-0-ORDER": "1",
        "overrides-0-DELETE": "",
    }
    response = client.post("/admin/snippets/workdays/holidaynotice/add/", data)
    assert response.status_code == 200
    assert "不在所属通知的年度" in response.content.decode()
    assert not HolidayNotice.objects.exists()


def test_admin_listings_render(client, admin_user_role):
    notice = HolidayNotice.objects.create(year=2027, title="2027年放假通知")
    DayOverride.objects.create(date=datetime.date(2027, 1, 1), kind=DayKind.HOLIDAY, notice=notice)
    client.force_login(admin_user_role)
    body = client.get("/admin/snippets/workdays/holidaynotice/").content.decode()
    assert "2027年放假通知" in body
    body = client.get("/admin/snippets/workdays/dayoverride/").content.decode()
    assert "2027-01-01" in body or "2027年1月1日" in body


def test_policy_lists_settings_editors_and_model_permission_holders(
    admin_user_role, staff_user, deputy_user
):
    from cms.workdays.wagtail_hooks import CalendarPermissionPolicy

    policy = CalendarPermissionPolicy(DayOverride)
    staff_user.user_permissions.add(
        Permission.objects.get(content_type__app_label="workdays", codename="change_dayoverride")
    )
    users = set(policy.users_with_any_permission(["change"]))
    assert admin_user_role in users and staff_user in users
    assert deputy_user not in users
    assert not policy.user_has_permission(deputy_user, "change")

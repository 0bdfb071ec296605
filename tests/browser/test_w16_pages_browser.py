"""Issue 16: the pages changed for parts 2, 3, 6 and 8, opened in chromium by a staff
member (screenshots under $SCREENSHOT_DIR when set, else the test's tmp_path)."""

import os
from pathlib import Path

import pytest
from django.core.management import call_command

from cms import roles

from .fixtures import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_sees_the_new_instance_export_drafts_and_calendar(page, make_user, tmp_path):
    from briefings.drafting import create_draft
    from briefings.models import MaterialType
    from briefings.services import plan_year
    from budget.importing import import_file
    from tests.budget.exports import export_xlsx

    call_command("compile_translations")
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    staff = make_user(roles.STAFF, username="staff1", display_name="王工作")
    assert import_file(export_xlsx(), "2026年1-9月一般公共预算支出执行情况表.xlsx").ok
    from briefings.defaults import ensure_defaults

    ensure_defaults()  # a transactional test starts from an emptied database
    quarterly = MaterialType.objects.get(code="quarterly-briefing")
    plan_year(2026, [quarterly])
    create_draft(staff, quarterly, 2026, 4)
    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, staff.username, staff.test_password)

    page.goto("/budget/execution/")
    assert page.input_value("input[name=year]") == "2026"
    assert page.input_value("input[name=month]") == "9"
    assert "一般公共服务支出" in page.inner_text("main")
    page.screenshot(path=str(shots / "budget-execution.png"), full_page=True)

    page.goto("/briefings/schedule/?state=all&year=2026")
    assert "数据截至9月" in page.inner_text("main")
    page.screenshot(path=str(shots / "schedule.png"), full_page=True)

    page.goto("/calendar/?start=2026-12-31&amount=15&unit=workdays")
    assert "2027年1月22日" in page.inner_text("main")
    page.screenshot(path=str(shots / "calendar.png"), full_page=True)

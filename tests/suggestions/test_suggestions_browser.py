"""The whole path in a real browser: staff register and assign a suggestion, the unit's
liaison answers it, the deputy reads the answer in 我的建议 and evaluates it, and the
statistics page changes accordingly (办复率, 满意率)."""

import datetime

import pytest

from budget.models import Department
from cms import roles
from suggestions import services
from suggestions.models import Category, Deputy, Session, Suggestion
from tests.browser.fixtures import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "关于增设城关镇农贸市场公共停车场的建议"


def _rate(page, card_id):
    return page.inner_text(f"#{card_id} .rate-card__value").strip()


def _switch(page, user):
    page.context.clear_cookies()
    login(page, user.username, user.test_password)


def test_register_assign_answer_evaluate_and_statistics(page, site_tree, make_user):
    staff = make_user(roles.STAFF, username="office_staff", display_name="王芳")
    liaison = make_user(roles.LIAISON, username="market_liaison", display_name="陈刚")
    deputy_user = make_user(roles.DEPUTY, username="deputy_zhang", display_name="张建国")
    unit = Department.objects.create(code="032", name="县城市管理综合执法局")
    unit.liaisons.add(liaison)
    term = services.setup_term(18, start_date=datetime.date(2022, 1, 1))
    session = Session.objects.create(term=term, number=5, start_date=datetime.date(2026, 1, 10))
    deputy = Deputy.objects.create(
        name="张建国", delegation="城关镇代表团", user=deputy_user, phone="13700001111",
        address="城关镇南门街9号",
    )  # fmt: skip
    deputy.terms.add(term)
    # another item of the same unit, assigned and not yet answered: the baseline
    other = services.submit(
        staff, term=term, session=session, title="关于整治占道经营的建议", lead_deputy=deputy,
        category=Category.objects.get(term=term, name="城建环资"),
    )  # fmt: skip
    services.register(other, staff)
    services.assign(other, staff, lead_unit=unit)

    # --- statistics before: one assigned, nothing answered or evaluated
    login(page, staff.username, staff.test_password)
    page.goto(f"/suggestions/insights/stats/?term={term.pk}")
    assert _rate(page, "rate-answer") == "0.0%"
    assert _rate(page, "rate-satisfied") == "—"

    # --- staff record the suggestion, register it and assign it to the unit
    page.goto("/suggestions/new/")
    page.select_option("select[name=session]", str(session.pk))
    page.fill("input[name=title]", TITLE)
    page.fill(
        "textarea[name=content]",
        "农贸市场周边车辆乱停，早市时段交通拥堵，建议利用闲置地块建设停车场。",
    )
    page.select_option("select[name=category]", label=f"{term} · 城建环资")
    page.select_option("select[name=lead_deputy]", str(deputy.pk))
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "已登记提出" in page.inner_text("main")
    suggestion = Suggestion.objects.get(title=TITLE)
    page.click("form[action$='/step/register/'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.select_option("form[action$='/step/assign/'] select[name=lead_unit]", str(unit.pk))
    page.click("form[action$='/step/assign/'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "已交办" in page.inner_text("main")
    suggestion.refresh_from_db()
    assert suggestion.status == "assigned" and suggestion.lead_unit == unit

    # --- the liaison finds it in the department's list and answers
    _switch(page, liaison)
    page.goto("/suggestions/department/")
    page.click(f"text={TITLE}")
    page.wait_for_load_state("networkidle")
    form = "form.sugg-answer"
    page.select_option(f"{form} select[name=answer_class]", label="A类 已解决或基本解决")
    page.fill(f"{form} input[name=signed_by]", "李局长")
    page.fill(f"{form} textarea[name=summary]", "已在市场东侧闲置地块施划临时停车位一百二十个。")
    page.click(f"{form} button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "已书面答复" in page.inner_text("main")
    # the liaison has no business with the statistics
    response = page.goto("/suggestions/insights/stats/")
    assert response.status == 403

    # --- the deputy reads the answer in 我的建议 and evaluates it
    _switch(page, deputy_user)
    page.goto("/suggestions/mine/")
    assert TITLE in page.inner_text("main")
    page.click("a.sugg-todo")
    page.wait_for_load_state("networkidle")
    main = page.inner_text("main")
    assert "临时停车位一百二十个" in main and "李局长" in main
    # the detail page carries the related-material block (suggestions/related.py)
    related = page.inner_text("section.related-material")
    assert "相关材料" in related and "相关预算科目与单位" in related
    assert "县城市管理综合执法局" in related  # the lead unit's budget line
    page.check("form#evaluate input[name=result][value=satisfied]")
    page.click("form#evaluate button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "满意" in page.inner_text("main")
    suggestion.refresh_from_db()
    assert suggestion.status == "evaluated"

    # --- statistics after: 1 of 2 answered, the one evaluation 满意; the deputy sees the
    # aggregates (no names, no contact details), the staff the same numbers
    page.goto(f"/suggestions/insights/stats/?term={term.pk}")
    assert _rate(page, "rate-answer") == "50.0%"
    assert _rate(page, "rate-on-time") == "100.0%"
    assert _rate(page, "rate-satisfied") == "100.0%"
    html = page.content()
    assert (
        "13700001111" not in html
        and "南门街" not in html
        and "张建国" not in html.split("<main", 1)[1]
    )
    _switch(page, staff)
    page.goto(f"/suggestions/insights/stats/?term={term.pk}")
    assert _rate(page, "rate-answer") == "50.0%"
    assert _rate(page, "rate-fully-satisfied") == "100.0%"
    units_table = page.inner_text("#table-units")
    assert "县城市管理综合执法局" in units_table and "50.0%" in units_table
    assert "关于整治占道经营的建议" not in page.inner_text("#table-overdue")  # not yet due

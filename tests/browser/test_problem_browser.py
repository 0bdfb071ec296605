"""A problem found by hand (人工发现问题) in the browser, as a 工作人员: open the form, send it
empty (the browser's required fields, then the server's Chinese messages; nothing stored), fill
it (等级 重大, the figures cited, the query request it was found from), land on the alert page
with its due date and 来源查询, and draft the letter from it.

Driven by addresses and visible text, as test_supervision_flow.py."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from cms import roles

from .fixtures import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

URL = "/supervision/problems/new/"


def model(name):
    from django.apps import apps

    return next(m for m in apps.get_models() if m.__name__ == name)


@pytest.fixture
def staff(make_user):
    from budget.models import Department

    Department.objects.create(code="101", name="县财政局")
    Department.objects.create(code="036", name="县交通运输局")
    return make_user(roles.STAFF, username="analyst", display_name="李分析")


@pytest.fixture
def query(staff):
    from supervision import queries

    return queries.register(
        staff,
        requester_kind="committee",
        requester_name="财政经济委员会",
        subject="交通运输局项目资金执行情况",
        question="请查询县交通运输局公路建设项目资金的执行进度。",
        received_on=datetime.date.today(),
    )


def test_staff_record_a_problem_from_a_query_and_draft_its_letter(page, staff, query):
    from cms.workdays import add_workdays

    login(page, staff.username, staff.test_password)
    page.goto(f"/supervision/queries/{query.pk}/")
    page.click("text=登记发现的问题")
    expect(page.locator("h1")).to_have_text("登记人工发现的问题")
    source = page.locator("select[name=source_query]")
    expect(source).to_have_value(str(query.pk))  # chosen from the request's page

    # empty: the browser will not send it ...
    page.fill("input[name=year]", "")
    page.click("form.panel button[type=submit]")
    assert page.locator("input[name=title]").evaluate("e => e.validity.valueMissing")
    assert page.url.endswith(f"{URL}?query={query.pk}")
    # ... and a browser that sends it anyway gets the server's Chinese messages
    page.locator("form.panel").evaluate("f => { f.noValidate = true }")
    page.click("form.panel button[type=submit]")
    main = page.locator("main")
    expect(main).to_contain_text("请填写问题标题")
    expect(main).to_contain_text("请列出所引用的数据，每行一项“项目：数值”")
    expect(main).to_contain_text("请填写年度")
    assert not model("Alert").objects.exists()
    assert not query.events.filter(action="发现问题").exists()

    # a figure that is not a number is refused too, and what was typed stays
    page.fill("input[name=title]", "县交通运输局公路建设项目资金9月末执行率仅12%")
    page.fill("textarea[name=figures]", "执行率：很低")
    page.locator("form.panel").evaluate("f => { f.noValidate = true }")
    page.click("form.panel button[type=submit]")
    expect(main).to_contain_text("第1行“执行率”的数值“很低”不是数字")
    expect(page.locator("input[name=title]")).to_have_value(
        "县交通运输局公路建设项目资金9月末执行率仅12%"
    )
    assert not model("Alert").objects.exists()

    page.fill(
        "textarea[name=description]", "联网查询发现公路建设项目资金支出缓慢，部分项目尚未开工。"
    )
    page.fill(
        "textarea[name=figures]",
        "调整预算数（万元）：1,234.56\n累计执行数（万元）：148.15\n执行率：12%",
    )
    page.select_option("select[name=grade]", label="重大")
    page.fill("input[name=year]", str(datetime.date.today().year))
    page.fill("input[name=month]", "9")
    transport = model("Department").objects.get(code="036")
    page.select_option("select[name=department]", value=str(transport.pk))
    page.select_option("select[name=source_query]", value=str(query.pk))
    page.click("form.panel button[type=submit]")

    alert = model("Alert").objects.get()
    expect(page).to_have_url(re.compile(rf"/supervision/alerts/{alert.pk}/$"))
    due = add_workdays(datetime.date.today(), 10).as_date()
    expect(page.locator("ul.messages")).to_contain_text(
        f"问题已登记为重大预警，办理期限 {due:%Y-%m-%d}"
    )
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("重大")
    expect(facts).to_contain_text(f"{due:%Y-%m-%d}")
    expect(facts).to_contain_text(f"查询申请 {query.pk}：交通运输局项目资金执行情况")
    expect(page.locator("table.data").first).to_contain_text("1,234.56")

    # 来源查询 leads to the request, whose page lists the problem
    facts.locator("a", has_text="交通运输局项目资金执行情况").click()
    expect(page).to_have_url(re.compile(rf"/supervision/queries/{query.pk}/$"))
    expect(page.locator("main")).to_contain_text("查询分析中发现的问题")
    expect(page.locator("main")).to_contain_text(f"登记为重大预警 {alert.pk}")
    page.locator("main a", has_text="执行率仅12%").click()
    expect(page).to_have_url(re.compile(rf"/supervision/alerts/{alert.pk}/$"))

    # a 重大 problem becomes a letter to the county government
    page.click("section.alert-letters button:text-is('生成通报/函件')")
    expect(page.locator("ul.messages")).to_contain_text("草稿")
    body = page.locator("textarea[name=body]")
    expect(body).to_contain_text("查询分析中发现：县交通运输局公路建设项目资金9月末执行率仅12%")
    expect(body).to_contain_text("部分项目尚未开工")
    letter = model("Letter").objects.get()
    assert letter.alert == alert and letter.kind == "government"
    assert list(letter.figures) == ["调整预算数（万元）", "累计执行数（万元）", "执行率"]

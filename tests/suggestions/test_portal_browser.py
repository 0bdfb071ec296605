"""In a real browser: staff record, register and assign a suggestion; the finance bureau's
liaison answers with a document; the deputy reads the answer in 我的建议 and evaluates it."""

import pytest

from suggestions.choices import Status
from suggestions.models import Suggestion
from tests.browser.fixtures import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_register_assign_answer_evaluate(
    page, staff, session, category, deputies, units, finance_liaison, answer_a, tmp_path
):
    login(page, staff.username, staff.test_password)
    page.goto("/suggestions/new/")
    page.select_option("select[name=session]", str(session.pk))
    page.fill("input[name=title]", "关于整修甘庄街道农贸市场排水沟的建议")
    page.fill("textarea[name=content]", "雨季市场积水严重，商户和群众出行不便。")
    page.select_option("select[name=category]", str(category.pk))
    page.select_option("select[name=lead_deputy]", str(deputies["a"].pk))
    page.click("form.sugg-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "已登记提出，编号 18-5-001" in page.inner_text("main")
    page.fill("form[action$='/step/register/'] input[name=note]", "符合办理范围")
    page.click("form[action$='/step/register/'] button")
    page.wait_for_load_state("networkidle")
    page.select_option(
        "form[action$='/step/assign/'] select[name=lead_unit]", str(units["finance"].pk)
    )
    page.click("form[action$='/step/assign/'] button")
    page.wait_for_load_state("networkidle")
    main = page.inner_text("main")
    assert "已交办" in main and "县财政局" in main and "要求办结日期" in main

    page.context.clear_cookies()
    login(page, finance_liaison.username, finance_liaison.test_password)
    page.goto("/suggestions/department/")
    page.click("text=关于整修甘庄街道农贸市场排水沟的建议")
    page.wait_for_load_state("networkidle")
    reply = tmp_path / "答复函.pdf"
    reply.write_bytes(b"%PDF-1.4 answer of the finance bureau")
    form = "form[action$='/step/answer/']"
    page.select_option(f"{form} select[name=answer_class]", str(answer_a.pk))
    page.fill(f"{form} input[name=signed_by]", "李卫东")
    page.set_input_files(f"{form} input[name=document]", str(reply))
    page.fill(f"{form} textarea[name=summary]", "排水沟已于本月清淤并加盖。")
    page.click(f"{form} button")
    page.wait_for_load_state("networkidle")
    assert "已书面答复" in page.inner_text("main")

    page.context.clear_cookies()
    login(page, deputies["user_a"].username, deputies["user_a"].test_password)
    page.goto("/suggestions/mine/")
    page.click("text=请评价答复")
    page.wait_for_load_state("networkidle")
    main = page.inner_text("main")
    assert "排水沟已于本月清淤并加盖。" in main and "答复函.pdf" in main
    page.check("form#evaluate input[value=satisfied]")
    page.fill("form#evaluate textarea[name=comment]", "办理及时。")
    page.click("form#evaluate button")
    page.wait_for_load_state("networkidle")
    main = page.inner_text("main")
    assert "已评价" in main and "满意" in main
    s = Suggestion.objects.get()
    assert s.status == Status.EVALUATED
    assert list(s.events.values_list("action", flat=True)) == [
        "submit",
        "register",
        "assign",
        "answer",
        "evaluate",
    ]

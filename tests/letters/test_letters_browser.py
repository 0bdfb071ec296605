"""In a real browser: staff draft a letter from an alert, the office head signs it, staff send
it, the finance bureau's liaison records the receipt (签收) and uploads the signed answer."""

import pytest

from supervision.choices import AlertGrade
from supervision.letters.choices import LetterStatus
from supervision.letters.models import Letter, LetterAnswer
from tests.browser.fixtures import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_letter_from_alert_to_answer(
    page, make_alert, drafter, head, finance_liaison, tmp_path, settings
):
    settings.OFFICIALDOC_SOFFICE = "/nonexistent/soffice"  # DOCX only: keeps the live server quick
    alert = make_alert(AlertGrade.IMPORTANT)

    login(page, drafter.username, drafter.test_password)
    page.goto(f"/supervision/alerts/{alert.pk}/")
    page.click("text=生成通报/函件")
    page.wait_for_url("**/letters/*/edit/")
    page.fill("input[name=title]", "关于县财政局支出进度偏慢有关问题的函")
    page.click("text=保存草稿")
    page.wait_for_url("**/letters/*/")
    assert "草稿已保存" in page.inner_text("main")
    page.click("form:has(input[value=submit]) button")
    assert "已送审" in page.inner_text("main")
    assert page.locator("input[value=approve]").count() == 0
    page.click("text=退出")

    login(page, head.username, head.test_password)
    letter = Letter.objects.get()
    page.goto(f"/letters/{letter.pk}/")
    page.click("form:has(input[value=approve]) button")  # without the tick: refused, no change
    assert "请先勾选" in page.inner_text("main")
    letter.refresh_from_db()
    assert letter.status == LetterStatus.SUBMITTED
    page.check("form:has(input[value=approve]) input[name=confirm]")
    page.click("form:has(input[value=approve]) button")
    main = page.inner_text("main")
    letter.refresh_from_db()
    assert letter.status == LetterStatus.APPROVED
    assert f"已签发，发文字号 {letter.doc_number}" in main
    assert "下载 DOCX" in main  # rendered at 签发 (eager worker)
    page.click("text=退出")

    login(page, drafter.username, drafter.test_password)
    page.goto(f"/letters/{letter.pk}/")
    page.fill("input[name=via]", "机要交换")
    page.click("text=登记发出")
    assert "已登记发出，答复期限" in page.inner_text("main")
    page.click("text=退出")

    answer_file = tmp_path / "答复.txt"
    answer_file.write_text(
        "关于支出进度偏慢的说明：部分项目招标延后，已督促加快。", encoding="utf-8"
    )
    login(page, finance_liaison.username, finance_liaison.test_password)
    page.goto("/letters/")
    page.click(f"text={letter.title}")
    # the department signs for the letter; its answer clock starts that day
    assert "待签收" in page.inner_text("main")
    page.click("button:has-text('登记签收')")
    assert "已登记签收" in page.inner_text("main")
    letter.refresh_from_db()
    assert letter.received_on is not None and "自签收日起10个工作日" in page.inner_text("main")
    page.click("text=上传书面答复")
    page.set_input_files("input[name=file]", str(answer_file))
    page.fill("input[name=reference]", "财函〔2026〕12号")
    page.fill("input[name=signed_by]", "王德明")
    page.click("button:has-text('上传')")
    page.wait_for_url(f"**/letters/{letter.pk}/")
    main = page.inner_text("main")
    assert "书面答复已登记" in main and "部分项目招标延后" in main
    assert LetterAnswer.objects.get().uploaded_by == finance_liaison
    assert page.locator("input[value=close]").count() == 0

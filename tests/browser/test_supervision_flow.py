"""Issue 18 in the browser, as a 工作人员 who is also the office head (签发 of 通报):

1. debt: import a 债务限额余额 XLSX on the imports page → the near-limit rule raises an alert →
   draft a 通报 from it → 送审 → 签发 → 登记发出 → 登记签收 → 上传书面答复 (the signer is required);
2. audit: import an 审计查出问题 XLSX → report progress with evidence → 已整改 → download the
   整改情况报告 DOCX, open it with python-docx and find the finding in it.

Driven by addresses and visible text, not by the modules behind them (letters and alerts are
moving between apps)."""

import datetime
import io

import pytest
from playwright.sync_api import expect

from cms import roles

from .fixtures import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx(rows) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def import_through_page(page, kind_label, name, content):
    page.goto("/supervision/imports/")
    page.select_option("select[name=kind]", label=kind_label)
    page.set_input_files(
        "input[name=file]", files=[{"name": name, "mimeType": XLSX, "buffer": content}]
    )
    page.click("form.budget-upload button[type=submit]")
    expect(page.locator("ul.messages")).to_contain_text("导入成功")


def act(page, label, note="", confirm=False):
    form = page.locator("section.letter-actions form").filter(
        has=page.locator(f"button:text-is('{label}')")
    )
    if note:
        form.locator("input[name=note]").fill(note)
    if confirm:
        form.locator("input[name=confirm]").check()
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")


@pytest.fixture
def office_head(make_user):
    from budget.models import Department

    Department.objects.create(code="101", name="县财政局")
    user = make_user(roles.STAFF, username="office_head", display_name="张主任")
    model("LetterSigner").objects.create(user=user, capacity="office_head")
    return user


def model(name):
    """A model by its class name, wherever its app keeps it (alerts and letters moved)."""
    from django.apps import apps

    return next(m for m in apps.get_models() if m.__name__ == name)


def test_debt_import_alert_letter_to_answer(page, office_head):
    model("AlertRule").objects.create(
        name="政府债务余额接近限额（95%）",
        kind="debt_near_limit",
        threshold=95,
        grade="general",
        budget="general",
    )
    year = datetime.date.today().year
    login(page, office_head.username, office_head.test_password)
    positions = xlsx(
        [
            ["年度", "债务类型", "债务限额(万元)", "债务余额(万元)", "综合财力(万元)"],
            [year, "一般债务", "185000", "180000", "152300"],
            [year, "专项债务", "230000", "150000", ""],
        ]
    )
    import_through_page(page, "债务限额余额", "债务限额余额.xlsx", positions)
    expect(page.locator("main")).to_contain_text("债务限额余额")

    # the rule ran after the import: one alert, on 一般债务 (97.30% of its limit)
    page.goto("/supervision/alerts/")
    link = page.locator("main a", has_text="一般债务余额")
    expect(link).to_have_count(1)
    expect(link).to_contain_text("97.30%")
    link.click()
    page.click("section.alert-letters button:text-is('生成通报/函件')")
    expect(page.locator("ul.messages")).to_contain_text("草稿")
    expect(page.locator("textarea[name=body]")).to_contain_text("一般债务")
    letter_url = page.url.rsplit("edit/", 1)[0]

    page.goto(letter_url)
    act(page, "送审")
    act(page, "签发", confirm=True)
    expect(page.locator("main")).to_contain_text("〔")  # the 发文字号 taken at 签发
    send = page.locator(f"form[action$='{letter_url.split('/letters/')[1]}send/']")
    send.locator("input[name=via]").fill("机要交换")
    send.locator("button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("已发出")
    receive = page.locator("section.letter-actions form", has_text="登记签收")
    receive.locator("button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("签收")

    page.click("text=上传书面答复")
    page.set_input_files(
        "input[name=file]",
        files=[
            {
                "name": "关于债务情况的答复.txt",
                "mimeType": "text/plain",
                "buffer": "县财政局已制定化债方案，控制新增举债规模。".encode(),
            }
        ],
    )
    signer = page.locator("input[name=signed_by]")
    page.click("form.letter-form button[type=submit]")
    # the signer is required: the form is not sent without it
    assert signer.evaluate("e => e.validity.valueMissing")
    assert "/answer/" in page.url
    signer.fill("李局长")
    page.click("form.letter-form button[type=submit]")
    expect(page.locator("main")).to_contain_text("签字负责人：李局长")
    expect(page.locator("main")).to_contain_text("已答复")


def test_audit_finding_rectified_with_evidence_and_report(page, office_head):
    import docx

    year = datetime.date.today().year - 1
    login(page, office_head.username, office_head.test_password)
    findings = xlsx(
        [
            ["年度", "来源报告", "问题编号", "问题", "涉及金额(万元)", "责任单位", "整改要求",
             "整改方式", "整改期限"],
            [year, f"{year}年度县级预算执行审计工作报告", f"{year}-01",
             "超范围列支会议费用于职工福利", "12.80", "县财政局", "收回违规列支资金，上缴财政",
             "立行立改", f"{year + 1}-06-30"],
        ]
    )  # fmt: skip
    import_through_page(page, "审计查出问题", "审计查出问题.xlsx", findings)

    page.goto(f"/supervision/audit/?year={year}")
    page.click("main a:has-text('超范围列支会议费')")
    expect(page.locator("main")).to_contain_text("未整改")
    page.select_option("select[name=status]", label="已整改")
    page.fill("textarea[name=progress]", "已收回违规列支资金并上缴财政，完善了会议费审批制度。")
    page.fill("input[name=recovered_wan]", "12.80")
    page.set_input_files(
        "input[name=evidence]",
        files=[
            {
                "name": "缴款凭证.txt",
                "mimeType": "text/plain",
                "buffer": "非税收入一般缴款书：上缴违规列支会议费 128000.00 元。".encode(),
            }
        ],
    )
    page.click("main form button:text-is('提交')")
    expect(page.locator("ul.messages")).to_contain_text("整改情况已报告")
    expect(page.locator("main")).to_contain_text("已整改")
    expect(page.locator("main")).to_contain_text("缴款凭证.txt")

    page.goto(f"/supervision/audit/?year={year}")
    with page.expect_download() as download:
        page.click(f"text=起草{year}年度整改情况报告")
    report = docx.Document(download.value.path())
    text = "\n".join(p.text for p in report.paragraphs)
    text += "\n".join(c.text for t in report.tables for r in t.rows for c in r.cells)
    assert f"关于{year}年度审计查出问题整改情况的报告" in text
    assert "县财政局" in text
    assert "已整改" in text or "完成整改" in text

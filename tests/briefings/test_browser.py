"""The schedule → one-click draft → sign-off → read the issue → download the DOCX, in a browser."""

import io

import pytest
from docx import Document

from briefings.defaults import ensure_defaults
from briefings.models import BriefingPage, MaterialType
from briefings.services import ensure_workflow, plan_year
from budget.classification import load_subjects
from budget.importing import import_file
from cms import roles
from tests.browser.fixtures import login

from .conftest import FIGURE_ROWS, LONG_HEADER, csv_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_schedule_draft_sign_off_read_and_download(page, make_user, settings, tmp_path):
    settings.BRIEFINGS_RENDITION_RETRY_SECONDS = 0
    ensure_defaults()
    load_subjects(2025)
    load_subjects(2026)
    assert import_file(csv_bytes([LONG_HEADER, *FIGURE_ROWS]), "2026年1-9月.csv").ok
    staff = make_user(roles.STAFF, username="wangfang", display_name="王芳")
    head = make_user(roles.STAFF, username="liuqiang", display_name="刘强")
    deputy = make_user(roles.DEPUTY, username="zhang", display_name="张建国")
    ensure_workflow(head)
    quarterly = MaterialType.objects.get(code="quarterly-briefing")
    plan_year(2026, [quarterly])

    login(page, staff.username, staff.test_password)
    page.goto("/briefings/schedule/?state=all")
    row = page.locator("tr", has_text="2026年第三季度季度简报")
    assert (
        "已逾期" in row.inner_text()
        or "即将到期" in row.inner_text()
        or "未到期" in row.inner_text()
    )
    assert "暂定" in page.locator("tr", has_text="2026年第四季度季度简报").inner_text()
    row.get_by_role("button", name="从数据生成初稿").click()
    page.wait_for_load_state("networkidle")
    assert "/admin/pages/" in page.url and "/edit/" in page.url
    draft = BriefingPage.objects.get()
    assert not draft.live and "低于序时进度6.43个百分点" in str(draft.body)

    # the drafter submits, the head approves (the workflow publishes and numbers it)
    draft.get_workflow().start(draft, staff)
    draft.refresh_from_db()
    state = draft.current_workflow_task_state
    state.task.specific.on_action(state, head, "approve")
    draft.refresh_from_db()
    assert draft.live and draft.issue_number == 1

    login(page, deputy.username, deputy.test_password)
    page.goto(draft.url)
    assert "第1期" in page.inner_text("article")
    assert "低于序时进度6.43个百分点" in page.inner_text("article")
    link = page.locator("a.rendition-link--docx")
    assert link.count() == 1
    with page.expect_download() as info:
        link.click()
    path = tmp_path / "issue.docx"
    info.value.save_as(path)
    document = Document(io.BytesIO(path.read_bytes()))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "预算联网监督简报" and "第1期" in texts
    page.screenshot(path=str(tmp_path / "briefing.png"), full_page=True)

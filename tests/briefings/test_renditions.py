import io
import shutil

import pytest
from django.urls import reverse
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm

from briefings import officialdoc
from briefings.choices import RenditionKind, RenditionStatus
from briefings.models import BriefingRendition, RecipientGroup
from cms.notifications.models import Message

from .conftest import approve, make_briefing

pytestmark = pytest.mark.django_db

HAS_SOFFICE = bool(shutil.which("soffice") or shutil.which("libreoffice"))


@pytest.fixture
def published(workflow, quarterly, drafter, head, django_capture_on_commit_callbacks):
    page = make_briefing(quarterly, editor_note="本期重点关注支出进度。")
    page.recipient_groups.set([RecipientGroup.objects.get(name="县委财经委员会")])
    page.body = [
        ("heading", "总体情况"),
        ("paragraph", "<p>前三季度支出进度总体平稳。</p><p>部分单位进度偏慢。</p>"),
        (
            "table",
            {"title": "执行情况表", "headers": "科目 | 执行率", "rows": "201 | 65.00%", "note": ""},
        ),
    ]
    page.save_revision()
    with django_capture_on_commit_callbacks(execute=True):
        approve(page, drafter, head)
    page.refresh_from_db()
    return page


def _texts(document):
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            texts += [c.text for c in row.cells]
    return texts


def test_docx_on_publication_has_the_masthead_and_layout(published):
    rendition = BriefingRendition.objects.get(page=published, kind="docx")
    assert rendition.status == RenditionStatus.OK and len(rendition.sha256) == 64
    with rendition.file.open("rb") as handle:
        data = handle.read()
    assert len(data) == rendition.size
    document = Document(io.BytesIO(data))
    texts = _texts(document)
    assert texts[0] == "预算联网监督简报"
    assert "第1期" in texts
    assert any(t.startswith("县人大常委会预算工委\t") for t in texts)  # editor left, date right
    assert any("前三季度支出进度总体平稳" in t for t in texts)
    assert any("部分单位进度偏慢" in t for t in texts)
    assert "65.00%" in texts
    assert any(t.startswith("印送：县委财经委员会") for t in texts)
    section = document.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(1) and abs(section.page_height - Mm(297)) < Mm(1)
    assert abs(section.top_margin - Mm(37)) < Mm(1) and abs(section.left_margin - Mm(28)) < Mm(1)
    # the masthead is red and every run names its Chinese font in w:eastAsia
    masthead = document.paragraphs[0].runs[0]
    assert str(masthead.font.color.rgb) == "FF0000"
    fonts = {
        r._element.rPr.rFonts.get(qn("w:eastAsia"))
        for p in document.paragraphs
        for r in p.runs
        if r.text.strip()
    }
    assert None not in fonts and {"仿宋", "楷体"} <= fonts


@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) is not installed")
def test_pdf_rendition_when_libreoffice_exists(published):
    from policies.extraction import extract

    pdf = BriefingRendition.objects.get(page=published, kind="pdf", status="ok")
    with pdf.file.open("rb") as handle:
        data = handle.read()
    assert data.startswith(b"%PDF")
    text = extract(data, "b.pdf").text.replace(" ", "")
    assert "预算联网监督简报" in text and "第1期" in text


def test_failed_pdf_is_retried_reported_and_docx_kept(published, monkeypatch, settings):
    settings.BRIEFINGS_RENDITION_RETRY_SECONDS = 0
    calls = []

    def broken(data, timeout=120):
        calls.append(len(data))
        raise officialdoc.RenditionError("LibreOffice 转换失败（测试）")

    monkeypatch.setattr(officialdoc, "docx_to_pdf", broken)
    monkeypatch.setattr(officialdoc, "soffice_available", lambda: True)
    BriefingRendition.objects.filter(page=published).delete()
    from briefings.tasks import render_briefing

    render_briefing.delay(published.pk, published.live_revision_id)
    assert len(calls) == 3  # first try and two retries (BRIEFINGS_RENDITION_RETRIES)
    failed = BriefingRendition.objects.get(page=published, kind="pdf")
    assert failed.status == RenditionStatus.FAILED and "转换失败" in failed.error
    assert not failed.file and failed.attempts == 3  # nothing half-written
    assert BriefingRendition.objects.filter(page=published, kind="docx", status="ok").count() == 1
    assert Message.objects.filter(subject__startswith="简报文件生成失败").exists()


def test_missing_libreoffice_is_not_retried(published, monkeypatch):
    monkeypatch.setattr(officialdoc, "_soffice_binary", lambda: None)
    BriefingRendition.objects.filter(page=published).delete()
    from briefings.tasks import render_briefing

    render_briefing.delay(published.pk, published.live_revision_id)
    failed = BriefingRendition.objects.get(page=published, kind="pdf")
    assert "LibreOffice" in failed.error and failed.attempts == 1
    assert BriefingRendition.objects.get(page=published, kind="docx").status == "ok"


def test_approval_in_the_editor_queues_renditions_and_mail_for_after_the_response(
    client, workflow, quarterly, drafter, head, django_capture_on_commit_callbacks
):
    """The head's click publishes, numbers and writes the inbox rows; the DOCX/PDF and the
    e-mails wait for the commit and go to Celery (the worker, after the response):
    benchmarks/admin_actions.py times the request without them."""
    page = make_briefing(quarterly)
    group = RecipientGroup.objects.get(name="县委财经委员会")
    group.members.add(drafter)
    page.recipient_groups.set([group])
    page.save_revision()
    page.get_workflow().start(page, drafter)
    page.refresh_from_db()
    state = page.current_workflow_task_state
    client.force_login(head)
    url = reverse("wagtailadmin_pages:workflow_action", args=[page.pk, "approve", state.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url)
    assert response.status_code in (200, 302)
    page.refresh_from_db()
    assert page.live and page.issue_number == 1
    # during the request: nothing rendered, nothing mailed, the work is queued
    assert not BriefingRendition.objects.filter(page=page).exists()
    pushed = Message.objects.get(recipient=drafter, category="briefings", body__contains="已发布")
    assert pushed.emailed_at is None
    names = [getattr(c, "__qualname__", type(c).__qualname__) for c in callbacks]
    assert "on_published.<locals>._render" in names
    # after the commit (tests run Celery eagerly, as the worker would later)
    for callback in callbacks:
        callback()
    docx = BriefingRendition.objects.get(page=page, kind=RenditionKind.DOCX)
    assert docx.status == RenditionStatus.OK and docx.size > 0
    pushed.refresh_from_db()
    assert pushed.emailed_at is not None

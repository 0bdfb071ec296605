"""DOCX / PDF of a letter, produced by the Celery task; failures retried and reported."""

import io
import shutil

import pytest
from django.core.files.storage import default_storage
from docx import Document

from briefings import officialdoc as od
from cms.notifications.models import Message
from supervision.choices import AlertGrade
from supervision.letters import services
from supervision.letters.choices import RenditionStatus
from supervision.letters.tasks import render_letter

pytestmark = pytest.mark.django_db


def signed_letter(make_alert, drafter, signer, grade=AlertGrade.IMPORTANT):
    letter = services.create_from_alert(make_alert(grade), drafter)
    letter = services.act(letter, "submit", drafter)
    return services.act(letter, "approve", signer)


def rendition_files():
    try:
        return sorted(default_storage.listdir("letters/renditions")[1])
    except FileNotFoundError:
        return []


def test_docx_carries_doc_number_recipients_and_figures(make_alert, drafter, head, settings):
    settings.OFFICIALDOC_SOFFICE = "/nonexistent/soffice"  # DOCX only in this test
    letter = signed_letter(make_alert, drafter, head)
    assert render_letter.delay(letter.pk).get() == "done"
    letter.refresh_from_db()
    assert letter.rendition_status == RenditionStatus.DONE
    assert not letter.pdf_file and "未安装 LibreOffice" in letter.rendition_error
    document = Document(io.BytesIO(letter.docx_file.read()))
    texts = [p.text for p in document.paragraphs if p.text.strip()]
    assert texts[0] == settings.LETTERS_ISSUER  # red letterhead
    assert letter.doc_number in texts
    assert letter.title in texts
    assert "县财政局：" in texts
    table = document.tables[0]
    rows = [[c.text for c in row.cells] for row in table.rows]
    # PostgreSQL's jsonb does not keep key order: compare as a set
    assert rows[0] == ["项目", "数值"]
    assert sorted(rows[1:]) == [["累计执行（万元）", "780.00"], ["调整预算（万元）", "1,200.00"]]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice（soffice）未安装")
def test_pdf_rendition_when_libreoffice_is_present(make_alert, drafter, head, client):
    from pypdf import PdfReader

    letter = signed_letter(make_alert, drafter, head)
    render_letter.delay(letter.pk)
    letter.refresh_from_db()
    assert letter.rendition_status == RenditionStatus.DONE and letter.pdf_file
    text = "".join(PdfReader(io.BytesIO(letter.pdf_file.read())).pages[0].extract_text().split())
    assert letter.doc_number in text
    client.force_login(drafter)
    response = client.get(f"/letters/{letter.pk}/download/pdf/")
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")


def test_failed_conversion_is_retried_then_reported_and_no_file_is_left(
    make_alert, drafter, head, monkeypatch, settings
):
    settings.OFFICIALDOC_SOFFICE = shutil.which("true") or "/bin/true"
    calls = []

    def failing(data, timeout=120):
        calls.append(1)
        raise od.RenditionError("PDF 转换失败（LibreOffice 返回 1）。")

    monkeypatch.setattr(od, "docx_to_pdf", failing)
    letter = signed_letter(make_alert, drafter, head)
    before = rendition_files()
    render_letter.delay(letter.pk)
    letter.refresh_from_db()
    assert len(calls) == 3  # first try and two retries
    assert letter.rendition_status == RenditionStatus.FAILED
    assert "PDF 转换失败" in letter.rendition_error
    assert not letter.docx_file and not letter.pdf_file
    assert rendition_files() == before  # nothing half-written
    assert letter.events.filter(action="文档生成失败").exists()
    assert Message.objects.filter(
        recipient=drafter, subject__startswith="函件文档生成失败"
    ).exists()


def test_editing_a_draft_drops_its_renditions(
    make_alert, drafter, settings, django_capture_on_commit_callbacks
):
    settings.OFFICIALDOC_SOFFICE = "/nonexistent/soffice"
    letter = services.create_from_alert(make_alert(), drafter)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_rendition(letter, drafter)
    letter.refresh_from_db()
    name = letter.docx_file.name
    assert letter.rendition_status == RenditionStatus.DONE and default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        letter = services.update_draft(
            letter, drafter, title="新标题", recipients="县财政局", body="新正文"
        )
    assert not letter.docx_file and letter.rendition_status == ""
    assert not default_storage.exists(name)

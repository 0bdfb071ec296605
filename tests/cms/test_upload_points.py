"""Every upload point goes through cms.uploads: found by reading the code, then each tried
with an .exe renamed to a type it accepts."""

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cms import uploads

ROOT = Path(__file__).resolve().parents[2]
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
APPS = ["archive", "briefings", "budget", "cms", "policies", "search", "suggestions", "supervision"]

#: module with an upload (request.FILES or a forms.FileField) → the call that checks it
UPLOAD_POINTS = {
    "supervision/letters/views.py": ("supervision/letters/services.py", 'check_upload(filename, data, "letter_answer")'),
    "briefings/views.py": ("briefings/uploads.py", 'check_upload(name, data, "material")'),
    "budget/views.py": ("budget/views.py", 'checked_clean("spreadsheet")'),
    "policies/admin_views.py": ("policies/ingest.py", 'check_upload(name, data, "policy")'),
    "suggestions/forms.py": ("suggestions/forms.py", 'checked_clean("spreadsheet")'),
    "suggestions/portal_views.py": ("suggestions/portal_views.py", 'checked_clean("spreadsheet")'),
    "suggestions/opinions/views.py": ("suggestions/opinions/views.py", 'checked_clean("spreadsheet")'),
    "supervision/views.py": ("supervision/audit.py", 'check_uploaded_file(uploaded, "material")'),
    "supervision/query_views.py": ("supervision/queries.py", "check_uploaded_file(upload, ANSWER_UPLOAD_PURPOSE)"),
    "suggestions/views.py": ("suggestions/services.py", 'check_upload(name, data, "suggestion")'),
}  # fmt: skip


def upload_modules() -> set[str]:
    found = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text("utf-8")
            if re.search(r"request\.FILES|forms\.FileField\(", text):
                found.add(str(path.relative_to(ROOT)))
    return found


def test_every_upload_point_is_known_and_calls_the_shared_check():
    assert upload_modules() == set(UPLOAD_POINTS), "a new upload point must use cms.uploads"
    for checker, call in UPLOAD_POINTS.values():
        assert call in (ROOT / checker).read_text("utf-8"), (checker, call)
    # the admin's documents (Wagtail) use the checked form
    from django.conf import settings

    assert settings.WAGTAILDOCS_DOCUMENT_FORM_BASE == "cms.document_forms.CheckedDocumentForm"


@pytest.mark.parametrize("purpose", sorted(uploads.PURPOSES))
def test_renamed_exe_is_refused_for_every_purpose(purpose):
    for ext in sorted(uploads.PURPOSES[purpose].extensions):
        with pytest.raises(uploads.UploadRefused) as info:
            uploads.check_upload(f"文件.{ext}", EXE, purpose)
        assert "Windows 可执行程序" in info.value.messages[0]


@pytest.mark.parametrize(
    "name,data,purpose,kind",
    [
        ("a.pdf", b"%PDF-1.7\n...", "suggestion", "pdf"),
        ("a.txt", "预算执行".encode("gb18030"), "letter_answer", "text"),
        ("a.md", "# 标题".encode(), "policy", "text"),
        ("a.png", b"\x89PNG\r\n\x1a\n....", "suggestion", "png"),
        ("a.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1....", "suggestion", "ole"),
    ],
)
def test_real_files_pass(name, data, purpose, kind):
    assert uploads.check_upload(name, data, purpose) == kind


def test_refusals_say_why_in_chinese(settings):
    with pytest.raises(uploads.UploadRefused, match="不支持的文件类型"):
        uploads.check_upload("a.exe", EXE, "suggestion")
    with pytest.raises(uploads.UploadRefused, match="文件为空"):
        uploads.check_upload("a.pdf", b"", "suggestion")
    settings.SUGGESTIONS_ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(uploads.UploadRefused, match="过大"):
        uploads.check_upload("a.pdf", b"%PDF-1.4 0123456789", "suggestion")
    with pytest.raises(uploads.UploadRefused, match="网页"):
        uploads.check_upload("a.txt", b"<html><script>alert(1)</script>", "material")


@pytest.mark.django_db
def test_spreadsheet_forms_and_admin_documents_refuse_the_exe():
    from wagtail.documents import get_document_model
    from wagtail.documents.forms import get_document_form

    from budget.views import ImportForm as BudgetImportForm
    from suggestions.forms import ImportForm as SuggestionImportForm
    from suggestions.opinions.views import ImportForm as OpinionImportForm

    for form_class in (BudgetImportForm, SuggestionImportForm, OpinionImportForm):
        form = form_class({}, {"file": SimpleUploadedFile("表.xlsx", EXE)})
        assert not form.is_valid()
        assert "Windows 可执行程序" in " ".join(form.errors["file"])
    document_form = get_document_form(get_document_model())
    form = document_form(
        {"title": "程序"}, {"file": SimpleUploadedFile("说明.pdf", EXE)}, user=None
    )
    assert not form.is_valid()
    assert "Windows 可执行程序" in " ".join(form.errors["file"])


@pytest.mark.django_db
def test_policy_upload_refuses_the_exe_and_stores_nothing():
    from policies.choices import IngestStatus
    from policies.ingest import receive_upload

    (record,) = receive_upload("通知.pdf", EXE, enqueue=False)
    assert record.status == IngestStatus.ERROR
    assert "Windows 可执行程序" in record.message
    assert not record.file and not record.sha256

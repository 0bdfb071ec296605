import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from briefings.models import DepartmentUpload, MaterialType, ScheduledItem
from briefings.searchables import uploads_for
from briefings.services import plan_year
from briefings.uploads import upload_material
from cms import roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushed(departments):
    analysis = MaterialType.objects.get(code="finance-quarterly-analysis")
    analysis.responsible_department = departments["finance"]
    analysis.save()
    audit = MaterialType.objects.get(code="audit-quarterly-report")
    audit.responsible_department = departments["education"]  # another unit in the fixture
    audit.save()
    plan_year(2026, [analysis, audit])
    return {
        "finance": ScheduledItem.objects.get(material_type=analysis, period=1),
        "finance_q4": ScheduledItem.objects.get(material_type=analysis, period=4),
        "other": ScheduledItem.objects.get(material_type=audit, period=1),
    }


@pytest.fixture
def finance_liaison(make_user, departments):
    user = make_user(roles.LIAISON, username="finliaison")
    departments["finance"].liaisons.add(user)
    return user


def txt(name="季度分析.txt", text="一季度一般公共预算支出进度偏慢，土地出让收入下降。"):
    return SimpleUploadedFile(name, text.encode("utf-8"))


def docx_bytes(text):
    from docx import Document

    document = Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_liaison_uploads_own_department_and_late_is_marked(pushed, finance_liaison):
    item = pushed["finance"]  # due 2026-04-22, long past
    upload = upload_material(finance_liaison, item, txt())
    assert upload.is_late and upload.department == item.material_type.responsible_department
    assert "土地出让收入下降" in upload.text and len(upload.sha256) == 64
    item.refresh_from_db()
    assert item.status == "done" and item.is_late
    # an upload before the due date is on time
    on_time = upload_material(
        finance_liaison, pushed["finance_q4"],
        SimpleUploadedFile("四季度.docx", docx_bytes("四季度执行分析")),
    )  # fmt: skip
    assert not on_time.is_late and "四季度执行分析" in on_time.text
    assert on_time.item.due_date > timezone.localdate()


def test_liaison_cannot_upload_for_another_department(pushed, finance_liaison):
    with pytest.raises(PermissionDenied):
        upload_material(finance_liaison, pushed["other"], txt())
    assert not DepartmentUpload.objects.exists()


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("空.txt", b"", "文件为空"),
        ("坏.docx", b"PK\x03\x04 not really a zip", "无法读取"),
        ("旧.doc", b"\xd0\xcf\x11\xe0 old word", ".docx"),
        ("程序.pdf", b"MZ\x90\x00" + b"\x00" * 60, "Windows 可执行程序"),  # renamed .exe
    ],
)
def test_bad_files_are_refused_and_nothing_stored(pushed, finance_liaison, name, data, message):
    with pytest.raises(ValidationError) as info:
        upload_material(finance_liaison, pushed["finance"], SimpleUploadedFile(name, data))
    assert message in " ".join(info.value.messages)
    assert not DepartmentUpload.objects.exists()
    pushed["finance"].refresh_from_db()
    assert pushed["finance"].status == "open"


def test_who_sees_uploads(pushed, finance_liaison, make_user, deputy_user, departments):
    upload = upload_material(finance_liaison, pushed["finance"], txt())
    other_liaison = make_user(roles.LIAISON, username="eduliaison")
    departments["education"].liaisons.add(other_liaison)
    archivist = make_user(roles.ARCHIVIST, username="arch")
    assert list(uploads_for(finance_liaison)) == [upload]
    assert list(uploads_for(deputy_user)) == [upload]
    assert list(uploads_for(archivist)) == [upload]
    assert list(uploads_for(other_liaison)) == []


def test_upload_views(client, pushed, finance_liaison, make_user, departments):
    client.force_login(finance_liaison)
    page = client.get("/briefings/uploads/")
    html = page.content.decode()
    assert page.status_code == 200 and pushed["finance"].title in html
    assert pushed["other"].title not in html
    response = client.post(
        "/briefings/uploads/", {"item": pushed["finance"].pk, "title": "", "file": txt()}
    )
    assert response.status_code == 302
    upload = DepartmentUpload.objects.get()
    assert client.get(f"/briefings/uploads/{upload.pk}/").status_code == 200
    download = client.get(f"/briefings/uploads/{upload.pk}/?download=1")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(
        "一季度".encode()
    )
    # another department's item is refused, a bad file is explained
    refused = client.post("/briefings/uploads/", {"item": pushed["other"].pk, "file": txt()})
    assert refused.status_code == 403
    bad = client.post(
        "/briefings/uploads/",
        {"item": pushed["finance_q4"].pk, "file": SimpleUploadedFile("x.exe", b"MZ")},
    )
    assert bad.status_code == 200 and "不支持的文件类型" in bad.content.decode()
    assert DepartmentUpload.objects.count() == 1
    # another department's liaison may not open it
    other = make_user(roles.LIAISON, username="eduliaison2")
    departments["education"].liaisons.add(other)
    client.force_login(other)
    assert client.get(f"/briefings/uploads/{upload.pk}/").status_code == 403


def test_upload_is_found_by_search(
    pushed, finance_liaison, deputy_user, make_user, departments, settings, tmp_path,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    from modelsearch.backends import get_search_backend

    from search.registry import run_search

    settings.WAGTAILSEARCH_BACKENDS = {
        "default": {"BACKEND": "search.backend", "PATH": str(tmp_path / "index")}
    }
    backend = get_search_backend()
    backend.reset_indexes()
    with django_capture_on_commit_callbacks(execute=True):
        upload_material(finance_liaison, pushed["finance"], txt())
    backend.refresh_indexes()
    other = make_user(roles.LIAISON, username="eduliaison3")
    departments["education"].liaisons.add(other)
    found = run_search(deputy_user, "土地出让收入")
    assert any(isinstance(h.obj, DepartmentUpload) for h in found.hits)
    assert any(
        isinstance(h.obj, DepartmentUpload)
        for h in run_search(finance_liaison, "土地出让收入").hits
    )
    hidden = run_search(other, "土地出让收入")
    assert not any(isinstance(h.obj, DepartmentUpload) for h in hidden.hits)

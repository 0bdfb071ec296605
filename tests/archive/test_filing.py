import hashlib
import io
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from pypdf import PdfReader

from archive import services
from archive.models import (
    ArchiveFile,
    ArchiveItem,
    FileRole,
    FilingEvent,
    FrozenItemError,
    ItemStatus,
)
from archive.sources import unfiled_candidates
from policies import ingest
from policies.models import PolicyPage
from tests.policies.files import SAMPLE_NOTICE, make_pdf

pytestmark = pytest.mark.django_db


def package(item):
    return services.archive_root() / item.item_number


def test_export_registration_is_filed_with_number_stamp_and_digests(
    file_now, archivist_user, export_registration
):
    item = file_now("usage.exportregistration", export_registration.pk, archivist_user)
    item.refresh_from_db()
    year = timezone.localtime(export_registration.created_at).year
    assert item.status == ItemStatus.FILED, item.status_message
    assert item.item_number == f"J001-WS·{year}-D10-YSGW-0001"
    assert item.retention == "D10" and item.class_code == "YSGW" and item.page_count >= 1
    root = package(item)
    reader = PdfReader(root / "rendition.pdf")
    first = reader.pages[0].extract_text()
    for text in ("全宗号", "J001", str(year), "0001", "YSGW", "D10", "页数"):
        assert text in first
    assert "准备预算初审发言材料" in "".join(p.extract_text() for p in reader.pages)
    meta = json.loads((root / "metadata.json").read_text(encoding="utf-8"))
    assert meta["档号"] == item.item_number and meta["页数"] == item.page_count
    rendition = ArchiveFile.objects.get(item=item, role=FileRole.RENDITION)
    data = (root / "rendition.pdf").read_bytes()
    assert rendition.sha256 == hashlib.sha256(data).hexdigest()
    if services.sm3_available():
        assert rendition.sm3 == hashlib.new("sm3", data).hexdigest()
    assert {f.name for f in item.files.all()} == {"rendition.pdf", "metadata.json", "digests.txt"}
    digests_text = (root / "digests.txt").read_text(encoding="utf-8")
    assert rendition.sha256 in digests_text and "metadata.json" in digests_text
    assert list(item.events.values_list("action", flat=True)) == ["登记归档", "生成归档文件"]


def test_filed_item_is_frozen_and_cannot_be_filed_twice(
    file_now, archivist_user, export_registration
):
    item = file_now("usage.exportregistration", export_registration.pk, archivist_user)
    item.refresh_from_db()
    item.title = "改过的题名"
    with pytest.raises(FrozenItemError):
        item.save()
    with pytest.raises(FrozenItemError):
        item.delete()
    with pytest.raises(FrozenItemError):
        ArchiveItem.objects.all().delete()
    with pytest.raises(FrozenItemError):
        ArchiveItem.objects.update(title="x")
    with pytest.raises(services.FilingError, match="已归档"):
        file_now("usage.exportregistration", export_registration.pk, archivist_user)
    assert ArchiveItem.objects.get().title != "改过的题名"


def test_correction_is_a_new_item_pointing_to_the_old(
    file_now, archivist_user, export_registration
):
    old = file_now("usage.exportregistration", export_registration.pk, archivist_user)
    old.refresh_from_db()
    new = file_now(
        "usage.exportregistration",
        export_registration.pk,
        archivist_user,
        corrects=old,
        remarks="用途填写有误",
    )
    new.refresh_from_db()
    assert new.corrects == old and new.sequence == old.sequence + 1
    assert new.remarks.startswith(f"更正 {old.item_number}")
    assert new.is_filed and old.is_filed
    assert not [c for c in unfiled_candidates(["usage.exportregistration"])]


def test_only_file_records_may_file(file_now, staff_user, deputy_user, export_registration):
    for user in (staff_user, deputy_user, None):
        with pytest.raises(PermissionDenied):
            file_now("usage.exportregistration", export_registration.pk, user)
    assert not ArchiveItem.objects.exists()


def test_missing_soffice_files_nothing(file_now, archivist_user, export_registration, settings):
    settings.ARCHIVE_SOFFICE = "no-such-soffice-binary"
    root = services.archive_root()
    before = set(root.iterdir()) if root.exists() else set()
    with pytest.raises(services.FilingError, match="LibreOffice"):
        file_now("usage.exportregistration", export_registration.pk, archivist_user)
    assert not ArchiveItem.objects.exists()
    assert (set(root.iterdir()) if root.exists() else set()) == before


def test_pdf_original_is_stamped_on_its_own_first_page(file_now, archivist_user):
    pdf = make_pdf([["关于印发预算管理办法的通知", "第一条 为了规范预算管理。"], ["第二页内容"]])
    (record,) = ingest.import_path_data("办法.pdf", pdf, publish=True)
    page = PolicyPage.objects.get(pk=record.page_id)
    item = file_now("policies.policypage", page.pk, archivist_user)
    item.refresh_from_db()
    assert item.status == ItemStatus.FILED, item.status_message
    assert item.page_count == 2 and item.record_type == "policy" and item.retention == "D30"
    root = package(item)
    assert (root / "originals" / "办法.pdf").read_bytes() == pdf
    reader = PdfReader(root / "rendition.pdf")
    assert len(reader.pages) == 2
    first = reader.pages[0].extract_text()
    assert "第一条" in first and "全宗号" in first and "YSGW" in first
    assert "全宗号" not in reader.pages[1].extract_text()
    original = ArchiveFile.objects.get(item=item, role=FileRole.ORIGINAL)
    assert original.sha256 == hashlib.sha256(pdf).hexdigest()


def test_text_policy_and_failed_rendition_keeps_number_and_can_be_retried(
    file_now, django_capture_on_commit_callbacks, archivist_user, settings, monkeypatch
):
    (record,) = ingest.import_path_data("notice.txt", SAMPLE_NOTICE.encode(), publish=True)
    from archive import rendition

    def broken(documents):
        raise rendition.RenditionError("LibreOffice 未能转换（测试）")

    monkeypatch.setattr(rendition, "convert_to_pdf", broken)
    item = file_now("policies.policypage", record.page_id, archivist_user)
    item.refresh_from_db()
    assert item.status == ItemStatus.FAILED and "测试" in item.status_message
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_item(item, archivist_user)
    item.refresh_from_db()
    assert item.status == ItemStatus.FILED and item.sequence == 1
    actions = list(FilingEvent.objects.filter(item=item).values_list("action", flat=True))
    assert actions == ["登记归档", "生成失败", "重新生成", "生成归档文件"]
    text = "".join(
        p.extract_text()
        for p in PdfReader(io.BytesIO((package(item) / "rendition.pdf").read_bytes())).pages
    )
    assert "全宗号" in text


def test_subject_scheme_uses_subject_codes_never_organisation(
    file_now, archivist_user, export_registration, settings
):
    settings.ARCHIVE_CLASS_SCHEME = "subject"
    with pytest.raises(services.FilingError, match="按问题分类"):
        file_now(
            "usage.exportregistration", export_registration.pk, archivist_user, class_code="YSGW"
        )
    item = file_now(
        "usage.exportregistration", export_registration.pk, archivist_user, class_code="XTGL"
    )
    assert item.item_number.endswith("-D10-XTGL-0001") and item.class_kind == "subject"


def test_lost_task_is_resubmitted_and_a_second_run_changes_nothing(
    archivist_user, export_registration, django_capture_on_commit_callbacks
):
    item = services.register_item(
        "usage.exportregistration", export_registration.pk, archivist_user, enqueue=False
    )
    assert item.status == ItemStatus.RENDERING  # as if the worker had died
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_item(item, archivist_user)
    item.refresh_from_db()
    assert item.is_filed
    before = (package(item) / "rendition.pdf").read_bytes()
    assert services.build_packages([item.pk]) == {}
    assert (package(item) / "rendition.pdf").read_bytes() == before
    assert item.files.count() == 3
    with pytest.raises(services.FilingError, match="已完成归档"):
        services.retry_item(item, archivist_user)
    actions = list(item.events.values_list("action", flat=True))
    assert actions == ["登记归档", "重新提交生成任务", "生成归档文件"]

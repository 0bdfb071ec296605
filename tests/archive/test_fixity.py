import pytest
from django.core.management import CommandError, call_command

from archive import services
from archive.fixity import verify_all
from archive.models import FixityReport
from archive.tasks import verify_fixity
from cms.notifications.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def filed(file_now, archivist_user, export_registration):
    return file_now("usage.exportregistration", export_registration.pk, archivist_user)


def test_intact_archive_passes_and_the_report_is_kept(filed, capsys):
    call_command("archive_verify")
    report = FixityReport.objects.get()
    assert report.ok and report.files_checked == 3 and report.trigger == "命令行核验"


def test_altered_file_is_detected_and_archivists_are_told(filed, archivist_user, staff_user):
    path = services.archive_root() / filed.item_number / "rendition.pdf"
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF
    path.write_bytes(bytes(data))
    verify_fixity.delay()  # the weekly beat task (eager in tests)
    report = FixityReport.objects.get()
    assert not report.ok and report.missing == []
    assert [e["file"] for e in report.altered] == [f"{filed.item_number}/rendition.pdf"]
    assert Message.objects.filter(recipient=archivist_user, subject__contains="完整性").exists()
    assert not Message.objects.filter(recipient=staff_user, subject__contains="完整性").exists()


def test_deleted_file_is_reported_missing(filed):
    (services.archive_root() / filed.item_number / "metadata.json").unlink()
    with pytest.raises(CommandError, match="缺失 1 个"):
        call_command("archive_verify", "--no-notify")
    report = FixityReport.objects.get()
    assert report.missing[0]["file"] == f"{filed.item_number}/metadata.json"
    assert report.altered == []
    assert not verify_all(notify_on_problem=False).ok  # still missing next time

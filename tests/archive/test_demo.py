import io

import pytest

from archive.demo import load_demo
from archive.models import ArchiveItem
from cms.demo import create_demo_accounts

pytestmark = pytest.mark.django_db


def test_demo_files_a_set_once_and_is_idempotent():
    create_demo_accounts()
    out = io.StringIO()
    load_demo(out)
    filed = ArchiveItem.objects.filed()
    kinds = set(filed.values_list("source_key", flat=True))
    assert {"usage.exportregistration", "usage.month"} <= kinds
    count = filed.count()
    assert count >= 5 and not ArchiveItem.objects.exclude(status="filed").exists()
    assert "立卷归档：本次归档" in out.getvalue()
    load_demo(io.StringIO())
    assert ArchiveItem.objects.count() == count


def test_demo_without_libreoffice_warns_and_files_nothing(settings):
    settings.ARCHIVE_SOFFICE = "no-such-soffice"
    create_demo_accounts()
    out = io.StringIO()
    load_demo(out)
    assert "LibreOffice" in out.getvalue() and "跳过" in out.getvalue()
    assert not ArchiveItem.objects.exists()

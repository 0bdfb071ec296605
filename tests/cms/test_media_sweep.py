"""Uploads stored by a process that died before writing their row are moved out of media."""

import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import transaction

from budget.models import ImportBatch
from cms import media_sweep
from cms.tasks import sweep_orphaned_media

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_media(settings, tmp_path):
    """A media folder of the test's own (other tests' rolled-back uploads are orphans too)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DATA_DIR = tmp_path


def store_batch(name: str, commit: bool) -> str:
    """Store an import's original as the budget import does; without ``commit`` the
    transaction rolls back after the file is stored (what a kill -9 leaves)."""
    batch = ImportBatch(filename=name, sha256="0" * 64, file_format="csv", scope=name)
    if commit:
        batch.file.save(name, ContentFile("科目,金额\n201,1\n".encode()), save=False)
        batch.save()
        return batch.file.name
    with pytest.raises(RuntimeError), transaction.atomic():
        batch.file.save(name, ContentFile("科目,金额\n201,1\n".encode()), save=False)
        batch.save()
        raise RuntimeError("killed before commit")
    return batch.file.name


def age(name: str, hours: float) -> None:
    old = time.time() - hours * 3600
    os.utime(Path(settings.MEDIA_ROOT) / name, (old, old))


def test_an_old_file_no_row_refers_to_is_moved_out_and_nothing_else_is():
    kept = store_batch("已导入.csv", commit=True)
    orphan = store_batch("中断的导入.csv", commit=False)
    fresh = store_batch("正在导入.csv", commit=False)
    assert not ImportBatch.objects.filter(file=orphan).exists()
    age(kept, 48)
    age(orphan, 48)  # fresh stays young: an upload may be on its way to its row

    assert media_sweep.find_orphans() == [orphan]
    assert sweep_orphaned_media() == 1
    media = Path(settings.MEDIA_ROOT)
    assert not (media / orphan).exists()
    assert (media / kept).exists() and (media / fresh).exists()
    (moved,) = (Path(settings.DATA_DIR) / media_sweep.QUARANTINE_DIR).glob(f"*/{orphan}")
    assert moved.read_bytes() == "科目,金额\n201,1\n".encode()  # nothing is lost
    assert media_sweep.find_orphans() == []


def test_command_lists_without_moving_unless_asked(capsys):
    orphan = store_batch("留下的原件.csv", commit=False)
    age(orphan, 7)
    call_command("media_orphans")
    assert orphan in capsys.readouterr().out
    assert (Path(settings.MEDIA_ROOT) / orphan).exists()
    call_command("media_orphans", "--move")
    assert "已把 1 个文件移到" in capsys.readouterr().out
    assert not (Path(settings.MEDIA_ROOT) / orphan).exists()
    call_command("media_orphans")
    assert "没有无人引用的上传文件" in capsys.readouterr().out

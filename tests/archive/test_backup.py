"""Monthly backup: layout, manifest, verification, interruption, retention, refusals, page."""

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.urls import reverse
from wagtail.documents import get_document_model

from archive import backup, backup_seal, backup_tasks
from cms.notifications.models import Message
from cms.usage.models import UsageRecord


@pytest.fixture
def places(tmp_path, settings):
    """Media, archive files and backups of the test instance in a private folder."""
    settings.DATA_DIR = tmp_path / "data"
    settings.MEDIA_ROOT = str(tmp_path / "data" / "media")
    settings.ARCHIVE_ROOT = tmp_path / "data" / "archive"
    settings.BACKUP_DIR = tmp_path / "data" / "backups"
    settings.BACKUP_KEEP = 12
    (tmp_path / "data").mkdir()
    return tmp_path / "data"


@pytest.fixture
def content(places, archivist_user, deputy_user):
    """Rows of several kinds (with microseconds, m2m links) and real files in both folders."""
    doc = get_document_model().objects.create(
        title="2026年县级预算执行情况报告",
        file=ContentFile("一般公共预算支出执行进度。".encode() * 200, name="report.txt"),
        uploaded_by_user=archivist_user,
    )
    UsageRecord.objects.create(
        user=deputy_user, username=deputy_user.username, action="login", detail="登录"
    )
    Message.objects.create(recipient=archivist_user, subject="测试消息", body="正文")
    folder = places / "archive" / "2026" / "J001-WS·2026-Y-YSGW-0001"
    folder.mkdir(parents=True)
    (folder / "rendition.pdf").write_bytes(os.urandom(50_000))
    (folder / "metadata.json").write_text('{"题名": "预算审查意见"}', encoding="utf-8")
    media_extra = Path(places / "media" / "说明" / "附件 一.txt")
    media_extra.parent.mkdir(parents=True)
    media_extra.write_text("附件内容", encoding="utf-8")
    return {"document": doc}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def plain_manifest(folder: Path) -> dict:
    return json.loads(backup_seal.decrypt_file(folder / "manifest.json"))


def reseal(folder: Path, change):
    """What only a holder of the backup key can do: decrypt, change, encrypt and sign anew."""
    with backup_seal.unsealed(folder, skip={"COMPLETE"}) as (plain, problems):
        assert problems == []
        change(plain)
        raw = (plain / "manifest.json").read_bytes()
        marker = backup_seal.seal_folder(plain, raw)
        shutil.rmtree(folder)
        shutil.copytree(plain, folder)
    (folder / "COMPLETE").write_text(json.dumps(marker))


@pytest.mark.django_db
def test_backup_layout_manifest_and_digests(content, places):
    result = backup.run_backup(trigger="command")
    folder = result.path
    assert folder.parent == places / "backups"
    assert folder.name == backup.timezone.localtime().strftime("%Y-%m")
    assert (folder / "COMPLETE").is_file()
    manifest = plain_manifest(folder)
    marker = json.loads((folder / "COMPLETE").read_text())
    raw = backup_seal.decrypt_file(folder / "manifest.json")
    assert marker["manifest_hmac"] == backup_seal.manifest_signature(raw)

    listed = {e["path"]: e for e in manifest["files"]}
    assert "database.jsonl" in listed
    doc_path = "media/" + content["document"].file.name
    assert doc_path in listed
    assert "archive/2026/J001-WS·2026-Y-YSGW-0001/rendition.pdf" in listed
    assert "media/说明/附件 一.txt" in listed
    for name, entry in listed.items():
        data = backup_seal.decrypt_file(folder / name)
        assert entry["size"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        if "sm3" in hashlib.algorithms_available:
            assert entry["sm3"] == hashlib.new("sm3", data).hexdigest()
    assert set(manifest["hash_algorithms"]) >= {"sha256"}
    # the original files are untouched and equal to the copies
    assert _sha256(places / "media" / content["document"].file.name) == listed[doc_path]["sha256"]

    counts = manifest["database"]["models"]
    User = get_user_model()
    assert counts["cms.user"]["rows"] == User.objects.count()
    assert counts["usage.usagerecord"]["rows"] == UsageRecord.objects.count()
    assert counts["notifications.message"]["rows"] == 1
    assert "sessions.session" not in counts
    assert manifest["database"]["records_sha256"] == backup.combined_digest(backup.records_digest())
    lines = backup_seal.decrypt_file(folder / "database.jsonl").decode().splitlines()
    assert len(lines) == manifest["database"]["rows"]
    # microseconds survive (Django's own JSON encoder would cut them to milliseconds)
    record = UsageRecord.objects.get(action="login")
    row = next(json.loads(x) for x in lines if '"usage.usagerecord"' in x and '"登录"' in x)
    assert row["fields"]["created_at"] == record.created_at.isoformat()

    history = backup.read_history()
    assert history[0]["status"] == "ok" and history[0]["name"] == folder.name
    assert [b.name for b in backup.good_backups()] == [folder.name]
    assert backup.verify_backup(folder).ok


@pytest.mark.django_db
def test_second_backup_in_a_month_gets_its_own_folder(content):
    first = backup.run_backup()
    second = backup.run_backup()
    assert first.path != second.path and second.path.name.startswith(first.path.name + "-")
    assert len(backup.good_backups()) == 2


@pytest.mark.django_db
def test_interrupted_backup_is_never_good_and_next_run_succeeds(content, places, monkeypatch):
    real_copy = backup.copy_and_hash
    copied = []

    def copy_then_fail(src, dest):
        if len(copied) == 2:
            raise OSError("模拟中断：磁盘被拔出")
        copied.append(src)
        return real_copy(src, dest)

    monkeypatch.setattr(backup, "copy_and_hash", copy_then_fail)
    with pytest.raises(backup.BackupError, match="模拟中断"):
        backup.run_backup()
    assert backup.good_backups() == []
    assert not any(p.name.startswith("20") for p in (places / "backups").iterdir())
    assert backup.read_history()[0]["status"] == "failed"

    # A crash (power cut, kill -9) leaves the temporary folder behind, manifest and all
    leftover = places / "backups" / ".tmp-2026-11-4242"
    (leftover / "media").mkdir(parents=True)
    (leftover / "media" / "half.txt").write_text("半")
    (leftover / "manifest.json").write_text(json.dumps({"format": 1, "files": []}))
    listed = backup.list_backups()
    assert [(b.name, b.status) for b in listed] == [(".tmp-2026-11-4242", "interrupted")]
    with pytest.raises(backup.RestoreRefused, match="完成标记"):
        backup.check_restorable(leftover)

    # ...and a folder with its final name but no marker is listed as unusable, never as good
    fake = places / "backups" / "2026-10"
    shutil.copytree(leftover, fake)
    assert {b.name: b.status for b in backup.list_backups()}["2026-10"] == "incomplete"

    monkeypatch.setattr(backup, "copy_and_hash", real_copy)
    result = backup.run_backup()
    assert not leftover.exists()  # the next run clears what an interruption left
    assert [b.name for b in backup.good_backups()] == [result.path.name]
    assert backup.verify_backup(result.path).ok


@pytest.mark.django_db
def test_failed_verification_keeps_older_backups(content, places, settings, monkeypatch):
    settings.BACKUP_KEEP = 1
    first = backup.run_backup()

    def broken_verify(path, require_marker=True):
        return backup.Verification(False, ["SHA-256 摘要不符：media/x"])

    monkeypatch.setattr(backup, "verify_backup", broken_verify)
    with pytest.raises(backup.BackupError, match="核验失败"):
        backup.run_backup()
    monkeypatch.undo()
    assert [b.name for b in backup.good_backups()] == [first.path.name]
    assert backup.verify_backup(first.path).ok


@pytest.mark.django_db
def test_keeps_the_last_n_good_backups(content, settings):
    settings.BACKUP_KEEP = 2
    made = [backup.run_backup() for _ in range(3)]
    names = [b.name for b in backup.good_backups()]
    assert names == [made[2].path.name, made[1].path.name]
    assert not made[0].path.exists()
    assert made[2].removed == [made[0].path.name]


@pytest.mark.django_db
def test_a_second_run_at_the_same_time_is_refused(content, places):
    with backup._exclusive_lock():
        with pytest.raises(backup.BackupError, match="正在进行"):
            backup.run_backup()


def _damage(path: Path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _state(places):
    return backup.combined_digest(backup.records_digest()), backup.files_digest()


@pytest.mark.django_db
@pytest.mark.parametrize("damage", ["media", "archive", "database", "manifest", "extra", "missing"])
def test_damaged_backup_is_refused_before_anything_is_written(content, places, damage):
    result = backup.run_backup()
    folder = result.path
    manifest = plain_manifest(folder)
    media = next(e["path"] for e in manifest["files"] if e["path"].startswith("media/"))
    if damage == "media":
        _damage(folder / media)
        expected = "无法用本系统的备份密钥解密"
    elif damage == "archive":
        _damage(folder / "archive/2026/J001-WS·2026-Y-YSGW-0001/rendition.pdf")
        expected = "无法用本系统的备份密钥解密"
    elif damage == "database":
        lines = (folder / "database.jsonl").read_text(encoding="utf-8").splitlines(True)
        (folder / "database.jsonl").write_text("".join(lines[:-1]), encoding="utf-8")
        expected = "database.jsonl"
    elif damage == "manifest":
        manifest["files"][1]["sha256"] = "0" * 64  # someone "fixes" a digest
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        expected = "清单无法用本系统的备份密钥解密"
    elif damage == "extra":
        (folder / "media" / "planted.exe").write_bytes(b"MZ")
        expected = "planted.exe"
    else:
        (folder / media).unlink()
        expected = "文件缺失"

    # empty the instance's own folders so only the digests can stop the restore
    shutil.rmtree(places / "media")
    shutil.rmtree(places / "archive")
    before = _state(places)
    with pytest.raises(backup.RestoreRefused, match=expected) as refused:
        backup.restore_backup(folder, rebuild_index=False)
    assert "未写入任何数据" in str(refused.value)
    assert _state(places) == before
    assert not (places / "media").exists() and not (places / "archive").exists()
    assert not any(p.name.startswith(".restore-staging") for p in places.iterdir())
    assert not backup.verify_backup(folder).ok


@pytest.mark.django_db
def test_restore_into_an_instance_with_content_is_refused(content, places):
    result = backup.run_backup()
    before = _state(places)
    with pytest.raises(backup.RestoreRefused, match="不是空实例") as refused:
        backup.restore_backup(result.path, rebuild_index=False)
    assert "用户" in str(refused.value)
    assert _state(places) == before


@pytest.mark.django_db
def test_restore_from_another_schema_is_refused(places):
    result = backup.run_backup()
    folder = result.path

    def from_the_future(plain):
        manifest = json.loads((plain / "manifest.json").read_bytes())
        manifest["database"]["migrations"]["cms"].append("9999_from_the_future")
        (plain / "manifest.json").write_bytes(json.dumps(manifest).encode())

    reseal(folder, from_the_future)
    assert backup.verify_backup(folder).ok  # consistent, but made by another version
    assert backup.instance_content() == []
    with pytest.raises(backup.RestoreRefused, match="迁移") as refused:
        backup.check_restorable(folder)
    assert "9999_from_the_future" in str(refused.value)


@pytest.mark.django_db
def test_monthly_task_failure_notifies_backup_operators(content, archivist_user, monkeypatch):
    def fail(**kwargs):
        raise backup.BackupError("备份目录所在磁盘空间不足：需要约 2.0 GB，只剩 1.0 GB。")

    monkeypatch.setattr(backup, "run_backup", fail)
    with pytest.raises(backup.BackupError):
        backup_tasks.monthly_backup.delay()
    notices = Message.objects.filter(recipient=archivist_user, subject__contains="每月定期备份失败")
    assert notices.count() == 1
    assert "磁盘空间不足" in notices.get().body
    assert notices.get().url == "/archive/backups/"


@pytest.mark.django_db
def test_monthly_task_makes_a_backup_and_is_scheduled(content, settings):
    from cms.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["archive-monthly-backup"]
    assert entry["task"] == "archive.backup_tasks.monthly_backup"
    assert entry["task"] in app.tasks
    assert entry["schedule"].day_of_month == {1}
    summary = backup_tasks.monthly_backup.delay().get()
    assert backup.read_history()[0]["trigger"] == "scheduled"
    assert [b.name for b in backup.good_backups()] == [summary["name"]]


@pytest.mark.django_db
def test_empty_instance_check(places, db):
    """A freshly migrated database holds only what migrate writes. If this fails, an app has
    added a data migration: list its model in archive.backup.DEFAULT_SEEDED (or the setting
    BACKUP_SEEDED_MODELS), or restores into new instances will be refused."""
    assert backup.instance_content() == []


@pytest.mark.django_db
def test_backup_page_lists_and_runs(client, content, archivist_user):
    client.force_login(archivist_user)
    url = reverse("archive_backup:list")
    assert url == "/archive/backups/"
    page = client.get(url)
    assert page.status_code == 200
    assert "还没有备份" in page.content.decode()
    response = client.post(url, follow=True)
    html = response.content.decode()
    good = backup.good_backups()
    assert len(good) == 1
    assert f"备份 {good[0].name} 已完成并通过核验" in html
    assert "完好" in html and good[0].name in html
    assert Message.objects.filter(recipient=archivist_user, subject__contains="已完成").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["deputy_user", "staff_user", "liaison_user"])
def test_backup_page_refuses_others(client, places, who, request):
    user = request.getfixturevalue(who)
    client.force_login(user)
    assert client.get("/archive/backups/").status_code == 403
    assert client.post("/archive/backups/").status_code == 403
    assert backup.list_backups() == []


@pytest.mark.django_db
def test_commands(content, places, capsys):
    from django.core.management import CommandError, call_command

    call_command("backup_now", "--json")
    out = json.loads(capsys.readouterr().out)
    assert Path(out["path"]).is_dir() and out["files"] >= 5 and out["bytes"] > 50_000
    call_command("backup_verify")
    assert "完好" in capsys.readouterr().out
    _damage(Path(out["path"]) / "database.jsonl")
    with pytest.raises(CommandError, match="未通过核验"):
        call_command("backup_verify", out["path"])
    with pytest.raises(CommandError, match="未写入任何数据"):
        call_command("restore", out["path"])


@pytest.mark.django_db
def test_backup_page_with_a_worker_says_it_started(client, places, archivist_user, monkeypatch):
    """With a real worker the task is only queued (and there is no result backend to ask)."""
    from celery.result import AsyncResult

    queued = []

    def delay(*args):
        queued.append(args)
        return AsyncResult("queued-task")

    monkeypatch.setattr(backup_tasks.backup_on_request, "delay", delay)
    client.force_login(archivist_user)
    html = client.post("/archive/backups/", follow=True).content.decode()
    assert queued == [(archivist_user.pk,)]
    assert "备份已开始，完成后会在站内消息中通知您" in html
    assert backup.list_backups() == []


@pytest.mark.django_db
def test_backup_page_is_linked_for_its_roles_and_shows_no_paths_or_commands(
    client, rf, content, places, archivist_user, admin_user_role, staff_user
):
    from cms.home import panels_for

    for user in (archivist_user, admin_user_role):
        client.force_login(user)
        index = client.get(reverse("archive:index")).content.decode()
        assert 'href="/archive/backups/"' in index and "系统备份" in index
        request = rf.get("/")
        request.user = user
        panel = next(p for p in panels_for(request) if p.title == "立卷归档")
        assert "/archive/backups/" in [i.url for i in panel.items]
        response = client.post("/archive/backups/", follow=True)
        html = response.content.decode()
        assert response.status_code == 200 and "已完成并通过核验" in html
        for hidden in (str(places), str(backup.backup_root()), "manage.py", "restore", "docs/"):
            assert hidden not in html, hidden
        assert 'aria-current="page">系统备份' in html  # the archive's own navigation
    # staff read the archive but do not run backups: no link, and the page is refused
    client.force_login(staff_user)
    index = client.get(reverse("archive:index")).content.decode()
    assert "/archive/backups/" not in index and "系统备份" not in index
    request = rf.get("/")
    request.user = staff_user
    assert all("/archive/backups/" not in [i.url for i in p.items] for p in panels_for(request))
    assert client.get("/archive/backups/").status_code == 403


def test_backup_page_names_folders_in_words():
    from django.conf import settings

    from archive.backup_views import without_paths

    root = str(backup.backup_root())
    assert without_paths(f"无法写入 {root}/2026-12/database.jsonl") == (
        "无法写入 备份目录/2026-12/database.jsonl"
    )
    assert str(settings.DATA_DIR) not in without_paths(f"{settings.DATA_DIR}/keys 不存在")

# ruff: noqa: F811  (the content and places fixtures are imported from test_backup)
"""Backups no one can forge or read (issue 14, found item 4)."""

import hashlib
import json
import stat

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from archive import backup, backup_seal, backup_tasks
from cms import roles
from tests.archive.test_backup import _damage, content, places  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def forge_unkeyed(folder, deputy):
    """The found attack: decrypting is impossible now, so the forger writes a backup in
    the old, unkeyed layout: a database export that makes a deputy a superuser, a
    manifest with recomputed digests and a completion marker with the manifest's SHA-256."""
    with backup_seal.unsealed(folder, skip={"COMPLETE"}) as (plain, _):
        manifest = json.loads((plain / "manifest.json").read_bytes())
        lines = []
        for line in (plain / "database.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row["model"] == "cms.user" and row["pk"] == deputy.pk:
                row["fields"]["is_superuser"] = True
            lines.append(json.dumps(row, ensure_ascii=False))
        data = ("\n".join(lines) + "\n").encode()
        forged = folder.parent / "2099-01"
        import shutil

        shutil.copytree(plain, forged)
    (forged / "database.jsonl").write_bytes(data)
    for entry in manifest["files"]:
        if entry["path"] == "database.jsonl":
            entry.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
            entry.pop("sm3", None)
    raw = json.dumps(manifest).encode()
    (forged / "manifest.json").write_bytes(raw)
    (forged / "COMPLETE").write_text(
        json.dumps({"manifest_sha256": hashlib.sha256(raw).hexdigest()})
    )
    return forged


def test_a_forged_unkeyed_backup_neither_verifies_nor_restores(content, places, deputy_user):
    folder = backup.run_backup().path
    forged = forge_unkeyed(folder, deputy_user)
    check = backup.verify_backup(forged)
    assert not check.ok
    assert "备份未经认证" in check.problems[0]
    with pytest.raises(backup.RestoreRefused, match="备份未通过认证，拒绝恢复"):
        backup.restore_backup(forged, rebuild_index=False)
    deputy_user.refresh_from_db()
    assert not deputy_user.is_superuser
    listed = {b.name: b for b in backup.list_backups()}
    assert not listed["2099-01"].good


def test_a_backup_made_with_another_key_is_refused(content, places, settings, tmp_path):
    settings.BACKUP_KEY_FILE = str(tmp_path / "other-system" / "backup.key")
    foreign = backup.run_backup().path
    settings.BACKUP_KEY_FILE = str(tmp_path / "this-system" / "backup.key")
    check = backup.verify_backup(foreign)
    assert not check.ok and "不是用本系统的备份密钥制作的" in check.problems[0]
    with pytest.raises(backup.RestoreRefused, match="不是用本系统的备份密钥制作的"):
        backup.check_restorable(foreign)


def test_a_signed_manifest_cannot_be_swapped_for_a_changed_one(content, places):
    folder = backup.run_backup().path
    raw = backup_seal.decrypt_file(folder / "manifest.json")
    manifest = json.loads(raw)
    manifest["files"][0]["sha256"] = "0" * 64
    # even re-encrypted with the right key, the signature no longer matches
    (folder / "manifest.json").write_bytes(
        backup_seal._fernet().encrypt(json.dumps(manifest).encode())
    )
    check = backup.verify_backup(folder)
    assert check.problems == ["清单未通过认证：清单在备份完成后被改动"]


def test_backup_contents_are_encrypted_and_private(content, places, deputy_user):
    device = TOTPDevice.objects.create(user=deputy_user, name="手机", confirmed=True)
    folder = backup.run_backup().path
    secrets = [deputy_user.password.encode(), device.key.encode(), "一般公共预算".encode()]
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(s in data for s in secrets), path
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        else:
            assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    root = places / "backups"
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE((root / "history.jsonl").stat().st_mode) == 0o600
    key = backup_seal.key_path()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert places not in key.parents


def test_a_key_file_inside_data_dir_is_refused(content, places, settings):
    settings.BACKUP_KEY_FILE = str(places / "backup.key")
    with pytest.raises(backup.BackupError, match="在数据目录 DATA_DIR 之内"):
        backup.run_backup()
    assert not (places / "backup.key").exists()


def test_the_page_shows_the_last_real_verification(content, places, client, make_user):
    """Found: the backups page showed 完好 for a tampered backup until someone ran verify.
    Now the nightly verification (Celery beat) decrypts and re-hashes everything, and the
    page shows its outcome."""
    from django.conf import settings as conf

    assert conf.CELERY_BEAT_SCHEDULE["archive-verify-backups"]["task"] == (
        "archive.backup_tasks.verify_backups"
    )
    folder = backup.run_backup().path
    archivist = make_user(roles.ARCHIVIST, username="archivist9")
    client.force_login(archivist)
    page = client.get(reverse("archive_backup:list")).content.decode()
    assert "通过（" in page
    media = next(p for p in (folder / "media").rglob("*") if p.is_file())
    _damage(media)
    outcomes = backup_tasks.verify_backups()
    assert outcomes == [{"name": folder.name, "ok": False}]
    page = client.get(reverse("archive_backup:list")).content.decode()
    assert "核验未通过，不可用于恢复" in page
    assert "无法用本系统的备份密钥解密" in page
    assert backup.good_backups() == []

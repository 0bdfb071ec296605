"""Backup → restore into a new, empty instance (a separate process, database and DATA_DIR).

The target is made the way an operator makes one: `manage.py migrate` into an empty database,
then `manage.py restore PATH`. Records are compared by a canonical digest per model, files by
SHA-256. On a PostgreSQL run the targets are PostgreSQL databases named after the test
database (plus a SQLite target: the export is portable between the engines).
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from archive import backup, backup_seal
from tests.archive.test_backup import content, places  # noqa: F401  (fixtures)
from tests.db_template import PostgresTemplate, migrated_instance, pg_admin_connection

CHECK_SCRIPT = """
import json
from archive import backup
from wagtail.documents import get_document_model
per_model = backup.records_digest()
found = [d.title for d in get_document_model().objects.search("预算执行情况")]
print(json.dumps({"records": backup.combined_digest(per_model), "per_model": per_model,
                  "files": backup.files_digest(), "search": found,
                  "content": backup.instance_content()}, ensure_ascii=False))
"""

NEW_ROWS_SCRIPT = """
from django.contrib.auth.models import Group
from cms.usage.models import UsageRecord
from cms.notifications.models import Message
from django.contrib.auth import get_user_model
Group.objects.create(name="恢复后新建的组")
UsageRecord.objects.create(username="restored", action="login")
user = get_user_model().objects.create_user(username="after-restore", password="x-Test-2026")
Message.objects.create(recipient=user, subject="恢复后")
print("ok")
"""


def manage(*args, data_dir: Path, db_url: str, timeout=600):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cms.settings.test",
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": db_url,
        "CELERY_TASK_ALWAYS_EAGER": "1",
    }
    env.pop("BACKUP_DIR", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _pg_params():
    db = connection.settings_dict
    return {
        "host": db.get("HOST") or "127.0.0.1",
        "port": db.get("PORT") or 5432,
        "user": db.get("USER") or "postgres",
    }


def _pg_url(name):
    p = _pg_params()
    return f"postgres://{p['user']}@{p['host']}:{p['port']}/{name}"


def _pg_admin(sql):
    with pg_admin_connection(connection.settings_dict) as conn:
        conn.execute(sql)


class Instances:
    """Fresh migrated instances, copied from one template per engine: the run's migrated
    database (tests/db_template.py; SQLite: migrated_instance, PostgreSQL: the test
    databases' template), migrated here only when the run has none."""

    def __init__(self, root: Path, pg_base: str | None, template=None):
        self.root = root
        self.pg_base = pg_base
        self.template = template  # the run's (tests/db_template.py), or None
        self.templates = {}
        self.pg_databases = []
        self.count = 0

    def _template(self, engine):
        if engine in self.templates:
            return self.templates[engine]
        data_dir = self.root / f"template-{engine}"
        data_dir.mkdir()
        if engine == "sqlite":
            migrated_instance(data_dir / "db.sqlite3", self.template)
            self.templates[engine] = (data_dir, f"sqlite:///{data_dir / 'db.sqlite3'}")
            return self.templates[engine]
        name = f"{self.pg_base}_bk_tpl"
        self.pg_databases.append(name)
        url = _pg_url(name)
        if isinstance(self.template, PostgresTemplate) and self.template.clone_to(name):
            self.templates[engine] = (data_dir, url)
            return data_dir, url
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}"')
        _pg_admin(f'CREATE DATABASE "{name}"')
        done = manage("migrate", "--noinput", "-v0", data_dir=data_dir, db_url=url)
        assert done.returncode == 0, done.stderr[-3000:]
        self.templates[engine] = (data_dir, url)
        return data_dir, url

    def new(self, engine):
        """(DATA_DIR, DATABASE_URL) of a just-migrated, empty instance."""
        tpl_dir, tpl_url = self._template(engine)
        self.count += 1
        data_dir = self.root / f"instance-{self.count}-{engine}"
        data_dir.mkdir()
        if engine == "sqlite":
            src = sqlite3.connect(tpl_dir / "db.sqlite3")
            dst = sqlite3.connect(data_dir / "db.sqlite3")
            src.backup(dst)
            src.close()
            dst.close()
            return data_dir, f"sqlite:///{data_dir / 'db.sqlite3'}"
        name = f"{self.pg_base}_bk_{self.count}"
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}"')
        _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.pg_base}_bk_tpl"')
        self.pg_databases.append(name)
        return data_dir, _pg_url(name)

    def drop(self):
        for name in reversed(self.pg_databases):
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def instances(tmp_path_factory, django_db_setup, django_db_blocker, _test_db_template):
    # django_db_setup first: until then NAME is the configured database's, the same in every
    # xdist worker, and two workers' instances would share (and drop) one template database
    with django_db_blocker.unblock():
        engine = connection.vendor
        pg_base = connection.settings_dict["NAME"] if engine == "postgresql" else None
    made = Instances(tmp_path_factory.mktemp("instances"), pg_base, _test_db_template)
    yield made
    made.drop()


def _engine():
    return "postgresql" if connection.vendor == "postgresql" else "sqlite"


def _check(data_dir, db_url):
    done = manage("shell", "-c", CHECK_SCRIPT, data_dir=data_dir, db_url=db_url)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _round_trip(result, instances, engine, source_records, source_files):
    data_dir, db_url = instances.new(engine)
    empty = _check(data_dir, db_url)
    assert empty["content"] == [] and empty["files"] == {}

    started = time.monotonic()
    done = manage("restore", str(result.path), "--json", data_dir=data_dir, db_url=db_url)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout[done.stdout.index("{") :])
    assert report["rows"] == result.manifest["database"]["rows"]
    assert report["files"] == result.manifest["totals"]["files"] - 1
    assert report["records_sha256"] == source_records["records"]
    assert time.monotonic() - started < 300

    after = _check(data_dir, db_url)
    assert after["per_model"] == source_records["per_model"]
    assert after["records"] == source_records["records"]
    assert after["files"] == source_files
    assert after["search"] == ["2026年县级预算执行情况报告"]  # index rebuilt

    # restoring again into what is now a full instance is refused, nothing changes
    again = manage("restore", str(result.path), data_dir=data_dir, db_url=db_url)
    assert again.returncode != 0
    assert "不是空实例" in again.stderr
    assert _check(data_dir, db_url)["records"] == source_records["records"]

    # the restored instance takes new rows (sequences were moved past the restored keys)
    more = manage("shell", "-c", NEW_ROWS_SCRIPT, data_dir=data_dir, db_url=db_url)
    assert more.returncode == 0, more.stderr[-3000:]
    assert more.stdout.strip().splitlines()[-1] == "ok"


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["same-engine", "sqlite"])
def test_restore_gives_back_identical_records_and_files(content, instances, target):  # noqa: F811
    engine = _engine()
    if target == "sqlite" and engine == "sqlite":
        pytest.skip("same as the same-engine case on a SQLite run")
    result = backup.run_backup()
    per_model = backup.records_digest()
    source_records = {"records": backup.combined_digest(per_model), "per_model": per_model}
    source_files = backup.files_digest()
    assert len(source_files) == 4
    _round_trip(
        result,
        instances,
        engine if target == "same-engine" else "sqlite",
        source_records,
        source_files,
    )


@pytest.mark.django_db
def test_backup_killed_midway_is_not_taken_for_good(instances, places, settings):  # noqa: F811
    """kill -9 during the copy: no good backup is listed or restorable; the next run works."""
    data_dir, db_url = instances.new(_engine())
    big = data_dir / "media" / "scans" / "large.bin"
    big.parent.mkdir(parents=True)
    with open(big, "wb") as f:
        for _ in range(160):
            f.write(os.urandom(1024 * 1024))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cms.settings.test",
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": db_url,
    }
    env.pop("BACKUP_DIR", None)
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "backup_now"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    backups = data_dir / "backups"
    deadline = time.monotonic() + 120
    partial = None
    while time.monotonic() < deadline and proc.poll() is None:
        tmp = [p for p in backups.glob(".tmp-*")] if backups.is_dir() else []
        if tmp and (tmp[0] / "media" / "scans" / "large.bin").exists():
            partial = tmp[0]
            break
        time.sleep(0.01)
    assert partial is not None, "the backup finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert partial.exists()

    settings.BACKUP_DIR = backups
    assert backup.good_backups() == []
    assert [b.status for b in backup.list_backups()] == ["interrupted"]
    target_dir, target_url = instances.new(_engine())
    refused = manage("restore", str(partial), data_dir=target_dir, db_url=target_url)
    assert refused.returncode != 0 and "未写入任何数据" in refused.stderr
    assert _check(target_dir, target_url)["content"] == []

    done = manage("backup_now", "--json", data_dir=data_dir, db_url=db_url)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout[done.stdout.index("{") :])
    assert not partial.exists()
    good = backup.good_backups()
    assert [b.name for b in good] == [summary["name"]]
    assert backup.verify_backup(good[0].path).ok
    history = backup.read_history()
    assert history[0]["status"] == "ok"


WRITER_SCRIPT = """
import time
from django.contrib.auth import get_user_model
from django.db import transaction
from cms.notifications.models import Message
from cms.usage.models import UsageRecord
User = get_user_model()
owner = User.objects.create_user(username="bulk-owner", password="x-Test-2026")
Message.objects.bulk_create(
    [Message(recipient=owner, subject=f"批量消息 {i}", body="正文" * 20) for i in range(60000)],
    batch_size=2000,
)
print("filled", flush=True)
deadline = time.monotonic() + 300  # killed as soon as the backup is done
n = 0
while time.monotonic() < deadline:
    with transaction.atomic():
        user = User.objects.create_user(username=f"writer-{n}", password="x-Test-2026")
        UsageRecord.objects.create(user=user, username=user.username, action="login")
    n += 1
    if n % 20 == 0:
        print("wrote", n, flush=True)
"""


@pytest.mark.django_db
def test_export_is_one_consistent_snapshot_while_others_write(instances, places, settings):  # noqa: F811
    """A user and its usage record are written together, over and over, while backup_now runs
    in another process. The export must hold both or neither: the restore checks every foreign
    key and every per-table digest, so a torn export would be refused."""
    data_dir, db_url = instances.new(_engine())
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cms.settings.test",
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": db_url,
    }
    env.pop("BACKUP_DIR", None)
    writer = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", WRITER_SCRIPT],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # wait until the writer is writing pairs
        seen = []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = writer.stdout.readline()
            seen.append(line)
            if line.startswith("wrote"):
                break
            assert writer.poll() is None, writer.stderr.read()[-3000:]
        done = manage("backup_now", "--json", data_dir=data_dir, db_url=db_url)
        assert done.returncode == 0, done.stderr[-3000:]
        assert writer.poll() is None, "the writer stopped before the backup ended"
    finally:
        writer.kill()
        writer.wait(timeout=30)
    summary = json.loads(done.stdout[done.stdout.index("{") :])
    users, logins, messages = set(), [], 0
    exported = backup_seal.decrypt_file(Path(summary["path"]) / "database.jsonl")
    for line in exported.decode().splitlines():
        row = json.loads(line)
        if row["model"] == "cms.user" and row["fields"]["username"].startswith("writer-"):
            users.add(row["pk"])
        elif row["model"] == "usage.usagerecord" and row["fields"]["action"] == "login":
            logins.append(row["fields"]["user"])
        elif row["model"] == "notifications.message":
            messages += 1
    assert messages == 60000
    assert users and sorted(logins) == sorted(users)  # every pair whole, none torn

    target_dir, target_url = instances.new(_engine())
    restored = manage("restore", summary["path"], "--json", data_dir=target_dir, db_url=target_url)
    assert restored.returncode == 0, restored.stderr[-3000:]
    assert json.loads(restored.stdout[restored.stdout.index("{") :])["rows"] == summary["rows"]

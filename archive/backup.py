"""Monthly backup and restore (domain.md §8: system data is exported for backup every month).

A backup is a folder ``BACKUP_DIR/<name>/`` (``YYYY-MM`` for the first run of a month):

    database.jsonl   every row of every model, one JSON object a line, from one consistent
                     snapshot; primary keys kept, so a restore gives back the same records on
                     SQLite or PostgreSQL
    media/...        a copy of MEDIA_ROOT
    archive/...      a copy of the filing archive's files (ARCHIVE_ROOT, DATA_DIR/archive)
    manifest.json    size, SHA-256 (and SM3 where hashlib has it) of every file, rows and a
                     records digest per model, the applied migrations, timings
    COMPLETE         written last: the SHA-256 of manifest.json

It is written as ``BACKUP_DIR/.tmp-<name>-<pid>/``, re-read and re-hashed, marked complete and
only then renamed to its final name; a folder without a valid marker is never listed as good or
restored, and the next run removes interrupted temporary folders. Each run is appended to
``BACKUP_DIR/history.jsonl``.

A restore goes into an empty instance only: every digest and every row count is checked before
anything is written, the rows are loaded in one transaction and compared with the records digest of
the manifest before it commits, and the files are copied into a staging folder and moved into place
only after the database committed. The search index is rebuilt afterwards.
"""

from __future__ import annotations

import datetime as dt
import decimal
import fcntl
import hashlib
import io
import json
import os
import shutil
import socket
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import signals
from django.utils import timezone
from django.utils.duration import duration_iso_string
from django.utils.functional import Promise

from . import backup_seal as seal

FORMAT_VERSION = 1
DATABASE_FILE = "database.jsonl"
MANIFEST_FILE = "manifest.json"
MARKER_FILE = "COMPLETE"
HISTORY_FILE = "history.jsonl"
VERIFICATIONS_FILE = "verifications.jsonl"
TMP_PREFIX = ".tmp-"
LOCK_FILE = ".lock"
CHUNK = 1024 * 1024
ROW_BATCH = 1000

# Rows that are derived (the search index, rebuilt after a restore) or short-lived (login
# sessions): not backed up. Extended with settings.BACKUP_EXCLUDE_MODELS.
DEFAULT_EXCLUDED = {
    "sessions.session",
    "wagtailsearch.indexentry",
    "wagtailsearch.sqliteftsindexentry",
}

# What `migrate` itself writes into a new database (content types, permissions, the five
# role groups, Wagtail's root page, home page, site, collection and workflow, and the
# 权限变更 usage rows the role sync writes). A database holding nothing else is empty.
# Extended with settings.BACKUP_SEEDED_MODELS when an app adds a data migration.
DEFAULT_SEEDED = {
    "contenttypes.contenttype",
    "auth.permission",
    "auth.group",
    "wagtailcore.locale",
    "wagtailcore.site",
    "wagtailcore.collection",
    "wagtailcore.groupcollectionpermission",
    "wagtailcore.grouppagepermission",
    "wagtailcore.workflow",
    "wagtailcore.workflowtask",
    "wagtailcore.task",
    "wagtailcore.groupapprovaltask",
    "wagtailcore.workflowpage",
    "wagtailcore.page",
    "cms.homepage",
    "usage.usagerecord",
    "archive.archiveclass",  # archive 0002_default_rules
    "archive.retentionrule",
    "briefings.materialtype",  # briefings 0002_default_material_types
    "briefings.recipientgroup",
}
# ...but never more pages than the migration creates (root + home page), and no usage rows
# other than the system's own permission changes.
SEEDED_PAGE_LIMIT = 2


class BackupError(Exception):
    """A backup could not be made; the message is for people (Chinese)."""


class RestoreRefused(BackupError):
    """A restore was refused before anything was written."""


# ---------------------------------------------------------------- settings and places


def backup_root() -> Path:
    return Path(getattr(settings, "BACKUP_DIR", Path(settings.DATA_DIR) / "backups"))


def keep_count() -> int:
    return max(1, int(getattr(settings, "BACKUP_KEEP", 12)))


def archive_root() -> Path:
    return Path(getattr(settings, "ARCHIVE_ROOT", Path(settings.DATA_DIR) / "archive"))


def file_sources() -> list[tuple[str, Path]]:
    """The folders copied into a backup, by the name they get inside it."""
    return [("media", Path(settings.MEDIA_ROOT)), ("archive", archive_root())]


def hash_algorithms() -> list[str]:
    names = ["sha256"]
    if "sm3" in hashlib.algorithms_available:
        try:
            hashlib.new("sm3")
            names.append("sm3")
        except ValueError:  # listed but refused by this OpenSSL build
            pass
    return names


def excluded_models() -> set[str]:
    return DEFAULT_EXCLUDED | {m.lower() for m in getattr(settings, "BACKUP_EXCLUDE_MODELS", [])}


def seeded_models() -> set[str]:
    return DEFAULT_SEEDED | {m.lower() for m in getattr(settings, "BACKUP_SEEDED_MODELS", [])}


def backed_up_models() -> list:
    """Every concrete model with its own table, in a stable order."""
    skip = excluded_models()
    models = [
        m
        for m in apps.get_models()
        if m._meta.managed
        and not m._meta.proxy
        and not m._meta.swapped
        and m._meta.label_lower not in skip
    ]
    # content types first: some models (Wagtail pages) look theirs up while being loaded,
    # and a lookup that misses would create a row under a new id
    return sorted(
        models,
        key=lambda m: (m._meta.label_lower != "contenttypes.contenttype", m._meta.label_lower),
    )


# ---------------------------------------------------------------- encoding of rows


class ExactJSONEncoder(json.JSONEncoder):
    """Like Django's encoder but keeps microseconds (Django's cuts them to milliseconds)."""

    def default(self, o):
        if isinstance(o, dt.datetime | dt.date | dt.time):
            return o.isoformat()
        if isinstance(o, dt.timedelta):
            return duration_iso_string(o)
        if isinstance(o, decimal.Decimal | uuid.UUID | Promise):
            return str(o)
        if isinstance(o, bytes | memoryview):
            import base64

            return base64.b64encode(bytes(o)).decode("ascii")
        return super().default(o)


def _line(record: dict) -> str:
    for key, value in record["fields"].items():
        if isinstance(value, list) and all(isinstance(v, int | str) for v in value):
            # many-to-many lists come in whatever order the link table returns
            record["fields"][key] = sorted(value, key=lambda v: (str(type(v)), v))
    return json.dumps(record, cls=ExactJSONEncoder, ensure_ascii=False, sort_keys=True)


def _int_pk(model) -> bool:
    return (
        model._meta.pk.get_internal_type()
        in {
            "AutoField",
            "BigAutoField",
            "SmallAutoField",
            "IntegerField",
            "BigIntegerField",
            "PositiveIntegerField",
            "PositiveBigIntegerField",
        }
        or model._meta.pk.is_relation
        and _int_pk(model._meta.pk.related_model)
    )


def model_lines(model, using=DEFAULT_DB_ALIAS):
    """The model's rows as canonical JSON lines, ordered by primary key."""
    qs = model._base_manager.using(using).order_by("pk")

    def lines():
        batch = []
        for obj in qs.iterator(chunk_size=ROW_BATCH):
            batch.append(obj)
            if len(batch) >= ROW_BATCH:
                yield from (_line(r) for r in serializers.serialize("python", batch))
                batch = []
        if batch:
            yield from (_line(r) for r in serializers.serialize("python", batch))

    if _int_pk(model):
        yield from lines()
    else:  # text keys sort differently in each database's collation: sort here
        yield from sorted(lines(), key=lambda s: str(json.loads(s)["pk"]))


def records_digest(using=DEFAULT_DB_ALIAS, models=None) -> dict[str, dict]:
    """Row count and SHA-256 of the canonical lines of each model: the round-trip check."""
    result = {}
    for model in models or backed_up_models():
        h, n = hashlib.sha256(), 0
        for line in model_lines(model, using):
            h.update(line.encode("utf-8") + b"\n")
            n += 1
        result[model._meta.label_lower] = {"rows": n, "sha256": h.hexdigest()}
    return result


def combined_digest(per_model: dict[str, dict]) -> str:
    h = hashlib.sha256()
    for label in sorted(per_model):
        h.update(f"{label} {per_model[label]['rows']} {per_model[label]['sha256']}\n".encode())
    return h.hexdigest()


# ---------------------------------------------------------------- files and digests


class _Hashers:
    def __init__(self):
        self.algorithms = hash_algorithms()
        self.h = [hashlib.new(a) for a in self.algorithms]
        self.size = 0

    def update(self, data: bytes):
        self.size += len(data)
        for h in self.h:
            h.update(data)

    def result(self) -> dict:
        out = {"size": self.size}
        out.update({a: h.hexdigest() for a, h in zip(self.algorithms, self.h, strict=True)})
        return out


def hash_file(path: Path) -> dict:
    hs = _Hashers()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            hs.update(chunk)
    return hs.result()


def copy_and_hash(src: Path, dest: Path) -> dict:
    dest.parent.mkdir(parents=True, exist_ok=True)
    hs = _Hashers()
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        while chunk := fin.read(CHUNK):
            hs.update(chunk)
            fout.write(chunk)
    shutil.copystat(src, dest, follow_symlinks=False)
    return hs.result()


def _walk_files(root: Path):
    """Regular files under *root*, sorted; symbolic links are not followed."""
    if not root.is_dir():
        return
    skip = backup_root().resolve()
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames if (here / d).resolve() != skip and not (here / d).is_symlink()
        )
        for name in sorted(filenames):
            p = here / name
            if p.is_file() and not p.is_symlink():
                yield p


def _fsync_dir(path: Path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_durably(path: Path, data: bytes):
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


# ---------------------------------------------------------------- the database export


@contextmanager
def consistent_snapshot(using=DEFAULT_DB_ALIAS):
    """Every read inside sees the database as of one moment, without stopping writers.

    PostgreSQL: a REPEATABLE READ, READ ONLY transaction. SQLite: a deferred read transaction,
    whose snapshot in WAL mode stays fixed until it ends (the connection is otherwise in
    autocommit, so Django's IMMEDIATE transaction mode, which would lock out writers, is not
    used). Inside an existing transaction (tests) that transaction is the snapshot.
    """
    connection = connections[using]
    if connection.in_atomic_block:
        yield
        return
    if connection.vendor == "postgresql":
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
        return
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("COMMIT")
        return
    with transaction.atomic(using=using):
        yield


def applied_migrations(using=DEFAULT_DB_ALIAS) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for app_label, name in MigrationRecorder(connections[using]).applied_migrations():
        out.setdefault(app_label, []).append(name)
    return {k: sorted(v) for k, v in sorted(out.items())}


def export_database(dest: Path, using=DEFAULT_DB_ALIAS) -> dict:
    """Write every backed-up row to *dest*; return rows and digests per model."""
    per_model = {}
    with consistent_snapshot(using), open(dest, "w", encoding="utf-8") as f:
        migrations = applied_migrations(using)
        for model in backed_up_models():
            h, n = hashlib.sha256(), 0
            for line in model_lines(model, using):
                data = line + "\n"
                f.write(data)
                h.update(data.encode("utf-8"))
                n += 1
            per_model[model._meta.label_lower] = {"rows": n, "sha256": h.hexdigest()}
        f.flush()
        os.fsync(f.fileno())
    return {
        "file": DATABASE_FILE,
        "engine": connections[using].vendor,
        "models": per_model,
        "rows": sum(v["rows"] for v in per_model.values()),
        "records_sha256": combined_digest(per_model),
        "migrations": migrations,
    }


# ---------------------------------------------------------------- listing and verifying


@dataclass
class Verification:
    ok: bool
    problems: list[str] = field(default_factory=list)
    manifest: dict | None = None
    files_checked: int = 0
    bytes_checked: int = 0


def _safe_relative(name: str) -> bool:
    p = PurePosixPath(name)
    return (
        bool(name)
        and not p.is_absolute()
        and ".." not in p.parts
        and "\\" not in name
        and p.parts[0] in {"media", "archive", DATABASE_FILE}
    )


def read_manifest(path: Path) -> tuple[dict | None, list[str]]:
    """The manifest if the completion marker's keyed signature vouches for it (see
    archive/backup_seal.py), else the reasons why not."""
    manifest_path, marker_path = path / MANIFEST_FILE, path / MARKER_FILE
    if not manifest_path.is_file():
        return None, ["缺少清单文件 manifest.json"]
    if not marker_path.is_file():
        return None, ["缺少完成标记 COMPLETE：备份没有正常完成"]
    try:
        marker = json.loads(marker_path.read_bytes())
    except ValueError:
        return None, ["完成标记 COMPLETE 已损坏"]
    if not isinstance(marker, dict):
        return None, ["完成标记 COMPLETE 已损坏"]
    try:
        problems = seal.check_marker(marker)
        if problems:
            return None, problems
        raw, problems = seal.open_manifest(manifest_path.read_bytes(), marker)
    except seal.SealError as exc:
        return None, [str(exc)]
    if problems:
        return None, problems
    try:
        return json.loads(raw), []
    except ValueError:
        return None, ["清单文件 manifest.json 已损坏，无法读取"]


def verify_backup(path: Path, *, require_marker: bool = True, plain=None) -> Verification:
    """Authenticate the manifest, decrypt and re-hash every file, check the rows of the
    database export. ``require_marker=False`` checks a plaintext folder being written;
    *plain* is an already decrypted copy of *path* (see backup_seal.unsealed)."""
    path = Path(path)
    if not path.is_dir():
        return Verification(False, [f"找不到备份目录：{path}"])
    if not require_marker:
        try:
            manifest = json.loads((path / MANIFEST_FILE).read_bytes())
        except (OSError, ValueError):
            return Verification(False, ["清单文件 manifest.json 缺失或损坏"])
        return _verify_plain(path, manifest)
    manifest, problems = read_manifest(path)
    if problems:
        return Verification(False, problems, manifest)
    if plain is not None:
        return _verify_plain(plain, manifest)
    with seal.unsealed(path, skip={MARKER_FILE}) as (plain, undecryptable):
        result = _verify_plain(plain, manifest)
    result.problems = undecryptable + result.problems
    result.ok = not result.problems
    return result


def _verify_plain(path: Path, manifest: dict) -> Verification:
    if manifest.get("format") != FORMAT_VERSION:
        return Verification(False, [f"不认识的备份格式：{manifest.get('format')}"], manifest)
    problems: list[str] = []
    listed = {}
    for entry in manifest.get("files", []):
        name = entry.get("path", "")
        if not _safe_relative(name):
            problems.append(f"清单中有不允许的路径：{name}")
            continue
        listed[name] = entry
    result = Verification(True, problems, manifest)
    for name, entry in sorted(listed.items()):
        p = path / name
        if not p.is_file():
            problems.append(f"文件缺失：{name}")
            continue
        actual = hash_file(p)
        result.files_checked += 1
        result.bytes_checked += actual["size"]
        if actual["size"] != entry.get("size"):
            problems.append(f"文件大小不符：{name}")
            continue
        for algo in ("sha256", "sm3"):
            if algo in entry and algo in actual and entry[algo] != actual[algo]:
                problems.append(f"{algo.upper()} 摘要不符：{name}")
                break
        if "sha256" not in entry:
            problems.append(f"清单缺少 SHA-256：{name}")
    present = {
        p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file() or p.is_symlink()
    } - {MANIFEST_FILE, MARKER_FILE}
    for extra in sorted(present - set(listed)):
        problems.append(f"清单中没有的文件：{extra}")
    if DATABASE_FILE not in listed:
        problems.append("清单中没有数据库导出 database.jsonl")
    elif (path / DATABASE_FILE).is_file() and not any("database.jsonl" in p for p in problems):
        problems.extend(_check_database_rows(path / DATABASE_FILE, manifest))
    result.ok = not problems
    return result


def _check_database_rows(path: Path, manifest: dict) -> list[str]:
    expected = manifest.get("database", {}).get("models", {})
    counted: dict[str, int] = {}
    number = 0
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                number += 1
                if not line.strip():
                    continue
                label = json.loads(line)["model"]
                counted[label] = counted.get(label, 0) + 1
    except (ValueError, KeyError, TypeError):
        return [f"数据库导出第 {number} 行无法解析"]
    problems = []
    for label in sorted(set(expected) | set(counted)):
        want = expected.get(label, {}).get("rows", 0)
        if counted.get(label, 0) != want:
            problems.append(
                f"数据库导出中 {label} 的行数 {counted.get(label, 0)} 与清单 {want} 不符"
            )
    return problems


@dataclass
class BackupInfo:
    name: str
    path: Path
    status: str  # good | incomplete | interrupted
    status_label: str
    created_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    size: int = 0
    files: int = 0
    rows: int = 0
    duration: float | None = None
    trigger: str = ""
    problems: list[str] = field(default_factory=list)
    verification: dict | None = None  # the latest real verification (record_verification)

    @property
    def verified_at(self):
        return _parse_time((self.verification or {}).get("at"))

    @property
    def good(self) -> bool:
        return self.status == "good"

    @property
    def size_label(self) -> str:
        return human_size(self.size)


def _parse_time(value):
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def list_backups() -> list[BackupInfo]:
    """Every folder under the backup root, newest first; only `good` ones may be restored.

    The quick check (marker matches manifest) is used here; `verify_backup` re-hashes.
    """
    root = backup_root()
    if not root.is_dir():
        return []
    out = []
    verifications = last_verifications()
    for p in root.iterdir():
        if not p.is_dir():
            continue
        if p.name.startswith(TMP_PREFIX):
            out.append(BackupInfo(p.name, p, "interrupted", "未完成（进行中或已中断）"))
            continue
        if p.name.startswith("."):
            continue
        manifest, problems = read_manifest(p)
        info = BackupInfo(p.name, p, "good" if not problems else "incomplete", "")
        info.verification = verifications.get(p.name)
        if problems:
            info.status_label = "未通过认证或不完整，不可用于恢复"
        elif info.verification is not None and not info.verification.get("ok"):
            # a real verification found damage: not good until a new one passes
            info.status, info.status_label = "damaged", "核验未通过，不可用于恢复"
            problems = list(info.verification.get("problems", []))
        else:
            info.status_label = "完好"
        info.problems = problems
        if manifest:
            totals = manifest.get("totals", {})
            info.created_at = _parse_time(manifest.get("started_at"))
            info.finished_at = _parse_time(manifest.get("finished_at"))
            info.size = int(totals.get("bytes", 0))
            info.files = int(totals.get("files", 0))
            info.rows = int(manifest.get("database", {}).get("rows", 0))
            info.duration = manifest.get("duration_seconds")
            info.trigger = manifest.get("trigger", "")
        out.append(info)
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(out, key=lambda i: (i.created_at or epoch, i.name), reverse=True)


def good_backups() -> list[BackupInfo]:
    return [b for b in list_backups() if b.good]


def read_history(limit: int = 50) -> list[dict]:
    path = backup_root() / HISTORY_FILE
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows[-limit:][::-1]


def _private_root() -> Path:
    root = backup_root()
    root.mkdir(parents=True, exist_ok=True, mode=seal.DIR_MODE)
    os.chmod(root, seal.DIR_MODE)
    return root


def _append_line(name: str, record: dict):
    path = _private_root() / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, seal.FILE_MODE)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.chmod(path, seal.FILE_MODE)


def _append_history(record: dict):
    _append_line(HISTORY_FILE, record)


def record_verification(name: str, check: Verification, trigger: str, at=None) -> dict:
    """Keep the outcome of a real verification (every file decrypted and re-hashed);
    the backups page shows the latest one per backup."""
    entry = {
        "name": name,
        "ok": bool(check.ok),
        "problems": list(check.problems[:20]),
        "files": check.files_checked,
        "bytes": check.bytes_checked,
        "trigger": trigger,
        "at": at or timezone.now().isoformat(),
    }
    _append_line(VERIFICATIONS_FILE, entry)
    return entry


def last_verifications() -> dict[str, dict]:
    path = backup_root() / VERIFICATIONS_FILE
    out: dict[str, dict] = {}
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("name"):
            out[entry["name"]] = entry
    return out


# ---------------------------------------------------------------- making a backup


@contextmanager
def _exclusive_lock():
    root = _private_root()
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, seal.FILE_MODE)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError("另一个备份或恢复正在进行，请稍后再试。") from None
        yield
    finally:
        os.close(fd)


def _remove_interrupted(root: Path) -> list[str]:
    removed = []
    for p in root.iterdir():
        if p.is_dir() and p.name.startswith(TMP_PREFIX):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p.name)
    return removed


def _choose_name(root: Path, now: dt.datetime) -> str:
    local = timezone.localtime(now)
    name = local.strftime("%Y-%m")
    if not (root / name).exists():
        return name
    base = local.strftime("%Y-%m-%d-%H%M%S")
    name, n = base, 1
    while (root / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def _source_bytes() -> int:
    return sum(p.stat().st_size for _, root in file_sources() for p in _walk_files(root))


def _check_free_space(root: Path, needed: int):
    free = shutil.disk_usage(root).free
    if free < needed:
        raise BackupError(
            f"备份目录所在磁盘空间不足：需要约 {human_size(needed)}，只剩 {human_size(free)}。"
        )


def _prune(root: Path, keep: int) -> list[str]:
    removed = []
    for info in good_backups()[keep:]:
        shutil.rmtree(info.path)
        removed.append(info.name)
    return removed


@dataclass
class BackupResult:
    name: str
    path: Path
    manifest: dict
    removed: list[str]

    @property
    def summary(self) -> dict:
        m = self.manifest
        return {
            "name": self.name,
            "path": str(self.path),
            "bytes": m["totals"]["bytes"],
            "size": human_size(m["totals"]["bytes"]),
            "files": m["totals"]["files"],
            "rows": m["database"]["rows"],
            "records_sha256": m["database"]["records_sha256"],
            "seconds": m["duration_seconds"],
            "export_seconds": m["timings"]["database"],
            "copy_seconds": m["timings"]["files"],
            "verify_seconds": m["timings"]["verify"],
            "started_at": m["started_at"],
            "finished_at": m["finished_at"],
            "removed_old": self.removed,
        }


def run_backup(*, trigger: str = "manual", user=None, using=DEFAULT_DB_ALIAS) -> BackupResult:
    """Make, verify and keep one backup; raise BackupError (Chinese) on failure."""
    root = backup_root()
    started = timezone.now()
    t0 = time.monotonic()
    tmp = None
    name = None
    try:
        with _exclusive_lock():
            _remove_interrupted(root)
            _check_free_space(root, int(_source_bytes() * 1.1) + 16 * 1024 * 1024)
            name = _choose_name(root, started)
            tmp = root / f"{TMP_PREFIX}{name}-{os.getpid()}"
            tmp.mkdir(mode=seal.DIR_MODE)
            timings = {}

            t = time.monotonic()
            database = export_database(tmp / DATABASE_FILE, using)
            files = [{"path": DATABASE_FILE, **hash_file(tmp / DATABASE_FILE)}]
            timings["database"] = round(time.monotonic() - t, 3)

            t = time.monotonic()
            for label, source in file_sources():
                for src in _walk_files(source):
                    rel = f"{label}/{src.relative_to(source).as_posix()}"
                    files.append({"path": rel, **copy_and_hash(src, tmp / rel)})
            timings["files"] = round(time.monotonic() - t, 3)

            manifest = {
                "format": FORMAT_VERSION,
                "name": name,
                "trigger": trigger,
                "started_by": getattr(user, "username", "") or "系统",
                "host": socket.gethostname(),
                "started_at": started.isoformat(),
                "hash_algorithms": hash_algorithms(),
                "sources": {label: str(p) for label, p in file_sources()},
                "database": database,
                "files": files,
                "totals": {
                    "files": len(files),
                    "bytes": sum(f["size"] for f in files),
                    "media_files": sum(1 for f in files if f["path"].startswith("media/")),
                    "archive_files": sum(1 for f in files if f["path"].startswith("archive/")),
                },
                "versions": _versions(),
            }
            _write_manifest(tmp, manifest)

            t = time.monotonic()
            check = verify_backup(tmp, require_marker=False)
            if not check.ok:
                raise BackupError("备份写入后核验失败：" + "；".join(check.problems[:5]))
            timings["verify"] = round(time.monotonic() - t, 3)

            manifest["timings"] = timings
            manifest["finished_at"] = timezone.now().isoformat()
            manifest["duration_seconds"] = round(time.monotonic() - t0, 3)
            manifest["verified"] = {"files": check.files_checked, "bytes": check.bytes_checked}
            raw = _write_manifest(tmp, manifest)
            # encrypt every file and sign the manifest with the key outside DATA_DIR
            marker = {**seal.seal_folder(tmp, raw), "completed_at": manifest["finished_at"]}
            os.sync()  # every copied file on disk before the marker says so
            _write_durably(tmp / MARKER_FILE, json.dumps(marker).encode())
            os.chmod(tmp / MARKER_FILE, seal.FILE_MODE)
            final = root / name
            os.rename(tmp, final)
            _fsync_dir(root)
            tmp = None
            removed = _prune(root, keep_count())
    except BaseException as exc:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        _append_history(
            {
                "name": name,
                "status": "failed",
                "trigger": trigger,
                "started_at": started.isoformat(),
                "finished_at": timezone.now().isoformat(),
                "seconds": round(time.monotonic() - t0, 3),
                "error": str(exc) or exc.__class__.__name__,
            }
        )
        if isinstance(exc, BackupError) or not isinstance(exc, Exception):
            raise
        raise BackupError(f"备份失败：{exc}") from exc
    result = BackupResult(name, final, manifest, removed)
    _append_history({"status": "ok", "trigger": trigger, **result.summary})
    record_verification(name, check, "backup", at=manifest["finished_at"])
    return result


def _write_manifest(folder: Path, manifest: dict) -> bytes:
    raw = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
    _write_durably(folder / MANIFEST_FILE, raw)
    return raw


def _versions() -> dict:
    import django
    import wagtail

    return {"django": django.get_version(), "wagtail": wagtail.__version__}


# ---------------------------------------------------------------- restoring


def instance_content(using=DEFAULT_DB_ALIAS) -> list[str]:
    """What the database holds beyond what `migrate` writes (empty list: an empty instance)."""
    from cms.usage.models import UsageAction

    seeded = seeded_models()
    found = []
    for model in backed_up_models():
        label = model._meta.label_lower
        qs = model._base_manager.using(using)
        if label == "wagtailcore.page":
            n = qs.count()
            if n > SEEDED_PAGE_LIMIT:
                found.append(f"页面 {n} 个（新实例只有 {SEEDED_PAGE_LIMIT} 个）")
            continue
        if label == "usage.usagerecord":
            n = qs.exclude(user__isnull=True, action=UsageAction.PERMISSION_CHANGE).count()
            if n:
                found.append(f"使用记录 {n} 条")
            continue
        if label in seeded:
            continue
        n = qs.count()
        if n:
            found.append(f"{model._meta.verbose_name}（{label}）{n} 条")
    return found


def _non_empty_dirs() -> list[str]:
    found = []
    for label, root in file_sources():
        if root.is_dir() and any(root.iterdir()):
            found.append(f"{root}（{ {'media': '媒体文件', 'archive': '档案文件'}[label] }）")
    return found


@contextmanager
def _signals_muted():
    """Rows come back exactly as they were: no receiver may add, change or log anything."""
    muted = [
        signals.pre_save,
        signals.post_save,
        signals.pre_delete,
        signals.post_delete,
        signals.m2m_changed,
    ]
    saved = []
    for s in muted:
        with s.lock:
            saved.append((s, s.receivers))
            s.receivers = []
            s.sender_receivers_cache.clear()
    try:
        yield
    finally:
        for s, receivers in saved:
            with s.lock:
                s.receivers = receivers
                s.sender_receivers_cache.clear()


def _flush_all(using):
    connection = connections[using]
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    statements = connection.ops.sql_flush(
        no_style(), tables, reset_sequences=True, allow_cascade=False
    )
    connection.ops.execute_sql_flush(statements)


def _load_rows(path: Path, using) -> dict[str, int]:
    """Insert every row of the export (primary keys kept) without signals."""
    connection = connections[using]
    counts: dict[str, int] = {}
    pending: dict = {}
    links: dict = {}

    def flush(model):
        objs = pending.pop(model, [])
        if not objs:
            return
        fields = list(model._meta.local_concrete_fields)
        size = max(1, connection.ops.bulk_batch_size(fields, objs) or len(objs))
        for i in range(0, len(objs), size):
            model._base_manager.using(using)._insert(
                objs[i : i + size], fields=fields, using=using, raw=True
            )

    current = None
    with open(path, encoding="utf-8") as f:
        for d in serializers.deserialize("jsonl", f, using=using, ignorenonexistent=False):
            obj = d.object
            model = type(obj)
            if model is not current and current is not None:
                flush(current)
            current = model
            pending.setdefault(model, []).append(obj)
            label = model._meta.label_lower
            counts[label] = counts.get(label, 0) + 1
            for field_name, pks in (d.m2m_data or {}).items():
                m2m = model._meta.get_field(field_name)
                through = m2m.remote_field.through
                src, dst = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
                rows = links.setdefault(through, [])
                rows.extend(
                    through(**{f"{src}_id": obj.pk, f"{dst}_id": target_pk}) for target_pk in pks
                )
            if len(pending.get(model, [])) >= ROW_BATCH:
                flush(model)
    if current is not None:
        flush(current)
    for through, rows in links.items():
        through._base_manager.using(using).bulk_create(rows, batch_size=500)
    return counts


def _reset_sequences(using):
    connection = connections[using]
    statements = connection.ops.sequence_reset_sql(
        no_style(), [m for m in apps.get_models(include_auto_created=True) if m._meta.managed]
    )
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


@dataclass
class RestoreResult:
    path: Path
    rows: dict[str, int]
    files: int
    bytes: int
    records_sha256: str
    timings: dict[str, float]
    indexed: str = ""

    @property
    def summary(self) -> dict:
        return {
            "path": str(self.path),
            "rows": sum(self.rows.values()),
            "rows_per_model": {k: v for k, v in sorted(self.rows.items()) if v},
            "files": self.files,
            "bytes": self.bytes,
            "records_sha256": self.records_sha256,
            "timings": self.timings,
        }


def check_restorable(path: Path, using=DEFAULT_DB_ALIAS, plain=None) -> dict:
    """Every check a restore makes before writing; returns the manifest or raises RestoreRefused."""
    _manifest, problems = read_manifest(Path(path))
    if problems:
        raise RestoreRefused("备份未通过认证，拒绝恢复，未写入任何数据：" + "；".join(problems))
    check = verify_backup(path, plain=plain)
    if not check.ok:
        raise RestoreRefused("备份校验未通过，未写入任何数据：" + "；".join(check.problems[:8]))
    manifest = check.manifest
    content = instance_content(using)
    if content:
        raise RestoreRefused(
            "目标实例不是空实例，拒绝恢复（恢复只能写入刚执行过 migrate 的空数据库）。"
            "数据库中已有：" + "；".join(content[:8])
        )
    dirs = _non_empty_dirs()
    if dirs:
        raise RestoreRefused("目标实例的文件目录不是空的，拒绝恢复：" + "；".join(dirs))
    ours = applied_migrations(using)
    theirs = manifest["database"]["migrations"]
    if ours != theirs:
        diff = []
        for app in sorted(set(ours) | set(theirs)):
            a, b = set(ours.get(app, [])), set(theirs.get(app, []))
            if a != b:
                only_backup = sorted(b - a)[:3]
                only_here = sorted(a - b)[:3]
                diff.append(f"{app}（备份独有：{only_backup}；本实例独有：{only_here}）")
        raise RestoreRefused(
            "备份的数据库结构（迁移）与本实例不一致，请使用同一版本的程序恢复："
            + "；".join(diff[:6])
        )
    present = {m._meta.label_lower for m in backed_up_models()}
    missing = sorted(set(manifest["database"]["models"]) - present)
    if missing:
        raise RestoreRefused("备份中有本实例没有的数据表：" + "、".join(missing))
    return manifest


def restore_backup(path, *, using=DEFAULT_DB_ALIAS, rebuild_index: bool = True, stdout=None):
    """Restore the backup at *path* into this (empty) instance."""
    path = Path(path).resolve()
    say = (lambda msg: stdout.write(msg)) if stdout else (lambda msg: None)
    with _exclusive_lock():
        _manifest, problems = read_manifest(path)
        if problems:
            raise RestoreRefused("备份未通过认证，拒绝恢复，未写入任何数据：" + "；".join(problems))
        say("正在解密并核验备份中每个文件的摘要……")
        with seal.unsealed(path, skip={MARKER_FILE}) as (plain, undecryptable):
            if undecryptable:
                raise RestoreRefused(
                    "备份校验未通过，未写入任何数据：" + "；".join(undecryptable[:8])
                )
            return _restore_plain(path, plain, using, rebuild_index, say)


def _restore_plain(sealed_path, path, using, rebuild_index, say):
    """The restore proper, from *path*, the decrypted copy of the backup at *sealed_path*."""
    timings = {}
    t = time.monotonic()
    manifest = check_restorable(sealed_path, using, plain=path)
    timings["verify"] = round(time.monotonic() - t, 3)

    t = time.monotonic()
    data_dir = Path(settings.DATA_DIR)
    staging = data_dir / f".restore-staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    entries = [e for e in manifest["files"] if e["path"] != DATABASE_FILE]
    try:
        say(f"正在复制 {len(entries)} 个文件到暂存目录……")
        for entry in entries:
            got = copy_and_hash(path / entry["path"], staging / entry["path"])
            if got["sha256"] != entry["sha256"]:
                raise RestoreRefused(f"复制后摘要不符，已停止：{entry['path']}")
        timings["files"] = round(time.monotonic() - t, 3)

        t = time.monotonic()
        say("正在载入数据库记录……")
        expected = manifest["database"]["models"]
        from django.contrib.contenttypes.models import ContentType

        ContentType.objects.clear_cache()  # the target's ids are about to change
        with _signals_muted(), transaction.atomic(using=using):
            _flush_all(using)
            counts = _load_rows(path / DATABASE_FILE, using)
            _reset_sequences(using)
            connections[using].check_constraints()
            digest = records_digest(using)
            wrong = [
                label
                for label in sorted(set(expected) | set(digest))
                if expected.get(label) != digest.get(label)
            ]
            if wrong:
                raise BackupError("恢复后的记录与备份不一致，已全部撤销：" + "、".join(wrong[:8]))
        timings["database"] = round(time.monotonic() - t, 3)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        ContentType.objects.clear_cache()
        raise
    ContentType.objects.clear_cache()
    for label, root in file_sources():
        src = staging / label
        if not src.is_dir():
            continue
        root.parent.mkdir(parents=True, exist_ok=True)
        if root.is_dir():
            root.rmdir()  # checked empty above
        shutil.move(src, root)  # a rename; a copy when MEDIA_ROOT is on another disk
    shutil.rmtree(staging, ignore_errors=True)

    result = RestoreResult(
        path=sealed_path,
        rows=counts,
        files=len(entries),
        bytes=sum(e["size"] for e in entries),
        records_sha256=combined_digest(digest),
        timings=timings,
    )
    if rebuild_index:
        t = time.monotonic()
        say("正在重建检索索引……")
        from django.core.management import call_command

        out = io.StringIO()
        call_command("update_index", stdout=out, stderr=out)
        result.indexed = out.getvalue()
        timings["index"] = round(time.monotonic() - t, 3)
    return result


def files_digest(roots=None) -> dict[str, str]:
    """SHA-256 of every file under the media and archive folders, by backup path."""
    out = {}
    for label, root in roots or file_sources():
        for p in _walk_files(root):
            out[f"{label}/{p.relative_to(root).as_posix()}"] = hash_file(p)["sha256"]
    return out

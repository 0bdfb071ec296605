"""A migrated SQLite test database built once and copied, instead of migrated per process.

Migrating an empty database through all ~240 migrations costs each pytest process about
15 s of CPU. Every xdist worker of a run needs the same result, so the first worker to get
here migrates and keeps a copy (the *template*); the others wait for it and copy it. The
template lives in the run's DATA_DIR (the parent of the workers' own directories), or, when
TEST_DB_CACHE_DIR is set (make test-fast), in that directory between runs.

A template is named by a digest of everything that decides what the migrations produce: the
migration files of every installed app, the project modules they import (seed data such as
archive/defaults.py), the settings files and the settings they read, and the Python and SQLite
versions. A changed or new migration gives a new name, so a stale template is never used.
After the copy, pytest-django's ``migrate`` still runs: it finds nothing to apply and sends
post_migrate, so the role permissions, content types and permissions come from today's code.
PostgreSQL runs are not touched: their test database is migrated as before.
"""

from __future__ import annotations

import ast
import fcntl
import hashlib
import importlib.util
import os
import re
import sqlite3
import sys
from pathlib import Path

#: Templates kept in a TEST_DB_CACHE_DIR (the newest by use); older ones are removed.
KEEP = 3
_SETTING_RE = re.compile(
    r"""settings\s*\.\s*([A-Z][A-Z0-9_]*)|getattr\(\s*settings\s*,\s*["']([A-Z][A-Z0-9_]*)"""
)


def _project_file(origin: str | None, base: Path) -> Path | None:
    """*origin* if it is one of the project's own source files (not an installed package)."""
    if not origin or not origin.endswith(".py"):
        return None
    path = Path(origin).resolve()
    prefixes = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix)}
    if base not in path.parents or any(p == path or p in path.parents for p in prefixes):
        return None
    return path


def _module_origin(name: str) -> str | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec else None


def template_key() -> str:
    """The digest that names the template for the installed apps' migrations."""
    from django.apps import apps
    from django.conf import settings
    from django.db.migrations.loader import MigrationLoader

    base = Path(settings.BASE_DIR).resolve()
    digest = hashlib.sha256()
    digest.update(f"{sys.version}\0{sqlite3.sqlite_version}\0".encode())
    imported: set[Path] = set()
    read_settings: set[str] = set()
    for app in sorted(apps.get_app_configs(), key=lambda a: a.label):
        module_name, _explicit = MigrationLoader.migrations_module(app.label)
        if not module_name:
            continue
        try:
            spec = importlib.util.find_spec(module_name)
        except ImportError:
            spec = None
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            for path in sorted(Path(location).rglob("*.py")):
                source = path.read_bytes()
                digest.update(f"{app.label}/{path.relative_to(location)}\0".encode())
                digest.update(source)
                if _project_file(str(path), base) is None:
                    continue
                # project migrations: the project modules they import, the settings they read
                text = source.decode("utf-8")
                for node in ast.walk(ast.parse(text)):
                    names = []
                    if isinstance(node, ast.Import):
                        names = [alias.name for alias in node.names]
                    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                        names = [node.module]
                    for name in names:
                        own = _project_file(_module_origin(name), base)
                        if own:
                            imported.add(own)
                for match in _SETTING_RE.finditer(text):
                    read_settings.add(match.group(1) or match.group(2))
    settings_dir = Path(sys.modules[settings.SETTINGS_MODULE].__file__).resolve().parent
    for path in sorted(imported | set(settings_dir.glob("*.py"))):
        digest.update(f"{path.relative_to(base)}\0".encode())
        digest.update(path.read_bytes())
    for name in sorted(read_settings):
        digest.update(f"{name}={getattr(settings, name, None)!r}\0".encode())
    return digest.hexdigest()[:20]


def _copy(source: Path, target: Path) -> None:
    """A consistent copy of an SQLite database (its WAL included) through the backup API."""
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    os.replace(partial, target)


class Template:
    """The template for this process's SQLite test database, and the lock that makes one
    process build it while the others wait."""

    def __init__(self, directory: Path, test_db: Path, persistent: bool):
        self.directory = directory
        self.test_db = test_db
        self.persistent = persistent
        self.path = directory / f"test-db-{template_key()}.sqlite3"
        self._lock = None

    @classmethod
    def for_default_database(cls) -> Template | None:
        """None unless the default database is SQLite in a file."""
        from django.conf import settings
        from django.db import connections

        db = connections["default"].settings_dict
        name = (db.get("TEST") or {}).get("NAME")
        if not db["ENGINE"].endswith("sqlite3") or not name or "memory" in str(name):
            return None
        cache = os.environ.get("TEST_DB_CACHE_DIR")
        if cache:
            directory, persistent = Path(cache), True
        else:
            # the run's DATA_DIR: cms.settings.test gives each xdist worker xdist-gwN inside it
            directory, persistent = Path(settings.DATA_DIR), False
            worker = os.environ.get("PYTEST_XDIST_WORKER")
            if worker and directory.name == f"xdist-{worker}":
                directory = directory.parent
        directory.mkdir(parents=True, exist_ok=True)
        return cls(directory, Path(name), persistent)

    def restore(self) -> bool:
        """Copy the template to the test database if there is one (True). If there is none,
        hold the lock and return False: this process migrates, then calls save()."""
        self._lock = open(self.directory / "test-db.lock", "w")  # noqa: SIM115
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        if not self.path.exists():
            return False
        try:
            self.test_db.parent.mkdir(parents=True, exist_ok=True)
            for stale in (self.test_db, *self._sidecars(self.test_db)):
                stale.unlink(missing_ok=True)
            _copy(self.path, self.test_db)
            if self.persistent:
                os.utime(self.path)  # the newest by use is kept longest
        finally:
            self._release()
        return True

    def save(self) -> None:
        """Keep the freshly migrated test database as the template and let the others in."""
        try:
            _copy(self.test_db, self.path)
            if self.persistent:
                others = sorted(
                    (p for p in self.directory.glob("test-db-*.sqlite3") if p != self.path),
                    key=lambda p: p.stat().st_mtime,
                    reverse=True,
                )
                for old in others[KEEP - 1 :]:
                    old.unlink(missing_ok=True)
        finally:
            self._release()

    def _release(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    @staticmethod
    def _sidecars(path: Path) -> list[Path]:
        return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]

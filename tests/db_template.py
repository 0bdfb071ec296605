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

On PostgreSQL the template is a database of the server (``PostgresTemplate``): the first
worker migrates its test database and copies it with ``CREATE DATABASE … TEMPLATE``, the
others are created from that copy. It is named by the same digest and the run's directory,
and dropped at the end of the run (``drop_run_templates``); a later run drops the template of a
run that was killed, once that run's directory is gone.

``migrated_instance`` gives the tests that start new instances in other processes (backup
restores, a booted web worker) one migrated SQLite database per run to copy.
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
import zlib
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
        self.key = template_key()
        self.path = directory / f"test-db-{self.key}.sqlite3"
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
            directory, persistent = run_directory() or Path(settings.DATA_DIR), False
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


#: One lock for every template database of the server (pg_advisory_lock's key).
_PG_LOCK = zlib.crc32(b"rd-test-db-template")


def run_directory() -> Path | None:
    """The directory this test run's processes share: the parent of the xdist worker's
    DATA_DIR (cms.settings.test), or DATA_DIR itself outside xdist. Read from the
    environment: some tests point settings.DATA_DIR elsewhere."""
    data_dir = os.environ.get("DATA_DIR")
    if not data_dir:
        return None
    path = Path(data_dir)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and path.name == f"xdist-{worker}":
        return path.parent
    return path


class PostgresTemplate:
    """The template of this run's PostgreSQL test databases: a database of the server,
    made from the first worker's freshly migrated test database. Same interface as Template."""

    def __init__(self, connection, run_dir: Path):
        self.connection = connection
        self.run_dir = run_dir
        self.test_db = connection.creation._get_test_db_name()
        run = hashlib.sha256(str(run_dir).encode()).hexdigest()[:8]
        self.key = template_key()
        self.name = f"rdtpl_{self.key[:16]}_{run}"
        self._admin = None
        self.restored = False

    @classmethod
    def for_default_database(cls) -> PostgresTemplate | None:
        from django.db import connections

        connection = connections["default"]
        run_dir = run_directory()
        if connection.vendor != "postgresql" or run_dir is None:
            return None
        return cls(connection, run_dir)

    def _connect(self):
        return pg_admin_connection(self.connection.settings_dict)

    def _exists(self, name: str) -> bool:
        row = self._admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return row.fetchone() is not None

    def restore(self) -> bool:
        """Create the test database from the template (True); without one, hold the lock
        and return False: this process migrates, then calls save()."""
        self._admin = self._connect()
        self._admin.execute("SELECT pg_advisory_lock(%s)", [_PG_LOCK])
        if not self._exists(self.name):
            return False
        try:
            self._admin.execute(f'DROP DATABASE IF EXISTS "{self.test_db}" WITH (FORCE)')
            self._admin.execute(f'CREATE DATABASE "{self.test_db}" TEMPLATE "{self.name}"')
        finally:
            self._release()
        self.restored = True
        return True

    def save(self) -> None:
        """Copy the freshly migrated test database to the template and let the others in.
        Templates of runs whose directory is gone are dropped here."""
        from django.db import connections

        try:
            connections.close_all()  # CREATE DATABASE … TEMPLATE needs it unused
            stale = self._admin.execute(
                "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
                "WHERE datname LIKE 'rdtpl\\_%%' AND datname <> %s",
                [self.name],
            ).fetchall()
            for name, run_dir in stale:
                if not run_dir or not Path(run_dir).exists():
                    self._admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self._admin.execute(f'CREATE DATABASE "{self.name}" TEMPLATE "{self.test_db}"')
            escaped = str(self.run_dir).replace("'", "''")
            self._admin.execute(f"COMMENT ON DATABASE \"{self.name}\" IS '{escaped}'")
        finally:
            self._release()

    def clone_to(self, name: str) -> bool:
        """Create database *name* from this run's template; False when there is none (yet)."""
        with self._connect() as admin:
            admin.execute("SELECT pg_advisory_lock(%s)", [_PG_LOCK])
            self._admin = admin
            try:
                if not self._exists(self.name):
                    return False
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
                return True
            finally:
                self._admin = None

    def drop_test_database(self) -> None:
        """A database created from the template is this run's to drop (pytest-django keeps
        what it did not create)."""
        from django.db import connections

        connections.close_all()
        with self._connect() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.test_db}" WITH (FORCE)')

    def _release(self) -> None:
        if self._admin is not None:
            self._admin.close()  # ends the session: the advisory lock goes with it
            self._admin = None


def pg_admin_connection(db: dict):
    """An autocommit connection to the server's ``postgres`` database, as the user of *db*
    (a DATABASES entry): for creating and dropping databases."""
    import psycopg

    return psycopg.connect(
        dbname="postgres",
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        autocommit=True,
    )


def drop_run_templates() -> None:
    """Drop this run's PostgreSQL template databases: called once every worker has ended (the
    xdist controller's, or the only process's, session finish). A run killed before this
    leaves its template to the next run's save()."""
    from django.db import connections

    run_dir = run_directory()
    db = connections["default"].settings_dict
    if run_dir is None or not db["ENGINE"].endswith("postgresql"):
        return
    with pg_admin_connection(db) as admin:
        admin.execute("SELECT pg_advisory_lock(%s)", [_PG_LOCK])
        mine = admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'rdtpl\\_%%' "
            "AND shobj_description(oid, 'pg_database') = %s",
            [str(run_dir)],
        ).fetchall()
        for (name,) in mine:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrated_instance(target: Path, template: Template | PostgresTemplate | None) -> None:
    """A migrated, empty SQLite database at *target*, for an instance started in another
    process; *template* is the run's (the ``_test_db_template`` fixture: made while the
    settings are the run's own, which a test may have overridden since). Copied from the
    SQLite test database template when the run has one (a caller that wants it asks for the
    database first: the template is made then); else migrated once per run by ``manage.py
    migrate`` (~30 s CPU) and kept in the run's directory for the run's other processes."""
    source = template.path if isinstance(template, Template) else None
    if source is None or not source.exists():
        key = template.key if template is not None else template_key()
        source = _migrated_sqlite(run_directory(), key)
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(source, target)


def _migrated_sqlite(shared: Path | None, key: str) -> Path:
    import subprocess
    import tempfile

    from django.conf import settings

    directory = shared or Path(tempfile.mkdtemp(prefix="rd-test-instance-"))
    data_dir = directory / f"migrated-instance-{key}"
    database = data_dir / "db.sqlite3"
    with open(directory / "migrated-instance.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (data_dir / "migrated").exists():
            data_dir.mkdir(exist_ok=True)
            env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cms.settings.test"}
            env.update(DATA_DIR=str(data_dir), DATABASE_URL=f"sqlite:///{database}")
            done = subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
                cwd=settings.BASE_DIR,
                env=env,
                capture_output=True,
                text=True,
            )
            assert done.returncode == 0, done.stderr[-3000:]
            (data_dir / "migrated").touch()
    return database

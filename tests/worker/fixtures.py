"""A real Celery worker process for the tests that need one (``celery_worker_process``).

Loaded for the whole test tree by tests/conftest.py (pytest_plugins), like the browser
fixtures: the process is started once per test session (once per pytest-xdist worker) on
first use and shared by every worker test, instead of once per test. It runs against the
test database and the configured broker: the embedded filesystem broker under DATA_DIR by
default, Redis when CELERY_BROKER_URL says so. Each test process has its own DATA_DIR and
its own queue (cms.settings.test), so parallel test workers never take each other's tasks.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from cms.celery import app as celery_app


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


@pytest.fixture(scope="session")
def _celery_worker_session(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        database_url = _database_url()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cms.settings.test",
        "DATA_DIR": str(settings.DATA_DIR),
        "DATABASE_URL": database_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    log = tmp_path_factory.mktemp("celery-worker") / "worker.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cms",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"test-{os.getpid()}@%h",
        ],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    proc.log = log
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def celery_worker_process(transactional_db, _celery_worker_session):
    """The shared worker process; while a test uses it, tasks go to it instead of running eagerly."""
    assert _celery_worker_session.poll() is None, (
        "the Celery worker process has exited:\n" + _celery_worker_session.log.read_text()[-3000:]
    )
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield _celery_worker_session
    finally:
        celery_app.conf.task_always_eager = eager

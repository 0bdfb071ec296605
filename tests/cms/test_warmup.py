"""A web worker does the work of its first requests when it starts (cms/warmup.py)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.db_template import migrated_instance

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
import cms.wsgi
from search import analysis
print("urls", "briefings.views" in sys.modules and "wagtail.admin.views.pages.edit" in sys.modules)
print("lexicon", analysis._lexicon is not None)
from django.db import connections
print("connections", [c.alias for c in connections.all(initialized_only=True) if c.connection])
"""


def boot(data_dir, template=None, migrate: bool = False):
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    env.pop("DATABASE_URL", None)
    env["DATA_DIR"] = str(data_dir)
    if migrate:
        migrated_instance(data_dir / "db.sqlite3", template)
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


@pytest.mark.django_db  # the run's test database first: on SQLite its template is copied
def test_worker_imports_views_and_loads_the_dictionary_at_boot(tmp_path, _test_db_template):
    result = boot(tmp_path, _test_db_template, migrate=True)
    assert result.returncode == 0, result.stderr
    assert "urls True" in result.stdout
    assert "lexicon True" in result.stdout
    # the boot's database connection is closed: request threads open their own
    assert "connections []" in result.stdout


def test_worker_boots_on_a_database_not_migrated_yet(tmp_path):
    """The warm-up never stops a worker: without tables the lexicon has no custom terms and
    the rest still loads."""
    result = boot(tmp_path, migrate=False)
    assert result.returncode == 0, result.stderr
    assert "urls True" in result.stdout

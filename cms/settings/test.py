import os
import tempfile

# A test run gets its own DATA_DIR unless one is given. Under pytest-xdist each worker process
# gets its own directory inside it (media, search index, broker, SQLite test database), exported
# so that the processes a test starts (a Celery worker) share that worker's directory.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if "DATA_DIR" not in os.environ:
    os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix=f"rd-test-{_XDIST_WORKER}-")
    os.environ["RD_TEST_DATA_DIR_WORKER"] = _XDIST_WORKER
elif _XDIST_WORKER and os.environ.get("RD_TEST_DATA_DIR_WORKER") != _XDIST_WORKER:
    os.environ["DATA_DIR"] = os.path.join(os.environ["DATA_DIR"], f"xdist-{_XDIST_WORKER}")
    os.environ["RD_TEST_DATA_DIR_WORKER"] = _XDIST_WORKER
# ...and its own backup key, outside DATA_DIR, shared with the processes it starts.
os.environ.setdefault(
    "BACKUP_KEY_FILE", os.path.join(tempfile.mkdtemp(prefix="rd-test-key-"), "backup.key")
)

from .base import *  # noqa: E402, F403

DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Test databases are migrated once and copied; their index is each test's own business
# (tests/search/test_index_integrity.py turns this on).
SEARCH_INDEX_AFTER_MIGRATE = False
# Tasks run in-process unless a test starts a real worker.
CELERY_TASK_ALWAYS_EAGER = True
# One queue per test process: parallel test workers that start a real Celery worker on a shared
# broker (Redis in CI) never take each other's tasks.
CELERY_TASK_DEFAULT_QUEUE = f"rd-test-{_XDIST_WORKER or 'main'}"

# A file (not in-memory) SQLite test database, so a real worker process started by
# the worker tests can open the same database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}  # noqa: F405

# Models that exist only for the search backend tests.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.search.testapp"]  # noqa: F405

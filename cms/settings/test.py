import os
import tempfile

# A test run gets its own DATA_DIR unless one is given.
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="rd-test-"))
# ...and its own backup key, outside DATA_DIR, shared with the processes it starts.
os.environ.setdefault(
    "BACKUP_KEY_FILE", os.path.join(tempfile.mkdtemp(prefix="rd-test-key-"), "backup.key")
)

from .base import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks run in-process unless a test starts a real worker.
CELERY_TASK_ALWAYS_EAGER = True

# A file (not in-memory) SQLite test database, so a real worker process started by
# the worker tests can open the same database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}  # noqa: F405

# Models that exist only for the search backend tests.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.search.testapp"]  # noqa: F405

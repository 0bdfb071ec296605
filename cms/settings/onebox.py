"""The default settings (manage.py, wsgi.py, celery.py, the Procfile): production-like on
one machine, usable from a fresh clone with no environment variables.

DEBUG is off: errors get the site's Chinese 400/403/404/500 pages, static files come
from WhiteNoise, uploaded files only through permission-checked views. The secret key
comes from SECRET_KEY or, failing that, is generated once and kept in
DATA_DIR/secret_key (0600). Served over plain http on 127.0.0.1 only; a server that
others reach uses cms.settings.production (https, docs/deployment.md).
"""

import os
import secrets

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATA_DIR

DEBUG = False


def persisted_secret_key(path) -> str:
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(64))
    key = path.read_text().strip()
    if len(key) < 50:
        raise ImproperlyConfigured(
            f"密钥文件 {path} 内容过短或已损坏，请删除后重新启动以生成新密钥。"
        )
    return key


if os.environ.get("SECRET_KEY"):
    SECRET_KEY = os.environ["SECRET_KEY"]
else:
    SECRET_KEY = persisted_secret_key(DATA_DIR / "secret_key")

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "SAMEORIGIN"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403

DEBUG = False

if not os.environ.get("SECRET_KEY") or os.environ["SECRET_KEY"].startswith("dev-only"):
    raise ImproperlyConfigured("生产环境必须设置 SECRET_KEY 环境变量。")
if not os.environ.get("ALLOWED_HOSTS"):
    raise ImproperlyConfigured("生产环境必须设置 ALLOWED_HOSTS 环境变量。")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "1") == "1"
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "SAMEORIGIN"

# Every staff-side role must present a second factor unless configured otherwise.
OTP_REQUIRED_ROLES = [
    r
    for r in os.environ.get("OTP_REQUIRED_ROLES", "系统管理员,工作人员,档案员,代表/专家").split(",")
    if r
]

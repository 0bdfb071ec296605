import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403

DEBUG = False

if not os.environ.get("SECRET_KEY") or os.environ["SECRET_KEY"].startswith("dev-only"):
    raise ImproperlyConfigured("生产环境必须设置 SECRET_KEY 环境变量。")
if not os.environ.get("ALLOWED_HOSTS"):
    raise ImproperlyConfigured("生产环境必须设置 ALLOWED_HOSTS 环境变量。")

if not os.environ.get("OTP_WEBAUTHN_RP_ID") or not os.environ.get("OTP_WEBAUTHN_ALLOWED_ORIGINS"):
    raise ImproperlyConfigured(
        "生产环境必须设置 OTP_WEBAUTHN_RP_ID 和 OTP_WEBAUTHN_ALLOWED_ORIGINS（https 地址），否则安全密钥无法使用。"
    )
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# Only safe when the proxy (nginx) overwrites this header from clients; see docs/deployment.md.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
SECURE_HSTS_INCLUDE_SUBDOMAINS = False  # internal host names; no preload on a closed network
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "1") == "1"
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "SAMEORIGIN"
AUTH_PASSWORD_VALIDATORS = [  # noqa: F405
    {**v, "OPTIONS": {"min_length": 12}} if v["NAME"].endswith("MinimumLengthValidator") else v
    for v in AUTH_PASSWORD_VALIDATORS  # noqa: F405
]

# Every staff-side role must present a second factor unless configured otherwise.
OTP_REQUIRED_ROLES = [
    r
    for r in os.environ.get("OTP_REQUIRED_ROLES", "系统管理员,工作人员,档案员,代表/专家").split(",")
    if r
]

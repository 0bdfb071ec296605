import os

from django.core.exceptions import ImproperlyConfigured

from cms.roles import ROLES

from .base import *  # noqa: F403
from .base import DEFAULT_SECRET_KEY

DEBUG = False

WEAK_KEY_PREFIXES = ("dev-only", "django-insecure", "change-me", "changeme", "secret")


def refuse(message: str):
    raise ImproperlyConfigured(message)


def check_secret_key(key: str) -> None:
    if not key:
        refuse("生产环境必须设置 SECRET_KEY 环境变量（50 个以上随机字符）。")
    if (
        len(key) < 50
        or len(set(key)) < 5
        or key.lower().startswith(WEAK_KEY_PREFIXES)
        or key == DEFAULT_SECRET_KEY  # noqa: F405
    ):
        refuse(
            "生产环境的 SECRET_KEY 太弱或是默认值：请设置 50 个以上、至少 5 种不同字符的随机密钥，"
            "例如 python -c 'import secrets; print(secrets.token_urlsafe(64))' 的输出。"
        )


def check_hosts(hosts: list[str]) -> None:
    if not hosts:
        refuse("生产环境必须设置 ALLOWED_HOSTS 环境变量（本系统的主机名，逗号分隔）。")
    wild = [h for h in hosts if "*" in h or h.startswith(".")]
    if wild:
        refuse(
            f"生产环境的 ALLOWED_HOSTS 不能使用通配主机（{'、'.join(wild)}）：请逐个写出本系统的主机名。"
        )


def check_webauthn(rp_id: str, origins: list[str]) -> None:
    if not rp_id or not origins:
        refuse(
            "生产环境必须设置 OTP_WEBAUTHN_RP_ID 和 OTP_WEBAUTHN_ALLOWED_ORIGINS（https 地址），否则安全密钥无法使用。"
        )
    plain = [o for o in origins if not o.startswith("https://")]
    if plain:
        refuse(
            f"生产环境的 OTP_WEBAUTHN_ALLOWED_ORIGINS 必须是 https 地址（{'、'.join(plain)} 不是）："
            "安全密钥只在加密连接上可信。"
        )


SECRET_KEY = os.environ.get("SECRET_KEY", "")
check_secret_key(SECRET_KEY)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
check_hosts(ALLOWED_HOSTS)
OTP_WEBAUTHN_RP_ID = os.environ.get("OTP_WEBAUTHN_RP_ID", "")
OTP_WEBAUTHN_ALLOWED_ORIGINS = [
    o.strip() for o in os.environ.get("OTP_WEBAUTHN_ALLOWED_ORIGINS", "").split(",") if o.strip()
]
check_webauthn(OTP_WEBAUTHN_RP_ID, OTP_WEBAUTHN_ALLOWED_ORIGINS)

# links in e-mails: the https address of the system, by default the first allowed host
SITE_BASE_URL = os.environ.get("SITE_BASE_URL", f"https://{ALLOWED_HOSTS[0]}").rstrip("/")
if not SITE_BASE_URL.startswith("https://"):
    refuse(
        f"生产环境的 SITE_BASE_URL 必须是 https 地址（现为 {SITE_BASE_URL}），邮件中的链接由它生成。"
    )
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", SITE_BASE_URL)
DEMO_DATA_ALLOWED = False
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# Only safe when the proxy (nginx) overwrites this header from clients; see docs/deployment.md.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
# Internal host names on a closed network: other internal hosts under the same domain may
# still be plain http (no includeSubDomains), and there is no browser preload list to join.
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
# Wagtail's page preview frames the site in itself (same origin), hence SAMEORIGIN.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W019", "security.W021"]
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

# Every role must present a second factor unless configured otherwise: liaisons too,
# since their accounts reach the deputies' suggestions and the departments' answers.
OTP_REQUIRED_ROLES = [
    r
    for r in os.environ.get(
        "OTP_REQUIRED_ROLES",
        ",".join(ROLES),  # noqa: F405
    ).split(",")
    if r
]

"""Settings of the credentials app, each read with a default so the app works
before the project settings mention it."""

from django.conf import settings

DEFAULT_LOGIN_FAILURE_LIMIT = 5
DEFAULT_LOGIN_FAILURE_WINDOW_MINUTES = 15
DEFAULT_BACKUP_CODE_COUNT = 10


def login_failure_limit() -> int:
    return int(getattr(settings, "LOGIN_FAILURE_LIMIT", DEFAULT_LOGIN_FAILURE_LIMIT))


def login_failure_window_minutes() -> int:
    return int(
        getattr(settings, "LOGIN_FAILURE_WINDOW_MINUTES", DEFAULT_LOGIN_FAILURE_WINDOW_MINUTES)
    )


def backup_code_count() -> int:
    return int(getattr(settings, "OTP_BACKUP_CODE_COUNT", DEFAULT_BACKUP_CODE_COUNT))


def otp_required_roles() -> list[str]:
    return list(getattr(settings, "OTP_REQUIRED_ROLES", []) or [])

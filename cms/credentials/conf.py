"""Settings of the credentials app, each read with a default so the app works
before the project settings mention it."""

from django.conf import settings

DEFAULT_LOGIN_FAILURE_LIMIT = 5
DEFAULT_LOGIN_FAILURE_WINDOW_MINUTES = 15
DEFAULT_LOGIN_DELAY_SECONDS = 60
DEFAULT_LOGIN_FAILURE_MEMORY_HOURS = 24
DEFAULT_BACKUP_CODE_COUNT = 10


def login_failure_limit() -> int:
    return int(getattr(settings, "LOGIN_FAILURE_LIMIT", DEFAULT_LOGIN_FAILURE_LIMIT))


def login_failure_window_minutes() -> int:
    return int(
        getattr(settings, "LOGIN_FAILURE_WINDOW_MINUTES", DEFAULT_LOGIN_FAILURE_WINDOW_MINUTES)
    )


def login_delay_seconds() -> int:
    """The first wait once the limit is reached; each further failure doubles it."""
    return int(getattr(settings, "LOGIN_DELAY_SECONDS", DEFAULT_LOGIN_DELAY_SECONDS))


def login_failure_memory_hours() -> int:
    """Failures older than this (counted from the latest) are forgotten."""
    return int(getattr(settings, "LOGIN_FAILURE_MEMORY_HOURS", DEFAULT_LOGIN_FAILURE_MEMORY_HOURS))


def backup_code_count() -> int:
    return int(getattr(settings, "OTP_BACKUP_CODE_COUNT", DEFAULT_BACKUP_CODE_COUNT))


def otp_required_roles() -> list[str]:
    return list(getattr(settings, "OTP_REQUIRED_ROLES", []) or [])

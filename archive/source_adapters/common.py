from django.conf import settings
from django.utils import timezone


def office_name() -> str:
    return getattr(settings, "ARCHIVE_OFFICE_NAME", "") or "县人大常委会预算工委"


def local_date(value):
    return timezone.localtime(value).date() if value else None


def local_text(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""

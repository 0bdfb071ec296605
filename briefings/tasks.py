"""Celery tasks of working materials. Beat entry (settings, briefings block)::

"briefings-plan-and-remind": {"task": "briefings.tasks.plan_and_remind", ...}
"""

import logging
import time

from celery import shared_task
from django.conf import settings

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def plan_and_remind() -> dict:
    """Create the schedule's items for this year (and last year's annual ones) and send
    the reminders that are due today."""
    from .services import plan_and_remind as run

    return run()


def _retries() -> int:
    return int(getattr(settings, "BRIEFINGS_RENDITION_RETRIES", 2))


def _retry_seconds() -> float:
    return float(getattr(settings, "BRIEFINGS_RENDITION_RETRY_SECONDS", 10))


def _attempt(make, kind):
    """Run *make*; a RenditionError is tried again (LibreOffice may time out under load),
    except when the tool is simply not installed. Returns (result, error, attempts)."""
    from . import officialdoc
    from .choices import RenditionKind

    attempts = 0
    while True:
        attempts += 1
        try:
            return make(), None, attempts
        except officialdoc.RenditionError as error:
            missing_tool = kind == RenditionKind.PDF and not officialdoc.soffice_available()
            if missing_tool or attempts > _retries():
                return None, error, attempts
            time.sleep(_retry_seconds() * attempts)


@shared_task(ignore_result=True)
def render_briefing(page_id: int, revision_id=None, requested_by=None) -> dict:
    """DOCX, then PDF where LibreOffice exists, of a published briefing. A failure is
    tried again, then recorded and reported to the requester (or the staff); a DOCX is
    kept even when the PDF fails."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from cms import roles
    from cms.notifications.services import notify

    from . import renditions
    from .choices import RenditionKind
    from .models import BriefingPage

    page = BriefingPage.objects.filter(pk=page_id).first()
    if page is None or not page.live:
        return {"skipped": True}
    result = {}
    docx = None
    for kind in (RenditionKind.DOCX, RenditionKind.PDF):
        if kind == RenditionKind.DOCX:
            made, error, attempts = _attempt(
                lambda: renditions.render_docx(page, revision_id), kind
            )
            docx = made
        else:
            made, error, attempts = _attempt(lambda d=docx: renditions.render_pdf(page, d), kind)
        if made is not None:
            result[str(kind)] = made.pk
            continue
        renditions.record_failure(page, revision_id, kind, str(error), attempts=attempts)
        User = get_user_model()
        people = (
            User.objects.filter(pk=requested_by)
            if requested_by
            else User.objects.filter(groups__name=roles.STAFF, is_active=True)
        )
        notify(
            people,
            f"简报文件生成失败：{page.title}",
            body=f"{str(kind).upper()} 版本未能生成（{timezone.localtime():%Y-%m-%d %H:%M}，"
            f"共尝试 {attempts} 次）：{error}",
            url=page.url or "",
            category="briefings",
            email=False,
        )
        result[f"{kind}_error"] = str(error)
        if kind == RenditionKind.DOCX:
            break
    return result

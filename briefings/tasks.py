"""Celery tasks of working materials. Beat entry (settings, briefings block)::

"briefings-plan-and-remind": {"task": "briefings.tasks.plan_and_remind", ...}
"""

import logging

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


@shared_task(bind=True, ignore_result=True)
def render_briefing(self, page_id: int, revision_id=None, requested_by=None) -> dict:
    """DOCX, then PDF where LibreOffice exists, of a published briefing. A failure is
    retried, then recorded and reported to the requester (or the staff); a DOCX is kept
    even when the PDF fails."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from cms import roles
    from cms.notifications.services import notify

    from . import officialdoc, renditions
    from .choices import RenditionKind
    from .models import BriefingPage

    page = BriefingPage.objects.filter(pk=page_id).first()
    if page is None or not page.live:
        return {"skipped": True}
    result = {}
    for kind in (RenditionKind.DOCX, RenditionKind.PDF):
        try:
            if kind == RenditionKind.DOCX:
                docx = renditions.render_docx(page, revision_id)
                result["docx"] = docx.pk
            else:
                result["pdf"] = renditions.render_pdf(page, docx).pk
        except officialdoc.RenditionError as error:
            missing_tool = kind == RenditionKind.PDF and not officialdoc.soffice_available()
            if not missing_tool and self.request.retries < _retries():
                raise self.retry(countdown=30 * (self.request.retries + 1)) from error
            renditions.record_failure(
                page, revision_id, kind, str(error), attempts=self.request.retries + 1
            )
            User = get_user_model()
            people = (
                User.objects.filter(pk=requested_by)
                if requested_by
                else User.objects.filter(groups__name=roles.STAFF, is_active=True)
            )
            notify(
                people,
                f"简报文件生成失败：{page.title}",
                body=f"{kind.upper()} 版本未能生成（{timezone.localtime():%Y-%m-%d %H:%M}）：{error}",
                url=page.url or "",
                category="briefings",
                email=False,
            )
            result[f"{kind}_error"] = str(error)
            if kind == RenditionKind.DOCX:
                break
    return result

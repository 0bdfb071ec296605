"""Background work of letters: renditions and the overdue-answer reminder."""

from celery import shared_task


@shared_task(bind=True, max_retries=2, default_retry_delay=60)
def render_letter(self, letter_id: int) -> str:
    """DOCX (+ PDF) of a letter. A failed conversion is retried, then reported to the owner."""
    from briefings.officialdoc import RenditionError

    from . import services

    try:
        services.render_files(letter_id)
    except RenditionError as exc:
        if self.request.retries < self.max_retries:
            if self.request.is_eager:
                # no worker (eager mode propagates Retry as an error): try again at once
                return render_letter.apply(
                    args=(letter_id,), retries=self.request.retries + 1
                ).result
            raise self.retry(exc=exc) from None
        services.rendition_failed(letter_id, str(exc))
        return "failed"
    return "done"


@shared_task
def remind_overdue_answers() -> int:
    from .services import remind_overdue_answers as remind

    return len(remind())

"""Background work of 代表建议: the daily reminders (scheduled in cms/settings/base.py)."""

from celery import shared_task


@shared_task
def send_reminders() -> dict:
    """Remind units of answers due soon; list overdue items for staff and for each unit."""
    from .reminders import run_reminders

    return run_reminders()

"""Background work of the budget module: alert evaluation after imports and nightly."""

from celery import shared_task
from celery.schedules import crontab

from cms.celery import app

NIGHTLY = "budget-nightly-alerts"


@shared_task
def evaluate_alerts_after_import(batch_id: int) -> int:
    from .alerts import evaluate_all

    return len(evaluate_all())


@shared_task
def nightly_alerts() -> dict:
    """Evaluate every active rule and remind owners of overdue alerts."""
    from .alerts import evaluate_all, remind_overdue

    return {"raised": len(evaluate_all()), "reminded": len(remind_overdue())}


# Beat reads its schedule after the worker modules are imported, so the module that owns
# the task adds its entry here; a CELERY_BEAT_SCHEDULE entry of the same name wins.
app.conf.beat_schedule.setdefault(
    NIGHTLY, {"task": "budget.tasks.nightly_alerts", "schedule": crontab(hour=2, minute=15)}
)

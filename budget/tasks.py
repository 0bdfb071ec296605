"""Background work of the budget module: alert evaluation after imports and nightly."""

from celery import shared_task


@shared_task
def evaluate_alerts_after_import(batch_id: int) -> int:
    from .alerts import evaluate_all

    return len(evaluate_all())


@shared_task
def nightly_alerts() -> dict:
    """Evaluate every active rule and remind owners of overdue alerts."""
    from .alerts import evaluate_all, remind_overdue

    return {"raised": len(evaluate_all()), "reminded": len(remind_overdue())}

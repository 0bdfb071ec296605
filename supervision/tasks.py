"""Background work of supervision: debt rules after each debt import."""

from celery import shared_task


@shared_task
def evaluate_debt_alerts() -> int:
    from supervision.alerts import evaluate_rule
    from supervision.models import AlertRule

    from .debt_rules import FINDERS

    raised = 0
    for rule in AlertRule.objects.filter(is_active=True, kind__in=list(FINDERS)).order_by("pk"):
        raised += len(evaluate_rule(rule))
    return raised


@shared_task
def remind_overdue_findings() -> int:
    """Daily: remind units and handlers of audit findings past their rectification deadline."""
    from .audit import remind_overdue

    return len(remind_overdue())


@shared_task
def remind_overdue_queries() -> int:
    """Daily: tell staff about query requests past their answer date."""
    from .queries import remind_overdue

    return len(remind_overdue())


@shared_task
def evaluate_alerts_after_import(batch_id: int) -> int:
    """After a budget import commits (budget.signals.figures_imported): every active rule."""
    from .alerts import evaluate_all

    return len(evaluate_all())


@shared_task
def nightly_alerts() -> dict:
    """Evaluate every active rule and remind owners of overdue alerts."""
    from .alerts import evaluate_all, remind_overdue

    return {"raised": len(evaluate_all()), "reminded": len(remind_overdue())}

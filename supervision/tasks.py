"""Background work of supervision: debt rules after each debt import."""

from celery import shared_task


@shared_task
def evaluate_debt_alerts() -> int:
    from budget.alerts import evaluate_rule
    from budget.models import AlertRule

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

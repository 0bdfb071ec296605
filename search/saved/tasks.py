"""Celery tasks of saved searches. The beat entry (settings.CELERY_BEAT_SCHEDULE)::

"saved-search-subscriptions": {
    "task": "search.saved.tasks.check_saved_search_subscriptions",
    "schedule": 30 * 60,
}
"""

from celery import shared_task


@shared_task(ignore_result=True)
def check_saved_search_subscriptions() -> int:
    """Announce new results of every subscribed saved search (every 30 minutes)."""
    from .services import check_saved_searches

    return check_saved_searches()


@shared_task(ignore_result=True)
def notify_matches_for(app_label: str, model_name: str, pk) -> int:
    """notify_saved_search_matches for one object, for modules that prefer to enqueue
    it after their publishing transaction commits."""
    from django.apps import apps

    from .services import notify_saved_search_matches

    model = apps.get_model(app_label, model_name)
    obj = model._default_manager.filter(pk=pk).first()
    return notify_saved_search_matches(obj) if obj is not None else 0

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


@shared_task(ignore_result=True)
def notify_matches_for_many(items: list) -> int:
    """notify_matches_for for many ``(app_label, model_name, pk)`` items published together
    (the pages of a bulk import): one notice per subscriber and search for all of them
    (search.saved.services.notify_saved_search_matches_many), the objects read once per
    model."""
    from django.apps import apps

    from .services import notify_saved_search_matches_many, subscribed_searches

    if not subscribed_searches():  # nobody to tell: the objects are not read
        return 0
    by_model: dict[tuple[str, str], list] = {}
    for app_label, model_name, pk in items:
        by_model.setdefault((app_label, model_name), []).append(pk)
    objects = []
    for (app_label, model_name), pks in by_model.items():
        found = apps.get_model(app_label, model_name)._default_manager.in_bulk(pks)
        objects.extend(found[pk] for pk in pks if pk in found)
    return notify_saved_search_matches_many(objects)

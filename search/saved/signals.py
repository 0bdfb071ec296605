"""Published Wagtail pages are announced to subscribers without each page type having
to call notify_saved_search_matches itself (calling it too is harmless: once per item)."""

from django.db import transaction


def announce_published_page(sender, instance, **kwargs):
    from .tasks import notify_matches_for

    meta = instance.specific_class._meta if instance.specific_class else instance._meta
    app_label, model_name, pk = meta.app_label, meta.model_name, instance.pk
    transaction.on_commit(lambda: notify_matches_for.delay(app_label, model_name, pk))

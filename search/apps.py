from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SearchConfig(AppConfig):
    name = "search"
    label = "site_search"
    verbose_name = "全文检索"

    def ready(self):
        from .integrity import index_after_migrate

        post_migrate.connect(index_after_migrate, dispatch_uid="search_index_after_migrate")
        _skip_held_saves()


def _skip_held_saves():
    """modelsearch's post_save handler, made to pass over the saves that
    ``search.indexing.held_writes`` holds back. The handler runs an index task for every
    save, which reads the object back from the database (two queries for a page) before
    the backend drops the write; an imported policy page is saved twice (created, then its
    revision) and indexed once. This app's ready() runs before modelsearch's
    (INSTALLED_APPS order), which connects whatever handler its module holds then."""
    from modelsearch import signal_handlers

    from .indexing import is_held

    original = signal_handlers.post_save_signal_handler
    if getattr(original, "skips_held", False):
        return

    def post_save_signal_handler(instance, **kwargs):
        if is_held(instance):
            return
        original(instance, **kwargs)

    post_save_signal_handler.skips_held = True
    signal_handlers.post_save_signal_handler = post_save_signal_handler

"""Published Wagtail pages are announced to subscribers without each page type having
to call notify_saved_search_matches itself (calling it too is harmless: once per item).

Each page is announced by a task of its own once its transaction commits; inside
:func:`announcements_batched` (a bulk import) the committed pages are gathered and
announced by one task per ``size`` pages instead."""

import contextlib
import logging
import threading

from django.db import transaction

log = logging.getLogger(__name__)
_local = threading.local()


def announce_published_page(sender, instance, **kwargs):
    meta = instance.specific_class._meta if instance.specific_class else instance._meta
    item = (meta.app_label, meta.model_name, instance.pk)
    transaction.on_commit(lambda: _announce(item))


def _announce(item) -> None:
    from .tasks import notify_matches_for

    batch = getattr(_local, "batch", None)
    if batch is None:
        notify_matches_for.delay(*item)
        return
    batch["items"].append(item)
    if len(batch["items"]) >= batch["size"]:
        _send(batch)


def _send(batch) -> None:
    from .tasks import notify_matches_for_many

    items, batch["items"] = batch["items"], []
    if not items:
        return
    try:
        notify_matches_for_many.delay([list(item) for item in items])
    except Exception:  # no broker: the half-hourly check of the subscriptions finds them
        log.warning(
            "saved-search notices of %d published pages not queued", len(items), exc_info=True
        )


@contextlib.contextmanager
def announcements_batched(size: int = 200):
    """Pages published (and committed) inside are announced by one task per ``size``
    pages, and the rest when the block ends (however it ends: they are committed)."""
    outer = getattr(_local, "batch", None)
    if outer is not None:  # already batching: the outer block sends them
        yield
        return
    batch = _local.batch = {"items": [], "size": size}
    try:
        yield
    finally:
        _local.batch = None
        _send(batch)

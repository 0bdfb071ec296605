"""Background work for the search index (Celery)."""

from __future__ import annotations

import logging
from io import StringIO

from celery import shared_task

from search.index_lock import IndexBusy

log = logging.getLogger(__name__)

#: A deferred write retries with growing pauses for about half an hour before it waits
#: for the next writer (which drains the spool anyway).
MAX_RETRIES = 12


@shared_task(bind=True, max_retries=MAX_RETRIES, ignore_result=True)
def apply_pending_index_writes(self, index_path: str):
    """Apply the index changes that were deferred because the writer lock was busy."""
    from search.backend import get_store
    from search.indexing import apply_spool

    store = get_store(index_path)
    # Run in the caller's own thread (eager: no worker), it must not hold that request or
    # command for half a minute: it tries as long as any index write would, and when the lock
    # stays busy the writer holding it drains the spool after its commit anyway.
    timeout = store.lock_timeout if self.request.is_eager else 30
    try:
        apply_spool(store, timeout=timeout)
    except IndexBusy as exc:
        if self.request.is_eager:
            log.warning("search index busy; deferred writes stay spooled in %s", index_path)
            return
        raise self.retry(exc=exc, countdown=min(300, 5 * 2**self.request.retries)) from exc


@shared_task(ignore_result=True)
def rebuild_search_index():
    """Full rebuild after a schema change (the version marker no longer matched)."""
    from django.core.management import call_command
    from modelsearch.backends import get_search_backend

    try:
        call_command("update_index", stdout=StringIO())
    finally:
        store = getattr(get_search_backend(), "store", None)
        if store is not None and store.rebuilding:  # the rebuild failed half-way
            store.abort_rebuild()


@shared_task(ignore_result=True)
def recover_index_writes():
    """Beat: apply spooled writes and the write-ahead files of processes that died, so an
    index missing what a killed import committed to the database is mended unattended."""
    from modelsearch.backends import get_search_backends

    from search.indexing import apply_spool, pending_files

    for backend in get_search_backends():
        store = getattr(backend, "store", None)
        if store is None or store.rebuild_in_progress() or not pending_files(store):
            continue
        try:
            apply_spool(store, timeout=30)
        except IndexBusy:
            log.info("search index busy; pending writes wait for the next run")


@shared_task(ignore_result=True)
def compact_index():
    """After a large import, and nightly: merge the index's smallest segments until a
    search visits at most ``indexing.COMPACT_SEGMENTS`` of them."""
    from modelsearch.backends import get_search_backends

    from search.indexing import compact, needs_compaction

    for backend in get_search_backends():
        store = getattr(backend, "store", None)
        if store is None or store.rebuild_in_progress() or not needs_compaction(store):
            continue
        try:
            steps = compact(store, timeout=60)
        except IndexBusy:
            log.info("search index busy; compaction waits for the next run")
            continue
        log.info("search index compacted in %s steps", steps)

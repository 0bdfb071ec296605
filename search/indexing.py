"""The one path by which the index changes: after commit, one writer, never a lost update.

``submit()`` is called by the backend's add/delete (which modelsearch's signal handlers
call on every save and delete). Inside a transaction the write waits for the commit —
a rolled-back save never reaches the index. The write then takes the writer lock with a
bounded wait; if another process holds it too long, the change is recorded in a spool
directory inside the index and a Celery task is queued to apply it. Any later writer
also drains the spool, so a busy index delays an update but cannot drop it. A spooled
change is stored as references (model, primary key) and re-read from the database when
applied, so an old snapshot can never overwrite a newer one.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path

from django.apps import apps
from django.db import transaction

from search.index_lock import IndexBusy

log = logging.getLogger(__name__)

SPOOL_DIR = "pending"


def _spool_dir(store) -> Path:
    path = store.path / SPOOL_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def spooled_batches(store) -> list[Path]:
    return sorted(_spool_dir(store).glob("*.json"))


def spool(store, refs, delete_keys) -> Path:
    """Record a deferred change durably (atomic rename, so readers never see half a file)."""
    directory = _spool_dir(store)
    name = f"{time_ns()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp = directory / f".{name}.tmp"
    tmp.write_text(json.dumps({"refs": refs, "delete_keys": list(delete_keys)}), "utf-8")
    final = directory / f"{name}.json"
    tmp.rename(final)
    return final


def time_ns() -> int:
    import time

    return time.time_ns()


def _documents_for_refs(refs):
    """Current documents for (model label, pk) references; vanished objects become deletes."""
    from search.backend import document_key, make_document

    documents, deletes = [], []
    by_model: dict[str, list[str]] = {}
    for label, pk in refs:
        by_model.setdefault(label, []).append(pk)
    for label, pks in by_model.items():
        model = apps.get_model(label)
        found = {str(obj.pk): obj for obj in model.get_indexed_objects().filter(pk__in=pks)}
        for pk in pks:
            obj = found.get(str(pk))
            if obj is None:
                deletes.append(document_key(model, pk))
            else:
                documents.append(make_document(obj.get_indexed_instance() or obj))
    return documents, deletes


def _drain(files):
    """A hook for IndexStore.write: apply spooled batches in the same commit."""

    def also(writer):
        for path in files:
            batch = json.loads(path.read_text("utf-8"))
            documents, deletes = _documents_for_refs(batch.get("refs", []))
            for key in [*batch.get("delete_keys", []), *deletes]:
                writer.delete_by_term("doc_key", key)
            for doc in documents:
                writer.update_document(**doc)

        def finish():
            for path in files:
                path.unlink(missing_ok=True)

        return finish

    return also


def write_now(store, documents=(), delete_keys=(), timeout=None):
    """Write under the lock (raises IndexBusy on timeout), draining any spooled batches."""
    files = spooled_batches(store)
    store.write(documents, delete_keys, timeout=timeout, also=_drain(files) if files else None)


def apply_spool(store, timeout=None) -> int:
    """Apply every spooled batch now; returns how many there were."""
    files = spooled_batches(store)
    if files:
        store.write(timeout=timeout, also=_drain(files))
    return len(files)


def _write_or_defer(backend, documents, delete_keys, refs):
    store = backend.store
    if store.rebuild_in_progress():
        # a full rebuild holds the lock: spool at once instead of waiting for the timeout;
        # the rebuild applies the spool right after its commit
        spool(store, refs, delete_keys)
        if not store.rebuilding:
            _queue_drain(store)
        return
    try:
        write_now(store, documents, delete_keys)
    except IndexBusy:
        spool(store, refs, delete_keys)
        _queue_drain(store)


def _queue_drain(store):
    from search import tasks

    try:
        tasks.apply_pending_index_writes.apply_async(
            kwargs={"index_path": str(store.path)}, countdown=2
        )
    except Exception:  # the broker is down: the spool keeps the change for the next writer
        log.warning("could not queue the deferred index write", exc_info=True)


class _PendingWrite:
    """A write waiting for the transaction to commit (an on_commit callback)."""

    def __init__(self, backend, documents, delete_keys):
        self.backend = backend
        self.documents = documents
        self.delete_keys = delete_keys
        self.refs = [_ref(doc) for doc in documents]
        self.done = False

    def __call__(self):
        if self.done:
            return
        self.done = True
        _write_or_defer(self.backend, self.documents, self.delete_keys, self.refs)


def submit(backend, documents=(), delete_keys=()):
    """Index ``documents`` and drop ``delete_keys`` once the current transaction commits
    (at once when there is no transaction)."""
    documents = list(documents)
    delete_keys = list(delete_keys)
    pending = _PendingWrite(backend, documents, delete_keys)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(pending, robust=True)
    else:
        pending()


def flush_pending(store):
    """Apply the writes still waiting for the current transaction's commit.

    Used by ``refresh_indexes()`` — the API's "make recent changes visible" — so code that
    works inside one long transaction (tests, scripts) can search what it just saved.
    Writes of rolled-back savepoints are no longer in Django's list and stay unapplied.
    """
    connection = transaction.get_connection()
    for _sids, callback, _robust in list(connection.run_on_commit):
        if isinstance(callback, _PendingWrite) and callback.backend.store is store:
            callback()


def _ref(document) -> list[str]:
    label = document["doc_ct"].split()[0]
    return [label, document["doc_pk"]]

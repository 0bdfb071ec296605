"""The one path by which the index changes: after commit, one writer, never a lost update.

``submit()`` is called by the backend's add/delete (which modelsearch's signal handlers
call on every save and delete). Inside a transaction the write waits for the commit —
a rolled-back save never reaches the index.

Nothing is lost on a crash or a busy index:

- *write-ahead*: inside a transaction the change is first recorded as references
  (model, primary key) in a ``.wal`` file in the spool directory, named with the writing
  process's id. The after-commit write removes it. If the process dies before that (kill
  -9 between the database commit and the index commit), the file stays; any later writer,
  the beat task or the next import applies it once its process is gone (or after
  ``WAL_GRACE_SECONDS``). A reference is re-read from the database when applied, so a
  rolled-back save only re-indexes what the database holds — applying one early or
  twice is harmless; a delete is applied only when its object is gone from the database
  (a rolled-back delete, or a newer row with the same key, keeps its document).
- *deferral*: when the writer lock stays busy, or the write fails for any other reason,
  the change is renamed into a ``.json`` batch of the spool and a Celery task is queued;
  any later writer drains the spool too (listing it while it holds the lock).

Bulk imports use :func:`bulk`: while it is active in a thread, after-commit writes are
collected in memory (their write-ahead files kept) and committed together — one writer,
every ``max_docs`` documents or ``max_seconds`` seconds — with a tiered merge policy that
bounds the merging each commit does.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import json
import logging
import math
import os
import shutil
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import NoReturn

from django.apps import apps
from django.db import transaction

from search.fastwrite import delete_by_keys
from search.index_lock import IndexBusy, index_write_lock

log = logging.getLogger(__name__)

SPOOL_DIR = "pending"
WAL_SUFFIX = ".wal"
#: A write-ahead file older than this is applied even if its process still runs (applying
#: re-reads the database, so it is safe; the owner's own after-commit write follows anyway).
WAL_GRACE_SECONDS = 60.0
#: Segments are grouped in tiers of MERGE_FANOUT^n documents; a tier is merged into one
#: segment when it holds MERGE_FANOUT segments, never more than MERGE_MAX_DOCS at a time.
MERGE_FANOUT = 8
MERGE_MAX_DOCS = 50_000


def _spool_dir(store) -> Path:
    path = store.path / SPOOL_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def spooled_batches(store) -> list[Path]:
    return sorted(_spool_dir(store).glob("*.json"))


def _pid_of(path: Path) -> int | None:
    try:
        return int(path.name.split("-")[1])
    except (IndexError, ValueError):
        return None


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def orphaned_write_aheads(store, now: float | None = None) -> list[Path]:
    """Write-ahead files whose process is gone (or that are older than the grace time)."""
    now = time.time() if now is None else now
    found = []
    for path in sorted(_spool_dir(store).glob(f"*{WAL_SUFFIX}")):
        try:
            age = now - path.stat().st_mtime
        except FileNotFoundError:
            continue
        if age > WAL_GRACE_SECONDS or not _alive(_pid_of(path)):
            found.append(path)
    return found


def remove_stale_builds(index_dir) -> None:
    """Remove the segment build directories (``FastSegmentWriter.unlocked``) of processes
    that no longer run: a child killed while it built its batch leaves one."""
    from search.fastwrite import BUILD_PREFIX

    for path in Path(index_dir).glob(f"{BUILD_PREFIX}*"):
        pid = path.name[len(BUILD_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def pending_files(store) -> list[Path]:
    """Everything a writer should apply: spooled batches and orphaned write-aheads."""
    return spooled_batches(store) + orphaned_write_aheads(store)


def _write_file(directory: Path, refs, delete_keys, suffix: str) -> Path:
    name = f"{time_ns()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp = directory / f".{name}.tmp"
    tmp.write_text(json.dumps({"refs": refs, "delete_keys": list(delete_keys)}), "utf-8")
    final = directory / f"{name}{suffix}"
    tmp.rename(final)  # atomic: readers never see half a file
    return final


def spool(store, refs, delete_keys) -> Path:
    """Record a deferred change durably."""
    return _write_file(_spool_dir(store), refs, delete_keys, ".json")


def write_ahead(store, refs, delete_keys) -> Path:
    """Record a change that waits for its transaction's commit (removed once indexed)."""
    return _write_file(_spool_dir(store), refs, delete_keys, WAL_SUFFIX)


def _defer_files(store, wal_files) -> None:
    """Turn write-ahead files into spooled batches (the change is kept for a later writer)."""
    for path in wal_files:
        try:
            path.rename(path.with_suffix(".json"))
        except FileNotFoundError:
            pass


def time_ns() -> int:
    return time.time_ns()


def _documents_for_refs(refs):
    """Current documents for (model label, pk) references; vanished objects become deletes."""
    from search.backend import document_key, make_document

    documents, deletes = {}, []
    by_model: dict[str, list[str]] = {}
    for label, pk in refs:
        pks = by_model.setdefault(label, [])
        if pk not in pks:
            pks.append(pk)
    for label, pks in by_model.items():
        model = apps.get_model(label)
        found = {str(obj.pk): obj for obj in model.get_indexed_objects().filter(pk__in=pks)}
        for pk in pks:
            obj = found.get(str(pk))
            if obj is None:
                deletes.append(document_key(model, pk))
            else:
                doc = make_document(obj.get_indexed_instance() or obj)
                documents[doc["doc_key"]] = doc
    return list(documents.values()), deletes


def _recheck_deletes(delete_keys):
    """Deletes read back from the spool, checked against the database as references are: a
    file may be the write-ahead of a delete whose transaction rolled back, or its key may
    belong to a newer row with the same primary key. A key whose object is still indexable
    becomes a reference (re-indexed from the database); only a vanished one is deleted.
    One query per model for the rows, one per specific model for the indexable check."""
    from search.backend import model_label

    by_label: dict[str, list[str]] = {}
    for key in dict.fromkeys(delete_keys):
        label, _, pk = key.rpartition(":")
        by_label.setdefault(label, []).append(pk)
    refs, deletes = [], []
    for label, pks in by_label.items():
        try:
            root = apps.get_model(label)
            found = root._default_manager.filter(pk__in=pks)
            if hasattr(found, "specific"):  # pages: their specific types in a query per type
                found = found.specific()
            rows = {str(o.pk): o for o in found}
        except (LookupError, ValueError):
            rows = {}
        by_model: dict[type, list[str]] = {}
        for pk, obj in rows.items():
            specific = getattr(obj, "specific", obj)
            by_model.setdefault(type(specific), []).append(pk)
        kept = set()
        for model, model_pks in by_model.items():
            indexed = getattr(model, "get_indexed_objects", None)
            if indexed is None:
                continue
            for pk in indexed().filter(pk__in=model_pks).values_list("pk", flat=True):
                kept.add(str(pk))
                refs.append((model_label(model), str(pk)))
        deletes.extend(f"{label}:{pk}" for pk in pks if pk not in kept)
    return refs, deletes


def _read_batches(files):
    refs, delete_keys = [], []
    for path in files:
        try:
            batch = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:  # another writer applied it meanwhile
            continue
        except ValueError:
            log.warning("unreadable spooled index write %s removed", path)
            path.unlink(missing_ok=True)
            continue
        refs.extend(tuple(ref) for ref in batch.get("refs", []))
        delete_keys.extend(batch.get("delete_keys", []))
    return refs, delete_keys


def _drain(store, documents=(), split=None):
    """A hook for IndexStore.write: write ``documents`` and apply every pending file in the
    same commit. The list is taken while the writer lock is held, so two writers never
    split one batch. ``split`` (a bulk commit's index, see :func:`_split_off`) lets a
    forked helper write half of a large commit's documents as a segment of their own.

    Each key is written once: Whoosh's update_document removes a key's earlier copies from
    the committed segments only, not from the commit being built, so a document that is
    both among ``documents`` and in a spooled batch (its earlier write found the index
    busy) was stored twice. The spooled reference is read from the database now and wins;
    a delete found by the recheck wins over both."""

    def also(writer):
        files = pending_files(store)
        merged = {doc["doc_key"]: doc for doc in documents}
        deletes = []
        if files:
            refs, delete_keys = _read_batches(files)
            kept_refs, delete_keys = _recheck_deletes(delete_keys)
            fresh, gone = _documents_for_refs(refs + kept_refs)
            deletes = [*delete_keys, *gone]
            merged.update((doc["doc_key"], doc) for doc in fresh)
            for key in deletes:
                merged.pop(key, None)
        delete_by_keys(writer, deletes)
        docs = list(merged.values())
        helper = _split_off(split, writer, docs) if split is not None else None
        if helper is not None:
            docs = docs[len(helper.documents) :]
        for doc in docs:
            writer.update_document(**doc)
        if helper is not None:
            helper.join(writer)
        also.written = [*deletes, *merged]  # the keys this commit changes (record_types)
        if not files:
            return None

        def finish():
            for path in files:
                path.unlink(missing_ok=True)

        return finish

    return also


#: A bulk commit of at least this many documents made in this process (an import's last
#: batch, every batch of an import without ``--background-index``) is split: a forked
#: helper writes the first half as a segment of its own while this process writes the
#: rest, so the commit uses two cores.
SPLIT_COMMIT_MIN = 2000


class _Helper:
    """A forked process writing ``documents`` into a segment of their own (no lock: the
    parent holds the index's), which it hands back pickled through a pipe."""

    def __init__(self, pid: int, pipe: int, documents: list[dict]):
        self.pid = pid
        self.pipe = pipe
        self.documents = documents

    def join(self, writer) -> None:
        """Add the helper's segment to ``writer``'s commit; if the helper failed, write its
        documents here instead (nothing is lost, the commit is only slower)."""
        import pickle

        with os.fdopen(self.pipe, "rb") as pipe:
            data = pipe.read()
        _pid, status = os.waitpid(self.pid, 0)
        if os.waitstatus_to_exitcode(status) == 0 and data:
            segment, build_folder = pickle.loads(data)
            try:
                writer.adopt(segment, build_folder)
            finally:
                shutil.rmtree(build_folder, ignore_errors=True)
            return
        log.warning("index helper ended with status %s; its half is written here", status)
        for doc in self.documents:
            writer.add_document(**doc)


def _child_runs(work, what: str) -> NoReturn:
    """End a forked child with ``work()``'s outcome as its exit status. The parent's
    database connections are never used or closed here: no collection runs finalizers,
    and os._exit skips every cleanup and the parent's unflushed output."""
    gc.disable()
    code = 1
    try:
        work()
        code = 0
    except BaseException:
        with contextlib.suppress(BaseException):
            log.exception("%s failed", what)
    finally:
        os._exit(code)


def _fork_is_safe() -> bool:
    """Whether this process may fork a child that analyses and writes index files: not
    when another thread runs (it may hold a lock the child would wait on for ever, e.g.
    the lexicon's)."""
    return hasattr(os, "fork") and threading.active_count() == 1


def _split_off(index, writer, documents) -> _Helper | None:
    """Hand the first half of ``documents`` to a forked helper (their older copies are
    deleted here, as update_document would); None when the commit is small, this machine
    has one core, or forking is not safe (another thread may hold a lock the child needs)."""
    import pickle

    if len(documents) < SPLIT_COMMIT_MIN or (os.cpu_count() or 1) < 2 or not _fork_is_safe():
        return None
    from search.analysis import get_lexicon

    get_lexicon()  # loaded before the fork (see BulkWriter._start_feed)
    remove_stale_builds(index.storage.folder)
    half = documents[: len(documents) // 2]
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the helper: its segment, nothing else (no database, no lock)

        def write_segment():
            os.close(read_end)
            sub = _bulk_segment_writer(index, unlocked=True)
            sub.pool.free_on_cleanup = False  # this process ends with os._exit
            for doc in half:
                sub.add_document(**doc)
            segment = sub._finalize_segment()
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(pickle.dumps((segment, sub.build_folder)))

        _child_runs(write_segment, "index helper")
    os.close(write_end)
    delete_by_keys(writer, [doc["doc_key"] for doc in half])
    return _Helper(pid, read_end, half)


def write_now(store, documents=(), delete_keys=(), timeout=None):
    """Write under the lock (raises IndexBusy on timeout), draining any pending files."""
    store.write((), delete_keys, timeout=timeout, also=_drain(store, documents))


def apply_spool(store, timeout=None) -> int:
    """Apply every pending file now; returns how many there were."""
    count = len(pending_files(store))
    if count:
        store.write(timeout=timeout, also=_drain(store))
    return count


def _queue_drain(store):
    from search import tasks

    try:
        tasks.apply_pending_index_writes.apply_async(
            kwargs={"index_path": str(store.path)}, countdown=2
        )
    except Exception:  # the broker is down: the spool keeps the change for the next writer
        log.warning("could not queue the deferred index write", exc_info=True)


def _write_or_defer(backend, documents, delete_keys, refs, wals=()):
    """Write now, or (index busy, or being rebuilt) leave the change where the next writer
    applies it: its write-ahead files ``wals`` when it has them, else a new spool file."""
    store = backend.store
    wals = [wal for wal in wals if wal is not None]
    if store.rebuild_in_progress():
        # a full rebuild holds the lock: spool at once instead of waiting for the timeout;
        # the rebuild applies the spool right after its commit
        if wals:
            _defer_files(store, wals)
        else:
            spool(store, refs, delete_keys)
        if not store.rebuilding:
            _queue_drain(store)
        return
    try:
        write_now(store, documents, delete_keys)
    except Exception as error:  # busy or failed: never lose the change
        if not isinstance(error, IndexBusy):
            log.exception("index write failed; the change is spooled for a later writer")
        if wals:
            _defer_files(store, wals)
        else:
            spool(store, refs, delete_keys)
        _queue_drain(store)
        return
    for wal in wals:
        wal.unlink(missing_ok=True)


# --------------------------------------------------------------------------- bulk writes


def tiered_merge(writer, segments):
    """A Whoosh merge policy with bounded work: segments are grouped by size tier
    (MERGE_FANOUT^n documents); only the smallest tier that has MERGE_FANOUT segments is
    merged, and only while that stays under MERGE_MAX_DOCS. Each document is merged about
    log_FANOUT(N) times in its life instead of at almost every commit."""
    tiers: dict[int, list] = {}
    for segment in segments:
        count = max(1, segment.doc_count_all())
        tiers.setdefault(int(math.log(count, MERGE_FANOUT)), []).append(segment)
    for tier in sorted(tiers):
        group = tiers[tier]
        if len(group) < MERGE_FANOUT:
            continue
        if sum(s.doc_count_all() for s in group) > MERGE_MAX_DOCS:
            break
        return _merge_into(writer, segments, group)
    return segments


def _merge_into(writer, segments, chosen):
    """Have ``writer`` merge the ``chosen`` segments into its own; the segments kept."""
    from whoosh.reading import SegmentReader

    for segment in chosen:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        writer.add_reader(reader)
        reader.close()
    return [s for s in segments if s not in chosen]


def _smallest(segments, count: int, max_docs: int) -> list:
    """The smallest segments, at most ``count`` of them and ``max_docs`` documents together
    (none unless two or more)."""
    chosen, total = [], 0
    for segment in sorted(segments, key=lambda s: s.doc_count_all()):
        docs = segment.doc_count_all()
        if len(chosen) == count or (chosen and total + docs > max_docs):
            break
        chosen.append(segment)
        total += docs
    return chosen if len(chosen) >= 2 else []


#: The most documents a write made in a request or a task (``IndexStore.write``) merges
#: into its commit. Whoosh's own policy there merges all the small segments at once: after
#: a bulk import (dozens of segments of a few thousand documents, until the worker has
#: compacted them) the next single write merged 188,616 documents in 7.7 minutes, the
#: index locked all along. Larger merges are the worker's (:func:`compact`).
INLINE_MERGE_MAX_DOCS = 5_000


class _Choice:
    """Stands in for a writer when a Whoosh merge policy is only asked what it would merge."""

    def __init__(self, writer):
        self.storage, self.schema = writer.storage, writer.schema

    def add_reader(self, reader) -> None:
        pass


def inline_merge(writer, segments):
    """The merge policy of single writes: Whoosh's default (``MERGE_SMALL``) where what it
    picks holds at most INLINE_MERGE_MAX_DOCS documents; otherwise the smallest segments,
    at most MERGE_FANOUT of them and that many documents (nothing below two)."""
    from whoosh.writing import MERGE_SMALL

    kept = MERGE_SMALL(_Choice(writer), segments)
    chosen = [s for s in segments if s not in kept]
    if sum(s.doc_count_all() for s in chosen) > INLINE_MERGE_MAX_DOCS:
        chosen = _smallest(segments, MERGE_FANOUT, INLINE_MERGE_MAX_DOCS)
    return _merge_into(writer, segments, chosen)


#: An index with more segments than this is compacted by the worker (:func:`compact`):
#: every search visits every segment (the laws corpus' 18,700 documents: median query
#: 5 ms in one segment, 21 ms in 40, 27 ms in 90 — docs/search.md).
COMPACT_SEGMENTS = 16
#: Documents merged in one compaction step at most (~1 ms of CPU each, the lock held): well
#: under the minute a bulk import's child waits for the lock before it spools its batch.
COMPACT_STEP_DOCS = 25_000


def needs_compaction(store) -> bool:
    index = store.index()
    return index is not None and len(index._segments()) > COMPACT_SEGMENTS


def _merge_smallest(max_docs: int):
    """A merge policy for :func:`compact`: the smallest segments merged into one — as many
    as bring the index to COMPACT_SEGMENTS, at most MERGE_FANOUT and ``max_docs``
    documents together (nothing below two)."""

    def policy(writer, segments):
        wanted = min(MERGE_FANOUT, max(2, len(segments) - COMPACT_SEGMENTS + 1))
        chosen = _smallest(segments, wanted, max_docs)
        policy.merged = len(chosen)
        return _merge_into(writer, segments, chosen)

    policy.merged = 0
    return policy


def compact(store, timeout=None, max_docs: int = COMPACT_STEP_DOCS) -> int:
    """Merge the index's smallest segments until at most COMPACT_SEGMENTS remain, one
    bounded step (≤ MERGE_FANOUT segments, ≤ ``max_docs`` documents) per commit, the lock
    released between steps so that other writes get in. A bulk import's children commit
    without merging (:func:`_feed_child`), so an import of thousands of statutes leaves
    one segment per 5-second batch. Returns the steps made."""
    from search.fastwrite import FastSegmentWriter

    steps = 0
    while needs_compaction(store):
        index = store.index()
        with index_write_lock(store.path, store.lock_timeout if timeout is None else timeout):
            writer = FastSegmentWriter(index, limitmb=BULK_POOL_MB)
            policy = _merge_smallest(max_docs)
            before = index.latest_generation()
            try:
                writer.commit(mergetype=policy)
            except BaseException:
                writer.cancel()
                raise
            store.record_types(index, [], before)  # the same documents: no type changed
        if not policy.merged:
            break
        steps += 1
    return steps


#: Posting memory of one bulk commit before the pool spills to disk: a 5-second batch of
#: statutes (~6,000 page and article documents, ~1.3 million postings) stays in memory.
BULK_POOL_MB = 256


def _bulk_segment_writer(index, unlocked: bool = False):
    """The segment writer of bulk commits (a pool of BULK_POOL_MB, small posting blocks
    left uncompressed); ``unlocked``: one that only builds a segment for another writer's
    commit (``FastSegmentWriter.unlocked``)."""
    from search.fastwrite import BULK_COMPRESSION_MIN_SIZE, FastSegmentWriter

    make = FastSegmentWriter.unlocked if unlocked else FastSegmentWriter
    return make(index, limitmb=BULK_POOL_MB, compression_min_size=BULK_COMPRESSION_MIN_SIZE)


class _Feed:
    """A forked child building one batch's segment from the documents sent to it through a
    pipe as the import makes them (so their analysis keeps pace with the import); the end
    of its input tells it to commit."""

    def __init__(self, pid: int, stream, started: float):
        self.pid = pid
        self.stream = stream
        self.started = started
        self.wal_files: list[Path] = []
        self.count = 0
        #: the document keys sent to it (kept while two children take one batch)
        self.keys: set[str] = set()


def _feed_child(store, read_fd: int, timeout, after_fd: int | None) -> None:
    """The child's side of a :class:`_Feed`: documents into a segment of its own (no lock),
    then, at the end of its input, one commit under the lock that removes the documents'
    older copies and adds the segment. ``after_fd`` is the previous child's baton: its
    end of file (that child has exited) comes before this child's commit, so batches are
    committed in the order they were made without the import waiting for them.

    The commit merges nothing: a tiered merge run here (up to 50,000 documents, ~1 ms of
    CPU each) stalled the children behind it, and the import behind them; an import that
    leaves many segments has them merged by the worker afterwards (:func:`compact`)."""
    import pickle

    from whoosh.writing import NO_MERGE

    index = store.index()
    builder = _bulk_segment_writer(index, unlocked=True)
    builder.pool.free_on_cleanup = False  # this process ends with os._exit
    latest: dict[str, int] = {}  # document key -> its number in the new segment
    superseded: list[int] = []  # numbers whose key came again, or was deleted, later
    deleted: set[str] = set()
    with os.fdopen(read_fd, "rb", buffering=1 << 16) as stream:
        while True:
            try:
                documents, delete_keys = pickle.load(stream)
            except EOFError:
                break
            for key in delete_keys:
                docnum = latest.pop(key, None)
                if docnum is not None:
                    superseded.append(docnum)
                deleted.add(key)
            for doc in documents:
                docnum = latest.get(doc["doc_key"])
                if docnum is not None:
                    superseded.append(docnum)
                latest[doc["doc_key"]] = builder.docnum
                builder.add_document(**doc)
    try:
        segment = builder._finalize_segment() if builder.docnum else None
        for docnum in superseded:
            segment.delete_document(docnum)
        keys = [*deleted, *latest]
        if after_fd is not None:
            while os.read(after_fd, 1024):
                pass
        with index_write_lock(store.path, timeout):
            writer = _bulk_segment_writer(index)
            try:
                delete_by_keys(writer, keys)
                if segment is not None:
                    writer.adopt(segment, builder.build_folder)
            except BaseException:
                writer.cancel()
                raise
            before = index.latest_generation()
            writer.commit(mergetype=NO_MERGE)  # see the docstring
            store.record_types(index, keys, before)
    finally:
        builder.discard_build()


#: Bytes the pipe to a feeding child holds before a write waits for the child to read
#: (Linux's default is 64 KiB, about one statute's documents).
FEED_PIPE_BYTES = 1 << 20
#: When the import expects to end within this many seconds, its last documents are split
#: between two children, which write their segments side by side once it ends.
FINAL_SECONDS = 2.5
#: Children told to commit that may still run before the import waits for the oldest.
MAX_COMMITTING = 3


class BulkWriter:
    """After-commit writes of one thread collected and committed together.

    With ``background=True`` (the import's default where there are two cores) each batch
    is built by a forked child *while the import makes it*: the child is started with the
    batch's first documents, every later write is sent to it through a pipe and analysed
    there at once, and when the batch is due (``max_docs`` or ``max_seconds``) the pipe
    is closed and the child writes its segment and commits, while the next batch goes to
    a new child. The import and the indexing then use two cores all along. What is left
    when the import ends is the writing of the last batch's segment; told that the end
    is near (:meth:`tick` with ``time_left``), the writer gives the last documents to two
    children, whose segments are then written side by side. Commits stay in the order
    the batches were made: each child waits for the previous one to exit (a pipe it
    inherits, a "baton") before it commits; a child's documents never come again in a
    batch started beside it (such a write ends both batches first).

    A batch's write-ahead files stay until its child has committed (a child that fails or
    dies turns them into spooled batches for the next writer, as a failed commit does,
    and this writer commits in its own process from then on). A child touches no
    database connection, so a batch is built in the background only when no spooled or
    orphaned writes wait (those are read back from the database); otherwise, and after a
    failure, batches are committed here."""

    def __init__(
        self,
        store,
        max_docs: int = 500,
        max_seconds: float = 2.0,
        timeout=60.0,
        background: bool = False,
    ):
        self.store = store
        self.max_docs = max_docs
        self.max_seconds = max_seconds
        self.timeout = timeout
        self.background = background and hasattr(os, "fork")
        self.documents: dict[str, dict] = {}
        self.deletes: set[str] = set()
        self.wal_files: list[Path] = []
        self.first_at: float | None = None
        self.commits = 0
        self.written = 0
        self.failed = 0
        #: the children building the current batch (two near the end of an import)
        self._feeds: list[_Feed] = []
        #: children told to commit, oldest first: (pid, their write-ahead files, documents)
        self._children: list[tuple[int, list[Path], int]] = []
        #: the read end of the last started child's baton, for the next child
        self._baton: int | None = None
        self._ending = False

    def add(self, documents, delete_keys, wals=()) -> None:
        if not wals:  # a write made outside a transaction: record it before holding it
            wals = [write_ahead(self.store, [_ref(doc) for doc in documents], delete_keys)]
        feed = self._feed_for([doc["doc_key"] for doc in documents] + list(delete_keys))
        if feed is not None:
            self._send(feed, documents, delete_keys, wals)
            if any(f.count >= self.max_docs for f in self._feeds):
                self._end_feeds()
            return
        for key in delete_keys:
            self.documents.pop(key, None)
            self.deletes.add(key)
        for doc in documents:
            self.documents[doc["doc_key"]] = doc
        self.wal_files.extend(wals)
        if self.first_at is None:
            self.first_at = time.monotonic()
        if len(self.documents) >= self.max_docs:
            self._flush()

    def tick(self, time_left: float | None = None) -> None:
        """Commit when the oldest collected change has waited ``max_seconds``.
        ``time_left``: the caller's estimate of the seconds until its last write."""
        self._reap(block=False)
        if time_left is not None and time_left <= FINAL_SECONDS and not self._ending:
            self._ending = True
            self._end_feeds()  # the rest goes to two children
        now = time.monotonic()
        if self._feeds:
            if now - self._feeds[0].started >= self.max_seconds:
                self._end_feeds()
        elif self.first_at is not None and now - self.first_at >= self.max_seconds:
            self._flush()

    def flush(self) -> None:
        """Commit everything collected (the batches being built in children included) and
        wait until it is committed."""
        self._end_feeds()
        self._flush()
        if self._baton is not None:
            os.close(self._baton)
            self._baton = None

    def _flush(self) -> None:
        """Commit the batch collected here, in this process (after the children's commits)."""
        self._reap(block=True)
        if self.first_at is None:
            return
        documents, self.documents = list(self.documents.values()), {}
        deletes, self.deletes = list(self.deletes), set()
        wal_files, self.wal_files = self.wal_files, []
        self.first_at = None
        store = self.store
        try:
            self._commit(documents, deletes)
        except Exception as error:
            if not isinstance(error, IndexBusy):
                log.exception("bulk index write failed; the changes are spooled")
            _defer_files(store, wal_files)
            _queue_drain(store)
            return
        self._settled(wal_files, len(documents))

    def _settled(self, wal_files, count) -> None:
        for path in wal_files:
            path.unlink(missing_ok=True)
        self.commits += 1
        self.written += count

    def _feed_for(self, keys) -> _Feed | None:
        """The child that takes a write of ``keys`` (starting the batch's child when none
        runs); None when batches are committed here (no background, a failure before,
        writes collected here not yet committed, spooled writes waiting, or forking not
        safe now). Near the end, a second child takes the writes whose keys the first has
        not seen, each write going to the child with fewer documents."""
        if not self._feeds:
            if not self.background or self.failed or self.first_at is not None:
                return None
            if not _fork_is_safe() or pending_files(self.store):
                return None
            remove_stale_builds(self.store.path)
            if not self._start_feed():
                return None
        feeds = self._feeds
        if not self._ending:
            return feeds[0]
        holding = [feed for feed in feeds if feed.keys.intersection(keys)]
        if len(holding) > 1:  # sent to both before: both commit first, in order
            self._end_feeds()
            return self._feed_for(keys)
        if holding:
            feed = holding[0]
        elif len(feeds) == 1 and feeds[0].count and _fork_is_safe() and self._start_feed():
            feed = self._feeds[-1]
        else:
            feed = min(feeds, key=lambda f: f.count)
        feed.keys.update(keys)
        return feed

    def _start_feed(self) -> bool:
        from search.analysis import get_lexicon

        # loaded here, once: a child that loaded it would lose it when it exits, and the
        # next child would load jieba's dictionary again (~1.5 s CPU per batch)
        get_lexicon()
        read_end, write_end = os.pipe()
        baton_read, baton_write = os.pipe()
        after = self._baton
        try:
            pid = os.fork()
        except OSError:
            for fd in (read_end, write_end, baton_read, baton_write):
                os.close(fd)
            return False
        if pid == 0:  # the child: the batch's segment, nothing else — no database
            # Ctrl-C is the import's to handle: it ends the batches, and the children then
            # commit what the database already holds
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            os.close(write_end)
            os.close(baton_read)  # baton_write stays open until this child exits
            for feed in self._feeds:  # the other child's input must end when the parent's does
                os.close(feed.stream.fileno())
            _child_runs(
                lambda: _feed_child(self.store, read_end, self.timeout, after),
                "background bulk index write",
            )
        os.close(read_end)
        os.close(baton_write)
        if after is not None:
            os.close(after)
        self._baton = baton_read
        with contextlib.suppress(OSError, AttributeError):
            fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, FEED_PIPE_BYTES)
        self._feeds.append(_Feed(pid, os.fdopen(write_end, "wb"), time.monotonic()))
        return True

    def _send(self, feed: _Feed, documents, delete_keys, wals) -> None:
        import pickle

        feed.wal_files.extend(wals)
        try:
            pickle.dump((list(documents), list(delete_keys)), feed.stream, pickle.HIGHEST_PROTOCOL)
            feed.stream.flush()
        except OSError:  # the child is gone: its batch (this write included) is spooled
            self._end_feeds()
            self._reap(block=True)
            return
        feed.count += len(documents)

    def _end_feeds(self) -> None:
        """Tell the current batch's children to commit (each after the one before it)."""
        feeds, self._feeds = self._feeds, []
        for feed in feeds:
            with contextlib.suppress(OSError):  # a broken pipe: the child's status tells
                feed.stream.close()
            self._children.append((feed.pid, feed.wal_files, feed.count))
        while len(self._children) > MAX_COMMITTING:
            self._reap_one(self._children[0], block=True)

    def _reap(self, block: bool) -> None:
        """Settle the children's commits that ended (waiting for them all when ``block``)."""
        for child in list(self._children):
            self._reap_one(child, block)

    def _reap_one(self, child, block: bool) -> None:
        pid, wal_files, count = child
        try:
            done, status = os.waitpid(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere: its outcome is unknown
            done, status = pid, 1 << 8
        if done == 0:
            return
        self._children.remove(child)
        if os.waitstatus_to_exitcode(status) == 0:
            self._settled(wal_files, count)
            return
        # not committed: the write-ahead files become spooled batches for a later writer,
        # and this writer commits in this process from now on
        self.failed += 1
        log.warning("background bulk index write ended with status %s; spooled", status)
        _defer_files(self.store, wal_files)
        _queue_drain(self.store)

    def _commit(self, documents, deletes) -> None:
        store = self.store
        index = store.index()
        with index_write_lock(store.path, self.timeout):
            writer = _bulk_segment_writer(index)
            finish = None
            try:
                delete_by_keys(writer, deletes)
                hook = _drain(store, documents, split=index)
                finish = hook(writer)
                written = hook.written
            except BaseException:
                writer.cancel()
                raise
            before = index.latest_generation()
            writer.commit(mergetype=tiered_merge)
            store.record_types(index, [*deletes, *written], before)
            if finish is not None:
                finish()


_local = threading.local()


def background_by_default() -> bool:
    """Whether a bulk import hands its batches to a forked child unless told otherwise:
    where there is a second core for the child (measured in docs/search.md, "Bulk
    imports": on one core the child only competes with the import for it)."""
    return hasattr(os, "fork") and (os.cpu_count() or 1) >= 2


@contextlib.contextmanager
def held_writes(model):
    """Drop the index writes of this thread's saves of ``model`` objects inside the block.

    For code that saves a new object several times in a row and saves (or indexes) it once
    more after the block: that last write carries its final state, and the documents of
    the earlier saves would only be built to be replaced (an import saves a new policy
    page twice — created, then its revision — and indexes it once)."""
    held = getattr(_local, "held", None)
    if held is None:
        held = _local.held = []
    held.append(model)
    try:
        yield
    finally:
        held.remove(model)


def is_held(obj) -> bool:
    held = getattr(_local, "held", None)
    return bool(held) and isinstance(obj, tuple(held))


def _active_bulk(store) -> BulkWriter | None:
    bulks = getattr(_local, "bulks", None)
    return bulks.get(str(store.path)) if bulks else None


@contextlib.contextmanager
def bulk(backend=None, max_docs: int = 500, max_seconds: float = 2.0, background: bool = False):
    """Collect this thread's index writes and commit them in batches until the block ends
    (``background``: see :class:`BulkWriter`)."""
    if backend is None:
        from modelsearch.backends import get_search_backend

        backend = get_search_backend()
    store = getattr(backend, "store", None)
    if store is None:  # another backend (PostgreSQL): nothing to batch
        yield None
        return
    bulks = getattr(_local, "bulks", None)
    if bulks is None:
        bulks = _local.bulks = {}
    key = str(store.path)
    if key in bulks:  # nested: the outer block commits
        yield bulks[key]
        return
    writer = bulks[key] = BulkWriter(
        store, max_docs=max_docs, max_seconds=max_seconds, background=background
    )
    try:
        yield writer
    finally:
        del bulks[key]
        writer.flush()


# --------------------------------------------------------------------------- submit


class _PendingWrite:
    """The writes of one transaction (at one savepoint level) waiting for its commit: an
    on_commit callback. A later write at the same level takes over the earlier one's
    documents, so the page saved and then submitted in one request is one index commit,
    made where the last write stands in the commit's callbacks."""

    def __init__(self, backend, documents, delete_keys, wal=None):
        self.backend = backend
        self.documents = {doc["doc_key"]: doc for doc in documents}
        self.delete_keys = list(delete_keys)
        self.refs = [_ref(doc) for doc in documents]
        self.wals = [wal] if wal is not None else []
        self.done = False
        self._lock = threading.Lock()

    def take_over(self, earlier: _PendingWrite) -> None:
        """Carry ``earlier``'s writes (made before this one's) and leave it empty; nothing
        when it already ran (refresh_indexes())."""
        with earlier._lock:
            if earlier.done:
                return
            earlier.done = True
            documents, deletes = earlier.documents, earlier.delete_keys
            refs, wals = earlier.refs, earlier.wals
            earlier.documents, earlier.delete_keys, earlier.refs, earlier.wals = {}, [], [], []
        for key in self.delete_keys:  # this one's deletes come after the earlier documents
            documents.pop(key, None)
        documents.update(self.documents)  # deletes are applied first: a re-added one stays
        self.documents = documents
        self.delete_keys = [*deletes, *self.delete_keys]
        self.refs = [*refs, *self.refs]
        self.wals = [*wals, *self.wals]

    def __call__(self):
        with self._lock:  # refresh_indexes() and the commit may both call it
            if self.done:
                return
            self.done = True
        documents = list(self.documents.values())
        bulk_writer = _active_bulk(self.backend.store)
        if bulk_writer is not None:
            bulk_writer.add(documents, self.delete_keys, self.wals)
            return
        delete_keys = self.delete_keys
        if documents:
            # Built again from what the transaction committed: modelsearch's post_save
            # handler reads the object back before a page's 主题词 and categories
            # (modelcluster) or many-to-many rows are written, so the document built then
            # would keep the old ones.
            documents, gone = _documents_for_refs([_ref(doc) for doc in documents])
            delete_keys = [*delete_keys, *gone]
        _write_or_defer(self.backend, documents, delete_keys, self.refs, self.wals)


def _pending_at_this_level(connection, store):
    """The write of this transaction waiting at the current savepoint level, if any: one
    with the very same savepoints is rolled back (or committed) together with a new one."""
    here = set(connection.savepoint_ids)
    for sids, callback, _robust in reversed(connection.run_on_commit):
        if isinstance(callback, _PendingWrite) and callback.backend.store is store:
            return callback if sids == here else None
    return None


def submit(backend, documents=(), delete_keys=()):
    """Index ``documents`` and drop ``delete_keys`` once the current transaction commits
    (at once when there is no transaction)."""
    documents = list(documents)
    delete_keys = list(delete_keys)
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        refs = [_ref(doc) for doc in documents]
        wal = write_ahead(backend.store, refs, delete_keys)
        pending = _PendingWrite(backend, documents, delete_keys, wal)
        earlier = _pending_at_this_level(connection, backend.store)
        if earlier is not None:
            pending.take_over(earlier)
        transaction.on_commit(pending, robust=True)
    else:
        _PendingWrite(backend, documents, delete_keys)()


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
    bulk_writer = _active_bulk(store)
    if bulk_writer is not None:
        bulk_writer.flush()


def _ref(document) -> list[str]:
    label = document["doc_ct"].split()[0]
    return [label, document["doc_pk"]]

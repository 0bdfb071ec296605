"""Bulk index writes committed by a child process (``import_policies --background-index``).

The import goes on with the next documents while a forked child writes the batch's
segment; the batch's write-ahead files stay until the child has committed. A child that
cannot commit (here: the writer lock stays taken) leaves its batch spooled for the next
writer — nothing is lost, and the writer commits in its own process from then on.
"""

import os

import pytest
from modelsearch.backends import get_search_backend

from search import indexing
from search.backend import make_document
from search.index_lock import WriteLock
from tests.search.conftest import backend_settings
from tests.search.testapp.models import Document, EffectLevel

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(settings, tmp_path):
    settings.WAGTAILSEARCH_BACKENDS = {"default": backend_settings("whoosh", tmp_path)}
    backend = get_search_backend()
    backend.reset_indexes()
    return backend.store


def _documents(first: int, count: int) -> list[Document]:
    # bulk_create: no save signals, so only the writer under test touches the index
    return Document.objects.bulk_create(
        Document(
            pk=pk,
            title=f"预算公开办法第{pk}号",
            body=f"第{pk}号办法规定，预算执行情况按月向人大常委会报告。",
            issuer="县财政局",
            year=2024,
            effect_level=EffectLevel.NORMATIVE,
        )
        for pk in range(first, first + count)
    )


def _add(writer, store, objects):
    """What an after-commit write of a transaction hands the bulk writer."""
    documents = [make_document(obj) for obj in objects]
    refs = [[doc["doc_ct"].split()[0], doc["doc_pk"]] for doc in documents]
    wal = indexing.write_ahead(store, refs, [])
    writer.add(documents, [], [wal])
    return wal


def _indexed_keys(store) -> set[str]:
    searcher = store.searcher()
    return {fields["doc_key"] for fields in searcher.all_stored_fields()}


def test_a_batch_is_committed_by_a_child_while_the_writer_goes_on(store):
    writer = indexing.BulkWriter(store, max_docs=1000, max_seconds=0, background=True)
    first = _add(writer, store, _documents(1, 3))
    writer.tick()  # due at once: the batch goes to a child process
    assert writer._child is not None
    child_pid = writer._child[0]
    assert child_pid != os.getpid()
    # the writer takes the next documents while the child writes
    second = _add(writer, store, _documents(4, 2))
    assert len(writer.documents) == 2
    writer.flush()  # waits for the child, then commits the rest here
    assert writer._child is None
    assert writer.commits == 2 and writer.written == 5 and writer.failed == 0
    assert not first.exists() and not second.exists()  # write-aheads removed once committed
    keys = _indexed_keys(store)
    assert {f"searchtestapp.document:{pk}" for pk in range(1, 6)} <= keys
    assert indexing.pending_files(store) == []
    with pytest.raises(ChildProcessError):  # the child was reaped
        os.waitpid(child_pid, os.WNOHANG)


@pytest.mark.slow  # processes racing: left to make test, not the edit loop
def test_a_child_that_cannot_commit_leaves_its_batch_spooled(store):
    writer = indexing.BulkWriter(store, max_docs=1000, max_seconds=0, background=True)
    writer.timeout = 0.2
    lock = WriteLock(store.path, timeout=5)  # another writer holds the index
    try:
        wal = _add(writer, store, _documents(1, 3))
        writer.tick()
        assert writer._child is not None
        writer._reap(block=True)
        assert writer.failed == 1 and writer.commits == 0
        assert not wal.exists()
        spooled = indexing.spooled_batches(store)
        assert [path.name for path in spooled] == [wal.with_suffix(".json").name]
    finally:
        lock.release()
    # from now on this writer commits in its own process; its next commit applies the
    # spooled batch (read back from the database) with its own documents
    _add(writer, store, _documents(4, 1))
    writer.tick()
    assert writer._child is None
    assert writer.commits == 1 and writer.failed == 1
    keys = _indexed_keys(store)
    assert {f"searchtestapp.document:{pk}" for pk in range(1, 5)} <= keys
    assert indexing.pending_files(store) == []


def test_the_lexicon_is_loaded_before_the_child_is_forked(store):
    """The children inherit jieba's dictionary: loaded in a child, it was lost when the
    child exited and loaded again (~1.5 s CPU) for every batch of an import."""
    from search import analysis

    analysis.reset_lexicon()
    writer = indexing.BulkWriter(store, max_docs=1000, max_seconds=0, background=True)
    _add(writer, store, _documents(1, 2))
    assert analysis._lexicon is None  # nothing in this process analysed text yet
    writer.tick()
    assert writer._child is not None
    assert analysis._lexicon is not None
    writer.flush()
    assert writer.commits == 1 and writer.failed == 0


def _segment_sizes(store) -> list[int]:
    return sorted(s.doc_count_all() for s in store.index()._segments())


def test_a_large_commit_here_is_split_with_a_helper_process(store, monkeypatch):
    """An import's last batch (or every batch without --background-index): a forked helper
    writes half of the documents as a segment of its own while this process writes the
    rest; one commit holds both, and documents already indexed are replaced, not doubled."""
    monkeypatch.setattr(indexing, "SPLIT_COMMIT_MIN", 4)
    writer = indexing.BulkWriter(store, max_docs=1000, max_seconds=60)
    _add(writer, store, _documents(1, 3))
    writer.flush()  # three documents: below the split, one segment
    assert _segment_sizes(store) == [3]
    Document.objects.filter(pk=2).update(title="预算调整方案第2号")
    again = Document.objects.filter(pk__in=[1, 2])  # re-indexed, now in a split commit
    wal = _add(writer, store, [*again, *_documents(4, 6)])
    writer.flush()
    assert writer.commits == 2 and writer.written == 11
    assert not wal.exists()
    assert _segment_sizes(store) == [3, 4, 4]  # the helper's half and this process's half
    searcher = store.searcher()
    assert searcher.doc_count() == 9  # the old copies of 1 and 2 are gone
    assert _indexed_keys(store) == {f"searchtestapp.document:{pk}" for pk in range(1, 10)}
    results = get_search_backend().search("预算调整方案", Document)
    assert [obj.pk for obj in results] == [2]
    assert indexing.pending_files(store) == []


def test_a_helper_that_fails_leaves_its_half_to_this_process(store, monkeypatch):
    from search.fastwrite import FastSegmentWriter

    monkeypatch.setattr(indexing, "SPLIT_COMMIT_MIN", 4)
    finalize = FastSegmentWriter._finalize_segment

    def failing_in_the_helper(self):
        if self.writelock is None:  # the helper writes without the lock (its parent holds it)
            raise OSError("disk full")
        return finalize(self)

    monkeypatch.setattr(FastSegmentWriter, "_finalize_segment", failing_in_the_helper)
    writer = indexing.BulkWriter(store, max_docs=1000, max_seconds=60)
    _add(writer, store, _documents(1, 8))
    writer.flush()
    assert writer.commits == 1 and writer.failed == 0
    assert _segment_sizes(store) == [8]
    assert _indexed_keys(store) == {f"searchtestapp.document:{pk}" for pk in range(1, 9)}


def test_no_child_is_forked_while_another_thread_runs(store):
    """A thread of this process may hold a lock the child needs (the lexicon's): with one
    running, the batch is committed here, as without --background-index."""
    import threading

    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    other.start()
    try:
        writer = indexing.BulkWriter(store, max_docs=1000, max_seconds=0, background=True)
        wal = _add(writer, store, _documents(1, 3))
        writer.tick()
        assert writer._child is None
        assert writer.commits == 1 and writer.written == 3 and not wal.exists()
    finally:
        release.set()
        other.join()
    assert _indexed_keys(store) == {f"searchtestapp.document:{pk}" for pk in range(1, 4)}

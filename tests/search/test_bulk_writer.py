"""Bulk index writes built and committed by child processes (an import's default where
there are two cores, ``import_policies --background-index``).

A batch's documents are sent to a forked child as they come; the child analyses them at
once into a segment of its own and, when the batch is due, commits it while the next
batch goes to a new child. The batch's write-ahead files stay until the child has
committed. A child that cannot commit (here: the writer lock stays taken) or dies leaves
its batch spooled for the next writer — nothing is lost, and the writer commits in its
own process from then on.
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


def test_a_batch_is_built_by_a_child_while_the_writer_goes_on(store):
    writer = indexing.BulkWriter(store, max_docs=1000, max_seconds=0, background=True)
    first = _add(writer, store, _documents(1, 3))
    (feed,) = writer._feeds  # the batch's first documents started its child
    assert feed.pid != os.getpid() and feed.count == 3
    writer.tick()  # due at once: the child is told to commit
    assert writer._feeds == [] and [child[0] for child in writer._children] == [feed.pid]
    # the writer takes the next documents, for a new child, while the first one commits
    second = _add(writer, store, _documents(4, 2))
    assert len(writer._feeds) == 1 and writer._feeds[0].pid != feed.pid
    assert writer.documents == {}
    writer.flush()  # the second child commits after the first
    assert writer._feeds == [] and writer._children == []
    assert writer.commits == 2 and writer.written == 5 and writer.failed == 0
    assert not first.exists() and not second.exists()  # write-aheads removed once committed
    keys = _indexed_keys(store)
    assert {f"searchtestapp.document:{pk}" for pk in range(1, 6)} <= keys
    assert indexing.pending_files(store) == []
    with pytest.raises(ChildProcessError):  # the child was reaped
        os.waitpid(feed.pid, os.WNOHANG)
    assert not [p for p in store.path.iterdir() if p.name.startswith(".build-")]


def test_a_document_sent_twice_or_deleted_within_a_batch_keeps_its_last_state(store):
    """The child's segment holds every copy it was sent; the earlier ones are marked
    deleted in it, and a key deleted after it was sent is gone."""
    writer = indexing.BulkWriter(store, max_docs=1000, max_seconds=60, background=True)
    objects = _documents(1, 3)
    _add(writer, store, objects)
    Document.objects.filter(pk=1).update(title="预算调整方案第1号")
    _add(writer, store, Document.objects.filter(pk=1))
    refs = [["searchtestapp.document", "3"]]
    writer.add([], ["searchtestapp.document:3"], [indexing.write_ahead(store, refs, [])])
    assert [feed.count for feed in writer._feeds] == [4]
    writer.flush()
    assert writer.commits == 1 and writer.failed == 0
    assert store.searcher().doc_count() == 2
    assert _indexed_keys(store) == {"searchtestapp.document:1", "searchtestapp.document:2"}
    backend = get_search_backend()
    assert [obj.pk for obj in backend.search("预算调整方案", Document)] == [1]
    assert [obj.pk for obj in backend.search("预算公开办法", Document)] == [2]


def test_a_batch_built_while_another_writer_commits_loses_nothing(store):
    """Whoosh's commits remove the segment files their table of contents does not name:
    a child builds its segment in a directory of its own, moved in by its commit."""
    writer = indexing.BulkWriter(store, max_docs=1000, max_seconds=60, background=True)
    _add(writer, store, _documents(1, 40))
    indexing.write_now(store, [make_document(obj) for obj in _documents(100, 5)])
    _add(writer, store, _documents(41, 40))  # the child goes on building
    indexing.write_now(store, [make_document(obj) for obj in _documents(200, 5)])
    writer.flush()
    assert writer.commits == 1 and writer.failed == 0
    expected = {*range(1, 81), *range(100, 105), *range(200, 205)}
    assert _indexed_keys(store) == {f"searchtestapp.document:{pk}" for pk in expected}
    searcher = store.searcher()
    assert searcher.doc_count() == len(expected)
    results = get_search_backend().search("第57号办法", Document)
    assert 57 in [obj.pk for obj in results]
    assert not [p for p in store.path.iterdir() if p.name.startswith(".build-")]


@pytest.mark.slow  # processes racing: left to make test, not the edit loop
def test_a_child_that_dies_leaves_its_batch_spooled(store):
    import signal

    writer = indexing.BulkWriter(store, max_docs=1000, max_seconds=60, background=True)
    first = _add(writer, store, _documents(1, 3))
    os.kill(writer._feeds[0].pid, signal.SIGKILL)
    second = _add(writer, store, _documents(4, 2))  # the pipe breaks here (or at the end)
    writer.flush()
    assert writer.failed == 1 and writer.commits == 0
    assert not first.exists() and not second.exists()  # spooled (and queued for a writer)
    # the spooled batches are applied by the next writer (here the queued task, run at
    # once in tests), read back from the database
    indexing.apply_spool(store)
    keys = _indexed_keys(store)
    assert {f"searchtestapp.document:{pk}" for pk in range(1, 6)} <= keys
    assert indexing.pending_files(store) == []


def test_a_build_directory_left_by_a_dead_process_is_removed(store):
    stale = store.path / ".build-999999999-1"
    stale.mkdir()
    (stale / "main_x.seg").write_bytes(b"half a segment")
    writer = indexing.BulkWriter(store, max_docs=1000, max_seconds=0, background=True)
    _add(writer, store, _documents(1, 2))
    writer.flush()
    assert writer.commits == 1
    assert not stale.exists()


@pytest.mark.slow  # processes racing: left to make test, not the edit loop
def test_a_child_that_cannot_commit_leaves_its_batch_spooled(store):
    writer = indexing.BulkWriter(store, max_docs=1000, max_seconds=0, background=True)
    writer.timeout = 0.2
    lock = WriteLock(store.path, timeout=5)  # another writer holds the index
    try:
        wal = _add(writer, store, _documents(1, 3))
        assert len(writer._feeds) == 1
        writer.tick()
        assert len(writer._children) == 1
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
    assert writer._feeds == []
    writer.tick()
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
    _add(writer, store, _documents(1, 2))  # nothing in this process analyses text
    assert len(writer._feeds) == 1
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
        assert writer._feeds == []
        writer.tick()
        assert writer._children == []
        assert writer.commits == 1 and writer.written == 3 and not wal.exists()
    finally:
        release.set()
        other.join()
    assert _indexed_keys(store) == {f"searchtestapp.document:{pk}" for pk in range(1, 4)}


def test_a_held_save_is_not_read_back_for_the_index(store):
    """modelsearch's save handler reads every saved object back from the database for its
    index task; saves inside held_writes (an import's first saves of a page) skip it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def reads_of_the_table(queries):
        return [
            q
            for q in queries
            if q["sql"].startswith("SELECT") and "searchtestapp_document" in q["sql"]
        ]

    with CaptureQueriesContext(connection) as held:
        with indexing.held_writes(Document):
            Document.objects.create(pk=1, title="预算公开办法", body="正文")
    with CaptureQueriesContext(connection) as plain:
        Document.objects.create(pk=2, title="预算公开办法", body="正文")
    assert reads_of_the_table(held.captured_queries) == []
    assert reads_of_the_table(plain.captured_queries)


def test_near_the_end_the_last_documents_go_to_two_children(store):
    writer = indexing.BulkWriter(store, max_docs=1000, max_seconds=60, background=True)
    _add(writer, store, _documents(1, 3))
    assert len(writer._feeds) == 1
    writer.tick(time_left=30)  # far from the end: the batch goes on
    assert len(writer._feeds) == 1 and writer._feeds[0].count == 3
    writer.tick(time_left=1.0)  # the end is near: that batch commits, the rest is split
    assert writer._feeds == [] and len(writer._children) == 1
    for pk in range(4, 8):
        _add(writer, store, _documents(pk, 1))
    assert sorted(feed.count for feed in writer._feeds) == [2, 2]
    writer.flush()
    assert writer.commits == 3 and writer.written == 7 and writer.failed == 0
    assert _segment_sizes(store) == [2, 2, 3]
    assert _indexed_keys(store) == {f"searchtestapp.document:{pk}" for pk in range(1, 8)}


def test_batches_are_committed_in_the_order_they_were_made(store):
    """A slow child's older copy of a document must not land after a later batch's newer
    copy: each child commits only once the one before it has exited."""
    writer = indexing.BulkWriter(store, max_docs=10_000, max_seconds=60, background=True)
    _add(writer, store, _documents(1, 400))  # a batch that takes a while to write
    writer.tick(time_left=0)  # ...told to commit; the next documents go to new children
    Document.objects.filter(pk=1).update(title="绩效评价办法")
    _add(writer, store, Document.objects.filter(pk=1))
    writer.flush()
    assert writer.commits == 2 and writer.failed == 0
    backend = get_search_backend()
    assert [obj.pk for obj in backend.search("绩效评价办法", Document)] == [1]
    assert 1 not in [obj.pk for obj in backend.search("预算公开办法第1号", Document)[:5]]
    assert store.searcher().doc_count() == 400


def test_a_write_touching_both_last_children_ends_their_batch_first(store):
    writer = indexing.BulkWriter(store, max_docs=1000, max_seconds=60, background=True)
    writer.tick(time_left=0)
    _add(writer, store, _documents(1, 1))
    _add(writer, store, _documents(2, 1))
    first, second = writer._feeds
    assert (first.keys, second.keys) == (
        {"searchtestapp.document:1"},
        {"searchtestapp.document:2"},
    )
    Document.objects.filter(pk__in=[1, 2]).update(title="国有资产管理报告")
    _add(writer, store, Document.objects.filter(pk__in=[1, 2]))
    assert [child[0] for child in writer._children] == [first.pid, second.pid]
    assert [feed.count for feed in writer._feeds] == [2]
    writer.flush()
    assert writer.commits == 3 and writer.failed == 0
    backend = get_search_backend()
    assert sorted(obj.pk for obj in backend.search("国有资产管理报告", Document)) == [1, 2]
    assert store.searcher().doc_count() == 2


def test_ctrl_c_is_left_to_the_import_and_the_batch_still_commits(store):
    """Ctrl-C reaches the whole process group; the children ignore it, and the import's
    flush (the bulk block's end) has them commit what the database already holds."""
    import signal

    writer = indexing.BulkWriter(store, max_docs=1000, max_seconds=60, background=True)
    _add(writer, store, _documents(1, 3))
    os.kill(writer._feeds[0].pid, signal.SIGINT)
    _add(writer, store, _documents(4, 2))
    writer.flush()
    assert writer.commits == 1 and writer.failed == 0
    assert _indexed_keys(store) == {f"searchtestapp.document:{pk}" for pk in range(1, 6)}


def _commit_segments(store, groups):
    """One segment per group of documents, with no merge (as an import's batches are)."""
    from whoosh.writing import NO_MERGE

    from search.fastwrite import FastSegmentWriter

    for objects in groups:
        writer = FastSegmentWriter(store.index())
        for obj in objects:
            writer.update_document(**make_document(obj))
        writer.commit(mergetype=NO_MERGE)


def test_compaction_merges_the_smallest_segments_a_bounded_step_at_a_time(store, monkeypatch):
    monkeypatch.setattr(indexing, "COMPACT_SEGMENTS", 4)
    _commit_segments(store, [_documents(pk, 1) for pk in range(1, 13)])
    _commit_segments(store, [_documents(100, 30)])  # a large batch
    writer = store.index().writer()
    writer.delete_by_term("doc_key", "searchtestapp.document:5")  # deleted after its commit
    writer.commit(merge=False)
    assert len(_segment_sizes(store)) == 13 and indexing.needs_compaction(store)
    # 8 of the one-document segments (at most MERGE_FANOUT a step; the deleted document
    # dropped), then the 3 that bring the index to 4 segments
    assert indexing.compact(store) == 2
    assert _segment_sizes(store) == [1, 3, 7, 30]
    assert not indexing.needs_compaction(store)
    expected = {*range(1, 13), *range(100, 130)} - {5}
    assert _indexed_keys(store) == {f"searchtestapp.document:{pk}" for pk in expected}
    assert store.searcher().doc_count() == len(expected)
    backend = get_search_backend()
    assert [obj.pk for obj in backend.search("第7号办法", Document)][:1] == [7]


def test_compaction_stops_where_no_two_segments_fit_its_bound(store, monkeypatch):
    monkeypatch.setattr(indexing, "COMPACT_SEGMENTS", 1)
    _commit_segments(store, [_documents(1, 3), _documents(10, 3), _documents(20, 3)])
    assert indexing.compact(store, max_docs=6) == 1  # two of them; the third would pass 6
    assert _segment_sizes(store) == [3, 6]
    assert indexing.compact(store, max_docs=6) == 0
    assert _segment_sizes(store) == [3, 6]


def test_the_compaction_task_merges_what_an_import_left(store, monkeypatch):
    from search.tasks import compact_index

    monkeypatch.setattr(indexing, "COMPACT_SEGMENTS", 2)
    _commit_segments(store, [_documents(pk, 2) for pk in range(1, 20, 2)])
    compact_index()
    assert len(_segment_sizes(store)) <= 2
    assert store.searcher().doc_count() == 20


def test_a_single_write_merges_as_whoosh_does_within_a_bound(store, monkeypatch):
    """A write made in a request or a task (IndexStore.write) merges what Whoosh's own
    policy picks while that stays small; after a bulk import it would pick dozens of
    segments at once, and the write merges only the smallest, up to its bound."""
    _commit_segments(store, [_documents(pk, 3) for pk in range(1, 37, 3)])
    assert _segment_sizes(store) == [3] * 12
    (extra,) = _documents(100, 1)
    # Whoosh's pick: the five smallest (15 documents, under the default bound)
    store.write([make_document(extra)])
    assert _segment_sizes(store) == [3] * 7 + [16]

    monkeypatch.setattr(indexing, "INLINE_MERGE_MAX_DOCS", 10)
    _commit_segments(store, [_documents(pk, 3) for pk in range(200, 215, 3)])
    (another,) = _documents(300, 1)
    store.write([make_document(another)])  # Whoosh's pick is over 10: three segments of 3
    assert _segment_sizes(store) == [3] * 9 + [10, 16]
    expected = {*range(1, 37), *range(200, 215), 100, 300}
    assert _indexed_keys(store) == {f"searchtestapp.document:{pk}" for pk in expected}
    backend = get_search_backend()
    assert [obj.pk for obj in backend.search("第300号办法", Document)][:1] == [300]
    # optimize still merges everything
    store.write([], optimize=True)
    assert _segment_sizes(store) == [len(expected)]

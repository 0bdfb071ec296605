"""An index you can trust: one writer across processes, deferral, version marker, drift check."""

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction

from search import indexing
from search.backend import SCHEMA_VERSION, VERSION_FILE, make_document
from search.index_lock import IndexBusy, index_write_lock
from tests.search.test_whoosh_backend import single_search_app, whoosh  # noqa: F401
from tests.search.testapp.models import Document

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from search.backend import get_store, make_document
    from search import indexing

    class Doc:
        pass

    index_path, worker = sys.argv[1], int(sys.argv[2])
    store = get_store(Path(index_path), lock_timeout=60)
    for n in range(50):
        key = f"searchtestapp.document:{worker * 1000 + n}"
        doc = {"doc_key": key, "doc_ct": "searchtestapp.document",
               "doc_pk": str(worker * 1000 + n), "doc_hash": "x", "doc_text": "",
               "w__title": f"并发写入 第{worker}组 {n}", "b__title": "并发写入"}
        indexing.write_now(store, [doc], [])
    print("done", worker)
    """
)


@pytest.mark.slow  # processes racing: left to make test, not the edit loop
def test_three_processes_writing_at_once_lose_nothing(tmp_path):
    index_path = tmp_path / "index"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env_setup = "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'cms.settings.test'); django.setup(); "
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                env_setup
                + f"import runpy, sys; sys.argv = ['w', '{index_path}', '{w}']; runpy.run_path('{script}', run_name='__main__')",
            ],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(3)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    from search.backend import get_store

    store = get_store(index_path)
    keys = {key for key, _pk, _hash in store.stored_documents()}
    assert len(keys) == 150


def test_busy_index_defers_instead_of_failing(whoosh, monkeypatch):  # noqa: F811
    doc = Document.objects.create(title="延迟写入测试")
    store = whoosh.store
    store.lock_timeout = 0.2
    with index_write_lock(store.path, 1):
        # another writer holds the lock: the save must neither raise nor lose the update
        indexing._write_or_defer(
            whoosh, [make_document(doc)], [], [["searchtestapp.document", str(doc.pk)]]
        )
    assert len(indexing.spooled_batches(store)) == 1
    assert not {o.pk for o in whoosh.search("延迟写入", Document)}
    # the next writer drains the spool
    other = Document.objects.create(title="另一个文件")
    indexing.write_now(store, [make_document(other)])
    assert indexing.spooled_batches(store) == []
    assert {o.pk for o in whoosh.search("延迟写入", Document)} == {doc.pk}


def test_rolled_back_delete_never_removes_a_document_that_still_exists(whoosh):  # noqa: F811
    """A delete whose transaction rolled back leaves its write-ahead file; once that file is
    applied (its process gone, or older than the grace time) it must not drop a document
    whose row is still in the database (the same row, or a later row with the same key)."""
    store = whoosh.store
    doc = Document.objects.create(title="回滚删除测试")
    other = Document.objects.create(title="另一个文件")
    indexing.write_now(store, [make_document(doc), make_document(other)])

    def write_ahead_of(change):
        before = set(indexing.orphaned_write_aheads(store, now=time.time() + 3600))
        change()
        (wal,) = set(indexing.orphaned_write_aheads(store, now=time.time() + 3600)) - before
        old = time.time() - indexing.WAL_GRACE_SECONDS - 60
        os.utime(wal, (old, old))  # as if its process had run on past the grace time
        return wal

    def rolled_back_delete():
        with pytest.raises(RuntimeError), transaction.atomic():
            whoosh.delete(doc)  # waits for a commit that never comes
            raise RuntimeError("rolled back")

    wal = write_ahead_of(rolled_back_delete)
    indexing.write_now(store, [make_document(other)])  # drains the old write-ahead
    assert not wal.exists()
    assert {o.pk for o in whoosh.search("回滚删除", Document)} == {doc.pk}
    # a delete that did happen is still applied from its write-ahead file
    wal = write_ahead_of(lambda: whoosh.delete(other))
    Document.objects.filter(pk=other.pk).delete()
    indexing.apply_spool(store)
    assert not wal.exists()
    assert not {o.pk for o in whoosh.search("另一个文件", Document)}


def test_lock_wait_is_bounded(tmp_path):
    with index_write_lock(tmp_path, 1):
        with pytest.raises(IndexBusy):
            with index_write_lock(tmp_path, 0.1):
                pass


def test_schema_version_change_triggers_rebuild(whoosh, django_capture_on_commit_callbacks):  # noqa: F811
    doc = Document.objects.create(title="版本标记测试")
    whoosh.add(doc)
    whoosh.refresh_indexes()
    store = whoosh.store
    (store.path / VERSION_FILE).write_text("0")
    store._index = None
    with django_capture_on_commit_callbacks(execute=True):
        store.index()  # sees the old marker: recreates and queues a rebuild (eager here)
    assert (store.path / VERSION_FILE).read_text() == SCHEMA_VERSION
    assert {o.pk for o in whoosh.search("版本标记", Document)} == {doc.pk}


def test_unreadable_index_is_recreated_and_rebuilt(whoosh, django_capture_on_commit_callbacks):  # noqa: F811
    """An index written by older code (its pickled schema no longer loads) with a current
    version marker must not break searching: it is recreated and rebuilt."""
    doc = Document.objects.create(title="损坏索引测试")
    whoosh.add(doc)
    whoosh.refresh_indexes()
    store = whoosh.store
    store._close_searcher()
    store._index = None
    for toc in store.path.glob("_*.toc"):
        toc.write_bytes(b"not a whoosh table of contents")
    with django_capture_on_commit_callbacks(execute=True):
        store.index()
    assert {o.pk for o in whoosh.search("损坏索引", Document)} == {doc.pk}


def test_search_index_check_reports_and_repairs(whoosh, capsys):  # noqa: F811
    kept = Document.objects.create(title="一致的文件")
    stale = Document.objects.create(title="旧标题")
    gone = Document.objects.create(title="将被删除")
    whoosh.add_bulk(Document, [kept, stale, gone])
    whoosh.refresh_indexes()
    missing = Document.objects.create(title="未索引的文件")
    Document.objects.filter(pk=stale.pk).update(title="新标题")
    Document.objects.filter(pk=gone.pk).delete()
    with pytest.raises(SystemExit):
        call_command("search_index_check")
    out = capsys.readouterr().out
    assert "缺失 1，过期 1，孤立 1" in out
    call_command("search_index_check", "--repair")
    out = capsys.readouterr().out
    assert "索引与数据库一致" in out
    assert {o.pk for o in whoosh.search("未索引", Document)} == {missing.pk}
    assert {o.pk for o in whoosh.search("新标题", Document)} == {stale.pk}


def test_one_transaction_makes_one_index_commit(whoosh):  # noqa: F811
    """Writes of one transaction at one savepoint level wait as one: the page saved and then
    submitted in the same request is committed to the index once, in its last state; a later
    delete drops an earlier add; a rolled-back savepoint's write is not applied."""
    connection = transaction.get_connection()
    store = whoosh.store
    draft = Document.objects.create(title="合并写入 初稿")  # indexed by its save signal
    whoosh.add(draft)
    draft.title = "合并写入 定稿"
    draft.save()
    whoosh.add(draft)
    other = Document.objects.create(title="合并写入 另一篇")
    whoosh.add(other)
    gone = Document.objects.create(title="合并写入 撤回稿")
    whoosh.add(gone)
    whoosh.delete(gone)
    with pytest.raises(RuntimeError), transaction.atomic():
        draft.title = "合并写入 回滚稿"
        draft.save()
        whoosh.add(draft)
        raise RuntimeError("rolled back")
    draft.title = "合并写入 定稿"  # as the database holds it after the rollback
    pending = [
        callback
        for _sids, callback, _robust in connection.run_on_commit
        if isinstance(callback, indexing._PendingWrite) and not callback.done
    ]
    assert len(pending) == 1  # the last write carries the others; the savepoint's is gone
    assert len(pending[0].wals) >= 7  # each write recorded ahead, all waiting as one
    generation = store.index().latest_generation()
    pending[0]()  # what the commit runs
    assert store.index().latest_generation() == generation + 1  # one commit
    assert {o.pk for o in whoosh.search("定稿", Document)} == {draft.pk}
    assert not list(whoosh.search("回滚稿", Document))
    assert not list(whoosh.search("撤回稿", Document))
    assert {o.pk for o in whoosh.search("另一篇", Document)} == {other.pk}
    # every write-ahead file of the merged writes is gone once the commit is made
    assert all(not wal.exists() for wal in pending[0].wals)


def test_a_document_both_written_and_spooled_is_stored_once(whoosh):  # noqa: F811
    """Its earlier write found the index busy (spooled), the next save writes it again: the
    drain in that same commit used to add a second copy (update_document only replaces
    copies already committed). Seen in benchmarks/scaleout.py on SEARCH_BACKEND=whoosh."""
    doc = Document.objects.create(title="重复写入测试")
    store = whoosh.store
    indexing.spool(store, [["searchtestapp.document", str(doc.pk)]], [])
    indexing.write_now(store, [make_document(doc)])
    assert indexing.spooled_batches(store) == []
    keys = [key for key, _pk, _hash in store.stored_documents()]
    assert keys.count(f"searchtestapp.document:{doc.pk}") == 1


def test_keywords_published_with_a_page_reach_the_whoosh_index(
    db, fresh_index, django_capture_on_commit_callbacks
):
    """The 主题词 are written after post_save (modelcluster), and modelsearch reads the page
    back at post_save: the document is built again at commit. Seen in
    benchmarks/scaleout.py (edits adding and removing a 主题词)."""
    from policies import ingest
    from policies.models import PolicyPage
    from search import integrity
    from tests.policies.files import SAMPLE_NOTICE

    with django_capture_on_commit_callbacks(execute=True):
        (record,) = ingest.import_path_data("notice.txt", SAMPLE_NOTICE.encode(), publish=True)
    page = PolicyPage.objects.get(pk=record.page_id)
    with django_capture_on_commit_callbacks(execute=True):
        page.keywords.set(["联网监督"])
        page.save_revision().publish()
    assert page.pk in [p.pk for p in fresh_index.search("联网监督", PolicyPage)]
    report = next(
        m for m in integrity.check(fresh_index).models if m.label == "policies.policypage"
    )
    assert report.stale == [] and report.indexed == report.expected


def test_a_new_instance_indexes_what_its_migrations_created(db, fresh_index, settings):
    """Wagtail's first page is made by a migration, which sends no index signal: before,
    ``search_index_check`` on an instance just migrated reported it missing."""
    from django.apps import apps
    from wagtail.models import Page

    from search import integrity

    last = [c for c in apps.get_app_configs() if c.models_module is not None][-1]
    assert Page.objects.filter(depth__gt=1).exists()  # what the migrations made
    settings.SEARCH_INDEX_AFTER_MIGRATE = False
    assert integrity.index_after_migrate(last) == 0  # turned off (as for test databases)
    assert not integrity.check(fresh_index).ok

    settings.SEARCH_INDEX_AFTER_MIGRATE = True
    first = [c for c in apps.get_app_configs() if c.models_module is not None][0]
    assert integrity.index_after_migrate(first) == 0  # not yet: other apps still migrate
    assert integrity.index_after_migrate(last) > 0
    assert integrity.check(fresh_index).ok
    # an index that holds something is left to search_index_check and its repair
    assert integrity.index_after_migrate(last) == 0

"""manage.py search_rebuild: the PostgreSQL index rebuilt by forked workers, GIN indexes
dropped and built again, the result equal to the database (search_index_check).

Runs only on a PostgreSQL test database (DATABASE_URL=postgres://…), skipped otherwise.
Committed data (transaction=True): the workers are other processes with their own
connections."""

import pytest
from django.core.management import call_command
from modelsearch.backends.database.postgres.postgres import IndexEntry

from search import pg_integrity, pg_rebuild
from tests.search.conftest import backend_settings
from tests.search.testapp.models import Document, Note

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pg(pg_backend):
    return pg_backend


def test_a_parallel_rebuild_indexes_everything_and_restores_the_gin_indexes(pg, capsys):
    docs = [
        Document.objects.create(title=f"政府债务管理办法（{i}）", body=f"第{i}条 限额管理。")
        for i in range(7)
    ]
    # a second model (the page tree is not used: a transactional test may find it flushed)
    Note.objects.create(title="审查要点", content="关注政府债务。", author="李四")
    table = IndexEntry._meta.db_table
    gin_before = pg_rebuild.gin_definitions(table)
    assert gin_before  # modelsearch's three and the (title || body) index
    # a stale entry and a missing one: the rebuild starts from an empty table
    IndexEntry.objects.filter(object_id=str(docs[0].pk)).delete()
    IndexEntry.objects.filter(object_id=str(docs[1].pk)).update(body_text="过期")

    call_command("search_rebuild", workers=2, chunk=3)

    assert "重建完成" in capsys.readouterr().out
    assert pg_rebuild.gin_definitions(table) == gin_before
    report = pg_integrity.check(pg)
    assert report.ok, report.as_dict()
    assert IndexEntry.objects.filter(object_id=str(docs[0].pk)).exists()
    assert {d.pk for d in pg.search("政府债务", Document)[:20]} == {d.pk for d in docs}
    assert [n.title for n in pg.search("政府债务", Note)] == ["审查要点"]


def failing_chunk(task):
    raise RuntimeError("worker failed")


def test_the_gin_indexes_come_back_when_a_worker_fails(pg, monkeypatch):
    Document.objects.create(title="国有资产报告", body="国有资产管理情况。")
    table = IndexEntry._meta.db_table
    gin_before = pg_rebuild.gin_definitions(table)

    monkeypatch.setattr(pg_rebuild, "_index_chunk", failing_chunk)
    with pytest.raises(RuntimeError):
        pg_rebuild.rebuild(pg, workers=2)
    assert pg_rebuild.gin_definitions(table) == gin_before


def test_search_rebuild_refuses_the_whoosh_backend(settings, tmp_path, capsys):
    settings.WAGTAILSEARCH_BACKENDS = {"default": backend_settings("whoosh", tmp_path)}
    with pytest.raises(SystemExit) as exit_info:
        call_command("search_rebuild")
    assert exit_info.value.code == 2
    assert "update_index" in capsys.readouterr().err


def test_the_pairs_migration_fills_every_entry_and_restores_the_gin_indexes(pg):
    import importlib

    from django.db import connection

    migration = importlib.import_module("search.migrations.0003_pg_han_pairs")
    docs = [Document.objects.create(title=f"办法{i}", body="预算执行情况报告") for i in range(4)]
    table = IndexEntry._meta.db_table
    gin_before = pg_rebuild.gin_definitions(table)
    assert any("han_pairs" in definition for _, definition in gin_before)
    with connection.cursor() as cursor:  # entries from before the column existed
        cursor.execute(f"UPDATE {table} SET han_pairs = NULL")
    report = next(m for m in pg_integrity.check(pg).models if m.label == "searchtestapp.document")
    assert len(report.stale) == 4

    with connection.schema_editor() as editor:  # the migration's own transaction
        migration.create(None, editor)

    assert pg_rebuild.gin_definitions(table) == gin_before
    assert not IndexEntry.objects.extra(where=["han_pairs IS NULL"]).exists()
    report = next(m for m in pg_integrity.check(pg).models if m.label == "searchtestapp.document")
    assert report.indexed == 4 and report.stale == []
    assert {d.pk for d in pg.search("行情", Document)[:10]} == {d.pk for d in docs}


def test_the_rebuild_writes_each_entry_once_with_its_title_norm(pg):
    """Every worker writes title_norm from one estimate of the mean title length, so no
    entry is written twice (an updated row moves in the heap: the first rebuilds left
    the table's head nearly empty) and every norm is right without the final fix-up."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    # titles of growing length: a mean taken from the rows written so far drifts
    for i in range(12):
        Document.objects.create(
            title="预算" + "审查监督办法" * (i // 3 + 1) + f"（{i}）", body="条文"
        )
    table = IndexEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE test_entry_updates (n int)")
        cursor.execute(
            "CREATE FUNCTION test_count_entry_update() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN INSERT INTO test_entry_updates VALUES (1); RETURN NEW; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER test_entry_update BEFORE UPDATE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION test_count_entry_update()"
        )
    try:
        pg_rebuild.rebuild(pg, workers=2, chunk=3)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM test_entry_updates")
            updates = cursor.fetchone()[0]
            cursor.execute(
                f"SELECT title_norm, (SELECT avg(length(title))::float8 FROM {table}"
                f" WHERE length(title) > 0) / length(title), content_type_id = %s"
                f" FROM {table} WHERE length(title) > 0",
                [ContentType.objects.get_for_model(Document).pk],
            )
            norms = cursor.fetchall()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER test_entry_update ON {table}")
            cursor.execute("DROP FUNCTION test_count_entry_update()")
            cursor.execute("DROP TABLE test_entry_updates")
    assert updates == 0
    # the documents' entries, and any page the database holds besides (the site's root)
    assert sum(is_document for _norm, _exact, is_document in norms) == 12
    assert all(abs(norm - exact) < 1e-9 * exact for norm, exact, _ in norms)
    assert pg_integrity.check(pg).ok

"""The Han character pairs of the PostgreSQL backend (``han_pairs`` of each index entry).

A Han word of a query is found as a word or as a substring of the stored text; the entry's
pairs narrow the rows the substring test reads. These tests check what is written, that
the pairs (and not the single characters) narrow words and phrases, that the text still
decides, and that entries without pairs are reported and repaired.

Runs only on a PostgreSQL test database (DATABASE_URL=postgres://…), skipped otherwise."""

import importlib
import unicodedata

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from modelsearch.backends.database.postgres.postgres import IndexEntry
from modelsearch.query import Phrase

from search.pg_backend import SegmentedSearchQueryCompiler
from search.pg_integrity import check, repair
from tests.search.testapp.models import Document

pytestmark = pytest.mark.django_db
TABLE = IndexEntry._meta.db_table


def expected_pairs(*texts):
    """Adjacent pairs of CJK unified ideographs, worked out character by character."""
    pairs = set()
    for text in texts:
        text = unicodedata.normalize("NFKC", text).lower()
        for a, b in zip(text, text[1:], strict=False):
            if "\u4e00" <= a <= "\u9fff" and "\u4e00" <= b <= "\u9fff":
                pairs.add(a + b)
    return pairs


def stored_pairs(doc):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT tsvector_to_array(han_pairs) FROM {TABLE}"
            " WHERE content_type_id = %s AND object_id = %s",
            [ContentType.objects.get_for_model(Document).pk, str(doc.pk)],
        )
        return cursor.fetchone()[0]


def set_pairs(doc, value):
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET han_pairs = {value} WHERE content_type_id = %s AND object_id = %s",
            [ContentType.objects.get_for_model(Document).pk, str(doc.pk)],
        )


@pytest.fixture
def pg_backend(pg_backend, monkeypatch):
    """No bounded scan: on a table this small it finds every match without any index,
    and the index look-up (the narrowing) is what these tests are about."""
    monkeypatch.setattr(SegmentedSearchQueryCompiler, "PROBE_SAMPLE_ROWS", 1)
    monkeypatch.setattr(SegmentedSearchQueryCompiler, "PROBE_MAX_ROWS", 1)
    return pg_backend


def found(backend, query, **kwargs):
    return {d.pk for d in backend.search(query, Document, **kwargs)[:50]}


def test_each_entry_holds_the_pairs_of_its_own_title_and_body(pg_backend):
    documents = [
        Document.objects.create(title="政府债务管理办法", body="地方政府债务实行限额管理。"),
        # Latin letters and digits break a run: no pair across them; full-width forms
        # are normalised first
        Document.objects.create(
            title="预算法第5条解读", doc_number="元人发〔2021〕3号", body="ＡＢ县级人大审查"
        ),
        Document.objects.create(title="税", body="A"),  # one character: no pair
    ]
    index = pg_backend.get_index_for_model(Document)
    index.add_items(Document, documents)
    index.add_items(Document, list(reversed(documents)))  # again, through ON CONFLICT
    for doc in documents:
        expected = expected_pairs(doc.title, doc.doc_number, doc.body)
        stored = stored_pairs(doc)
        assert sorted(stored) == sorted(expected)
    assert stored_pairs(documents[2]) == []
    assert "审查" in stored_pairs(documents[1]) and "5条" not in stored_pairs(documents[1])


def test_a_han_word_is_narrowed_by_its_pairs_and_decided_by_the_text(pg_backend):
    # 五十万元 is one query word; here it is part of the text's word 二百五十万元
    inside = Document.objects.create(title="罚则", body="处二百五十万元以下的罚款")
    pairs_apart = Document.objects.create(title="罚则", body="十万 五十 万元")
    chars_apart = Document.objects.create(title="罚则", body="元 十 万 五")
    assert found(pg_backend, "五十万元") == {inside.pk}
    # The pairs, not the characters, narrow: an entry whose pairs are missing is not
    # read at all, although it holds every character of the word.
    set_pairs(inside, "''::tsvector")
    assert found(pg_backend, "五十万元") == set()
    set_pairs(inside, "NULL")
    assert found(pg_backend, "五十万元") == set()
    assert pairs_apart.pk and chars_apart.pk  # read, and refused by the text test


def test_the_statement_tests_the_pairs_vector(pg_backend):
    Document.objects.create(title="罚款", body="处五十万元以上二十万元以下的罚款")
    Document.objects.create(title="罚款", body="处五万元以上二十万元以下的罚款")
    Document.objects.create(title="罚款", body="处十万元罚款")
    with CaptureQueriesContext(connection) as queries:
        hits = found(pg_backend, "罚款 五十万元 二十万元")
    assert len(hits) == 1
    statements = "\n".join(q["sql"] for q in queries.captured_queries)
    assert "han_pairs" in statements
    narrowing = [line for line in statements.splitlines() if '"han_pairs" @@' in line]
    assert narrowing and "::tsquery" in narrowing[0]
    assert all(f"'{pair}'" in narrowing[0] for pair in ("五十", "十万", "万元", "二十", "罚款"))


def test_words_with_synonyms_and_counts_use_the_pairs_too(pg_backend):
    synonym = Document.objects.create(title="通知", body="严控公务接待费支出")
    substring = Document.objects.create(title="通知", body="压减三公经费预算")
    neither = Document.objects.create(title="通知", body="三公 经费 公务")
    results = pg_backend.search("三公经费", Document)
    assert {d.pk for d in results[:10]} == {synonym.pk, substring.pk}
    # the count runs the join to the model, with the same condition
    assert pg_backend.search("三公经费", Document).count() == 2
    assert pg_backend.search("级政府 预算", Document).count() == 0
    assert neither.pk


def test_a_phrase_is_narrowed_by_the_pairs_of_its_runs(pg_backend):
    exact = Document.objects.create(title="解读", body="依照预算法第5条规定办理")
    other = Document.objects.create(title="解读", body="第5条 预算法 依照规定")
    assert found(pg_backend, Phrase("预算法第5条")) == {exact.pk}
    set_pairs(exact, "''::tsvector")
    assert found(pg_backend, Phrase("预算法第5条")) == set()
    assert other.pk
    # a phrase of one-character runs only is narrowed by the characters (the entry
    # without pairs is found again)
    lone = Document.objects.create(title="解读", body="第5条")
    assert found(pg_backend, Phrase("第5条")) == {exact.pk, other.pk, lone.pk}


def test_entries_without_pairs_are_stale_and_repaired(pg_backend):
    doc = Document.objects.create(title="政府债务管理办法", body="地方政府债务实行限额管理。")
    report = next(m for m in check(pg_backend).models if m.label == "searchtestapp.document")
    assert report.stale == []
    set_pairs(doc, "NULL")
    report = next(m for m in check(pg_backend).models if m.label == "searchtestapp.document")
    assert report.stale == [doc.pk]
    assert repair(pg_backend, check(pg_backend)) >= 1
    assert sorted(stored_pairs(doc)) == sorted(expected_pairs(doc.title, doc.body))
    assert found(pg_backend, "债务") == {doc.pk}


def test_the_migration_gives_existing_entries_their_pairs(pg_backend):
    migration = importlib.import_module("search.migrations.0003_pg_han_pairs")
    docs = [
        Document.objects.create(title=f"办法{i}", body=f"第{i}项 预算执行情况报告")
        for i in range(3)
    ]
    for doc in docs:
        set_pairs(doc, "NULL")
    migration.fill(connection)
    for doc in docs:
        assert sorted(stored_pairs(doc)) == sorted(expected_pairs(doc.title, doc.body))
    assert found(pg_backend, "行情") == {doc.pk for doc in docs}


def test_entries_stay_whole_in_their_rows_and_the_body_only_index_is_empty(pg_backend):
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [TABLE])
        assert "toast_tuple_target=8160" in cursor.fetchone()[0]
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
            [TABLE, "%USING gin (body)%"],
        )
        assert [row[0].endswith("WHERE false") for row in cursor.fetchall()] == [True]
